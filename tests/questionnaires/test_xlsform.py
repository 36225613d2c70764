"""XLSForm import/export: round trips, precise refusals, and the real-world reference forms."""

from __future__ import annotations

import functools
import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveyapp.questionnaires import (
    Question,
    XLSFormError,
    import_summary,
    read_xlsform,
    standard_template,
    write_xlsform,
)

from .builders import every_type_questionnaire, make_xlsx

REFERENCE = Path("/work/shared/reference/xlsform/pyxform")
if not REFERENCE.exists():  # the repository copy used by CI
    REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "xlsform" / \
        "pyxform"
REFERENCE_FILES = sorted(REFERENCE.glob("*.xlsx"))

# The reference forms that use only what we support; all others must be refused.
EXPECTED_TO_IMPORT = {
    "example_xls__extra_columns.xlsx",
    "example_xls__extra_sheet_names.xlsx",
    "example_xls__field-list.xlsx",
    "example_xls__text_and_integer.xlsx",
    "example_xls__yes_or_no_question.xlsx",
}

SURVEY_HEADER = ["type", "name", "label::Vietnamese (vi)", "label::English (en)", "relevant",
                 "constraint", "calculation", "required"]


def export(q) -> bytes:
    buf = io.BytesIO()
    write_xlsform(q, buf)
    return buf.getvalue()


def refuse(data) -> list:
    with pytest.raises(XLSFormError) as info:
        read_xlsform(data)
    return info.value.problems


def form(*rows, choices=None, settings=None, header=SURVEY_HEADER) -> bytes:
    sheets = {"survey": [header, *rows]}
    if choices is not None:
        sheets["choices"] = [["list_name", "name", "label::Vietnamese (vi)",
                              "label::English (en)"], *choices]
    if settings is not None:
        sheets["settings"] = settings
    return make_xlsx(sheets)


YES_NO = [["yn", "yes", "Có", "Yes"], ["yn", "no", "Không", "No"]]


# ------------------------------------------------------------------ round trips

def test_round_trip_of_every_type(tmp_path):
    q = every_type_questionnaire()
    q.metadata = {"campaign": 2025}
    q.children[0].children[1].metadata = {"tt01_indicator": 1, "weights": [1, 2.5]}
    q.choice_lists[0].choices[0].metadata = {"tt01_points": 2}
    q2, warnings = read_xlsform(export(q))
    assert warnings == []
    assert q2.to_dict() == q.to_dict()
    path = tmp_path / "form.xlsx"
    write_xlsform(q, path)
    q3, _ = read_xlsform(path)
    assert q3.to_dict() == q.to_dict()


def test_round_trip_of_the_standard_template():
    q = standard_template()
    q2, warnings = read_xlsform(export(q))
    assert warnings == []
    assert q2.to_dict() == q.to_dict()
    assert import_summary(q2, warnings) == {"questions": 61, "choices": 85, "warnings": []}


def test_export_refuses_to_truncate():
    q = every_type_questionnaire()
    q.children[0].children[1].label = {"vi": "x" * 40000}
    with pytest.raises(ValueError, match="cannot write 'label::Vietnamese \\(vi\\)' of row 4"):
        export(q)


def test_export_is_plain_xlsform():
    data = export(every_type_questionnaire())
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert "xl/workbook.xml" in z.namelist()
    import openpyxl
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    try:
        assert wb.sheetnames == ["survey", "choices", "settings"]
        rows = list(wb["survey"].iter_rows(values_only=True))
    finally:
        wb.close()
    types = [r[0] for r in rows[1:]]
    assert types[:2] == ["begin group", "note"]
    assert "select_one scale" in types and "end group" in types
    header = rows[0]
    portal = next(r for r in rows if r[1] == "portal")
    assert portal[header.index("appearance")] == "likert"
    assert portal[header.index("surveyapp::type")] == "likert"
    score = next(r for r in rows if r[1] == "score")
    assert (score[0], score[header.index("surveyapp::type")]) == ("integer", "rating")


# --------------------------------------------------------------- mapping details

