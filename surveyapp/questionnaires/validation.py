"""Checks of a questionnaire definition, with precise bilingual messages.

``validate_questionnaire(q)`` returns a list of :class:`Problem` (errors and warnings).  A
questionnaire with any error must not be fielded; warnings are shown to the analyst.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from surveyapp.expressions import (
    Binary,
    Call,
    Current,
    ExpressionError,
    Literal,
    Node,
    Ref,
    Unary,
    is_valid_name,
    parse_expression,
    references,
    walk,
)

from .model import (
    CHOICE_TYPES,
    LANGUAGES,
    QUESTION_TYPES,
    RESERVED_CODES,
    Group,
    Item,
    Question,
    Questionnaire,
)

ERROR = "error"
WARNING = "warning"
EXPRESSION_FIELDS = ("relevant", "constraint", "calculation")
MAX_CODE_LENGTH = 64


@dataclass(frozen=True)
class Problem:
    """One finding.  ``name`` is the question or group, ``field`` the attribute concerned;
    ``list_name``/``choice`` locate problems in choice lists; ``offset`` is the position in
    an expression."""

    level: str
    code: str
    message: str
    message_vi: str
    name: str | None = None
    field: str | None = None
    list_name: str | None = None
    choice: str | None = None
    offset: int | None = None

    @property
    def is_error(self) -> bool:
        return self.level == ERROR

    def text(self, language: str = "vi") -> str:
        return self.message_vi if language == "vi" else self.message

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.level == ERROR]


def warnings(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.level == WARNING]


class _Collector:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, level: str, code: str, en: str, vi: str, **where) -> None:
        self.problems.append(Problem(level, code, en, vi, **where))


# ------------------------------------------------------------------ static types

def _static_type(question: Question) -> str:
    return {
        "select_one": "code", "likert": "code", "select_multiple": "codes",
        "rating": "number", "integer": "number", "decimal": "number",
        "text": "text", "long_text": "text", "agency": "text", "procedure": "text",
        "date": "date", "calculate": "any", "note": "none",
    }.get(question.type, "any")


def _allowed_codes(q: Questionnaire, question: Question) -> set[str] | None:
    cl = q.choice_list(question.list_name)
    if cl is None:
        return None
    codes = set(cl.codes())
    if question.allow_na:
        codes.add("na")
    if question.allow_dk:
        codes.add("dk")
    return codes


def _literal_code(node: Node) -> str | None:
    if isinstance(node, Literal):
        if isinstance(node.value, str):
            return node.value
        if float(node.value).is_integer():
            return str(int(node.value))
        return str(node.value)
    return None


def _operand_question(node: Node, questions: dict[str, Question],
                      own: Question | None) -> Question | None:
    if isinstance(node, Ref):
        return questions.get(node.name)
    if isinstance(node, Current):
        return own
    return None


_ARITH = ("+", "-", "*", "div", "mod")
_REL = ("<", "<=", ">", ">=")


def _check_types(ast: Node, q: Questionnaire, questions: dict[str, Question],
                 own: Question | None, where: dict, out: _Collector, field_name: str) -> None:
    def report(level: str, code: str, node: Node, en: str, vi: str) -> None:
        out.add(level, code, f"{field_name}: {en} (offset {node.offset})",
                f"{field_name}: {vi} (vị trí {node.offset})", offset=node.offset, **where)

    for node in walk(ast):
        if isinstance(node, Call) and node.name in ("selected", "count-selected"):
            target = _operand_question(node.args[0], questions, own)
            if target is None:
                continue
            fn = node.name
            if target.type == "select_multiple":
                pass
            elif fn == "selected" and target.type in ("select_one", "likert"):
                report(WARNING, "selected_on_single", node,
                       f"selected() on single-choice question '{target.name}'; "
                       f"prefer ${{{target.name}}} = 'code'",
                       f"selected() dùng cho câu hỏi chọn một '{target.name}'; "
                       f"nên viết ${{{target.name}}} = 'mã'")
            else:
                report(ERROR, "type_error", node,
                       f"{fn}() needs a multiple-choice question, but '{target.name}' is "
                       f"{target.type}",
                       f"{fn}() cần câu hỏi chọn nhiều, nhưng '{target.name}' có kiểu "
                       f"{target.type}")
                continue
            if fn == "selected":
                code = _literal_code(node.args[1])
                codes = _allowed_codes(q, target)
                if code is not None and codes is not None and code not in codes:
                    report(WARNING, "unknown_code", node.args[1],
                           f"'{code}' is not a code of list '{target.list_name}' "
                           f"(question '{target.name}')",
                           f"'{code}' không phải mã của danh sách '{target.list_name}' "
                           f"(câu hỏi '{target.name}')")
        elif isinstance(node, Binary) and node.op in ("=", "!=") + _REL:
            for this, other in ((node.left, node.right), (node.right, node.left)):
                target = _operand_question(this, questions, own)
                if target is None:
                    continue
                st = _static_type(target)
                if st == "codes":
                    report(ERROR if node.op in _REL else WARNING, "type_error", node,
                           f"'{target.name}' is a multiple choice; compare it with "
                           f"selected() or count-selected()",
                           f"'{target.name}' là câu hỏi chọn nhiều; hãy dùng selected() "
                           f"hoặc count-selected()")
                    continue
                code = _literal_code(other)
                if st == "code" and node.op in ("=", "!=") and code is not None and code != "":
                    codes = _allowed_codes(q, target)
                    if codes is not None and code not in codes:
                        report(WARNING, "unknown_code", other,
                               f"'{code}' is not a code of list '{target.list_name}' "
                               f"(question '{target.name}')",
                               f"'{code}' không phải mã của danh sách '{target.list_name}' "
                               f"(câu hỏi '{target.name}')")
                if node.op in _REL:
                    if st == "date" and isinstance(other, Literal) and not (
                        isinstance(other.value, str) and len(other.value) == 10
                    ):
                        report(ERROR, "type_error", node,
                               f"date question '{target.name}' compared with a non-date; "
                               f"use 'YYYY-MM-DD' or today()",
                               f"câu hỏi ngày '{target.name}' được so sánh với giá trị "
                               f"không phải ngày; dùng 'YYYY-MM-DD' hoặc today()")
                    elif st == "text":
                        report(WARNING, "type_error", node,
                               f"text question '{target.name}' compared as a number",
                               f"câu hỏi văn bản '{target.name}' được so sánh như số")
        elif (isinstance(node, Binary) and node.op in _ARITH) or isinstance(node, Unary):
            operands = (node.left, node.right) if isinstance(node, Binary) else (node.operand,)
            for operand in operands:
                target = _operand_question(operand, questions, own)
                if target is None:
                    continue
                st = _static_type(target)
                if st in ("codes", "date"):
                    report(ERROR, "type_error", node,
                           f"arithmetic on '{target.name}' ({target.type}) is not possible",
                           f"không thể tính toán số học với '{target.name}' ({target.type})")
                elif st == "text" or target.type == "select_one":
                    report(WARNING, "type_error", node,
                           f"'{target.name}' ({target.type}) used as a number",
                           f"'{target.name}' ({target.type}) được dùng như một số")


# ------------------------------------------------------------------ main checks

def _check_names(q: Questionnaire, out: _Collector) -> dict[str, Item]:
    seen: dict[str, Item] = {}
    if not is_valid_name(q.name):
        out.add(ERROR, "bad_name",
                f"Questionnaire name '{q.name}' is not a valid machine name",
                f"Tên bảng hỏi '{q.name}' không phải tên máy hợp lệ", field="name")
    for item, _ in q.walk():
        where = {"name": item.name, "field": "name"}
        if not is_valid_name(item.name):
            out.add(ERROR, "bad_name",
                    f"'{item.name}' is not a valid name: start with a letter or '_', then "
                    f"letters, digits, '_', '.', '-' (at most 64)",
                    f"'{item.name}' không phải tên hợp lệ: bắt đầu bằng chữ cái hoặc '_', "
                    f"tiếp theo là chữ cái, chữ số, '_', '.', '-' (tối đa 64 ký tự)", **where)
        if item.name in seen:
            out.add(ERROR, "duplicate_name", f"Duplicate name '{item.name}'",
                    f"Tên bị trùng '{item.name}'", **where)
        else:
            seen[item.name] = item
    if not q.title:
        out.add(WARNING, "missing_title", "The questionnaire has no title",
                "Bảng hỏi chưa có tiêu đề", field="title")
    return seen


def _check_choice_lists(q: Questionnaire, out: _Collector) -> None:
    names: set[str] = set()
    used = {qq.list_name for qq in q.questions() if qq.list_name}
    for cl in q.choice_lists:
        where = {"list_name": cl.name}
        if not is_valid_name(cl.name):
            out.add(ERROR, "bad_name", f"Choice list name '{cl.name}' is not valid",
                    f"Tên danh sách lựa chọn '{cl.name}' không hợp lệ", **where)
        if cl.name in names:
            out.add(ERROR, "duplicate_list", f"Duplicate choice list '{cl.name}'",
                    f"Danh sách lựa chọn bị trùng '{cl.name}'", **where)
        names.add(cl.name)
        if not cl.choices:
            out.add(ERROR, "empty_list", f"Choice list '{cl.name}' has no choices",
                    f"Danh sách lựa chọn '{cl.name}' không có lựa chọn nào", **where)
        if cl.name not in used:
            out.add(WARNING, "unused_list", f"Choice list '{cl.name}' is not used",
                    f"Danh sách lựa chọn '{cl.name}' không được dùng", **where)
        codes: set[str] = set()
        for choice in cl.choices:
            cw = {"list_name": cl.name, "choice": choice.code}
            code = choice.code
            if code in RESERVED_CODES:
                out.add(ERROR, "reserved_code",
                        f"Code '{code}' in list '{cl.name}' is reserved for "
                        f"{'not applicable' if code == 'na' else 'don’t know'}; use the "
                        f"question's allow_{code} setting instead",
                        f"Mã '{code}' trong danh sách '{cl.name}' được dành riêng cho "
                        f"{'“không áp dụng”' if code == 'na' else '“không biết”'}; hãy "
                        f"bật tùy chọn allow_{code} của câu hỏi", **cw)
            elif (not code or len(code) > MAX_CODE_LENGTH
                  or any(c.isspace() for c in code)):
                out.add(ERROR, "bad_code",
                        f"Code '{code}' in list '{cl.name}' must be 1–{MAX_CODE_LENGTH} "
                        f"characters without spaces",
                        f"Mã '{code}' trong danh sách '{cl.name}' phải có 1–"
                        f"{MAX_CODE_LENGTH} ký tự, không có khoảng trắng", **cw)
            if code in codes:
                out.add(ERROR, "duplicate_code",
                        f"Duplicate code '{code}' in list '{cl.name}'",
                        f"Mã '{code}' bị trùng trong danh sách '{cl.name}'", **cw)
            codes.add(code)
            if not choice.label:
                out.add(ERROR, "missing_label",
                        f"Choice '{code}' in list '{cl.name}' has no label",
                        f"Lựa chọn '{code}' trong danh sách '{cl.name}' chưa có nhãn", **cw)


def _check_question(q: Questionnaire, qq: Question, out: _Collector) -> None:
    where = {"name": qq.name}
    t = qq.type
    if t not in QUESTION_TYPES:
        out.add(ERROR, "unknown_type", f"'{qq.name}': unknown type '{t}'",
                f"'{qq.name}': kiểu câu hỏi không xác định '{t}'", field="type", **where)
        return
    if t != "calculate" and not qq.label:
        out.add(ERROR, "missing_label", f"'{qq.name}' has no label",
                f"'{qq.name}' chưa có nhãn", field="label", **where)
    if t in CHOICE_TYPES:
        cl = q.choice_list(qq.list_name)
        if qq.list_name is None:
            out.add(ERROR, "missing_list", f"'{qq.name}' ({t}) needs a choice list",
                    f"'{qq.name}' ({t}) cần một danh sách lựa chọn", field="list_name",
                    **where)
        elif cl is None:
            out.add(ERROR, "unknown_list",
                    f"'{qq.name}' uses choice list '{qq.list_name}', which does not exist",
                    f"'{qq.name}' dùng danh sách lựa chọn '{qq.list_name}' không tồn tại",
                    field="list_name", **where)
        elif t == "likert":
            n = len(cl.choices)
            if not (3 <= n <= 11) or cl.codes() != [str(i) for i in range(1, n + 1)]:
                out.add(ERROR, "bad_likert",
                        f"'{qq.name}': a Likert scale's list '{cl.name}' must have 3–11 "
                        f"points coded 1, 2, 3, … in order",
                        f"'{qq.name}': danh sách '{cl.name}' của thang Likert phải có 3–11 "
                        f"mức, mã 1, 2, 3, … theo thứ tự", field="list_name", **where)
    elif qq.list_name is not None:
        out.add(ERROR, "unexpected_list", f"'{qq.name}' ({t}) cannot have a choice list",
                f"'{qq.name}' ({t}) không dùng danh sách lựa chọn", field="list_name", **where)
    if qq.minimum is not None or qq.maximum is not None:
        if t not in ("integer", "decimal"):
            out.add(ERROR, "unexpected_range",
                    f"'{qq.name}' ({t}) cannot have a minimum or maximum",
                    f"'{qq.name}' ({t}) không có giá trị nhỏ nhất/lớn nhất", field="minimum",
                    **where)
        else:
            if t == "integer" and any(isinstance(v, float) for v in (qq.minimum, qq.maximum)):
                out.add(ERROR, "bad_range", f"'{qq.name}': integer bounds must be integers",
                        f"'{qq.name}': giới hạn của số nguyên phải là số nguyên",
                        field="minimum", **where)
            if (qq.minimum is not None and qq.maximum is not None
                    and qq.minimum > qq.maximum):
                out.add(ERROR, "bad_range",
                        f"'{qq.name}': minimum {qq.minimum} is above maximum {qq.maximum}",
                        f"'{qq.name}': giá trị nhỏ nhất {qq.minimum} lớn hơn giá trị lớn nhất "
                        f"{qq.maximum}", field="minimum", **where)
    if t == "calculate":
        if qq.calculation is None:
            out.add(ERROR, "missing_calculation", f"'{qq.name}' has no calculation",
                    f"'{qq.name}' chưa có công thức tính", field="calculation", **where)
    elif qq.calculation is not None:
        out.add(ERROR, "unexpected_calculation",
                f"'{qq.name}' ({t}) cannot have a calculation; use a calculate field",
                f"'{qq.name}' ({t}) không thể có công thức tính; hãy dùng trường tính toán",
                field="calculation", **where)
    if t in ("calculate", "note"):
        for attr, label_en, label_vi in (
            ("required", "be required", "là bắt buộc"),
            ("constraint", "have a constraint", "có ràng buộc"),
            ("allow_na", "allow 'na'", "cho phép 'na'"),
            ("allow_dk", "allow 'dk'", "cho phép 'dk'"),
        ):
            if getattr(qq, attr):
                out.add(ERROR, "not_answerable",
                        f"'{qq.name}' ({t}) is not answered, so it cannot {label_en}",
                        f"'{qq.name}' ({t}) không được trả lời nên không thể {label_vi}",
                        field=attr, **where)
    if qq.constraint_message and qq.constraint is None:
        out.add(WARNING, "orphan_message",
                f"'{qq.name}' has a constraint message but no constraint",
                f"'{qq.name}' có thông báo ràng buộc nhưng không có ràng buộc",
                field="constraint_message", **where)


def _parse_all(q: Questionnaire, names: dict[str, Item], out: _Collector) -> dict:
    """Parse every expression; report syntax and reference errors.  Returns
    {(item name, field): ast} for the expressions that parsed."""
    questions = {qq.name: qq for qq in q.questions()}
    parsed: dict[tuple[str, str], Node] = {}
    for item, _ in q.walk():
        for fld in EXPRESSION_FIELDS:
            text = getattr(item, fld, None)
            if text is None:
                continue
            where = {"name": item.name, "field": fld}
            try:
                ast = parse_expression(text)
            except ExpressionError as exc:
                out.add(ERROR, "syntax", f"'{item.name}' {fld}: {exc.message}",
                        f"'{item.name}' {fld}: {exc.message_vi}", offset=exc.offset, **where)
                continue
            ok = True
            for node in walk(ast):
                if isinstance(node, Ref):
                    target = names.get(node.name)
                    if target is None:
                        out.add(ERROR, "unknown_reference",
                                f"'{item.name}' {fld}: ${{{node.name}}} refers to no question "
                                f"(offset {node.offset})",
                                f"'{item.name}' {fld}: ${{{node.name}}} không trỏ tới câu hỏi "
                                f"nào (vị trí {node.offset})", offset=node.offset, **where)
                        ok = False
                    elif isinstance(target, Group):
                        out.add(ERROR, "bad_reference",
                                f"'{item.name}' {fld}: ${{{node.name}}} is a group, not a "
                                f"question (offset {node.offset})",
                                f"'{item.name}' {fld}: ${{{node.name}}} là một nhóm, không "
                                f"phải câu hỏi (vị trí {node.offset})", offset=node.offset,
                                **where)
                        ok = False
                    elif target.type == "note":
                        out.add(ERROR, "bad_reference",
                                f"'{item.name}' {fld}: ${{{node.name}}} is a note and has no "
                                f"value (offset {node.offset})",
                                f"'{item.name}' {fld}: ${{{node.name}}} là ghi chú, không có "
                                f"giá trị (vị trí {node.offset})", offset=node.offset, **where)
                        ok = False
                elif isinstance(node, Current) and fld != "constraint":
                    out.add(ERROR, "bad_current",
                            f"'{item.name}' {fld}: '.' (the current answer) is only allowed "
                            f"in a constraint (offset {node.offset})",
                            f"'{item.name}' {fld}: '.' (câu trả lời hiện tại) chỉ dùng trong "
                            f"ràng buộc (vị trí {node.offset})", offset=node.offset, **where)
                    ok = False
            parsed[(item.name, fld)] = ast
            if ok:
                own = item if isinstance(item, Question) else None
                _check_types(ast, q, questions, own, where, out, fld)
    return parsed


def dependency_graph(q: Questionnaire, parsed: dict) -> dict[str, list[str]]:
    """item name -> names it depends on (relevance, calculation, enclosing group)."""
    graph: dict[str, list[str]] = {}
    for item, ancestors in q.walk():
        deps: list[str] = []
        if ancestors:
            deps.append(ancestors[-1].name)
        for fld in ("relevant", "calculation"):
            ast = parsed.get((item.name, fld))
            if ast is not None:
                deps.extend(n for n in references(ast) if n not in deps)
        graph.setdefault(item.name, deps)
    return graph


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Each elementary cycle reached by depth-first search, once (iterative, no recursion)."""
    state: dict[str, int] = {}
    cycles: list[list[str]] = []
    seen_sets: set[frozenset] = set()
    for start in graph:
        if state.get(start):
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        while stack:
            node, idx = stack.pop()
            if idx == 0:
                state[node] = 1
                path.append(node)
            deps = [d for d in graph.get(node, []) if d in graph]
            if idx < len(deps):
                stack.append((node, idx + 1))
                nxt = deps[idx]
                if state.get(nxt) == 1:
                    cycle = path[path.index(nxt):] + [nxt]
                    key = frozenset(cycle)
                    if key not in seen_sets:
                        seen_sets.add(key)
                        cycles.append(cycle)
                elif not state.get(nxt):
                    stack.append((nxt, 0))
            else:
                state[node] = 2
                path.pop()
    return cycles


