"""Joint (second-order) inclusion probabilities ``pi_kl`` of πps designs.

They are what exact Horvitz-Thompson and Sen-Yates-Grundy variances need. Closed forms
exist for systematic πps (from the order of the list), Sampford's design and the maximum
entropy (conditional Poisson) design; the functions below port R's ``sampling`` package
(``UPsystematicpi2``, ``UPsampfordpi2``, ``UPmaxentropypi2``) with the loops vectorised.
Brewer's method has no closed form and is refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import DesignError

__all__ = ["joint_inclusion_probabilities", "JOINT_METHODS", "MAX_JOINT_UNITS"]

JOINT_METHODS = ("systematic", "sampford", "maxentropy", "srs", "poisson")

#: Largest number of units for which an N x N matrix is built.
MAX_JOINT_UNITS = 5000

BREWER_REFUSAL = (
    "Brewer's method has no closed-form joint inclusion probabilities; use "
    "--method sampford or maxentropy (same first-order probabilities, known pi_kl) or "
    "systematic, or estimate variances with the with-replacement approximation"
)


def joint_inclusion_probabilities(pik: Any, method: str) -> np.ndarray:
    """The matrix of joint inclusion probabilities of a design with first-order ``pik``.

    Parameters
    ----------
    pik : array_like of float
        First-order inclusion probabilities (summing to an integer for fixed-size designs).
        For ``systematic`` the order of the array is the order of the list.
    method : {"systematic", "sampford", "maxentropy", "srs", "poisson"}
        The design. ``"brewer"`` (or ``"pps-brewer"``) raises :class:`DesignError`.

    Returns
    -------
    numpy.ndarray
        Symmetric ``N x N`` matrix with ``pik`` on the diagonal. Certainty units have
        ``pi_kl = pi_l``; units with ``pik = 0`` have ``pi_kl = 0``.

    Raises
    ------
    DesignError
        Unknown method or Brewer's; more than :data:`MAX_JOINT_UNITS` units; a design whose
        formula breaks down numerically (Sampford with very large ``n``).

    Notes
    -----
    * systematic: the start ``u`` is uniform on ``[0, 1)``; the fractional parts of the
      cumulated ``pik`` cut ``[0, 1)`` into at most ``N`` intervals on each of which the
      sample is fixed, so ``pi_kl`` is the total length of the intervals whose sample holds
      both units (as ``UPsystematicpi2``). Many pairs have ``pi_kl = 0``.
    * sampford: Sampford's (1967) exact formula as in ``UPsampfordpi2``.
    * maxentropy: conditional Poisson working probabilities are found by the fixed-point
      iteration of ``UPMEpiktildefrompik`` (same stopping rule, ``eps = 1e-6``), then
      ``pi_kl = (pi_k w_l - pi_l w_k) / (w_l - w_k)`` (Aires 1999), ties completed so
      that each row sums to ``n pi_k`` (``UPMEpik2frompikw``).
    * srs: ``n (n - 1) / (N (N - 1))``; poisson: ``pi_k pi_l``.

    References
    ----------
    Tillé (2006), *Sampling Algorithms*, sections 5.6, 7.2, 7.6.
    Sampford, M. R. (1967). *Biometrika* 54, 499-513.
    Aires, N. (1999). Algorithms to find exact inclusion probabilities for conditional
    Poisson sampling and Pareto πps sampling designs. *Methodol. Comput. Appl. Probab.* 4.
    """
    method = str(method)
    if method in ("brewer", "pps-brewer"):
        raise DesignError(BREWER_REFUSAL)
    if method not in JOINT_METHODS:
        raise DesignError(f"unknown method {method!r}; choose one of {', '.join(JOINT_METHODS)}")
    p = np.asarray(pik, dtype=np.float64)
    if p.ndim != 1:
        raise DesignError("inclusion probabilities must be one-dimensional")
    if np.any(~np.isfinite(p) | (p < 0) | (p > 1)):
        raise DesignError("inclusion probabilities must lie in [0, 1]")
    if p.size > MAX_JOINT_UNITS:
        raise DesignError(
            f"{p.size} units: joint probabilities are computed for at most {MAX_JOINT_UNITS} "
            "units (the matrix has N x N entries)"
        )
    total = float(p.sum())
    n = int(round(total))
    if method != "poisson" and abs(total - n) > 1e-6 * max(1.0, total):
        raise DesignError(f"the inclusion probabilities sum to {total!r}, not a whole number")
    if method == "poisson":
        out = np.outer(p, p)
    elif method == "srs":
        N = p.size
        out = np.full((N, N), n * (n - 1) / (N * (N - 1)) if N > 1 else 0.0)
    else:
        out = np.outer(p, p)
        inner = (p > 0) & (p < 1)
        q = p[inner]
        if q.size:
            if method == "systematic":
                block = _systematic(q)
            elif method == "sampford":
                block = _sampford(q)
            else:
                block = _maxentropy(q)
            out[np.ix_(inner, inner)] = block
    np.fill_diagonal(out, p)
    return out


def _systematic(q: np.ndarray) -> np.ndarray:
    N = q.size
    v = np.cumsum(q)
    frac = np.mod(v, 1.0)
    frac[-1] = 0.0
    r = np.concatenate((np.sort(frac), [1.0]))
    centre = (r[:-1] + r[1:]) / 2
    length = r[1:] - r[:-1]
    cuts = np.concatenate(([0.0], v))
    a = np.mod(cuts[:, None] - centre[None, :], 1.0)  # (N + 1) x N
    m = (a[:-1, :] > a[1:, :]).astype(np.float64)  # unit x start interval
    del a
    _ = N
    return (m * length[None, :]) @ m.T


def _sampford(q: np.ndarray) -> np.ndarray:
    N = q.size
    total = float(q.sum())
    n = int(round(total))
    if n < 2:
        return np.diag(q)
    p = q / n
    lam = p / (1 - n * p)
    lm = np.zeros(n)
    lm[0] = 1.0
    powers = [float(np.sum(lam**r)) for r in range(1, n)]
    for i in range(2, n + 1):
        acc = 0.0
        for r in range(1, i):
            acc += ((-1) ** (r - 1)) * powers[r - 1] * lm[i - r - 1]
        lm[i - 1] = acc / (i - 1)
    if np.any(lm < 0):
        raise DesignError("Sampford's joint probabilities cannot be computed for these pik")
    t1 = np.arange(n, 0, -1, dtype=np.float64)  # (n + 1) - (1:n)
    with np.errstate(over="ignore"):
        kn = 1.0 / np.sum(t1 * lm / np.power(float(n), t1))
    ii, jj = np.triu_indices(N, k=1)
    li, lj = lam[ii], lam[jj]
    s, pr = li + lj, li * lj
    lm2 = np.zeros((n - 1, ii.size))
    lm2[0] = 1.0
    if n >= 3:
        lm2[1] = lm[1] - s
    for m in range(3, n):
        lm2[m - 1] = lm[m - 1] - s * lm2[m - 2] - pr * lm2[m - 3]
    t2 = np.arange(1, n, dtype=np.float64)
    t3 = (n - t2).astype(np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        scale = np.power(float(n), t2 - 1)
        terms = (t2[:, None] + 1 - n * (p[ii] + p[jj])[None, :]) * lm2[t3 - 1, :] / scale[:, None]
        vals = kn * li * lj * terms.sum(axis=0)
    if not np.all(np.isfinite(vals)):
        raise DesignError(f"Sampford's joint probabilities overflow for n = {n}; n is too large")
    out = np.zeros((N, N))
    out[ii, jj] = vals
    out[jj, ii] = vals
    np.fill_diagonal(out, q)
    return out


def _me_q_from_w(w: np.ndarray, n: int) -> np.ndarray:
    N = w.size
    expa = np.zeros((N, n))
    expa[:, 0] = np.cumsum(w[::-1])[::-1]
    logw = np.log(w)
    tail = np.cumsum(logw[::-1])[::-1]
    for i in range(N - n, N):
        expa[i, N - i - 1] = np.exp(tail[i])
    for i in range(N - 3, -1, -1):
        zmax = min(N - i - 1, n)
        if zmax >= 2:
            expa[i, 1:zmax] = w[i] * expa[i + 1, 0 : zmax - 1] + expa[i + 1, 1:zmax]
    q = np.zeros((N, n))
    q[:, 0] = w / expa[:, 0]
    for i in range(N - n, N):
        q[i, N - i - 1] = 1.0
    for i in range(N - 3, -1, -1):
        zmax = min(N - i - 1, n)
        if zmax >= 2:
            q[i, 1:zmax] = w[i] * expa[i + 1, 0 : zmax - 1] / expa[i, 1:zmax]
    return q


def _me_pik_from_q(q: np.ndarray) -> np.ndarray:
    N, n = q.shape
    pro = np.zeros((N, n))
    pro[0, n - 1] = 1.0
    for i in range(1, N):
        prev = pro[i - 1, 1:]
        pro[i, 1:] += prev * (1 - q[i - 1, 1:])
        pro[i, :-1] += prev * q[i - 1, 1:]
    for i in range(1, N):
        pro[i, 0] += pro[i - 1, 0] * (1 - q[i - 1, 0])
    return (pro * q).sum(axis=1)


def _maxentropy(q: np.ndarray, eps: float = 1e-6, max_iter: int = 10_000) -> np.ndarray:
    N = q.size
    n = int(round(float(q.sum())))
    if n < 2:
        return np.diag(q)
    pikt = q.copy()
    change = 1.0
    iterations = 0
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        try:
            while change > eps:
                w = pikt / (1 - pikt)
                pikt1 = pikt + q - _me_pik_from_q(_me_q_from_w(w, n))
                change = float(np.sum(np.abs(pikt - pikt1)))
                pikt = pikt1
                iterations += 1
                if iterations > max_iter:
                    raise DesignError("the maximum entropy working probabilities did not converge")
        except FloatingPointError:
            raise DesignError(
                "the maximum entropy design cannot be computed for these pik (overflow)"
            ) from None
    w = pikt / (1 - pikt)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = (q[:, None] * w[None, :] - q[None, :] * w[:, None]) / (w[None, :] - w[:, None])
    tie = q[:, None] == q[None, :]
    m[tie] = np.nan
    np.fill_diagonal(m, q)
    known = ~np.isnan(m)
    row_total = np.where(known, m, 0.0).sum(axis=1)
    missing = (~known).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        fill = (n * q - row_total) / missing
    m = np.where(known, m, fill[:, None])
    _ = N
    return m