def test_languages_and_extra_types_are_read():
    data = form(
        ["select_one yn", "q1", "Câu 1", "Question 1", None, None, None, "yes"],
        ["text", "q2", "Câu 2", "Question 2", "${q1} = 'yes'"],
        ["integer", "q3", "Câu 3", "Question 3"],
        ["text", "q4", "Câu 4", "Question 4"],
        ["select_one scale", "q5", "Câu 5", "Question 5"],
        choices=YES_NO + [["scale", str(i), f"Mức {i}", f"Level {i}"] for i in range(1, 6)],
        header=SURVEY_HEADER[:5] + [None, None, "required"],
    )
    q, _ = read_xlsform(data)
    assert [qq.type for qq in q.questions()] == ["select_one", "text", "integer", "text",
                                                  "select_one"]
    assert q.questions()[0].required is True
    assert q.questions()[1].relevant == "${q1} = 'yes'"
    extra = make_xlsx({
        "survey": [["type", "name", "label::English", "appearance", "surveyapp::type",
                    "surveyapp::min", "surveyapp::max", "surveyapp::na"],
                   ["select_one scale", "l", "Likert", "likert"],
                   ["text", "m", "Long", "multiline"],
                   ["integer", "r", "Rating", None, "rating", None, None, "yes"],
                   ["text", "a", "Agency", None, "agency"],
                   ["text", "p", "Procedure", None, "procedure"],
                   ["integer", "n", "Number", None, None, 1, 9]],
        "choices": [["list name", "name", "label:English"],
                    *[["scale", i, f"L{i}"] for i in range(1, 6)]],
        "settings": [["form_id", "form_title", "default_language"],
                     ["my_form", "My form", "English"]],
    })
    q, warnings = read_xlsform(extra)
    assert [(qq.name, qq.type) for qq in q.questions()] == [
        ("l", "likert"), ("m", "long_text"), ("r", "rating"), ("a", "agency"),
        ("p", "procedure"), ("n", "integer")]
    assert q.questions()[0].label == {"en": "Likert"}
    assert q.questions()[2].allow_na is True
    assert (q.questions()[5].minimum, q.questions()[5].maximum) == (1, 9)
    assert q.choice_lists[0].codes() == ["1", "2", "3", "4", "5"]  # numbers become codes
    assert (q.name, q.title, q.default_language) == ("my_form", {"en": "My form"}, "en")
    assert [w.code for w in []] == []
    assert any("no Vietnamese label" in w.message for w in warnings)


def test_ignored_columns_and_sheets_are_reported_as_warnings():
    data = make_xlsx({
        "survey": [["type", "name", "label", "image", "label::français"],
                   ["text", "a", "A", "a.png", "Un"]],
        "notes": [["anything"]],
    })
    q, warnings = read_xlsform(data)
    messages = [str(w) for w in warnings]
    assert "sheet 'survey', row 1, column D 'image': column ignored: media is not supported" \
        in messages
    assert any("column E 'label::français'" in m and "language 'français'" in m
               for m in messages)
    assert "sheet 'notes': sheet 'notes' ignored" in messages
    assert q.questions()[0].label == {"vi": "A"}


# ------------------------------------------------------------------ malformed files

def test_missing_survey_sheet():
    (p,) = refuse(make_xlsx({"Sheet1": [["type", "name", "label"], ["text", "a", "A"]]}))
    assert str(p) == "sheet 'survey': missing sheet 'survey' (sheets found: 'Sheet1')"


def test_unknown_type():
    (p,) = refuse(form(["text", "a", "A", "A"], ["geoshape", "where", "Ở đâu", "Where"]))
    assert (p.sheet, p.row, p.column, p.column_letter) == ("survey", 3, "type", "A")
    assert p.message == "unknown or unsupported question type 'geoshape'"


def test_broken_expression_names_row_column_and_offset():
    (p,) = refuse(form(["integer", "age", "Tuổi", "Age"],
                       ["text", "why", "Vì sao", "Why", "${age} >> 3"]))
    assert (p.sheet, p.row, p.column, p.column_letter) == ("survey", 3, "relevant", "E")
    assert p.message == "'why' relevant: Unexpected '>' at offset 8"


