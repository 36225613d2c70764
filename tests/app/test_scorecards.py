"""Scorecard runs (issue 9): index figures per agency with reliability flags, suppression,
rank intervals and bands; every stored figure equals ``analysis`` for the same cell.

The expected figures are computed here from the interviews' answers read directly (current
approved versions, the cases' strata, the run's unit weights), with index definitions
written out by hand — independently of the service's extract and scheme builders.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sqlalchemy as sa
from scorecard_data import SIPAS_FACTORS, interview_data

from analysis.indices import circular01_index, compute_index, sipas_index
from analysis.ranking import performance_bands
from analysis.reliability import scorecard
from surveyapp.extensions import db as _db
from surveyapp.models import AuditEvent, Campaign, Organisation, ScorecardRow, ScorecardRun
from surveyapp.questionnaires.template import standard_template
from surveyapp.services import demo, scorecards, weighting
from surveyapp.services.index_definitions import build_definition
from surveyapp.services.scorecards import Options, ScorecardFailed

# Circular 01 points by the answers' codes (the template's choice metadata, written out)
TT01 = {
    "kq_tra_ket_qua": {"som_hen": 2, "dung_hen": 1, "tre_hen": 0},
    "kq_so_lan_lien_he": {"khong_lan_nao": 2, "mot_lan": 1, "hai_lan_tro_len": 0},
    "kq_so_co_quan": {"khong_co_quan_nao": 2, "chi_mot_cua": 1, "nhieu_co_quan": 0},
}


@pytest.fixture()
def world(app, db):
    with app.test_request_context():
        demo.load_demo()
        org = _db.session.scalar(sa.select(Organisation).where(
            Organisation.name == demo.CITY_FRONT))
        campaign = _db.session.scalar(sa.select(Campaign).where(
            Campaign.title == demo.CAMPAIGN_TITLE, Campaign.organisation_id == org.id))
        yield campaign, weighting.list_runs(campaign)[-1]


def _independent_data(campaign, run):
    """Answers, agency, strata and final weights read straight from the interviews."""
    return interview_data(campaign, run, [n for items in SIPAS_FACTORS.values() for n in items]
                          + list(TT01), calculated=["tt01_diem_7"])


def _sipas_run_and_analysis(world, rule):
    """A SIPAS run (cells of at least 5) and analysis's index on the independent data."""
    campaign, wrun = world
    run = scorecards.compute_scorecard(None, wrun, Options("sipas", min_n=5, rule=rule))
    data, design = _independent_data(campaign, wrun)
    return run, compute_index(sipas_index(SIPAS_FACTORS), data, design, by="agency",
                              include_total=True)


def _stored(run):
    return {(r.agency_code, r.node): r for r in run.rows}


def test_scheme_definitions_come_from_the_template_metadata(app):
    d = standard_template()
    sipas = build_definition("sipas", d)
    assert sipas.method_version == "sipas-top2/v1"
    assert {dim.name: [i.name for i in dim.items] for dim in sipas.dimensions} == SIPAS_FACTORS
    tt01 = build_definition("tt01", d)
    assert tt01.method_version == "tt01-2018-art15/v1"
    assert [i.name for i in tt01.items] == [*TT01, "tt01_diem_7"]
    papi = build_definition("papi", d)
    assert papi.method_version == "papi-fixed-range/v1"
    assert [dim.name for dim in papi.dimensions] == list(SIPAS_FACTORS)
    assert build_definition("nope", d) is None


