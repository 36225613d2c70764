"""Randomised cross-check of the survey-weighted GLM against R's svyglm.

Designs and data are generated here (seeded): strata or none, one- or two-stage
clusters, unequal weights, finite population corrections or the with-replacement
approximation, single-PSU strata under every ``lonely_psu`` policy but "fail", missing
covariate values, gaussian and (quasi)binomial models. One Rscript fits every case with
``svyglm`` (``options(survey.lonely.psu = <policy>)`` per case) and reports the
coefficients, SEs, ``df.residual`` and ``summary()$dispersion``; they must agree to a
relative 1e-6 (the issue's tolerance; in practice they agree to about 1e-10).
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest

from analysis import SurveyDesign
from analysis.errors import AnalysisWarning
from analysis.glm import glm

from ._rutil import arr, run_r

SEED = 20250117
N_CASES = 48
POLICIES = ["fail", "remove", "certainty", "adjust", "average"]
FORMULAS = {
    "gaussian": ["y ~ x1 + x2", "y ~ x1 * x2", "y ~ I(x1^2) + factor(k) + x2"],
    "quasibinomial": ["yb ~ x1 + x2", "yb ~ x1 + factor(k)"],
    "binomial": ["yb ~ x1 + x2"],
}


def _cases():
    rng = np.random.default_rng(SEED)
    cases = []
    for i in range(N_CASES):
        kind = i % 8
        stratified, two_stage, fpc = bool(kind & 1), bool(kind & 2), bool(kind & 4)
        policy = POLICIES[(i // 8) % len(POLICIES)]
        n_strata = int(rng.integers(2, 6)) if stratified else 1
        rows = []
        psu_id = 0
        for h in range(n_strata):
            lonely = stratified and policy != "fail" and h == 0
            n_psu = 1 if lonely else int(rng.integers(2, 7) if stratified else rng.integers(6, 15))
            N1 = n_psu + int(rng.integers(0, 15))
            for _ in range(n_psu):
                psu_id += 1
                # single second-stage units are lonely at stage 2 (with an fpc)
                n_ssu = int(rng.integers(1 if policy != "fail" else 2, 4)) if two_stage else 1
                N2 = n_ssu + int(rng.integers(0, 6))
                for s in range(n_ssu):
                    for _ in range(int(rng.integers(2, 7))):
                        rows.append((h, psu_id, s, N1, N2))
        h, psu, ssu, N1, N2 = map(np.array, zip(*rows, strict=True))
        n = len(h)
        k = rng.integers(0, 3, n)
        x2 = np.array(["a", "b", "c"])[rng.integers(0, 3, n)]
        x2[:3] = ["a", "b", "c"]
        k[:3] = [0, 1, 2]
        x1 = np.round(rng.normal(10, 3, n), 3)
        lin = 0.2 * (x1 - 10) + (x2 == "b") * 0.8 - (x2 == "c") * 0.5
        y = np.round(5 + lin + rng.normal(0, 1, n) + 0.3 * h, 4)
        yb = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(float)
        yb[:2] = [0.0, 1.0]
        x1m = x1.copy()
        if i % 3 == 1:
            x1m[rng.integers(3, n, max(1, n // 15))] = np.nan
        w = np.round(rng.uniform(1, 4, n) * (1 + h), 3)
        family = list(FORMULAS)[i % 3]
        formula = FORMULAS[family][i % len(FORMULAS[family])]
        cases.append(dict(
            i=i, h=h.tolist(), psu=psu.tolist(), ssu=ssu.tolist(), N1=N1.tolist(),
            N2=N2.tolist(), k=k.tolist(), x2=x2.tolist(),
            x1=[None if np.isnan(v) else v for v in x1m], y=y.tolist(), yb=yb.tolist(),
            w=w.tolist(), stratified=stratified, two_stage=two_stage, fpc=fpc,
            policy=policy, family=family, formula=formula,
        ))
    return cases


R_BODY = r"""
inp <- jsonlite::fromJSON("%(path)s", simplifyVector = TRUE, simplifyDataFrame = FALSE)
for (cs in inp) {
  d <- data.frame(h = cs$h, psu = cs$psu, ssu = cs$ssu, N1 = cs$N1, N2 = cs$N2, k = cs$k,
                  x2 = factor(cs$x2), x1 = as.numeric(cs$x1), y = cs$y, yb = cs$yb, w = cs$w)
  ids <- if (cs$two_stage) ~psu + ssu else ~psu
  fpc <- if (!cs$fpc) NULL else if (cs$two_stage) ~N1 + N2 else ~N1
  strata <- if (cs$stratified) ~h else NULL
  options(survey.lonely.psu = cs$policy)
  des <- svydesign(ids = ids, strata = strata, weights = ~w, fpc = fpc, data = d)
  fam <- get(cs$family)()
  OUT[[as.character(cs$i)]] <- tryCatch({
    m <- suppressWarnings(svyglm(as.formula(cs$formula), des, family = fam))
    s <- suppressWarnings(summary(m))
    list(names = names(coef(m)), est = unname(coef(m)), se = unname(SE(m)),
         df = S(m$df.residual), disp = S(as.numeric(s$dispersion)))
  }, error = function(e) list(error = S(conditionMessage(e))))
}
"""


@pytest.fixture(scope="module")
def cases():
    return _cases()


@pytest.fixture(scope="module")
def r_out(cases):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.json"
        path.write_text(json.dumps(cases), encoding="utf-8")
        return run_r(R_BODY % {"path": path})


def _fit(cs):
    data = {key: np.asarray(cs[key]) for key in ("h", "psu", "ssu", "N1", "N2", "k", "y", "yb",
                                                  "w")}
    data["x2"] = np.asarray(cs["x2"], dtype=object)
    data["x1"] = np.array([np.nan if v is None else v for v in cs["x1"]], dtype=float)
    for key in ("N1", "N2", "k", "y", "yb", "w", "h", "psu", "ssu"):
        data[key] = data[key].astype(float)
    ids = ["psu", "ssu"] if cs["two_stage"] else "psu"
    fpc = None if not cs["fpc"] else (["N1", "N2"] if cs["two_stage"] else "N1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)
        des = SurveyDesign.create(data, ids=ids, strata="h" if cs["stratified"] else None,
                                  weights="w", fpc=fpc, lonely_psu=cs["policy"])
        return glm(cs["formula"], des, cs["family"])


def test_the_cases_cover_the_design_space(cases):
    kinds = {(c["stratified"], c["two_stage"], c["fpc"]) for c in cases}
    assert len(kinds) == 8
    assert {c["policy"] for c in cases} == set(POLICIES)
    assert {c["family"] for c in cases} == set(FORMULAS)
    assert any(None in c["x1"] for c in cases)


@pytest.mark.r
def test_random_svyglm_matches_r(cases, r_out):
    failures = []
    for cs in cases:
        exp = r_out[str(cs["i"])]
        assert "error" not in exp, (cs["i"], exp)
        fit = _fit(cs)
        try:
            assert list(fit.terms) == exp["names"]
            np.testing.assert_allclose(fit.coef, arr(exp["est"]), rtol=1e-6, atol=1e-10)
            np.testing.assert_allclose(fit.se, arr(exp["se"]), rtol=1e-6, atol=1e-12)
            assert fit.df_residual == exp["df"]
            np.testing.assert_allclose(fit.dispersion, exp["disp"], rtol=1e-6)
        except AssertionError as exc:
            failures.append(f"case {cs['i']} ({cs['formula']}, {cs['family']}, "
                            f"{cs['policy']}): {exc}")
    assert not failures, "\n".join(failures)
