"""R-style model formulas: ``y ~ x1 + factor(x2) + I(x3^2) + a:b``, named as R names them.

A small parser and model-matrix builder, enough for design-based regression
(:mod:`analysis.glm`) to report coefficients under the names R's ``model.matrix``
gives them (``(Intercept)``, ``x1``, ``factor(x2)B``, ``stypeH``, ``I(x3^2)``,
``aB:bQ``). patsy and formulaic name terms their own way (``C(x2)[T.B]``), so neither
would do.

Supported on the right-hand side: terms joined by ``+``; ``-`` removes terms; ``1``,
``0``, ``-1`` and ``+0`` set the intercept; ``a:b`` interactions, ``a*b`` (``a + b +
a:b``), ``a/b`` (``a + a:b``), ``(a + b)^k``; a variable is a column name (dots allowed;
non-syntactic names in backquotes), ``factor(x)``, ``I(expression)`` with arithmetic
(``+ - * / ^ %% %/%``), comparisons and ``& | !``, and the functions ``log``, ``log2``,
``log10``, ``log1p``, ``exp``, ``expm1``, ``sqrt``, ``abs``, ``as.numeric``.

R's rules are followed exactly where they decide names and columns:

- terms are ordered by their degree (main effects, then two-way interactions...), in
  order of appearance otherwise; within a term, variables are in order of their first
  appearance in the formula (``y ~ b + a + a:b`` has the term ``b:a``);
- labels are R's ``deparse`` of the expression: ``I(x ^ 2)`` becomes ``I(x^2)``,
  ``I(x*2)`` becomes ``I(x * 2)``;
- a categorical variable (text column, ``factor()``, or a logical expression) is coded
  by treatment contrasts against its first level (levels in code-point order, numbers
  numerically), unless the term without it is absent from the earlier terms, in which
  case it gets one indicator per level; without an intercept, the first categorical
  variable of the first term that has one is coded by indicators (R's ``TermCode``);
- columns of an interaction vary fastest in its first variable.

References
----------
Chambers, J. M. and Hastie, T. J. (1992). *Statistical Models in S*, ch. 2 (formulas
and model frames). Wadsworth.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._data import factorize, is_missing, is_numeric
from .errors import DataError

__all__ = ["Formula", "ModelFrame", "FormulaError", "parse_formula", "model_frame",
           "deparse"]


class FormulaError(DataError):
    """The formula cannot be parsed or uses something this parser does not support."""


# ---------------------------------------------------------------------------- tokens
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?L?)
  | (?P<name>(?:[A-Za-z]|\.(?![0-9]))[A-Za-z0-9._]*|\.)
  | (?P<bq>`[^`]+`)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<op>%[^%]*%|==|!=|<=|>=|&&|\|\||[-+*/^:~()<>,!&|])
    """,
    re.VERBOSE,
)


def _tokenize(text: str) -> list[tuple[str, str]]:
    out = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise FormulaError(f"cannot read the formula at {text[pos:]!r}")
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        value = m.group()
        if kind == "bq":
            kind, value = "name", value[1:-1]
        out.append((kind, value))
    out.append(("end", ""))
    return out


# ---------------------------------------------------------------------------- parser
# nodes are tuples: ("name", s) ("num", float) ("str", s) ("call", f, args)
# ("bin", op, left, right) ("un", op, x) ("paren", x)

