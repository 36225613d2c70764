"""validate_answers: the strict check the submission API relies on (issue 7)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveyapp.questionnaires import (
    Question,
    Questionnaire,
    QuestionnaireInvalid,
    check_answers,
    compile_questionnaire,
    compute,
    standard_template,
    validate_answers,
)

from .builders import every_type_questionnaire, make_questionnaire, t

TODAY = "2025-06-15"
GOOD = {
    "age": 30, "income": 12.5, "sex": "f", "channels": ["online", "desk"], "portal": "4",
    "score": 8, "name": "Lan", "comment": "Tốt", "visit": "2025-06-01", "agency": "SO_TU_PHAP",
    "procedure": "1.001",
}


@pytest.fixture(scope="module")
def form():
    return compile_questionnaire(every_type_questionnaire())


def check(form, answers, **kw):
    return {k: v.code for k, v in check_answers(form, answers, today=TODAY, **kw).items()}


def with_(**changes):
    out = dict(GOOD)
    for k, v in changes.items():
        if v is ...:
            out.pop(k)
        else:
            out[k] = v
    return out


def test_a_complete_valid_interview_passes(form):
    assert check(form, GOOD) == {}
    assert validate_answers(form, GOOD, today=TODAY) == {}
    # also accepted straight from a Questionnaire (compiled on the fly)
    assert validate_answers(every_type_questionnaire(), GOOD, today=TODAY) == {}


def test_unknown_names_notes_and_calculations_are_refused(form):
    assert check(form, with_(nope=1, intro="x", older="yes", a="x")) == {
        "nope": "unknown_question", "intro": "not_answerable", "older": "not_answerable",
        "a": "not_answerable"}


def test_required_answers(form):
    assert check(form, with_(age=..., sex=None, channels=[], visit="  ", portal=...,
                             score=...)) == {
        "age": "required", "sex": "required", "channels": "required", "visit": "required"}


def test_skip_logic_irrelevant_answers_must_be_left_out(form):
    # section b is relevant only when 'online' is selected
    assert check(form, with_(channels=["desk"])) == {
        "portal": "not_relevant", "score": "not_relevant"}
    assert check(form, with_(channels=["desk"], portal=..., score=None)) == {}
    # and its required questions are required when it is relevant
    assert check(form, with_(portal=..., score=...)) == {
        "portal": "required", "score": "required"}


@pytest.mark.parametrize("name, value, code", [
    ("age", "30", "type"), ("age", True, "type"), ("age", 30.5, "type"), ("age", 17, "range"),
    ("age", 100, "range"), ("age", 10**30, "range"), ("income", -1, "range"),
    ("income", "12", "type"), ("income", float("nan"), "type"),
    ("income", float("inf"), "type"),
    ("sex", "x", "choice"), ("sex", ["f"], "type"), ("sex", 1, "type"),
    ("channels", "online", "type"), ("channels", ["online", "online"], "duplicate_choice"),
    ("channels", ["online", "tv"], "choice"), ("channels", ["online", "dk"], "reserved_in_list"),
    ("channels", ["online", 1], "type"),
    ("portal", 4, "type"), ("portal", "6", "choice"), ("score", 11, "range"),
    ("score", -1, "range"), ("score", "8", "type"), ("score", 7.5, "type"),
    ("name", 5, "type"), ("name", "x" * 1001, "too_long"), ("name", "a\x00b", "type"),
    ("comment", "x" * 10001, "too_long"),
    ("visit", "2025-02-30", "type"), ("visit", "2025-6-1", "type"),
    ("visit", "2025-06-01T00:00", "type"), ("visit", 20250601, "type"),
    ("agency", "", "required"), ("agency", " \t", "required"), ("agency", 12, "type"),
    ("agency", "x" * 101, "type"),
    ("sex", "na", "reserved_not_allowed"), ("age", "na", "reserved_not_allowed"),
    ("score", "dk", "reserved_not_allowed"),
])
def test_types_ranges_and_codes(form, name, value, code):
    assert check(form, with_(**{name: value})) == {name: code}


def test_integers_beyond_what_a_browser_holds_are_refused():
    q = make_questionnaire(Question("n", "integer", label=t("N")))
    assert check(q, {"n": 2**53 - 1}) == {}
    assert check(q, {"n": -(2**53)}) == {"n": "range"}
    assert check(q, {"n": 10**400}) == {"n": "range"}


def test_whole_numbers_may_arrive_as_integral_floats(form):
    assert check(form, with_(age=30.0, score=8.0)) == {}


@pytest.mark.parametrize("name, value", [
    ("age", "dk"), ("income", "na"), ("portal", "na"), ("portal", "dk"),
])
def test_na_and_dk_where_allowed(form, name, value):
    assert check(form, with_(**{name: value})) == {}


def test_constraints_with_messages_in_both_languages(form):
    answers = with_(channels=["online", "desk", "post"], name="L", visit="2025-07-01")
    assert check(form, answers) == {
        "channels": "constraint", "name": "constraint", "visit": "constraint"}
    assert validate_answers(form, answers, today=TODAY, language="vi")["channels"] == \
        "Chọn tối đa 2"
    assert validate_answers(form, answers, today=TODAY, language="en")["channels"] == \
        "Choose at most 2"
    # a constraint without a message falls back to a generic one
    assert validate_answers(form, answers, today=TODAY, language="en")["visit"] == \
        "The answer is not allowed"
    assert validate_answers(form, answers, today=TODAY)["visit"] == "Câu trả lời không hợp lệ"


def test_constraints_are_not_applied_to_na_or_dk(form):
    # 'dk' is not 'online', so section b no longer applies and must be left out
    assert check(form, with_(channels="dk", portal=..., score=...)) == {}


def test_messages_are_bilingual(form):
    en = validate_answers(form, with_(age=17), today=TODAY, language="en")
    vi = validate_answers(form, with_(age=17), today=TODAY, language="vi")
    assert en == {"age": "Must be between 18 and 99"}
    assert vi == {"age": "Phải trong khoảng từ 18 đến 99"}


def test_picker_codes_can_be_checked_against_known_lists(form):
    assert check(form, GOOD, agencies={"SO_TU_PHAP"}, procedures={"1.001"}) == {}
    assert check(form, GOOD, agencies={"UBND_Q1"}) == {"agency": "unknown_agency"}


def test_answers_must_be_an_object(form):
    assert check(form, ["age", 30]) == {"": "not_object"}
    assert check(form, {1: "x"}) == {"": "not_object"}


def test_compute_gives_relevance_and_calculations(form):
    ev = compute(form, with_(age=65), today=TODAY)
    assert ev.calculated == {"older": "yes"}
    assert ev.relevant["b"] and ev.relevant["portal"]
    ev = compute(form, with_(channels=["desk"]), today=TODAY)
    assert not ev.relevant["b"] and not ev.relevant["score"]


def test_an_invalid_questionnaire_cannot_check_answers():
    bad = make_questionnaire(Question("a", "text", label=t("A"), relevant="${zz}"))
    with pytest.raises(QuestionnaireInvalid) as info:
        validate_answers(bad, {})
    assert "zz" in str(info.value)


def test_today_may_be_a_date(form):
    answers = with_(visit="2025-06-15")
    assert check_answers(form, answers, today=dt.date(2025, 6, 14))["visit"].code == "constraint"
    assert check_answers(form, answers, today=dt.date(2025, 6, 15)) == {}


def test_a_response_stays_tied_to_the_version_it_answered():
    """Versions are separate JSON documents: editing a new version (as the builder does)
    never changes what an older version's answers are checked against."""
    v1_doc = every_type_questionnaire().to_dict()
    v2 = Questionnaire.from_dict(v1_doc)
    v2.children[0].children[1].minimum = 40  # new version: age now 40+
    v2_doc = v2.to_dict()
    answers_on_v1 = with_(age=30)
    assert validate_answers(Questionnaire.from_dict(v1_doc), answers_on_v1, today=TODAY) == {}
    assert set(validate_answers(Questionnaire.from_dict(v2_doc), answers_on_v1,
                                today=TODAY)) == {"age"}
    assert v1_doc == every_type_questionnaire().to_dict()


