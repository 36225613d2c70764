"""Quantiles of a design, overall or by domain: R's ``svyquantile`` and ``svyby(...,
svyquantile)`` on linearisation, calibrated and replicate-weight designs.

The arithmetic (every ``qrule``, Woodruff / beta / xlogit / asin / score intervals and the
replicate-quantile interval) is in :mod:`analysis.quantiles`; this module feeds it what R's
design methods feed it:

* the rows of R's (sub)design: an uncalibrated linearisation design or a replicate design
  *drops* the rows outside a domain (and the missing values, ``na.rm = TRUE``), while a
  calibrated design keeps every row with weight zero outside (missing values set to 0),
  exactly as ``[.survey.design2`` and ``svyquantile`` do;
* ``mean_se(z)``: ``svymean(z, subdesign)`` -- linearised on the full design (PSUs without
  domain members count as zeros; calibration residuals for calibrated designs), or from the
  replicate weights (``svrVar``);
* ``df = degf(subdesign)`` and ``n_rows = nrow(subdesign)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._data import as_list, is_missing, is_numeric, resolve
from .design import SurveyDesign
from .errors import DataError
from .results import EstimateTable, _check_level

__all__ = ["quantile"]


def _mean_se_linear(design: SurveyDesign, rows: np.ndarray, dom: np.ndarray):
    from .variance import domain_variance

    w = np.where(rows, design.weights, 0.0)
    W = float(w.sum())
    pres = rows[:, None]

    def mean_se(z: np.ndarray) -> tuple[float, float]:
        zz = np.where(rows, z, 0.0)
        m = float(np.dot(w, zz)) / W
        score = (w * (zz - m) / W)[:, None]
        v = domain_variance(design, score, pres, dom, 1)[0, 0]
        return m, math.sqrt(v) if v >= 0 else math.nan

    return mean_se


def _mean_se_replicate(design: SurveyDesign, rows: np.ndarray):
    rw = design.replicate_weights[rows]  # type: ignore[index]
    w = design.weights[rows]
    rsum = rw.sum(axis=0)
    W = float(w.sum())

    def mean_se(z: np.ndarray) -> tuple[float, float]:
        m = float(np.dot(w, z)) / W
        with np.errstate(invalid="ignore", divide="ignore"):
            thetas = (z @ rw) / rsum
        v = float(design.replicate_covariance(thetas[:, None], np.array([m]))[0, 0])
        return m, math.sqrt(v) if v >= 0 else math.nan

    return mean_se


def quantile(
    y: Any,
    design: SurveyDesign,
    probs: Sequence[float] = (0.5,),
    *,
    by: Any = None,
    qrule: str = "math",
    interval_type: str = "mean",
    confidence_level: float = 0.95,
    missing: str = "omit",
) -> EstimateTable:
    """Quantiles with confidence intervals (R's ``svyquantile``; ``svyby`` for domains).

    Parameters
    ----------
    y : column name, array, or a list of them (numeric)
    design : SurveyDesign
        Linearisation (possibly calibrated) or replicate-weight design.
    probs : sequence of float in [0, 1]
    by : domain variables, as in :func:`analysis.estimators.estimate`
    qrule : str
        One of :data:`analysis.quantiles.QRULES` (R's ``qrule``; default ``"math"``).
    interval_type : {"mean", "beta", "xlogit", "asin", "score", "quantile"}
        R's ``interval.type``: ``"score"`` for linearisation designs only,
        ``"quantile"`` (replicate quantiles) for replicate designs only.
    confidence_level : float
    missing : {"omit", "raise"}

    Returns
    -------
    EstimateTable
        One row per (variable, probability, domain), ``statistic="quantile"``, the
        probability in ``quantile``; ``se`` is R's ``(ci_high - ci_low) / (2 t)``, ``df``
        the degrees of freedom of the interval, ``n`` the domain's respondents.
    """
    from . import quantiles as Q
    from .domains import domain_codes

    if not isinstance(design, SurveyDesign):
        raise DataError("design must be a SurveyDesign")
    _check_level(confidence_level)
    if missing not in ("omit", "raise"):
        raise DataError(f"missing must be one of omit, raise; got {missing!r}")
    if qrule not in Q.QRULES:
        raise DataError(f"qrule must be one of {', '.join(Q.QRULES)}; got {qrule!r}")
    if interval_type not in Q.INTERVAL_TYPES:
        raise DataError(
            f"interval_type must be one of {', '.join(Q.INTERVAL_TYPES)}; got {interval_type!r}"
        )
    rep = design.is_replicate
    if rep and interval_type == "score":
        raise DataError("interval type 'score' is not available for replicate designs (R)")
    if not rep and interval_type == "quantile":
        raise DataError("interval type 'quantile' needs a replicate-weight design")
    probs = [float(p) for p in as_list(list(probs))]
    if not probs:
        raise DataError("quantile: no probabilities given")
    for p in probs:
        if not 0 <= p <= 1:
            raise DataError(f"quantile probabilities must be in [0, 1], got {p:g}")
    specs = as_list(y)
    if not specs:
        raise DataError("quantile: nothing to estimate")
    n = design.n_rows
    dom, dom_labels, by_names = domain_codes(design, by)
    D = len(dom_labels)
    alpha = 1 - confidence_level
    calibrated = design.is_calibrated and not rep
    cols: dict[str, list] = {k: [] for k in ("statistic", "variable", "category", "domain",
                                             "value", "se", "df", "n", "ci_low", "ci_high",
                                             "ci_method", "quantile")}
    keys: list[tuple[int, int, int]] = []
    for i, spec in enumerate(specs):
        col = resolve(spec, design.data, n, "quantile", i)
        if not is_numeric(col.values):
            raise DataError(f"quantile: {col.name!r} is not numeric")
        miss = is_missing(col.values)
        x_all = np.where(miss, 0.0, col.values.astype(float))
        if missing == "raise" and np.any(miss & (dom >= 0)):
            row = int(np.flatnonzero(miss & (dom >= 0))[0])
            raise DataError(f"{col.name!r} has a missing value in row {row + 1}")
        for d in range(D):
            rows = (dom == d) & ~miss
            nz = rows & (design.weights != 0)
            n_obs = int(nz.sum())
            if calibrated:
                x, w = x_all, np.where(rows, design.weights, 0.0)
                n_rows = n
            else:
                x, w = x_all[rows], design.weights[rows]
                n_rows = int(rows.sum())
            df = float(design.degf(rows=rows))
            kw: dict[str, Any] = {}
            if n_obs == 0:
                ests = [Q.QuantileEstimate(p, math.nan, math.nan, math.nan, math.nan, qrule,
                                           interval_type) for p in probs]
            else:
                if rep:
                    mean_se = _mean_se_replicate(design, rows)
                    if interval_type == "quantile":
                        kw = dict(
                            replicate_weights=design.replicate_weights[rows],  # type: ignore[index]
                            replicate_variance=lambda t, q: float(design.replicate_covariance(
                                np.asarray(t)[:, None], np.array([q]))[0, 0]),
                        )
                else:
                    full = _mean_se_linear(design, rows, np.where(rows, 0, -1))
                    if calibrated:
                        mean_se = full
                    else:
                        def mean_se(z, _f=full, _r=rows):
                            zz = np.zeros(n)
                            zz[_r] = z
                            return _f(zz)
                try:
                    ests = Q.svyquantile(x, w, probs, mean_se=mean_se, df=df, n_rows=n_rows,
                                         qrule=qrule, interval_type=interval_type,
                                         alpha=alpha, replicate_design=rep, **kw)
                except Q.QuantileError as exc:
                    raise DataError(f"quantile of {col.name!r}: {exc}") from None
            for pi, e in enumerate(ests):
                keys.append((i, pi, d))
                cols["statistic"].append("quantile")
                cols["variable"].append(col.name)
                cols["category"].append(None)
                cols["domain"].append(dom_labels[d])
                cols["value"].append(e.quantile)
                cols["se"].append(e.se)
                cols["df"].append(df)
                cols["n"].append(n_obs)
                cols["ci_low"].append(e.ci_low)
                cols["ci_high"].append(e.ci_high)
                cols["ci_method"].append(interval_type)
                cols["quantile"].append(e.p)
    # rows: variable, then probability, then domain (item-major, as the other estimands)
    order = sorted(range(len(keys)), key=keys.__getitem__)
    cols = {k: [v[o] for o in order] for k, v in cols.items()}
    return EstimateTable(
        statistic=tuple(cols["statistic"]),
        variable=tuple(cols["variable"]),
        category=tuple(cols["category"]),
        domain=tuple(cols["domain"]),
        value=np.array(cols["value"], dtype=float),
        se=np.array(cols["se"], dtype=float),
        df=np.array(cols["df"], dtype=float),
        n=np.array(cols["n"], dtype=np.int64),
        deff=None,
        ci_low=np.array(cols["ci_low"], dtype=float),
        ci_high=np.array(cols["ci_high"], dtype=float),
        ci_method=tuple(cols["ci_method"]),
        confidence_level=confidence_level,
        by=by_names,
        quantile=tuple(cols["quantile"]),
    )