_BINARY = [  # lowest precedence first (R's ?Syntax)
    ({"~"}, "left"),
    ({"|", "||"}, "left"),
    ({"&", "&&"}, "left"),
    (None, "not"),  # unary !
    ({"==", "!=", "<", ">", "<=", ">="}, "left"),
    ({"+", "-"}, "left"),
    ({"*", "/"}, "left"),
    ("%", "left"),  # %any%
    ({":"}, "left"),
    (None, "unary"),  # unary + -
    ({"^"}, "right"),
]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.toks[self.i]

    def take(self) -> tuple[str, str]:
        t = self.toks[self.i]
        self.i += 1
        return t

    def expect(self, value: str) -> None:
        kind, v = self.take()
        if v != value or kind != "op":
            raise FormulaError(f"expected {value!r} in formula {self.text!r}, found {v!r}")

    def parse(self) -> Any:
        node = self.expr(0)
        if self.peek()[0] != "end":
            raise FormulaError(f"unexpected {self.peek()[1]!r} in formula {self.text!r}")
        return node

    def _is_op(self, level: int, tok: tuple[str, str]) -> bool:
        ops = _BINARY[level][0]
        kind, v = tok
        if kind != "op":
            return False
        if ops == "%":
            return v.startswith("%")
        return ops is not None and v in ops

    def expr(self, level: int) -> Any:
        if level >= len(_BINARY):
            return self.postfix()
        ops, assoc = _BINARY[level]
        if assoc == "not":
            if self.peek() == ("op", "!"):
                self.take()
                return ("un", "!", self.expr(level))
            return self.expr(level + 1)
        if assoc == "unary":
            if self.peek() in (("op", "-"), ("op", "+")):
                op = self.take()[1]
                return ("un", op, self.expr(level))
            return self.expr(level + 1)
        if level == 0 and self.peek() == ("op", "~"):  # one-sided formula
            self.take()
            return ("bin", "~", None, self.expr(1))
        left = self.expr(level + 1)
        if assoc == "right":
            if self._is_op(level, self.peek()):
                op = self.take()[1]
                # R: the exponent may carry a unary minus (x^-1)
                right = self.expr(level - 1) if self.peek() in (("op", "-"), ("op", "+")) \
                    else self.expr(level)
                return ("bin", op, left, right)
            return left
        while self._is_op(level, self.peek()):
            op = self.take()[1]
            right = self.expr(level + 1)
            left = ("bin", op, left, right)
        return left

    def postfix(self) -> Any:
        kind, v = self.take()
        if kind == "num":
            return ("num", float(v.rstrip("L")))
        if kind == "str":
            return ("str", bytes(v[1:-1], "utf-8").decode("unicode_escape"))
        if kind == "name":
            if self.peek() == ("op", "("):
                self.take()
                args = []
                if self.peek() != ("op", ")"):
                    args.append(self.expr(1))
                    while self.peek() == ("op", ","):
                        self.take()
                        args.append(self.expr(1))
                self.expect(")")
                return ("call", v, tuple(args))
            return ("name", v)
        if (kind, v) == ("op", "("):
            inner = self.expr(1)
            self.expect(")")
            return ("paren", inner)
        if kind == "end":
            raise FormulaError(f"the formula ends too early: {self.text!r}")
        raise FormulaError(f"unexpected {v!r} in formula {self.text!r}")


# ---------------------------------------------------------------------------- deparse
_SYNTACTIC = re.compile(r"^((?:[A-Za-z]|\.(?![0-9]))[A-Za-z0-9._]*|\.)$")
_RESERVED = {"if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE",
             "FALSE", "NULL", "Inf", "NaN", "NA", "in"}


