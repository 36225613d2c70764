"""The questionnaire model's JSON form and validate_questionnaire's findings."""

from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveyapp.questionnaires import (
    Choice,
    ChoiceList,
    Group,
    Question,
    Questionnaire,
    QuestionnaireFormatError,
    errors,
    standard_template,
    validate_questionnaire,
    warnings,
)

from .builders import choice_list, every_type_questionnaire, likert_list, make_questionnaire, t


def codes(problems):
    return sorted((p.level, p.code, p.name) for p in problems)


def q_text(name="q", **kw):
    return Question(name, "text", label=t("Câu hỏi", "Question"), **kw)


def test_every_type_questionnaire_is_clean():
    assert validate_questionnaire(every_type_questionnaire()) == []


def test_json_round_trip_is_exact_and_independent():
    q = every_type_questionnaire()
    data = q.to_dict()
    again = Questionnaire.from_dict(json.loads(json.dumps(data)))
    assert again.to_dict() == data
    assert Questionnaire.from_json(q.to_json()).to_dict() == data
    again.children[0].children[1].minimum = 21  # editing a copy leaves the original alone
    assert q.to_dict() == data
    assert again.to_dict() != data


@pytest.mark.parametrize("mutate, path", [
    (lambda d: d.update(format=2), "$.format"),
    (lambda d: d.update(extra=1), "$"),
    (lambda d: d["children"][0].update(colour="red"), "$.children[0]"),
    (lambda d: d["children"][0]["children"][1].update(required="yes"),
     "$.children[0].children[1].required"),
    (lambda d: d["children"][0]["children"][1].update(minimum="18"),
     "$.children[0].children[1].minimum"),
    (lambda d: d["children"][0]["children"][1].update(label={"fr": "Âge"}),
     "$.children[0].children[1].label.fr"),
    (lambda d: d["choice_lists"][0]["choices"][0].update(code=1),
     "$.choice_lists[0].choices[0].code"),
    (lambda d: d["children"][0]["children"][1].update(metadata={"x": float("nan")}),
     "$.children[0].children[1].metadata"),
    (lambda d: d.pop("choice_lists"), "$"),
])
def test_from_dict_refuses_malformed_documents_with_the_path(mutate, path):
    data = every_type_questionnaire().to_dict()
    mutate(data)
    with pytest.raises(QuestionnaireFormatError) as info:
        Questionnaire.from_dict(data)
    assert info.value.path == path


def test_from_json_refuses_non_json():
    with pytest.raises(QuestionnaireFormatError):
        Questionnaire.from_json("{not json")


def test_duplicate_and_invalid_names():
    q = make_questionnaire(q_text("a"), Group("a", children=[q_text("b")]), q_text("2bad"),
                           q_text("has space"))
    found = codes(validate_questionnaire(q))
    assert ("error", "duplicate_name", "a") in found
    assert ("error", "bad_name", "2bad") in found
    assert ("error", "bad_name", "has space") in found


def test_unknown_references_groups_and_notes_are_errors():
    q = make_questionnaire(
        Group("g", children=[Question("n", "note", label=t("Ghi chú"))]),
        q_text("a", relevant="${nope} = 'x'"),
        q_text("b", relevant="${g} = 'x'"),
        q_text("c", relevant="${n} = 'x'"),
    )
    problems = errors(validate_questionnaire(q))
    assert [(p.code, p.name, p.field, p.offset) for p in problems] == [
        ("unknown_reference", "a", "relevant", 0),
        ("bad_reference", "b", "relevant", 0),
        ("bad_reference", "c", "relevant", 0),
    ]
    assert "${nope} refers to no question (offset 0)" in problems[0].message
    assert "không trỏ tới câu hỏi nào" in problems[0].message_vi


def test_syntax_errors_name_the_field_and_offset():
    q = make_questionnaire(q_text("a", constraint=". = 'x' and"))
    (p,) = errors(validate_questionnaire(q))
    assert (p.code, p.name, p.field, p.offset) == ("syntax", "a", "constraint", 11)
    assert p.message == "'a' constraint: Unexpected end of expression at offset 11"
    assert p.message_vi == "'a' constraint: Biểu thức kết thúc đột ngột tại vị trí 11"


