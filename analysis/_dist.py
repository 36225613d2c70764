"""Quantiles of Student's t and the beta distribution.

``scipy.special`` takes a third of a second or more to import, longer than the command
line needs for a whole 100,000-row estimate; so the one t quantile of a Wald interval
(:func:`t_quantile`) is computed here in plain Python, and scipy is imported lazily only
for the vectorised quantiles of svyciprop's logit and beta intervals.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 100000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return h


def _betainc(a: float, b: float, x: float, y: float) -> float:
    """Regularised incomplete beta I_x(a, b), with ``y = 1 - x`` given exactly
    (Press et al., *Numerical Recipes*, §6.4)."""
    if x <= 0.0:
        return 0.0
    if y <= 0.0:
        return 1.0
    lbt = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(y)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(lbt) * _betacf(a, b, x) / a
    return 1.0 - math.exp(lbt) * _betacf(b, a, y) / b


def _t_large_df(z: float, df: float) -> float:
    """Cornish-Fisher expansion of the t quantile (Abramowitz & Stegun 26.7.5)."""
    z2 = z * z
    g1 = (z2 + 1) * z / 4
    g2 = ((5 * z2 + 16) * z2 + 3) * z / 96
    g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384
    g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z / 92160
    return z + (g1 + (g2 + (g3 + g4 / df) / df) / df) / df


def t_quantile(p: float, df: float) -> float:
    """Quantile of Student's t (R's ``qt(p, df)``) in plain Python; NaN for df <= 0.

    Newton's method on the distribution function (through the incomplete beta
    function, in whichever of its two forms is well conditioned) from a normal start;
    a four-term Cornish-Fisher expansion for df >= 1000. Agrees with scipy's
    ``stdtrit`` to about 1e-13 (checked in the tests).
    """
    if not df > 0 or not 0.0 < p < 1.0:
        return math.nan
    z = NormalDist().inv_cdf(p)
    if math.isinf(df):
        return z
    if p == 0.5:
        return 0.0
    if df >= 1000:
        return _t_large_df(z, df)
    upper = min(p, 1.0 - p)  # solve for t > 0, then set the sign
    central = abs(2.0 * p - 1.0)  # P(|T| < t), exact near the median
    t = abs(z)
    if df == 1:
        t = math.tan(math.pi * (0.5 - upper))
    elif df < 3:
        t = max(t, 1.0)
    a = df / 2.0
    lconst = math.lgamma((df + 1) / 2) - math.lgamma(a) - 0.5 * math.log(df * math.pi)
    for _ in range(200):
        dens = math.exp(lconst - (df + 1) / 2 * math.log1p(t * t / df))
        x, y = df / (df + t * t), t * t / (df + t * t)
        if upper < 0.25:
            err = 0.5 * _betainc(a, 0.5, x, y) - upper  # P(T > t) - upper
        else:
            err = central - _betainc(0.5, a, y, x)  # P(|T| < t) is I_y(1/2, df/2)
            err = err / 2.0
        t_new = t + err / dens
        if t_new <= 0:
            t_new = t / 2
        if abs(t_new - t) <= 4e-16 * abs(t_new):
            t = t_new
            break
        t = t_new
    return t if p > 0.5 else -t


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
