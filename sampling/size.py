"""Sample size for a proportion or a mean, its inverse (margin of error), and power.

The formulas are Cochran's: ``n0 = z^2 V deff / E^2`` with ``V = p (1 - p)`` for a
proportion or ``S^2`` for a mean, ``z`` the normal quantile of the confidence level; with a
population size ``N`` the finite-population correction gives ``n = n0 / (1 + (n0 - 1) / N)``
(the exact solution of ``E = z sqrt(deff V / n (N - n) / (N - 1))``). Sizes are rounded up;
the number to contact divides by the expected response rate.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from scipy.special import ndtri

from .errors import DesignError

__all__ = [
    "SampleSize",
    "sample_size",
    "margin_of_error",
    "two_group_size",
    "TwoGroupSize",
]


@dataclass(frozen=True)
class SampleSize:
    """Result of :func:`sample_size` (all counts are whole numbers of respondents).

    Attributes
    ----------
    n : int
        Completed interviews needed in total (``n_per_domain * domains``).
    n_per_domain : int
        Completed interviews needed in each domain.
    n_to_contact : int
        Units to select so that ``n`` respond: ``ceil(n / response_rate)``, computed per
        domain and summed.
    moe : float
        The margin of error achieved with ``n_per_domain`` (at most the one asked for).
    n0 : float
        Size before the finite-population correction and rounding (per domain).
    """

    type: str
    n: int
    n_per_domain: int
    n_to_contact: int
    moe: float
    moe_target: float
    level: float
    z: float
    p: float | None
    sd: float | None
    deff: float
    response_rate: float
    N: int | None
    N_per_domain: float | None
    domains: int
    n0: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the CLI prints it)."""
        return asdict(self)


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise DesignError(f"confidence level must lie strictly between 0 and 1, got {level!r}")
    return float(ndtri(1 - (1 - level) / 2))


def _variance(
    type: str, p: float | None, sd: float | None
) -> tuple[float, float | None, float | None]:
    if type == "proportion":
        if sd is not None:
            raise DesignError("a proportion takes --p, not --sd")
        p = 0.5 if p is None else float(p)
        if not 0 < p < 1:
            raise DesignError(f"expected proportion p must lie strictly between 0 and 1, got {p!r}")
        return p * (1 - p), p, None
    if type == "mean":
        if p is not None:
            raise DesignError("a mean takes --sd, not --p")
        if sd is None:
            raise DesignError("a mean needs the expected standard deviation (sd)")
        sd = float(sd)
        if not sd > 0 or not math.isfinite(sd):
            raise DesignError(f"standard deviation must be positive, got {sd!r}")
        return sd * sd, None, sd
    raise DesignError(f"type must be 'proportion' or 'mean', got {type!r}")


def _common(deff: float, response_rate: float, N: float | None, domains: int) -> None:
    if not deff > 0:
        raise DesignError(f"design effect must be positive, got {deff!r}")
    if not 0 < response_rate <= 1:
        raise DesignError(f"response rate must lie in (0, 1], got {response_rate!r}")
    if N is not None and not N >= 1:
        raise DesignError(f"population size N must be at least 1, got {N!r}")
    if int(domains) != domains or domains < 1:
        raise DesignError(f"number of domains must be a positive whole number, got {domains!r}")


def margin_of_error(
    n: float,
    *,
    type: str = "proportion",
    p: float | None = None,
    sd: float | None = None,
    confidence_level: float = 0.95,
    deff: float = 1.0,
    N: float | None = None,
) -> float:
    """Expected margin of error (half-width of the confidence interval) for ``n`` completes.

    ``E = z sqrt(deff V / n)``, times ``sqrt((N - n) / (N - 1))`` when ``N`` is given.

    Raises
    ------
    DesignError
        ``n < 1``, ``n > N`` or invalid parameters.

    References
    ----------
    Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., sections 4.4-4.6.
    """
    var, _, _ = _variance(type, p, sd)
    _common(deff, 1.0, N, 1)
    if not n >= 1:
        raise DesignError(f"sample size must be at least 1, got {n!r}")
    if N is not None and n > N:
        raise DesignError(f"n = {n} is larger than the population N = {N}")
    z = _z(confidence_level)
    e2 = z * z * deff * var / n
    if N is not None:
        e2 *= (N - n) / (N - 1) if N > 1 else 0.0
    return math.sqrt(e2)