def _r_number(x: float) -> str:
    """A number as R's deparse writes it (15 significant digits, fixed or scientific
    notation, whichever is narrower; fixed on a tie)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    if x == 0:
        return "0"
    target = float(f"{x:.15g}")
    for d in range(1, 16):
        if float(f"{x:.{d - 1}e}") == target:
            break
    mant, exp = f"{x:.{d - 1}e}".split("e")
    e = int(exp)
    sci = f"{mant}e{'-' if e < 0 else '+'}{abs(e):02d}"
    decimals = max(0, d - 1 - e)
    fixed = f"{x:.{decimals}f}"
    return fixed if len(fixed) <= len(sci) else sci


def _name(s: str) -> str:
    return s if _SYNTACTIC.match(s) and s not in _RESERVED else f"`{s}`"


def deparse(node: Any) -> str:
    """R's ``deparse`` of an expression node (spacing as R 4 prints it)."""
    tag = node[0]
    if tag == "name":
        return _name(node[1])
    if tag == "num":
        return _r_number(node[1])
    if tag == "str":
        return '"' + node[1].replace("\\", "\\\\").replace('"', '\\"') + '"'
    if tag == "paren":
        return f"({deparse(node[1])})"
    if tag == "call":
        return f"{_name(node[1])}({', '.join(deparse(a) for a in node[2])})"
    if tag == "un":
        return f"{node[1]}{deparse(node[2])}"
    op, left, right = node[1], node[2], node[3]
    if left is None:
        return f"~{deparse(right)}"
    if op in ("^", ":", "/", "%%", "%/%"):
        return f"{deparse(left)}{op}{deparse(right)}"
    return f"{deparse(left)} {op} {deparse(right)}"


# ---------------------------------------------------------------------------- terms
@dataclass(frozen=True)
class Formula:
    """A parsed formula.

    Attributes
    ----------
    text : str
    response : node or None
        The left-hand side expression.
    variables : tuple of node
        The variables of the right-hand side, in order of first appearance.
    labels : tuple of str
        R's label of each variable (``factor(x2)``, ``I(x^2)``).
    terms : tuple of tuple of int
        Each term as the indices of its variables (sorted), ordered as R orders them.
    intercept : bool
    """

    text: str
    response: Any
    variables: tuple
    labels: tuple[str, ...]
    terms: tuple[tuple[int, ...], ...]
    intercept: bool

    @property
    def term_labels(self) -> tuple[str, ...]:
        """R's ``attr(terms(formula), "term.labels")``."""
        return tuple(":".join(self.labels[v] for v in t) for t in self.terms)

    @property
    def response_label(self) -> str | None:
        return None if self.response is None else deparse(self.response)


class _Terms:
    """Expansion of the right-hand side into terms (sets of variables)."""

    def __init__(self) -> None:
        self.labels: list[str] = []
        self.nodes: list[Any] = []

    def var(self, node: Any) -> int:
        label = deparse(node)
        if label not in self.labels:
            self.labels.append(label)
            self.nodes.append(node)
        return self.labels.index(label)

    def expand(self, node: Any) -> tuple[list[frozenset], bool | None]:
        """(terms, intercept): intercept True/False when set explicitly, else None."""
        tag = node[0]
        if tag == "num":
            if node[1] == 1:
                return [], True
            if node[1] == 0:
                return [], False
            raise FormulaError(f"a number ({_r_number(node[1])}) cannot be a term")
        if tag == "paren":
            return self.expand(node[1])
        if tag == "un" and node[1] in ("-", "+"):
            terms, icpt = self.expand(node[2])
            if node[1] == "+":
                return terms, icpt
            # "-1" drops the intercept; removing terms from nothing leaves nothing
            return [], None if icpt is None else not icpt
        if tag == "bin":
            op, a, b = node[1], node[2], node[3]
            if op == "+":
                ta, ia = self.expand(a)
                tb, ib = self.expand(b)
                return _union(ta, tb), ib if ib is not None else ia
            if op == "-":
                ta, ia = self.expand(a)
                tb, ib = self.expand(b)
                icpt = ia
                if ib is not None:
                    icpt = not ib
                return [t for t in ta if t not in tb], icpt
            if op == ":" or op == "%in%":
                ta, _ = self.expand(a)
                tb, _ = self.expand(b)
                return _union([], [x | y for x in ta for y in tb]), None
            if op == "*":
                ta, _ = self.expand(a)
                tb, _ = self.expand(b)
                return _union(_union(ta, tb), [x | y for x in ta for y in tb]), None
            if op == "/":
                ta, _ = self.expand(a)
                tb, _ = self.expand(b)
                whole = frozenset().union(*ta) if ta else frozenset()
                return _union(ta, [whole | y for y in tb]), None
            if op == "^":
                if b[0] != "num" or b[1] < 1 or b[1] != int(b[1]):
                    raise FormulaError("the power of terms must be a positive whole number")
                ta, _ = self.expand(a)
                out = list(ta)
                for _ in range(int(b[1]) - 1):
                    out = _union(out, [x | y for x in out for y in ta])
                return out, None
            if op == "~":
                raise FormulaError("a formula has a single '~'")
            raise FormulaError(
                f"operator {op!r} outside I(): wrap arithmetic in I(), e.g. I(a {op} b)"
            )
        if tag == "name" and node[1] == ".":
            raise FormulaError("'.' (all other columns) is not supported; name the columns")
        if tag in ("name", "call"):
            return [frozenset([self.var(node)])], None
        if tag == "un":
            raise FormulaError(f"operator {node[1]!r} outside I(): write I({deparse(node)})")
        raise FormulaError(f"{deparse(node)!r} cannot be a term")