def test_unknown_reference_and_cycle():
    problems = refuse(form(["text", "a", "A", "A", "${b} = 'x'"],
                           ["text", "b", "B", "B", "${a} = 'x'"],
                           ["text", "c", "C", "C", None, "${nope} = ."]))
    rendered = [str(p) for p in problems]
    assert "sheet 'survey', row 4, column F 'constraint': 'c' constraint: ${nope} refers to " \
        "no question (offset 0)" in rendered
    assert any("Circular reference" in r and "a → b → a" in r and "row 2" in r
               for r in rendered)


def test_duplicate_name_gives_both_rows():
    (p,) = refuse(form(["text", "a", "A", "A"], ["integer", "a", "A2", "A2"]))
    assert (p.row, p.column) == (3, "name")
    assert p.message == "duplicate name 'a' (also at row 2)"


def test_duplicate_columns():
    (p,) = refuse(make_xlsx({"survey": [["type", "name", "label", "label"],
                                        ["text", "a", "A", "B"]]}))
    assert (p.row, p.column, p.column_letter) == (1, "label", "D")
    assert p.message == "duplicate column (same as column C)"


@pytest.mark.parametrize("data, expected", [
    (b"", "the file is empty"),
    ("type,name,label\ntext,a,Tên\n".encode("cp1258"), "not an .xlsx workbook"),
    ("type,name,label\ntext,a,Tên\n".encode("utf-16"), "not an .xlsx workbook"),
    ("type,name,label\ntext,a,Tên\n".encode(), "looks like a text file (CSV?)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old Excel 97-2003 (.xls)"),
    (b"PK\x03\x04garbage", "cannot read the workbook"),
])
def test_wrong_encoding_or_not_an_xlsx(data, expected):
    (p,) = refuse(data)
    assert expected in p.message


def test_a_zip_that_is_not_a_workbook():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("hello.txt", "xin chào")
    (p,) = refuse(buf.getvalue())
    assert "cannot read the workbook" in p.message


