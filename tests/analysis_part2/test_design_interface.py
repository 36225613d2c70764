"""The design-level interface of part 2: score_covariance, calibrated and replicate designs.

Numbers marked "R" come from the shipped reference cases (R 4.2.2, survey 4.1.1).
"""

from __future__ import annotations

import numpy as np
import pytest

import analysis as A
from analysis.io import read_csv
from analysis.variance import domain_variance, score_covariance

from ._rutil import DATA

POP_TYPES = {"stype": {"E": 4421, "H": 755, "M": 1018}}
POP_SCHWIDE = {"sch.wide": {"No": 1072, "Yes": 5122}}
POP_CAL = {"(Intercept)": 6194, "stype": {"E": 4421, "H": 755, "M": 1018}, "api99": 3914069}


@pytest.fixture(scope="module")
def clus1():
    data = read_csv(DATA / "apiclus1.csv")
    return A.SurveyDesign.create(data, ids="dnum", weights="pw", fpc="fpc")


@pytest.fixture(scope="module")
def strat():
    data = read_csv(DATA / "apistrat.csv")
    return A.SurveyDesign.create(data, strata="stype", weights="pw", fpc="fpc")


@pytest.mark.parametrize("policy", ["fail", "adjust", "average", "remove"])
def test_score_covariance_diagonal_is_the_estimators_variance(strat, policy):
    design = strat.update(lonely_psu=policy)
    t = A.estimate(design, mean=["api00", "enroll"], total=["api99"], deff=False)
    cov = score_covariance(design, t._lin.scores)
    assert cov.shape == (3, 3)
    np.testing.assert_allclose(np.diag(cov), np.asarray(t.se) ** 2, rtol=1e-12)
    np.testing.assert_allclose(cov, cov.T, rtol=1e-12)
    # the off-diagonal is the covariance: var(a + b) = var a + var b + 2 cov(a, b)
    s = t._lin.scores
    n = design.n_rows
    v_sum = domain_variance(design, (s[:, 0] + s[:, 1])[:, None], np.ones((n, 1), bool),
                            np.zeros(n, np.int64), 1)[0, 0]
    assert v_sum == pytest.approx(cov[0, 0] + cov[1, 1] + 2 * cov[0, 1], rel=1e-10)


def test_score_covariance_of_a_subset_and_of_a_calibrated_design(clus1):
    sub = clus1.subset(np.asarray(clus1.data["stype"]) == "E")
    t = A.estimate(sub, mean=["api00"], deff=False)
    assert score_covariance(sub, t._lin.scores)[0, 0] == pytest.approx(t.se[0] ** 2, rel=1e-12)
    cal = clus1.poststratify(POP_TYPES)
    t = A.estimate(cal, mean=["api00", "enroll"], deff=False)
    cov = score_covariance(cal, t._lin.scores)
    # clus1_poststrat_mean.json (R)
    assert np.sqrt(cov[0, 0]) == pytest.approx(23.920486445090386, rel=1e-9)
    assert np.sqrt(cov[1, 1]) == pytest.approx(65.59454896590286, rel=1e-9)


def test_calibration_returns_a_new_design(clus1):
    w0 = clus1.weights.copy()
    cal = clus1.calibrate(POP_CAL, "linear")
    assert cal is not clus1 and not clus1.is_calibrated and cal.is_calibrated
    np.testing.assert_array_equal(clus1.weights, w0)
    assert cal.calibration.converged


@pytest.mark.parametrize(
    ("method", "totals", "kw"),
    [
        ("poststratify", POP_TYPES, {}),
        ("rake", {**POP_TYPES, **POP_SCHWIDE}, {}),
        ("linear", POP_CAL, {}),
        ("linear", POP_CAL, {"bounds": (0.5, 2.0)}),
        ("raking", POP_CAL, {}),
        ("logit", POP_CAL, {"bounds": (0.3, 3.0)}),
    ],
)
def test_calibrated_totals_are_reproduced_with_zero_se(clus1, method, totals, kw):
    cal = clus1.calibrate(totals, method, **kw)
    assert cal.calibration.converged
    data = cal.data
    for key, spec in totals.items():
        if key == "(Intercept)":
            assert cal.weights.sum() == pytest.approx(spec, rel=1e-8)
            continue
        if isinstance(spec, dict):
            t = A.total(key, cal, deff=False)
            for est in t:
                assert est.value == pytest.approx(spec[est.category], rel=1e-8)
                assert est.se <= 1e-6 * spec[est.category]
        else:
            t = A.total(key, cal, deff=False)
            assert t[0].value == pytest.approx(spec, rel=1e-8)
            assert t[0].se <= 1e-6 * spec
    assert data is clus1.data


def test_non_convergence_is_reported(clus1):
    with pytest.warns(A.AnalysisWarning, match="did not converge"):
        cal = clus1.calibrate(POP_CAL, "logit", bounds=(0.9, 1.1))
    assert not cal.calibration.converged


def test_calibration_of_a_design_declared_on_a_data_frame():
    import pandas as pd

    df = pd.DataFrame({"g": ["a", "a", "b", "b", "b"], "w": [1.0, 2.0, 1.0, 1.0, 2.0],
                       "y": [1.0, 2.0, 3.0, 4.0, 5.0]})
    design = A.SurveyDesign.create(df, weights="w")
    cal = design.poststratify({"g": {"a": 6.0, "b": 8.0}})
    assert list(cal.weights) == [2.0, 4.0, 2.0, 2.0, 4.0]
