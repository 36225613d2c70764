"""Issue 9, first "Done when": after ``flask --app wsgi demo`` the weighting run, the scorecard
and the rankings are produced and shown, and every stored figure of the demo's scorecard run
equals the analysis library's result for the same cell — computed here by calling
``analysis`` directly on the campaign's analysis extract, with the SIPAS tree written out."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scorecard_data import SIPAS_FACTORS, demo_campaign, extract_data, vi_number

from analysis.indices import compute_index, sipas_index
from analysis.ranking import (
    compare_periods,
    compare_to_reference,
    performance_bands,
    rank_intervals,
)
from analysis.reliability import scorecard
from surveyapp.extensions import db as _db
from surveyapp.models import Campaign
from surveyapp.services import demo, scorecards, weighting

FIGURES = ("estimate", "se", "ci_low", "ci_high", "unweighted", "n_effective")


@pytest.fixture()
def demo_run(app, db, runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.test_request_context():
        campaign, wrun = demo_campaign()
        runs = scorecards.list_runs(campaign)
        assert len(runs) == 1 and runs[0].weight_run_id == wrun.id
        yield campaign, wrun, runs[0]


def test_every_stored_figure_of_the_demo_run_equals_analysis_on_the_extract(demo_run):
    campaign, wrun, run = demo_run
    result = _check_run(campaign, wrun, run)
    # the 2023 round's run, compared with: its figures too, then the period comparisons
    previous = run.previous_run
    assert previous is not None and previous.campaign.title == demo.PREVIOUS_TITLE
    assert previous.campaign.year == campaign.year - 1
    assert previous.method_version == run.method_version
    before_campaign = _db.session.get(Campaign, previous.campaign_id)
    before_result = _check_run(before_campaign, previous.weight_run, previous)
    now = {r.agency_code: r for r in run.rows if r.node == "SIPAS" and r.agency_code
           and r.status != "suppressed"}
    before = {r.agency_code: r for r in previous.rows if r.node == "SIPAS" and r.agency_code
              and r.status != "suppressed"}
    codes = [c for c in sorted(now) if c in before]
    assert len(codes) >= 2
    cmp = compare_periods([now[c].estimate for c in codes], [now[c].se for c in codes],
                          [before[c].estimate for c in codes], [before[c].se for c in codes],
                          labels=codes, df=min(result.df, before_result.df), adjust="holm",
                          alpha=1 - run.confidence_level)
    got = {c.agency_code: c for c in run.comparisons if c.kind == "previous"}
    assert set(got) == set(codes)
    for i, code in enumerate(codes):
        assert got[code].reference == pytest.approx(before[code].estimate, rel=1e-12)
        assert got[code].difference == pytest.approx(cmp.difference[i], rel=1e-9, abs=1e-12)
        assert got[code].se == pytest.approx(cmp.se[i], rel=1e-9)
        assert got[code].p_adjusted == pytest.approx(cmp.p_adjusted[i], rel=1e-7, abs=1e-12)
        assert got[code].direction == cmp.direction[i]


def _check_run(campaign, wrun, run):
    """Every stored figure, status, rank, band and city comparison of ``run`` against
    ``analysis`` on ``campaign``'s extract; returns the index result."""
    data, design = extract_data(campaign, wrun, [n for v in SIPAS_FACTORS.values() for n in v])
    result = compute_index(sipas_index(SIPAS_FACTORS), data, design, by="agency",
                           confidence_level=run.confidence_level, include_total=True)
    assert run.df == pytest.approx(result.df)
    stored = {(r.agency_code, r.node): r for r in run.rows}
    assert len(stored) == len(result.rows) == len(run.rows)
    flags = {(None if f.domain is None else f.domain["agency"], f.node): f
             for f in scorecard(result, rule=run.rule, min_n=run.min_n,
                                levels=("item", "dimension", "overall"))}
    for r in result.rows:
        key = (None if r.domain is None else r.domain_dict["agency"], r.node)
        s = stored[key]
        assert (s.level, s.n) == (r.level, r.n), key
        for name in FIGURES:
            want = getattr(r, name)
            if math.isfinite(want):
                assert getattr(s, name) == pytest.approx(want, rel=1e-9, abs=1e-12), (key, name)
            else:
                assert getattr(s, name) is None, (key, name)
        f = flags[key]
        assert s.status == ("suppressed" if f.estimate is None else
                            "flagged" if f.flagged else "reliable"), key
    # ranks: the same simulation (seed, draws, level) over the agencies shown
    rows, est, cov = result.block("SIPAS")
    codes = [x.domain_dict["agency"] for x in rows]
    keep = [k for k, c in enumerate(codes) if stored[(c, "SIPAS")].status != "suppressed"]
    assert len(keep) >= 2
    labels = [codes[k] for k in keep]
    e, V = est[keep], cov[np.ix_(keep, keep)]
    ranks = rank_intervals(e, V, rng=np.random.default_rng(run.seed), labels=labels,
                           draws=scorecards.RANK_DRAWS, level=run.confidence_level)
    bands = performance_bands(e, V, labels=labels, confidence_level=run.confidence_level,
                              df=result.df)
    for j, code in enumerate(labels):
        s = stored[(code, "SIPAS")]
        assert (s.rank_median, s.rank_low, s.rank_high) == (
            ranks.median[j], ranks.low[j], ranks.high[j]), code
        assert s.band == int(bands.band[j]), code
    # comparisons with the city: the agency-city contrasts with the joint covariance
    rows_t, est_t, cov_t = result.block("SIPAS", include_total=True)
    codes_t = [None if x.domain is None else x.domain_dict["agency"] for x in rows_t]
    keep_t = [k for k, c in enumerate(codes_t) if c is None or c in labels]
    city = [j for j, k in enumerate(keep_t) if codes_t[k] is None][0]
    cmp = compare_to_reference(est_t[keep_t], cov_t[np.ix_(keep_t, keep_t)], city,
                               labels=["" if codes_t[k] is None else codes_t[k] for k in keep_t],
                               df=result.df, adjust="holm", alpha=1 - run.confidence_level)
    got = {c.agency_code: c for c in run.comparisons if c.kind == "city"}
    assert set(got) == set(cmp.labels)
    for i, code in enumerate(cmp.labels):
        assert got[code].difference == pytest.approx(cmp.difference[i], rel=1e-9, abs=1e-12)
        assert got[code].se == pytest.approx(cmp.se[i], rel=1e-9)
        assert got[code].p_adjusted == pytest.approx(cmp.p_adjusted[i], rel=1e-7, abs=1e-12)
        assert got[code].direction == cmp.direction[i]
    return result


