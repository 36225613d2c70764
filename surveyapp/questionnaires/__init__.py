"""Questionnaire definitions: model, validation, answer checking, XLSForm and the template.

Pure: standard library, openpyxl and xlsxwriter only — no Flask, no database.  The app
stores ``Questionnaire.to_dict()`` as one JSON document per questionnaire version.

Public API::

    Questionnaire.from_dict(data) / q.to_dict()          # JSON document of a version
    validate_questionnaire(q) -> list[Problem]             # errors first, then warnings
    compile_questionnaire(q) -> CompiledQuestionnaire      # cache per version
    validate_answers(q, answers, language="vi") -> {name: message}
    check_answers(q, answers) -> {name: AnswerError}       # both languages
    check_and_compute(q, answers) -> ({name: AnswerError}, Evaluation | None)  # one pass
    compute(q, answers) -> Evaluation(relevant, calculated)
    read_xlsform(source) -> (Questionnaire, [XLSFormProblem])   # raises XLSFormError
    write_xlsform(q, target)
    import_summary(q, warnings) -> {"questions", "choices", "warnings"}
    standard_template() -> Questionnaire
"""

from .answers import (
    AnswerError,
    CompiledQuestionnaire,
    Evaluation,
    QuestionnaireInvalid,
    check_and_compute,
    check_answers,
    compile_questionnaire,
    compute,
    validate_answers,
)
from .model import (
    CHOICE_TYPES,
    LANGUAGES,
    QUESTION_TYPES,
    RESERVED_CODES,
    Choice,
    ChoiceList,
    Group,
    Question,
    Questionnaire,
    QuestionnaireFormatError,
)
from .template import standard_template
from .validation import Problem, errors, validate_questionnaire, warnings
from .xlsform import XLSFormError, XLSFormProblem, import_summary, read_xlsform, write_xlsform

__all__ = [
    "CHOICE_TYPES", "LANGUAGES", "QUESTION_TYPES", "RESERVED_CODES", "AnswerError", "Choice",
    "ChoiceList", "CompiledQuestionnaire", "Evaluation", "Group", "Problem", "Question",
    "Questionnaire", "QuestionnaireFormatError", "QuestionnaireInvalid", "check_and_compute",
    "check_answers", "compile_questionnaire", "compute", "errors", "validate_answers",
    "validate_questionnaire", "warnings", "XLSFormError", "XLSFormProblem", "read_xlsform",
    "write_xlsform", "standard_template", "import_summary",
]
