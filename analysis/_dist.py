"""Quantiles of Student's t and the beta distribution (scipy.special, imported lazily).

``scipy.special`` takes about a third of a second to import; the command line needs it
only once it has estimates to put intervals around.
"""

from __future__ import annotations

import numpy as np


def qt(p: float | np.ndarray, df: float | np.ndarray) -> np.ndarray:
    """Quantile of Student's t (R's ``qt``); NaN for ``df <= 0``, normal for ``df = inf``."""
    from scipy.special import ndtri, stdtrit

    df = np.asarray(df, dtype=float)
    p = np.asarray(p, dtype=float)
    with np.errstate(invalid="ignore"):
        out = np.where(np.isinf(df), ndtri(p), stdtrit(np.where(df > 0, df, 1.0), p))
    return np.where(df > 0, out, np.nan)


def qbeta(p: float | np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Quantile of the beta distribution (R's ``qbeta``), with R's limits at a or b = 0."""
    from scipy.special import betaincinv

    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore"):
        out = betaincinv(np.where(a > 0, a, 1.0), np.where(b > 0, b, 1.0), p)
    out = np.where(a == 0, 0.0, out)
    out = np.where((b == 0) & (a > 0), 1.0, out)
    return np.where(np.isnan(a) | np.isnan(b) | (a < 0) | (b < 0), np.nan, out)