def test_relevance_and_calculation_cycles_are_found():
    q = make_questionnaire(
        q_text("a", relevant="${b} = 'x'"),
        q_text("b", relevant="${c} = 'x'"),
        Question("c", "calculate", calculation="${a}"),
        q_text("self", relevant="${self} = ''"),
        Group("g", relevant="${inner} = 'x'", children=[q_text("inner")]),
    )
    cycles = [p for p in validate_questionnaire(q) if p.code == "cycle"]
    chains = sorted(p.message.split(": ", 1)[1] for p in cycles)
    assert chains == ["a → b → c → a", "g → inner → g", "self → self"]


def test_constraint_references_do_not_make_cycles():
    q = make_questionnaire(
        Question("x", "integer", label=t("X"), constraint=". < ${y}"),
        Question("y", "integer", label=t("Y"), constraint=". > ${x}"),
    )
    assert errors(validate_questionnaire(q)) == []


def test_type_errors_in_expressions():
    q = make_questionnaire(
        Question("age", "integer", label=t("Tuổi")),
        Question("one", "select_one", label=t("Một"), list_name="yn"),
        Question("many", "select_multiple", label=t("Nhiều"), list_name="yn"),
        Question("day", "date", label=t("Ngày")),
        q_text("r1", relevant="selected(${age}, '1')"),
        q_text("r2", relevant="selected(${one}, 'yes')"),
        q_text("r3", relevant="count-selected(${one}) > 0"),
        q_text("r4", relevant="${one} = 'maybe'"),
        q_text("r5", relevant="selected(${many}, 'maybe')"),
        q_text("r6", relevant="${many} > 1"),
        q_text("r7", relevant="${day} + 1 > 2"),
        q_text("r8", relevant="${day} < 5"),
        q_text("r9", relevant="${one} = 'na'"),
        q_text("r10", relevant=". = 'x'"),
        lists=[choice_list("yn", "yes", "no")],
    )
    found = {(p.name, p.level, p.code) for p in validate_questionnaire(q)}
    assert ("r1", "error", "type_error") in found
    assert ("r2", "warning", "selected_on_single") in found
    assert ("r3", "error", "type_error") in found
    assert ("r4", "warning", "unknown_code") in found
    assert ("r5", "warning", "unknown_code") in found
    assert ("r6", "error", "type_error") in found
    assert ("r7", "error", "type_error") in found
    assert ("r8", "error", "type_error") in found
    assert ("r9", "warning", "unknown_code") in found  # 'na' is not allowed on 'one'
    assert ("r10", "error", "bad_current") in found
    r4 = next(p for p in validate_questionnaire(q) if p.name == "r4")
    assert r4.message == ("relevant: 'maybe' is not a code of list 'yn' (question 'one') "
                          "(offset 9)")


def test_reserved_codes_and_choice_list_problems():
    q = make_questionnaire(
        Question("a", "select_one", label=t("A"), list_name="bad"),
        Question("b", "select_one", label=t("B"), list_name="missing"),
        Question("c", "select_one", label=t("C")),
        Question("d", "likert", label=t("D"), list_name="not_scale"),
        Question("e", "integer", label=t("E"), list_name="bad"),
        lists=[
            ChoiceList("bad", [Choice("na", t("Không áp dụng")), Choice("dk", t("Không biết")),
                               Choice("x", t("X")), Choice("x", t("X lần nữa")),
                               Choice("with space", t("Y")), Choice("nolabel", {})]),
            choice_list("not_scale", "1", "2", "4"),
            choice_list("unused", "u"),
            ChoiceList("empty", []),
        ],
    )
    found = {(p.level, p.code, p.list_name, p.choice, p.name) for p in validate_questionnaire(q)}
    assert ("error", "reserved_code", "bad", "na", None) in found
    assert ("error", "reserved_code", "bad", "dk", None) in found
    assert ("error", "duplicate_code", "bad", "x", None) in found
    assert ("error", "bad_code", "bad", "with space", None) in found
    assert ("error", "missing_label", "bad", "nolabel", None) in found
    assert ("error", "unknown_list", None, None, "b") in found
    assert ("error", "missing_list", None, None, "c") in found
    assert ("error", "bad_likert", None, None, "d") in found
    assert ("error", "unexpected_list", None, None, "e") in found
    assert ("warning", "unused_list", "unused", None, None) in found
    assert ("error", "empty_list", "empty", None, None) in found
    na = next(p for p in validate_questionnaire(q) if p.choice == "na")
    assert "reserved for not applicable" in na.message
    assert "dành riêng" in na.message_vi


