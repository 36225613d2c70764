"""Comparisons stored with a scorecard run (issue 9): each agency against the city total
(design-based, with the agency-city covariance) and against its own previous year
(independent samples), Holm-adjusted across agencies; checked with the textbook formulas on
the interviews read directly, shown on the page and in the exports."""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
from scipy import stats
from scorecard_data import demo_campaign, holm, interview_data, run_page_html

from analysis.indices import compute_index, sipas_index
from surveyapp.extensions import db as _db
from surveyapp.models import Campaign, ScorecardRow, ScorecardRun
from surveyapp.services import demo, scorecards
from surveyapp.services.custom_indices import frozen_questionnaire
from surveyapp.services.index_definitions import sipas_items
from surveyapp.services.scorecards import Options


@pytest.fixture()
def world(app, db):
    with app.test_request_context():
        demo.load_demo()
        yield demo_campaign()


def _sipas_result(campaign, wrun):
    """compute_index of the SIPAS tree on the interviews read directly."""
    factors = sipas_items(frozen_questionnaire(campaign)[1])
    data, design = interview_data(campaign, wrun, [n for v in factors.values() for n in v])
    return compute_index(sipas_index(factors), data, design, by="agency", include_total=True)


def test_each_agency_against_the_city_uses_the_covariance_and_holm(world):
    campaign, wrun = world
    run = scorecards.compute_scorecard(None, wrun, Options("sipas", min_n=5, rule="cv"))
    assert run.comparison_adjust == "holm"
    result = _sipas_result(campaign, wrun)
    city = result.index("SIPAS")
    shown = [r for r in run.rows if r.node == "SIPAS" and r.agency_code is not None
             and r.status != "suppressed"]
    assert len(shown) >= 3
    want = {}
    for s in shown:
        k = result.index("SIPAS", {"agency": s.agency_code})
        diff, se = result.contrast({k: 1.0, city: -1.0})  # svycontrast(agency - city)
        want[s.agency_code] = (diff, se, 2 * stats.t.sf(abs(diff / se), result.df))
    adjusted = dict(zip(want, holm([w[2] for w in want.values()]), strict=True))
    got = {c.agency_code: c for c in run.comparisons if c.kind == "city"}
    assert set(got) == set(want)
    naive = []
    for code, (diff, se, p) in want.items():
        c = got[code]
        assert c.node == "SIPAS"
        assert c.reference == pytest.approx(result.rows[city].estimate, rel=1e-9)
        assert c.difference == pytest.approx(diff, rel=1e-9, abs=1e-12)
        assert c.se == pytest.approx(se, rel=1e-9)
        assert c.p_value == pytest.approx(p, rel=1e-7, abs=1e-12)
        assert c.p_adjusted == pytest.approx(adjusted[code], rel=1e-7, abs=1e-12)
        assert c.direction == ("not different" if adjusted[code] >= 0.05 else
                               "above" if diff > 0 else "below")
        a = result.find("SIPAS", {"agency": code})
        naive.append((se, math.hypot(a.se, result.rows[city].se)))
    # the city's sample contains the agency's: the covariance changes the SE
    assert any(abs(se - n) > 1e-3 * n for se, n in naive)
    assert any(c.direction != "not different" for c in got.values())  # the demo differs


def test_the_city_comparison_is_the_contrast_of_the_joint_covariance(world):
    campaign, wrun = world
    run = scorecards.compute_scorecard(None, wrun, Options("sipas", min_n=5, rule="cv"))
    rows, _est, cov = _sipas_result(campaign, wrun).block("SIPAS", include_total=True)
    labels = [None if r.domain is None else r.domain_dict["agency"] for r in rows]
    for c in (c for c in run.comparisons if c.kind == "city"):
        vec = np.zeros(len(labels))
        vec[labels.index(c.agency_code)], vec[labels.index(None)] = 1.0, -1.0
        assert c.se == pytest.approx(math.sqrt(vec @ cov @ vec), rel=1e-9)  # c' V c


def _previous_year(campaign, template: ScorecardRun, shift: dict[str, float],
                   suppressed: str, method_version: str | None = None) -> ScorecardRun:
    """A stored run of a constructed campaign of the previous year: ``template``'s rows with
    the estimates moved down by ``shift`` (by agency) and SEs × 1.2; ``suppressed``'s cells
    suppressed there."""
    previous = Campaign(organisation_id=campaign.organisation_id, year=campaign.year - 1,
                        title=f"Khảo sát năm {campaign.year - 1} (dựng cho kiểm thử)",
                        status="closed")
    _db.session.add(previous)
    _db.session.flush()
    run = ScorecardRun(campaign_id=previous.id, number=1, index_key=template.index_key,
                       method_version=method_version or template.method_version,
                       confidence_level=0.95, min_n=5, rule="cv", seed=1, status="done",
                       df=12.0)
    _db.session.add(run)
    _db.session.flush()
    for r in template.rows:
        hidden = r.agency_code == suppressed
        _db.session.add(ScorecardRow(
            run_id=run.id, position=r.position, agency_code=r.agency_code,
            agency_name=r.agency_name, node=r.node, level=r.level,
            estimate=r.estimate - shift.get(r.agency_code, 0.0), se=r.se * 1.2,
            ci_low=r.ci_low, ci_high=r.ci_high, unweighted=r.unweighted, n=r.n,
            n_effective=r.n_effective, status="suppressed" if hidden else r.status,
            reason="n<5" if hidden else r.reason))
    _db.session.flush()
    return run