# --------------------------------------------------------------------- the template

def template_interview(**changes):
    answers = {
        "co_quan": "UBND_PHUONG_BEN_THANH", "thu_tuc": "2.000908", "kenh": "truc_tiep",
        "ngay_nop_ho_so": "2025-05-02", "ngay_nhan_ket_qua": "2025-05-10",
        "tc_nd_cho_ngoi": "4", "tc_nd_trang_thiet_bi": "5", "tc_nd_hien_dai": "na",
        "tc_hai_long": "4", "tc_mong_doi": "co_so_vat_chat",
        "tthc_nd_niem_yet": "4", "tthc_nd_chinh_xac": "4", "tthc_nd_thanh_phan": "5",
        "tthc_nd_phi": "dk", "tthc_nd_thoi_han": "4", "tthc_hai_long": "5",
        "tthc_mong_doi": "khac", "tthc_mong_doi_khac": "Giảm giấy tờ photo",
        "cc_nd_lich_su": "5", "cc_nd_lang_nghe": "4", "cc_nd_giai_thich": "4",
        "cc_nd_huong_dan": "4", "cc_nd_tuan_thu": "5", "cc_thai_do": "5", "cc_phien_ha": "khong",
        "cc_hai_long": "5",
        "kq_tra_ket_qua": "som_hen", "kq_so_lan_lien_he": "mot_lan",
        "kq_so_co_quan": "chi_mot_cua", "kq_nd_dung_quy_dinh": "5", "kq_nd_chinh_xac": "5",
        "kq_hai_long": "4",
        "gy_da_gop_y": "khong", "gy_nd_bo_tri": "3",
        "nd61_thong_tin": "day_du", "nd61_chi_them": "khong",
        "hai_long_chung": "4", "diem_chung": 8,
        "gioi_tinh": "nu", "nhom_tuoi": "35-44", "trinh_do": "dai_hoc",
        "nghe_nghiep": "kinh_doanh", "noi_cu_tru": "cung_xa",
    }
    for k, v in changes.items():
        if v is ...:
            answers.pop(k)
        else:
            answers[k] = v
    return answers


