"""User-defined index trees stored as data (issue 9): the editor's rules in Vietnamese,
versions that never change, and scorecard runs of a custom index equal to ``analysis`` on the
interviews read directly, with the tree written out here by hand."""

from __future__ import annotations

import csv
import io
import math

import pytest
import sqlalchemy as sa
from scorecard_data import csrf_on, csrf_token, demo_campaign, interview_data

from analysis.indices import Dimension, IndexDefinition, Item, compute_index, mean_0_100, points
from surveyapp.extensions import db as _db
from surveyapp.models import AuditEvent, CustomIndex, CustomIndexVersion, ScorecardRun
from surveyapp.services import custom_indices, demo, scorecards
from surveyapp.services.custom_indices import CustomIndexInvalid, DimensionInput, ItemInput
from surveyapp.services.scorecards import Options, ScorecardFailed

QUESTIONS = ("tc_hai_long", "cc_hai_long", "kq_hai_long", "diem_chung")


@pytest.fixture()
def world(app, db):
    with app.test_request_context():
        demo.load_demo()
        yield demo_campaign()


def _items(chosen: dict[str, tuple[str, str, str]], campaign) -> list[ItemInput]:
    """Every scale question of the campaign, as the editor posts them; ``chosen`` gives
    (dimension, weight, scoring) of those in the index."""
    out = []
    for q in custom_indices.editor_questions(campaign):
        dim, weight, scoring = chosen.get(q.name, ("", "1", "mean"))
        out.append(ItemInput(q.name, dim, weight, scoring))
    return out


def _save(campaign, index=None, name="Chỉ số hài lòng riêng", dims=None, chosen=None):
    dims = dims or [DimensionInput("Tiếp cận và kết quả", "2"),
                    DimensionInput("Công chức", "1"), DimensionInput("", "1")]
    chosen = chosen or {"tc_hai_long": ("1", "1", "mean"), "kq_hai_long": ("1", "3", "top:2"),
                        "cc_hai_long": ("2", "1", "mean"), "diem_chung": ("2", "0,5", "top:2")}
    return custom_indices.save_version(None, campaign, index, name, dims,
                                       _items(chosen, campaign))


def test_the_scale_questions_are_the_likert_and_rating_questions(world):
    campaign, _w = world
    questions = {q.name: q for q in custom_indices.editor_questions(campaign)}
    assert questions["tc_hai_long"].codes == ("1", "2", "3", "4", "5")
    assert questions["diem_chung"].type == "rating"
    assert (questions["diem_chung"].lo, questions["diem_chung"].hi) == (0.0, 10.0)
    assert "co_quan" not in questions and "kq_tra_ket_qua" not in questions  # not scales
    assert dict(questions["tc_hai_long"].scoring_choices())["top:2"].startswith(
        "Tỷ lệ chọn 2 mức cao nhất (5, 4)")


def test_saving_stores_a_version_and_editing_the_next_one(world):
    campaign, _w = world
    v1, created = _save(campaign)
    assert created and v1.number == 1
    assert v1.method_version == f"custom-{v1.index_id}/v1"
    assert v1.questionnaire_version_id == campaign.questionnaire_version_id
    dims = v1.tree["dimensions"]
    assert [(d["id"], d["label"], d["weight"]) for d in dims] == [
        ("dim#1", "Tiếp cận và kết quả", 2.0), ("dim#2", "Công chức", 1.0)]
    assert [(i["question"], i["scoring"], i.get("top"), i["weight"]) for i in dims[1]["items"]] \
        == [("cc_hai_long", "mean", None, 1.0), ("diem_chung", "top", 2, 0.5)]
    index = v1.index
    same, created = _save(campaign, index)  # nothing changed: no new version
    assert not created and same.id == v1.id
    v2, created = _save(campaign, index, name="Chỉ số hài lòng riêng (sửa)")
    assert created and v2.number == 2 and v2.index_id == v1.index_id
    _db.session.refresh(v1)
    assert v1.name == "Chỉ số hài lòng riêng" and v1.number == 1  # the old version stays
    assert [v.number for v in index.versions] == [1, 2]
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "custom_index_version")) == 2


