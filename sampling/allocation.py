"""Allocation of a total sample size across strata, in whole numbers summing exactly to n.

Methods (``a_h`` is the share before bounds):

* ``proportional``: ``a_h = N_h``;
* ``equal``: ``a_h = 1``;
* ``neyman``: ``a_h = N_h S_h``;
* ``optimal``: ``a_h = N_h S_h / sqrt(c_h)`` (cost ``c_h`` per interview);
* ``power``: Bankier's power allocation ``a_h = N_h^q`` times ``S_h`` if given (use the
  coefficient of variation of the study variable for ``S_h``), ``0 <= q <= 1``
  (``q = 1`` proportional, ``q = 0`` equal).

Bounds: every stratum gets at least ``min(minimum, N_h)`` and at most
``min(maximum, N_h)`` units; a stratum whose share reaches ``N_h`` is taken entirely
(take-all). The continuous allocation ``n_h = clip(lambda a_h, lo_h, hi_h)`` with
``sum n_h = n`` is found by iterative capping, then rounded by largest remainders within
the bounds (ties to the earlier stratum), so the total is exactly ``n``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import DesignError

__all__ = ["Allocation", "allocate", "ALLOCATION_METHODS"]

ALLOCATION_METHODS = ("proportional", "equal", "neyman", "optimal", "power")


@dataclass(frozen=True)
class Allocation:
    """Result of :func:`allocate`: one entry per stratum, in the order given."""

    strata: tuple[Any, ...]
    N_h: tuple[int, ...]
    n_h: tuple[int, ...]
    exact: tuple[float, ...]
    take_all: tuple[bool, ...]
    method: str

    @property
    def n(self) -> int:
        """Total sample size (always the ``n`` asked for)."""
        return int(sum(self.n_h))

    def to_records(self) -> list[dict[str, Any]]:
        """``[{"stratum", "N_h", "n_h"}, ...]`` (the CLI prints this)."""
        return [
            {"stratum": s, "N_h": int(N), "n_h": int(k)}
            for s, N, k in zip(self.strata, self.N_h, self.n_h, strict=True)
        ]


def _vector(values: Any, name: str, H: int) -> np.ndarray:
    a = np.asarray(values, dtype=np.float64)
    if a.shape != (H,):
        raise DesignError(f"{name} must have one value per stratum ({H}), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise DesignError(f"{name} has a missing or infinite value")
    return a


def _continuous(share: np.ndarray, lo: np.ndarray, hi: np.ndarray, n: float) -> np.ndarray:
    """``clip(lambda * share, lo, hi)`` summing to ``n`` (iterative capping at both ends)."""
    fixed = np.zeros(share.size, dtype=bool)
    x = lo.astype(np.float64).copy()
    while True:
        free = ~fixed
        rest = n - x[fixed].sum()
        s = share[free].sum()
        if s > 0:
            x[free] = rest * share[free] / s
        else:  # only zero shares left: spread the rest as evenly as the bounds allow
            x[free] = rest / max(int(free.sum()), 1)
        over = free & (x > hi)
        under = free & (x < lo)
        if not over.any() and not under.any():
            return x
        # Fix the side that violates more (standard capping step); lows first on a tie.
        if under.any() and (lo[under] - x[under]).sum() >= (x[over] - hi[over]).sum():
            x[under] = lo[under]
            fixed |= under
        else:
            x[over] = hi[over]
            fixed |= over


def allocate(
    N_h: Sequence[int],
    n: int,
    method: str = "proportional",
    *,
    strata: Sequence[Any] | None = None,
    sd: Sequence[float] | None = None,
    cost: Sequence[float] | None = None,
    power_exponent: float = 0.5,
    minimum: int = 0,
    maximum: int | None = None,
) -> Allocation:
    """Allocate ``n`` interviews to strata of sizes ``N_h``.

    Parameters
    ----------
    N_h : sequence of int
        Stratum population sizes (each at least 1).
    n : int
        Total sample size, at most ``sum(N_h)``.
    method : {"proportional", "equal", "neyman", "optimal", "power"}
    strata : sequence, optional
        Stratum labels (default ``0..H-1``).
    sd : sequence of float, optional
        Standard deviation ``S_h`` per stratum (required by neyman and optimal; optional
        multiplier for power).
    cost : sequence of float, optional
        Cost per interview ``c_h`` (required by optimal).
    power_exponent : float
        Exponent ``q`` of the power allocation.
    minimum, maximum : int
        Bounds per stratum (each also capped at ``N_h``).

    Returns
    -------
    Allocation

    Raises
    ------
    DesignError
        Unknown method, missing ``sd``/``cost``, non-positive sizes or costs, negative
        standard deviations, ``n > sum(N_h)``, or bounds that cannot hold for this ``n``.

    References
    ----------
    Cochran (1977), sections 5.5-5.9; Lohr (2022), section 3.4; Bankier, M. D. (1988).
    Power allocations: determining sample sizes for subnational areas. *The American
    Statistician* 42, 174-177.
    """
    if method not in ALLOCATION_METHODS:
        raise DesignError(
            f"unknown allocation method {method!r}; choose one of {', '.join(ALLOCATION_METHODS)}"
        )
    N = np.asarray(N_h, dtype=np.float64)
    H = N.size
    if H == 0:
        raise DesignError("there are no strata")
    if N.ndim != 1 or np.any(N < 1) or np.any(N != np.floor(N)):
        raise DesignError("every stratum size N_h must be a whole number of at least 1")
    labels = tuple(range(H)) if strata is None else tuple(strata)
    if len(labels) != H:
        raise DesignError(f"{len(labels)} stratum labels for {H} stratum sizes")
    if int(n) != n or n < 0:
        raise DesignError(f"n must be a non-negative whole number, got {n!r}")
    n = int(n)
    total = int(N.sum())
    if n > total:
        raise DesignError(f"n = {n} is larger than the frame ({total} units)")
    if int(minimum) != minimum or minimum < 0:
        raise DesignError(
            f"minimum per stratum must be a non-negative whole number, got {minimum!r}"
        )
    if maximum is not None and (int(maximum) != maximum or maximum < 0):
        raise DesignError(
            f"maximum per stratum must be a non-negative whole number, got {maximum!r}"
        )
    if maximum is not None and maximum < minimum:
        raise DesignError(f"maximum per stratum ({maximum}) is below the minimum ({minimum})")

    S = None if sd is None else _vector(sd, "sd", H)
    if S is not None and np.any(S < 0):
        raise DesignError(f"stratum {labels[int(np.flatnonzero(S < 0)[0])]!r} has a negative sd")
    if method in ("neyman", "optimal") and S is None:
        raise DesignError(f"{method} allocation needs the standard deviation of each stratum (sd)")
    if method == "optimal":
        if cost is None:
            raise DesignError(
                "optimal allocation needs the cost per interview of each stratum (cost)"
            )
        C = _vector(cost, "cost", H)
        if np.any(C <= 0):
            raise DesignError(
                f"stratum {labels[int(np.flatnonzero(C <= 0)[0])]!r} has a non-positive cost"
            )
    if method == "power" and not 0 <= power_exponent <= 1:
        raise DesignError(f"power exponent must lie in [0, 1], got {power_exponent!r}")

    if method == "proportional":
        share = N.copy()
    elif method == "equal":
        share = np.ones(H)
    elif method == "neyman":
        share = N * S  # type: ignore[operator]
    elif method == "optimal":
        share = N * S / np.sqrt(C)  # type: ignore[operator]
    else:
        share = N**power_exponent * (1.0 if S is None else S)

    lo = np.minimum(float(minimum), N)
    hi = N.copy() if maximum is None else np.minimum(float(maximum), N)
    if lo.sum() > n:
        raise DesignError(f"the minimum per stratum needs {int(lo.sum())} units, more than n = {n}")
    if hi.sum() < n:
        raise DesignError(
            f"the maximum per stratum allows only {int(hi.sum())} units, less than n = {n}"
        )
    exact = _continuous(share, lo, hi, float(n))
    counts = np.floor(exact + 1e-9).astype(np.int64)
    counts = np.clip(counts, lo.astype(np.int64), hi.astype(np.int64))
    left = n - int(counts.sum())
    if left > 0:
        room = counts < hi
        remainder = np.where(room, exact - counts, -np.inf)
        order = np.lexsort((np.arange(H), -remainder))
        for h in order[:left]:
            counts[h] += 1
    elif left < 0:
        room = counts > lo
        remainder = np.where(room, exact - counts, np.inf)
        order = np.lexsort((np.arange(H), remainder))
        for h in order[:-left]:
            counts[h] -= 1
    if int(counts.sum()) != n:  # pragma: no cover - guarded by the bound checks above
        raise DesignError("allocation could not be rounded to the total")
    return Allocation(
        strata=labels,
        N_h=tuple(int(v) for v in N),
        n_h=tuple(int(v) for v in counts),
        exact=tuple(float(v) for v in exact),
        take_all=tuple(bool(c == N_) for c, N_ in zip(counts, N, strict=True)),
        method=method,
    )
