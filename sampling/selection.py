"""Selection algorithms on arrays: each takes probabilities (or sizes) and a numpy Generator.

Reproducibility rule: every algorithm uses only ``rng.random()`` uniform variates (numpy
keeps that stream stable across versions for PCG64), consumed in the order written in each
docstring. Units with ``pik >= 1`` are certainty units (always selected, no uniform used
for them), units with ``pik == 0`` are never selected. Every function returns the selected
positions as a sorted ``int64`` array.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import DesignError

__all__ = [
    "select_srs",
    "select_systematic",
    "select_poisson",
    "select_brewer",
    "select_sampford",
    "random_order",
    "SAMPFORD_MAX_ATTEMPTS",
    "BREWER_DIRECT_LIMIT",
]

#: Sampford attempts after which the draw is abandoned (see :func:`select_sampford`).
SAMPFORD_MAX_ATTEMPTS = 200_000


def _check_rng(rng: Any) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise DesignError(
            "rng must be a numpy.random.Generator (e.g. numpy.random.default_rng(seed))"
        )
    return rng


def _check_pik(pik: Any, fixed_size: bool) -> tuple[np.ndarray, int]:
    p = np.asarray(pik, dtype=np.float64)
    if p.ndim != 1:
        raise DesignError(f"inclusion probabilities must be one-dimensional, got shape {p.shape}")
    bad = ~np.isfinite(p) | (p < 0) | (p > 1)
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        raise DesignError(f"inclusion probability of unit {k + 1} is {p[k]!r}, outside [0, 1]")
    total = float(p.sum())
    n = int(round(total))
    if fixed_size and abs(total - n) > 1e-6 * max(1.0, total):
        raise DesignError(
            f"a fixed-size method needs inclusion probabilities summing to a whole number; "
            f"they sum to {total!r}"
        )
    return p, n


def random_order(k: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly random permutation of ``range(k)`` from ``k`` uniforms.

    Draws ``k`` uniforms ``u_0..u_{k-1}`` and returns the positions sorted by ``u``
    (ties, which have probability about ``k**2 / 2**54``, by position).
    """
    keys = _check_rng(rng).random(k)
    return np.argsort(keys, kind="stable").astype(np.int64)