def test_truncated_workbook():
    data = export(every_type_questionnaire())
    (p,) = refuse(data[: len(data) // 2])
    assert "cannot read the workbook" in p.message


def test_choice_problems_point_at_the_choices_sheet():
    problems = refuse(form(["select_one yn", "a", "A", "A"],
                           choices=YES_NO + [["yn", "dk", "Không biết", "Don't know"],
                                             ["yn", "yes", "Có nữa", "Yes again"]]))
    assert sorted((p.sheet, p.row, p.column) for p in problems) == [
        ("choices", 4, "name"), ("choices", 5, "name")]
    assert any("reserved for don’t know" in p.message for p in problems)
    assert any("Duplicate code 'yes'" in p.message for p in problems)


def test_missing_choice_list():
    (p,) = refuse(form(["select_one colours", "a", "A", "A"]))
    assert (p.sheet, p.row, p.column) == ("survey", 2, "type")
    assert "'colours', which does not exist (the workbook has no 'choices' sheet)" in p.message


@pytest.mark.parametrize("rows, row, column, message", [
    ([["begin group", "g", "G", "G"], ["text", "a", "A", "A"]], 2, "type",
     "'begin group' is never closed with 'end group'"),
    ([["text", "a", "A", "A"], ["end group"]], 3, "type",
     "'end group' without a matching 'begin group'"),
    ([["begin repeat", "r", "R", "R"], ["text", "a", "A", "A"], ["end repeat"]], 2, "type",
     "repeats are not supported"),
    ([["text", "a", "A", "A", None, None, None, "sometimes"]], 2, "required",
     "'sometimes' is not yes or no (expressions are not supported here)"),
    ([["select_one yn or_other", "a", "A", "A"]], 2, "type",
     "'or_other' / 'or specify other' is not supported; add an 'other' choice and a text "
     "question shown when it is selected"),
    ([["calculate", "c", None, None, None, None, "pulldata('f', 'a', 'b', 'c')"]], 2,
     "calculation", "'c' calculation: Unknown function 'pulldata' at offset 0"),
    ([["text", "a", "A", "A"], [None, "b", "B", "B"]], 3, "type",
     "the row has content but no type"),
    ([["text", None, "A", "A"]], 2, "name", "the question has no name"),
    ([["include", "other_form"]], 2, "type", "'include' is not supported"),
])
def test_structural_errors(rows, row, column, message):
    problems = refuse(form(*rows, choices=YES_NO))
    assert (problems[0].row, problems[0].column, problems[0].message) == (row, column, message)


def test_values_under_no_header_are_refused():
    (p,) = refuse(make_xlsx({"survey": [["type", "name", "label"],
                                        ["text", "a", "A", "relevant?"]]}))
    assert (p.row, p.column, p.column_letter) == (1, "D", "D")
    assert str(p) == "sheet 'survey', row 1, column D: column D has values but no header"


def test_groups_cannot_carry_question_attributes():
    data = make_xlsx({"survey": [
        ["type", "name", "label", "hint", "required", "calculation"],
        ["begin group", "g", "G", "Gợi ý", "yes"],
        ["text", "a", "A"],
        ["end group", None, "G again"],
    ]})
    (p,) = refuse(data)
    assert (p.row, p.column, p.column_letter, p.message) == (
        2, "required", "E", "a group cannot have 'required'")
    with pytest.raises(XLSFormError) as info:
        read_xlsform(data)
    assert [(w.row, w.column) for w in info.value.warnings
            if "hint" in w.message or "carry nothing" in w.message] == [(2, "hint"), (4, "label")]


def test_unsupported_columns_are_refused_per_cell():
    data = make_xlsx({"survey": [["type", "name", "label", "choice_filter", "default"],
                                 ["text", "a", "A", None, "x"],
                                 ["select_one yn", "b", "B", "a = 1"]],
                      "choices": [["list_name", "name", "label"], *[r[:3] for r in YES_NO]]})
    problems = refuse(data)
    assert [(p.row, p.column, p.column_letter) for p in problems] == [
        (2, "default", "E"), (3, "choice_filter", "D")]


def test_surveyapp_columns_are_checked():
    data = make_xlsx({"survey": [["type", "name", "label", "surveyapp::type",
                                  "surveyapp::min", "surveyapp::metadata"],
                                 ["integer", "a", "A", "likert"],
                                 ["integer", "b", "B", None, "ten"],
                                 ["integer", "c", "C", None, None, "{bad json"],
                                 ["integer", "d", "D", "slider"]]})
    problems = refuse(data)
    assert [(p.row, p.column) for p in problems] == [
        (2, "surveyapp::type"), (3, "surveyapp::min"), (4, "surveyapp::metadata"),
        (5, "surveyapp::type")]


def test_nothing_is_returned_when_anything_is_wrong():
    good_and_bad = form(["text", "a", "A", "A"], ["text", "b", "B", "B", "${"])
    with pytest.raises(XLSFormError) as info:
        result = read_xlsform(good_and_bad)
        assert result is None  # never reached
    assert len(info.value.problems) == 1


def test_reading_from_a_file_object_and_a_missing_path(tmp_path):
    data = export(every_type_questionnaire())
    q, _ = read_xlsform(io.BytesIO(data))
    assert q.name == "test_form"
    (p,) = refuse(tmp_path / "nope.xlsx")
    assert "cannot read file" in p.message


# --------------------------------------------------------------- reference forms

def test_the_reference_folder_is_there():
    assert len(REFERENCE_FILES) >= 20


@functools.cache
def import_reference(path: Path):
    """(questionnaire, warnings) or the XLSFormError, read once per test session."""
    try:
        return read_xlsform(path)
    except XLSFormError as exc:
        return exc


@pytest.mark.parametrize("path", REFERENCE_FILES, ids=[p.name for p in REFERENCE_FILES])
def test_every_reference_form_imports_or_is_refused_precisely(path):
    try:
        result = import_reference(path)
        if isinstance(result, XLSFormError):
            raise result
        q, warnings = result
    except XLSFormError as exc:
        assert path.name not in EXPECTED_TO_IMPORT, [str(p) for p in exc.problems]
        assert exc.problems
        for p in exc.problems:
            assert p.sheet, str(p)
            assert p.message
            if p.sheet.lower() == "survey" and "missing sheet" not in p.message:
                assert p.row is not None and p.column is not None, str(p)
        return
    assert path.name in EXPECTED_TO_IMPORT
    assert q.questions()
    for w in warnings:
        assert w.level == "warning" and w.message
    again, _ = read_xlsform(export(q))
    assert again.to_dict() == q.to_dict()
    json.dumps(q.to_dict())


def test_the_reference_refusals_explain_the_usual_suspects():
    messages = {}
    for path in REFERENCE_FILES:
        result = import_reference(path)
        if isinstance(result, XLSFormError):
            messages[path.name] = [str(p) for p in result.problems]
    joined = "\n".join(m for ms in messages.values() for m in ms)
    for feature in ("repeats are not supported", "choice filters", "'include' is not supported",
                    "Unknown function 'pulldata'", "'or_other'", "missing sheet 'survey'",
                    "duplicate column", "external files", "Unterminated string"):
        assert feature in joined, feature


def test_questions_built_by_hand_export_every_attribute():
    q = every_type_questionnaire()
    q.children.append(Question("extra", "decimal", label={"vi": "Số", "en": "Number"},
                               hint={"vi": "Gợi ý", "en": "Hint"}, minimum=0.5, maximum=2.25))
    q2, _ = read_xlsform(export(q))
    assert q2.to_dict() == q.to_dict()


# ------------------------------------------------------------------------ fuzzing

_cells = st.one_of(
    st.none(), st.integers(-5, 5), st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["text", "integer", "select_one yn", "select_multiple yn", "begin group",
                     "end group", "note", "calculate", "date", "decimal", "yes", "no",
                     "${a} = 'yes'", "${b}", ".", "a", "b", "yn", "dk", "na", "likert",
                     "rating", "multiline", "{}", "[1]", "begin repeat", "end repeat", "=1+1",
                     "select_one", "label::English (en)", "\u00a0"]),
    st.text(max_size=8),
)
_headers = st.lists(st.sampled_from(
    ["type", "name", "label", "label::English (en)", "label::vi", "relevant", "constraint",
     "calculation", "required", "appearance", "surveyapp::type", "surveyapp::min",
     "surveyapp::na", "surveyapp::metadata", "choice_filter", "hint", "image", "bogus"]),
    min_size=1, max_size=7)


@settings(max_examples=60, deadline=None)
@given(_headers, st.lists(st.lists(_cells, max_size=7), max_size=6),
       st.lists(st.lists(_cells, max_size=3), max_size=4))
def test_random_workbooks_import_or_are_refused_never_crash(headers, rows, choice_rows):
    data = make_xlsx({"survey": [headers, *rows],
                      "choices": [["list_name", "name", "label"], *choice_rows]})
    try:
        q, warnings = read_xlsform(data)
    except XLSFormError as exc:
        assert exc.problems and all(p.message for p in exc.problems)
        return
    again, _ = read_xlsform(export(q))
    assert again.to_dict() == q.to_dict()


_texts = st.text(min_size=1, max_size=30)
_codes = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
                 min_size=1, max_size=8)
