"""analysis.drivers: respondent-level index scores and the key-driver regression.

The scores are checked on hand-computed rows. The regression is checked against R's
``svyglm`` (survey package) on a seeded stratified cluster sample written to a CSV here:
coefficients, SEs, p-values, residual df, the standardised effects computed in R as
``coef * sqrt(svyvar(x) / svyvar(y))`` on the rows used, and the weighted R². Without R,
the coefficients are checked against ordinary least squares (numpy) on an unweighted
simple random sample, a textbook identity.
"""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from analysis import SurveyDesign
from analysis.drivers import key_drivers, respondent_scores
from analysis.errors import DataError
from analysis.indices import Dimension, IndexDefinition, Item, papi_index, sipas_index, top_box

from ._rutil import arr, run_r


# ------------------------------------------------------------------ respondent scores
def test_sipas_scores_per_respondent_by_hand():
    index = sipas_index({"a": ["a1", "a2"], "b": ["b1", "b2", "b3"]})
    data = {"a1": ["5", "2", "na", "4"], "a2": ["4", "4", None, "dk"],
            "b1": ["1", "5", "5", None], "b2": ["5", "5", "4", None],
            "b3": ["2", "5", "1", None]}
    s = respondent_scores(index, data)
    # items: 1 for 4/5, 0 for other valid answers, NaN for na/dk/missing
    np.testing.assert_array_equal(s["a1"], [1, 0, np.nan, 1])
    np.testing.assert_array_equal(s["a2"], [1, 1, np.nan, np.nan])
    # a: mean of the valid items; row 3 has none, row 4 has one of two (the half rule)
    np.testing.assert_allclose(s["a"], [1.0, 0.5, np.nan, 1.0])
    np.testing.assert_allclose(s["b"], [1 / 3, 1.0, 2 / 3, np.nan])
    # overall: mean of the dimensions the respondent has
    np.testing.assert_allclose(s["SIPAS"], [2 / 3, 0.75, 2 / 3, 1.0])


def test_min_share_leaves_out_respondents_with_too_few_valid_items():
    index = sipas_index({"a": ["a1", "a2", "a3"]})
    data = {"a1": ["5", "5"], "a2": ["dk", "5"], "a3": [None, "1"]}
    s = respondent_scores(index, data, min_share=0.5)
    assert math.isnan(s["a"][0]) and s["a"][1] == pytest.approx(2 / 3)
    assert respondent_scores(index, data, min_share=0.3)["a"][0] == 1.0
    # 0: any valid item; a respondent with none stays unscored
    lone = respondent_scores(index, {"a1": ["5", "na"], "a2": ["dk", None], "a3": [None, "dk"]},
                             min_share=0)
    assert lone["a"][0] == 1.0 and math.isnan(lone["a"][1])
    with pytest.raises(DataError):
        respondent_scores(index, data, min_share=-0.1)


def test_summed_dimensions_are_prorated_over_valid_items():
    # PAPI: two items rescaled 1-5 -> 0.5-5 each, the dimension their sum (1-10)
    index = papi_index({"d": {"x": (1, 5), "y": (1, 5)}})
    s = respondent_scores(index, {"x": [5, 1, 3], "y": [5, "na", 1]})
    np.testing.assert_allclose(s["x"], [5.0, 0.5, 2.75])
    # row 2: one valid item of two, scored 0.5 -> prorated to 2 * 0.5 = 1.0
    np.testing.assert_allclose(s["d"], [10.0, 1.0, 3.25])


def test_weighted_dimension_uses_the_item_weights():
    rule = top_box()
    index = IndexDefinition("I", "v1", (Dimension("d", (Item("p", rule, 3.0),
                                                        Item("q", rule, 1.0)), "weighted"),),
                            overall=None)
    s = respondent_scores(index, {"p": ["5", "1", "5"], "q": ["1", "5", None]})
    np.testing.assert_allclose(s["d"], [0.75, 0.25, 1.0])
    assert "I" not in s


# ------------------------------------------------------------------ the regression
def _sample(seed=7, n_strata=4, psus=8, per=12, missing=True):
    """A stratified two-level sample: PSUs share an effect, drivers correlate."""
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(n_strata):
        for c in range(psus):
            u = rng.normal(0, 0.3)
            for _ in range(per):
                common = rng.normal(0, 1)
                d1 = np.clip(0.6 + 0.2 * common + rng.normal(0, 0.2), 0, 1)
                d2 = np.clip(0.5 + 0.15 * common + rng.normal(0, 0.25), 0, 1)
                d3 = np.clip(0.7 + rng.normal(0, 0.2), 0, 1)
                y = 1 + 2.0 * d1 + 1.0 * d2 + 0.2 * d3 + u + rng.normal(0, 0.6)
                rows.append({"stratum": f"s{h}", "psu": f"s{h}p{c}",
                             "w": float(rng.uniform(5, 40) * (1 + h)),
                             "d1": d1, "d2": d2, "d3": d3, "y": y})
    if missing:
        for k in range(0, len(rows), 17):
            rows[k]["d2"] = math.nan
    return rows


def _design(rows):
    data = {k: np.array([r[k] for r in rows], dtype=float if k in ("w", "d1", "d2", "d3", "y")
                        else object) for k in rows[0]}
    return SurveyDesign.create(data=data, ids="psu", strata="stratum", weights="w", nest=True)