def _union(a: list[frozenset], b: list[frozenset]) -> list[frozenset]:
    out = list(a)
    for t in b:
        if t not in out:
            out.append(t)
    return out


def _collect_vars(node: Any, t: _Terms) -> None:
    """Register the variables of the right-hand side in order of appearance."""
    tag = node[0]
    if tag in ("name", "call"):
        if not (tag == "name" and node[1] == "."):
            t.var(node)
    elif tag == "paren" or tag == "un":
        _collect_vars(node[-1], t)
    elif tag == "bin":
        if node[1] == "^":
            _collect_vars(node[2], t)
        else:
            for side in node[2:]:
                if side is not None:
                    _collect_vars(side, t)


def parse_formula(text: str) -> Formula:
    """Parse an R model formula.

    Raises
    ------
    FormulaError
        With the reason (syntax, an unsupported operator).
    """
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("empty formula")
    node = _Parser(text).parse()
    if node[0] != "bin" or node[1] != "~":
        raise FormulaError(f"a formula needs '~': {text!r}")
    response, rhs = node[2], node[3]
    t = _Terms()
    _collect_vars(rhs, t)
    terms, icpt = t.expand(rhs)
    terms = [tt for tt in terms if tt]
    # R keeps the order of appearance within each degree
    order = sorted(range(len(terms)), key=lambda k: (len(terms[k]), k))
    sorted_terms = tuple(tuple(sorted(terms[k])) for k in order)
    return Formula(
        text=text,
        response=response,
        variables=tuple(t.nodes),
        labels=tuple(t.labels),
        terms=sorted_terms,
        intercept=True if icpt is None else bool(icpt),
    )


# ---------------------------------------------------------------------------- values
@dataclass
class _Value:
    """An evaluated expression: numeric (``num``), categorical (``codes``/``levels``),
    logical (``logic`` with missing mask) or a text constant (``text``)."""

    num: np.ndarray | None = None
    codes: np.ndarray | None = None
    levels: list[str] | None = None
    logic: np.ndarray | None = None
    missing: np.ndarray | None = None
    text: str | None = None

    @property
    def kind(self) -> str:
        if self.text is not None:
            return "text"
        if self.num is not None:
            return "num"
        if self.logic is not None:
            return "logical"
        return "cat"


def _r_label(v: Any) -> str:
    """A factor level as R's ``as.character`` writes it (15 significant digits)."""
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if f.is_integer() and abs(f) < 1e15:
            return str(int(f))
        return _r_number(f)
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return str(v)


