"""analysis.quantiles against R's svyquantile (survey 4.1.1): every qrule and interval type.

The interval functions need the design only through ``mean_se`` (R's ``svymean``); for the
stratified SRSWOR designs used here (apistrat, apisrs) it is written below, for the test
only, and checked against R's own ``svymean`` first.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import quantiles as Q
from analysis import replicates as RP

from ._rutil import DATA, run_r

PROBS = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9]
VARS = ["api00", "enroll", "meals"]
SCORE_QRULES = ["math", "hf4", "hf7", "shahvaish"]
LIN_TYPES = ("mean", "beta", "xlogit", "asin", "score")
REP_TYPES = ("mean", "beta", "quantile")
REP_PROBS = [0.1, 0.25, 0.5, 0.75, 0.9]

R_BODY = r"""
strat <- rd("apistrat.csv"); srs <- rd("apisrs.csv")
des <- list(strat = svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = strat),
            srs = svydesign(id = ~1, weights = ~pw, fpc = ~fpc, data = srs))
probs <- c(%(probs)s)
# every qrule with the default interval; four with the others (the probability-scale
# interval does not depend on the rule, only its inversion does)
SCORE_QRULES <- c("math", "hf4", "hf7", "shahvaish")
qrules <- c("math", "school", "shahvaish", paste0("hf", 1:9))
itypes <- c("mean", "beta", "xlogit", "asin", "score")
for (dn in names(des)) {
  d <- des[[dn]]
  OUT[[dn]] <- list(degf = S(degf(d)),
    check = lapply(list(a = d$variables$api00 <= 650, b = d$variables$enroll > 300),
                   function(z) { m <- svymean(z, d); list(S(coef(m)[[1]]), S(SE(m)[[1]])) }))
  for (qr in qrules) for (it in itypes) {
    key <- paste(dn, qr, it, sep = "|")
    if (it != "mean" && !(qr %%in%% SCORE_QRULES)) next
    if (it == "score" && !(qr %%in%% c("math", "hf7"))) next  # slow in R; rule-independent root
    pr <- if (it == "score") probs[-1] else probs
    r <- tryCatch(svyquantile(~api00 + enroll + meals, d, quantiles = pr, qrule = qr,
                              interval.type = it),
                  error = function(e) NULL)
    if (is.null(r)) { OUT[[key]] <- "error"; next }
    OUT[[key]] <- lapply(r[c("api00", "enroll", "meals")],
                         function(m) unname(as.list(as.data.frame(m))))
  }
}
# domains: svyby subsets the design
for (it in itypes) {
  b <- svyby(~api00, ~awards, des$strat, svyquantile, quantiles = c(0.25, 0.5), ci = TRUE,
             interval.type = it, qrule = "hf7")
  OUT[[paste0("by|", it)]] <- list(coef = unlist(coef(b), use.names = FALSE),
                                   se = unlist(SE(b), use.names = FALSE))
}
sub <- subset(des$strat, awards == "Yes")
OUT$score_p01 <- tryCatch({svyquantile(~api00, des$strat, 0.01, interval.type = "score"); "ok"},
                          error = function(e) conditionMessage(e))
reps <- list(jkn = as.svrepdesign(des$strat, type = "JKn"),
             brr = suppressWarnings(as.svrepdesign(des$strat, type = "BRR")),
             fay = suppressWarnings(as.svrepdesign(des$strat, type = "Fay", fay.rho = 0.3)))