def select_srs(N: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Simple random sampling without replacement of ``n`` of ``N`` units.

    Parameters
    ----------
    N, n : int
        Population and sample sizes, ``0 <= n <= N``.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        Sorted positions of the ``n`` selected units; every unit has ``pik = n / N``.

    Notes
    -----
    Uses ``N`` uniforms, one per unit in frame order; the ``n`` units with the smallest
    uniforms are selected (a random sort). The units ranked ``n + 1, n + 2, ...`` by the same
    uniforms are a valid reserve list.

    References
    ----------
    Cochran (1977), *Sampling Techniques*, 3rd ed., ch. 2; Tillé (2006), section 4.4.
    """
    if not (0 <= n <= N):
        raise DesignError(f"n = {n} must be between 0 and the {N} units of the frame")
    order = random_order(N, rng)
    return np.sort(order[:n])


def select_systematic(pik: Any, rng: np.random.Generator) -> np.ndarray:
    """Systematic selection with unequal probabilities (Madow), in the given order.

    Parameters
    ----------
    pik : array_like of float
        Inclusion probabilities summing to an integer ``n``; the order of the array is the
        order of the list (sort it first for implicit stratification). Equal probabilities
        ``n / N`` give classical systematic sampling with interval ``N / n``.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        Sorted positions of exactly ``n`` selected units.

    Notes
    -----
    One uniform ``u``. With ``V_k`` the cumulated probabilities of the non-certainty units
    (the last one set to their exact total ``m``), unit ``k`` is selected when some point
    ``u + j`` (``j`` integer) lies in ``(V_{k-1}, V_k]``, i.e. when
    ``floor(V_k - u) > floor(V_{k-1} - u)``: the same
    rule as R's ``sampling::UPsystematic``. Exactly ``m`` units are selected whatever the
    rounding of the cumulated sum.

    References
    ----------
    Madow, W. G. (1949). On the theory of systematic sampling II. *Ann. Math. Stat.* 20.
    Tillé (2006), section 7.2.
    """
    p, n = _check_pik(pik, fixed_size=True)
    rng = _check_rng(rng)
    certain = p >= 1
    free = np.flatnonzero((p > 0) & ~certain)
    m = n - int(np.count_nonzero(certain))
    u = rng.random()
    if free.size == 0 or m <= 0:
        return np.flatnonzero(certain).astype(np.int64)
    v = np.cumsum(p[free])
    np.minimum(v, m, out=v)
    v[-1] = m
    v -= u
    np.floor(v, out=v)
    chosen = np.empty(free.size, dtype=bool)
    chosen[0] = v[0] > np.floor(-u)
    np.greater(v[1:], v[:-1], out=chosen[1:])
    selected = np.zeros(p.size, dtype=bool)
    selected[certain] = True
    selected[free[chosen]] = True
    return np.flatnonzero(selected).astype(np.int64)


def select_poisson(pik: Any, rng: np.random.Generator) -> np.ndarray:
    """Poisson sampling (Bernoulli when all ``pik`` are equal): random sample size.

    Uses ``N`` uniforms, one per unit in frame order; unit ``k`` is selected when
    ``u_k < pik_k``. The expected sample size is ``sum(pik)``.

    References
    ----------
    Hájek, J. (1964); Särndal, Swensson & Wretman (1992), section 3.5.
    """
    p, _ = _check_pik(pik, fixed_size=False)
    u = _check_rng(rng).random(p.size)
    return np.flatnonzero(u < p).astype(np.int64)


#: Above this number of (draws x units) Brewer's method samples each draw by rejection.
BREWER_DIRECT_LIMIT = 2_000_000


def _brewer_direct_step(
    q: np.ndarray, taken: np.ndarray, c: float, r: int, rng: np.random.Generator
) -> int:
    """One Brewer draw by inverting the cumulated weights (one uniform, O(N)).

    Called under ``np.errstate(divide="ignore", invalid="ignore")``.
    """
    w = q * (c - q) / (c - q * r)
    w[taken | ~(w > 0) | ~np.isfinite(w)] = 0.0
    cum = np.cumsum(w)
    total = cum[-1]
    if not total > 0:
        raise DesignError("Brewer's method ran out of units: the probabilities are not valid")
    j = int(np.searchsorted(cum, rng.random() * total, side="right"))
    if j >= q.size:  # u * total rounded up to the total: take the last candidate
        j = int(np.flatnonzero(w > 0)[-1])
    return j


def select_brewer(pik: Any, rng: np.random.Generator) -> np.ndarray:
    """Brewer's draw-by-draw πps method without replacement (fixed size).

    Parameters
    ----------
    pik : array_like of float
        Inclusion probabilities summing to an integer ``n``.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        Sorted positions of exactly ``n`` units; the inclusion probabilities are exactly
        ``pik``.

    Notes
    -----
    As R's ``sampling::UPbrewer``: among the ``m`` non-certainty units (``N`` of them),
    draw ``i`` (``i = 1..m``) selects unit ``k`` not yet selected with probability
    proportional to ``pik_k g_i(pik_k)``, ``g_i(q) = (c - q) / (c - q (m - i + 1))``,
    ``c = m - sum of the pik already selected``.

    * When ``m N <= BREWER_DIRECT_LIMIT`` each draw uses one uniform, inverting the
      cumulated weights (O(N) per draw).
    * Otherwise each draw is sampled exactly by rejection: ``g_i`` increases with ``q``,
      so with ``G = g_i(largest pik not yet selected)`` a proposal uses one uniform to
      pick ``k`` proportionally to ``pik`` among all units (rejected if already taken)
      and, if free, one more uniform ``v``, accepting when ``v G < g_i(pik_k)``. If ``G``
      is not a positive finite number that draw falls back to the direct rule. The cost
      is O(log N) per proposal instead of O(N) per draw.

    Brewer's design has no closed-form joint inclusion probabilities.

    References
    ----------
    Brewer, K. R. W. (1975). A simple procedure for sampling πpswor.
    *Australian Journal of Statistics* 17, 166-172. Tillé (2006), section 7.4.
    """
    p, n = _check_pik(pik, fixed_size=True)
    rng = _check_rng(rng)
    certain = p >= 1
    free = np.flatnonzero((p > 0) & ~certain)
    m = n - int(np.count_nonzero(certain))
    selected = np.zeros(p.size, dtype=bool)
    selected[certain] = True
    if m > 0 and free.size:
        q = p[free]
        taken = np.zeros(q.size, dtype=bool)
        used = 0.0
        direct = m * q.size <= BREWER_DIRECT_LIMIT
        if not direct:
            cum = np.cumsum(q)
            total = float(cum[-1])
            largest = np.argsort(-q, kind="stable")
            top = 0
        with np.errstate(divide="ignore", invalid="ignore"):
            for i in range(1, m + 1):
                c = m - used
                r = m - i + 1
                if direct:
                    j = _brewer_direct_step(q, taken, c, r, rng)
                else:
                    while taken[largest[top]]:
                        top += 1
                    qmax = float(q[largest[top]])
                    big = (c - qmax) / (c - r * qmax) if c - r * qmax > 0 else float("nan")
                    if not (big > 0 and np.isfinite(big)):
                        j = _brewer_direct_step(q, taken, c, r, rng)
                    else:
                        while True:
                            j = int(np.searchsorted(cum, rng.random() * total, side="right"))
                            j = min(j, q.size - 1)
                            if taken[j]:
                                continue
                            qj = float(q[j])
                            if rng.random() * big < (c - qj) / (c - r * qj):
                                break
                taken[j] = True
                used += float(q[j])
        selected[free[taken]] = True
    return np.flatnonzero(selected).astype(np.int64)


def select_sampford(
    pik: Any, rng: np.random.Generator, max_attempts: int = SAMPFORD_MAX_ATTEMPTS
) -> np.ndarray:
    """Sampford's rejective πps method without replacement (fixed size).

    Parameters
    ----------
    pik : array_like of float
        Inclusion probabilities summing to an integer ``n``.
    rng : numpy.random.Generator
    max_attempts : int
        Attempts after which :class:`DesignError` is raised.

    Returns
    -------
    numpy.ndarray
        Sorted positions of exactly ``n`` units; the inclusion probabilities are exactly
        ``pik`` and the joint ones have the closed form of
        :func:`sampling.joint.joint_inclusion_probabilities`.

    Notes
    -----
    Implemented as Poisson rejective sampling (Bondesson, Traat & Lundqvist 2006), which
    has the same design as Sampford's multinomial rejective procedure but needs far fewer
    attempts when ``n`` is large: each attempt draws one uniform per non-certainty unit in
    frame order and keeps units with ``u_k < pik_k``; if exactly ``m`` units were kept, one
    more uniform ``v`` is drawn and the sample is accepted when
    ``v * m < m - sum of their pik``. The accepted sample has probability proportional to
    ``(m - sum_s pik) prod_s pik / (1 - pik)``, which is Sampford's design.

    References
    ----------
    Sampford, M. R. (1967). On sampling without replacement with unequal probabilities of
    selection. *Biometrika* 54, 499-513.
    Bondesson, L., Traat, I. & Lundqvist, A. (2006). Pareto sampling versus Sampford and
    conditional Poisson sampling. *Scand. J. Statist.* 33, 699-720.
    """
    p, n = _check_pik(pik, fixed_size=True)
    rng = _check_rng(rng)
    certain = p >= 1
    free = np.flatnonzero((p > 0) & ~certain)
    m = n - int(np.count_nonzero(certain))
    selected = np.zeros(p.size, dtype=bool)
    selected[certain] = True
    if m > 0 and free.size:
        q = p[free]
        for _ in range(max_attempts):
            keep = rng.random(q.size) < q
            if int(np.count_nonzero(keep)) != m:
                continue
            if rng.random() * m < m - float(q[keep].sum()):
                selected[free[keep]] = True
                break
        else:
            raise DesignError(
                f"Sampford's method found no sample in {max_attempts} attempts "
                "(probabilities too close to 1); use Brewer's method instead"
            )
    return np.flatnonzero(selected).astype(np.int64)
