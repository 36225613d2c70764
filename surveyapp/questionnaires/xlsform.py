"""XLSForm (ODK / KoboToolbox spreadsheets) import and export.

Import reads the ``survey``, ``choices`` and ``settings`` sheets into a
:class:`~.model.Questionnaire` and validates it.  Anything it cannot represent faithfully
is refused with the sheet, row and column (an :class:`XLSFormError` carrying every
problem); presentation-only details it drops are returned as warnings.  Nothing is ever
returned half-done.  Export writes a workbook that imports back to an equal questionnaire.

Mapping of our types (columns in the ``survey`` sheet)::

    ours             type                  appearance   surveyapp::type
    select_one       select_one LIST
    select_multiple  select_multiple LIST
    likert           select_one LIST       likert       likert
    rating (0–10)    integer                            rating
    integer/decimal  integer / decimal                  (surveyapp::min, surveyapp::max)
    text             text
    long_text        text                  multiline    long_text
    date / note / calculate   date / note / calculate
    agency           text                               agency
    procedure        text                               procedure

Further columns: ``surveyapp::na`` / ``surveyapp::dk`` (yes: the question accepts the
reserved answers ``na`` / ``dk``), ``surveyapp::metadata`` (a JSON object, e.g. Circular 01
points) — also on the ``choices`` sheet and, for the questionnaire, on ``settings``.
Labels: ``label::Vietnamese (vi)`` and ``label::English (en)`` (also ``label::vi``,
``label::English``, ``label:English``; a plain ``label`` is in the settings'
``default_language``, Vietnamese if none); likewise ``hint`` and ``constraint_message``.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import re
import warnings as _warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import openpyxl
import xlsxwriter
from openpyxl.utils import get_column_letter

from .model import (
    Choice,
    ChoiceList,
    Group,
    Question,
    Questionnaire,
    QuestionnaireFormatError,
)
from .validation import validate_questionnaire

LANG_HEADERS = {"vi": "Vietnamese (vi)", "en": "English (en)"}
_META_TYPES = {"start", "end", "today", "deviceid", "subscriberid", "simserial",
               "phonenumber", "username", "email", "audit", "start-geopoint"}
_SIMPLE_TYPES = {"integer", "decimal", "text", "date", "note", "calculate"}
_EXTRA_TYPES = {  # surveyapp::type -> the XLSForm type it must sit on
    "likert": "select_one", "rating": "integer", "long_text": "text",
    "agency": "text", "procedure": "text",
}
_TEXT_FIELDS = ("label", "hint", "constraint_message")
_SURVEY_COLUMNS = {"type", "name", "label", "hint", "required", "relevant", "constraint",
                   "constraint_message", "calculation", "appearance", "surveyapp::type",
                   "surveyapp::min", "surveyapp::max", "surveyapp::na", "surveyapp::dk",
                   "surveyapp::metadata"}
# columns whose content changes what is collected: refused when filled in
_UNSUPPORTED_SURVEY = {
    "choice_filter": "choice filters (cascading selects) are not supported",
    "repeat_count": "repeats are not supported",
    "default": "default values are not supported",
    "read_only": "read-only questions are not supported",
    "parameters": "question parameters are not supported",
    "trigger": "triggers are not supported",
    "body": "custom body attributes are not supported",
    "bind": "custom bind attributes are not supported",
    "instance": "custom instance attributes are not supported",
    "save_to": "entities (save_to) are not supported",
}
# presentation-only columns: dropped with one warning per column
_IGNORED_SURVEY = {
    "media": "media", "image": "media", "audio": "media", "video": "media",
    "big-image": "media", "rows": "text box height", "autoplay": "media autoplay",
    "required_message": "custom required message", "requiredmsg": "custom required message",
    "guidance_hint": "guidance hint", "note": "note", "buttontext": "button text",
    "noapperrorstring": "app error text",
}
_KNOWN_APPEARANCES = {"likert", "multiline"}
_TRUE = {"yes", "true", "true()", "1", "y"}
_FALSE = {"no", "false", "false()", "0", "n", ""}


@dataclass(frozen=True)
class XLSFormProblem:
    sheet: str | None
    row: int | None
    column: str | None
    message: str
    level: str = "error"
    column_letter: str | None = None

    def __str__(self) -> str:
        where = []
        if self.sheet:
            where.append(f"sheet '{self.sheet}'")
        if self.row:
            where.append(f"row {self.row}")
        if self.column:
            if self.column_letter == self.column:
                col = f"column {self.column}"
            elif self.column_letter:
                col = f"column {self.column_letter} '{self.column}'"
            else:
                col = f"column '{self.column}'"
            where.append(col)
        return (", ".join(where) + ": " if where else "") + self.message

    def to_dict(self) -> dict:
        return {"sheet": self.sheet, "row": self.row, "column": self.column,
                "message": self.message, "level": self.level}


class XLSFormError(ValueError):
    """The workbook cannot be imported; ``problems`` lists every error found."""

    def __init__(self, problems: list[XLSFormProblem], warnings: list | None = None):
        self.problems = list(problems)
        self.warnings = list(warnings or [])
        super().__init__("\n".join(str(p) for p in self.problems))


# ------------------------------------------------------------------ low level

def _read_bytes(source: Any) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, Path)):
        try:
            return Path(source).read_bytes()
        except OSError as exc:
            raise XLSFormError([XLSFormProblem(None, None, None,
                                               f"cannot read file: {exc}")]) from None
    if hasattr(source, "read"):
        data = source.read()
        if isinstance(data, str):
            raise XLSFormError([XLSFormProblem(None, None, None,
                                               "expected a binary .xlsx stream, got text")])
        return bytes(data)
    raise TypeError("source must be a path, bytes or a binary file object")


def _not_xlsx_message(data: bytes) -> str:
    if not data:
        return "the file is empty; expected an .xlsx workbook"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return ("this is an old Excel 97-2003 (.xls) file; open it and save it as an "
                ".xlsx workbook")
    try:
        data[:4096].decode("utf-8")
        kind = "a text file (CSV?)"
    except UnicodeDecodeError:
        kind = "a file in an unknown encoding or format"
    return f"not an .xlsx workbook: this looks like {kind}; save the form as Excel .xlsx"


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true()" if value else "false()"
    return str(value)


def _lang(name: str) -> str | None:
    n = name.strip().lower()
    if n in ("vi", "vietnamese", "tiếng việt", "tieng viet") or n.endswith("(vi)"):
        return "vi"
    if n in ("en", "english") or n.endswith("(en)"):
        return "en"
    return None


def _split_header(header: str) -> tuple[str, str | None]:
    h = header.strip()
    low = h.lower()
    if low.startswith("surveyapp::"):
        return low, None
    if "::" in h:
        key, _, rest = h.partition("::")
    elif ":" in h:
        key, _, rest = h.partition(":")
    else:
        key, rest = h, None
    key = key.strip().lower().replace(" ", "_")
    return key, (rest.strip() if rest is not None else None)


@dataclass
class _Sheet:
    title: str
    header_row: int
    headers: list[str | None]  # index -> header text
    rows: list[tuple[int, list[Any]]]


MAX_ROWS = 20000


class _TooManyRows(Exception):
    pass


def _load_sheet(ws) -> _Sheet | None:
    header_row = 0
    headers: list[str | None] = []
    rows: list[tuple[int, list[Any]]] = []
    # Spreadsheet programs often declare a dimension of a million rows by 1,024 columns;
    # read what is actually stored instead.
    ws.reset_dimensions()
    for r, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if not values or all(v is None for v in values):
            continue
        cells = [_cell(v) for v in values]
        while cells and cells[-1] is None:
            cells.pop()
        if not headers:
            if any(c is not None for c in cells):
                header_row = r
                headers = [None if c is None else str(c) for c in cells]
            continue
        if any(c is not None for c in cells):
            rows.append((r, cells))
            if len(rows) > MAX_ROWS:
                raise _TooManyRows(ws.title)
    if not headers:
        return None
    return _Sheet(ws.title, header_row, headers, rows)


class _Importer:
    def __init__(self, filename: str | None):
        self.filename = filename
        self.default_lang = "vi"
        self.letters: dict[str, dict[str, tuple[str, str]]] = {}
        self.problems: list[XLSFormProblem] = []
        self.warns: list[XLSFormProblem] = []

    def _where(self, sheet, column, letter):
        if letter is None and column is not None:
            found = self.letters.get(sheet, {}).get(column)
            if found is not None:
                return found
        return column, letter

    def error(self, sheet, row, column, message, letter=None):
        column, letter = self._where(sheet, column, letter)
        self.problems.append(XLSFormProblem(sheet, row, column, message, "error", letter))

    def warn(self, sheet, row, column, message, letter=None):
        column, letter = self._where(sheet, column, letter)
        self.warns.append(XLSFormProblem(sheet, row, column, message, "warning", letter))

    # ------------------------------------------------------------ columns

    def columns(self, sheet: _Sheet, allowed: set[str], default_lang: str,
                unsupported: dict[str, str], ignored: dict[str, str],
                text_keys: tuple[str, ...] = ()):
        """Map (key, lang) -> column index; report duplicate/unknown columns."""
        cols: dict[tuple[str, str | None], int] = {}
        bad: dict[int, str] = {}
        width = max([len(sheet.headers)] + [len(cells) for _, cells in sheet.rows])
        for idx in range(width):
            header = sheet.headers[idx] if idx < len(sheet.headers) else None
            if header is None:
                if any(idx < len(cells) and cells[idx] is not None for _, cells in sheet.rows):
                    letter = get_column_letter(idx + 1)
                    self.error(sheet.title, sheet.header_row, letter,
                               f"column {letter} has values but no header", letter)
                continue
            key, qual = _split_header(header)
            letter = get_column_letter(idx + 1)
            if key in text_keys:
                lang = default_lang if qual is None else _lang(qual)
                if lang is None:
                    self.warn(sheet.title, sheet.header_row, header,
                              f"column ignored: language '{qual}' is not supported "
                              f"(only Vietnamese and English)", letter)
                    continue
                ident: tuple[str, str | None] = (key, lang)
            elif qual is not None and key in allowed:
                self.warn(sheet.title, sheet.header_row, header,
                          f"column ignored: '{key}' takes no language", letter)
                continue
            else:
                ident = (key, None)
            if key in unsupported:
                bad[idx] = unsupported[key]
                continue
            if key not in allowed and key not in text_keys:
                what = ignored.get(key)
                if what is not None:
                    self.warn(sheet.title, sheet.header_row, header,
                              f"column ignored: {what} is not supported", letter)
                else:
                    self.warn(sheet.title, sheet.header_row, header,
                              "column ignored: not a column this platform uses", letter)
                continue
            if ident in cols:
                first = get_column_letter(cols[ident] + 1)
                self.error(sheet.title, sheet.header_row, header,
                           f"duplicate column (same as column {first})", letter)
                continue
            cols[ident] = idx
        names = self.letters.setdefault(sheet.title, {})
        for (key, _unused), idx in cols.items():
            names.setdefault(key, (sheet.headers[idx], get_column_letter(idx + 1)))
        return cols, bad

    # ------------------------------------------------------------- settings

    def settings(self, sheet: _Sheet | None) -> dict:
        out: dict[str, Any] = {"title": {}, "default_language": None, "name": None,
                               "version": "", "metadata": {}, "row": None, "cols": {}}
        if sheet is None:
            return out
        known = {"form_id", "form_title", "default_language", "version",
                 "surveyapp::metadata"}
        # default_language must be known before form_title's plain column is mapped
        lang_idx = None
        for idx, header in enumerate(sheet.headers):
            if header is not None and _split_header(header)[0] == "default_language":
                lang_idx = idx
        row_no, cells = sheet.rows[0] if sheet.rows else (sheet.header_row + 1, [])

        def value(idx):
            return cells[idx] if idx is not None and idx < len(cells) else None

        raw_lang = value(lang_idx)
        default_lang = "vi"
        if raw_lang is not None:
            mapped = _lang(str(raw_lang))
            if mapped is None:
                self.warn(sheet.title, row_no, "default_language",
                          f"default language '{raw_lang}' is not Vietnamese or English; "
                          f"plain 'label' columns are read as Vietnamese")
            else:
                default_lang = mapped
        out["default_language"] = default_lang if raw_lang is not None else None
        cols, _ = self.columns(sheet, known, default_lang, {}, {}, ("form_title",))
        out["cols"] = cols
        out["row"] = row_no
        form_id = value(cols.get(("form_id", None)))
        out["name"] = None if form_id is None else str(form_id)
        for lang in ("vi", "en"):
            t = value(cols.get(("form_title", lang)))
            if t is not None:
                out["title"][lang] = str(t)
        version = value(cols.get(("version", None)))
        out["version"] = "" if version is None else str(version)
        meta = value(cols.get(("surveyapp::metadata", None)))
        if meta is not None:
            out["metadata"] = self.json_object(sheet.title, row_no, "surveyapp::metadata", meta)
        if len(sheet.rows) > 1:
            self.warn(sheet.title, sheet.rows[1][0], None,
                      "only the first row of settings is used; later rows are ignored")
        return out

    def json_object(self, sheet, row, column, raw) -> dict:
        try:
            data = json.loads(str(raw))
        except ValueError as exc:
            self.error(sheet, row, column, f"not valid JSON: {exc}")
            return {}
        if not isinstance(data, dict):
            self.error(sheet, row, column, "must be a JSON object {…}")
            return {}
        return data

    # --------------------------------------------------------------- choices

    def choices(self, sheet: _Sheet | None):
        lists: dict[str, ChoiceList] = {}
        locations: dict[tuple[str, str | None], int] = {}
        if sheet is None:
            return lists, locations, {}
        allowed = {"list_name", "name", "surveyapp::metadata"}
        cols, _ = self.columns(sheet, allowed, self.default_lang, {},
                               {"image": "choice media", "media": "choice media",
                                "audio": "choice media", "video": "choice media",
                                "big-image": "choice media"}, ("label",))
        missing = [k for k in ("list_name", "name") if (k, None) not in cols]
        for key in missing:
            self.error(sheet.title, sheet.header_row, key,
                       f"the choices sheet needs a '{key}' column")
        if missing:
            return lists, locations, cols
        for row, cells in sheet.rows:
            def get(key, lang=None, cells=cells):
                idx = cols.get((key, lang))
                return cells[idx] if idx is not None and idx < len(cells) else None

            list_name, code = get("list_name"), get("name")
            labels = {lang: _text(get("label", lang)) for lang in ("vi", "en")}
            if list_name is None and code is None and not any(labels.values()):
                continue
            if list_name is None:
                self.error(sheet.title, row, "list_name", "choice has no list_name")
                continue
            if code is None:
                self.error(sheet.title, row, "name", "choice has no name (code)")
                continue
            list_name, code = str(list_name), _text(code)
            meta = get("surveyapp::metadata")
            metadata = {} if meta is None else self.json_object(
                sheet.title, row, "surveyapp::metadata", meta)
            cl = lists.setdefault(list_name, ChoiceList(list_name, []))
            cl.choices.append(Choice(code, {k: v for k, v in labels.items() if v}, metadata))
            locations.setdefault((list_name, None), row)
            locations[(list_name, code)] = row
        return lists, locations, cols

    # ---------------------------------------------------------------- survey

    def survey(self, sheet: _Sheet):
        cols, bad = self.columns(sheet, _SURVEY_COLUMNS, self.default_lang,
                                 _UNSUPPORTED_SURVEY, _IGNORED_SURVEY, _TEXT_FIELDS)
        missing = [k for k in ("type", "name") if (k, None) not in cols]
        for key in missing:
            self.error(sheet.title, sheet.header_row, key,
                       f"the survey sheet needs a '{key}' column")
        root: list = []
        locations: dict[str, int] = {}
        if missing:
            return root, locations, cols
        stack: list[tuple[Any, int, str]] = []  # (Group or None for repeat, row, kind)
        current = root
        for row, cells in sheet.rows:
            def get(key, lang=None, cells=cells):
                idx = cols.get((key, lang))
                return cells[idx] if idx is not None and idx < len(cells) else None

            for idx, message in bad.items():
                v = cells[idx] if idx < len(cells) else None
                if v is not None and not (isinstance(v, bool) and not v) and \
                        str(v).lower() not in ("no", "false", "false()"):
                    self.error(sheet.title, row, sheet.headers[idx], message,
                               get_column_letter(idx + 1))
            raw_type = get("type")
            if raw_type is None:
                self.error(sheet.title, row, "type", "the row has content but no type")
                continue
            t = " ".join(str(raw_type).split()).lower()
            name = _text(get("name"))
            if t in ("begin group", "begin_group", "begin repeat", "begin_repeat"):
                if t.endswith("repeat"):
                    self.error(sheet.title, row, "type", "repeats are not supported")
                if name is None:
                    self.error(sheet.title, row, "name", "the group has no name")
                group = Group(name or f"_row{row}", label=self.texts(get, "label"),
                              relevant=_text(get("relevant")))
                self.appearance(sheet, row, get("appearance"), None)
                self.group_extras(sheet, row, get)
                current.append(group)
                locations.setdefault(group.name, row)
                stack.append((current, row, t.split()[-1].replace("begin_", "")))
                current = group.children
                continue
            if t in ("end group", "end_group", "end repeat", "end_repeat"):
                kind = t.replace("end_", "end ").split()[-1]
                filled = [sheet.headers[i] for i, v in enumerate(cells)
                          if v is not None and i != cols.get(("type", None))
                          and i != cols.get(("name", None)) and i not in bad]
                if filled:
                    self.warn(sheet.title, row, filled[0],
                              f"'{raw_type}' rows carry nothing; ignored: "
                              f"{', '.join(str(f) for f in filled)}")
                if not stack:
                    self.error(sheet.title, row, "type",
                               f"'{raw_type}' without a matching 'begin {kind}'")
                    continue
                parent, begin_row, begin_kind = stack.pop()
                if begin_kind != kind:
                    self.error(sheet.title, row, "type",
                               f"'{raw_type}' closes the {begin_kind} begun at row "
                               f"{begin_row}")
                current = parent
                continue
            question = self.question(sheet, row, t, str(raw_type), name, get)
            if question is not None:
                current.append(question)
                if question.name in locations:
                    self.error(sheet.title, row, "name",
                               f"duplicate name '{question.name}' (also at row "
                               f"{locations[question.name]})")
                else:
                    locations[question.name] = row
        for _, begin_row, kind in stack:
            self.error(sheet.title, begin_row, "type", f"'begin {kind}' is never closed "
                       f"with 'end {kind}'")
        return root, locations, cols

    def group_extras(self, sheet, row, get) -> None:
        """Columns a group cannot carry: refused, except hints (dropped with a warning)."""
        for lang in ("vi", "en"):
            if get("hint", lang) is not None:
                self.warn(sheet.title, row, "hint", "hint ignored: groups have no hint")
        for key in ("required", "constraint", "calculation", "surveyapp::type",
                    "surveyapp::min", "surveyapp::max", "surveyapp::na", "surveyapp::dk",
                    "surveyapp::metadata"):
            value = get(key)
            if value is not None and not (key == "required" and str(value).lower() in _FALSE):
                self.error(sheet.title, row, key, f"a group cannot have '{key}'")
        for lang in ("vi", "en"):
            if get("constraint_message", lang) is not None:
                self.error(sheet.title, row, "constraint_message",
                           "a group cannot have 'constraint_message'")

    def texts(self, get, key) -> dict:
        out = {}
        for lang in ("vi", "en"):
            v = _text(get(key, lang))
            if v:
                out[lang] = v
        return out

    def appearance(self, sheet, row, value, allowed: str | None) -> None:
        if value is None:
            return
        v = str(value).strip().lower()
        if allowed is not None and v == allowed:
            return
        self.warn(sheet.title, row, "appearance",
                  f"appearance '{value}' ignored (the platform lays out questions itself)")

    def boolean(self, sheet, row, column, value) -> bool:
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        v = str(value).strip().lower()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
        self.error(sheet.title, row, column,
                   f"'{value}' is not yes or no (expressions are not supported here)")
        return False

    def number(self, sheet, row, column, value):
        if value is None:
            return None
        if isinstance(value, bool):
            self.error(sheet.title, row, column, f"'{value}' is not a number")
            return None
        if isinstance(value, (int, float)):
            return value
        try:
            f = float(str(value))
        except ValueError:
            self.error(sheet.title, row, column, f"'{value}' is not a number")
            return None
        return int(f) if f.is_integer() else f

    def question(self, sheet, row, t, raw_type, name, get) -> Question | None:
        m = re.fullmatch(r"(select_one|select one|select_multiple|select multiple)"
                         r"(?:\s+(\S+))?(\s+or_other)?", t) or \
            re.fullmatch(r"select (one|all that apply) from (\S+)( or specify other)?", t)
        list_name = None
        if m:
            if m.group(3):
                self.error(sheet.title, row, "type",
                           "'or_other' / 'or specify other' is not supported; add an "
                           "'other' choice and a text question shown when it is selected")
                return None
            base = "select_one" if m.group(1) in ("select_one", "select one", "one") \
                else "select_multiple"
            list_name = m.group(2)
            if not list_name:
                self.error(sheet.title, row, "type", f"'{raw_type}' needs a choice list name")
                return None
        elif t.startswith(("select_one_from_file", "select_multiple_from_file",
                           "select_one_external", "select_multiple_external")):
            self.error(sheet.title, row, "type",
                       f"'{raw_type}': choices from external files are not supported")
            return None
        elif t in _SIMPLE_TYPES:
            base = t
        elif t in _META_TYPES:
            self.warn(sheet.title, row, "type",
                      f"metadata question '{raw_type}' ignored: start/end times and the "
                      f"device are recorded as interview paradata")
            return None
        elif t == "include" or t.startswith("begin loop") or t.startswith("end loop"):
            self.error(sheet.title, row, "type", f"'{raw_type}' is not supported")
            return None
        else:
            self.error(sheet.title, row, "type", f"unknown or unsupported question type "
                       f"'{raw_type}'")
            return None
        if name is None:
            self.error(sheet.title, row, "name", "the question has no name")
            return None
        qtype = base
        extra = get("surveyapp::type")
        appearance = get("appearance")
        app = str(appearance).strip().lower() if appearance is not None else None
        if extra is not None:
            extra = str(extra).strip().lower()
            if extra not in _EXTRA_TYPES:
                self.error(sheet.title, row, "surveyapp::type",
                           f"unknown surveyapp::type '{extra}' (use one of "
                           f"{', '.join(_EXTRA_TYPES)})")
                return None
            if _EXTRA_TYPES[extra] != base:
                self.error(sheet.title, row, "surveyapp::type",
                           f"surveyapp::type '{extra}' needs type "
                           f"'{_EXTRA_TYPES[extra]}', not '{raw_type}'")
                return None
            qtype = extra
        elif app == "likert" and base == "select_one":
            qtype = "likert"
        elif app == "multiline" and base == "text":
            qtype = "long_text"
        expected_app = {"likert": "likert", "long_text": "multiline"}.get(qtype)
        if app is not None and app != expected_app:
            self.appearance(sheet, row, appearance, expected_app)
        try:
            return Question(
                name=name, type=qtype,
                label=self.texts(get, "label"), hint=self.texts(get, "hint"),
                required=self.boolean(sheet, row, "required", get("required")),
                relevant=_text(get("relevant")), constraint=_text(get("constraint")),
                constraint_message=self.texts(get, "constraint_message"),
                calculation=_text(get("calculation")),
                list_name=list_name,
                minimum=self.number(sheet, row, "surveyapp::min", get("surveyapp::min")),
                maximum=self.number(sheet, row, "surveyapp::max", get("surveyapp::max")),
                allow_na=self.boolean(sheet, row, "surveyapp::na", get("surveyapp::na")),
                allow_dk=self.boolean(sheet, row, "surveyapp::dk", get("surveyapp::dk")),
                metadata=({} if get("surveyapp::metadata") is None else self.json_object(
                    sheet.title, row, "surveyapp::metadata", get("surveyapp::metadata"))),
            )
        except QuestionnaireFormatError as exc:
            self.error(sheet.title, row, exc.path, exc.message)
            return None


_FIELD_COLUMNS = {
    "name": ("name", None), "type": ("type", None), "list_name": ("type", None),
    "relevant": ("relevant", None), "constraint": ("constraint", None),
    "calculation": ("calculation", None), "required": ("required", None),
    "minimum": ("surveyapp::min", None), "maximum": ("surveyapp::max", None),
    "allow_na": ("surveyapp::na", None), "allow_dk": ("surveyapp::dk", None),
    "metadata": ("surveyapp::metadata", None),
}


def _locate(problem, survey: _Sheet, survey_cols, survey_rows, choices: _Sheet | None,
            choice_cols, choice_rows, settings_sheet, settings_info):
    """(sheet, row, column header, column letter) of a validation problem."""
    def col_of(cols, key, sheet):
        idx = cols.get(key)
        if idx is None:
            for (k, _lang), i in cols.items():
                if k == key[0]:
                    idx = i
                    break
        if idx is None:
            return key[0], None
        return sheet.headers[idx], get_column_letter(idx + 1)

    if problem.list_name is not None and choices is not None:
        row = choice_rows.get((problem.list_name, problem.choice)) or \
            choice_rows.get((problem.list_name, None))
        header, letter = col_of(choice_cols, ("name", None) if problem.choice is not None
                                else ("list_name", None), choices)
        return choices.title, row, header, letter
    if problem.name is not None and problem.name in survey_rows:
        fld = problem.field or "name"
        key = _FIELD_COLUMNS.get(fld, (fld, None))
        header, letter = col_of(survey_cols, key, survey)
        return survey.title, survey_rows[problem.name], header, letter
    if problem.field in ("name", "title", "default_language") and settings_sheet is not None:
        key = {"name": "form_id", "title": "form_title"}.get(problem.field, problem.field)
        return settings_sheet.title, settings_info.get("row"), key, None
    if problem.field == "label":
        return survey.title, None, "label", None
    return survey.title, None, None, None


_NAME_FIX = re.compile(r"[^A-Za-z0-9_.-]")


def read_xlsform(source: str | Path | bytes | BinaryIO, *,
                 filename: str | None = None) -> tuple[Questionnaire, list[XLSFormProblem]]:
    """Import an XLSForm workbook.

    Returns ``(questionnaire, warnings)``.  Raises :class:`XLSFormError` whose
    ``problems`` give sheet, row and column for every error; nothing is returned then.
    """
    if filename is None and isinstance(source, (str, Path)):
        filename = Path(source).name
    data = _read_bytes(source)
    if not data.startswith(b"PK\x03\x04"):
        raise XLSFormError([XLSFormProblem(None, None, None, _not_xlsx_message(data))])
    imp = _Importer(filename)
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for broken files
            raise XLSFormError([XLSFormProblem(
                None, None, None,
                f"cannot read the workbook ({type(exc).__name__}: {exc}); is it a valid "
                f".xlsx file?")]) from None
        try:
            sheets: dict[str, _Sheet | None] = {}
            titles: dict[str, str] = {}
            for ws in wb.worksheets:
                key = ws.title.strip().lower()
                titles[key] = ws.title
                sheets[key] = _load_sheet(ws)
        except _TooManyRows as exc:
            raise XLSFormError([XLSFormProblem(
                str(exc), None, None, f"the sheet has more than {MAX_ROWS} rows")]) from None
        except Exception as exc:  # a sheet whose XML is broken
            raise XLSFormError([XLSFormProblem(
                None, None, None, f"cannot read the workbook's sheets ({type(exc).__name__}: "
                f"{exc})")]) from None
        finally:
            wb.close()
    for w in caught:
        imp.warn(None, None, None, f"spreadsheet reader: {w.message}")

    for key, title in titles.items():
        if key in ("survey", "choices", "settings"):
            continue
        if key in ("external_choices", "entities", "osm"):
            imp.error(title, None, None, f"sheet '{title}' is not supported "
                      f"({'external choices' if key == 'external_choices' else key})")
        else:
            hint = ""
            if key in ("stettings", "setting", "choice", "surveys", "choise"):
                hint = " (is it misspelt?)"
            imp.warn(title, None, None, f"sheet '{title}' ignored{hint}")
    if "survey" not in titles:
        found = ", ".join(f"'{t}'" for t in titles.values()) or "none"
        imp.error("survey", None, None, f"missing sheet 'survey' (sheets found: {found})")
        raise XLSFormError(imp.problems, imp.warns)
    survey = sheets["survey"]
    if survey is None:
        imp.error(titles["survey"], 1, None, "the survey sheet is empty")
        raise XLSFormError(imp.problems, imp.warns)

    settings_sheet = sheets.get("settings")
    imp.default_lang = "vi"
    info = imp.settings(settings_sheet)
    if info["default_language"] is not None:
        imp.default_lang = info["default_language"]
    elif any(h is not None and _split_header(h) in (("label", None),)
             for h in survey.headers):
        imp.warn(survey.title, survey.header_row, "label",
                 "plain 'label' column read as Vietnamese (settings has no "
                 "default_language)")
    lists, choice_rows, choice_cols = imp.choices(sheets.get("choices"))
    children, survey_rows, survey_cols = imp.survey(survey)

    name = info["name"]
    if name is None:
        name = Path(filename).stem if filename else "questionnaire"
    fixed = _NAME_FIX.sub("_", name.strip())
    if not fixed or not (fixed[0].isalpha() or fixed[0] == "_"):
        fixed = "form_" + fixed
    fixed = fixed[:64]
    if fixed != name:
        imp.warn(settings_sheet.title if settings_sheet else None, info["row"], "form_id",
                 f"form id '{name}' changed to '{fixed}' to make a valid machine name")
    if imp.problems:
        raise XLSFormError(imp.problems, imp.warns)

    try:
        q = Questionnaire(name=fixed, title=info["title"], children=children,
                          choice_lists=list(lists.values()),
                          default_language=imp.default_lang, version=info["version"],
                          metadata=info["metadata"])
    except QuestionnaireFormatError as exc:
        raise XLSFormError([XLSFormProblem(None, None, exc.path, exc.message)],
                           imp.warns) from None
    for problem in validate_questionnaire(q):
        sheet, row, column, letter = _locate(
            problem, survey, survey_cols, survey_rows, sheets.get("choices"), choice_cols,
            choice_rows, settings_sheet, info)
        if problem.code == "unknown_list" and sheets.get("choices") is None:
            message = problem.message + " (the workbook has no 'choices' sheet)"
        else:
            message = problem.message
        target = imp.problems if problem.is_error else imp.warns
        target.append(XLSFormProblem(sheet, row, column, message, problem.level, letter))
    if imp.problems:
        raise XLSFormError(imp.problems, imp.warns)
    return q, imp.warns


def import_summary(q: Questionnaire, warnings: list[XLSFormProblem]) -> dict:
    """The counts and warnings the CLI prints after an import (ids are added by the app)."""
    return {
        "questions": sum(1 for qq in q.questions() if qq.type not in ("note", "calculate")),
        "choices": sum(len(cl.choices) for cl in q.choice_lists),
        "warnings": [str(w) for w in warnings],
    }


# ------------------------------------------------------------------------- export

_SURVEY_HEADERS = [
    "type", "name", "label::Vietnamese (vi)", "label::English (en)",
    "hint::Vietnamese (vi)", "hint::English (en)", "required", "relevant", "constraint",
    "constraint_message::Vietnamese (vi)", "constraint_message::English (en)",
    "calculation", "appearance", "surveyapp::type", "surveyapp::min", "surveyapp::max",
    "surveyapp::na", "surveyapp::dk", "surveyapp::metadata",
]
_CHOICE_HEADERS = ["list_name", "name", "label::Vietnamese (vi)", "label::English (en)",
                   "surveyapp::metadata"]
_SETTINGS_HEADERS = ["form_id", "form_title::Vietnamese (vi)", "form_title::English (en)",
                     "default_language", "version", "surveyapp::metadata"]


def _json(data: dict) -> str | None:
    return json.dumps(data, ensure_ascii=False, sort_keys=True) if data else None


def _exact(x: int | float | None) -> int | str | None:
    """Spreadsheets keep 15–16 digits; write other numbers as text so they read back equal."""
    if x is None or (isinstance(x, int) and abs(x) < 2**53):
        return x
    return repr(x)


def _question_row(qq: Question) -> dict[str, Any]:
    xls_type = {"likert": "select_one", "rating": "integer", "long_text": "text",
                "agency": "text", "procedure": "text"}.get(qq.type, qq.type)
    if qq.type in ("select_one", "select_multiple", "likert"):
        xls_type = f"{xls_type} {qq.list_name}"
    row: dict[str, Any] = {"type": xls_type, "name": qq.name}
    for key in ("label", "hint", "constraint_message"):
        for lang in ("vi", "en"):
            row[f"{key}::{LANG_HEADERS[lang]}"] = getattr(qq, key).get(lang)
    row.update({
        "required": "yes" if qq.required else None,
        "relevant": qq.relevant, "constraint": qq.constraint, "calculation": qq.calculation,
        "appearance": {"likert": "likert", "long_text": "multiline"}.get(qq.type),
        "surveyapp::type": qq.type if qq.type in _EXTRA_TYPES else None,
        "surveyapp::min": _exact(qq.minimum), "surveyapp::max": _exact(qq.maximum),
        "surveyapp::na": "yes" if qq.allow_na else None,
        "surveyapp::dk": "yes" if qq.allow_dk else None,
        "surveyapp::metadata": _json(qq.metadata),
    })
    return row


def _write_rows(ws, headers: list[str], rows: list[dict[str, Any]], bold) -> None:
    for c, h in enumerate(headers):
        ws.write_string(0, c, h, bold)
    for r, row in enumerate(rows, start=1):
        for c, h in enumerate(headers):
            v = row.get(h)
            if v is None or v == "":
                continue
            if isinstance(v, bool):
                status = ws.write_string(r, c, "yes" if v else "no")
            elif isinstance(v, (int, float)):
                status = ws.write_number(r, c, v)
            else:
                status = ws.write_string(r, c, str(v))
            if status != 0:  # xlsxwriter truncates over-long strings and reports it here
                raise ValueError(f"cannot write {h!r} of row {r + 1} to the spreadsheet "
                                 f"(xlsxwriter status {status}); validate the questionnaire "
                                 f"first")
    ws.freeze_panes(1, 0)


def write_xlsform(q: Questionnaire, target: str | Path | BinaryIO) -> None:
    """Write ``q`` as an XLSForm workbook to a path or a binary file object."""
    rows: list[dict[str, Any]] = []

    def visit(items):
        for item in items:
            if isinstance(item, Group):
                row = {"type": "begin group", "name": item.name, "relevant": item.relevant}
                for lang in ("vi", "en"):
                    row[f"label::{LANG_HEADERS[lang]}"] = item.label.get(lang)
                rows.append(row)
                visit(item.children)
                rows.append({"type": "end group"})
            else:
                rows.append(_question_row(item))

    visit(q.children)
    choice_rows = []
    for cl in q.choice_lists:
        for ch in cl.choices:
            choice_rows.append({
                "list_name": cl.name, "name": ch.code,
                "label::Vietnamese (vi)": ch.label.get("vi"),
                "label::English (en)": ch.label.get("en"),
                "surveyapp::metadata": _json(ch.metadata),
            })
    settings = {
        "form_id": q.name, "form_title::Vietnamese (vi)": q.title.get("vi"),
        "form_title::English (en)": q.title.get("en"),
        "default_language": LANG_HEADERS.get(q.default_language, q.default_language),
        "version": q.version or None, "surveyapp::metadata": _json(q.metadata),
    }
    if isinstance(target, (str, Path)):
        wb = xlsxwriter.Workbook(str(target))
    else:
        wb = xlsxwriter.Workbook(target, {"in_memory": True})
    bold = wb.add_format({"bold": True})
    _write_rows(wb.add_worksheet("survey"), _SURVEY_HEADERS, rows, bold)
    _write_rows(wb.add_worksheet("choices"), _CHOICE_HEADERS, choice_rows, bold)
    _write_rows(wb.add_worksheet("settings"), _SETTINGS_HEADERS, [settings], bold)
    wb.close()
