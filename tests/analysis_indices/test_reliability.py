"""NCHS presentation standards for proportions, the CV rule and small-cell suppression."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import DataError
from analysis.reliability import (
    cv_rule,
    df_adjusted,
    effective_sample_size,
    korn_graubard,
    nchs_proportion,
    small_cells,
)

# R 4 / survey: p, se from svymean(~I(x == "Yes"), des); the interval from
# svyciprop(~I(x == "Yes"), des, method = "beta") (Korn-Graubard); n = nrow(des),
# df = degf(des). des: svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc,
# data=apistrat) ("strat") or svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)
# ("clus1"). test_korn_graubard_equals_svyciprop_beta_live reruns it.
KG_CASES = {
    "strat_schwide": (0.8279480114158236, 0.024344780113074782, 200, 197,
                      0.7741713285973127, 0.8734315926207354),
    "clus1_schwide": (0.8743169398907104, 0.02035947724462743, 183, 14,
                      0.8237022108475011, 0.9147044921268653),
    "clus1_awards": (0.7103825136612022, 0.033018299553718856, 183, 14,
                     0.6334368390614713, 0.7793385361782997),
    "strat_yrrnd": (0.13748789003743983, 0.02771347037639399, 200, 197,
                    0.087406979366739, 0.2020552877420273),
}


@pytest.mark.parametrize("case", sorted(KG_CASES))
def test_korn_graubard_equals_svyciprop_beta(case):
    p, se, n, df, lo, hi = KG_CASES[case]
    # svyciprop does not cap the effective n at n; NCHS does (design effect < 1 set to 1)
    n_eff = p * (1 - p) / se ** 2
    low, high = korn_graubard(p, df_adjusted(n_eff, n, df))
    assert low[0] == pytest.approx(lo, rel=1e-9) and high[0] == pytest.approx(hi, rel=1e-9)
    res = nchs_proportion(p, se, n, df)
    assert res.n_effective[0] == pytest.approx(min(n_eff, n))
    if n_eff < n:
        assert res.ci_low[0] == pytest.approx(lo, rel=1e-9)
    else:
        assert res.width[0] > high[0] - low[0]


@pytest.mark.r
def test_korn_graubard_equals_svyciprop_beta_live():
    from tests.analysis_part2._rutil import run_r

    out = run_r(r'''
apistrat <- rd("apistrat.csv"); apiclus1 <- rd("apiclus1.csv")
dc <- svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)
ci <- svyciprop(~I(awards=="Yes"), dc, method="beta")
OUT$ci <- as.vector(attr(ci, "ci"))
''')
    p, se, n, df, lo, hi = KG_CASES["clus1_awards"]
    assert out["ci"] == pytest.approx([lo, hi], rel=1e-12)


def _flag(p, se, n, df):
    r = nchs_proportion(p, se, n, df)
    return r.flag[0], r.reasons[0]


def test_nchs_rules_at_their_boundaries():
    # 1. effective sample size below 30 -> suppress (p = .5, n_eff = 29.9)
    f, why = _flag(0.5, np.sqrt(0.25 / 29.9), 100, 50)
    assert f == "suppress" and why[0] == "n_eff<30"
    # ... and a larger n_eff with a narrow enough interval is presented (n_eff 60)
    assert _flag(0.5, np.sqrt(0.25 / 60), 100, 50)[0] == "present"
    # 2. absolute CI width >= 0.30 -> suppress (p = .5, n_eff = 40: KG width about .32)
    f, why = _flag(0.5, np.sqrt(0.25 / 40), 100, 50)
    assert f == "suppress" and why == ("width>=0.30",)
    # 3. width in (.05, .30) and relative width > 130 % -> suppress (p = .05, n_eff = 60)
    f, why = _flag(0.05, np.sqrt(0.05 * 0.95 / 60), 100, 50)
    assert f == "suppress" and why == ("relative_width>130%",)
    # ... a width <= .05 is presented whatever its relative width (p = .005, n_eff = 1000)
    r = nchs_proportion(0.005, np.sqrt(0.005 * 0.995 / 1000), 1000, 900)
    assert r.width[0] <= 0.05 and r.relative_width[0] > 1.3 and r.flag[0] == "present"
    # 4. df < 8 -> statistical review; p = 0 -> statistical review
    assert _flag(0.5, 0.02, 1000, 5) == ("review", ("df<8",))
    f, why = _flag(0.0, 0.0, 200, 50)
    assert f == "review" and why == ("p=0or1",)
    # no events: Clopper-Pearson upper bound 1 - (alpha/2)^(1/n*) with the df-adjusted n*
    n_star = df_adjusted(200.0, 200, 50)[0]
    assert nchs_proportion(0.0, 0.0, 200, 50).ci_high[0] == pytest.approx(
        1 - 0.025 ** (1 / n_star))


def test_complement_footnote_and_no_event_estimates():
    # p = .95 with n_eff = 100: presented (relative width about .11), but the
    # complement's relative width width / .05 is above 130 %: a footnote, as NCHS's Pc
    r = nchs_proportion(0.95, np.sqrt(0.95 * 0.05 / 100), 100, 50)
    assert r.flag[0] == "present" and r.reasons[0] == ()
    assert r.footnotes[0] == ("complement_relative_width>130%",)
    # p = 0 with n = 35: the KG upper bound is about .1 (width > .05, relative width
    # infinite), but the width rules do not apply to no-event estimates: review (P0)
    r0 = nchs_proportion(0.0, 0.0, 35, 30)
    assert r0.width[0] > 0.05 and r0.flag[0] == "review" and r0.reasons[0] == ("p=0or1",)
    # the df-adjusted effective n for rule 1, when asked for
    strict = nchs_proportion(0.5, np.sqrt(0.25 / 31), 100, 3, df_adjusted_rule=True)
    assert strict.flag[0] == "suppress" and strict.reasons[0] == ("n_eff<30",)


def test_effective_n_is_capped_at_n_and_df_adjusted():
    assert effective_sample_size(0.5, 0.01, 100)[0] == 100  # deff < 1 set to 1
    assert effective_sample_size(0.5, 0.05, 400)[0] == pytest.approx(100)
    from scipy import stats

    adj = df_adjusted(100.0, 400, 10)[0]
    assert adj == pytest.approx(100 * (stats.t.ppf(0.975, 399) / stats.t.ppf(0.975, 10)) ** 2)
    assert df_adjusted(100.0, 400, np.inf)[0] == 100


def test_cv_rule_is_configurable():
    labels = cv_rule([10, 10, 10, 10, 0], [1.99, 2.0, 2.99, 3.0, 1.0])
    assert labels == ("reliable", "caution", "caution", "unreliable", "unreliable")
    assert cv_rule([1.0], [0.25], thresholds=(0.3,), labels=("ok", "bad")) == ("ok",)
    with pytest.raises(DataError):
        cv_rule([1.0], [0.1], thresholds=(0.3, 0.2))


def test_small_cells():
    assert small_cells([0, 4, 5, 30], minimum=5).tolist() == [True, True, False, False]
    assert small_cells([9, 10]).tolist() == [True, False]
    with pytest.raises(DataError):
        small_cells([3], minimum=0)


def test_scorecard_of_an_index_result():
    from analysis.indices import compute_index
    from analysis.reliability import scorecard

    from ._common import design, papi, sipas, survey

    df = survey()
    des = design(df)
    res = compute_index(sipas(), df, des, by="agency")
    cut = int(np.median([r.n for r in res if r.level == "dimension"]))
    card = scorecard(res, min_n=cut)
    assert {r.level for r in card} == {"dimension", "overall"} and len(card) == 4 * 4
    for row in card:
        src = res.find(row.node, row.domain)
        if src.n < cut:
            assert row.status == "suppressed (small cell)" and row.estimate is None
        else:
            assert row.status in ("present", "review", "suppress")
            nchs = nchs_proportion(src.estimate, src.se, src.n, src.df_domain)
            assert row.status == nchs.flag[0]
            assert (row.estimate is None) == (row.status == "suppress")
    assert any(r.status == "suppressed (small cell)" for r in card)
    assert any(r.status != "suppressed (small cell)" for r in card)
    # a 1-10 scale is not a proportion: the CV rule applies
    pcard = scorecard(compute_index(papi(), df, des, by="agency"), min_n=1)
    assert {r.status for r in pcard} <= {"reliable", "caution", "unreliable"}
    with pytest.raises(DataError, match="not a proportion"):
        scorecard(compute_index(papi(), df, des, by="agency"), rule="nchs")
