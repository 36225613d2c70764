"""analysis.svytests against R's svychisq and svyttest (survey 4.1.1), plus internal checks.

The R numbers come from one Rscript run (``_r_body``): ``svychisq(~A + B, des,
statistic = "F" | "Chisq")`` and ``svyttest(V ~ G, des)`` on the reference designs
(stratified, one-stage cluster with and without fpc, two-stage with fpc, NHANES nested
strata with missing values, a subpopulation) and on JKn/JK1 replicate, post-stratified
and calibrated designs derived from them.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis import SurveyDesign
from analysis.covariance import score_covariance
from analysis.errors import DataError
from analysis.estimators import mean
from analysis.svytests import chisq, ttest
from analysis.variance import domain_variance

from ._rutil import run_r
from .test_glm import DESIGNS, _design, r_design_lines

CHISQ = [
    # (id, design, rows, cols, subset)
    ("strat_sw_stype", "strat", "sch.wide", "stype", None),
    ("strat_awards_stype", "strat", "awards", "stype", None),
    ("strat_yrrnd_both", "strat", "yr.rnd", "both", None),
    ("clus1_sw_stype", "clus1", "sch.wide", "stype", None),
    ("clus1wr_sw_stype", "clus1wr", "sch.wide", "stype", None),
    ("clus1_sub", "clus1", "sch.wide", "awards", ("stype", "E")),
    ("clus2_sw_stype", "clus2", "sch.wide", "stype", None),
    ("clus2_comp_awards", "clus2", "comp.imp", "awards", None),
    ("nhanes_race_agecat", "nhanes", "race", "agecat", None),
    ("nhanes_chol_gender", "nhanes", "HI_CHOL", "RIAGENDR", None),
    ("nhanes_chol_race", "nhanes", "HI_CHOL", "race", None),
    ("jkn_sw_stype", "strat_jkn", "sch.wide", "stype", None),
    ("jk1_sw_awards", "clus1_jk1", "sch.wide", "awards", None),
    ("jk1_sub", "clus1_jk1", "sch.wide", "awards", ("stype", "E")),
    ("ps_sw_awards", "clus1_ps", "sch.wide", "awards", None),
    ("ps_sub", "clus1_ps", "sch.wide", "awards", ("stype", "E")),
    ("cal_comp_awards", "clus1_cal", "comp.imp", "awards", None),
]

TTEST = [
    # (id, design, variable, group, subset)
    ("strat_api00_comp", "strat", "api00", "comp.imp", None),
    ("strat_meals_sw", "strat", "meals", "sch.wide", None),
    ("clus1_api00_comp", "clus1", "api00", "comp.imp", None),
    ("clus1wr_api00_awards", "clus1wr", "api00", "awards", None),
    ("clus1_sub", "clus1", "api00", "awards", ("stype", "E")),
    ("clus2_api00_comp", "clus2", "api00", "comp.imp", None),
    ("clus2_enroll_sw", "clus2", "enroll", "sch.wide", None),
    ("nhanes_chol_gender", "nhanes", "HI_CHOL", "RIAGENDR", None),
    ("srs_api00_sw", "srs", "api00", "sch.wide", None),
    ("jkn_api00_comp", "strat_jkn", "api00", "comp.imp", None),
    ("jk1_api00_awards", "clus1_jk1", "api00", "awards", None),
    ("ps_api00_comp", "clus1_ps", "api00", "comp.imp", None),
    ("ps_sub", "clus1_ps", "api00", "comp.imp", ("stype", "E")),
    ("cal_api00_sw", "clus1_cal", "api00", "sch.wide", None),
]


def _r_body() -> str:
    lines = r_design_lines()

    def des_expr(dname, sub):
        d = f"des_{dname}"
        return d if sub is None else f'subset({d}, {sub[0]} == "{sub[1]}")'

    for cid, dname, a, b, sub in CHISQ:
        d = des_expr(dname, sub)
        for stat in ("F", "Chisq"):
            lines.append(
                f'r <- svychisq(~{a} + {b}, {d}, statistic = "{stat}")\n'
                f'OUT[["{cid}|{stat}"]] <- list(statistic = S(unname(r$statistic)), '
                f"parameter = unname(r$parameter), p = S(unname(r$p.value)), "
                f"method = S(r$method))"
            )
    for cid, dname, v, g, sub in TTEST:
        d = des_expr(dname, sub)
        lines.append(
            f"r <- svyttest({v} ~ {g}, {d})\n"
            f'OUT[["t|{cid}"]] <- list(estimate = S(unname(r$estimate)), '
            f"t = S(unname(r$statistic)), df = S(unname(r$parameter)), "
            f"p = S(unname(r$p.value)), ci = as.vector(r$conf.int))"
        )
    return "\n".join(lines)


@pytest.fixture(scope="module")
def r_out():
    return run_r(_r_body())


def _sub(des, sub):
    return des if sub is None else des.subset(np.asarray(des.data[sub[0]]) == sub[1])


@pytest.mark.r
@pytest.mark.parametrize("stat", ["F", "Chisq"])
@pytest.mark.parametrize("case", CHISQ, ids=[c[0] for c in CHISQ])
def test_svychisq_matches_r(case, stat, r_out):
    cid, dname, a, b, sub = case
    exp = r_out[f"{cid}|{stat}"]
    res = chisq(_sub(_design(dname), sub), a, b, statistic=stat)
    np.testing.assert_allclose(res.statistic, exp["statistic"], rtol=1e-9)
    np.testing.assert_allclose(res.p_value, exp["p"], rtol=1e-7, atol=1e-300)
    assert res.method == exp["method"]
    rec = res.to_dict()
    if stat == "F":
        np.testing.assert_allclose([rec["ndf"], rec["ddf"]], exp["parameter"], rtol=1e-9)
        assert "df" not in rec
    else:
        assert rec["df"] == exp["parameter"][0]
        assert "ndf" not in rec and "ddf" not in rec


@pytest.mark.r
@pytest.mark.parametrize("case", TTEST, ids=[c[0] for c in TTEST])
def test_svyttest_matches_r(case, r_out):
    cid, dname, v, g, sub = case
    exp = r_out[f"t|{cid}"]
    res = ttest(_sub(_design(dname), sub), v, g)
    np.testing.assert_allclose(res.estimate, exp["estimate"], rtol=1e-9)
    np.testing.assert_allclose(res.t, exp["t"], rtol=1e-9)
    assert res.df == exp["df"]
    np.testing.assert_allclose(res.p_value, exp["p"], rtol=1e-7)
    np.testing.assert_allclose([res.ci_low, res.ci_high], exp["ci"], rtol=1e-9)


# ------------------------------------------------------------------ without R
def test_ttest_is_the_difference_of_domain_means():
    # R-style consistency: the t-test's estimate is the contrast of the two svyby means
    des = _design("clus2")
    res = ttest(des, "api00", "comp.imp")
    table = mean("api00", des, by="comp.imp")
    diff = table.contrast({"variable": "api00", "domain": {"comp.imp": "Yes"}},
                          {"variable": "api00", "domain": {"comp.imp": "No"}})
    np.testing.assert_allclose(res.estimate, diff.value, rtol=1e-10)
    np.testing.assert_allclose(res.se, diff.se, rtol=1e-8)
    assert res.groups == ("No", "Yes")
    assert res.df == des.degf() - 1


def test_ttest_numeric_groups_and_errors():
    des = _design("strat")
    with pytest.raises(DataError, match="group must be binary"):
        ttest(des, "api00", "stype")
    with pytest.raises(DataError, match="not numeric"):
        ttest(des, "stype", "sch.wide")
    with pytest.raises(DataError, match="unknown column"):
        ttest(des, "api00", "nosuch")
    # a subpopulation where the group takes one value only
    sub = des.subset(np.asarray(des.data["sch.wide"]) == "Yes")
    with pytest.raises(DataError, match="1 groups"):
        ttest(sub, "api00", "sch.wide")


def test_chisq_errors_and_symmetry():
    des = _design("strat")
    with pytest.raises(DataError, match="statistic must be one of"):
        chisq(des, "sch.wide", "stype", statistic="Wald")
    sub = des.subset(np.asarray(des.data["stype"]) == "E")
    with pytest.raises(DataError, match="at least two"):
        chisq(sub, "sch.wide", "stype")
    # the test of independence does not depend on which variable is the row
    a = chisq(des, "sch.wide", "stype")
    b = chisq(des, "stype", "sch.wide")
    np.testing.assert_allclose([a.statistic, a.ndf, a.p_value], [b.statistic, b.ndf, b.p_value],
                               rtol=1e-10)


def test_chisq_on_srs_with_replacement_is_near_pearson():
    # with equal weights and independent draws, Delta has eigenvalues near one and the
    # first-order statistic's p-value is near the classical test's
    from scipy.stats import chi2_contingency

    rng = np.random.default_rng(5)
    n = 4000
    a = rng.integers(0, 3, n)
    b = (rng.random(n) < 0.3 + 0.1 * a).astype(int)
    des = SurveyDesign.create({"a": a, "b": b, "w": np.ones(n)}, weights="w")
    res = chisq(des, "a", "b", statistic="Chisq")
    table = np.array([[np.sum((a == i) & (b == j)) for j in range(2)] for i in range(3)])
    x2 = chi2_contingency(table, correction=False)[0]
    np.testing.assert_allclose(res.statistic, x2, rtol=1e-10)
    assert np.allclose(res.design_effects, 1, atol=0.1)


@pytest.mark.parametrize("dname", list(DESIGNS))
def test_covariance_diagonal_is_domain_variance(dname):
    des = _design(dname)
    rng = np.random.default_rng(3)
    n = des.n_rows
    present = rng.random(n) < 0.8
    U = rng.normal(size=(n, 3)) * present[:, None]
    C = score_covariance(des.subset(present), U)
    v = domain_variance(des, np.asfortranarray(U), np.repeat(present[:, None], 3, 1),
                        np.zeros(n, dtype=np.int64), 1)[0]
    np.testing.assert_allclose(np.diag(C), v, rtol=1e-12)
    np.testing.assert_allclose(C, C.T, rtol=1e-12)


@pytest.mark.parametrize("policy", ["remove", "certainty", "adjust", "average"])
def test_covariance_lonely_psu_policies_match_the_diagonal(policy):
    # strata with one PSU at both stages, with and without fpc
    rng = np.random.default_rng(11)
    rows = []
    for h in range(5):
        npsu = [1, 2, 3, 1, 2][h]
        for p in range(npsu):
            n2 = int(rng.integers(1, 4))
            for k in range(n2):
                for _ in range(int(rng.integers(1, 3))):
                    rows.append((h, f"{h}-{p}", k, npsu + 2, 5))
    h, p, k, n1, n2 = map(np.array, zip(*rows, strict=True))
    data = {"h": h, "p": p, "k": k, "N1": n1.astype(float), "N2": n2.astype(float)}
    n = len(h)
    for fpc in (None, ["N1", "N2"]):
        des = SurveyDesign.create(data, ids=["p", "k"], strata="h", fpc=fpc,
                                  weights=None if fpc else np.ones(n), lonely_psu=policy)
        present = rng.random(n) < 0.85
        U = rng.normal(size=(n, 2)) * present[:, None]
        C = score_covariance(des.subset(present), U)
        v = domain_variance(des, np.asfortranarray(U), np.repeat(present[:, None], 2, 1),
                            np.zeros(n, dtype=np.int64), 1)[0]
        np.testing.assert_allclose(np.diag(C), v, rtol=1e-12)