def test_sipas_figures_equal_analysis_for_every_cell(world):
    run, result = _sipas_run_and_analysis(world, "cv")
    stored = _stored(run)
    assert len(stored) == len(result.rows)
    flags = {(None if f.domain is None else f.domain["agency"], f.node): f
             for f in scorecard(result, rule="cv", min_n=5, levels=("item", "dimension", "overall"))}
    for r in result.rows:
        key = (None if r.domain is None else r.domain_dict["agency"], r.node)
        s = stored[key]
        assert s.level == r.level and s.n == r.n
        assert (s.na, s.dk) == (r.na, r.dk)  # an item's na/dk counted (None for dimensions)
        for name in ("estimate", "se", "ci_low", "ci_high", "unweighted", "n_effective"):
            want = getattr(r, name)
            got = getattr(s, name)
            if math.isfinite(want):
                assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (key, name)
            else:
                assert got is None
        f = flags[key]
        want_status = ("suppressed" if f.estimate is None else
                       "flagged" if f.flagged else "reliable")
        assert s.status == want_status, key
    # the overall node is ranked and banded over the agencies shown, like analysis does
    overall = [s for s in run.rows if s.node == "SIPAS" and s.agency_code is not None
               and s.status != "suppressed"]
    assert overall and all(s.rank_low <= s.rank_median <= s.rank_high for s in overall)
    rows, est, cov = result.block("SIPAS")
    codes = [r.domain_dict["agency"] for r in rows]
    keep = [codes.index(s.agency_code) for s in overall]
    bands = performance_bands(est[keep], cov[np.ix_(keep, keep)], df=result.df)
    assert [s.band for s in overall] == [int(b) for b in bands.band]
    assert run.method_version == "sipas-top2/v1" and run.seed == 20240903
    assert _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "scorecard_run")) >= 1


def test_an_nchs_run_shows_the_korn_graubard_interval_it_judged(world):
    from analysis.reliability import nchs_proportion

    run, result = _sipas_run_and_analysis(world, "nchs")
    shown = {(r["agency_code"], r["node"]): r for r in scorecards.run_rows(run)
             if r["estimate"] is not None}
    assert shown
    for r in result.rows:
        row = shown.get((None if r.domain is None else r.domain_dict["agency"], r.node))
        if row is None:
            continue
        kg = nchs_proportion(r.estimate, r.se, r.n, r.df_domain)
        assert (row["ci_low"], row["ci_high"]) == pytest.approx(
            (float(kg.ci_low[0]), float(kg.ci_high[0])), rel=1e-9, abs=1e-12)
        assert 0 <= row["ci_low"] <= row["estimate"] <= row["ci_high"] <= 1


def test_tt01_points_equal_analysis(world):
    campaign, wrun = world
    run = scorecards.compute_scorecard(None, wrun, Options("tt01", min_n=5))
    data, design = _independent_data(campaign, wrun)
    points = dict(TT01)
    points["tt01_diem_7"] = {"0": 0, "1": 1, "2": 2}
    result = compute_index(circular01_index(points), data, design, by="agency",
                           include_total=True)
    stored = _stored(run)
    for r in result.rows:
        s = stored[(None if r.domain is None else r.domain_dict["agency"], r.node)]
        if math.isfinite(r.estimate):
            assert s.estimate == pytest.approx(r.estimate, rel=1e-9)
            assert s.se == pytest.approx(r.se, rel=1e-9, abs=1e-12)
    # Art. 15: each indicator's mean points rounded half up to one decimal, the total the
    # sum of the rounded indicators measured; that total is what the band table grades
    def half_up(x):
        return math.floor(x * 10 + 0.5 + 1e-9) / 10

    by_domain: dict = {}
    for r in result.rows:
        by_domain.setdefault(None if r.domain is None else r.domain_dict["agency"], []).append(r)
    for code, rows in by_domain.items():
        items = [r for r in rows if r.level == "item" and math.isfinite(r.estimate)]
        for r in items:
            assert stored[(code, r.node)].display == half_up(r.estimate)
        total = next(r for r in rows if r.level != "item")
        assert stored[(code, total.node)].display == pytest.approx(
            sum(half_up(r.estimate) for r in items), abs=1e-9)
        top = stored[(code, total.node)]
        assert run.bands is not None  # the default Art. 15 table, copied onto the run
        if top.estimate is not None:
            from analysis.indices import BandTable

            assert top.grade == BandTable.from_dict(run.bands).classify(top.display,
                                                                         top.maximum)