@pytest.mark.parametrize("case, field, message", [
    ("empty_dimension", "dimensions-1-label", "Nhóm \"Công chức\" chưa có câu hỏi nào"),
    ("not_a_scale", "items-0-question", "không phải là câu hỏi thang đo"),
    ("zero_weight", "items-{tc}-weight", "phải là một số dương"),
    ("negative_dimension_weight", "dimensions-0-weight", "Trọng số của nhóm 1 phải là một số "
                                                         "dương"),
    ("unnamed_dimension", "dimensions-2-label", "Nhóm 3 đã có câu hỏi nhưng chưa có tên"),
    ("no_dimension", "dimensions", "Chỉ số cần ít nhất một nhóm có câu hỏi"),
    ("no_name", "name", "Hãy nhập tên chỉ số"),
    ("bad_scoring", "items-{tc}-scoring", "Hãy chọn cách tính điểm"),
    ("twin_dimensions", "dimensions-1-label", "Có hai nhóm cùng tên"),
])
def test_a_bad_tree_is_refused_in_vietnamese_and_nothing_is_stored(world, case, field,
                                                                   message):
    campaign, _w = world
    names = [q.name for q in custom_indices.editor_questions(campaign)]
    tc = names.index("tc_hai_long")
    dims = [DimensionInput("Tiếp cận", "1"), DimensionInput("Công chức", "1"),
            DimensionInput("", "1")]
    chosen = {"tc_hai_long": ("1", "1", "mean"), "cc_hai_long": ("2", "1", "mean")}
    items = None
    name = "Chỉ số thử"
    if case == "empty_dimension":
        chosen = {"tc_hai_long": ("1", "1", "mean")}
    elif case == "not_a_scale":
        items = [ItemInput("co_quan", "1", "1", "mean")] + _items(chosen, campaign)[1:]
    elif case == "zero_weight":
        chosen["tc_hai_long"] = ("1", "0", "mean")
    elif case == "negative_dimension_weight":
        dims[0] = DimensionInput("Tiếp cận", "-2")
    elif case == "unnamed_dimension":
        chosen["kq_hai_long"] = ("3", "1", "mean")
    elif case == "no_dimension":
        chosen, dims = {}, [DimensionInput("", "1")]
    elif case == "no_name":
        name = "  "
    elif case == "bad_scoring":
        chosen["tc_hai_long"] = ("1", "1", "top:5")  # a 5-point scale has no "top 5" share
    elif case == "twin_dimensions":
        dims[1] = DimensionInput("Tiếp cận", "1")
    before = _db.session.scalar(sa.select(sa.func.count()).select_from(CustomIndexVersion))
    with pytest.raises(CustomIndexInvalid) as exc:
        custom_indices.save_version(None, campaign, None, name, dims,
                                    items or _items(chosen, campaign))
    key = field.format(tc=tc)
    assert key in exc.value.fields, exc.value.fields
    assert message in exc.value.fields[key]
    assert exc.value.message == "Chưa lưu chỉ số: hãy sửa các ô được đánh dấu."
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(CustomIndexVersion)) == \
        before


def _hand_written_tree(method_version: str) -> IndexDefinition:
    """The tree of ``_save``'s first version, written with ``analysis`` directly."""
    likert = ["1", "2", "3", "4", "5"]
    rating = [str(k) for k in range(11)]
    top2 = {c: (100.0 if c in ("4", "5") else 0.0) for c in likert}
    top2_rating = {c: (100.0 if c in ("9", "10") else 0.0) for c in rating}
    return IndexDefinition("index#", method_version, (
        Dimension("dim#1", (Item("tc_hai_long", mean_0_100(1, 5), 1.0),
                            Item("kq_hai_long", points(top2), 3.0)), "weighted", 2.0),
        Dimension("dim#2", (Item("cc_hai_long", mean_0_100(1, 5), 1.0),
                            Item("diem_chung", points(top2_rating), 0.5)), "weighted", 1.0),
    ), "weighted")