_meta = st.dictionaries(st.text(max_size=5), st.one_of(
    st.integers(), st.text(max_size=5), st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(), st.none()), max_size=3)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(_texts, _texts, _meta), min_size=1, max_size=4), _texts,
       st.lists(st.tuples(_codes, _texts, _meta), min_size=1, max_size=4, unique_by=lambda c: c[0]),
       st.one_of(st.none(), st.integers(-10**6, 10**6), st.floats(-1e6, 1e6)))
def test_valid_questionnaires_round_trip(questions, title, choices, bound):
    from surveyapp.questionnaires import Choice, ChoiceList, Questionnaire, errors
    from surveyapp.questionnaires import validate_questionnaire as validate
    children = [Question(f"q{i}", "text", label={"vi": vi, "en": en}, hint={"en": vi},
                         metadata=meta) for i, (vi, en, meta) in enumerate(questions)]
    children.append(Question("pick", "select_multiple", label={"vi": title}, list_name="l",
                             allow_dk=True))
    children.append(Question("num", "decimal", label={"en": title}, minimum=bound))
    q = Questionnaire("random_form", title={"vi": title, "en": title}, children=children,
                      choice_lists=[ChoiceList("l", [Choice(c, {"vi": lab}, m)
                                                     for c, lab, m in choices])])
    if errors(validate(q)):
        return  # only valid questionnaires are promised a round trip
    again, _ = read_xlsform(export(q))
    assert again.to_dict() == q.to_dict()
