"""Estimators and results: contrasts, lonely PSUs, missing values, the result objects."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from _analysis_shared import REFERENCE

import analysis as A
from analysis.io import read_csv


@pytest.fixture(scope="module")
def clus1():
    data = read_csv(REFERENCE / "data" / "apiclus1.csv")
    return A.SurveyDesign.create(data, ids="dnum", weights="pw", fpc="fpc")


def test_contrast_between_domains_matches_r(clus1):
    # R 4.2.2, survey 4.1.1:
    #   b <- svyby(~api00, ~stype, svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1),
    #              svymean, covmat=TRUE)
    #   svycontrast(b, c(1,-1,0)); svycontrast(b, c(0,1,-1)); vcov(b)["E","H"]
    t = A.mean("api00", clus1, by="stype")
    eh = t.contrast({"domain": {"stype": "E"}}, {"domain": {"stype": "H"}})
    assert eh.value == pytest.approx(30.296626984126988, rel=1e-9)
    assert eh.se == pytest.approx(30.027606191845443, rel=1e-9)
    hm = t.contrast(1, 2)
    assert hm.value == pytest.approx(-12.868571428571499, rel=1e-9)
    assert hm.se == pytest.approx(33.586244007579324, rel=1e-9)
    assert t.covariance(0, 1) == pytest.approx(521.97977963695280, rel=1e-9)
    assert eh.statistic == "difference" and "stype=E" in eh.variable
    low, high = eh.confidence_interval()
    assert low < eh.value < high


def test_contrast_of_independent_strata_adds_variances():
    rng = np.random.default_rng(1)
    n = 40
    data = {"st": np.repeat([1, 2], n // 2), "w": rng.uniform(1, 5, n), "y": rng.normal(size=n)}
    des = A.SurveyDesign.create(data, strata="st", weights="w")
    t = A.mean("y", des, by="st")
    c = t.contrast(0, 1)
    assert c.se**2 == pytest.approx(t.se[0] ** 2 + t.se[1] ** 2, rel=1e-10)
    assert t.covariance(0, 1) == pytest.approx(0.0, abs=1e-12)


LONELY = {
    "st": np.array([1, 1, 1, 2, 2, 3, 3, 3]),
    "psu": np.array([1, 1, 2, 3, 3, 4, 5, 5]),
    "w": np.array([2.0, 2, 3, 4, 4, 1, 2, 2]),
    "y": np.array([1.0, 3, 2, 8, 6, 5, 4, 7]),
}


def _strat_var(design_kwargs, policy):
    des = A.SurveyDesign.create(LONELY, ids="psu", strata="st", weights="w",
                                lonely_psu=policy, **design_kwargs)
    return A.total("y", des)


def test_lonely_psu_fail_names_the_stratum():
    with pytest.raises(A.LonelyPSUError, match=r"^Stratum \(2\) has only one PSU at stage 1$"):
        _strat_var({}, "fail")


def test_lonely_psu_policies_by_hand():
    w, y, psu = LONELY["w"], LONELY["y"], LONELY["psu"]
    z = {p: float(np.sum((w * y)[psu == p])) for p in range(1, 6)}

    def var_stratum(ps):
        vals = np.array([z[p] for p in ps])
        return len(vals) / (len(vals) - 1) * np.sum((vals - vals.mean()) ** 2)

    v1, v3 = var_stratum([1, 2]), var_stratum([4, 5])
    assert _strat_var({}, "remove").se[0] ** 2 == pytest.approx(v1 + v3, rel=1e-12)
    assert _strat_var({}, "certainty").se[0] ** 2 == pytest.approx(v1 + v3, rel=1e-12)
    # average: the two strata with a variance stand for all three
    assert _strat_var({}, "average").se[0] ** 2 == pytest.approx((v1 + v3) * 3 / 2, rel=1e-12)
    # adjust: the lonely PSU's total is centred at the overall mean of PSU totals
    # (for a total the scores are not centred, so its whole total counts)
    assert _strat_var({}, "adjust").se[0] ** 2 == pytest.approx(v1 + v3 + z[3] ** 2, rel=1e-12)


def test_missing_values_omit_and_raise(clus1):
    t = A.mean("acs.k3", clus1)
    assert t.n[0] < clus1.n_rows and math.isfinite(t.value[0])
    with pytest.raises(A.DataError, match="'acs.k3' has a missing value"):
        A.mean("acs.k3", clus1, missing="raise")
    with pytest.raises(A.DataError, match="missing must be one of"):
        A.mean("acs.k3", clus1, missing="drop")


def test_bad_arguments(clus1):
    with pytest.raises(A.DataError, match="unknown column 'nope'"):
        A.mean("nope", clus1)
    with pytest.raises(A.DataError, match="nothing to estimate"):
        A.estimate(clus1)
    with pytest.raises(A.DataError, match="ci_method must be one of"):
        A.proportion("stype", clus1, ci_method="exact")
    with pytest.raises(A.DataError, match="confidence_level"):
        A.mean("api00", clus1, confidence_level=95)
    with pytest.raises(A.DataError, match="not numeric"):
        A.ratio("stype", "enroll", clus1)


def test_results_are_frozen_objects_with_converters(clus1):
    t = A.estimate(clus1, mean=["api00", "stype"], ratio=[("api.stu", "enroll")], by="sch.wide")
    assert len(t) == 2 * (1 + 3 + 1)
    row = t[0]
    with pytest.raises(AttributeError):
        row.value = 1.0  # type: ignore[misc]
    assert row.cv == pytest.approx(row.se / abs(row.value))
    assert row.n_effective == pytest.approx(row.n / row.deff)
    low, high = row.confidence_interval(0.9)
    assert row.ci_low < low < row.value < high < row.ci_high
    rec = row.to_dict()
    assert list(rec) == ["estimand", "variable", "category", "quantile", "domain", "estimate",
                         "se", "ci_low", "ci_high", "deff", "n"]
    assert rec["domain"] == {"sch.wide": "No"}
    frame = t.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(t)
    assert {"sch.wide", "estimate", "se", "cv", "deff", "n_effective"} <= set(frame.columns)
    assert t.to_dict()["rows"][3] == t[3].to_dict()
    assert "EstimateTable: 10 rows" in repr(t) and "api00 | sch.wide=No" in repr(t)
    assert repr(row).startswith("<Estimate mean(api00) | sch.wide=No: ")
    assert t.find("stype", category="H", domain={"sch.wide": "Yes"}) == 5
    with pytest.raises(A.DataError, match="rows match"):
        t.find("stype")


def test_crossed_domains_and_wald_interval_use_design_df(clus1):
    t = A.mean("api00", clus1, by=["stype", "sch.wide"])
    doms = [dict(d) for d in t.domain]
    # R's interaction(): the first variable varies fastest
    assert doms[0] == {"stype": "E", "sch.wide": "No"} and doms[1]["stype"] == "H"
    from scipy.stats import t as student

    q = student.ppf(0.975, clus1.degf())
    np.testing.assert_allclose(t.ci_high - t.value, q * t.se, rtol=1e-12)
    assert clus1.degf() == 14  # 15 districts, no strata


def test_proportion_intervals_stay_in_the_unit_interval(clus1):
    for method in ("logit", "beta"):
        t = A.proportion("stype", clus1, by="sch.wide", ci_method=method)
        ok = np.isfinite(t.ci_low)
        assert np.all(t.ci_low[ok] >= 0) and np.all(t.ci_high[ok] <= 1)
        assert set(t.ci_method) == {method}


@pytest.mark.parametrize(
    "df", [1, 2, 3, 4, 7, 14, 30, 99, 250, 999, 1000, 1960, 1e5, 1e7, math.inf]
)
@pytest.mark.parametrize("p", [0.975, 0.025, 0.95, 0.995, 0.6, 0.999999])
def test_plain_python_t_quantile_agrees_with_scipy(df, p):
    # the command line avoids importing scipy for Wald intervals
    from scipy.special import ndtri, stdtrit

    from analysis._dist import t_quantile

    want = float(ndtri(p)) if math.isinf(df) else float(stdtrit(df, p))
    assert t_quantile(p, df) == pytest.approx(want, rel=2e-12)


def test_t_quantile_edges():
    from analysis._dist import t_quantile

    assert math.isnan(t_quantile(0.975, 0)) and math.isnan(t_quantile(1.0, 5))
    assert t_quantile(0.5, 12) == 0.0


def test_records_built_column_wise_equal_the_rows(clus1):
    t = A.estimate(clus1, mean=["api00", "acs.k3"], proportion=["stype"], by="awards")
    assert t.to_records() == [row.to_dict() for row in t]
    assert t.to_records(deff=False) == [row.to_dict(deff=False) for row in t]