@pytest.fixture(scope="module")
def r_drivers(tmp_path_factory):
    rows = _sample()
    path = tmp_path_factory.mktemp("drivers") / "sample.csv"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("NA" if isinstance(v, float) and math.isnan(v) else
                                 repr(float(v)) if isinstance(v, float) else v)
                             for k, v in r.items()})
    body = f"""
D <- read.csv("{path}")
des <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = D)
fit <- svyglm(y ~ d1 + d2 + d3, des)
s <- summary(fit)$coefficients
used <- subset(des, !is.na(d2))
v <- diag(as.matrix(svyvar(~y + d1 + d2 + d3, used)))
wts <- weights(used)  # the rows used only: subset() drops the others
ok <- !is.na(D$d2)
res <- D$y[ok] - fitted(fit)
ybar <- sum(wts * D$y[ok]) / sum(wts)
OUT$est <- unname(coef(fit))
OUT$se <- unname(s[, 2])
OUT$p <- unname(s[, 4])
OUT$df <- S(fit$df.residual)
OUT$std <- unname(coef(fit)[-1] * sqrt(v[-1] / v[1]))
OUT$ci <- unname(confint(fit, level = 0.9))
OUT$r2 <- S(1 - sum(wts * res^2) / sum(wts * (D$y[ok] - ybar)^2))
OUT$n <- S(sum(ok))
"""
    return rows, run_r(body)


@pytest.mark.r
def test_key_drivers_match_r_svyglm(r_drivers):
    rows, exp = r_drivers
    des = _design(rows)
    res = key_drivers(des, "y", ["d1", "d2", "d3"], labels={"d1": "One"},
                      confidence_level=0.9)
    by = {d.name: d for d in res.drivers}
    order = ["d1", "d2", "d3"]
    est, se, p = arr(exp["est"]), arr(exp["se"]), arr(exp["p"])
    assert res.intercept == pytest.approx(est[0], rel=1e-9)
    assert res.intercept_se == pytest.approx(se[0], rel=1e-8)
    np.testing.assert_allclose([by[d].coefficient for d in order], est[1:], rtol=1e-9)
    np.testing.assert_allclose([by[d].se for d in order], se[1:], rtol=1e-8)
    np.testing.assert_allclose([by[d].p_value for d in order], p[1:], rtol=1e-6)
    np.testing.assert_allclose([by[d].standardized for d in order], arr(exp["std"]),
                               rtol=1e-9)
    lo, hi = arr(exp["ci"][0]), arr(exp["ci"][1])
    np.testing.assert_allclose([by[d].ci_low for d in order], lo[1:], rtol=1e-8)
    np.testing.assert_allclose([by[d].ci_high for d in order], hi[1:], rtol=1e-8)
    assert res.df_residual == exp["df"]
    assert res.r_squared == pytest.approx(exp["r2"], rel=1e-9)
    assert res.n == exp["n"]
    # sorted by standardised effect, labels kept
    assert [d.standardized for d in res.drivers] == sorted(
        (d.standardized for d in res.drivers), reverse=True)
    assert by["d1"].label == "One" and by["d2"].label == "d2"
    # the standardised interval is the coefficient's, rescaled
    d = by["d2"]
    assert d.standardized_ci_low / d.ci_low == pytest.approx(d.standardized / d.coefficient)


def test_srs_equal_weights_give_ordinary_least_squares():
    rows = _sample(seed=3, n_strata=1, psus=200, per=1, missing=False)
    for r in rows:
        r["w"] = 1.0
        r["psu"] = f"u{id(r)}"
    des = _design(rows)
    res = key_drivers(des, "y", ["d1", "d2", "d3"])
    X = np.column_stack([np.ones(len(rows))] + [[r[k] for r in rows] for k in ("d1", "d2",
                                                                               "d3")])
    y = np.array([r["y"] for r in rows])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    by = {d.name: d.coefficient for d in res.drivers}
    np.testing.assert_allclose([by["d1"], by["d2"], by["d3"]], beta[1:], rtol=1e-9)
    resid = y - X @ beta
    assert res.r_squared == pytest.approx(1 - resid @ resid / ((y - y.mean()) @ (y - y.mean())))
    # standardised = b * sd(x) / sd(y) with population SDs
    sd = {k: np.std([r[k] for r in rows]) for k in ("d1", "y")}
    d1 = next(d for d in res.drivers if d.name == "d1")
    assert d1.standardized == pytest.approx(beta[1] * sd["d1"] / sd["y"], rel=1e-9)


def test_refusals_are_clear():
    rows = _sample(seed=5, n_strata=2, psus=4, per=5, missing=False)
    des = _design(rows)
    with pytest.raises(DataError, match="at least one driver"):
        key_drivers(des, "y", [])
    with pytest.raises(DataError, match="distinct"):
        key_drivers(des, "y", ["d1", "d1"])
    for r in rows:
        r["d3"] = 0.5
    with pytest.raises(DataError, match="d3 cannot be estimated"):
        key_drivers(_design(rows), "y", ["d1", "d3"])
    for r in rows:
        r["y"] = 2.0
    with pytest.raises(DataError, match="does not vary"):
        key_drivers(_design(rows), "y", ["d1"])
    # more drivers than the design has degrees of freedom
    few = _sample(seed=5, n_strata=2, psus=2, per=20, missing=False)
    with pytest.raises(DataError, match="residual degrees of freedom"):
        key_drivers(_design(few), "y", ["d1", "d2", "d3"])