def _as_cat(val: _Value, where: str) -> _Value:
    if val.kind == "cat":
        return val
    if val.kind == "logical":
        codes = np.where(val.missing, -1, val.logic.astype(np.int64))
        present = sorted(set(codes[codes >= 0].tolist()))
        remap = {c: i for i, c in enumerate(present)}
        new = np.array([remap.get(c, -1) for c in codes.tolist()], dtype=np.int64)
        return _Value(codes=new, levels=[["FALSE", "TRUE"][c] for c in present])
    if val.kind == "num":
        x = val.num
        codes, labels = factorize(x, np.isnan(x))
        return _Value(codes=codes, levels=[_r_label(v) for v in labels])
    raise FormulaError(f"{where}: a text constant cannot be a factor")


def _as_num(val: _Value, where: str) -> np.ndarray:
    if val.kind == "num":
        return val.num
    if val.kind == "logical":
        return np.where(val.missing, np.nan, val.logic.astype(float))
    raise FormulaError(f"{where}: arithmetic needs numbers; it is categorical")


_FUNCS = {
    "log": np.log, "log2": np.log2, "log10": np.log10, "log1p": np.log1p, "exp": np.exp,
    "expm1": np.expm1, "sqrt": np.sqrt, "abs": np.abs,
}


def _eval(node: Any, data: Any, n: int) -> _Value:
    tag = node[0]
    if tag == "name":
        name = node[1]
        if name in ("TRUE", "FALSE"):
            return _Value(logic=np.full(n, name == "TRUE"), missing=np.zeros(n, bool))
        if name not in data:
            raise DataError(f"unknown column {name!r} in the formula")
        values = np.asarray(data[name])
        miss = is_missing(values)
        if is_numeric(values):
            if values.dtype.kind == "b":
                return _Value(logic=values.astype(bool), missing=miss)
            return _Value(num=values.astype(float))
        codes, labels = factorize(values, miss)
        return _Value(codes=codes, levels=[_r_label(v) for v in labels])
    if tag == "num":
        return _Value(num=np.full(n, node[1]))
    if tag == "str":
        return _Value(text=node[1])
    if tag == "paren":
        return _eval(node[1], data, n)
    if tag == "call":
        fname, args = node[1], node[2]
        if len(args) != 1:
            raise FormulaError(f"{fname}() with {len(args)} arguments is not supported")
        inner = _eval(args[0], data, n)
        if fname == "I":
            return inner
        if fname in ("factor", "as.factor"):
            return _as_cat(inner, deparse(node))
        if fname == "as.numeric":
            if inner.kind == "cat":
                return _Value(num=np.where(inner.codes < 0, np.nan, inner.codes + 1.0))
            return _Value(num=_as_num(inner, deparse(node)))
        if fname in _FUNCS:
            with np.errstate(all="ignore"):
                return _Value(num=_FUNCS[fname](_as_num(inner, deparse(node))))
        raise FormulaError(f"function {fname}() is not supported in formulas")
    if tag == "un":
        op, inner = node[1], _eval(node[2], data, n)
        if op == "!":
            if inner.kind != "logical":
                raise FormulaError(f"{deparse(node)}: '!' needs a logical expression")
            return _Value(logic=~inner.logic, missing=inner.missing)
        x = _as_num(inner, deparse(node))
        return _Value(num=-x if op == "-" else x)
    op = node[1]
    if op == "~":
        raise FormulaError("a formula has a single '~'")
    a, b = _eval(node[2], data, n), _eval(node[3], data, n)
    where = deparse(node)
    if op in ("==", "!=", "<", ">", "<=", ">="):
        return _compare(op, a, b, where)
    if op in ("&", "&&", "|", "||"):
        if a.kind != "logical" or b.kind != "logical":
            raise FormulaError(f"{where}: '{op}' needs logical expressions")
        val = (a.logic & b.logic) if op in ("&", "&&") else (a.logic | b.logic)
        return _Value(logic=val, missing=a.missing | b.missing)
    x, y = _as_num(a, where), _as_num(b, where)
    with np.errstate(all="ignore"):
        if op == "+":
            r = x + y
        elif op == "-":
            r = x - y
        elif op == "*":
            r = x * y
        elif op == "/":
            r = x / y
        elif op == "^":
            r = np.power(x, y)
        elif op == "%%":
            r = np.mod(x, y)
        elif op == "%/%":
            r = np.floor_divide(x, y)
        else:
            raise FormulaError(f"operator {op!r} is not supported in I()")
    return _Value(num=r)