def test_a_custom_index_run_equals_analysis_and_names_its_version(world):
    campaign, wrun = world
    version, _c = _save(campaign)
    run = scorecards.compute_scorecard(None, wrun, Options(f"custom:{version.id}", min_n=5,
                                                           rule="cv"))
    assert run.index_key == "custom" and run.custom_index_version_id == version.id
    assert run.method_version == version.method_version
    data, design = interview_data(campaign, wrun, QUESTIONS)
    result = compute_index(_hand_written_tree(version.method_version), data, design,
                           by="agency", include_total=True)
    stored = {(r.agency_code, r.node): r for r in run.rows}
    assert len(stored) == len(result.rows)
    for r in result.rows:
        s = stored[(None if r.domain is None else r.domain_dict["agency"], r.node)]
        assert s.n == r.n and s.level == r.level
        for name in ("estimate", "se", "ci_low", "ci_high", "unweighted"):
            want = getattr(r, name)
            assert getattr(s, name) == pytest.approx(want, rel=1e-9, abs=1e-12), (r.node, name)
    # the city's overall index by hand: weighted means of the 0-100 items
    city = {r.node: r.estimate for r in result.rows if r.domain is None}
    dim1 = (city["tc_hai_long"] + 3 * city["kq_hai_long"]) / 4
    dim2 = (city["cc_hai_long"] + 0.5 * city["diem_chung"]) / 1.5
    assert stored[(None, "index#")].estimate == pytest.approx((2 * dim1 + dim2) / 3, rel=1e-12)
    assert 0 <= stored[(None, "index#")].estimate <= 100
    # pages and exports name the nodes by the tree's labels and the index by its version
    rows = scorecards.run_rows(run)
    assert {r["label"] for r in rows if r["node"] == "dim#2"} == {"Công chức"}
    assert {r["label"] for r in rows if r["node"] == "index#"} == {"Chỉ số hài lòng riêng"}
    text = scorecards.export_run(run, "csv").decode("utf-8-sig")
    assert "Tiếp cận và kết quả" in text
    assert scorecards.api_document(run)["run"]["index"]["custom_index_version"] == 1


def test_an_edited_index_runs_with_its_new_version_and_the_old_run_keeps_the_old(world):
    campaign, wrun = world
    v1, _c = _save(campaign)
    first = scorecards.compute_scorecard(None, wrun, Options(f"custom:{v1.id}", min_n=5,
                                                             rule="cv"))
    v2, _c = _save(campaign, v1.index, chosen={"tc_hai_long": ("1", "1", "mean"),
                                              "cc_hai_long": ("2", "1", "mean")})
    second = scorecards.compute_scorecard(None, wrun, Options(f"custom:{v2.id}", min_n=5,
                                                              rule="cv"))
    assert first.method_version.endswith("/v1") and second.method_version.endswith("/v2")
    assert {r.node for r in first.rows} > {r.node for r in second.rows}  # fewer items in v2
    assert first.custom_index_version_id == v1.id
    choices = dict(scorecards.form_choices(campaign)["indices"])
    assert f"custom:{v2.id}" in choices and f"custom:{v1.id}" not in choices  # latest only
    assert "phiên bản 2" in choices[f"custom:{v2.id}"]


def test_a_missing_version_or_question_is_refused(world):
    campaign, wrun = world
    other = CustomIndex(organisation_id=campaign.organisation_id)
    _db.session.add(other)
    _db.session.flush()
    ghost = CustomIndexVersion(index_id=other.id, number=1, name="Ma", tree={
        "format": 1, "dimensions": [{"id": "dim#1", "label": "X", "weight": 1.0, "items": [
            {"question": "khong_co", "label": "?", "weight": 1.0, "scoring": "mean",
             "lo": 1.0, "hi": 5.0, "codes": ["1", "2", "3", "4", "5"]}]}]})
    _db.session.add(ghost)
    _db.session.flush()
    before = len(scorecards.list_runs(campaign))
    with pytest.raises(ScorecardFailed) as exc:
        scorecards.compute_scorecard(None, wrun, Options(f"custom:{ghost.id}"))
    assert "không phải là câu hỏi thang đo có cùng khoảng giá trị" in exc.value.message
    with pytest.raises(ScorecardFailed) as exc:
        scorecards.compute_scorecard(None, wrun, Options("custom:999999"))
    assert "chỉ số tự định nghĩa của tổ chức" in exc.value.message
    assert len(scorecards.list_runs(campaign)) == before


