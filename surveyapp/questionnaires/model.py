"""The questionnaire definition: a tree of dataclasses and its JSON form.

One questionnaire version is stored as one JSON document (``Questionnaire.to_dict()``);
``Questionnaire.from_dict()`` reads it back and refuses anything malformed with a
:class:`QuestionnaireFormatError` naming the path of the bad field.  Semantic checks
(names, references, cycles, expression types) live in :mod:`.validation`.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

FORMAT_VERSION = 1
LANGUAGES = ("vi", "en")
RESERVED_CODES = ("na", "dk")

#: question type -> (Vietnamese, English) display name
QUESTION_TYPES: dict[str, tuple[str, str]] = {
    "select_one": ("Chọn một", "Single choice"),
    "select_multiple": ("Chọn nhiều", "Multiple choice"),
    "likert": ("Thang Likert", "Likert scale"),
    "rating": ("Thang điểm 0–10", "Rating 0–10"),
    "integer": ("Số nguyên", "Integer"),
    "decimal": ("Số thập phân", "Decimal"),
    "text": ("Văn bản ngắn", "Short text"),
    "long_text": ("Văn bản dài", "Long text"),
    "date": ("Ngày", "Date"),
    "agency": ("Chọn cơ quan", "Agency picker"),
    "procedure": ("Chọn thủ tục hành chính", "Procedure picker"),
    "note": ("Ghi chú (chỉ hiển thị)", "Note (display only)"),
    "calculate": ("Trường tính toán", "Calculated field"),
}
CHOICE_TYPES = ("select_one", "select_multiple", "likert")
NUMBER_TYPES = ("integer", "decimal", "rating")
RATING_RANGE = (0, 10)


class QuestionnaireFormatError(ValueError):
    """A questionnaire document that does not have the expected shape."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


Text = dict  # {"vi": "...", "en": "..."}; only non-empty languages are kept


def clean_text(value: Any, path: str = "text") -> dict[str, str]:
    """Normalise a bilingual text: known languages, stripped, empty ones dropped."""
    if value is None:
        return {}
    if isinstance(value, str):
        value = {"vi": value}
    if not isinstance(value, dict):
        raise QuestionnaireFormatError(path, "must be an object {\"vi\": …, \"en\": …}")
    out: dict[str, str] = {}
    for lang, text in value.items():
        if lang not in LANGUAGES:
            raise QuestionnaireFormatError(f"{path}.{lang}", "unknown language (use vi or en)")
        if text is None:
            continue
        if not isinstance(text, str):
            raise QuestionnaireFormatError(f"{path}.{lang}", "must be a string")
        text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
        if text:
            out[lang] = text
    return {lang: out[lang] for lang in LANGUAGES if lang in out}