@pytest.fixture(scope="module")
def template():
    return compile_questionnaire(standard_template())


def test_a_realistic_in_person_interview_on_the_template(template):
    assert check(template, template_interview()) == {}
    ev = compute(template, template_interview(), today=TODAY)
    assert ev.calculated == {"tt01_diem_1": 2, "tt01_diem_3": 1, "tt01_diem_4": 1,
                             "tt01_diem_7": 2}


def test_online_items_only_when_the_channel_is_online(template):
    online_only = {"tc_nd_cong_dvc": "4", "nd61_dvctt": "3",
                   "nd61_dvctt_van_de": ["cham_loi"]}
    assert set(check(template, template_interview(**online_only))) == set(online_only)
    online = template_interview(kenh="truc_tuyen_toan_trinh", tc_nd_cho_ngoi=...,
                                tc_nd_trang_thiet_bi=..., tc_nd_hien_dai=..., **online_only)
    assert check(template, online) == {}
    assert check(template, {**online, "nd61_dvctt_van_de": ["cham_loi", "khong_co_van_de"]}) \
        == {"nd61_dvctt_van_de": "constraint"}
    missing = dict(online)
    del missing["nd61_dvctt"]
    assert check(template, missing) == {"nd61_dvctt": "required"}


def test_late_results_ask_about_an_apology_and_score_zero(template):
    answers = template_interview(kq_tra_ket_qua="tre_hen")
    assert check(template, answers) == {"kq_xin_loi": "required"}
    answers["kq_xin_loi"] = "co"
    assert check(template, answers) == {}
    ev = compute(template, answers, today=TODAY)
    assert ev.calculated["tt01_diem_1"] == 0
    assert ev.calculated["tt01_diem_7"] == 0
    harassed = compute(template, template_interview(cc_phien_ha="co"), today=TODAY)
    assert harassed.calculated["tt01_diem_7"] == 0
    unknown = compute(template, template_interview(kq_tra_ket_qua="dk"), today=TODAY)
    assert unknown.calculated["tt01_diem_1"] is None


def test_feedback_items_follow_the_feedback_question(template):
    answers = template_interview(gy_da_gop_y="co")
    assert set(check(template, answers)) == {
        "gy_nd_de_dang", "gy_nd_tich_cuc", "gy_nd_thong_bao", "gy_hai_long",
        "nd61_tra_loi_gop_y"}


def test_result_date_must_follow_submission(template):
    assert check(template, template_interview(ngay_nhan_ket_qua="2025-05-01")) == {
        "ngay_nhan_ket_qua": "constraint"}
    assert check(template, template_interview(ngay_nop_ho_so="dk")) == {}
    assert validate_answers(template, template_interview(ngay_nhan_ket_qua="2025-05-01"),
                            today=TODAY, language="vi")["ngay_nhan_ket_qua"].startswith(
        "Ngày nhận kết quả phải sau ngày nộp hồ sơ")


_FORM = compile_questionnaire(every_type_questionnaire())
_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=3),
    max_leaves=6,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(GOOD) + ["older", "x", "b"]), _values,
                       max_size=8))
def test_arbitrary_payloads_never_crash(answers):
    result = check_answers(_FORM, answers, today=TODAY)
    assert all(isinstance(k, str) and e.en and e.vi for k, e in result.items())


def test_template_questionnaire_document_is_stable():
    assert standard_template().to_dict() == standard_template().to_dict()
    assert isinstance(Questionnaire.from_dict(standard_template().to_dict()), Questionnaire)