def test_a_tiny_cell_is_suppressed_in_the_read_output(world):
    campaign, wrun = world
    run = scorecards.compute_scorecard(None, wrun, Options("sipas", min_n=1000))
    rows = scorecards.run_rows(run)
    agencies = [r for r in rows if r["agency_code"] is not None]
    assert agencies and all(r["status"] == "suppressed" for r in agencies)
    assert all(r["estimate"] is None and r["ci_low"] is None and r["ci_high"] is None
               and r["se"] is None for r in agencies)
    assert all("n<1000" in r["reason"] for r in agencies)
    # the database keeps the figures for verification
    stored = _db.session.scalars(sa.select(ScorecardRow).where(
        ScorecardRow.run_id == run.id, ScorecardRow.agency_code.is_not(None))).all()
    assert any(s.estimate is not None for s in stored)
    assert all(s.rank_median is None for s in stored)


def test_runs_are_versioned(world):
    campaign, wrun = world
    a = scorecards.compute_scorecard(None, wrun, Options("sipas"))
    b = scorecards.compute_scorecard(None, wrun, Options("papi", seed=7))
    assert b.number == a.number + 1
    assert [r.number for r in scorecards.list_runs(campaign)][:2] == [b.number, a.number]
    assert a.index_key == "sipas" and b.index_key == "papi" and b.seed == 7
    assert len(a.rows) > 0 and len(b.rows) > 0


@pytest.mark.parametrize("options, message", [
    (Options("khac"), "Chỉ số"),
    (Options("sipas", confidence_level=1.5), "Mức tin cậy"),
    (Options("sipas", min_n=0), "cỡ ô"),
    (Options("sipas", rule="xyz"), "Quy tắc"),
    (Options("sipas", seed=-1), "Hạt giống"),
])
def test_bad_options_are_refused_in_vietnamese_and_store_nothing(world, options, message):
    campaign, wrun = world
    before = len(scorecards.list_runs(campaign))
    with pytest.raises(ScorecardFailed) as exc:
        scorecards.compute_scorecard(None, wrun, options)
    assert message.lower() in exc.value.message.lower()
    assert len(scorecards.list_runs(campaign)) == before


def test_agencies_whose_intervals_overlap_share_a_band(world):
    campaign, wrun = world
    run = scorecards.compute_scorecard(None, wrun, Options("sipas", min_n=5, rule="cv"))
    banded = [r for r in run.rows if r.node == "SIPAS" and r.band is not None]
    assert len(banded) >= 2
    pairs = 0
    for i, a in enumerate(banded):
        for b in banded[i + 1:]:
            if a.ci_low <= b.ci_high and b.ci_low <= a.ci_high:
                pairs += 1
                assert a.band == b.band, (a.agency_code, b.agency_code)
    assert pairs >= 1  # the demo's agencies overlap: the guarantee is exercised


# ---- the pages and the demo ----------------------------------------------------------------

def _csrf(client, url: str) -> str:
    import re

    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', client.get(url).get_data(
        as_text=True))
    return match.group(1)


@pytest.fixture
def page_campaign(app, db):
    with app.app_context():
        demo.load_demo()
        campaign = _db.session.scalar(sa.select(Campaign).where(
            Campaign.title == demo.CAMPAIGN_TITLE))
        yield campaign.id, weighting.list_runs(campaign)[0].id


