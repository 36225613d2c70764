"""The safe expression language of questionnaires (relevance, constraints, calculations).

A documented subset of XLSForm's XPath (see ``SEMANTICS.md`` beside this file), parsed by
a hand-written tokenizer and recursive-descent parser into an immutable AST and evaluated
by walking it — never by running code.  Pure: standard library only.  The browser twin is
``surveyapp/static/js/expressions.js``; both pass ``tests/questionnaires/expression_vectors.json``.

    >>> ast = parse_expression("${age} >= 18 and selected(${channels}, 'online')")
    >>> evaluate(ast, {"age": 20, "channels": ["online", "post"]})
    True
"""

from .evaluate import (
    evaluate,
    evaluate_boolean,
    is_empty,
    number_to_string,
    to_boolean,
    to_json_value,
    to_number,
    to_string,
)
from .syntax import (
    FUNCTIONS,
    MAX_DEPTH,
    MAX_LENGTH,
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
    uses_current,
    walk,
)

__all__ = [
    "FUNCTIONS", "MAX_DEPTH", "MAX_LENGTH", "Binary", "Call", "Current", "ExpressionError",
    "Literal", "Node", "Ref", "Unary", "evaluate", "evaluate_boolean", "is_empty",
    "is_valid_name", "number_to_string", "parse_expression", "references", "to_boolean",
    "to_json_value", "to_number", "to_string", "uses_current", "walk",
]
