"""Fair rankings of agencies: rank intervals, significance-based bands, comparisons.

- :func:`rank_intervals` — each agency's median rank and 95 % rank interval, by
  simulation from the estimates' joint normal distribution ``N(estimates, covariance)``
  (Goldstein and Spiegelhalter 1996), with an injected ``numpy.random.Generator``.
- :func:`compare_to_reference` — each agency against the city average (or any linear
  combination of the estimates), design-based tests with Holm or Benjamini–Hochberg
  adjusted p-values.
- :func:`compare_periods` — each agency against its own previous year (independent
  samples: ``se = sqrt(se1² + se2²)``), adjusted p-values.
- :func:`performance_bands` — bands that never separate two agencies whose estimates are
  not significantly different or whose confidence intervals overlap.

The covariance comes from :func:`analysis.indices.compute_index` (``result.block``), so
agencies sharing PSUs or calibration margins are compared with their true covariance.

References
----------
Goldstein, H. and Spiegelhalter, D. J. (1996). League tables and their limitations:
statistical issues in comparisons of institutional performance. *JRSS A* 159, 385–443.
Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scand. J.
Statist.* 6, 65–70.
Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate. *JRSS B*
57, 289–300.
Lumley, T. (2010). *Complex Surveys*, §2.5 (``svycontrast``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from .errors import DataError

__all__ = ["Comparison", "Bands", "RankIntervals", "adjust_pvalues", "compare_periods",
           "compare_to_reference", "performance_bands", "rank_intervals"]

ADJUST = ("holm", "bh", "none")


def _labels(labels, k: int) -> tuple[str, ...]:
    if labels is None:
        return tuple(str(i) for i in range(k))
    if len(labels) != k:
        raise DataError(f"{len(labels)} labels for {k} estimates")
    return tuple(str(x) for x in labels)


def _check(estimates, covariance):
    e = np.asarray(estimates, dtype=float)
    V = np.asarray(covariance, dtype=float)
    if e.ndim != 1 or V.shape != (len(e), len(e)):
        raise DataError("need a vector of estimates and a square covariance of its size")
    if not (np.all(np.isfinite(e)) and np.all(np.isfinite(V))):
        raise DataError("estimates and covariance must be finite (drop unmeasured agencies)")
    return e, (V + V.T) / 2


@dataclass(frozen=True)
class RankIntervals:
    """Rank 1 is the best. ``low``/``high`` bound the central rank interval."""

    labels: tuple[str, ...]
    estimate: np.ndarray
    rank: np.ndarray  # rank of the point estimate
    median: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    p_best: np.ndarray
    draws: int
    level: float


def rank_intervals(estimates, covariance, *, rng: np.random.Generator, labels=None,
                   draws: int = 10_000, level: float = 0.95,
                   higher_is_better: bool = True) -> RankIntervals:
    """Rank uncertainty by simulation from ``N(estimates, covariance)``.

    Parameters
    ----------
    estimates : (K,) array
    covariance : (K, K) array
        Their joint design-based covariance.
    rng : numpy.random.Generator
        Injected (no global random state); the caller stores its seed.
    draws : int
    level : float
        Coverage of the rank interval (equal tails: the ``(1-level)/2`` and
        ``(1+level)/2`` quantiles of the simulated ranks, lower inverse-CDF quantiles).
    higher_is_better : bool

    Returns
    -------
    RankIntervals
        Median and mean rank, rank interval and probability of being ranked first.

    Notes
    -----
    In every draw the K simulated values are ranked (ties cannot occur with a
    non-degenerate covariance); the distribution of each agency's rank over the draws
    is its rank uncertainty (Goldstein and Spiegelhalter 1996, §4).
    """
    e, V = _check(estimates, covariance)
    K = len(e)
    lab = _labels(labels, K)
    if draws < 100:
        raise DataError("draws must be at least 100")
    # a PSD square root that also works for singular covariances (eigen decomposition)
    vals, vecs = np.linalg.eigh(V)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    Z = rng.standard_normal((draws, K)) @ root.T + e
    if higher_is_better:
        Z = -Z
    ranks = Z.argsort(axis=1, kind="stable").argsort(axis=1, kind="stable") + 1
    a = (1 - level) / 2
    low = np.quantile(ranks, a, axis=0, method="inverted_cdf")
    high = np.quantile(ranks, 1 - a, axis=0, method="inverted_cdf")
    med = np.quantile(ranks, 0.5, axis=0, method="inverted_cdf")
    point = (-e if higher_is_better else e).argsort(kind="stable").argsort(kind="stable") + 1
    return RankIntervals(lab, e, point, med.astype(float), ranks.mean(axis=0),
                         low.astype(float), high.astype(float),
                         (ranks == 1).mean(axis=0), int(draws), float(level))


def adjust_pvalues(p, method: str = "holm") -> np.ndarray:
    """Holm (family-wise error) or Benjamini–Hochberg (false discovery rate) adjustment.

    As R's ``p.adjust(p, "holm")`` / ``p.adjust(p, "BH")``; ``"none"`` returns ``p``.
    """
    if method not in ADJUST:
        raise DataError(f"adjust must be one of {ADJUST}")
    p = np.asarray(p, dtype=float)
    m = len(p)
    if method == "none" or m == 0:
        return p.copy()
    o = np.argsort(p, kind="stable")
    ps = p[o]
    if method == "holm":
        adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * ps))
    else:
        adj = np.minimum(1.0, np.minimum.accumulate((m / np.arange(m, 0, -1) * ps[::-1]))[::-1])
    out = np.empty(m)
    out[o] = adj
    return out


@dataclass(frozen=True)
class Comparison:
    """Differences ``estimate - reference`` with design-based tests.

    ``direction``: ``"above"``/``"below"`` when the adjusted p-value is below ``alpha``,
    else ``"not different"``.
    """

    labels: tuple[str, ...]
    difference: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    p_value: np.ndarray
    p_adjusted: np.ndarray
    direction: tuple[str, ...]
    df: float
    adjust: str
    alpha: float


def _test(diff, se, df, adjust, alpha, labels) -> Comparison:
    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = diff / se
    dist = stats.norm if df is None or not np.isfinite(df) else stats.t(df)
    p = 2 * dist.sf(np.abs(tstat))
    p = np.where(se > 0, p, np.where(diff == 0, 1.0, 0.0))
    pa = adjust_pvalues(p, adjust)
    direction = tuple("not different" if not pa[i] < alpha else
                      ("above" if diff[i] > 0 else "below") for i in range(len(diff)))
    return Comparison(labels, diff, se, tstat, p, pa, direction,
                      float("inf") if df is None else float(df), adjust, float(alpha))


def compare_to_reference(estimates, covariance, reference, *, labels=None,
                         df: float | None = None, adjust: str = "holm",
                         alpha: float = 0.05) -> Comparison:
    """Each estimate minus a reference (the city average), with its design-based SE.

    Parameters
    ----------
    estimates, covariance
        Agencies' estimates and joint covariance; may include the city row.
    reference : int or (K,) array
        Position of the reference among the estimates (e.g. the city row of
        ``compute_index(..., include_total=True)``; its own comparison is dropped), or
        coefficients ``a`` of a linear reference ``a' estimates`` (e.g. population
        shares).
    df : float, optional
        Design degrees of freedom for t tests; ``None``: normal.
    adjust : {"holm", "bh", "none"}

    Notes
    -----
    ``var(e_k - a'e) = c' V c`` with ``c = e_k - a`` (``svycontrast``); the city
    estimate overlaps every agency's sample, so the covariance matters.
    """
    e, V = _check(estimates, covariance)
    K = len(e)
    lab = _labels(labels, K)
    keep = np.arange(K)
    if np.ndim(reference) == 0:
        r = int(reference)
        a = np.zeros(K)
        a[r] = 1.0
        keep = keep[keep != r]
    else:
        a = np.asarray(reference, dtype=float)
        if a.shape != (K,):
            raise DataError("reference coefficients must have one value per estimate")
    C = np.eye(K)[keep] - a
    diff = C @ e
    se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", C, V, C), 0.0))
    return _test(diff, se, df, adjust, alpha, tuple(lab[i] for i in keep))


def compare_periods(current, current_se, previous, previous_se, *, labels=None,
                    df: float | None = None, adjust: str = "holm",
                    alpha: float = 0.05) -> Comparison:
    """Each agency against its own previous period (independent samples).

    ``difference = current - previous``, ``se = sqrt(se_current² + se_previous²)``
    (separate, independent samples each year); t test with ``df`` (e.g. the smaller of
    the two designs' df) or normal, adjusted over the agencies.
    """
    c, cs, p, ps = (np.asarray(x, dtype=float) for x in (current, current_se, previous,
                                                         previous_se))
    if not (c.shape == cs.shape == p.shape == ps.shape and c.ndim == 1):
        raise DataError("current and previous estimates and SEs must be vectors of one length")
    return _test(c - p, np.sqrt(cs ** 2 + ps ** 2), df, adjust, alpha,
                 _labels(labels, len(c)))


@dataclass(frozen=True)
class Bands:
    """``band[k]`` is agency k's band (0 = best); ``members`` lists each band's agencies.

    ``relative`` says how each band stands against the reference when one was given:
    ``"above"``/``"below"`` only if every member is significantly above/below it.
    """

    labels: tuple[str, ...]
    band: np.ndarray
    members: tuple[tuple[str, ...], ...]
    relative: tuple[str, ...] | None
    linked: np.ndarray  # (K, K) bool: the pairs that must share a band


def performance_bands(estimates, covariance, *, labels=None, confidence_level: float = 0.95,
                      df: float | None = None, adjust: str = "holm", alpha: float = 0.05,
                      link: str = "overlap_or_test", reference=None,
                      higher_is_better: bool = True) -> Bands:
    """Performance bands only where differences are significant.

    Parameters
    ----------
    estimates, covariance
        Agencies' estimates and their joint covariance (``IndexResult.block``).
    confidence_level, df
        For the intervals whose overlap links agencies (t with ``df``, else normal).
    adjust, alpha
        Multiple-comparison adjustment of the pairwise tests and their level.
    link : {"overlap_or_test", "test", "overlap"}
    reference : int or (K,) array, optional
        As in :func:`compare_to_reference`.

    Returns
    -------
    Bands

    Notes
    -----
    The algorithm:

    1. Two agencies are *linked* when their difference is not significant (pairwise
       design-based tests ``(e_i - e_j) / sqrt(V_ii + V_jj - 2 V_ij)``, p-values
       adjusted over all ``K (K-1) / 2`` pairs) or — with ``link="overlap_or_test"``,
       the default — when their confidence intervals overlap. ``link="test"`` uses the
       tests only, ``link="overlap"`` the intervals only.
    2. Bands are the connected components of the linked graph, so linked agencies are
       never in different bands (nor are agencies joined by a chain of links).
    3. Components whose estimate ranges overlap are merged until the bands are ordered
       intervals of the estimates, then numbered from the best.

    The price of the guarantee is that a chain of non-significant neighbours can merge
    many agencies into one band: that is the honest reading of the data.
    With ``reference`` (as in :func:`compare_to_reference`; a reference row given by
    position is not banded itself), each band is labelled
    "above"/"below" when all its members differ significantly from the reference in that
    direction, else "not different".
    """
    if link not in ("overlap_or_test", "test", "overlap"):
        raise DataError('link must be "overlap_or_test", "test" or "overlap"')
    e, V = _check(estimates, covariance)
    lab = _labels(labels, len(e))
    relative_of: dict[str, str] | None = None
    if reference is not None:
        cmp = compare_to_reference(e, V, reference, labels=lab, df=df, adjust=adjust,
                                   alpha=alpha)
        relative_of = dict(zip(cmp.labels, cmp.direction, strict=True))
        if np.ndim(reference) == 0:  # the reference row itself is not banded
            keep = np.flatnonzero(np.arange(len(e)) != int(reference))
            e, V, lab = e[keep], V[np.ix_(keep, keep)], tuple(lab[k] for k in keep)
    K = len(e)
    se = np.sqrt(np.maximum(np.diag(V), 0.0))
    q = stats.norm.ppf(0.5 + confidence_level / 2) if df is None or not np.isfinite(df) \
        else stats.t.ppf(0.5 + confidence_level / 2, df)
    lo, hi = e - q * se, e + q * se
    ii, jj = np.triu_indices(K, 1)
    diff = e[ii] - e[jj]
    sd = np.sqrt(np.maximum(V[ii, ii] + V[jj, jj] - 2 * V[ii, jj], 0.0))
    test = _test(diff, sd, df, adjust, alpha, tuple(f"{lab[i]}-{lab[j]}" for i, j in
                                                      zip(ii, jj, strict=True)))
    notsig = np.array([d == "not different" for d in test.direction], dtype=bool)
    overlap = (lo[ii] <= hi[jj]) & (lo[jj] <= hi[ii])
    edge = {"test": notsig, "overlap": overlap, "overlap_or_test": notsig | overlap}[link]
    linked = np.eye(K, dtype=bool)
    linked[ii[edge], jj[edge]] = True
    linked[jj[edge], ii[edge]] = True
    # connected components (union-find)
    parent = list(range(K))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in zip(ii[edge], jj[edge], strict=True):
        parent[find(i)] = find(j)
    # merge components whose ranges of estimates overlap (ordered bands)
    changed = True
    while changed:
        changed = False
        roots = sorted({find(k) for k in range(K)})
        rng_ = {r: (e[[k for k in range(K) if find(k) == r]].min(),
                    e[[k for k in range(K) if find(k) == r]].max()) for r in roots}
        for x in range(len(roots)):
            for y in range(x + 1, len(roots)):
                a, b = rng_[roots[x]], rng_[roots[y]]
                if a[0] <= b[1] and b[0] <= a[1]:
                    parent[find(roots[x])] = find(roots[y])
                    changed = True
                    break
            if changed:
                break
    roots = sorted({find(k) for k in range(K)},
                   key=lambda r: -np.mean(e[[k for k in range(K) if find(k) == r]])
                   * (1 if higher_is_better else -1))
    band = np.array([roots.index(find(k)) for k in range(K)])
    members = tuple(tuple(lab[k] for k in range(K) if band[k] == b) for b in range(len(roots)))
    relative = None
    if relative_of is not None:
        rel = []
        for mem in members:
            ds = {relative_of.get(m, "not different") for m in mem}
            rel.append(next(iter(ds)) if len(ds) == 1 else "not different")
        relative = tuple(rel)
    return Bands(lab, band, members, relative, linked)