def test_the_demo_has_a_scorecard_run_equal_to_the_service(app, db):
    with app.app_context():
        demo.load_demo()
        campaign = _db.session.scalar(sa.select(Campaign).where(
            Campaign.title == demo.CAMPAIGN_TITLE))
        runs = scorecards.list_runs(campaign)
        assert [r.number for r in runs] == [1]
        run = runs[0]
        assert (run.index_key, run.rule, run.min_n) == ("sipas", "cv", 5)
        assert run.weight_run_id == weighting.list_runs(campaign)[0].id
        assert any(r.rank_median is not None for r in run.rows)
        demo.load_demo()  # again: nothing new
        assert len(scorecards.list_runs(campaign)) == 1


def test_the_pages_create_and_show_a_run(page_campaign, app, client, auth):
    campaign_id, weight_run_id = page_campaign
    auth.login("phantich", "demo-analyst-2024")
    base = f"/campaigns/{campaign_id}/scorecards"
    assert 'data-testid="scorecards-link"' in client.get(
        f"/campaigns/{campaign_id}").get_data(as_text=True)
    listing = client.get(base + "/").get_data(as_text=True)
    assert "Các lần tính bảng điểm" in listing and 'data-testid="scorecard-run-1"' in listing
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        data = {"weight_run": str(weight_run_id), "index_key": "sipas",
                "confidence_level": "0.95", "min_n": "1000", "rule": "auto", "seed": "5"}
        assert client.post(base + "/new", data=data).status_code == 400  # no CSRF token
        bad = client.post(base + "/new", data={**data, "min_n": "0",
                                               "csrf_token": _csrf(client, base + "/new")})
        assert bad.status_code == 400 and "từ 1 đến 10000" in bad.get_data(as_text=True)
        other = client.post(base + "/new", data={**data, "weight_run": "999999",
                                                 "csrf_token": _csrf(client, base + "/new")})
        assert other.status_code == 400
        done = client.post(base + "/new", data={**data, "csrf_token":
                                                _csrf(client, base + "/new")},
                           follow_redirects=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and "Đã lưu lần tính bảng điểm 2" in html
    with app.app_context():
        run = _db.session.scalar(sa.select(ScorecardRun).where(
            ScorecardRun.campaign_id == campaign_id, ScorecardRun.number == 2))
        # every agency cell is suppressed (n < 1000): shown as "—", no figure on the page
        hidden = [r for r in run.rows if r.agency_code is not None and r.level != "item"]
        assert hidden and all(r.status == "suppressed" for r in hidden)
        assert html.count('data-testid="suppressed"') >= len(hidden)
        for r in hidden:
            assert f"{r.estimate:.3f}".replace(".", ",") not in html
        assert 'data-testid="suppression-note"' in html and "—" in html
    assert "<script" not in html.split("</nav>", 1)[1].split("</main>")[0]
    # the demo's run: figures, ranks, bands and the dot plot
    page = client.get(f"{base}/{_first_run_id(app, campaign_id)}").get_data(as_text=True)
    assert 'data-testid="dot-plot"' in page and "<circle" in page
    assert "Nhóm 1" in page and "Chỉ số chung" in page and "Toàn Thành phố" in page


def _first_run_id(app, campaign_id):
    with app.app_context():
        return _db.session.scalar(sa.select(ScorecardRun.id).where(
            ScorecardRun.campaign_id == campaign_id, ScorecardRun.number == 1))


def test_a_run_of_another_campaign_is_not_found(page_campaign, app, client, auth):
    campaign_id, _w = page_campaign
    run_id = _first_run_id(app, campaign_id)
    auth.login("phantich", "demo-analyst-2024")
    assert client.get(f"/campaigns/{campaign_id}/scorecards/{run_id}").status_code == 200
    assert client.get(f"/campaigns/{campaign_id + 999}/scorecards/{run_id}").status_code \
        in (403, 404)


def test_an_index_the_rule_cannot_judge_is_refused_in_vietnamese(world):
    campaign, wrun = world
    before = len(scorecards.list_runs(campaign))
    with pytest.raises(ScorecardFailed) as exc:  # PAPI sums are not shares: no NCHS rule
        scorecards.compute_scorecard(None, wrun, Options("papi", rule="nchs"))
    assert exc.value.message.startswith("Không tính được bảng điểm")
    assert len(scorecards.list_runs(campaign)) == before


def test_constructed_overlapping_agencies_share_a_band(world):
    """Agencies A and B: 60 % and 50 % of their respondents satisfied on every item
    (overlapping intervals; weighted, the order may swap) → one band; C: all but one
    satisfied → ranked above both."""
    from surveyapp.services.interviews import approved_interviews

    campaign, wrun = world
    w = weighting.analysis_weights(wrun)
    by_agency: dict[str, list] = {}
    for v in approved_interviews(campaign):
        if v.interview_id in w:
            by_agency.setdefault(v.answers["co_quan"], []).append(v)
    codes = sorted(by_agency, key=lambda c: -len(by_agency[c]))[:3]
    items = [n for names in SIPAS_FACTORS.values() for n in names]
    for code, share in zip(codes, (0.6, 0.5, 1.0), strict=True):
        versions = sorted(by_agency[code], key=lambda v: v.interview_id)
        top = round(share * len(versions)) if share < 1 else len(versions) - 1
        for k, v in enumerate(versions):
            answers = dict(v.answers)
            answers.update({n: "5" if k < top or share == 1.0 and k == top and n != items[0]
                            else "1" for n in items})
            v.answers = answers
    _db.session.flush()
    run = scorecards.compute_scorecard(None, wrun, Options("sipas", min_n=5, rule="cv"))
    rows = {r.agency_code: r for r in run.rows if r.node == "SIPAS"}
    a, b, c = (rows[code] for code in codes)
    assert a.ci_low <= b.ci_high and b.ci_low <= a.ci_high  # the intervals overlap
    assert a.band is not None and a.band == b.band
    assert c.estimate > max(a.estimate, b.estimate)
    assert c.rank_median <= min(a.rank_median, b.rank_median)  # rank 1 is the best


def test_the_download_blanks_suppressed_cells_in_csv_and_xlsx(world):
    import csv
    import io

    from openpyxl import load_workbook

    campaign, wrun = world
    run = scorecards.compute_scorecard(None, wrun, Options("sipas", min_n=1000))
    hidden = [r for r in run.rows if r.status == "suppressed"]
    assert hidden and all(r.estimate is not None for r in hidden)  # kept in the database
    text = scorecards.export_run(run, "csv").decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(run.rows)
    for row in rows:
        if row["status"] == "suppressed":
            assert row["estimate"] == row["se"] == row["ci_low"] == row["ci_high"] == ""
            assert "n<1000" in row["reason"]
    book = load_workbook(io.BytesIO(scorecards.export_run(run, "xlsx")), read_only=True)
    cells = [list(r) for r in book.active.iter_rows(values_only=True)]
    header = cells[0]
    for row in cells[1:]:
        d = dict(zip(header, row, strict=True))
        if d["status"] == "suppressed":
            assert d["estimate"] in (None, "") and d["ci_low"] in (None, "")
    with pytest.raises(scorecards.ScorecardFailed):
        scorecards.export_run(run, "pdf")


def test_the_run_page_offers_the_downloads(page_campaign, app, client, auth):
    campaign_id, _w = page_campaign
    run_id = _first_run_id(app, campaign_id)
    auth.login("phantich", "demo-analyst-2024")
    url = f"/campaigns/{campaign_id}/scorecards/{run_id}"
    assert 'data-testid="download-xlsx"' in client.get(url).get_data(as_text=True)
    got = client.get(url + "/export?fmt=csv")
    assert got.status_code == 200 and got.mimetype == "text/csv"
    assert got.data.decode("utf-8-sig").startswith("agency_code,agency_name,node")
    assert client.get(url + "/export?fmt=xlsx").data[:2] == b"PK"
    assert client.get(url + "/export?fmt=pdf").status_code == 404
