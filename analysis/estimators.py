"""Design-based estimators: totals, means, proportions and ratios, overall or by domain.

Every estimate is linearised (Binder 1983; Särndal, Swensson and Wretman 1992, §5.5) and
its variance computed by :mod:`analysis.variance`, so the numbers are R survey's
``svytotal``, ``svymean``, ``svyratio`` and ``svyby`` (and ``svyciprop`` intervals).

Domains are subpopulations of the full design (``svyby`` semantics): rows outside a
domain get no weight but every PSU keeps counting. All domains and all variables are
computed in one vectorised pass. Missing values are excluded item by item, like
``na.rm=TRUE`` on each variable: domain-style, the design is kept.

Functions
---------
total, mean, proportion, ratio
    One estimand each; ``by=`` gives domains.
estimate
    Several estimands in one pass (what the command line calls).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _logit as _lg
from ._data import as_list, factorize, format_value, is_missing, is_numeric, resolve
from .design import SurveyDesign
from .domains import domain_codes, replicate_totals
from .errors import DataError
from .results import EstimateTable, _check_level, _Linearisation
from .variance import domain_psu_counts, domain_variance

__all__ = ["total", "mean", "proportion", "ratio", "estimate", "CI_METHODS", "MISSING"]

CI_METHODS = ("wald", "logit", "beta")

# the denominator of a mean: one shared read-only array of ones, recognised by identity
_ONES_CACHE: dict[int, np.ndarray] = {}


def _ones(n: int) -> np.ndarray:
    a = _ONES_CACHE.get(n)
    if a is None:
        a = np.ones(n)
        a.setflags(write=False)
        _ONES_CACHE.clear()
        _ONES_CACHE[n] = a
    return a
MISSING = ("omit", "raise")


@dataclass
class _Item:
    statistic: str  # mean | total | proportion | ratio
    variable: str
    category: str | None
    y: np.ndarray  # numerator, 0 where missing
    x: np.ndarray | None  # denominator for ratio-type estimates, None for totals
    missing: np.ndarray


def _variable_items(statistic: str, spec: Any, data: Any, n: int, position: int) -> list[_Item]:
    col = resolve(spec, data, n, statistic, position)
    miss = is_missing(col.values)
    as_categories = statistic == "proportion" or not is_numeric(col.values)
    if not as_categories:
        y = np.where(miss, 0.0, col.values.astype(float))
        x = None if statistic == "total" else _ones(n)
        return [_Item(statistic, col.name, None, y, x, miss)]
    codes, labels = factorize(col.values, miss)
    if len(labels) == 0:
        raise DataError(f"{statistic}: {col.name!r} has no non-missing values")
    items = []
    ones = None if statistic == "total" else _ones(n)
    for k, lab in enumerate(labels):
        y = (codes == k).astype(float)
        items.append(_Item(statistic, col.name, format_value(lab), y, ones, miss))
    return items


def _ratio_items(num: Any, den: Any, data: Any, n: int, position: int) -> _Item:
    a = resolve(num, data, n, "ratio numerator", position)
    b = resolve(den, data, n, "ratio denominator", position)
    for c in (a, b):
        if not is_numeric(c.values):
            raise DataError(f"ratio: {c.name!r} is not numeric")
    miss = is_missing(a.values) | is_missing(b.values)
    y = np.where(miss, 0.0, a.values.astype(float))
    x = np.where(miss, 0.0, b.values.astype(float))
    return _Item("ratio", f"{a.name}/{b.name}", None, y, x, miss)


def _bincount2(dom_p: np.ndarray, weights: np.ndarray, n_dom: int) -> np.ndarray:
    return np.bincount(dom_p, weights=weights, minlength=n_dom + 1)[1:]


def _run(
    design: SurveyDesign,
    items: list[_Item],
    by: Any,
    missing: str,
    confidence_level: float,
    ci_method: str,
    deff: bool,
) -> EstimateTable:
    if not isinstance(design, SurveyDesign):
        raise DataError("design must be a SurveyDesign")
    if missing not in MISSING:
        raise DataError(f"missing must be one of {', '.join(MISSING)}; got {missing!r}")
    if ci_method not in CI_METHODS:
        raise DataError(f"ci_method must be one of {', '.join(CI_METHODS)}; got {ci_method!r}")
    _check_level(confidence_level)
    if not items:
        raise DataError("nothing to estimate")
    n = design.n_rows
    dom, dom_labels, by_names = domain_codes(design, by)
    D = len(dom_labels)
    J = len(items)
    w = design.weights
    in_dom = dom >= 0
    dom1 = dom + 1  # bincount slot 0 collects rows in no domain

    value = np.empty((D, J))
    nobs = np.empty((D, J), dtype=np.int64)
    nrow = np.empty((D, J), dtype=np.int64)
    vsrs = np.full((D, J), np.nan) if deff else None
    # Fortran order: each estimate's scores are contiguous (bincount reads columns)
    U = np.empty((n, J), order="F")
    P = np.empty((n, J), dtype=bool, order="F")
    nz = w != 0
    ones = _ones(n)
    shared: dict = {}
    is_rep = design.replicates is not None
    rep_cols: list[np.ndarray] = []  # per item: presence * y, presence * x (replicates)
    for j, it in enumerate(items):
        has_missing = bool(np.any(it.missing & in_dom))
        if missing == "raise" and has_missing:
            row = int(np.flatnonzero(it.missing & in_dom)[0])
            raise DataError(f"{it.variable!r} has a missing value in row {row + 1}")
        # what depends only on which rows are observed is shared between items
        mkey = id(it.missing) if has_missing else None
        if mkey not in shared:
            pres = in_dom & ~it.missing if has_missing else in_dom
            wj = np.where(pres, w, 0.0)
            dp = np.where(pres, dom1, 0)
            W = _bincount2(dp, wj, D)
            shared[mkey] = (
                pres, wj, dp, W,
                _bincount2(dp, (pres & nz).astype(float), D),
                _bincount2(dp, pres.astype(float), D),
                np.append(1.0, W)[dp],
            )
        pres, wj, dp, W, nobs_j, nrow_j, W_row = shared[mkey]
        if is_rep:
            rep_cols.append(np.where(pres, it.y, 0.0))
            rep_cols.append(np.where(pres, 0.0 if it.x is None else it.x, 0.0))
        P[:, j] = pres
        nobs[:, j] = nobs_j
        nrow[:, j] = nrow_j
        wy = wj * it.y
        ty = _bincount2(dp, wy, D)
        if it.x is None:
            value[:, j] = ty
            e = it.y
            U[:, j] = wy
        else:
            if it.x is ones:
                tx, tx_row = W, W_row
            else:
                tx = _bincount2(dp, wj * it.x, D)
                tx_row = np.append(1.0, tx)[dp]
            with np.errstate(divide="ignore", invalid="ignore"):
                r = ty / tx
                value[:, j] = r
                # linearised variable (y - R x) / X, centred per row as R does
                rr = np.append(0.0, r)[dp]
                e = (it.y - rr if it.x is ones else it.y - rr * it.x) / tx_row
            np.multiply(wj, e, out=U[:, j])
        if deff:
            # Kish's SRSWOR variance, as svyvar() * (N - n) / (N n) in R
            with np.errstate(divide="ignore", invalid="ignore"):
                ebar = _bincount2(dp, wj * e, D) / W
                dev = e - np.append(0.0, ebar)[dp]
                m2 = _bincount2(dp, wj * dev * dev, D) / W
                nn = nobs_j.astype(float)
                s2 = m2 * nn / (nn - 1)
                v = s2 * W * W * (W - nn) / (W * nn)
                if it.statistic in ("mean", "proportion"):
                    v = np.where(W < nn, np.nan, v)
            vsrs[:, j] = v  # type: ignore[index]

    thetas = None
    if is_rep:
        thetas = _replicate_estimates(design, items, np.column_stack(rep_cols), dom, D)
        var = _replicate_diag_variance(design, thetas, value)
    else:
        var = domain_variance(design, U, P, dom, D)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(var)
    df_design = float(design.degf())
    from ._dist import t_quantile

    alpha = 1 - confidence_level
    q = t_quantile(1 - alpha / 2, df_design)
    ci_low = value - q * se
    ci_high = value + q * se
    methods = np.full((D, J), "wald", dtype=object)
    df = np.full((D, J), df_design)
    prop_cols = [j for j, it in enumerate(items) if it.statistic == "proportion"]
    if ci_method != "wald" and prop_cols:
        inset = P[:, prop_cols] & nz[:, None]
        if is_rep:
            # R's degf() of the domain's subset: rank of its replicate weights minus one
            ddf = np.array([[float(design.degf(rows=inset[:, c] & (dom == d)))
                             for c in range(len(prop_cols))] for d in range(D)])
        else:
            psus, strata = domain_psu_counts(design, inset, dom, D)
            ddf = (psus - strata).astype(float)
        df[:, prop_cols] = ddf
        methods[:, prop_cols] = ci_method
        if ci_method == "beta":
            from ._dist import qbeta, qt

            p = value[:, prop_cols]
            with np.errstate(divide="ignore", invalid="ignore"):
                n_eff = p * (1 - p) / var[:, prop_cols]
                ratio_q = qt(alpha / 2, nrow[:, prop_cols] - 1.0) / qt(alpha / 2, ddf)
                n_eff = n_eff * ratio_q**2
                lo = qbeta(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
                hi = qbeta(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
        elif is_rep:
            lo, hi = _replicate_logit_intervals(design, thetas[:, :, prop_cols],  # type: ignore[index]
                                                value[:, prop_cols], ddf, alpha)
        else:
            lo, hi, fitted = _logit_intervals(design, items, prop_cols, P, dom, D, ddf, alpha)
            # svyciprop(method="logit") reports the fitted glm's proportion, which stops
            # within the glm's convergence tolerance (1e-8 in deviance) of the mean
            value[:, prop_cols] = np.where(np.isfinite(fitted), fitted, value[:, prop_cols])
        ci_low[:, prop_cols] = lo
        ci_high[:, prop_cols] = hi
    deff_arr = None
    if deff:
        with np.errstate(divide="ignore", invalid="ignore"):
            deff_arr = var / vsrs

    # rows: item-major, then domain
    jj = np.repeat(np.arange(J), D)
    dd = np.tile(np.arange(D), J)
    lin = _Linearisation(design=design, scores=U, present=P, dom=dom, column=jj, domain=dd,
                         thetas=None if thetas is None else thetas[:, dd, jj],
                         values=value[dd, jj])
    return EstimateTable(
        statistic=tuple(items[j].statistic for j in jj),
        variable=tuple(items[j].variable for j in jj),
        category=tuple(items[j].category for j in jj),
        domain=tuple(dom_labels[d] for d in dd),
        value=value.T.reshape(-1),
        se=se.T.reshape(-1),
        df=df.T.reshape(-1),
        n=nobs.T.reshape(-1),
        deff=None if deff_arr is None else deff_arr.T.reshape(-1),
        ci_low=ci_low.T.reshape(-1),
        ci_high=ci_high.T.reshape(-1),
        ci_method=tuple(methods.T.reshape(-1)),
        confidence_level=confidence_level,
        by=by_names,
        _lin=lin,
    )


# ---------------------------------------------------------------- replicate designs
def _replicate_estimates(design, items, V, dom, D) -> np.ndarray:
    """(R, D, J) replicate estimates: each statistic recomputed with each replicate's
    weights (R's svymean/svytotal/svyratio on a svyrep.design, svyby by domain)."""
    rt = replicate_totals(design, V, dom, D)
    J = len(items)
    thetas = np.empty((rt.shape[0], D, J))
    with np.errstate(divide="ignore", invalid="ignore"):
        for j, it in enumerate(items):
            ty = rt[:, :, 2 * j]
            thetas[:, :, j] = ty if it.x is None else ty / rt[:, :, 2 * j + 1]
    return thetas


def _replicate_diag_variance(design, thetas: np.ndarray, value: np.ndarray) -> np.ndarray:
    """svrVar of every (domain, estimate) separately: (D, J)."""
    reps = design.replicates
    Rn, D, J = thetas.shape
    t = thetas.reshape(Rn, D * J)
    rs = np.asarray(reps.rscales, dtype=float)
    ok = ~np.isnan(t)
    if reps.mse:
        centre = value.reshape(-1)
    else:
        use = ok & (rs[:, None] > 0)
        with np.errstate(invalid="ignore", divide="ignore"):
            centre = np.where(use, t, 0.0).sum(axis=0) / use.sum(axis=0)
    dev = np.where(ok, t - centre, 0.0)
    v = reps.scale * (rs[:, None] * dev * dev).sum(axis=0)
    v = np.where(ok.any(axis=0), v, np.nan)
    return v.reshape(D, J)


def _replicate_logit_intervals(design, thetas, p, ddf, alpha):
    """svyciprop(method="logit") on a replicate design: the intercept-only svyglm's
    coefficient is logit(p) in every replicate; Wald interval on that scale."""
    from scipy.special import ndtr, ndtri

    from ._dist import qt

    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.log(p / (1 - p))
        eta_r = np.log(thetas / (1 - thetas))
        se = np.sqrt(_replicate_diag_variance(design, eta_r, eta))
        tlevel = 1 - 2 * ndtr(qt(alpha / 2, ddf))
        a = (1 - tlevel) / 2
        lo = _expit(eta + se * ndtri(a))
        hi = _expit(eta + se * ndtri(1 - a))
    return lo, hi


# ---------------------------------------------------------------- logit intervals
def _logit_intervals(design, items, prop_cols, P, dom, D, ddf, alpha):
    """``svyciprop(method="logit")``: Wald interval on the logit scale of the
    intercept-only quasibinomial ``svyglm``, fitted by R's IRLS so the numbers agree."""
    from ._dist import qt

    w = design.weights
    n = design.n_rows
    J = len(prop_cols)
    coef = np.full((D, J), np.nan)
    S = np.zeros((n, J))
    for c, j in enumerate(prop_cols):
        pres = P[:, j]
        idx = np.flatnonzero(pres)
        y = items[j].y[idx]
        d = dom[idx]
        ww = w[idx]
        cnt = np.bincount(d, minlength=D).astype(float)
        W = np.bincount(d, weights=ww, minlength=D)
        with np.errstate(divide="ignore", invalid="ignore"):
            pw = ww / (W / cnt)[d]
        mustart = (pw * y + 0.5) / (pw + 1)
        eta = np.log(mustart / (1 - mustart))
        mu = _lg.linkinv(eta)
        devold = np.bincount(d, weights=_lg.binomial_dev_resids(y, mu, pw), minlength=D)
        conv = np.zeros(D, dtype=bool)
        beta_d = np.full(D, np.nan)
        wt_last = np.zeros(len(idx))
        for _ in range(25):
            mueta = _lg.mu_eta(eta)
            varmu = mu * (1 - mu)
            good = (pw > 0) & (mueta != 0)
            with np.errstate(divide="ignore", invalid="ignore"):
                z = eta + (y - mu) / mueta
                wt = np.where(good, pw * mueta * mueta / varmu, 0.0)
                num = np.bincount(d, weights=np.where(good, wt * z, 0.0), minlength=D)
                den = np.bincount(d, weights=wt, minlength=D)
                new_beta = num / den
            active = ~conv
            beta_d = np.where(active, new_beta, beta_d)
            upd = active[d]
            wt_last = np.where(upd, wt, wt_last)
            eta = np.where(upd, beta_d[d], eta)
            mu = np.where(upd, _lg.linkinv(eta), mu)
            dev = np.bincount(d, weights=_lg.binomial_dev_resids(y, mu, pw), minlength=D)
            with np.errstate(divide="ignore", invalid="ignore"):
                done = np.abs(dev - devold) / (np.abs(dev) + 0.1) < 1e-8
            conv = conv | (active & done)
            devold = np.where(active, dev, devold)
            if conv.all():
                break
        coef[:, c] = beta_d
        # svyglm's sandwich: estfun = x * working residual * working weight, times (X'WX)^-1
        with np.errstate(divide="ignore", invalid="ignore"):
            resid = (y - mu) / _lg.mu_eta(eta)
            ainv = 1.0 / np.bincount(d, weights=wt_last, minlength=D)
            S[idx, c] = resid * wt_last * ainv[d]
    var = domain_variance(design, S, P[:, prop_cols], dom, D)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(var)
    # confint.svyglm passes the t quantile through the normal distribution
    # (tlevel = 1 - 2 pnorm(qt(alpha/2, ddf)), then qnorm); for few degrees of
    # freedom that round trip saturates, and R reports the saturated interval.
    from scipy.special import ndtr, ndtri

    with np.errstate(invalid="ignore", divide="ignore"):
        tlevel = 1 - 2 * ndtr(qt(alpha / 2, ddf))
        a = (1 - tlevel) / 2
        lo = _expit(coef + se * ndtri(a))
        hi = _expit(coef + se * ndtri(1 - a))
    return lo, hi, _expit(coef)


def _expit(x):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.exp(x) / (1 + np.exp(x))


# ---------------------------------------------------------------- public API
def _specs(y: Any) -> list[Any]:
    return as_list(y)


def estimate(
    design: SurveyDesign,
    *,
    mean: Any = None,
    total: Any = None,
    proportion: Any = None,
    ratio: Sequence[tuple[Any, Any]] | None = None,
    by: Any = None,
    missing: str = "omit",
    confidence_level: float = 0.95,
    ci_method: str = "wald",
    deff: bool = True,
) -> EstimateTable:
    """Several estimands, for all domains, in one vectorised pass.

    Parameters
    ----------
    design : SurveyDesign
    mean, total, proportion : column name, array, or a list of them
        A categorical variable given to ``mean``/``total`` yields one row per category
        (as ``svymean``/``svytotal`` on a factor); ``proportion`` treats every variable
        as categorical.
    ratio : list of (numerator, denominator) pairs
    by : column name, array, or a list of them
        Domain variables; several are crossed (R's ``svyby(~y, ~g1 + g2, ...)``). Only
        domains with a unit of non-zero weight are reported; rows with a missing domain
        value belong to no domain.
    missing : {"omit", "raise"}
        ``omit`` excludes missing values item by item, domain-style (R's ``na.rm=TRUE``
        applied to each variable); ``raise`` raises :class:`DataError`.
    confidence_level : float
    ci_method : {"wald", "logit", "beta"}
        Interval for proportions. ``wald``: ``p ± t(df) se``. ``logit`` and ``beta``:
        ``svyciprop``'s logit and Korn–Graubard intervals, whose degrees of freedom are
        those of the domain (R evaluates ``degf()`` on the domain); with ``logit`` the
        estimate is, as in R, the proportion fitted by the intercept-only quasibinomial
        glm (equal to the weighted mean within the glm's convergence tolerance). Other estimands
        always get Wald intervals with the design's degrees of freedom
        (``confint(..., df = degf(design))``).
    deff : bool
        Compute design effects against SRS without replacement (``deff=TRUE``).

    Returns
    -------
    EstimateTable

    Raises
    ------
    DataError, LonelyPSUError

    References
    ----------
    Korn, E. L. and Graubard, B. I. (1998). Confidence intervals for proportions with
    small expected number of positive counts estimated from survey data. *Survey
    Methodology* 24, 193–201.
    """
    n = design.n_rows
    items: list[_Item] = []
    for stat, spec in (("mean", mean), ("total", total), ("proportion", proportion)):
        for i, s in enumerate(_specs(spec)):
            items.extend(_variable_items(stat, s, design.data, n, i))
    for i, pair in enumerate(ratio or ()):
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
            raise DataError(f"ratio: expected (numerator, denominator) pairs, got {pair!r}")
        items.append(_ratio_items(pair[0], pair[1], design.data, n, i))
    return _run(design, items, by, missing, confidence_level, ci_method, deff)


def total(y: Any, design: SurveyDesign, *, by: Any = None, missing: str = "omit",
          confidence_level: float = 0.95, deff: bool = True) -> EstimateTable:
    """Estimated population totals (R's ``svytotal`` / ``svyby(..., svytotal)``).

    ``y`` is a column name, an array, or a list of them; a categorical variable gives
    the estimated number of population units in each category. See :func:`estimate`.
    """
    return estimate(design, total=y, by=by, missing=missing,
                    confidence_level=confidence_level, deff=deff)


def mean(y: Any, design: SurveyDesign, *, by: Any = None, missing: str = "omit",
         confidence_level: float = 0.95, deff: bool = True) -> EstimateTable:
    """Estimated population means (R's ``svymean`` / ``svyby(..., svymean)``).

    The mean is the ratio of the weighted total to the weighted count, linearised
    accordingly; a categorical variable gives the proportion of each category.
    See :func:`estimate`.
    """
    return estimate(design, mean=y, by=by, missing=missing,
                    confidence_level=confidence_level, deff=deff)


def proportion(y: Any, design: SurveyDesign, *, by: Any = None, missing: str = "omit",
               confidence_level: float = 0.95, ci_method: str = "wald",
               deff: bool = True) -> EstimateTable:
    """Proportion of every category of ``y`` with ``svyciprop``-style intervals.

    ``ci_method="logit"`` and ``"beta"`` give R's ``svyciprop`` logit and Korn–Graubard
    intervals. See :func:`estimate`.
    """
    return estimate(design, proportion=y, by=by, missing=missing,
                    confidence_level=confidence_level, ci_method=ci_method, deff=deff)


def ratio(numerator: Any, denominator: Any, design: SurveyDesign, *, by: Any = None,
          missing: str = "omit", confidence_level: float = 0.95,
          deff: bool = True) -> EstimateTable:
    """Ratio of two population totals (R's ``svyratio``), e.g. students per enrolment.

    ``numerator`` and ``denominator`` are column names or arrays, or equal-length lists
    of them (pairs). See :func:`estimate`.
    """
    nums, dens = as_list(numerator), as_list(denominator)
    if len(nums) != len(dens):
        raise DataError("ratio: give as many numerators as denominators")
    return estimate(design, ratio=list(zip(nums, dens, strict=True)), by=by, missing=missing,
                    confidence_level=confidence_level, deff=deff)
