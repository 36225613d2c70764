"""The standard citizen-satisfaction questionnaire (domain.md §2–§3)."""

from __future__ import annotations

import pytest

from surveyapp.expressions import parse_expression, references
from surveyapp.questionnaires import Group, standard_template, validate_questionnaire

FACTORS = {
    "tiep_can": "Tiếp cận dịch vụ",
    "thu_tuc_hanh_chinh": "Thủ tục hành chính",
    "cong_chuc": "Công chức trực tiếp giải quyết công việc",
    "ket_qua": "Kết quả cung ứng dịch vụ",
    "gop_y": "Tiếp nhận, xử lý góp ý, phản ánh, kiến nghị",
}


@pytest.fixture(scope="module")
def q():
    return standard_template()


def by_name(q):
    return {qq.name: qq for qq in q.questions()}


def test_it_validates_without_errors_or_warnings(q):
    assert validate_questionnaire(q) == []


def test_the_five_sipas_factors_have_facts_satisfaction_and_expectation(q):
    groups = {g.name: g for g in q.children if isinstance(g, Group)}
    for factor, title in FACTORS.items():
        assert title in groups[factor].label["vi"]
        assert groups[factor].label["en"]
        contents = [qq.metadata.get("content") for qq in q.questions()
                    if qq.metadata.get("sipas_factor") == factor]
        assert contents.count("nhan_dinh") >= 2, factor
        assert contents.count("hai_long") == 1, factor
        assert "mong_doi" in contents, factor


def test_satisfaction_scale_wording_is_exact(q):
    scale = q.choice_list("muc_hai_long")
    assert [(c.code, c.label["vi"]) for c in scale.choices] == [
        ("1", "Rất không hài lòng"), ("2", "Không hài lòng"), ("3", "Bình thường"),
        ("4", "Hài lòng"), ("5", "Rất hài lòng")]
    satisfaction = [qq for qq in q.questions() if qq.metadata.get("content") == "hai_long"]
    assert all(qq.type == "likert" and qq.list_name == "muc_hai_long" for qq in satisfaction)
    # na/dk are kept apart from the scale: never codes of the list
    assert not {"na", "dk"} & set(scale.codes())


def test_circular_01_indicators_carry_their_points(q):
    questions = by_name(q)
    indicators = {}
    for qq in q.questions():
        n = qq.metadata.get("tt01_indicator")
        if n is not None and qq.type != "calculate":
            indicators.setdefault(n, []).append(qq)
    assert set(indicators) == {1, 3, 4, 7}
    for n in (1, 3, 4):
        (question,) = indicators[n]
        points = [c.metadata["tt01_points"] for c in q.choice_list(question.list_name).choices]
        assert points == [2, 1, 0]
    assert {qq.name for qq in indicators[7]} == {"cc_thai_do", "cc_phien_ha"}
    assert "gợi ý chi thêm tiền" in questions["cc_phien_ha"].label["vi"]
    for n in (1, 3, 4, 7):
        calc = questions[f"tt01_diem_{n}"]
        assert calc.type == "calculate" and calc.metadata == {"tt01_indicator": n,
                                                              "max_points": 2}


def test_decree_61_article_31_items(q):
    items = {qq.metadata.get("nd61_item") for qq in q.questions()}
    assert {"a", "b", "c", "d", "dd", "e", "g", "h"} <= items


def test_transaction_and_profile_fields(q):
    questions = by_name(q)
    assert questions["co_quan"].type == "agency"
    assert questions["thu_tuc"].type == "procedure"
    assert questions["ngay_nhan_ket_qua"].type == "date"
    assert [c.label["vi"] for c in q.choice_list("kenh").choices] == [
        "Trực tiếp tại Bộ phận Một cửa", "Dịch vụ công trực tuyến toàn trình",
        "Dịch vụ công trực tuyến một phần", "Qua dịch vụ bưu chính công ích"]
    profile = {qq.metadata.get("profile") for qq in q.questions()}
    assert {"sex", "age_group", "education", "occupation", "residence"} <= profile
    assert questions["hai_long_chung"].required
    assert questions["diem_chung"].type == "rating"


def test_online_items_are_skipped_unless_the_channel_is_online(q):
    questions = by_name(q)
    for name in ("tc_nd_cong_dvc", "nd61_dvctt", "nd61_dvctt_van_de"):
        relevant = questions[name].relevant
        assert references(parse_expression(relevant)) == ["kenh"]
        assert "truc_tuyen_toan_trinh" in relevant and "truc_tuyen_mot_phan" in relevant


def test_every_label_is_bilingual_and_vietnamese_has_diacritics(q):
    for qq in q.questions():
        if qq.type != "calculate":
            assert set(qq.label) == {"vi", "en"}, qq.name
    for cl in q.choice_lists:
        for c in cl.choices:
            assert set(c.label) == {"vi", "en"}, (cl.name, c.code)
    text = " ".join(qq.label["vi"] for qq in q.questions())
    for word in ("Ông/Bà", "hài lòng", "hồ sơ", "công chức", "phản ánh", "kiến nghị"):
        assert word in text


def test_names_are_stable(q):
    assert q.name == "khao_sat_hai_long_chuan"
    assert len(q.questions()) == 68
    assert standard_template().to_dict() == q.to_dict()