def _check_cycles(q: Questionnaire, parsed: dict, out: _Collector) -> None:
    for cycle in find_cycles(dependency_graph(q, parsed)):
        chain = " → ".join(cycle)
        out.add(ERROR, "cycle",
                f"Circular reference among relevance/calculation: {chain}",
                f"Tham chiếu vòng tròn giữa điều kiện hiển thị/công thức: {chain}",
                name=cycle[0], field="relevant")


def _check_languages(q: Questionnaire, out: _Collector) -> None:
    for lang, en_name, vi_name in (("vi", "Vietnamese", "tiếng Việt"),
                                   ("en", "English", "tiếng Anh")):
        missing = [qq.name for qq in q.questions()
                   if qq.type != "calculate" and qq.label and lang not in qq.label]
        if missing:
            shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
            out.add(WARNING, "missing_translation",
                    f"{len(missing)} question(s) have no {en_name} label: {shown}",
                    f"{len(missing)} câu hỏi chưa có nhãn {vi_name}: {shown}", field="label")
    if q.default_language not in LANGUAGES:
        out.add(ERROR, "bad_language", f"Unknown default language '{q.default_language}'",
                f"Ngôn ngữ mặc định không hợp lệ '{q.default_language}'",
                field="default_language")


MAX_TEXT_LENGTH = 32767  # what one spreadsheet cell can hold