for (rn in names(reps)) {
  OUT[[paste0("rep|", rn, "|degf")]] <- S(degf(reps[[rn]]))
  for (it in c("mean", "beta", "quantile")) for (qr in c("math", "hf7")) {
    r <- suppressWarnings(svyquantile(~api00 + enroll, reps[[rn]],
                                      quantiles = c(0.1, 0.25, 0.5, 0.75, 0.9),
                                      interval.type = it, qrule = qr))
    OUT[[paste("rep", rn, it, qr, sep = "|")]] <-
      lapply(r[c("api00", "enroll")], function(m) unname(as.list(as.data.frame(m))))
  }
}
OUT$sub <- list(degf = S(degf(sub)), nrow = S(nrow(sub)))
"""


@pytest.fixture(scope="module")
def r_out():
    return run_r(R_BODY % {"probs": ", ".join(map(repr, PROBS))})


def _design(name):
    d = pd.read_csv(DATA / ("apistrat.csv" if name == "strat" else "apisrs.csv"))
    strata = d["stype"].to_numpy() if name == "strat" else np.zeros(len(d), dtype=int)
    return d, d["pw"].to_numpy(float), strata, d["fpc"].to_numpy(float)


def _mean_se_factory(w_full, strata, fpc, rows=None):
    """svymean for a stratified SRSWOR design (test-only); ``rows`` = the domain's rows."""
    n = w_full.size
    levels = np.unique(strata)

    def mean_se(z):
        zf = np.zeros(n)
        wd = np.zeros(n)
        if rows is None:
            zf[:] = z
            wd[:] = w_full
        else:
            zf[rows] = z
            wd[rows] = w_full[rows]
        # R's svymean: colSums(x * w / sum(w)) (long double sums), then the scores
        # (x - mean) * w / sum(w) -- same operation order, so boundary cases (F = 1) agree
        tot = float(np.sum(wd.astype(np.longdouble)))
        m = float(np.sum((zf * wd / tot).astype(np.longdouble)))
        u = (zf - m) * wd / tot
        v = 0.0
        for h in levels:
            uh = u[strata == h]
            nh = uh.size
            f = nh / fpc[strata == h][0]
            v += (1 - f) * nh / (nh - 1) * np.sum((uh - uh.mean()) ** 2)
        return m, math.sqrt(v)

    return mean_se


def _close(a, b, rel=1e-9):
    if b is None:
        return a is None or (isinstance(a, float) and math.isnan(a))
    return abs(a - b) <= 1e-12 + rel * abs(b)


@pytest.mark.r
@pytest.mark.parametrize("dname", ["strat", "srs"])
def test_mean_se_helper_is_svymean(r_out, dname):
    d, w, strata, fpc = _design(dname)
    ms = _mean_se_factory(w, strata, fpc)
    for z, (m, se) in zip([d["api00"] <= 650, d["enroll"] > 300],
                          r_out[dname]["check"].values(), strict=True):
        got = ms(z.to_numpy(float))
        assert _close(got[0], m) and _close(got[1], se)


@pytest.mark.r
@pytest.mark.parametrize("dname", ["strat", "srs"])
@pytest.mark.parametrize("itype", LIN_TYPES)
def test_every_qrule_and_interval_matches_r(r_out, dname, itype):
    d, w, strata, fpc = _design(dname)
    ms = _mean_se_factory(w, strata, fpc)
    df = r_out[dname]["degf"]
    checked = 0
    probs = PROBS[1:] if itype == "score" else PROBS
    qrules = Q.QRULES if itype == "mean" else (
        ["math", "hf7"] if itype == "score" else SCORE_QRULES)
    for qr in qrules:
        exp = r_out[f"{dname}|{qr}|{itype}"]
        assert exp != ["error"], (qr, itype)
        for v in VARS:
            got = Q.svyquantile(d[v].to_numpy(float), w, probs, mean_se=ms, df=df, qrule=qr,
                                interval_type=itype)
            q, lo, hi, se = exp[v]
            for k, g in enumerate(got):
                ctx = (qr, v, probs[k])
                assert _close(g.quantile, q[k]), ctx
                assert _close(g.ci_low, lo[k]), (ctx, g.ci_low, lo[k])
                assert _close(g.ci_high, hi[k]), (ctx, g.ci_high, hi[k])
                assert _close(g.se, se[k]), ctx
                checked += 1
    assert checked == len(VARS) * len(probs) * len(qrules)


@pytest.mark.r
def test_score_interval_fails_where_r_fails(r_out):
    assert "not of opposite sign" in r_out["score_p01"][0]
    d, w, strata, fpc = _design("strat")
    with pytest.raises(Q.QuantileError, match="not of opposite sign"):
        Q.svyquantile(d["api00"].to_numpy(float), w, [0.01], interval_type="score",
                      mean_se=_mean_se_factory(w, strata, fpc), df=r_out["strat"]["degf"])