def test_the_demo_weighting_run_scorecard_and_ranking_are_shown(demo_run, client, auth):
    campaign, wrun, run = demo_run
    auth.login("phantich", "demo-analyst-2024")
    weighting_page = client.get(f"/campaigns/{campaign.id}/weighting/{wrun.id}")
    assert weighting_page.status_code == 200
    assert f"/campaigns/{campaign.id}/weighting/{wrun.id}" in client.get(
        f"/campaigns/{campaign.id}/weighting/").get_data(as_text=True)
    page = client.get(f"/campaigns/{campaign.id}/scorecards/{run.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    ranked = [r for r in run.rows if r.node == "SIPAS" and r.agency_code is not None
              and r.rank_median is not None]
    assert len(ranked) >= 2
    for r in ranked:
        row = html.split(f'data-testid="agency-{r.agency_code}"', 1)[1].split("</tr>", 1)[0]
        assert vi_number(r.estimate) in row  # the figure
        assert f"[{vi_number(r.ci_low)}; {vi_number(r.ci_high)}]" in row  # its interval
        assert f"không trọng số {vi_number(r.unweighted)}" in row  # unweighted beside it
        assert f"{r.rank_median:.0f} ({r.rank_low:.0f}–{r.rank_high:.0f})" in row  # its rank
        assert f"Nhóm {r.band + 1}" in row  # its band
    total = next(r for r in run.rows if r.node == "SIPAS" and r.agency_code is None)
    assert vi_number(total.estimate) in html.split('data-testid="city-total"', 1)[1]
    assert 'data-testid="dot-plot"' in html and 'data-testid="comparisons-SIPAS"' in html
    assert "Năm trước: " + demo.PREVIOUS_TITLE in html  # compared with the 2023 round
    for c in run.comparisons:
        if c.kind == "previous":
            row = html.split(f'data-testid="comparison-{c.agency_code}"', 1)[1].split(
                "</tr>", 1)[0]
            assert vi_number(c.reference) in row  # last year's figure
    assert weighting.list_runs(campaign)[0].id == wrun.id