def _bad_character(text: str) -> str | None:
    for ch in text:
        cp = ord(ch)
        if (cp < 0x20 and ch not in "\t\n") or 0xD800 <= cp <= 0xDFFF or cp in (0xFFFE, 0xFFFF):
            return f"U+{cp:04X}"
    return None


def _texts(q: Questionnaire):
    """(text, where, what) for every free text of the questionnaire."""
    for lang, text in q.title.items():
        yield text, {"field": "title"}, f"title ({lang})"
    yield q.version, {"field": "version"}, "version"
    for item, _ in q.walk():
        for fld in ("label", "hint", "constraint_message"):
            for lang, text in getattr(item, fld, {}).items():
                yield text, {"name": item.name, "field": fld}, f"'{item.name}' {fld} ({lang})"
        for fld in EXPRESSION_FIELDS:
            text = getattr(item, fld, None)
            if text is not None:
                yield text, {"name": item.name, "field": fld}, f"'{item.name}' {fld}"
    for cl in q.choice_lists:
        for choice in cl.choices:
            where = {"list_name": cl.name, "choice": choice.code}
            yield choice.code, where, f"code '{choice.code}' of list '{cl.name}'"
            for lang, text in choice.label.items():
                yield text, where, f"choice '{choice.code}' of list '{cl.name}' ({lang})"


