"""Tokenizer and recursive-descent parser for the expression language (never runs code).

The JavaScript twin in ``surveyapp/static/js/expressions.js`` mirrors this module line by
line: same tokens, same limits, same error codes, offsets and English messages.  Offsets
count Unicode code points from 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_LENGTH = 2000
MAX_DEPTH = 64

# name -> number of arguments
FUNCTIONS: dict[str, int] = {
    "selected": 2,
    "count-selected": 1,
    "if": 3,
    "string-length": 1,
    "today": 0,
    "not": 1,
    "true": 0,
    "false": 0,
}

WHITESPACE = " \t\r\n"
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"
REF_START = _LETTERS + "_"
REF_CHARS = _LETTERS + _DIGITS + "_.-"
NAME_START = _LETTERS + "_"
NAME_CHARS = _LETTERS + _DIGITS + "_-"


class ExpressionError(ValueError):
    """A malformed expression: ``code``, ``offset`` (code points from 0) and a message."""

    def __init__(self, code: str, offset: int, message: str, params: dict | None = None):
        super().__init__(message)
        self.code = code
        self.offset = offset
        self.message = message
        self.params = dict(params or {})

    @property
    def message_vi(self) -> str:
        return _vietnamese(self.code, self.offset, self.params)

    def to_dict(self) -> dict:
        return {"code": self.code, "offset": self.offset, "message": self.message}


def _show_char(ch: str) -> str:
    cp = ord(ch)
    if cp < 0x21 or 0x7F <= cp <= 0xA0:
        return f"U+{cp:04X}"
    return "'" + ch + "'"


_VI = {
    "empty": "Biểu thức trống",
    "too_long": "Biểu thức quá dài ({length} ký tự; tối đa {limit})",
    "unexpected_char": "Ký tự không hợp lệ {char}",
    "unterminated_string": "Chuỗi chưa được đóng bằng dấu nháy",
    "unterminated_ref": "Tham chiếu '${{' chưa được đóng bằng '}}'",
    "bad_ref_name": "Tên câu hỏi không hợp lệ '{name}' trong tham chiếu",
    "unexpected_token": "Không mong đợi {token}",
    "unexpected_end": "Biểu thức kết thúc đột ngột",
    "unknown_function": "Hàm không được hỗ trợ '{name}'",
    "wrong_arity": "Hàm '{name}' cần {expected} đối số nhưng có {got}",
    "too_deep": "Biểu thức lồng nhau quá sâu (quá {limit} cấp)",
}


def _vietnamese(code: str, offset: int, params: dict) -> str:
    return _VI[code].format(**params) + f" tại vị trí {offset}"


def _error(code: str, offset: int, text: str, **params) -> ExpressionError:
    return ExpressionError(code, offset, f"{text} at offset {offset}", params)


# --------------------------------------------------------------------------- AST


@dataclass(frozen=True)
class Literal:
    value: str | float
    offset: int
    depth: int = 1


@dataclass(frozen=True)
class Ref:
    name: str
    offset: int
    depth: int = 1


@dataclass(frozen=True)
class Current:
    offset: int
    depth: int = 1


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node
    offset: int
    depth: int = 1


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node
    offset: int
    depth: int = 1


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]
    offset: int
    depth: int = 1


Node = Literal | Ref | Current | Unary | Binary | Call


def walk(node: Node):
    """Yield every node of the tree, parents before children."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, Unary):
            stack.append(current.operand)
        elif isinstance(current, Binary):
            stack.extend((current.right, current.left))
        elif isinstance(current, Call):
            stack.extend(reversed(current.args))


def references(node: Node) -> list[str]:
    """Names referenced as ``${name}``, in order of first appearance."""
    seen: list[str] = []
    for n in walk(node):
        if isinstance(n, Ref) and n.name not in seen:
            seen.append(n.name)
    return seen


def uses_current(node: Node) -> bool:
    return any(isinstance(n, Current) for n in walk(node))


# ---------------------------------------------------------------------- tokenizer


@dataclass(frozen=True)
class Token:
    kind: str  # num, str, ref, cur, name, op, eof
    text: str  # source text (for num/name/op), value for str, name for ref
    offset: int


def _describe(tok: Token) -> str:
    if tok.kind == "num":
        return "number " + tok.text
    if tok.kind == "str":
        return "string"
    if tok.kind == "ref":
        return "${" + tok.text + "}"
    if tok.kind == "cur":
        return "'.'"
    return "'" + tok.text + "'"