def test_question_attribute_rules():
    q = make_questionnaire(
        Question("n", "note", label=t("N"), required=True, allow_dk=True),
        Question("c", "calculate", required=True),
        Question("i", "integer", label=t("I"), minimum=10, maximum=5),
        Question("j", "integer", label=t("J"), minimum=0.5),
        q_text("k", minimum=1, calculation="1"),
        Question("nolabel", "text"),
        Question("weird", "slider", label=t("W")),
        Question("m", "text", label=t("M"), constraint_message=t("Sai")),
    )
    found = {(p.level, p.code, p.name, p.field) for p in validate_questionnaire(q)}
    assert ("error", "not_answerable", "n", "required") in found
    assert ("error", "not_answerable", "n", "allow_dk") in found
    assert ("error", "missing_calculation", "c", "calculation") in found
    assert ("error", "not_answerable", "c", "required") in found
    assert ("error", "bad_range", "i", "minimum") in found
    assert ("error", "bad_range", "j", "minimum") in found
    assert ("error", "unexpected_range", "k", "minimum") in found
    assert ("error", "unexpected_calculation", "k", "calculation") in found
    assert ("error", "missing_label", "nolabel", "label") in found
    assert ("error", "unknown_type", "weird", "type") in found
    assert ("warning", "orphan_message", "m", "constraint_message") in found


def test_errors_come_before_warnings_and_translations_are_checked():
    q = make_questionnaire(Question("a", "text", label={"vi": "Chỉ tiếng Việt"}),
                           q_text("b", relevant="${zz}"))
    problems = validate_questionnaire(q)
    assert [p.level for p in problems] == ["error", "warning"]
    (w,) = warnings(problems)
    assert w.code == "missing_translation"
    assert w.message == "1 question(s) have no English label: a"


def test_empty_questionnaire_is_an_error():
    assert [p.code for p in validate_questionnaire(make_questionnaire())] == ["no_questions"]


def test_deeply_nested_groups_do_not_overflow():
    inner = q_text("leaf")
    for i in range(300):
        inner = Group(f"g{i}", children=[inner])
    q = make_questionnaire(inner)
    assert errors(validate_questionnaire(q)) == []
    assert Questionnaire.from_dict(q.to_dict()).to_dict() == q.to_dict()


def test_likert_scale_lists_must_be_numbered_points():
    ok = make_questionnaire(Question("l", "likert", label=t("L"), list_name="scale"),
                            lists=[likert_list()])
    assert validate_questionnaire(ok) == []


_junk = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20),
                  st.sampled_from(["${a}", "selected(., 'x')", "count-selected(${b})",
                                   "${kenh} = 'zz'", "likert", "select_one", "muc_hai_long",
                                   "na", "1 div 0"]),
                  st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3),
                                                                        st.integers()))
_fields = st.sampled_from(["type", "name", "label", "hint", "required", "relevant",
                           "constraint", "calculation", "list_name", "minimum", "maximum",
                           "allow_na", "allow_dk", "metadata", "constraint_message"])


_TEMPLATE_DOC = standard_template().to_dict()


@settings(max_examples=120, deadline=None)
@given(st.integers(0, 200), _fields, _junk)
def test_mutated_documents_are_refused_or_validated_never_crash(index, fld, value):
    data = copy.deepcopy(_TEMPLATE_DOC)
    flat = []

    def collect(items):
        for item in items:
            flat.append(item)
            if item.get("type") == "group":
                collect(item["children"])

    collect(data["children"])
    flat[index % len(flat)][fld] = value
    try:
        q = Questionnaire.from_dict(data)
    except QuestionnaireFormatError as exc:
        assert exc.path.startswith("$")
        return
    for p in validate_questionnaire(q):
        assert p.message and p.message_vi


def test_control_characters_and_oversized_texts_are_refused():
    q = make_questionnaire(
        Question("a", "text", label={"vi": "A\x08"}),
        Question("b", "text", label={"vi": "B", "en": "x" * 40000}),
        Question("c", "text", label={"vi": "C"}, metadata={"s": "\ud800"}),
        Question("d", "select_one", label={"vi": "D"}, list_name="l"),
        Question("e", "text", label={"vi": "E\r\nF\tG"}),
        lists=[ChoiceList("l", [Choice("x\x01", {"vi": "X"})])],
    )
    found = {(p.code, p.name, p.list_name) for p in errors(validate_questionnaire(q))}
    assert found == {("bad_character", "a", None), ("text_too_long", "b", None),
                     ("bad_metadata", "c", None), ("bad_character", None, "l")}
    assert q.find("e").label == {"vi": "E\nF\tG"}  # line ends are normalised