def _check_texts(q: Questionnaire, out: _Collector) -> None:
    for text, where, what in _texts(q):
        bad = _bad_character(text)
        if bad is not None:
            out.add(ERROR, "bad_character", f"{what} contains the control character {bad}",
                    f"{what} chứa ký tự điều khiển {bad}", **where)
        if len(text) > MAX_TEXT_LENGTH:
            out.add(ERROR, "text_too_long",
                    f"{what} is longer than {MAX_TEXT_LENGTH} characters",
                    f"{what} dài hơn {MAX_TEXT_LENGTH} ký tự", **where)


def _check_metadata(q: Questionnaire, out: _Collector) -> None:
    owners = [(qq.metadata, {"name": qq.name, "field": "metadata"}, f"'{qq.name}'")
              for qq in q.questions()]
    owners += [(c.metadata, {"list_name": cl.name, "choice": c.code},
                f"choice '{c.code}' of list '{cl.name}'")
               for cl in q.choice_lists for c in cl.choices]
    owners.append((q.metadata, {"field": "metadata"}, "the questionnaire"))
    for metadata, where, what in owners:
        try:
            text = json.dumps(metadata, allow_nan=False, ensure_ascii=False)
            text.encode("utf-8")
        except (TypeError, ValueError):
            out.add(ERROR, "bad_metadata", f"{what}: metadata is not plain JSON text",
                    f"{what}: siêu dữ liệu không phải JSON thuần", **where)
            continue
        if len(text) > MAX_TEXT_LENGTH:
            out.add(ERROR, "text_too_long",
                    f"{what}: metadata is longer than {MAX_TEXT_LENGTH} characters",
                    f"{what}: siêu dữ liệu dài hơn {MAX_TEXT_LENGTH} ký tự", **where)


def validate_questionnaire(q: Questionnaire) -> list[Problem]:
    """All problems of ``q``: errors first, then warnings, each in document order."""
    out = _Collector()
    names = _check_names(q, out)
    _check_choice_lists(q, out)
    for qq in q.questions():
        _check_question(q, qq, out)
    for group in q.groups():
        if not group.children:
            out.add(WARNING, "empty_group", f"Group '{group.name}' is empty",
                    f"Nhóm '{group.name}' không có câu hỏi nào", name=group.name)
    parsed = _parse_all(q, names, out)
    _check_cycles(q, parsed, out)
    _check_languages(q, out)
    _check_texts(q, out)
    _check_metadata(q, out)
    if not q.questions():
        out.add(ERROR, "no_questions", "The questionnaire has no questions",
                "Bảng hỏi không có câu hỏi nào")
    return errors(out.problems) + warnings(out.problems)