def _compare(op: str, a: _Value, b: _Value, where: str) -> _Value:
    import operator

    fn = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, ">": operator.gt,
          "<=": operator.le, ">=": operator.ge}[op]
    if a.kind == "text" and b.kind == "text":
        raise FormulaError(f"{where}: compares two constants")
    if a.kind == "text" or b.kind == "text":
        text, other = (a.text, b) if a.kind == "text" else (b.text, a)
        if other.kind == "cat":
            labels = np.array(other.levels + [""], dtype=object)
            vals = labels[other.codes]
            miss = other.codes < 0
            res = np.array([fn(v, text) if a.kind != "text" else fn(text, v) for v in vals],
                           dtype=bool)
            return _Value(logic=res & ~miss, missing=miss)
        raise FormulaError(f"{where}: compares a number with text")
    if a.kind == "cat" or b.kind == "cat":
        raise FormulaError(f"{where}: compare a categorical variable with a quoted value")
    x, y = _as_num(a, where), _as_num(b, where)
    miss = np.isnan(x) | np.isnan(y)
    with np.errstate(invalid="ignore"):
        res = fn(x, y)
    return _Value(logic=np.asarray(res & ~miss, dtype=bool), missing=miss)


def _missing_of(val: _Value) -> np.ndarray:
    if val.kind == "num":
        return np.isnan(val.num)
    if val.kind == "logical":
        return val.missing
    if val.kind == "cat":
        return val.codes < 0
    raise FormulaError("a text constant is not a variable")


# ---------------------------------------------------------------------------- frame
@dataclass(frozen=True)
class ModelFrame:
    """The model matrix and response of a formula on the rows it uses.

    Attributes
    ----------
    X : (n_used, p) float
        R's ``model.matrix``.
    columns : tuple of str
        Its column names, as R names them.
    y : (n_used,) float or None
        The response (a logical response as 0/1); for a categorical response see
        ``y_levels``.
    y_codes, y_levels
        A categorical response: codes (0 = first level) and its levels.
    rows : (n,) bool
        Rows used: selected, and no model variable missing (R's ``na.omit``).
    response : str or None
        The response's label.
    """

    X: np.ndarray
    columns: tuple[str, ...]
    y: np.ndarray | None
    y_codes: np.ndarray | None
    y_levels: tuple[str, ...] | None
    rows: np.ndarray
    response: str | None


