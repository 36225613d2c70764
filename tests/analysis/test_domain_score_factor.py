"""domain_score_factor: the covariance of many domain scores without the dense matrix.

The reference is score_covariance (R's svyrecvar, checked against R elsewhere) of the
n x (domains x J) matrix whose column (d, j) is score j where the row is in domain d and
zero elsewhere — built here explicitly — over strata, clusters, two-stage fpc, a subset,
a PSU per row (most units of a stratum then lack a domain), every lonely-PSU rule and
calibrated designs (one step and a chain of two).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import SurveyDesign
from analysis.errors import AnalysisWarning, LonelyPSUError
from analysis.variance import domain_score_factor, score_covariance

N_DOM, J = 7, 3


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(3)
    n = 500
    df = pd.DataFrame({"st": rng.integers(0, 6, n), "w": rng.uniform(1, 5, n),
                       "x": rng.normal(size=n), "sex": rng.choice(["m", "f"], n),
                       "age": rng.choice(["a", "b", "c"], n)})
    df["psu"] = df["st"] * 10 + rng.integers(0, 4, n)
    df["ssu"] = df["psu"] * 10 + rng.integers(0, 3, n)
    df["fpc1"] = 40 + df["st"]
    df["fpc2"] = 12
    df["rid"] = np.arange(n)  # every row its own PSU, as a walk-in survey without a plan
    df["fpcr"] = 300
    # domains: most cross the strata, domain 6 lies in stratum 0 only, -1: in none
    dom = rng.integers(-1, 6, n)
    dom[(df["st"] == 0).to_numpy() & (rng.random(n) < 0.5)] = 6
    scores = rng.normal(size=(n, J))
    return df, dom, scores


def _designs(df):
    base = SurveyDesign.create(df, ids="psu", strata="st", weights="w", nest=True)
    lonely = df.copy()
    lonely.loc[lonely.st == 2, "psu"] = 20
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)
        out = {
            "strata and clusters": base,
            "clusters only": SurveyDesign.create(df, ids="psu", weights="w"),
            "two stages with fpc": SurveyDesign.create(df, ids=["psu", "ssu"], strata="st",
                                                       fpc=["fpc1", "fpc2"], weights="w",
                                                       nest=True),
            "subset": base.subset(df["x"].to_numpy() > -0.5),
            "a PSU per row": SurveyDesign.create(df, ids="rid", weights="w"),
            "a PSU per row, strata, fpc": SurveyDesign.create(df, ids="rid", strata="st",
                                                              weights="w", fpc="fpcr"),
            "a PSU per row, subset": SurveyDesign.create(df, ids="rid", strata="st",
                                                         weights="w")
            .subset(df["x"].to_numpy() > 0),
            "a PSU per row, calibrated": SurveyDesign.create(df, ids="rid", strata="st",
                                                             weights="w")
            .poststratify({"sex": {"m": 1500, "f": 1400}}),
            "rows at the second stage": SurveyDesign.create(df, ids=["psu", "rid"], strata="st",
                                                            fpc=["fpc1", "fpcr"], weights="w",
                                                            nest=True),
            "poststratify": base.poststratify({"sex": {"m": 1500, "f": 1400}}),
            "rake": base.rake({"sex": {"m": 1500, "f": 1400},
                               "age": {"a": 900, "b": 1000, "c": 1000}}),
            "linear calibration": base.calibrate({"(Intercept)": 2900, "x": 30}, "linear"),
            "two calibration steps": base.poststratify({"sex": {"m": 1500, "f": 1400}})
            .calibrate({"(Intercept)": 2900, "x": 30}, "linear"),
        }
        for policy in ("remove", "adjust", "average", "certainty"):
            out[f"lonely {policy}"] = SurveyDesign.create(lonely, ids="psu", strata="st",
                                                          weights="w", nest=True,
                                                          lonely_psu=policy)
    return out


def _dense(des, dom, x):
    big = np.zeros((des.n_rows, N_DOM * J))
    for d in range(N_DOM):
        big[:, d * J:(d + 1) * J] = np.where((dom == d)[:, None], x, 0.0)
    return big


CASES = ["strata and clusters", "clusters only", "two stages with fpc", "subset",
         "a PSU per row", "a PSU per row, strata, fpc", "a PSU per row, subset",
         "a PSU per row, calibrated", "rows at the second stage", "poststratify", "rake",
         "linear calibration", "two calibration steps", "lonely remove", "lonely adjust",
         "lonely average", "lonely certainty"]


@pytest.mark.parametrize("case", CASES)
def test_every_block_equals_score_covariance_of_the_dense_matrix(frame, case):
    df, dom, scores = frame
    des = _designs(df)[case]
    x = np.where(des.active[:, None], scores, 0.0)
    ref = score_covariance(des, _dense(des, dom, x))
    f = domain_score_factor(des, x, dom, N_DOM)
    scale = np.abs(ref).max()
    np.testing.assert_allclose(f.covariance(), ref, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(f.variances(), np.diag(ref), rtol=0, atol=1e-12 * scale)
    ix = [0, 5, 7, 20, 19]
    np.testing.assert_allclose(f.covariance(ix), ref[np.ix_(ix, ix)], rtol=0,
                               atol=1e-12 * scale)
    # stored: at most twice the (domain, unit) totals, whatever the number of units
    groups = sum(len(np.unique(dom[dom >= 0] * st.n_clusters + st.cluster[dom >= 0]))
                 for st in des.stages)
    assert f.matrix.nnz <= 2 * groups * J
    # linear combinations of the columns (what the index nodes are)
    m = np.random.default_rng(0).normal(size=(N_DOM * J, 4))
    np.testing.assert_allclose(f.combine(m).covariance(), m.T @ ref @ m, rtol=0,
                               atol=1e-12 * scale * np.abs(m).sum(axis=0).max() ** 2)
    if not des.adjustments:
        # a domain lying in one stratum has no values in the PSUs of any other stratum
        st = des.stages[0]
        rows = np.flatnonzero(f.matrix[:, 6 * J].toarray()[:st.n_clusters, 0])
        assert set(st.cluster_stratum[rows]) <= {0}


def test_a_lonely_psu_fails_as_score_covariance_does(frame):
    df, dom, scores = frame
    lonely = df.copy()
    lonely.loc[lonely.st == 2, "psu"] = 20
    des = SurveyDesign.create(lonely, ids="psu", strata="st", weights="w", nest=True)
    with pytest.raises(LonelyPSUError, match="Stratum"):
        score_covariance(des, _dense(des, dom, scores))
    with pytest.raises(LonelyPSUError, match="Stratum"):
        domain_score_factor(des, scores, dom, N_DOM)


def test_average_with_every_stratum_lonely_is_nan_everywhere_as_in_r():
    df = pd.DataFrame({"st": [0, 1, 2], "psu": [1, 2, 3], "w": [1.0, 2.0, 3.0]})
    des = SurveyDesign.create(df, ids="psu", strata="st", weights="w", lonely_psu="average")
    x = np.array([[1.0], [2.0], [0.5]])
    dom = np.array([0, 1, 1])
    ref = score_covariance(des, np.column_stack([x[:, 0] * (dom == 0), x[:, 0] * (dom == 1)]))
    f = domain_score_factor(des, x, dom, 2)
    assert np.isnan(ref).all() and np.isnan(f.covariance()).all()
    assert np.isnan(f.variances()).all()