# ---- the pages -----------------------------------------------------------------------------

@pytest.fixture
def page_campaign(app, db):
    with app.app_context():
        demo.load_demo()
        campaign, wrun = demo_campaign()
        yield campaign.id, wrun.id


def _editor_form(client, url) -> dict:
    """The editor's fields as a browser would post them (its starting values)."""
    import re

    html = client.get(url).get_data(as_text=True)
    data = {m.group(1): m.group(2) for m in re.finditer(
        r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html)}
    for m in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected',
                           m.group(2))
        first = re.search(r'<option[^>]*value="([^"]*)"', m.group(2))
        data[m.group(1)] = (chosen.group(1) or chosen.group(2)) if chosen else first.group(1)
    data.pop("more", None)
    data.pop("save", None)
    return data


def test_the_editor_pages_create_refuse_and_version_an_index(page_campaign, app, client, auth):
    campaign_id, _w = page_campaign
    auth.login("phantich", "demo-analyst-2024")
    with csrf_on(app):
        _editor_pages(app, client, campaign_id, _w)


def _editor_pages(app, client, campaign_id, weight_run_id):
    base = f"/campaigns/{campaign_id}/indices"
    listing = client.get(base + "/").get_data(as_text=True)
    assert "Chỉ số tự định nghĩa" in listing and "Thông tư 01/2018/TT-VPCP, Điều 15" in listing
    page = client.get(base + "/new").get_data(as_text=True)
    assert 'data-testid="item-tc_hai_long"' in page and 'data-testid="item-diem_chung"' in page
    assert 'data-testid="item-co_quan"' not in page
    form = _editor_form(client, base + "/new")
    items = {v: k.split("-")[1] for k, v in form.items() if k.endswith("-question")}
    assert client.post(base + "/new", data={**form, "name": "X"}).status_code == 400  # no CSRF
    # a dimension without items, and a zero weight: refused, each message at its field
    form.update({"csrf_token": csrf_token(client, base + "/new"), "name": "Chỉ số trên trang",
                 "dimensions-0-label": "Tiếp cận", "dimensions-1-label": "Trống",
                 f"items-{items['tc_hai_long']}-dimension": "1",
                 f"items-{items['tc_hai_long']}-weight": "0"})
    bad = client.post(base + "/new", data=form)
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert "Nhóm &#34;Trống&#34; chưa có câu hỏi nào" in html or \
        "Nhóm \"Trống\" chưa có câu hỏi nào" in html
    assert "phải là một số dương" in html and 'data-testid="index-errors"' in html
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(CustomIndex).where(
            CustomIndex.organisation_id == _org_of(campaign_id))) == 0
    # "one more dimension" adds a slot and stores nothing
    more = client.post(base + "/new", data={**form, "more": "1"})
    assert more.status_code == 200 and 'data-testid="dimension-5"' in more.get_data(as_text=True)
    form.update({"dimensions-1-label": "", f"items-{items['tc_hai_long']}-weight": "2",
                 f"items-{items['cc_hai_long']}-dimension": "1",
                 f"items-{items['cc_hai_long']}-scoring": "top:2", "save": "1"})
    done = client.post(base + "/new", data=form, follow_redirects=True)
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "Đã lưu phiên bản 1 của chỉ số" in text and 'data-testid="version-1"' in text
    with app.app_context():
        index = _db.session.scalar(sa.select(CustomIndex).where(
            CustomIndex.organisation_id == _org_of(campaign_id)))
        index_id = index.id
        tree = index.latest.tree
    assert [(i["question"], i["weight"], i["scoring"]) for i in tree["dimensions"][0]["items"]] \
        == [("tc_hai_long", 2.0, "mean"), ("cc_hai_long", 1.0, "top")]
    # edit: the form starts from version 1; a changed name stores version 2
    edit_url = f"{base}/{index_id}/edit"
    form = _editor_form(client, edit_url)
    assert form["name"] == "Chỉ số trên trang" and form["dimensions-0-label"] == "Tiếp cận"
    form.update({"csrf_token": csrf_token(client, edit_url), "name": "Chỉ số trên trang 2",
                 "save": "1"})
    done = client.post(edit_url, data=form, follow_redirects=True).get_data(as_text=True)
    assert "Đã lưu phiên bản 2" in done and 'data-testid="version-1"' in done
    # the new-run form offers it; a run with it is stored and names the version
    new_run = client.get(f"/campaigns/{campaign_id}/scorecards/new").get_data(as_text=True)
    assert "Chỉ số tự định nghĩa: Chỉ số trên trang 2 (phiên bản 2)" in new_run
    with app.app_context():
        version_id = _db.session.scalar(sa.select(CustomIndexVersion.id).where(
            CustomIndexVersion.index_id == index_id, CustomIndexVersion.number == 2))
    url = f"/campaigns/{campaign_id}/scorecards/new"
    posted = client.post(url, data={
        "csrf_token": csrf_token(client, url), "weight_run": str(weight_run_id),
        "index_key": f"custom:{version_id}", "band_table": "none", "confidence_level": "0.95",
        "min_n": "5", "rule": "cv", "seed": "1"}, follow_redirects=True)
    assert posted.status_code == 200
    page = posted.get_data(as_text=True)
    assert "Chỉ số trên trang 2 (chỉ số tự định nghĩa, phiên bản 2)" in page
    with app.app_context():
        run = _db.session.scalar(sa.select(ScorecardRun).where(
            ScorecardRun.custom_index_version_id == version_id))
        assert run is not None and run.method_version == f"custom-{index_id}/v2"
    detail = client.get(f"{base}/{index_id}").get_data(as_text=True)
    assert "Các lần tính bảng điểm dùng phiên bản này" in detail and f"/scorecards/{run.id}" in \
        detail