def tokenize(text: str) -> list[Token]:
    chars = text
    n = len(chars)
    i = 0
    tokens: list[Token] = []
    while i < n:
        ch = chars[i]
        if ch in WHITESPACE:
            i += 1
            continue
        start = i
        if ch in _DIGITS or (ch == "." and i + 1 < n and chars[i + 1] in _DIGITS):
            while i < n and chars[i] in _DIGITS:
                i += 1
            if i < n and chars[i] == ".":
                i += 1
                while i < n and chars[i] in _DIGITS:
                    i += 1
            tokens.append(Token("num", chars[start:i], start))
            continue
        if ch == ".":
            tokens.append(Token("cur", ".", start))
            i += 1
            continue
        if ch == "'" or ch == '"':
            end = chars.find(ch, i + 1)
            if end < 0:
                raise _error("unterminated_string", start, "Unterminated string")
            tokens.append(Token("str", chars[i + 1 : end], start))
            i = end + 1
            continue
        if ch == "$":
            if i + 1 >= n or chars[i + 1] != "{":
                raise _error("unexpected_char", start, "Unexpected character '$'", char="'$'")
            end = chars.find("}", i + 2)
            if end < 0:
                raise _error("unterminated_ref", start, "Unterminated reference '${'")
            name = chars[i + 2 : end]
            if not is_valid_name(name):
                raise _error("bad_ref_name", start, f"Invalid question name '{name}' in reference",
                             name=name)
            tokens.append(Token("ref", name, start))
            i = end + 1
            continue
        if ch in NAME_START:
            while i < n and chars[i] in NAME_CHARS:
                i += 1
            tokens.append(Token("name", chars[start:i], start))
            continue
        if ch in "<>!":
            if i + 1 < n and chars[i + 1] == "=":
                tokens.append(Token("op", ch + "=", start))
                i += 2
                continue
            if ch == "!":
                raise _error("unexpected_char", start, "Unexpected character '!'", char="'!'")
            tokens.append(Token("op", ch, start))
            i += 1
            continue
        if ch in "=+-*(),":
            tokens.append(Token("op", ch, start))
            i += 1
            continue
        shown = _show_char(ch)
        raise _error("unexpected_char", start, f"Unexpected character {shown}", char=shown)
    tokens.append(Token("eof", "", n))
    return tokens


def is_valid_name(name: str) -> bool:
    """Question and group names: an ASCII letter or '_', then letters, digits, '_', '.', '-'."""
    if not name or len(name) > 64 or name[0] not in REF_START:
        return False
    return all(c in REF_CHARS for c in name)


# ------------------------------------------------------------------------- parser

