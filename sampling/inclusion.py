"""First-order inclusion probabilities for πps designs.

The computation follows R's ``sampling::inclusionprobabilities`` (Tillé & Matei) operation
by operation, so the results agree with R to rounding: ``pi_k = n x_k / sum(x)``; units
whose probability reaches 1 are made certainty units (``pi_k = 1``) and the remaining sample
size is spread over the other units in proportion to their size, repeatedly, until no
probability exceeds 1.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .errors import DesignError

__all__ = ["inclusion_probabilities", "stratified_inclusion_probabilities", "group_codes"]


def _as_sizes(size: Any) -> np.ndarray:
    try:
        a = np.asarray(size, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise DesignError(f"size measures must be numbers ({exc})") from None
    if a.ndim != 1:
        raise DesignError(f"size measures must be a one-dimensional array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        bad = int(np.flatnonzero(~np.isfinite(a))[0])
        raise DesignError(f"size measure of unit {bad + 1} is missing or infinite")
    if np.any(a < 0):
        bad = int(np.flatnonzero(a < 0)[0])
        raise DesignError(f"size measure of unit {bad + 1} is negative ({a[bad]!r})")
    return a


def _check_n(n: Any, available: int, where: str = "") -> float:
    try:
        nf = float(n)
    except (TypeError, ValueError):
        raise DesignError(f"sample size must be a number, got {n!r}") from None
    if not np.isfinite(nf) or nf < 0:
        raise DesignError(f"sample size must be a non-negative number, got {n!r}")
    if nf > available:
        raise DesignError(
            f"n = {n} is larger than the {available} units with a positive size{where}"
        )
    return nf


def inclusion_probabilities(size: Any, n: float) -> np.ndarray:
    """Inclusion probabilities proportional to size, with certainty units capped at 1.

    Parameters
    ----------
    size : array_like of float
        Non-negative size measures ``x_k`` (one per unit, in frame order).
    n : float
        The (expected) sample size; ``sum(pik) == n``.

    Returns
    -------
    numpy.ndarray
        ``pik``, in the order of ``size``.

    Raises
    ------
    DesignError
        Negative, missing or infinite sizes; ``n`` negative or larger than the number of
        units with a positive size.

    Notes
    -----
    Same algorithm and order of floating-point operations as R's
    ``sampling::inclusionprobabilities`` (version 2.9): ``pik = n * x / sum(x)``; while
    some ``pik >= 1``, those are set to 1 and the others to ``(n - l) * x / sum(x)`` over
    the ``l`` capped units. Units with size 0 get ``pik = 0``. Cost is O(N) per capping
    round; the number of rounds is small in practice.

    References
    ----------
    Tillé, Y. (2006). *Sampling Algorithms*. Springer, section 2.10.
    Särndal, Swensson & Wretman (1992). *Model Assisted Survey Sampling*, section 3.6.
    """
    a = _as_sizes(size)
    nf = _check_n(n, int(np.count_nonzero(a > 0)))
    if a.size == 0 or not np.any(a > 0):
        return np.zeros_like(a)
    pik1 = nf * a / a.sum()
    positive = pik1 > 0
    pik = pik1[positive]
    capped = pik >= 1
    count = int(np.count_nonzero(capped))
    if count > 0:
        previous = 0
        while count != previous:
            x = pik[~capped]
            x = x / x.sum()
            pik[~capped] = (nf - count) * x
            pik[capped] = 1.0
            previous = count
            capped = pik >= 1
            count = int(np.count_nonzero(capped))
        pik1[positive] = pik
    return pik1


def group_codes(labels: Any) -> tuple[np.ndarray, list[Any]]:
    """Integer codes of group labels in order of first appearance, and the labels.

    Missing labels raise :class:`DesignError`.
    """
    codes, uniques = pd.factorize(pd.Series(labels, copy=False), sort=False)
    if np.any(codes < 0):
        bad = int(np.flatnonzero(codes < 0)[0])
        raise DesignError(f"unit {bad + 1} has no stratum")
    return codes.astype(np.int64), list(uniques)


def stratified_inclusion_probabilities(
    size: Any, strata: Any, n: int | float | Mapping[Any, float]
) -> np.ndarray:
    """:func:`inclusion_probabilities` applied within each stratum.

    Parameters
    ----------
    size : array_like of float
        Size measures in frame order.
    strata : array_like
        Stratum label of each unit.
    n : float or mapping
        Sample size of every stratum, or a mapping ``{stratum: n_h}`` covering every
        stratum present (and no other).

    Returns
    -------
    numpy.ndarray
        ``pik`` in frame order; it sums to ``n_h`` within each stratum.

    Raises
    ------
    DesignError
        As :func:`inclusion_probabilities`, naming the stratum; a stratum without a sample
        size; a sample size given for a stratum that has no unit.
    """
    a = _as_sizes(size)
    codes, labels = group_codes(strata)
    if codes.size != a.size:
        raise DesignError(f"{a.size} size measures but {codes.size} stratum labels")
    sizes_by_stratum = stratum_sizes(n, labels)
    out = np.zeros_like(a)
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(codes, minlength=len(labels)))))
    for h, label in enumerate(labels):
        idx = order[bounds[h] : bounds[h + 1]]
        _check_n(
            sizes_by_stratum[h],
            int(np.count_nonzero(a[idx] > 0)),
            f" in stratum {label!r}",
        )
        out[idx] = inclusion_probabilities(a[idx], sizes_by_stratum[h])
    return out


def stratum_sizes(n: Any, labels: list[Any]) -> list[Any]:
    """Per-stratum sample sizes, in the order of ``labels``, from a number or a mapping."""
    if isinstance(n, Mapping):
        keyed = {str(k): v for k, v in n.items()}
        present = {str(label) for label in labels}
        empty = [k for k in keyed if k not in present]
        if empty:
            raise DesignError(f"stratum {empty[0]!r} has a sample size but no unit in the frame")
        missing = [label for label in labels if str(label) not in keyed]
        if missing:
            raise DesignError(f"stratum {missing[0]!r} has no sample size")
        return [keyed[str(label)] for label in labels]
    return [n] * len(labels)