@pytest.mark.r
@pytest.mark.parametrize("itype", LIN_TYPES)
def test_domain_quantiles_as_svyby(r_out, itype):
    d, w, strata, fpc = _design("strat")
    exp = r_out[f"by|{itype}"]
    coef, ses = exp["coef"], exp["se"]
    k = 0
    for level in sorted(d["awards"].unique()):
        rows = np.flatnonzero(d["awards"].to_numpy() == level)
        # R's subset design: the domain's rows, df = its PSUs minus its strata
        df = rows.size - len(np.unique(strata[rows]))
        ms = _mean_se_factory(w, strata, fpc, rows)
        got = Q.svyquantile(d["api00"].to_numpy(float)[rows], w[rows], [0.25, 0.5],
                            mean_se=ms, df=df, qrule="hf7", interval_type=itype)
        for g in got:
            # svyby orders coefficients by domain within quantile
            idx = k + (0 if g.p == 0.25 else 2)
            assert _close(g.quantile, coef[idx])
            # svyby keeps R's quantile SE: the interval's width / (2 t_df)
            assert _close(g.se, ses[idx]), (level, g.p, g.se, ses[idx])
        k += 1
    rows = np.flatnonzero(d["awards"].to_numpy() == "Yes")
    assert r_out["sub"]["degf"] == rows.size - len(np.unique(strata[rows]))


@pytest.mark.r
@pytest.mark.parametrize("rname", ["jkn", "brr", "fay"])
@pytest.mark.parametrize("itype", REP_TYPES)
def test_replicate_design_quantiles_match_r(r_out, rname, itype):
    d, w, strata, fpc = _design("strat")
    psu = np.arange(len(d))
    rf = {"jkn": lambda: RP.jkn_factors(strata, psu, fpc),
          "brr": lambda: RP.brr_factors(strata, psu),
          "fay": lambda: RP.brr_factors(strata, psu, rho=0.3)}[rname]()
    rw = rf.with_weights(w)
    df = r_out[f"rep|{rname}|degf"]
    assert rw.degf() == df

    def mean_se(z):
        # svymean on the replicate design: replicate means, svrVar
        m = float(np.dot(w, z) / w.sum())
        reps = (rw.replicate_weights.T @ z) / rw.replicate_weights.sum(axis=0)
        return m, math.sqrt(rw.variance(reps, m))

    for qr in ("math", "hf7"):
        exp = r_out[f"rep|{rname}|{itype}|{qr}"]
        for v in ("api00", "enroll"):
            got = Q.svyquantile(d[v].to_numpy(float), w, REP_PROBS, mean_se=mean_se, df=df,
                                qrule=qr, interval_type=itype,
                                replicate_weights=rw.replicate_weights,
                                replicate_variance=rw.variance, replicate_design=True)
            q, lo, hi, se = exp[v]
            for k, g in enumerate(got):
                ctx = (qr, v, REP_PROBS[k], g, lo[k], hi[k])
                assert _close(g.quantile, q[k]), ctx
                assert _close(g.ci_low, lo[k]) and _close(g.ci_high, hi[k]), ctx
                assert _close(g.se, se[k]), ctx


def test_quantile_interval_needs_replicates():
    with pytest.raises(Q.QuantileError, match="needs replicate_weights"):
        Q.svyquantile(np.arange(5.0), np.ones(5), [0.5], mean_se=lambda z: (0.5, 0.1),
                      df=4, interval_type="quantile", replicate_design=True)
    with pytest.raises(Q.QuantileError, match="for replicate designs"):
        Q.svyquantile(np.arange(5.0), np.ones(5), [0.5], mean_se=lambda z: (0.5, 0.1),
                      df=4, interval_type="quantile")
    with pytest.raises(Q.QuantileError, match="not available for replicate designs"):
        Q.svyquantile(np.arange(5.0), np.ones(5), [0.5], mean_se=lambda z: (0.5, 0.1),
                      df=4, interval_type="score", replicate_design=True)


def test_qrules_on_textbook_cases():
    x = np.array([3.0, 1.0, 2.0, 4.0])
    w = np.ones(4)
    # equal weights: math = inverse ECDF, school averages at exact steps
    assert Q.weighted_quantile(x, w, 0.5, "math") == 2.0
    assert Q.weighted_quantile(x, w, 0.5, "school") == 2.5
    assert Q.weighted_quantile(x, w, 0.5, "hf7") == 2.5
    # hf7 with equal weights is numpy's default linear rule
    for p in (0.1, 0.33, 0.9):
        assert math.isclose(Q.weighted_quantile(x, w, p, "hf7"), np.quantile(x, p))
    # zero weights are dropped
    assert Q.weighted_quantile(np.r_[x, 100.0], np.r_[w, 0.0], 1.0, "math") == 4.0
    with pytest.raises(Q.QuantileError, match="qrule"):
        Q.weighted_quantile(x, w, 0.5, "hf10")


def test_point_estimates_only_without_design():
    out = Q.svyquantile(np.arange(10.0), np.ones(10), [0.5], mean_se=None, df=math.inf)
    assert out[0].quantile == 4.0 and math.isnan(out[0].ci_low)
