"""Evaluation of a parsed expression against answers (see SEMANTICS.md beside this file).

Values inside the evaluator are: ``str`` (the empty string means "no value"), ``float``
(always finite; never NaN or infinity), ``bool`` and ``list[str]`` (a multiple choice).
Evaluation never raises for any answers: every operation is total.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .syntax import Binary, Call, Current, Literal, Node, Ref, Unary

_XPATH_SPACE = " \t\r\n"
_DIGITS = "0123456789"


def _is_number_text(s: str) -> bool:
    # -?(digits(.digits*)?|.digits)
    if s.startswith("-"):
        s = s[1:]
    if not s:
        return False
    head, dot, tail = s.partition(".")
    if not all(c in _DIGITS for c in head) or not all(c in _DIGITS for c in tail):
        return False
    return bool(head) or (bool(dot) and bool(tail))


def _float(value: int | float) -> float:
    try:
        return float(value)
    except OverflowError:  # an int beyond the float range (JSON allows it)
        return math.inf


def to_number(value: Any) -> float:
    """XPath ``number()``: NaN when the value is not a number."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        v = _float(value)
        return v if math.isfinite(v) else math.nan
    if isinstance(value, list):
        value = to_string(value)
    if isinstance(value, str):
        s = value.strip(_XPATH_SPACE)
        if not _is_number_text(s):
            return math.nan
        v = float(s)
        return v if math.isfinite(v) else math.nan
    return math.nan


def number_to_string(x: float) -> str:
    """ECMAScript ``Number.prototype.toString()`` for finite numbers, so Python and JS agree."""
    if x == 0:
        return "0"
    if x < 0:
        return "-" + number_to_string(-x)
    d = Decimal(repr(x))
    sign, digits, exp = d.as_tuple()
    ds = "".join(str(c) for c in digits).rstrip("0") or "0"
    # value = 0.ds * 10**n  with k = len(ds)
    k = len(ds)
    n = exp + len(digits)
    if k <= n <= 21:
        return ds + "0" * (n - k)
    if 0 < n <= 21:
        return ds[:n] + "." + ds[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + ds
    e = n - 1
    es = ("+" if e >= 0 else "-") + str(abs(e))
    if k == 1:
        return ds + "e" + es
    return ds[0] + "." + ds[1:] + "e" + es


def to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        v = _float(value)
        return number_to_string(v) if math.isfinite(v) else ""
    if isinstance(value, list):
        return " ".join(to_string(v) for v in value)
    if isinstance(value, str):
        return value
    return ""


def to_boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        v = _float(value)
        return v == v and v != 0
    if isinstance(value, (str, list)):
        return len(value) > 0
    return False


def is_empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, list) and len(value) == 0)


def _is_date_text(s: Any) -> bool:
    if not isinstance(s, str) or len(s) != 10 or s[4] != "-" or s[7] != "-":
        return False
    return all(s[i] in _DIGITS for i in (0, 1, 2, 3, 5, 6, 8, 9))


def _tokens(value: Any) -> list[str]:
    if isinstance(value, list):
        return [to_string(v) for v in value]
    s = to_string(value)
    out: list[str] = []
    word = ""
    for c in s:
        if c in _XPATH_SPACE:
            if word:
                out.append(word)
            word = ""
        else:
            word += c
    if word:
        out.append(word)
    return out


def _normalise(value: Any) -> Any:
    """An answer as the evaluator sees it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        v = _float(value)
        if not math.isfinite(v):
            return ""
        return 0.0 if v == 0 else v
    if isinstance(value, (list, tuple)):
        return [to_string(_normalise(v)) for v in value]
    if isinstance(value, str):
        return value
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()[:10]
    return ""


def _number_result(v: float) -> Any:
    if not math.isfinite(v):
        return ""
    return 0.0 if v == 0 else v


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return to_boolean(a) == to_boolean(b)
    if isinstance(a, float) or isinstance(b, float):
        x, y = to_number(a), to_number(b)
        return x == y  # NaN never equal
    return to_string(a) == to_string(b)


def _relational(op: str, a: Any, b: Any) -> bool:
    if is_empty(a) or is_empty(b):
        return False
    if _is_date_text(a) and _is_date_text(b):
        x: Any = a
        y: Any = b
    else:
        x, y = to_number(a), to_number(b)
        if x != x or y != y:
            return False
    if op == "<":
        return x < y
    if op == "<=":
        return x <= y
    if op == ">":
        return x > y
    return x >= y


def _arith(op: str, a: Any, b: Any) -> Any:
    x, y = to_number(a), to_number(b)
    if x != x or y != y:
        return ""
    if op == "+":
        return _number_result(x + y)
    if op == "-":
        return _number_result(x - y)
    if op == "*":
        return _number_result(x * y)
    if y == 0:
        return ""
    if op == "div":
        return _number_result(x / y)
    return _number_result(math.fmod(x, y))


def _today(context: Mapping[str, Any]) -> str:
    today = context.get("today")
    if isinstance(today, (_dt.date, _dt.datetime)):
        return today.isoformat()[:10]
    if isinstance(today, str) and today:
        return today
    return _dt.date.today().isoformat()


class _Evaluator:
    def __init__(self, answers: Mapping[str, Any], context: Mapping[str, Any]):
        self.answers = answers
        self.context = context

    def run(self, node: Node) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Ref):
            return _normalise(self.answers.get(node.name))
        if isinstance(node, Current):
            return _normalise(self.context.get("current"))
        if isinstance(node, Unary):
            v = to_number(self.run(node.operand))
            return "" if v != v else _number_result(-v)
        if isinstance(node, Binary):
            op = node.op
            if op == "and":
                return to_boolean(self.run(node.left)) and to_boolean(self.run(node.right))
            if op == "or":
                return to_boolean(self.run(node.left)) or to_boolean(self.run(node.right))
            a = self.run(node.left)
            b = self.run(node.right)
            if op == "=":
                return _equal(a, b)
            if op == "!=":
                return not _equal(a, b)
            if op in ("<", "<=", ">", ">="):
                return _relational(op, a, b)
            return _arith(op, a, b)
        return self.call(node)

    def call(self, node: Call) -> Any:
        name = node.name
        args = node.args
        if name == "if":
            chosen = args[1] if to_boolean(self.run(args[0])) else args[2]
            return self.run(chosen)
        if name == "selected":
            return to_string(self.run(args[1])) in _tokens(self.run(args[0]))
        if name == "count-selected":
            return float(len(_tokens(self.run(args[0]))))
        if name == "string-length":
            return float(len(to_string(self.run(args[0]))))
        if name == "today":
            return _today(self.context)
        if name == "not":
            return not to_boolean(self.run(args[0]))
        if name == "true":
            return True
        return False  # false()


def evaluate(ast: Node, answers: Mapping[str, Any] | None = None,
             context: Mapping[str, Any] | None = None) -> Any:
    """Evaluate a parsed expression.

    ``answers`` maps question names to values (strings, numbers, lists of codes, or
    ``None``/missing for unanswered).  ``context`` may hold ``today`` (an ISO date string or
    a ``date``) and ``current`` (the value ``.`` stands for in a constraint).  The result is a
    ``str``, a finite ``float``, a ``bool`` or a ``list``.
    """
    return _Evaluator(answers or {}, context or {}).run(ast)


def evaluate_boolean(ast: Node, answers: Mapping[str, Any] | None = None,
                     context: Mapping[str, Any] | None = None) -> bool:
    return to_boolean(evaluate(ast, answers, context))


def to_json_value(value: Any) -> Any:
    """A result as it is stored: integral floats become ``int``."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
