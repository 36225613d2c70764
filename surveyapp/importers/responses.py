"""Responses typed in from paper or exported from ODK/KoboToolbox: columns to questions, cell
text to answer values.  Plain data in, plain data out: no database, no Flask.

Conventions understood (ODK/Kobo exports keyed by question name):

* a column may be named by the question (``age``), by its group path (``s2/age`` or
  ``group_s2/age``: the last part is the name), or be renamed by an explicit mapping
  ``{"column in file": "question name"}``; a mapping value ``""`` ignores the column;
* reserved columns (not questions): ``uuid`` (also ODK's ``meta/instanceid``, ``_uuid``,
  ``instanceid``; ``uuid:`` prefixes are dropped), ``assignment_id``, ``unit_id`` (the case's
  unit id in the sample), ``disposition``, ``started_at`` (``start``), ``finished_at``
  (``end``), and respondent columns ``respondent_name``/``respondent_phone`` (``name``,
  ``phone``...) that go to the identifying data, never to the answers;
* a multiple choice is its codes separated by spaces (ODK), commas or semicolons;
* ``n/a``, ``na``, ``N/A`` are "not applicable" (``na``), ``dk`` / ``don't know`` (``dk``);
* integers, decimals (``3.5`` or ``3,5``) and dates (``YYYY-MM-DD``, ``dd/mm/yyyy`` or an
  XLSX date cell); a cell that cannot be converted is passed on as text, so the
  questionnaire's own checks (the API's) name the problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

RESERVED = ("uuid", "assignment_id", "unit_id", "disposition", "started_at", "finished_at")
RESPONDENT_PREFIX = "respondent_"
# Other spellings of the reserved columns (lower case, as the reader gives headers).
ALIASES = {
    "meta/instanceid": "uuid", "instanceid": "uuid", "_uuid": "uuid", "meta/uuid": "uuid",
    "assignment": "assignment_id", "case_unit_id": "unit_id", "case": "unit_id",
    "start": "started_at", "end": "finished_at", "starttime": "started_at",
    "endtime": "finished_at",
}
# ODK/Kobo bookkeeping columns that are neither answers nor ours: ignored when not mapped.
IGNORED = {"_id", "_index", "_submission_time", "_submitted_by", "_status", "_tags", "_notes",
           "_validation_status", "_version_", "__version__", "formhub/uuid", "meta/rootuuid",
           "meta/deprecatedid", "_xform_id_string", "_attachments", "_geolocation",
           "today", "deviceid", "simserial", "subscriberid", "phonenumber", "username"}
NA_TEXT = {"n/a", "na", "not applicable", "không áp dụng"}
DK_TEXT = {"dk", "don't know", "dont know", "không biết"}
_INT_RE = re.compile(r"^[+-]?\d+$")
_DEC_RE = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?$")
_DMY_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass
class ColumnPlan:
    """Where each column of the file goes."""

    questions: dict[str, str] = field(default_factory=dict)    # column -> question name
    reserved: dict[str, str] = field(default_factory=dict)     # reserved name -> column
    respondent: dict[str, str] = field(default_factory=dict)   # column -> respondent key
    ignored: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)           # columns that match nothing
    bad_mapping: dict[str, str] = field(default_factory=dict)  # column -> unknown question
    missing_mapped: list[str] = field(default_factory=list)    # mapped columns not in file

    def to_dict(self) -> dict:
        return {"questions": self.questions, "reserved": self.reserved,
                "respondent": self.respondent, "ignored": self.ignored,
                "unknown": self.unknown, "bad_mapping": self.bad_mapping,
                "missing_mapped": self.missing_mapped}


def plan_columns(headers: Iterable[str], question_names: Iterable[str],
                 mapping: Mapping[str, str] | None = None) -> ColumnPlan:
    """Match the file's (lower-cased) headers to questions, reserved and respondent columns."""
    by_lower = {name.lower(): name for name in question_names}
    explicit = {str(k).strip().lower(): (str(v).strip() if v is not None else "")
                for k, v in (mapping or {}).items()}
    headers = list(headers)
    plan = ColumnPlan()
    plan.missing_mapped = [k for k in explicit if k not in headers]
    for column in headers:
        if column in explicit:
            target = explicit[column]
            low = target.lower()
            if not target:
                plan.ignored.append(column)
            elif low in RESERVED or low in ALIASES:
                plan.reserved[ALIASES.get(low, low)] = column
            elif low.startswith(RESPONDENT_PREFIX):
                plan.respondent[column] = target[len(RESPONDENT_PREFIX):]
            elif low in by_lower:
                plan.questions[column] = by_lower[low]
            else:
                plan.bad_mapping[column] = target
            continue
        name = ALIASES.get(column, column)
        if name in RESERVED:
            plan.reserved.setdefault(name, column)
        elif name.startswith(RESPONDENT_PREFIX) and len(name) > len(RESPONDENT_PREFIX):
            plan.respondent[column] = name[len(RESPONDENT_PREFIX):]
        elif name in by_lower:
            plan.questions[column] = by_lower[name]
        elif "/" in name and name.rsplit("/", 1)[1] in by_lower:
            plan.questions[column] = by_lower[name.rsplit("/", 1)[1]]
        elif name in IGNORED or name.startswith("_") or name.startswith("meta/"):
            plan.ignored.append(column)
        else:
            plan.unknown.append(column)
    return plan


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def convert_cell(value: Any, question_type: str) -> Any:
    """The answer value of one cell for a question type; ``None`` when the cell is empty."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        low = value.strip().lower()
        if low in NA_TEXT:
            return "na"
        if low in DK_TEXT:
            return "dk"
    if question_type in ("integer", "rating"):
        if isinstance(value, bool):
            return _text(value)
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value) if value.is_integer() else value
        text = _text(value).replace(" ", "")
        if _INT_RE.match(text):
            return int(text)
        if _DEC_RE.match(text):  # "42.0" is 42; "42.5" stays a number the check refuses
            number = float(text.replace(",", "."))
            return int(number) if number.is_integer() else number
        return value
    if question_type == "decimal":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        text = _text(value).replace(" ", "")
        if _DEC_RE.match(text) and text.count(",") <= 1 and not ("," in text and "." in text):
            return float(text.replace(",", ".")) if not _INT_RE.match(text) else int(text)
        return value
    if question_type == "date":
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        text = _text(value)
        m = _DMY_RE.match(text)
        if m:
            day, month, year = (int(g) for g in m.groups())
            try:
                return date(year, month, day).isoformat()
            except ValueError:
                return text
        if len(text) > 10 and text[10] in "T ":  # a date-time cell typed as text
            text = text[:10]
        return text
    if question_type == "select_multiple":
        text = _text(value)
        return [part for part in re.split(r"[\s,;]+", text) if part]
    return _text(value)


def convert_time(value: Any, offset: timedelta = timedelta(hours=7)) -> Any:
    """started_at/finished_at as ISO 8601 text; a time without an offset (an XLSX date-time
    cell, a typed "2024-09-02 08:30" or a plain date, read as midnight) is local time, by
    default Vietnam's (UTC+7). Text that is not a date passes through for the checks."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime(value.year, value.month, value.day)
    else:
        text = _text(value)
        m = _DMY_RE.match(text)
        try:
            if m:
                day, month, year = (int(g) for g in m.groups())
                parsed = datetime(year, month, day)
            else:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone(offset))
    return parsed.isoformat()


def convert_integer(value: Any) -> Any:
    """An id column: an int if it reads as one, else the text (refused by the checks)."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = _text(value)
    return int(text) if _INT_RE.match(text) else text