_EQUALITY = ("=", "!=")
_RELATIONAL = ("<", "<=", ">", ">=")
_ADDITIVE = ("+", "-")


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.pos = 0
        self.level = 0

    def peek(self) -> Token:
        return self.tokens[self.pos]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def unexpected(self, tok: Token) -> ExpressionError:
        if tok.kind == "eof":
            return _error("unexpected_end", tok.offset, "Unexpected end of expression")
        desc = _describe(tok)
        return _error("unexpected_token", tok.offset, f"Unexpected {desc}", token=desc)

    def enter(self, tok: Token) -> None:
        self.level += 1
        if self.level > MAX_DEPTH:
            raise _error("too_deep", tok.offset,
                         f"Expression nested too deeply (more than {MAX_DEPTH} levels)",
                         limit=MAX_DEPTH)

    def node(self, node: Node) -> Node:
        if node.depth > MAX_DEPTH:
            raise _error("too_deep", node.offset,
                         f"Expression nested too deeply (more than {MAX_DEPTH} levels)",
                         limit=MAX_DEPTH)
        return node

    def binary(self, op: str, left: Node, right: Node, offset: int) -> Node:
        depth = 1 + max(left.depth, right.depth)
        return self.node(Binary(op, left, right, offset, depth))

    def is_keyword(self, word: str) -> bool:
        tok = self.peek()
        return tok.kind == "name" and tok.text == word

    def parse_or(self) -> Node:
        left = self.parse_and()
        while self.is_keyword("or"):
            tok = self.advance()
            left = self.binary("or", left, self.parse_and(), tok.offset)
        return left

    def parse_and(self) -> Node:
        left = self.parse_equality()
        while self.is_keyword("and"):
            tok = self.advance()
            left = self.binary("and", left, self.parse_equality(), tok.offset)
        return left

    def parse_equality(self) -> Node:
        left = self.parse_relational()
        while self.peek().kind == "op" and self.peek().text in _EQUALITY:
            tok = self.advance()
            left = self.binary(tok.text, left, self.parse_relational(), tok.offset)
        return left

    def parse_relational(self) -> Node:
        left = self.parse_additive()
        while self.peek().kind == "op" and self.peek().text in _RELATIONAL:
            tok = self.advance()
            left = self.binary(tok.text, left, self.parse_additive(), tok.offset)
        return left

    def parse_additive(self) -> Node:
        left = self.parse_multiplicative()
        while self.peek().kind == "op" and self.peek().text in _ADDITIVE:
            tok = self.advance()
            left = self.binary(tok.text, left, self.parse_multiplicative(), tok.offset)
        return left

    def parse_multiplicative(self) -> Node:
        left = self.parse_unary()
        while True:
            tok = self.peek()
            if (tok.kind == "op" and tok.text == "*") or (
                tok.kind == "name" and tok.text in ("div", "mod")
            ):
                self.advance()
                left = self.binary(tok.text, left, self.parse_unary(), tok.offset)
            else:
                return left

    def parse_unary(self) -> Node:
        tok = self.peek()
        if tok.kind == "op" and tok.text == "-":
            self.advance()
            self.enter(tok)
            operand = self.parse_unary()
            self.level -= 1
            return self.node(Unary("-", operand, tok.offset, operand.depth + 1))
        return self.parse_primary()

    def expect(self, text: str) -> Token:
        tok = self.peek()
        if tok.kind == "op" and tok.text == text:
            return self.advance()
        raise self.unexpected(tok)

    def parse_primary(self) -> Node:
        tok = self.advance()
        if tok.kind == "num":
            value = float(tok.text)
            # a literal beyond the double range is "no number", like any overflow
            return Literal(value if math.isfinite(value) else "", tok.offset)
        if tok.kind == "str":
            return Literal(tok.text, tok.offset)
        if tok.kind == "ref":
            return Ref(tok.text, tok.offset)
        if tok.kind == "cur":
            return Current(tok.offset)
        if tok.kind == "op" and tok.text == "(":
            self.enter(tok)
            inner = self.parse_or()
            self.expect(")")
            self.level -= 1
            return inner
        if tok.kind == "name":
            nxt = self.peek()
            if nxt.kind == "op" and nxt.text == "(":
                return self.parse_call(tok)
        raise self.unexpected(tok)

    def parse_call(self, name_tok: Token) -> Node:
        name = name_tok.text
        if name not in FUNCTIONS:
            raise _error("unknown_function", name_tok.offset, f"Unknown function '{name}'",
                         name=name)
        open_tok = self.advance()
        self.enter(open_tok)
        args: list[Node] = []
        if not (self.peek().kind == "op" and self.peek().text == ")"):
            args.append(self.parse_or())
            while self.peek().kind == "op" and self.peek().text == ",":
                self.advance()
                args.append(self.parse_or())
        self.expect(")")
        self.level -= 1
        expected = FUNCTIONS[name]
        if len(args) != expected:
            raise _error(
                "wrong_arity", name_tok.offset,
                f"Function '{name}' expects {expected} argument(s) but got {len(args)}",
                name=name, expected=expected, got=len(args),
            )
        depth = 1 + max((a.depth for a in args), default=0)
        return self.node(Call(name, tuple(args), name_tok.offset, depth))


def parse_expression(text: str) -> Node:
    """Parse ``text`` into an AST, or raise :class:`ExpressionError` naming the offset."""
    if not isinstance(text, str):
        raise TypeError("expression must be a string")
    if len(text) > MAX_LENGTH:
        raise _error("too_long", MAX_LENGTH,
                     f"Expression too long ({len(text)} characters; at most {MAX_LENGTH})",
                     length=len(text), limit=MAX_LENGTH)
    if text.strip(WHITESPACE) == "":
        raise _error("empty", 0, "Empty expression")
    parser = _Parser(tokenize(text))
    tree = parser.parse_or()
    tok = parser.peek()
    if tok.kind != "eof":
        raise parser.unexpected(tok)
    return tree
