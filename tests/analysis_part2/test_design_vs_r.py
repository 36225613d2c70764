"""Randomised cross-check against R *through the design and the estimators*: calibrated
designs (postStratify, rake, linear and bounded logit calibrate), replicate conversions
(JK1, JKn, BRR, Fay) and calibrated replicate designs, with svymean, svytotal, svyratio,
svyby and svyquantile (overall and by domain; Woodruff, score, beta, xlogit, asin and
replicate-quantile intervals).

Designs and data are generated here (seeded); all cases run in one Rscript process.
Tolerance: relative 1e-6.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest

import analysis as A

from ._rutil import arr, run_r

SEED = 20250611
KINDS = ["post", "rake", "linear", "logit", "JK1", "JKn", "BRR", "Fay", "JKn_post", "BRR_cal"]
N_CASES = 60
REL = 1e-6


def _cases():
    rng = np.random.default_rng(SEED)
    out = []
    for i in range(N_CASES):
        kind = KINDS[i % len(KINDS)]
        even = kind.startswith(("BRR", "Fay"))
        nstrata = int(rng.integers(2, 6))
        st, psu, fpc = [], [], []
        pid = 0
        for h in range(nstrata):
            npsu = int(rng.choice([2, 4])) if even else int(rng.integers(2, 6))
            big = int(rng.integers(npsu + 2, 40))
            for _ in range(npsu):
                pid += 1
                for _ in range(int(rng.integers(2, 7))):
                    st.append(f"s{h}")
                    psu.append(pid)
                    fpc.append(big)
        n = len(st)
        a = np.r_[np.arange(3), rng.integers(0, 3, n - 3)]
        b = np.r_[np.arange(2), rng.integers(0, 2, n - 2)]
        g = np.r_[np.arange(3), rng.integers(0, 3, n - 3)]
        rng.shuffle(a)
        rng.shuffle(b)
        rng.shuffle(g)
        x = np.round(rng.gamma(3.0, 10.0, n), 2)
        y = np.round(rng.normal(50, 10, n) + 0.4 * x + 3 * a, 2)
        w = np.round(rng.uniform(2, 12, n), 3)
        ta = np.bincount(a, weights=w, minlength=3) * rng.uniform(0.9, 1.1, 3)
        big_n = float(np.round(ta.sum()))
        ta = np.round(ta / ta.sum() * big_n)
        ta[-1] = big_n - ta[:-1].sum()
        tb = np.bincount(b, weights=w, minlength=2) * rng.uniform(0.9, 1.1, 2)
        tb = np.round(tb / tb.sum() * big_n)
        tb[-1] = big_n - tb[:-1].sum()
        tx = float(np.round(np.dot(w, x) * rng.uniform(0.95, 1.05) * big_n / w.sum()))
        out.append(dict(
            i=i, kind=kind, st=st, psu=psu, fpc=fpc, w=w.tolist(), x=x.tolist(), y=y.tolist(),
            a=[f"a{v}" for v in a], b=[f"b{v}" for v in b], g=[f"g{v}" for v in g],
            ta=ta.tolist(), tb=tb.tolist(), tx=tx, N=big_n,
            itype=("quantile" if kind[:2] in ("JK", "BR", "Fa") else
                   ["score", "beta", "xlogit", "asin"][(i // len(KINDS)) % 4]),
        ))
    return out


R_BODY = r"""
inp <- jsonlite::fromJSON("%(path)s", simplifyVector = TRUE)
RES <- list()
for (k in seq_len(nrow(inp))) {
  cs <- inp[k, ]
  df <- data.frame(st = cs$st[[1]], psu = cs$psu[[1]], fpc = cs$fpc[[1]], w = cs$w[[1]],
                   x = cs$x[[1]], y = cs$y[[1]], a = factor(cs$a[[1]]), b = factor(cs$b[[1]]),
                   g = factor(cs$g[[1]]))
  ta <- cs$ta[[1]]; tb <- cs$tb[[1]]
  pa <- data.frame(a = levels(df$a), Freq = ta); pb <- data.frame(b = levels(df$b), Freq = tb)
  pop <- c(`(Intercept)` = cs$N, aa1 = ta[2], aa2 = ta[3], x = cs$tx)
  d <- svydesign(id = ~psu, strata = ~st, weights = ~w, fpc = ~fpc, data = df)
  dwr <- svydesign(id = ~psu, strata = ~st, weights = ~w, data = df)
  des <- switch(cs$kind,
    post = postStratify(d, ~a, pa),
    rake = rake(d, list(~a, ~b), list(pa, pb), control = list(maxit = 1000, epsilon = 1e-13)),
    linear = calibrate(d, ~a + x, pop),
    logit = calibrate(d, ~a + x, pop, calfun = "logit", bounds = c(0.5, 2)),
    JK1 = as.svrepdesign(svydesign(id = ~psu, weights = ~w, data = df), type = "JK1"),
    JKn = as.svrepdesign(d, type = "JKn"),
    BRR = as.svrepdesign(dwr, type = "BRR"),
    Fay = as.svrepdesign(dwr, type = "Fay", fay.rho = 0.3),
    JKn_post = postStratify(as.svrepdesign(d, type = "JKn"), ~a, pa),
    BRR_cal = calibrate(as.svrepdesign(dwr, type = "BRR"), ~a + x, pop))
  m <- svymean(~y + x, des)
  tt <- svytotal(~y + a, des)
  r <- svyratio(~y, ~x, des)
  by <- svyby(~y, ~g, des, svymean)
  q <- svyquantile(~y, des, c(0.25, 0.5), ci = TRUE)$y
  qb <- svyby(~y, ~g, des, svyquantile, quantiles = 0.5, ci = TRUE)
  qi <- suppressWarnings(svyquantile(~y, des, c(0.3, 0.5), ci = TRUE,
                                     interval.type = cs$itype))$y
  RES[[k]] <- list(mean = coef(m), mean_se = SE(m), total = coef(tt), total_se = SE(tt),
                   ratio = coef(r), ratio_se = SE(r), by = coef(by), by_se = SE(by),
                   q = q[, 1], q_lo = q[, 2], q_hi = q[, 3], q_se = q[, 4],
                   qb = coef(qb), qb_se = SE(qb), qi_lo = qi[, 2], qi_hi = qi[, 3],
                   degf = S(degf(des)))
}
OUT$res <- RES
"""


@pytest.fixture(scope="module")
def cases():
    return _cases()


@pytest.fixture(scope="module")
def r_out(cases):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.json"
        path.write_text(json.dumps(cases), encoding="utf-8")
        return run_r(R_BODY % {"path": path})["res"]


def _design(cs):
    data = {k: np.asarray(cs[k]) if k not in ("a", "b", "g", "st") else
            np.array(cs[k], dtype=object) for k in ("st", "psu", "fpc", "w", "x", "y", "a", "b", "g")}
    kind = cs["kind"]
    ta = {f"a{k}": t for k, t in enumerate(cs["ta"])}
    tb = {f"b{k}": t for k, t in enumerate(cs["tb"])}
    cal = {"(Intercept)": cs["N"], "a": ta, "x": cs["tx"]}
    d = A.SurveyDesign.create(data, ids="psu", strata="st", weights="w", fpc="fpc")
    dwr = A.SurveyDesign.create(data, ids="psu", strata="st", weights="w")
    if kind == "post":
        return d.poststratify({"a": ta})
    if kind == "rake":
        return d.rake({"a": ta, "b": tb})
    if kind == "linear":
        return d.calibrate(cal, "linear")
    if kind == "logit":
        return d.calibrate(cal, "logit", bounds=(0.5, 2))
    if kind == "JK1":
        return A.SurveyDesign.create(data, ids="psu", weights="w").as_replicate("JK1")
    if kind == "JKn":
        return d.as_replicate("JKn")
    if kind == "BRR":
        return dwr.as_replicate("BRR")
    if kind == "Fay":
        return dwr.as_replicate("Fay", rho=0.3)
    if kind == "JKn_post":
        return d.as_replicate("JKn").poststratify({"a": ta})
    return dwr.as_replicate("BRR").calibrate(cal, "linear")


def _check(got, exp, what, cs):
    got, exp = np.asarray(got, dtype=float), arr(exp)
    assert got.shape == exp.shape, (cs["i"], cs["kind"], what)
    ok = (np.abs(got - exp) <= 1e-9 + REL * np.abs(exp)) | (np.isnan(got) & np.isnan(exp))
    assert ok.all(), (cs["i"], cs["kind"], what, got, exp)


@pytest.mark.r
def test_design_estimates_match_r(cases, r_out):
    seen = set()
    for cs, exp in zip(cases, r_out, strict=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", A.AnalysisWarning)
            des = _design(cs)
        m = A.mean(["y", "x"], des, deff=False)
        _check(m.value, exp["mean"], "mean", cs)
        _check(m.se, exp["mean_se"], "mean se", cs)
        t = A.total(["y", "a"], des, deff=False)
        _check(t.value, exp["total"], "total", cs)
        _check(t.se, exp["total_se"], "total se", cs)
        r = A.ratio("y", "x", des, deff=False)
        _check(r.value, exp["ratio"], "ratio", cs)
        _check(r.se, exp["ratio_se"], "ratio se", cs)
        b = A.mean("y", des, by="g", deff=False)
        _check(b.value, exp["by"], "by", cs)
        _check(b.se, exp["by_se"], "by se", cs)
        q = A.quantile("y", des, [0.25, 0.5])
        _check(q.value, exp["q"], "quantile", cs)
        _check(q.ci_low, exp["q_lo"], "quantile lo", cs)
        _check(q.ci_high, exp["q_hi"], "quantile hi", cs)
        _check(q.se, exp["q_se"], "quantile se", cs)
        qb = A.quantile("y", des, [0.5], by="g")
        _check(qb.value, exp["qb"], "quantile by", cs)
        _check(qb.se, exp["qb_se"], "quantile by se", cs)
        qi = A.quantile("y", des, [0.3, 0.5], interval_type=cs["itype"])
        _check(qi.ci_low, exp["qi_lo"], cs["itype"] + " lo", cs)
        _check(qi.ci_high, exp["qi_hi"], cs["itype"] + " hi", cs)
        assert des.degf() == exp["degf"], (cs["i"], cs["kind"])
        seen.add(cs["kind"])
    assert seen == set(KINDS)