def test_each_agency_against_its_previous_year_independent_samples(world):
    campaign, wrun = world
    template = scorecards.compute_scorecard(None, wrun, Options("sipas", min_n=5, rule="cv"))
    codes = sorted({r.agency_code for r in template.rows if r.agency_code})
    shift = {codes[0]: 0.5, codes[1]: -0.5}  # the first rose a lot, the second fell a lot
    previous = _previous_year(campaign, template, shift, suppressed=codes[2])
    # a newer run of another method version in the same year is not comparable: not used
    _previous_year(campaign, template, {}, suppressed="", method_version="sipas-top2/v0")
    run = scorecards.compute_scorecard(None, wrun, Options("sipas", min_n=5, rule="cv"))
    assert run.previous_run_id == previous.id
    now = {r.agency_code: r for r in run.rows if r.node == "SIPAS" and r.agency_code}
    before = {r.agency_code: r for r in previous.rows if r.node == "SIPAS" and r.agency_code}
    df = min(run.df, 12.0)
    want = {}
    for code in codes:
        if code == codes[2] or now[code].status == "suppressed":
            continue
        diff = now[code].estimate - before[code].estimate
        se = math.sqrt(now[code].se ** 2 + before[code].se ** 2)
        want[code] = (diff, se, 2 * stats.t.sf(abs(diff / se), df))
    adjusted = dict(zip(want, holm([w[2] for w in want.values()]), strict=True))
    got = {c.agency_code: c for c in run.comparisons if c.kind == "previous"}
    assert set(got) == set(want) and codes[2] not in got  # suppressed last year: left out
    for code, (diff, se, p) in want.items():
        c = got[code]
        assert c.reference == pytest.approx(before[code].estimate, rel=1e-12)
        assert c.difference == pytest.approx(diff, rel=1e-9, abs=1e-12)
        assert c.se == pytest.approx(se, rel=1e-12)
        assert c.p_value == pytest.approx(p, rel=1e-7, abs=1e-12)
        assert c.p_adjusted == pytest.approx(adjusted[code], rel=1e-7, abs=1e-12)
    assert got[codes[0]].direction == "above" and got[codes[1]].direction == "below"
    # the page says which run was compared with and how; the exports carry the figures
    page = scorecards.run_page(run)["comparison"]
    assert page["previous"].id == previous.id and page["adjust"] == "Holm"
    line = next(x for x in page["nodes"][0]["lines"] if x["code"] == codes[0])
    assert line["previous"]["verdict"] == "Tăng" and line["city"] is not None
    rows = list(csv.DictReader(io.StringIO(scorecards.export_run(run, "csv").decode(
        "utf-8-sig"))))
    mine = next(r for r in rows if r["agency_code"] == codes[0] and r["node"] == "SIPAS")
    assert float(mine["vs_previous_difference"]) == pytest.approx(want[codes[0]][0])
    assert mine["vs_previous_direction"] == "above" and mine["vs_city_p_adjusted"] != ""
    hidden = next(r for r in rows if r["agency_code"] == codes[2] and r["node"] == "SIPAS")
    assert hidden["vs_previous_difference"] == ""
    doc = scorecards.api_document(run)
    assert doc["run"]["previous_run"] == {"id": previous.id, "campaign_id": previous.campaign_id,
                                          "year": campaign.year - 1, "number": 1}
    assert {c["agency_code"] for c in doc["comparisons"] if c["kind"] == "previous"} == \
        set(want)


def test_only_the_previous_year_of_the_same_organisation_counts(world):
    campaign, wrun = world
    template = scorecards.compute_scorecard(None, wrun, Options("sipas", min_n=5, rule="cv"))
    older = _previous_year(campaign, template, {}, suppressed="")
    older.campaign.year = campaign.year - 2  # the year before last
    _db.session.flush()
    run = scorecards.compute_scorecard(None, wrun, Options("sipas", min_n=5, rule="cv"))
    assert run.previous_run_id != older.id
    if run.previous_run_id is None:  # (the demo itself may hold a previous year's run)
        assert {c.kind for c in run.comparisons} == {"city"}


def test_the_run_page_shows_the_comparisons(world, client, auth):
    _campaign, wrun = world
    run, html = run_page_html(client, auth, wrun, Options("sipas", min_n=5, rule="cv"))
    assert 'data-testid="comparisons-SIPAS"' in html
    assert "phương pháp Holm" in html and "So với toàn Thành phố" in html
    verdicts = {"above": "Cao hơn toàn Thành phố", "below": "Thấp hơn toàn Thành phố",
                "not different": "Khác biệt không có ý nghĩa thống kê"}
    comparisons = [c for c in run.comparisons if c.kind == "city"]
    assert comparisons
    for c in comparisons:
        row = html.split(f'data-testid="comparison-{c.agency_code}"', 1)[1].split("</tr>", 1)[0]
        assert verdicts[c.direction] in row