def _clean_expr(value: Any, path: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise QuestionnaireFormatError(path, "must be a string expression")
    value = value.strip()
    return value or None


def _clean_number(value: Any, path: str) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise QuestionnaireFormatError(path, "must be a number")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise QuestionnaireFormatError(path, "must be a finite number")
        if value.is_integer():
            return int(value)
    return value


def _clean_metadata(value: Any, path: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise QuestionnaireFormatError(path, "must be an object with string keys")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise QuestionnaireFormatError(path, f"must be plain JSON ({exc})") from None
    return copy.deepcopy(value)


def _clean_bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise QuestionnaireFormatError(path, "must be true or false")
    return value


@dataclass
class Choice:
    code: str
    label: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.label = clean_text(self.label, "label")

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"code": self.code, "label": dict(self.label)}
        if self.metadata:
            out["metadata"] = copy.deepcopy(self.metadata)
        return out

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Choice:
        _check_keys(data, path, required={"code"}, optional={"label", "metadata"})
        code = data["code"]
        if not isinstance(code, str):
            raise QuestionnaireFormatError(f"{path}.code", "must be a string")
        return cls(code=code, label=clean_text(data.get("label"), f"{path}.label"),
                   metadata=_clean_metadata(data.get("metadata"), f"{path}.metadata"))


@dataclass
class ChoiceList:
    name: str
    choices: list[Choice] = field(default_factory=list)

    def codes(self) -> list[str]:
        return [c.code for c in self.choices]

    def get(self, code: str) -> Choice | None:
        for c in self.choices:
            if c.code == code:
                return c
        return None

    def to_dict(self) -> dict:
        return {"name": self.name, "choices": [c.to_dict() for c in self.choices]}

    @classmethod
    def from_dict(cls, data: Any, path: str) -> ChoiceList:
        _check_keys(data, path, required={"name", "choices"}, optional=set())
        if not isinstance(data["name"], str):
            raise QuestionnaireFormatError(f"{path}.name", "must be a string")
        if not isinstance(data["choices"], list):
            raise QuestionnaireFormatError(f"{path}.choices", "must be a list")
        return cls(name=data["name"], choices=[
            Choice.from_dict(c, f"{path}.choices[{i}]") for i, c in enumerate(data["choices"])
        ])


@dataclass
class Question:
    name: str
    type: str
    label: dict = field(default_factory=dict)
    hint: dict = field(default_factory=dict)
    required: bool = False
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: dict = field(default_factory=dict)
    calculation: str | None = None
    list_name: str | None = None
    minimum: int | float | None = None
    maximum: int | float | None = None
    allow_na: bool = False
    allow_dk: bool = False
    metadata: dict = field(default_factory=dict)

    kind = "question"

    def __post_init__(self) -> None:
        self.label = clean_text(self.label, "label")
        self.hint = clean_text(self.hint, "hint")
        self.constraint_message = clean_text(self.constraint_message, "constraint_message")
        self.relevant = _clean_expr(self.relevant, "relevant")
        self.constraint = _clean_expr(self.constraint, "constraint")
        self.calculation = _clean_expr(self.calculation, "calculation")
        self.minimum = _clean_number(self.minimum, "minimum")
        self.maximum = _clean_number(self.maximum, "maximum")

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"type": self.type, "name": self.name}
        for key in ("label", "hint"):
            if getattr(self, key):
                out[key] = dict(getattr(self, key))
        if self.list_name is not None:
            out["list_name"] = self.list_name
        if self.required:
            out["required"] = True
        for key in ("relevant", "constraint"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.constraint_message:
            out["constraint_message"] = dict(self.constraint_message)
        if self.calculation is not None:
            out["calculation"] = self.calculation
        for key in ("minimum", "maximum"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.allow_na:
            out["allow_na"] = True
        if self.allow_dk:
            out["allow_dk"] = True
        if self.metadata:
            out["metadata"] = copy.deepcopy(self.metadata)
        return out

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Question:
        _check_keys(data, path, required={"type", "name"}, optional=_QUESTION_OPTIONAL)
        if not isinstance(data["name"], str):
            raise QuestionnaireFormatError(f"{path}.name", "must be a string")
        if not isinstance(data["type"], str):
            raise QuestionnaireFormatError(f"{path}.type", "must be a string")
        list_name = data.get("list_name")
        if list_name is not None and not isinstance(list_name, str):
            raise QuestionnaireFormatError(f"{path}.list_name", "must be a string")
        return cls(
            name=data["name"], type=data["type"],
            label=clean_text(data.get("label"), f"{path}.label"),
            hint=clean_text(data.get("hint"), f"{path}.hint"),
            required=_clean_bool(data.get("required", False), f"{path}.required"),
            relevant=_clean_expr(data.get("relevant"), f"{path}.relevant"),
            constraint=_clean_expr(data.get("constraint"), f"{path}.constraint"),
            constraint_message=clean_text(data.get("constraint_message"),
                                          f"{path}.constraint_message"),
            calculation=_clean_expr(data.get("calculation"), f"{path}.calculation"),
            list_name=list_name,
            minimum=_clean_number(data.get("minimum"), f"{path}.minimum"),
            maximum=_clean_number(data.get("maximum"), f"{path}.maximum"),
            allow_na=_clean_bool(data.get("allow_na", False), f"{path}.allow_na"),
            allow_dk=_clean_bool(data.get("allow_dk", False), f"{path}.allow_dk"),
            metadata=_clean_metadata(data.get("metadata"), f"{path}.metadata"),
        )


_QUESTION_OPTIONAL = {
    "label", "hint", "required", "relevant", "constraint", "constraint_message", "calculation",
    "list_name", "minimum", "maximum", "allow_na", "allow_dk", "metadata",
}


@dataclass
class Group:
    """A section (a page on a phone) or a sub-group; may be nested."""

    name: str
    label: dict = field(default_factory=dict)
    relevant: str | None = None
    children: list[Group | Question] = field(default_factory=list)

    kind = "group"
    type = "group"

    def __post_init__(self) -> None:
        self.label = clean_text(self.label, "label")
        self.relevant = _clean_expr(self.relevant, "relevant")

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"type": "group", "name": self.name}
        if self.label:
            out["label"] = dict(self.label)
        if self.relevant is not None:
            out["relevant"] = self.relevant
        out["children"] = [c.to_dict() for c in self.children]
        return out

    @classmethod
    def from_dict(cls, data: Any, path: str) -> Group:
        _check_keys(data, path, required={"type", "name", "children"},
                    optional={"label", "relevant"})
        if not isinstance(data["name"], str):
            raise QuestionnaireFormatError(f"{path}.name", "must be a string")
        return cls(name=data["name"], label=clean_text(data.get("label"), f"{path}.label"),
                   relevant=_clean_expr(data.get("relevant"), f"{path}.relevant"),
                   children=_children_from(data["children"], f"{path}.children"))


Item = Group | Question


def _children_from(data: Any, path: str) -> list[Item]:
    if not isinstance(data, list):
        raise QuestionnaireFormatError(path, "must be a list")
    out: list[Item] = []
    for i, child in enumerate(data):
        p = f"{path}[{i}]"
        if not isinstance(child, dict):
            raise QuestionnaireFormatError(p, "must be an object")
        if child.get("type") == "group":
            out.append(Group.from_dict(child, p))
        else:
            out.append(Question.from_dict(child, p))
    return out


def _check_keys(data: Any, path: str, required: set[str], optional: set[str]) -> None:
    if not isinstance(data, dict):
        raise QuestionnaireFormatError(path, "must be an object")
    missing = sorted(required - set(data))
    if missing:
        raise QuestionnaireFormatError(path, f"missing field(s): {', '.join(missing)}")
    unknown = sorted(set(data) - required - optional)
    if unknown:
        raise QuestionnaireFormatError(path, f"unknown field(s): {', '.join(unknown)}")


@dataclass
class Questionnaire:
    name: str
    title: dict = field(default_factory=dict)
    children: list[Item] = field(default_factory=list)
    choice_lists: list[ChoiceList] = field(default_factory=list)
    default_language: str = "vi"
    version: str = ""
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.title = clean_text(self.title, "title")

    # --- navigation ------------------------------------------------------------

    def walk(self) -> Iterator[tuple[Item, tuple[Group, ...]]]:
        """Every group and question in document order, with its ancestor groups."""
        def visit(items: list[Item], ancestors: tuple[Group, ...]):
            for item in items:
                yield item, ancestors
                if isinstance(item, Group):
                    yield from visit(item.children, ancestors + (item,))
        yield from visit(self.children, ())

    def questions(self) -> list[Question]:
        return [item for item, _ in self.walk() if isinstance(item, Question)]

    def groups(self) -> list[Group]:
        return [item for item, _ in self.walk() if isinstance(item, Group)]

    def find(self, name: str) -> Item | None:
        for item, _ in self.walk():
            if item.name == name:
                return item
        return None

    def choice_list(self, name: str | None) -> ChoiceList | None:
        for cl in self.choice_lists:
            if cl.name == name:
                return cl
        return None

    # --- JSON ----------------------------------------------------------------

    def to_dict(self) -> dict:
        out: dict[str, Any] = {
            "format": FORMAT_VERSION,
            "name": self.name,
            "title": dict(self.title),
            "default_language": self.default_language,
            "version": self.version,
            "children": [c.to_dict() for c in self.children],
            "choice_lists": [cl.to_dict() for cl in self.choice_lists],
        }
        if self.metadata:
            out["metadata"] = copy.deepcopy(self.metadata)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True,
                          separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Any) -> Questionnaire:
        _check_keys(data, "$", required={"format", "name", "children", "choice_lists"},
                    optional={"title", "default_language", "version", "metadata"})
        if data["format"] != FORMAT_VERSION:
            raise QuestionnaireFormatError("$.format", f"unsupported format {data['format']!r}")
        if not isinstance(data["name"], str):
            raise QuestionnaireFormatError("$.name", "must be a string")
        lang = data.get("default_language", "vi")
        if lang not in LANGUAGES:
            raise QuestionnaireFormatError("$.default_language", "must be vi or en")
        version = data.get("version", "")
        if not isinstance(version, str):
            raise QuestionnaireFormatError("$.version", "must be a string")
        lists = data["choice_lists"]
        if not isinstance(lists, list):
            raise QuestionnaireFormatError("$.choice_lists", "must be a list")
        return cls(
            name=data["name"],
            title=clean_text(data.get("title"), "$.title"),
            children=_children_from(data["children"], "$.children"),
            choice_lists=[ChoiceList.from_dict(cl, f"$.choice_lists[{i}]")
                          for i, cl in enumerate(lists)],
            default_language=lang,
            version=version,
            metadata=_clean_metadata(data.get("metadata"), "$.metadata"),
        )

    @classmethod
    def from_json(cls, text: str) -> Questionnaire:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise QuestionnaireFormatError("$", f"not JSON: {exc}") from None
        return cls.from_dict(data)
