"""Weighted Cronbach's alpha against R's svycralpha."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.scales import ScaleError, cronbach_alpha

from ._rutil import DATA, run_r

R_BODY = r"""
strat <- rd("apistrat.csv"); clus1 <- rd("apiclus1.csv"); nh <- rd("nhanes.csv")
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = strat)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = clus1)
OUT$a <- S(svycralpha(~ell + meals + mobility, dstrat))
OUT$b <- S(svycralpha(~api00 + api99, dstrat))
OUT$c <- S(svycralpha(~acs.k3 + acs.46 + acs.core, dclus1, na.rm = TRUE))
OUT$d <- S(svycralpha(~not.hsg + hsg + some.col + col.grad + grad.sch, dclus1))
OUT$f <- S(svycralpha(~avg.ed + col.grad + grad.sch, dclus1, na.rm = TRUE))
OUT$e <- S(svycralpha(~ell + meals + mobility, subset(dstrat, awards == "Yes")))
"""


@pytest.fixture(scope="module")
def r_out():
    return run_r(R_BODY)


def _close(a, b):
    if b is None:
        return math.isnan(a)
    return abs(a - b) <= 1e-12 + 1e-10 * abs(b)


@pytest.mark.r
def test_alpha_matches_svycralpha(r_out):
    strat = pd.read_csv(DATA / "apistrat.csv")
    clus1 = pd.read_csv(DATA / "apiclus1.csv")
    ws, wc = strat["pw"].to_numpy(float), clus1["pw"].to_numpy(float)
    assert _close(cronbach_alpha(strat[["ell", "meals", "mobility"]], ws), r_out["a"])
    assert _close(cronbach_alpha(strat[["api00", "api99"]], ws), r_out["b"])
    assert _close(cronbach_alpha(clus1[["acs.k3", "acs.46", "acs.core"]], wc), r_out["c"])
    assert r_out["f"] is not None
    assert _close(cronbach_alpha(clus1[["avg.ed", "col.grad", "grad.sch"]], wc), r_out["f"])
    items = clus1[["not.hsg", "hsg", "some.col", "col.grad", "grad.sch"]]
    assert _close(cronbach_alpha(items, wc), r_out["d"])
    # a domain: zero weight outside it
    wd = np.where(strat["awards"] == "Yes", ws, 0.0)
    assert _close(cronbach_alpha(strat[["ell", "meals", "mobility"]], wd), r_out["e"])


def test_alpha_properties():
    rng = np.random.default_rng(3)
    latent = rng.normal(size=500)
    items = np.column_stack([latent + rng.normal(scale=0.5, size=500) for _ in range(4)])
    w = rng.uniform(1, 4, 500)
    a = cronbach_alpha(items, w)
    assert 0.8 < a < 1
    # invariant to scaling the weights; equal weights give the textbook formula
    assert math.isclose(cronbach_alpha(items, 7 * w), a, rel_tol=1e-12)
    v = items.var(axis=0, ddof=1).sum()
    t = items.sum(axis=1).var(ddof=1)
    assert math.isclose(cronbach_alpha(items, np.ones(500)), 4 / 3 * (1 - v / t), rel_tol=1e-12)
    items_na = items.copy()
    items_na[0, 1] = np.nan
    assert math.isnan(cronbach_alpha(items_na, w, na_rm=False))
    with pytest.raises(ScaleError, match="at least two items"):
        cronbach_alpha(items[:, :1], w)
