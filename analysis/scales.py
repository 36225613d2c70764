"""Weighted Cronbach's alpha of a multi-item scale, as R's ``survey::svycralpha``.

R computes, with the design's weights, the variance of the total score ``Σ_i x_i`` and of
each item (``svyvar``), and returns ``K/(K−1) · (1 − Σ_i var(x_i) / var(Σ_i x_i))``.
``svyvar`` multiplies the weighted variance by ``n/(n−1)`` (n = units with non-zero
weight), a factor common to every variance, so it cancels; only the weights matter, not the
strata or clusters (R gives no standard error either).  Missing items: with ``na_rm=True``
the units with any missing item are dropped (R's ``na.rm = TRUE``, which drops the same
rows for the items and for the total); otherwise the result is NaN, as R's ``NA``.

References
----------
Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
*Psychometrika* 16, 297-334.
Lumley, T. (2010). *Complex Surveys*. Wiley (``svycralpha`` in the survey package).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .errors import AnalysisError

__all__ = ["ScaleError", "cronbach_alpha"]


class ScaleError(AnalysisError, ValueError):
    """Invalid scale input."""


def _weighted_var(x: np.ndarray, w: np.ndarray) -> float:
    # svyvar's point estimate up to the common n/(n-1): Σ w (x - x̄_w)² / Σ w
    tot = w.sum()
    m = np.dot(w, x) / tot
    return float(np.dot(w, (x - m) ** 2) / tot)


def cronbach_alpha(
    items: np.ndarray | pd.DataFrame,
    weights: np.ndarray,
    *,
    na_rm: bool = True,
) -> float:
    """Design-weighted Cronbach's alpha (``svycralpha(~x1 + ... + xK, design)``).

    Parameters
    ----------
    items : array (n, K) or DataFrame with K numeric columns, K >= 2
        The items of the scale, one row per unit (all units of the design).
    weights : array (n,)
        The design's (possibly calibrated) weights; units outside a domain have weight 0.
    na_rm : bool
        Drop units with a missing item (R's ``na.rm = TRUE``); if False and an item is
        missing, return NaN.

    Returns
    -------
    float
        ``K/(K−1) (1 − Σ s_i² / s_T²)`` with weighted variances.
    """
    x = items.to_numpy(dtype=float) if isinstance(items, pd.DataFrame) else np.asarray(
        items, dtype=float)
    w = np.asarray(weights, dtype=float)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ScaleError("a scale needs at least two items (an n x K matrix, K >= 2)")
    if w.shape != (x.shape[0],):
        raise ScaleError(f"{w.shape[0] if w.ndim else 1} weights for {x.shape[0]} units")
    if np.any(np.isnan(w)) or np.any(w < 0):
        raise ScaleError("weights must be non-negative numbers")
    missing = np.any(np.isnan(x), axis=1)
    if missing.any():
        if not na_rm:
            return math.nan
        x, w = x[~missing], w[~missing]
    keep = w > 0
    x, w = x[keep], w[keep]
    if x.shape[0] < 2:
        return math.nan
    k = x.shape[1]
    item_var = sum(_weighted_var(x[:, j], w) for j in range(k))
    total_var = _weighted_var(x.sum(axis=1), w)
    if total_var == 0:
        return math.nan
    return k / (k - 1) * (1 - item_var / total_var)