def model_frame(formula: Formula | str, data: Any, rows: np.ndarray | None = None) -> ModelFrame:
    """Evaluate ``formula`` on ``data`` and build R's model matrix.

    Parameters
    ----------
    formula : Formula or str
    data : mapping of column name to array (DataFrame, dict, :class:`analysis.io.Table`)
    rows : (n,) bool, optional
        Rows to consider (R: the rows of the design); others are left out.

    Raises
    ------
    FormulaError, DataError
        Unknown columns, unsupported expressions, a factor with a single level, no
        complete rows.
    """
    if isinstance(formula, str):
        formula = parse_formula(formula)
    n = _n_rows(data)
    if rows is None:
        rows = np.ones(n, dtype=bool)
    values = [_eval(v, data, n) for v in formula.variables]
    used = rows.copy()
    for lab, val in zip(formula.labels, values, strict=True):
        if val.kind == "text":
            raise FormulaError(f"{lab} is a constant, not a variable")
        used &= ~_missing_of(val)
    yval = None
    if formula.response is not None:
        yval = _eval(formula.response, data, n)
        if yval.kind == "text":
            raise FormulaError("the response is a constant")
        used &= ~_missing_of(yval)
    if not used.any():
        raise DataError("no rows without missing values in the model variables")
    idx = np.flatnonzero(used)
    m = len(idx)

    # categorical variables: levels present among the rows used (drop.unused.levels)
    coded: list[Any] = []
    for val in values:
        if val.kind == "num":
            x = val.num[idx]
            if not np.all(np.isfinite(x)):
                raise DataError("infinite values in the model variables (NA/NaN/Inf in 'x')")
            coded.append(("num", x, None))
        elif val.kind == "logical":
            # R codes a logical variable as a factor with levels FALSE, TRUE
            coded.append(("cat", val.logic[idx].astype(np.int64), ["FALSE", "TRUE"]))
        else:
            c = val.codes[idx]
            present = np.flatnonzero(np.bincount(c, minlength=len(val.levels)))
            remap = np.full(len(val.levels), -1, dtype=np.int64)
            remap[present] = np.arange(len(present))
            coded.append(("cat", remap[c], [val.levels[k] for k in present]))

    codes = _term_codes(formula, [c[0] == "cat" for c in coded])
    cols: list[np.ndarray] = []
    names: list[str] = []
    if formula.intercept:
        cols.append(np.ones(m))
        names.append("(Intercept)")
    for term, tcode in zip(formula.terms, codes, strict=True):
        tcols: list[np.ndarray] = [np.ones(m)]
        tnames: list[str] = [""]
        for v, code in zip(term, tcode, strict=True):
            kind, x, levels = coded[v]
            label = formula.labels[v]
            if kind == "num":
                vcols, vnames = [x], [label]
            else:
                if code == 1 and len(levels) < 2:
                    raise DataError(
                        f"{label} has a single level ({levels[0] if levels else 'none'}) "
                        "among the rows used: contrasts can be applied only to factors "
                        "with 2 or more levels"
                    )
                start = 1 if code == 1 else 0
                vcols = [(x == k).astype(float) for k in range(start, len(levels))]
                vnames = [label + levels[k] for k in range(start, len(levels))]
            # earlier variables vary fastest
            tcols = [a * b for b in vcols for a in tcols]
            tnames = [(f"{a}:{b}" if a else b) for b in vnames for a in tnames]
        cols.extend(tcols)
        names.extend(tnames)
    X = np.column_stack(cols) if cols else np.zeros((m, 0))

    y = y_codes = y_levels = None
    if yval is not None:
        if yval.kind == "cat":
            c = yval.codes[idx]
            present = np.flatnonzero(np.bincount(c, minlength=len(yval.levels)))
            remap = np.full(len(yval.levels), -1, dtype=np.int64)
            remap[present] = np.arange(len(present))
            y_codes = remap[c]
            y_levels = tuple(yval.levels[k] for k in present)
        else:
            y = _as_num(yval, formula.response_label or "response")[idx]
            if not np.all(np.isfinite(y)):
                raise DataError("infinite values in the response")
    return ModelFrame(X=X, columns=tuple(names), y=y, y_codes=y_codes, y_levels=y_levels,
                      rows=used, response=formula.response_label)


def _n_rows(data: Any) -> int:
    if isinstance(data, dict):
        return len(next(iter(data.values()))) if data else 0
    return len(data)


def _term_codes(formula: Formula, is_cat: list[bool]) -> list[list[int]]:
    """R's TermCode: 1 = contrasts, 2 = one indicator per level, per term variable."""
    out = []
    seen: list[frozenset] = []
    for term in formula.terms:
        tcode = []
        for v in term:
            rest = frozenset(term) - {v}
            tcode.append(1 if not rest or rest in seen else 2)
        out.append(tcode)
        seen.append(frozenset(term))
    if not formula.intercept:
        for t, term in enumerate(formula.terms):
            hit = [k for k, v in enumerate(term) if is_cat[v]]
            if hit:
                out[t][hit[0]] = 2
                break
    return out