def sample_size(
    moe: float,
    *,
    type: str = "proportion",
    p: float | None = None,
    sd: float | None = None,
    confidence_level: float = 0.95,
    deff: float = 1.0,
    response_rate: float = 1.0,
    N: float | None = None,
    domains: int = 1,
) -> SampleSize:
    """Completed interviews needed for a margin of error ``moe``, overall or per domain.

    Parameters
    ----------
    moe : float
        Wanted margin of error: absolute (0.05 = 5 percentage points) for a proportion, in
        the unit of the variable for a mean.
    type : {"proportion", "mean"}
    p : float, optional
        Expected proportion (default 0.5, the most conservative).
    sd : float, optional
        Expected standard deviation (required for a mean).
    confidence_level : float
        Two-sided confidence level (default 0.95).
    deff : float
        Design effect of the planned design (clustering, weighting).
    response_rate : float
        Expected response rate, for ``n_to_contact``.
    N : float, optional
        Population size (total over the domains); each of the ``domains`` domains is
        taken to hold ``N / domains`` units for the finite-population correction.
    domains : int
        Number of domains (e.g. agencies) that each need this precision.

    Returns
    -------
    SampleSize

    Notes
    -----
    ``n0 = z^2 deff V / E^2``; ``n = ceil(n0 / (1 + (n0 - 1) / N_d))`` per domain. With
    ``p = 0.5``, ``E = 0.05`` and 95 % confidence ``n = 385`` (Cochran's 384.16 rounded up).

    References
    ----------
    Cochran (1977), sections 4.4-4.6 and 5A; Lohr, S. (2022). *Sampling: Design and
    Analysis*, 3rd ed., section 2.7.
    """
    var, p, sd = _variance(type, p, sd)
    _common(deff, response_rate, N, domains)
    if not moe > 0 or not math.isfinite(moe):
        raise DesignError(f"margin of error must be positive, got {moe!r}")
    z = _z(confidence_level)
    n0 = z * z * deff * var / (moe * moe)
    n_dom_pop = None if N is None else N / domains
    n_exact = n0 if n_dom_pop is None else n0 / (1 + (n0 - 1) / n_dom_pop)
    # Rounding up must not be fooled by a quotient such as 384.00000000000006.
    n_d = max(1, math.ceil(round(n_exact, 9)))
    if n_dom_pop is not None:
        n_d = min(n_d, math.floor(n_dom_pop)) if n_dom_pop >= 1 else 1
    contact_d = math.ceil(round(n_d / response_rate, 9))
    achieved = margin_of_error(
        n_d, type=type, p=p, sd=sd, confidence_level=confidence_level, deff=deff, N=n_dom_pop
    )
    return SampleSize(
        type=type,
        n=n_d * domains,
        n_per_domain=n_d,
        n_to_contact=contact_d * domains,
        moe=achieved,
        moe_target=float(moe),
        level=float(confidence_level),
        z=z,
        p=p,
        sd=sd,
        deff=float(deff),
        response_rate=float(response_rate),
        N=None if N is None else int(N) if float(N).is_integer() else N,  # type: ignore[arg-type]
        N_per_domain=n_dom_pop,
        domains=int(domains),
        n0=n0,
    )


@dataclass(frozen=True)
class TwoGroupSize:
    """Completed interviews per group needed to detect a difference (see :func:`two_group_size`)."""

    n_per_group: int
    n_to_contact_per_group: int
    power: float
    level: float
    difference: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def two_group_size(
    *,
    type: str = "proportion",
    p1: float | None = None,
    p2: float | None = None,
    difference: float | None = None,
    sd: float | None = None,
    power: float = 0.8,
    confidence_level: float = 0.95,
    deff: float = 1.0,
    response_rate: float = 1.0,
) -> TwoGroupSize:
    """Sample size per group to detect a difference between two groups (two-sided test).

    For proportions ``p1`` and ``p2``:
    ``n = deff [z_a sqrt(2 pbar qbar) + z_b sqrt(p1 q1 + p2 q2)]^2 / (p1 - p2)^2``;
    for means with common ``sd`` and difference ``d``:
    ``n = deff 2 (z_a + z_b)^2 sd^2 / d^2``, with ``z_a`` the two-sided normal quantile of
    ``confidence_level`` and ``z_b = Phi^-1(power)``.

    References
    ----------
    Fleiss, J. L., Levin, B. & Paik, M. C. (2003). *Statistical Methods for Rates and
    Proportions*, 3rd ed., section 4.2. Lohr (2022), section 2.7.
    """
    if not 0 < power < 1:
        raise DesignError(f"power must lie strictly between 0 and 1, got {power!r}")
    _common(deff, response_rate, None, 1)
    za = _z(confidence_level)
    zb = float(ndtri(power))
    if type == "proportion":
        if p1 is None or p2 is None:
            raise DesignError("two proportions p1 and p2 are needed")
        if not (0 < p1 < 1 and 0 < p2 < 1) or p1 == p2:
            raise DesignError("p1 and p2 must be different and strictly between 0 and 1")
        pbar = (p1 + p2) / 2
        num = za * math.sqrt(2 * pbar * (1 - pbar)) + zb * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
        d = p1 - p2
        n = deff * num * num / (d * d)
    elif type == "mean":
        if difference is None or sd is None or not difference != 0 or not sd > 0:
            raise DesignError("a difference of means needs a non-zero difference and a positive sd")
        d = float(difference)
        n = deff * 2 * (za + zb) ** 2 * sd * sd / (d * d)
    else:
        raise DesignError(f"type must be 'proportion' or 'mean', got {type!r}")
    n_g = math.ceil(round(n, 9))
    return TwoGroupSize(
        n_per_group=n_g,
        n_to_contact_per_group=math.ceil(round(n_g / response_rate, 9)),
        power=float(power),
        level=float(confidence_level),
        difference=abs(d),
    )
