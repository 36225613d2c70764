"""analysis.glm and analysis.formula against R's svyglm (survey 4.1.1) on the reference data.

The R numbers come from one Rscript run (``R_BODY`` below): ``svyglm`` on the designs of
the reference README (apistrat, apiclus1 with and without fpc, apiclus2 two-stage with
fpc, nhanes nested strata, mu284, a subpopulation) and on designs derived from them
(JKn and JK1 replicate weights from ``as.svrepdesign``, ``postStratify`` and
``calibrate``), reporting ``coef``, ``SE``, the t
and p columns of ``summary()``, ``df.residual``, ``summary()$dispersion`` and
``colnames(model.matrix())``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from analysis import SurveyDesign
from analysis.errors import AnalysisWarning, DataError, LonelyPSUError
from analysis.estimators import mean
from analysis.formula import FormulaError, model_frame, parse_formula
from analysis.glm import glm
from analysis.io import read_csv

from ._rutil import DATA, arr, run_r

DESIGNS = {
    # name: (csv, python kwargs, R call)
    "strat": ("apistrat.csv", dict(strata="stype", weights="pw", fpc="fpc"),
              "svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = D)"),
    "clus1": ("apiclus1.csv", dict(ids="dnum", weights="pw", fpc="fpc"),
              "svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = D)"),
    "clus1wr": ("apiclus1.csv", dict(ids="dnum", weights="pw"),
                "svydesign(id = ~dnum, weights = ~pw, data = D)"),
    "clus2": ("apiclus2.csv", dict(ids=["dnum", "snum"], fpc=["fpc1", "fpc2"]),
              "svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = D)"),
    "srs": ("apisrs.csv", dict(weights="pw", fpc="fpc"),
            "svydesign(id = ~1, weights = ~pw, fpc = ~fpc, data = D)"),
    "nhanes": ("nhanes.csv", dict(ids="SDMVPSU", strata="SDMVSTRA", weights="WTMEC2YR",
                                  nest=True),
               "svydesign(id = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, "
               "nest = TRUE, data = D)"),
    "mu284": ("mu284.csv", dict(ids=["id1", "id2"], fpc=["n1", "n2"]),
              "svydesign(id = ~id1 + id2, fpc = ~n1 + n2, data = D)"),
}

# designs derived from the ones above: replicate weights and calibration
DERIVED = {
    # name: (base, python transformation, R call on des_<base>)
    "strat_jkn": ("strat", lambda d: d.as_replicate("JKn"),
                  'as.svrepdesign(des_strat, type = "JKn")'),
    "clus1_jk1": ("clus1", lambda d: d.as_replicate("JK1"),
                  'as.svrepdesign(des_clus1, type = "JK1")'),
    "clus1_ps": ("clus1", lambda d: d.poststratify({"stype": {"E": 4421, "H": 755,
                                                              "M": 1018}}),
                 'postStratify(des_clus1, ~stype, data.frame(stype = c("E", "H", "M"), '
                 "Freq = c(4421, 755, 1018)))"),
    "clus1_cal": ("clus1", lambda d: d.calibrate(
                      {"(Intercept)": 6194, "stype": {"E": 4421, "H": 755, "M": 1018},
                       "api99": 3914069}, "linear"),
                  "calibrate(des_clus1, ~stype + api99, c(`(Intercept)` = 6194, "
                  "stypeH = 755, stypeM = 1018, api99 = 3914069))"),
}

CASES = [
    # (id, design, formula, family, subset: (column, value) or None)
    ("strat_lm", "strat", "api00 ~ ell + meals + mobility", "gaussian", None),
    ("strat_logit", "strat", "sch.wide ~ ell + stype", "quasibinomial", None),
    ("strat_logit_b", "strat", "sch.wide ~ ell + stype", "binomial", None),
    ("strat_factor", "strat", "api00 ~ factor(yr.rnd) + I(meals^2) + meals:ell", "gaussian",
     None),
    ("strat_na", "strat", "api00 ~ acs.46 + target + sch.wide", "gaussian", None),
    # acs.k3 is only given for elementary schools: stype has one level left (R errors)
    ("strat_na_err", "strat", "api00 ~ acs.k3 + target + stype", "gaussian", None),
    ("clus1_lm", "clus1", "api00 ~ ell + meals + mobility", "gaussian", None),
    ("clus1_logit", "clus1", "comp.imp ~ meals + avg.ed", "quasibinomial", None),
    ("clus1wr_lm", "clus1wr", "api00 ~ ell + meals + stype", "gaussian", None),
    ("clus1_sub", "clus1", "api00 ~ ell + meals", "gaussian", ("stype", "E")),
    ("clus2_lm", "clus2", "api00 ~ ell + meals + mobility + factor(stype)", "gaussian", None),
    ("clus2_logit", "clus2", "awards ~ meals + enroll", "quasibinomial", None),
    ("clus2_inter", "clus2", "api00 ~ stype * meals - 1", "gaussian", None),
    ("srs_lm", "srs", "log(api00) ~ I(ell/100) + sch.wide + both", "gaussian", None),
    ("nhanes_logit", "nhanes", "HI_CHOL ~ factor(race) + agecat + RIAGENDR",
     "quasibinomial", None),
    ("nhanes_lm", "nhanes", "HI_CHOL ~ agecat", "gaussian", None),
    ("mu284_lm", "mu284", "y1 ~ 1", "gaussian", None),
    ("jkn_lm", "strat_jkn", "api00 ~ ell + meals + mobility", "gaussian", None),
    ("jkn_na", "strat_jkn", "api00 ~ acs.46 + meals", "gaussian", None),
    ("jkn_logit", "strat_jkn", "sch.wide ~ ell + stype", "quasibinomial", None),
    ("jk1_logit", "clus1_jk1", "sch.wide ~ ell + meals", "quasibinomial", None),
    ("jk1_sub", "clus1_jk1", "api00 ~ ell + meals", "gaussian", ("stype", "E")),
    ("ps_lm", "clus1_ps", "api00 ~ ell + meals + stype", "gaussian", None),
    ("ps_logit", "clus1_ps", "sch.wide ~ ell + meals", "quasibinomial", None),
    ("ps_sub", "clus1_ps", "api00 ~ ell + meals", "gaussian", ("sch.wide", "Yes")),
    ("cal_na", "clus1_cal", "api00 ~ avg.ed + meals", "gaussian", None),
]


def r_design_lines() -> list[str]:
    """R lines reading each data file once and declaring ``des_<name>`` for every design of
    DESIGNS and DERIVED (the GLM and the test-statistic cross-checks share them)."""
    lines = []
    data_vars: dict[str, str] = {}
    for name, (csv, _, rcall) in DESIGNS.items():
        if csv not in data_vars:
            data_vars[csv] = f"d{len(data_vars)}"
            lines.append(f'{data_vars[csv]} <- rd("{csv}")')
        var = data_vars[csv]
        lines.append(f"des_{name} <- {rcall.replace('data = D', 'data = ' + var)}")
    for name, (_, _, rcall) in DERIVED.items():
        lines.append(f"des_{name} <- {rcall}")
    return lines


def _r_body() -> str:
    lines = r_design_lines()
    for cid, dname, formula, family, sub in CASES:
        des = f"des_{dname}"
        if sub is not None:
            des = f'subset({des}, {sub[0]} == "{sub[1]}")'
        lines.append(
            f'OUT[["{cid}"]] <- tryCatch({{\n'
            f"  m <- suppressWarnings(svyglm({formula}, {des}, family = {family}()))\n"
            f"  s <- summary(m); cf <- coef(s)\n"
            f"  list(names = colnames(model.matrix(m)), est = cf[, 1], se = cf[, 2], "
            f"t = cf[, 3], p = cf[, 4], df = S(m$df.residual), "
            f"disp = S(as.numeric(s$dispersion)))\n"
            f"}}, error = function(e) list(error = S(conditionMessage(e))))"
        )
    return "\n".join(lines)


def _design(name: str) -> SurveyDesign:
    if name in DERIVED:
        base, transform, _ = DERIVED[name]
        return transform(_design(base))
    csv, kw, _ = DESIGNS[name]
    return SurveyDesign.create(read_csv(DATA / csv), **kw)


def _fit(cid):
    _, dname, formula, family, sub = next(c for c in CASES if c[0] == cid)
    des = _design(dname)
    if sub is not None:
        des = des.subset(np.asarray(des.data[sub[0]]) == sub[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)
        return glm(formula, des, family)


@pytest.fixture(scope="module")
def r_out():
    return run_r(_r_body())


@pytest.mark.r
@pytest.mark.parametrize("cid", [c[0] for c in CASES])
def test_svyglm_matches_r(cid, r_out):
    exp = r_out[cid]
    if "error" in exp:
        assert "2 or more levels" in exp["error"]
        with pytest.raises(DataError, match="2 or more levels"):
            _fit(cid)
        return
    fit = _fit(cid)
    assert list(fit.terms) == exp["names"]
    rel = 1e-8
    np.testing.assert_allclose(fit.coef, arr(exp["est"]), rtol=rel, atol=1e-12)
    np.testing.assert_allclose(fit.se, arr(exp["se"]), rtol=rel)
    np.testing.assert_allclose(fit.t, arr(exp["t"]), rtol=rel)
    np.testing.assert_allclose(fit.p_value, arr(exp["p"]), rtol=1e-6, atol=1e-300)
    assert fit.df_residual == exp["df"]
    np.testing.assert_allclose(fit.dispersion, exp["disp"], rtol=rel)


# ------------------------------------------------------------------ without R
def test_intercept_only_model_is_the_mean():
    # svyglm(y ~ 1) gives svymean's estimate and SE (Lumley 2010, §5.2)
    des = _design("clus2")
    fit = glm("api00 ~ 1", des)
    m = mean("api00", des)[0]
    assert fit.terms == ("(Intercept)",)
    np.testing.assert_allclose(fit.coef[0], m.value, rtol=1e-12)
    np.testing.assert_allclose(fit.se[0], m.se, rtol=1e-10)
    assert fit.df_residual == des.degf()


def test_coefficients_agree_with_statsmodels():
    # statsmodels' GLM solves the same weighted score equations
    sm = pytest.importorskip("statsmodels.api")
    des = _design("strat")
    fit = glm("sch.wide ~ ell + meals + stype", des, "quasibinomial")
    frame = model_frame("sch.wide ~ ell + meals + stype", des.data)
    y = (frame.y_codes != 0).astype(float)
    ref = sm.GLM(y, frame.X, family=sm.families.Binomial(),
                 var_weights=des.weights[frame.rows]).fit(tol=1e-13)
    np.testing.assert_allclose(fit.coef, ref.params, rtol=1e-7)


def test_missing_rows_are_dropped_but_design_kept():
    des = _design("strat")
    fit = glm("api00 ~ acs.k3", des)
    assert fit.n == 200 - 103
    assert fit.rows.sum() == 97
    # degrees of freedom: PSUs minus strata among the rows used, + 1 - rank
    assert fit.df_residual == des.degf(rows=fit.rows) - 1


def test_aliased_coefficient_is_nan():
    des = _design("strat")
    data = dict(des.data)
    data["ell2"] = 2 * np.asarray(data["ell"])
    des2 = SurveyDesign.create(data, strata="stype", weights="pw", fpc="fpc")
    fit = glm("api00 ~ ell + ell2 + meals", des2)
    ref = glm("api00 ~ ell + meals", des)
    assert np.isnan(fit.coef[2]) and np.isnan(fit.se[2])
    np.testing.assert_allclose(fit.coef[[0, 1, 3]], ref.coef, rtol=1e-10)
    assert fit.df_residual == ref.df_residual
    assert fit.to_records()[2]["estimate"] is None


def test_binomial_warns_like_r_and_equals_quasibinomial():
    des = _design("strat")
    with pytest.warns(AnalysisWarning, match="non-integer #successes"):
        b = glm("sch.wide ~ ell", des, "binomial")
    q = glm("sch.wide ~ ell", des, "quasibinomial")
    np.testing.assert_array_equal(b.coef, q.coef)
    np.testing.assert_array_equal(b.se, q.se)


def test_records_layout():
    rec = glm("api00 ~ ell", _design("strat")).to_records()
    assert [r["term"] for r in rec] == ["(Intercept)", "ell", None]
    assert set(rec[0]) == {"term", "estimate", "se", "t", "p_value"}
    assert set(rec[-1]) == {"term", "df_residual", "dispersion"}


def test_confidence_intervals_use_residual_df():
    from scipy.stats import t as tdist

    fit = glm("api00 ~ ell", _design("clus1"))
    ci = fit.confidence_intervals(0.9)
    q = tdist.ppf(0.95, fit.df_residual)
    np.testing.assert_allclose(ci[:, 0], fit.coef - q * fit.se, rtol=1e-12)


@pytest.mark.parametrize(
    "formula, family, match",
    [
        ("stype ~ ell", "gaussian", "categorical"),
        ("api00 ~ ell", "binomial", "0 <= y <= 1"),
        ("api00 ~ nosuch", "gaussian", "unknown column 'nosuch'"),
        ("api00 ~ ell", "poisson", "family must be one of"),
        ("~ ell", "gaussian", "needs a response"),
    ],
)
def test_errors(formula, family, match):
    with pytest.raises(DataError, match=match):
        glm(formula, _design("strat"), family)


def test_single_level_factor_is_an_error():
    des = _design("strat")
    sub = des.subset(np.asarray(des.data["stype"]) == "E")
    with pytest.raises(DataError, match="2 or more levels"):
        glm("api00 ~ ell + stype", sub)


def test_lonely_psu_fail_is_raised():
    data = {"y": np.array([1.0, 2, 3, 4, 5]), "x": np.array([0.0, 1, 0, 1, 1]),
            "h": np.array([1, 1, 2, 2, 3]), "w": np.ones(5)}
    des = SurveyDesign.create(data, strata="h", weights="w")
    with pytest.raises(LonelyPSUError, match=r"Stratum \(3\)"):
        glm("y ~ x", des)
    fit = glm("y ~ x", des.update(lonely_psu="certainty"))
    assert np.all(np.isfinite(fit.se))


# ------------------------------------------------------------------ formula names
# Column names printed by R 4.2 for model.matrix(<formula>, d) with numeric x, z and
# factors a (A, B, C), b (P, Q) — see the docstring of analysis.formula.
R_NAMES = {
    "y ~ x + a - 1": "x aA aB aC",
    "y ~ a + b - 1": "aA aB aC bQ",
    "y ~ x + a:x": "(Intercept) x x:aB x:aC",
    "y ~ a:x": "(Intercept) aA:x aB:x aC:x",
    "y ~ b + a + a:b": "(Intercept) bQ aB aC bQ:aB bQ:aC",
    "y ~ a*b": "(Intercept) aB aC bQ aB:bQ aC:bQ",
    "y ~ a:b": "(Intercept) aA:bP aB:bP aC:bP aA:bQ aB:bQ aC:bQ",
    "y ~ x:z + a": "(Intercept) aB aC x:z",
    "y ~ z + x + x:z": "(Intercept) z x z:x",
    "y ~ I(x^2) + I(x*2) + log(abs(x)) + I(x-1) + I(-x) + I(x/2+1)":
        "(Intercept) I(x^2) I(x * 2) log(abs(x)) I(x - 1) I(-x) I(x/2 + 1)",
    "y ~ factor(b) + x:a": "(Intercept) factor(b)Q x:aA x:aB x:aC",
    "y ~ 0 + x": "x",
    "y ~ (a + b + x)^2": "(Intercept) aB aC bQ x aB:bQ aC:bQ aB:x aC:x bQ:x",
    "y~ a*x - a": "(Intercept) x aB:x aC:x",
    "y ~ a + b + a:b - 1": "aA aB aC bQ aB:bQ aC:bQ",
    "y ~ x + a + b - 1": "x aA aB aC bQ",
    "y ~ I(x ^ 2)+I(1e3*x) + I(0.5*x) + I(x %% 2)":
        "(Intercept) I(x^2) I(1000 * x) I(0.5 * x) I(x%%2)",
}


@pytest.fixture(scope="module")
def toy():
    rng = np.random.default_rng(1)
    return dict(y=rng.normal(size=12), x=rng.normal(size=12), z=rng.normal(size=12),
                a=np.array(["A", "B", "C"] * 4, dtype=object),
                b=np.array(["P"] * 6 + ["Q"] * 6, dtype=object))


@pytest.mark.parametrize("formula", list(R_NAMES))
def test_model_matrix_names_as_r(formula, toy):
    assert " ".join(model_frame(formula, toy).columns) == R_NAMES[formula]


def test_interaction_columns_are_products(toy):
    fr = model_frame("y ~ a:x", toy)
    a = np.asarray(toy["a"])
    np.testing.assert_array_equal(fr.X[:, 2], (a == "B") * toy["x"])


def test_factor_of_numbers_and_term_labels():
    f = parse_formula("y ~ b + a + a:b + factor(k)")
    assert f.term_labels == ("b", "a", "factor(k)", "b:a")
    d = {"y": np.arange(6.0), "a": np.array([1.0, 2, 1, 2, 1, 2]),
         "b": np.array([0.5, 0.25, 0.5, 0.25, 0.5, 0.25]), "k": np.array([10.0, 2, 2, 10, 1, 1])}
    fr = model_frame("y ~ factor(k) + factor(b)", d)
    assert fr.columns == ("(Intercept)", "factor(k)2", "factor(k)10", "factor(b)0.5")


@pytest.mark.parametrize("bad", ["y ~ x +", "y ~ x y", "y ~ .", "y ~ foo(x)", "y ~ x ~ z", ""])
def test_formula_errors(bad, toy):
    with pytest.raises(FormulaError):
        model_frame(bad, toy)