def _org_of(campaign_id: int) -> int:
    from surveyapp.models import Campaign

    return _db.session.get(Campaign, campaign_id).organisation_id


def test_an_index_of_another_organisation_is_not_found(page_campaign, app, client, auth):
    campaign_id, _w = page_campaign
    with app.app_context():
        from surveyapp.models import Organisation

        women = _db.session.scalar(sa.select(Organisation).where(
            Organisation.name == demo.WOMEN))
        foreign = CustomIndex(organisation_id=women.id)
        _db.session.add(foreign)
        _db.session.commit()
        foreign_id = foreign.id
    auth.login("phantich", "demo-analyst-2024")
    assert client.get(f"/campaigns/{campaign_id}/indices/{foreign_id}").status_code == 404
    assert client.get(f"/campaigns/{campaign_id}/indices/{foreign_id}/edit").status_code == 404


def test_csv_of_a_custom_run_has_its_labels(world):
    campaign, wrun = world
    version, _c = _save(campaign)
    run = scorecards.compute_scorecard(None, wrun, Options(f"custom:{version.id}", min_n=5,
                                                           rule="cv"))
    rows = list(csv.DictReader(io.StringIO(scorecards.export_run(run, "csv").decode(
        "utf-8-sig"))))
    overall = [r for r in rows if r["node"] == "index#" and r["agency_code"] == ""]
    assert overall and overall[0]["label"] == "Chỉ số hài lòng riêng"
    assert math.isclose(float(overall[0]["estimate"]), next(
        r.estimate for r in run.rows if r.node == "index#" and r.agency_code is None))
