"""Strict validation of one interview's answers against a questionnaire version.

Used by the submission API (issue 7) and the interview entry page.  Answers are
``{question name: value}``: choice codes as strings (a Likert point is its code "1".."5"),
a multiple choice as a list of codes, numbers as JSON numbers, dates as "YYYY-MM-DD",
agency/procedure pickers as the agency/procedure code, and the reserved strings ``"na"``
(not applicable) / ``"dk"`` (don't know) where the question allows them.  Unanswered
questions are left out (``null`` is also accepted as "no answer").

Rules, checked in this order for each question in document order:
1. names that are not answerable questions (unknown, groups, notes, calculated fields) are
   refused;
2. a question that is not relevant (its own or an enclosing group's ``relevant`` is false)
   must have no answer;
3. a relevant required question must have one;
4. the value must have the question's type (choice codes from its list, integers within
   range, real dates, …);
5. the constraint must hold (``.`` is the answer; not evaluated for ``na``/``dk``).
Calculations are computed by the server (:func:`compute`), never taken from the client.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from surveyapp.expressions import Node, evaluate, parse_expression, to_boolean, to_json_value

from .model import CHOICE_TYPES, RATING_RANGE, Group, Question, Questionnaire
from .validation import dependency_graph, errors, validate_questionnaire

MAX_TEXT = 1000
MAX_LONG_TEXT = 10000
MAX_CODE = 100
MAX_SAFE_INTEGER = 2**53 - 1  # beyond this a browser cannot hold the number exactly


class QuestionnaireInvalid(ValueError):
    """Answers cannot be checked against a questionnaire that has validation errors."""

    def __init__(self, problems):
        super().__init__("; ".join(p.message for p in problems[:5]))
        self.problems = problems


@dataclass(frozen=True)
class AnswerError:
    code: str
    en: str
    vi: str

    def message(self, language: str = "vi") -> str:
        return self.en if language == "en" else self.vi


@dataclass
class CompiledQuestionnaire:
    """A validated questionnaire with its expressions parsed and its evaluation order.

    Build once per questionnaire version (``compile_questionnaire``) and reuse it."""

    questionnaire: Questionnaire
    asts: dict[tuple[str, str], Node]
    order: list[str]  # groups and questions, dependencies first
    items: dict[str, Any]
    parents: dict[str, str | None]


def compile_questionnaire(q: Questionnaire) -> CompiledQuestionnaire:
    problems = errors(validate_questionnaire(q))
    if problems:
        raise QuestionnaireInvalid(problems)
    asts: dict[tuple[str, str], Node] = {}
    items: dict[str, Any] = {}
    parents: dict[str, str | None] = {}
    position: dict[str, int] = {}
    for i, (item, ancestors) in enumerate(q.walk()):
        items[item.name] = item
        parents[item.name] = ancestors[-1].name if ancestors else None
        position[item.name] = i
        for fld in ("relevant", "constraint", "calculation"):
            text = getattr(item, fld, None)
            if text is not None:
                asts[(item.name, fld)] = parse_expression(text)
    graph = dependency_graph(q, asts)
    # Kahn's algorithm, ties broken by document order
    waiting = {name: len(set(deps)) for name, deps in graph.items()}
    users: dict[str, list[str]] = {name: [] for name in graph}
    for name, deps in graph.items():
        for d in set(deps):
            users[d].append(name)
    ready = [(position[n], n) for n, k in waiting.items() if k == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for user in users[name]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, (position[user], user))
    return CompiledQuestionnaire(q, asts, order, items, parents)


def _as_compiled(q) -> CompiledQuestionnaire:
    return q if isinstance(q, CompiledQuestionnaire) else compile_questionnaire(q)


def _today(today) -> str:
    if today is None:
        return _dt.date.today().isoformat()
    if isinstance(today, (_dt.date, _dt.datetime)):
        return today.isoformat()[:10]
    return str(today)


@dataclass
class Evaluation:
    relevant: dict[str, bool]
    calculated: dict[str, Any]


def _absent(value: Any) -> bool:
    """No answer: missing, null, blank text or an empty list."""
    if isinstance(value, str):
        return value.strip() == ""
    return value is None or (isinstance(value, list) and len(value) == 0)


def compute(q, answers: Mapping[str, Any], *, today=None) -> Evaluation:
    """Relevance of every group/question and the values of the calculated fields."""
    cq = _as_compiled(q)
    context = {"today": _today(today)}
    env: dict[str, Any] = {}
    for name, item in cq.items.items():
        if isinstance(item, Question) and item.type not in ("calculate", "note"):
            env[name] = answers.get(name) if isinstance(answers, Mapping) else None
    relevant: dict[str, bool] = {}
    calculated: dict[str, Any] = {}
    for name in cq.order:
        item = cq.items[name]
        parent = cq.parents[name]
        ok = relevant[parent] if parent is not None else True
        ast = cq.asts.get((name, "relevant"))
        if ok and ast is not None:
            ok = to_boolean(evaluate(ast, env, context))
        relevant[name] = ok
        if isinstance(item, Question):
            if not ok:
                env[name] = None
            elif item.type == "calculate":
                value = to_json_value(evaluate(cq.asts[(name, "calculation")], env, context))
                value = None if value == "" else value
                env[name] = value
                calculated[name] = value
    return Evaluation(relevant, calculated)


# --------------------------------------------------------------------- messages

def _err(code: str, en: str, vi: str) -> AnswerError:
    return AnswerError(code, en, vi)


def _reserved_ok(question: Question, value: Any) -> bool:
    return (value == "na" and question.allow_na) or (value == "dk" and question.allow_dk)


def _reserved_hint(question: Question) -> tuple[str, str]:
    allowed = [c for c, ok in (("na", question.allow_na), ("dk", question.allow_dk)) if ok]
    if not allowed:
        return "", ""
    shown = " or ".join(f"'{c}'" for c in allowed)
    shown_vi = " hoặc ".join(f"'{c}'" for c in allowed)
    return f", or {shown}", f", hoặc {shown_vi}"


def _is_int(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return isinstance(value, int) or math.isfinite(value)


def _fmt(x: Any) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return str(x)


def _check_value(q: Questionnaire, question: Question, value: Any,
                 pickers: Mapping[str, Any]) -> AnswerError | None:
    t = question.type
    hint_en, hint_vi = _reserved_hint(question)
    if isinstance(value, str) and value in ("na", "dk"):
        if _reserved_ok(question, value):
            return None
        what_en = "not applicable" if value == "na" else "don't know"
        what_vi = "không áp dụng" if value == "na" else "không biết"
        return _err("reserved_not_allowed",
                    f"'{value}' ({what_en}) is not allowed for this question",
                    f"Câu hỏi này không cho phép trả lời '{value}' ({what_vi})")
    if t in CHOICE_TYPES:
        cl = q.choice_list(question.list_name)
        codes = cl.codes() if cl else []
        if t == "select_multiple":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return _err("type", f"Expected a list of choice codes{hint_en}",
                            f"Cần một danh sách mã lựa chọn{hint_vi}")
            if any(v in ("na", "dk") for v in value):
                return _err("reserved_in_list",
                            "'na'/'dk' must be sent alone as a string, not inside the list",
                            "'na'/'dk' phải được gửi riêng dưới dạng chuỗi, không nằm trong "
                            "danh sách")
            unknown = [v for v in value if v not in codes]
            if unknown:
                return _err("choice", f"Not a choice of this question: {', '.join(unknown)}",
                            f"Không phải lựa chọn của câu hỏi này: {', '.join(unknown)}")
            if len(set(value)) != len(value):
                return _err("duplicate_choice", "A choice is listed more than once",
                            "Một lựa chọn bị lặp lại")
            return None
        if not isinstance(value, str):
            return _err("type", f"Expected a choice code as a string{hint_en}",
                        f"Cần một mã lựa chọn dạng chuỗi{hint_vi}")
        if value not in codes:
            return _err("choice", f"'{value}' is not a choice of this question",
                        f"'{value}' không phải lựa chọn của câu hỏi này")
        return None
    if t in ("integer", "rating"):
        if not _is_int(value):
            return _err("type", f"Expected a whole number{hint_en}",
                        f"Cần một số nguyên{hint_vi}")
        if abs(value) > MAX_SAFE_INTEGER:
            return _err("range", f"Must be between {-MAX_SAFE_INTEGER} and {MAX_SAFE_INTEGER}",
                        f"Phải trong khoảng từ {-MAX_SAFE_INTEGER} đến {MAX_SAFE_INTEGER}")
        lo, hi = RATING_RANGE if t == "rating" else (question.minimum, question.maximum)
        return _range_error(value, lo, hi)
    if t == "decimal":
        if not _is_number(value):
            return _err("type", f"Expected a number{hint_en}", f"Cần một số{hint_vi}")
        return _range_error(value, question.minimum, question.maximum)
    if t in ("text", "long_text"):
        if not isinstance(value, str):
            return _err("type", f"Expected text{hint_en}", f"Cần văn bản{hint_vi}")
        limit = MAX_LONG_TEXT if t == "long_text" else MAX_TEXT
        if len(value) > limit:
            return _err("too_long", f"Text is too long ({len(value)} characters; at most "
                        f"{limit})", f"Văn bản quá dài ({len(value)} ký tự; tối đa {limit})")
        if "\x00" in value:
            return _err("type", "Text contains a NUL character", "Văn bản chứa ký tự NUL")
        return None
    if t == "date":
        if not isinstance(value, str) or len(value) != 10:
            return _err("type", f"Expected a date as YYYY-MM-DD{hint_en}",
                        f"Cần một ngày dạng YYYY-MM-DD{hint_vi}")
        try:
            parsed = _dt.date.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is None or parsed.isoformat() != value:
            return _err("type", f"'{value}' is not a valid date (YYYY-MM-DD)",
                        f"'{value}' không phải ngày hợp lệ (YYYY-MM-DD)")
        return None
    if t in ("agency", "procedure"):
        what_en, what_vi = ("agency", "cơ quan") if t == "agency" else ("procedure", "thủ tục")
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_CODE:
            return _err("type", f"Expected the code of an {what_en}{hint_en}"
                        if t == "agency" else f"Expected the code of a {what_en}{hint_en}",
                        f"Cần mã của {what_vi}{hint_vi}")
        known = pickers.get(t)
        if known is not None and value not in known:
            return _err("unknown_" + t, f"Unknown {what_en} code '{value}'",
                        f"Mã {what_vi} không tồn tại '{value}'")
        return None
    return _err("type", "This question takes no answer", "Câu hỏi này không nhận câu trả lời")


def _range_error(value: Any, lo: Any, hi: Any) -> AnswerError | None:
    if lo is not None and value < lo or hi is not None and value > hi:
        if lo is not None and hi is not None:
            return _err("range", f"Must be between {_fmt(lo)} and {_fmt(hi)}",
                        f"Phải trong khoảng từ {_fmt(lo)} đến {_fmt(hi)}")
        if lo is not None:
            return _err("range", f"Must be at least {_fmt(lo)}",
                        f"Phải lớn hơn hoặc bằng {_fmt(lo)}")
        return _err("range", f"Must be at most {_fmt(hi)}", f"Phải nhỏ hơn hoặc bằng {_fmt(hi)}")
    return None


def check_answers(q, answers: Any, *, today=None,
                  agencies=None, procedures=None) -> dict[str, AnswerError]:
    """``{name: AnswerError}`` for every refused answer; empty when all is well.

    ``q`` is a :class:`Questionnaire` or a :class:`CompiledQuestionnaire` (faster when
    reused).  ``agencies``/``procedures`` are optional collections of valid codes for the
    pickers.  A non-object ``answers`` gives one error under the key ``""``.
    """
    return check_and_compute(q, answers, today=today, agencies=agencies,
                             procedures=procedures)[0]


def check_and_compute(q, answers: Any, *, today=None, agencies=None,
                      procedures=None) -> tuple[dict[str, AnswerError], Evaluation | None]:
    """:func:`check_answers` and the :func:`compute` it is based on, from one evaluation of
    the relevance (the submission API needs both); the evaluation is None when ``answers``
    is not an object."""
    cq = _as_compiled(q)
    if not isinstance(answers, Mapping) or not all(isinstance(k, str) for k in answers):
        return {"": _err("not_object", "Answers must be an object {question name: value}",
                         "Câu trả lời phải là một đối tượng {tên câu hỏi: giá trị}")}, None
    result: dict[str, AnswerError] = {}
    for name in answers:
        item = cq.items.get(name)
        if item is None:
            result[name] = _err("unknown_question", f"There is no question '{name}'",
                                f"Không có câu hỏi '{name}'")
        elif isinstance(item, Group) or item.type in ("note", "calculate"):
            if answers[name] is not None:
                kind_en = {"group": "a group", "note": "a note", "calculate":
                           "a calculated field"}[item.type]
                kind_vi = {"group": "một nhóm", "note": "một ghi chú", "calculate":
                           "một trường tính toán"}[item.type]
                result[name] = _err("not_answerable",
                                    f"'{name}' is {kind_en} and takes no answer",
                                    f"'{name}' là {kind_vi}, không nhận câu trả lời")
    evaluation = compute(cq, answers, today=today)
    context = {"today": _today(today)}
    env: dict[str, Any] = {}
    for question in cq.questionnaire.questions():
        if question.type == "calculate":
            env[question.name] = evaluation.calculated.get(question.name)
        elif evaluation.relevant[question.name]:
            env[question.name] = answers.get(question.name)
    pickers = {"agency": agencies, "procedure": procedures}
    for question in cq.questionnaire.questions():
        name = question.name
        if question.type in ("note", "calculate") or name in result:
            continue
        value = answers.get(name)
        if not evaluation.relevant[name]:
            if not _absent(value):
                result[name] = _err("not_relevant",
                                    "This question does not apply given the other answers; "
                                    "leave it out",
                                    "Câu hỏi này không áp dụng theo các câu trả lời khác; "
                                    "hãy bỏ trống")
            continue
        if _absent(value):
            if question.required:
                result[name] = _err("required", "An answer is required",
                                    "Câu hỏi này bắt buộc phải trả lời")
            continue
        problem = _check_value(cq.questionnaire, question, value, pickers)
        if problem is not None:
            result[name] = problem
            continue
        ast = cq.asts.get((name, "constraint"))
        if ast is not None and value not in ("na", "dk"):
            ok = to_boolean(evaluate(ast, env, {**context, "current": value}))
            if not ok:
                msg = question.constraint_message
                en = msg.get("en") or msg.get("vi") or "The answer is not allowed"
                vi = msg.get("vi") or msg.get("en") or "Câu trả lời không hợp lệ"
                result[name] = _err("constraint", en, vi)
    return result, evaluation


def validate_answers(q, answers: Any, *, language: str = "vi", today=None,
                     agencies=None, procedures=None) -> dict[str, str]:
    """``{name: message}`` in ``language`` ("vi" or "en") for every refused answer."""
    found = check_answers(q, answers, today=today, agencies=agencies, procedures=procedures)
    return {name: error.message(language) for name, error in found.items()}
