"""Band tables are data (issue 9: "band tables are configurable data, never constants in
code"): the Circular 01 Art. 15 table ships as a database row, scorecard runs grade with the
stored table (and keep a copy), an organisation defines its own; grades are checked by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sqlalchemy as sa
from scorecard_data import (
    csrf_on,
    csrf_token,
    demo_campaign,
    interview_data,
    run_page_html,
    vi_number,
)

from surveyapp.extensions import db as _db
from surveyapp.models import BandTable, Organisation
from surveyapp.services import band_tables, demo, scorecards
from surveyapp.services.band_tables import BandTableInvalid
from surveyapp.services.scorecards import Options, ScorecardFailed

# Circular 01 points by the answers' codes (the template's choice metadata, written out)
TT01 = {
    "kq_tra_ket_qua": {"som_hen": 2, "dung_hen": 1, "tre_hen": 0},
    "kq_so_lan_lien_he": {"khong_lan_nao": 2, "mot_lan": 1, "hai_lan_tro_len": 0},
    "kq_so_co_quan": {"khong_co_quan_nao": 2, "chi_mot_cua": 1, "nhieu_co_quan": 0},
    "tt01_diem_7": {"0": 0, "1": 1, "2": 2},
}
ART15 = [("Xuất sắc", 15), ("Tốt", 12), ("Khá", 9), ("Trung bình", 6), ("Yếu", None)]


@pytest.fixture()
def world(app, db):
    with app.test_request_context():
        demo.load_demo()
        yield demo_campaign()


def _shipped() -> BandTable:
    return _db.session.scalar(sa.select(BandTable).where(BandTable.organisation_id.is_(None),
                                                         BandTable.default_for == "tt01"))


def test_the_circular01_table_ships_as_a_row(app, db):
    with app.app_context():
        row = _shipped()
        assert row is not None and row.name == "Thông tư 01/2018/TT-VPCP, Điều 15"
        assert [(b["label"], b["lower"]) for b in row.spec["bands"]] == ART15
        assert row.spec["reference_max"] == 18 and row.spec["scale_to_measured"] is True


def _by_hand(campaign, wrun) -> dict:
    """Per agency (None: the city): the Art. 15 display total (each indicator's weighted mean
    points rounded half up to one decimal, then added) and the maximum measured."""
    data, _design = interview_data(campaign, wrun, [n for n in TT01 if n != "tt01_diem_7"],
                                   calculated=["tt01_diem_7"])
    w = data["weight"]
    out = {}
    for code in [None, *sorted(set(data["agency"]))]:
        dom = np.ones(len(w), bool) if code is None else data["agency"] == code
        total, maximum = 0.0, 0.0
        for name, table in TT01.items():
            values = data[name]
            pts = np.array([table.get(_code(v), np.nan) for v in values], dtype=float)
            ok = dom & np.isfinite(pts)
            if w[ok].sum() == 0:
                continue
            mean = float((w[ok] * pts[ok]).sum() / w[ok].sum())
            total += math.floor(mean * 10 + 0.5 + 1e-9) / 10
            maximum += 2
        out[code] = (total, maximum)
    return out


def _code(v) -> str:
    """An answer as the points tables are keyed (a whole float without its ".0")."""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _grade(total: float, maximum: float, bands=ART15, reference=18.0) -> str:
    for label, lower in bands:
        if lower is None or total >= lower * maximum / reference - 1e-12:
            return label
    raise AssertionError("no band")


def test_a_circular01_run_is_graded_with_the_stored_table_scaled_to_the_maximum(world):
    campaign, wrun = world
    run = scorecards.compute_scorecard(None, wrun, Options("tt01", min_n=5, rule="cv"))
    shipped = _shipped()
    assert run.band_table_id == shipped.id and run.bands == shipped.spec
    hand = _by_hand(campaign, wrun)
    graded = [r for r in run.rows if r.node == "total"]
    assert graded and all(r.status != "suppressed" for r in graded)
    for r in graded:
        total, maximum = hand[r.agency_code]
        assert r.maximum == pytest.approx(maximum)
        assert r.grade == _grade(total, maximum), (r.agency_code, total, maximum)
    assert all(r.grade is None for r in run.rows if r.node != "total")
    assert len({r.grade for r in graded}) >= 1
    page = scorecards.run_page(run)["grading"]
    assert page["scaled"] and page["maximum"] == 8.0 and page["reference_max"] == 18
    assert [t.lower for t in page["thresholds"]][:4] == pytest.approx(
        [15 * 8 / 18, 12 * 8 / 18, 9 * 8 / 18, 6 * 8 / 18])


def test_changing_the_table_row_changes_later_runs_not_earlier_ones(world):
    campaign, wrun = world
    first = scorecards.compute_scorecard(None, wrun, Options("tt01", min_n=5, rule="cv"))
    shipped = _shipped()
    shipped.spec = {"name": shipped.name, "bands": [{"label": "Đạt", "lower": 0},
                                                    {"label": "Chưa đạt", "lower": None}],
                    "reference_max": None, "scale_to_measured": False}
    _db.session.flush()
    second = scorecards.compute_scorecard(None, wrun, Options("tt01", min_n=5, rule="cv"))
    assert {r.grade for r in second.rows if r.node == "total"} == {"Đạt"}
    _db.session.refresh(first)
    assert [b["label"] for b in first.bands["bands"]] == [b for b, _l in ART15]  # its copy
    assert {r.grade for r in first.rows if r.node == "total"} <= {b for b, _l in ART15}


def test_no_grading_and_an_organisations_own_table(world):
    campaign, wrun = world
    none = scorecards.compute_scorecard(None, wrun, Options("tt01", min_n=5, band_table="none"))
    assert none.bands is None and all(r.grade is None for r in none.rows)
    sipas_default = scorecards.compute_scorecard(None, wrun, Options("sipas", min_n=5,
                                                                     rule="cv"))
    assert sipas_default.bands is None  # SIPAS has no default table
    own = band_tables.create_table(None, campaign.organisation, "Ngưỡng SIPAS",
                                   "Cao = 0,7\nThấp")
    assert own.spec["bands"] == [{"label": "Cao", "lower": 0.7},
                                 {"label": "Thấp", "lower": None}]
    run = scorecards.compute_scorecard(None, wrun, Options("sipas", min_n=5, rule="cv",
                                                           band_table=str(own.id)))
    graded = [r for r in run.rows if r.node == "SIPAS"]
    assert graded
    for r in graded:
        assert r.grade == ("Cao" if r.estimate >= 0.7 else "Thấp")
    assert str(own.id) in dict(scorecards.form_choices(campaign)["band_tables"])
    # another organisation's table is not offered and not accepted
    women = _db.session.scalar(sa.select(Organisation).where(Organisation.name == demo.WOMEN))
    theirs = band_tables.create_table(None, women, "Của tổ chức khác", "A = 1\nB")
    with pytest.raises(ScorecardFailed) as exc:
        scorecards.compute_scorecard(None, wrun, Options("sipas", band_table=str(theirs.id)))
    assert "bảng xếp loại" in exc.value.message


@pytest.mark.parametrize("name, text, maximum, scale, field, message", [
    ("", "A = 1\nB", "", False, "name", "Hãy nhập tên bảng xếp loại"),
    ("T", "A = 1", "", False, "bands", "ít nhất hai mức"),
    ("T", "A = 1\nB = 2\nC", "", False, "bands", "Dòng 2: mỗi ngưỡng phải nhỏ hơn"),
    ("T", "A = mười\nB", "", False, "bands", "Dòng 1: ngưỡng \"mười\" không phải là một số"),
    ("T", "A\nB = 1", "", False, "bands", "Dòng 1: chỉ mức cuối cùng được để trống"),
    ("T", "A = 2\nA = 1\nB", "", False, "bands", "bị nhập hai lần"),
    ("T", " = 2\nB", "", False, "bands", "Dòng 1: mức xếp loại chưa có tên"),
    ("T", "A = 2\nB", "", True, "reference_max", "Hãy nhập điểm tối đa"),
    ("T", "A = 2\nB", "-3", False, "reference_max", "phải là một số dương"),
    ("Thông tư 01/2018/TT-VPCP, Điều 15", "A = 2\nB", "", False, "name", "Đã có"),
])
def test_a_bad_band_table_is_refused_in_vietnamese(world, name, text, maximum, scale, field,
                                                   message):
    campaign, _w = world
    before = _db.session.scalar(sa.select(sa.func.count()).select_from(BandTable))
    with pytest.raises(BandTableInvalid) as exc:
        band_tables.create_table(None, campaign.organisation, name, text, maximum, scale)
    assert message in exc.value.fields[field]
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(BandTable)) == before


def test_the_run_page_shows_grades_and_the_scaling(world, client, auth):
    _campaign, wrun = world
    run, html = run_page_html(client, auth, wrun, Options("tt01", min_n=5, rule="cv"))
    assert 'data-testid="grade"' in html and 'data-testid="grading-note"' in html
    assert "Các ngưỡng được xây dựng cho điểm tối đa 18" in html
    assert "Xuất sắc ≥ 6,667" in html  # 15 × 8 / 18
    assert "Thông tư 01/2018/TT-VPCP, Điều 15" in html
    # the graded total is shown as Art. 15 rounds it, beside its maximum
    city = next(r for r in run.rows if r.agency_code is None and r.level != "item")
    assert 'data-testid="display"' in html
    assert f"<strong>{vi_number(city.display, 1)}</strong> / " in html


def test_the_band_table_page_stores_a_table_and_refuses_a_bad_one(world, app, client, auth):
    campaign, _w = world
    _db.session.commit()
    auth.login("phantich", "demo-analyst-2024")
    url = f"/campaigns/{campaign.id}/indices/band-tables/new"
    with csrf_on(app):
        assert client.post(url, data={"name": "Bảng thử", "bands": "A = 1\nB"}).status_code \
            == 400  # no CSRF token
        bad = client.post(url, data={"csrf_token": csrf_token(client, url), "name": "Bảng thử",
                                     "bands": "Tốt = 50\nKhá = 60\nKém"})
        assert bad.status_code == 400 and "Dòng 2: mỗi ngưỡng phải nhỏ hơn" in bad.get_data(
            as_text=True)
        good = client.post(url, data={"csrf_token": csrf_token(client, url), "name": "Bảng thử",
                                      "bands": "Tốt = 60\nKhá = 50\nKém",
                                      "reference_max": "100", "scale_to_measured": "y"},
                           follow_redirects=True)
    assert good.status_code == 200 and "Đã lưu bảng xếp loại" in good.get_data(as_text=True)
    table = _db.session.scalar(sa.select(BandTable).where(BandTable.name == "Bảng thử"))
    assert table.organisation_id == campaign.organisation_id
    assert table.spec == {"name": "Bảng thử", "bands": [
        {"label": "Tốt", "lower": 60.0}, {"label": "Khá", "lower": 50.0},
        {"label": "Kém", "lower": None}], "reference_max": 100.0, "scale_to_measured": True}
