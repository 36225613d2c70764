"""Randomised cross-check against R: calibration, replicate factors and qrules on data and
designs generated here (seeded), beyond the shipped reference data sets.

One Rscript per module run: Python writes every generated case to a JSON file, R computes
``calibrate``/``postStratify``/``rake`` weights and residuals, ``as.svrepdesign`` factors
and ``qrule_*`` values, and writes them back.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import calibration as C
from analysis import quantiles as Q
from analysis import replicates as RP

from ._rutil import arr, run_r

SEED = 20241203
N_CAL = 40
N_REP = 25
N_Q = 30


def _cal_cases():
    rng = np.random.default_rng(SEED)
    cases = []
    methods = ["linear", "linear_b", "raking", "raking_trim", "logit", "post", "rake"]
    for i in range(N_CAL):
        n = int(rng.integers(40, 250))
        ka, kb = int(rng.integers(2, 5)), int(rng.integers(2, 4))
        a = np.r_[np.arange(ka), rng.integers(0, ka, n - ka)]
        b = np.r_[np.arange(kb), rng.integers(0, kb, n - kb)]
        rng.shuffle(a)
        rng.shuffle(b)
        x = np.round(rng.gamma(3.0, 10.0, n), 2)
        y = rng.normal(50, 10, n) + 0.3 * x
        w = np.round(rng.uniform(5, 40, n), 3)
        method = methods[i % len(methods)]
        tilt_a = rng.uniform(0.85, 1.15, ka)
        tilt_b = rng.uniform(0.85, 1.15, kb)
        ta = np.bincount(a, weights=w, minlength=ka) * tilt_a
        big_n = float(np.round(ta.sum()))
        ta = np.round(ta / ta.sum() * big_n)
        ta[-1] = big_n - ta[:-1].sum()
        tb = np.bincount(b, weights=w, minlength=kb) * tilt_b
        tb = np.round(tb / tb.sum() * big_n)
        tb[-1] = big_n - tb[:-1].sum()
        tx = float(np.round(np.dot(w, x) * rng.uniform(0.9, 1.1) * big_n / w.sum()))
        cross = None
        if method == "post":
            cell = a * kb + b
            tc = np.bincount(cell, weights=w, minlength=ka * kb) * rng.uniform(0.8, 1.2, ka * kb)
            cross = np.round(tc * big_n / tc.sum()).tolist()
        cases.append(dict(
            i=i, method=method, a=[f"a{v}" for v in a], b=[f"b{v}" for v in b],
            x=x.tolist(), y=y.tolist(), w=w.tolist(), ta=ta.tolist(), tb=tb.tolist(),
            tx=tx, N=big_n, cross=cross, ka=ka, kb=kb,
        ))
    return cases


def _rep_cases():
    rng = np.random.default_rng(SEED + 1)
    cases = []
    for i in range(N_REP):
        nstrata = int(rng.integers(2, 9))
        rows = []
        pid = 0
        for h in range(nstrata):
            npsu = int(rng.choice([2, 2, 2, 4, 6])) if i % 2 == 0 else int(rng.integers(2, 6))
            for _ in range(npsu):
                pid += 1
                for _ in range(int(rng.integers(1, 4))):
                    rows.append((f"s{h}", pid * 7 % 101 + 1000 * h, float(rng.uniform(1, 9))))
        order = rng.permutation(len(rows))
        rows = [rows[k] for k in order]
        fpc_by = {f"s{h}": int(rng.integers(10, 30)) for h in range(nstrata)}
        cases.append(dict(
            i=i, st=[r[0] for r in rows], psu=[r[1] for r in rows], w=[r[2] for r in rows],
            fpc=[fpc_by[r[0]] for r in rows], brr=(i % 2 == 0),
        ))
    return cases


def _q_cases():
    rng = np.random.default_rng(SEED + 2)
    cases = []
    for i in range(N_Q):
        n = int(rng.integers(5, 80))
        x = rng.integers(0, 15, n).astype(float) if i % 2 else np.round(rng.normal(0, 1, n), 3)
        w = np.ones(n) * 3 if i % 3 == 0 else np.round(rng.uniform(0.5, 4, n), 2)
        if i % 5 == 1:
            w[rng.integers(0, n, 2)] = 0.0
        cases.append(dict(i=i, x=x.tolist(), w=w.tolist()))
    return cases


PGRID = [0.0, 0.05, 0.1, 0.2, 1 / 3, 0.5, 0.6, 0.75, 0.9, 0.99, 1.0]

R_BODY = r"""
inp <- jsonlite::fromJSON("%(path)s", simplifyVector = TRUE)
resid_fn <- function(x, postStrata) {
  x <- as.matrix(x)
  for (psvar in postStrata) {
    if (inherits(psvar, "greg_calibration")) {
      x <- as.matrix(qr.resid(psvar$qr, x/psvar$w) * psvar$w)
    } else if (inherits(psvar, "raking")) {
      for (iterations in 1:10) for (margin in psvar) {
        psw <- attr(margin, "weights"); x <- x - psw * apply(x/psw, 2, ave, margin)
      }
    } else {
      psw <- attr(psvar, "weights"); oldw <- attr(psvar, "oldweights")
      psvar <- as.factor(psvar)
      psmeans <- rowsum(x * oldw/psw, psvar, reorder = TRUE)/as.vector(by(oldw, psvar, sum))
      x <- x - psmeans[match(psvar, sort(unique(psvar))), ] * psw
    }
  }
  x
}
CAL <- list()
for (k in seq_len(nrow(inp$cal))) {
  cs <- inp$cal[k, ]
  df <- data.frame(a = factor(cs$a[[1]]), b = factor(cs$b[[1]]), x = cs$x[[1]], y = cs$y[[1]],
                   w = cs$w[[1]])
  d <- svydesign(id = ~1, weights = ~w, data = df)
  ta <- cs$ta[[1]]; tb <- cs$tb[[1]]
  pop <- c(cs$N, ta[-1], tb[-1], cs$tx)
  failed <- FALSE
  des <- withCallingHandlers(switch(cs$method,
    linear = calibrate(d, ~a + b + x, pop),
    linear_b = calibrate(d, ~a + b + x, pop, bounds = c(0.6, 1.6), force = TRUE),
    raking = calibrate(d, ~a + b + x, pop, calfun = "raking", force = TRUE),
    raking_trim = suppressMessages(calibrate(d, ~a + b + x, pop, calfun = "raking",
                                             trim = c(0.8, 1.25), force = TRUE)),
    logit = calibrate(d, ~a + b + x, pop, calfun = "logit", bounds = c(0.4, 2.5), force = TRUE),
    post = {
      cells <- expand.grid(b = levels(df$b), a = levels(df$a))[, c("a", "b")]
      cells$Freq <- cs$cross[[1]]
      postStratify(d, ~a + b, cells, partial = FALSE)
    },
    rake = rake(d, list(~a, ~b),
                list(data.frame(a = levels(df$a), Freq = ta),
                     data.frame(b = levels(df$b), Freq = tb)),
                control = list(maxit = 1000, epsilon = 1e-15))),
    warning = function(wn) {
      if (grepl("converge", conditionMessage(wn))) failed <<- TRUE
      invokeRestart("muffleWarning")
    })
  w2 <- weights(des)
  CAL[[k]] <- list(w = w2, resid = resid_fn(cbind(df$y, df$x) * w2, des$postStrata),
                   failed = S(failed))
}
OUT$cal <- CAL
REP <- list()
for (k in seq_len(nrow(inp$rep))) {
  cs <- inp$rep[k, ]
  df <- data.frame(st = cs$st[[1]], psu = cs$psu[[1]], w = cs$w[[1]], fpc = cs$fpc[[1]])
  d <- svydesign(id = ~psu, strata = ~st, weights = ~w, fpc = ~fpc, data = df)
  d1 <- svydesign(id = ~psu, weights = ~w, data = df)
  one <- function(r) list(f = r$repweights$weights, idx = r$repweights$index,
                          scale = S(r$scale), rscales = r$rscales)
  res <- list(jkn = one(as.svrepdesign(d, type = "JKn")),
              jk1 = one(as.svrepdesign(d1, type = "JK1")))
  if (cs$brr) {
    res$brr <- one(suppressWarnings(as.svrepdesign(d, type = "BRR")))
    res$fay <- one(suppressWarnings(as.svrepdesign(d, type = "Fay", fay.rho = 0.2)))
  }
  REP[[k]] <- res
}
OUT$rep <- REP
QR <- list()
rules <- c("math", "school", "shahvaish", paste0("hf", 1:9))
p <- c(%(pgrid)s)
for (k in seq_len(nrow(inp$q))) {
  cs <- inp$q[k, ]
  x <- cs$x[[1]]; w <- cs$w[[1]]
  QR[[k]] <- lapply(setNames(rules, rules), function(r) {
    f <- get(paste0("qrule_", r), envir = asNamespace("survey"))
    vapply(p, function(pp) suppressWarnings(f(x, w, pp)), 0)
  })
}
OUT$q <- QR
"""


@pytest.fixture(scope="module")
def cases():
    return {"cal": _cal_cases(), "rep": _rep_cases(), "q": _q_cases()}


@pytest.fixture(scope="module")
def r_out(cases):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cases.json"
        path.write_text(json.dumps(cases), encoding="utf-8")
        return run_r(R_BODY % {"path": path, "pgrid": ", ".join(repr(v) for v in PGRID)})


def _py_calibrate(cs):
    df = pd.DataFrame({"a": cs["a"], "b": cs["b"], "x": cs["x"]})
    w = np.asarray(cs["w"])
    ta = {f"a{k}": t for k, t in enumerate(cs["ta"])}
    tb = {f"b{k}": t for k, t in enumerate(cs["tb"])}
    totals = {"a": ta, "b": tb, "x": cs["tx"]}
    m = cs["method"]
    if m == "linear":
        return C.calibrate_frame(df, w, totals, "linear")[0]
    if m == "linear_b":
        return C.calibrate_frame(df, w, totals, "linear", bounds=(0.6, 1.6))[0]
    if m == "raking":
        return C.calibrate_frame(df, w, totals, "raking")[0]
    if m == "raking_trim":
        return C.calibrate_frame(df, w, totals, "raking", trim=(0.8, 1.25))[0]
    if m == "logit":
        return C.calibrate_frame(df, w, totals, "logit", bounds=(0.4, 2.5))[0]
    if m == "post":
        cross = {f"a{i}:b{j}": cs["cross"][i * cs["kb"] + j]
                 for i in range(cs["ka"]) for j in range(cs["kb"])}
        return C.calibrate_frame(df, w, {"a:b": cross}, "poststratify")[0]
    return C.calibrate_frame(df, w, {"a": ta, "b": tb}, "rake")[0]


@pytest.mark.r
def test_random_calibrations_match_r(cases, r_out):
    compared = {"converged": 0, "failed": 0}
    for cs, exp in zip(cases["cal"], r_out["cal"], strict=True):
        res = _py_calibrate(cs)
        failed = bool(exp["failed"])
        assert res.converged == (not failed), (cs["i"], cs["method"])
        assert np.max(np.abs(res.weights - arr(exp["w"])) / arr(exp["w"])) < 1e-8, cs["i"]
        x = np.column_stack([cs["y"], cs["x"]]) * res.weights[:, None]
        e = C.calibration_residuals(x, res.adjustment)
        r_e = np.column_stack([arr(c) for c in exp["resid"]])
        assert np.max(np.abs(e - r_e)) <= 1e-8 * np.max(np.abs(x)), cs["i"]
        compared["failed" if failed else "converged"] += 1
    assert compared["converged"] >= N_CAL // 2


def _py_factors(cs, kind):
    st, psu = np.asarray(cs["st"]), np.asarray(cs["psu"])
    if kind == "jkn":
        return RP.jkn_factors(st, psu, np.asarray(cs["fpc"], float))
    if kind == "jk1":
        return RP.jk1_factors(psu)
    return RP.brr_factors(st, psu, rho=0.2 if kind == "fay" else 0.0)


@pytest.mark.r
def test_random_replicate_factors_match_r(cases, r_out):
    n_brr = 0
    for cs, exp in zip(cases["rep"], r_out["rep"], strict=True):
        for kind, e in exp.items():
            rf = _py_factors(cs, kind)
            f = np.column_stack([arr(c) for c in e["f"]])
            assert rf.psu_factors.shape == f.shape, (cs["i"], kind)
            np.testing.assert_allclose(rf.psu_factors, f, rtol=1e-14, atol=0)
            np.testing.assert_array_equal(rf.index + 1, np.asarray(e["idx"], dtype=int))
            assert abs(rf.scale - e["scale"]) <= 1e-14 * abs(e["scale"])
            np.testing.assert_allclose(rf.rscales, arr(e["rscales"]), rtol=1e-14)
            n_brr += kind == "brr"
    assert n_brr >= N_REP // 2


@pytest.mark.r
def test_random_qrules_match_r(cases, r_out):
    for cs, exp in zip(cases["q"], r_out["q"], strict=True):
        x, w = np.asarray(cs["x"]), np.asarray(cs["w"])
        for rule in Q.QRULES:
            expected = arr(exp[rule])
            got = np.array([Q.weighted_quantile(x, w, p, rule) for p in PGRID])
            ok = (np.isnan(got) & np.isnan(expected)) | (
                np.abs(got - expected) <= 1e-12 + 1e-12 * np.abs(expected))
            assert ok.all(), (cs["i"], rule, got[~ok], expected[~ok])
