"""Replicate-weight factors and the replicate variance, as R's ``survey`` builds them.

Each function turns a design's first-stage structure (stratum and PSU of every unit, and
the first-stage population size for the jackknives) into a :class:`ReplicateFactors`: one
row of factors per PSU (PSUs in order of first appearance, as R's compressed
``repweights``), an index from units to PSUs, and R's ``scale`` and ``rscales``.  The
replicate weights are ``design weights × factors``; a replicate estimate recomputes the
statistic with each column of replicate weights and :func:`replicate_variance` combines them:
``scale · Σ_r rscales_r (θ_r − θ̄)²`` (``survey:::svrVar``).

* :func:`jk1_factors` -- ``as.svrepdesign(type = "JK1")`` (unstratified delete-one-PSU).
* :func:`jkn_factors` -- ``type = "JKn"`` (stratified delete-one-PSU, R's lonely-PSU rules).
* :func:`brr_factors` -- ``type = "BRR"`` and ``type = "Fay"`` (``rho``), with R's
  ``brrweights`` assignment of PSUs to half-samples and R's Hadamard matrix
  (:func:`analysis.hadamard.hadamard`), strata of more than two PSUs split into pairs.
* :func:`bootstrap_factors` -- the Rao-Wu rescaling bootstrap with ``m_h = n_h − 1``
  (R's ``type = "subbootstrap"``), seeded through a ``numpy.random.Generator``.  Random
  streams differ from R's, so only the distribution is comparable.

References
----------
Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed., chs. 3-5. Springer.
Rao, J. N. K. and Wu, C. F. J. (1988). Resampling inference with complex survey data.
*JASA* 83, 231-241.
Judkins, D. R. (1990). Fay's method for variance estimation. *J. Off. Stat.* 6, 223-239.
Lumley, T. (2010). *Complex Surveys*, §2.3. Wiley.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg

from .errors import AnalysisError
from .hadamard import hadamard

__all__ = [
    "REPLICATE_TYPES",
    "ReplicateError",
    "ReplicateFactors",
    "ReplicateWeights",
    "bootstrap_factors",
    "brr_factors",
    "jk1_factors",
    "jkn_factors",
    "replicate_degf",
    "replicate_variance",
    "supplied_replicates",
]

REPLICATE_TYPES = ("BRR", "Fay", "JK1", "JKn", "bootstrap", "other")

LONELY_PSU = ("fail", "remove", "certainty", "adjust", "average")


class ReplicateError(AnalysisError, ValueError):
    """Invalid input for replicate weights."""


def _frozen(a: np.ndarray, dtype=float) -> np.ndarray:
    a = np.asarray(a, dtype=dtype)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class ReplicateFactors:
    """Replicate factors of a design, compressed to PSUs as R's ``repweights_compressed``.

    Attributes
    ----------
    type : str
        ``"JK1"``, ``"JKn"``, ``"BRR"``, ``"Fay"`` or ``"bootstrap"``.
    psu_factors : ndarray (n_psu, R)
        Factor of each PSU (rows in order of first appearance) in each replicate.
    index : ndarray (n,)
        PSU row of each unit (0-based).
    scale : float
        Overall multiplier of the variance.
    rscales : ndarray (R,)
        Per-replicate multipliers.
    rho : float
        Fay's coefficient (0 for BRR and the others).
    mse : bool
        Centre the squared deviations on the full-sample estimate (``True``) or on the mean
        of the replicates (``False``, R's default ``survey.replicates.mse``).
    """

    type: str
    psu_factors: np.ndarray
    index: np.ndarray
    scale: float
    rscales: np.ndarray
    rho: float = 0.0
    mse: bool = False

    @property
    def replicates(self) -> int:
        return int(self.psu_factors.shape[1])

    def unit_factors(self) -> np.ndarray:
        """The (n, R) factor matrix (R's ``weights(rep_design, "replication")``)."""
        return self.psu_factors[self.index]

    def replicate_weights(self, weights: np.ndarray) -> np.ndarray:
        """Full replicate weights ``weights × factors`` (R's ``weights(, "analysis")``)."""
        w = np.asarray(weights, dtype=float)
        return w[:, None] * self.psu_factors[self.index]

    def variance(self, thetas: np.ndarray, theta_hat: np.ndarray | float) -> np.ndarray:
        """:func:`replicate_variance` with this design's scale, rscales and mse."""
        return replicate_variance(thetas, theta_hat, self.scale, self.rscales, mse=self.mse)

    def degf(self) -> int:
        """R's ``degf()`` of the replicate design: rank of the replicate weights minus one."""
        return replicate_degf(self.psu_factors)

    def replicate_totals(
        self,
        values: np.ndarray,
        weights: np.ndarray,
        domain: np.ndarray | None = None,
        n_domains: int = 1,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Full-sample and replicate weighted totals by domain, without n x R weights.

        A replicate weight is ``w_i f[psu_i, r]``, so a replicate total is
        ``Σ_psu f[psu, r] Σ_{i in psu, d} w_i y_i``: the PSU-by-domain totals are formed
        once (linear in n) and multiplied by the PSU factor matrix (one matrix product),
        which keeps a million rows with thousands of replicates in memory.

        Parameters
        ----------
        values : array (n,) or (n, k)
            Per-unit values (include a column of ones to get domain sizes for means).
        weights : array (n,)
            Full-sample weights.
        domain : array (n,) of int, optional
            Domain code ``0..n_domains-1`` of each unit (negative: in no domain); None =
            one domain holding every unit.

        Returns
        -------
        (full, reps) : arrays (n_domains, k) and (R, n_domains, k)
        """
        y = np.asarray(values, dtype=float)
        if y.ndim == 1:
            y = y[:, None]
        n, k = y.shape
        w = np.asarray(weights, dtype=float)
        if w.shape != (n,) or self.index.shape != (n,):
            raise ReplicateError("values, weights and the design must have the same rows")
        if domain is None:
            dom = np.zeros(n, dtype=np.int64)
            n_domains = 1
        else:
            dom = np.asarray(domain, dtype=np.int64)
        inside = dom >= 0
        npsu = self.psu_factors.shape[0]
        key = self.index.astype(np.int64) * n_domains + np.where(inside, dom, 0)
        t = np.empty((npsu * n_domains, k))
        wy = y * np.where(inside, w, 0.0)[:, None]
        for j in range(k):
            t[:, j] = np.bincount(key, weights=wy[:, j], minlength=npsu * n_domains)
        t = t.reshape(npsu, n_domains * k)
        full = t.sum(axis=0).reshape(n_domains, k)
        reps = (self.psu_factors.T @ t).reshape(self.replicates, n_domains, k)
        return full, reps

    def with_weights(self, weights: np.ndarray) -> ReplicateWeights:
        """The full replicate weights of a design with these sampling weights."""
        w = np.asarray(weights, dtype=float)
        return ReplicateWeights(
            type=self.type, weights=_frozen(w), replicate_weights=_frozen(
                self.replicate_weights(w)), scale=self.scale, rscales=self.rscales,
            rho=self.rho, mse=self.mse,
        )


@dataclass(frozen=True)
class ReplicateWeights:
    """A replicate-weight design's weights: what every replicate estimator needs.

    ``weights`` (n,) are the full-sample weights, ``replicate_weights`` (n, R) the weights
    of each replicate (R's ``weights(design, "analysis")``).  An estimator computes θ̂ with
    ``weights`` and θ_r with column r, then calls :meth:`variance` (``survey:::svrVar``).
    """

    type: str
    weights: np.ndarray
    replicate_weights: np.ndarray
    scale: float
    rscales: np.ndarray
    rho: float = 0.0
    mse: bool = False

    @property
    def replicates(self) -> int:
        return int(self.replicate_weights.shape[1])

    def variance(self, thetas: np.ndarray, theta_hat: np.ndarray | float) -> np.ndarray:
        """:func:`replicate_variance` with this design's scale, rscales and mse."""
        return replicate_variance(thetas, theta_hat, self.scale, self.rscales, mse=self.mse)

    def degf(self) -> int:
        """R's ``degf()``: ``qr(replicate weights, tol = 1e-5)$rank - 1``."""
        return replicate_degf(self.replicate_weights)


def supplied_replicates(
    replicate_weights: np.ndarray,
    weights: np.ndarray | None,
    *,
    type: str,
    combined_weights: bool = True,
    scale: float | None = None,
    rscales: Sequence[float] | float | None = None,
    rho: float | None = None,
    mse: bool = False,
) -> ReplicateWeights:
    """A design from user-supplied replicate weights, as R's ``svrepdesign``.

    Parameters
    ----------
    replicate_weights : array (n, R)
        Replicate weights (``combined_weights=True``: full weights, R's default) or
        replicate factors (``combined_weights=False``: multiplied by ``weights``).
    weights : array (n,) or None
        Full-sample weights (None: equal weights 1, as R with a warning).
    type : {"BRR", "Fay", "JK1", "JKn", "bootstrap", "other"}
        Determines R's defaults: BRR ``scale = 1/R`` (a given ``scale`` is ignored, as
        R does); Fay ``scale = 1/(R (1−rho)²)`` (``rho`` required); JK1 ``scale =
        (R−1)/R`` when not given (R's guess for combined weights; ``1/max`` of the first
        column of factors otherwise); JKn needs ``rscales`` for combined weights (else R's
        guess ``1/max`` of each column of factors); bootstrap ``scale = 1/(R−1)``; other
        ``scale = 1``.  ``rscales`` default to 1 (a single value is recycled).
    mse : bool
        Centre on the full-sample estimate (R's ``mse = TRUE``).

    Raises
    ------
    ReplicateError
        Missing values, negative weights, wrong ``rscales`` length, Fay without ``rho``,
        JKn combined weights without ``rscales``.
    """
    if type not in REPLICATE_TYPES:
        raise ReplicateError(f"type must be one of {', '.join(REPLICATE_TYPES)}, got {type!r}")
    rw = np.asarray(replicate_weights, dtype=float)
    if rw.ndim != 2 or rw.shape[1] < 2:
        raise ReplicateError("replicate weights must be an n x R matrix with R >= 2")
    if np.any(np.isnan(rw)):
        raise ReplicateError("missing values are not allowed in replicate weights")
    n, nrep = rw.shape
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ReplicateError(f"{w.size} weights for {n} rows of replicate weights")
    if np.any(np.isnan(w)):
        raise ReplicateError("missing values are not allowed in weights")
    if np.any(w < 0) or np.any(rw < 0):
        raise ReplicateError("weights must not be negative")
    if rscales is not None:
        rs_in = np.atleast_1d(np.asarray(rscales, dtype=float))
        if rs_in.size not in (1, nrep):
            raise ReplicateError(f"rscales has length {rs_in.size}, should be {nrep}")
    else:
        rs_in = None
    if type == "Fay" and rho is None:
        raise ReplicateError("with type 'Fay' you must supply rho")
    if type == "BRR":
        scale = 1.0 / nrep
    elif type == "Fay":
        if not 0 <= rho < 1:
            raise ReplicateError("Fay's rho must be in [0, 1)")
        scale = 1.0 / (nrep * (1.0 - rho) ** 2)
    elif type == "bootstrap":
        if scale is None:
            scale = 1.0 / (nrep - 1)
    elif type == "JK1" and scale is None:
        scale = (nrep - 1) / nrep if combined_weights else 1.0 / float(np.max(rw[:, 0]))
    if type == "JKn" and rs_in is None:
        if combined_weights:
            raise ReplicateError("rscales must be provided for combined JKn weights")
        rs_in = 1.0 / np.max(rw, axis=0)
    rs = np.ones(nrep) if rs_in is None else np.broadcast_to(rs_in, (nrep,)).astype(float)
    if scale is None:
        scale = 1.0
    full = rw if combined_weights else rw * w[:, None]
    return ReplicateWeights(
        type=type, weights=_frozen(w), replicate_weights=_frozen(full), scale=float(scale),
        rscales=_frozen(rs), rho=0.0 if rho is None else float(rho), mse=mse,
    )


def replicate_variance(
    thetas: np.ndarray,
    theta_hat: np.ndarray | float,
    scale: float,
    rscales: np.ndarray | Sequence[float],
    *,
    mse: bool = False,
) -> np.ndarray:
    """Replicate variance as ``survey:::svrVar``.

    Parameters
    ----------
    thetas : array (R,) or (R, k)
        The statistic computed with each replicate's weights.
    theta_hat : float or array (k,)
        Full-sample estimate (used as centre when ``mse=True``).
    scale, rscales : float, array (R,)
        ``v = scale · Σ_r rscales_r (θ_r − c)(θ_r − c)ᵀ``.
    mse : bool
        ``c = θ̂`` if True, else the mean of the replicates with ``rscales > 0``.

    Returns
    -------
    ndarray
        Variance (scalar array) for 1-D ``thetas``, (k, k) covariance for 2-D.  Replicates
        with a missing value are dropped, as R's ``na.action`` does.
    """
    t = np.asarray(thetas, dtype=float)
    rs = np.asarray(rscales, dtype=float)
    one_d = t.ndim == 1
    t2 = t[:, None] if one_d else t
    if t2.shape[0] != rs.shape[0]:
        raise ReplicateError(f"{t2.shape[0]} replicate estimates for {rs.shape[0]} rscales")
    ok = ~np.any(np.isnan(t2), axis=1)
    if not ok.any():
        raise ReplicateError("all replicates gave missing results")
    t2, rs = t2[ok], rs[ok]
    if mse:
        centre = np.broadcast_to(np.asarray(theta_hat, dtype=float), (t2.shape[1],))
    else:
        centre = t2[rs > 0].mean(axis=0)
    d = (t2 - centre) * np.sqrt(rs)[:, None]
    v = (d.T @ d) * scale
    return v[0, 0] if one_d else v


def replicate_degf(psu_factors: np.ndarray) -> int:
    """R's ``degf`` of a replicate design: ``qr(replicate weights, tol = 1e-5)$rank - 1``.

    Units of one PSU share their factor row, so the rank of the PSU-level factors equals the
    rank of R's n x R matrix of replicate weights (positive design weights).
    """
    f = np.asarray(psu_factors, dtype=float)
    if f.size == 0:
        return 0
    norms = np.sqrt((f * f).sum(axis=0))
    norms[norms == 0] = 1.0
    _, r, _ = scipy.linalg.qr(f / norms, mode="economic", pivoting=True)
    d = np.abs(np.diag(r))
    return int(np.sum(d > 1e-5 * d[0])) - 1 if d.size and d[0] > 0 else -1


# ------------------------------------------------------------------------ structure


def _structure(strata, psu):
    """First-appearance PSU order, PSU stratum, unit index; checks nesting."""
    psu = np.asarray(psu)
    n = psu.shape[0]
    if strata is None:
        strata = np.zeros(n, dtype=np.int64)
    strata = np.asarray(strata)
    if strata.shape[0] != n:
        raise ReplicateError(f"{strata.shape[0]} strata values for {n} PSU ids")
    if pd.isna(pd.Series(psu)).any() or pd.isna(pd.Series(strata)).any():
        raise ReplicateError("PSU ids and strata must not be missing")
    index, psu_u = pd.factorize(pd.Series(psu), sort=False)
    index = np.asarray(index, dtype=np.intp)
    # first occurrence of each PSU (factorize numbers PSUs in order of appearance)
    first = np.full(psu_u.size, n, dtype=np.intp)
    np.minimum.at(first, index, np.arange(n))
    psu_strata = strata[first]
    # every unit of a PSU must lie in the PSU's stratum
    if np.any(psu_strata[index] != strata):
        bad = psu[np.flatnonzero(psu_strata[index] != strata)[0]]
        raise ReplicateError(
            f"PSU {bad!r} appears in more than one stratum: PSU ids must be nested in strata"
        )
    return index, psu_strata, psu_u.size


def _fpc_units(fpc, index, fpctype):
    """The per-unit first-stage fpc column, checked (R takes each stratum's first value)."""
    if fpc is None:
        return None
    f = np.asarray(fpc, dtype=float)
    if f.shape[0] != index.shape[0]:
        raise ReplicateError(f"{f.shape[0]} fpc values for {index.shape[0]} units")
    if fpctype not in ("population", "fraction", "correction"):
        raise ReplicateError("fpctype must be population, fraction or correction")
    return f


def _jk1_block(n: int, fpc_value: float | None, fpctype: str):
    """survey:::jk1weights for one group of n PSUs: (factor block, scale)."""
    if fpc_value is None:
        f = 1.0
    else:
        if fpc_value < 0:
            raise ReplicateError("negative finite population correction")
        if fpctype == "population" and fpc_value < n:
            raise ReplicateError(
                f"population size {fpc_value:g} smaller than the sample size {n}"
            )
        f = {"population": lambda v: (v - n) / v, "fraction": lambda v: 1 - v,
             "correction": lambda v: v}[fpctype](fpc_value)
    if f == 0:
        # survey.drop.replicates: a census stratum contributes no replicate
        return np.empty((n, 0)), 0.0
    with np.errstate(divide="ignore"):
        block = np.full((n, n), n / (n - 1) if n > 1 else np.inf)
    np.fill_diagonal(block, 0.0)
    return block, f * (n - 1) / n


def jk1_factors(
    psu: np.ndarray,
    fpc: np.ndarray | None = None,
    *,
    fpctype: str = "population",
    mse: bool = False,
) -> ReplicateFactors:
    """Delete-one-PSU jackknife of an unstratified design (``as.svrepdesign(type="JK1")``).

    Replicate r drops PSU r (factor 0) and multiplies the others by ``n/(n−1)``;
    ``scale = (1 − f)(n − 1)/n`` with ``f = n/N`` when the first-stage population size
    ``fpc`` (one value, per unit) is given, ``rscales = 1``.
    """
    index, _, npsu = _structure(None, psu)
    fpc_value = None
    if fpc is not None:
        vals = np.unique(np.asarray(fpc, dtype=float))
        if vals.size > 1:
            raise ReplicateError("more than one fpc value given for an unstratified design")
        fpc_value = float(vals[0])
    if npsu < 2:
        raise ReplicateError("JK1 needs at least two PSUs")
    block, scale = _jk1_block(npsu, fpc_value, fpctype)
    return ReplicateFactors(
        type="JK1", psu_factors=_frozen(block), index=_frozen(index, np.intp),
        scale=float(scale), rscales=_frozen(np.ones(block.shape[1])), mse=mse,
    )


def jkn_factors(
    strata: np.ndarray,
    psu: np.ndarray,
    fpc: np.ndarray | None = None,
    *,
    fpctype: str = "population",
    lonely_psu: str = "fail",
    mse: bool = False,
) -> ReplicateFactors:
    """Stratified delete-one-PSU jackknife (``as.svrepdesign(type="JKn")``, ``jknweights``).

    Strata in order of first appearance, PSUs within them likewise; replicate (h, j) drops
    PSU j of stratum h and multiplies the other PSUs of h by ``n_h/(n_h−1)``;
    ``rscales_hj = (1 − f_h)(n_h − 1)/n_h``, ``scale = 1``.  Census strata (``f_h = 1``)
    give no replicate.  Single-PSU strata follow R's ``survey.lonely.psu``: ``fail``
    raises; ``remove``/``certainty`` drop them; ``average`` drops them and multiplies
    ``scale`` by ``n_psu / n_replicates``; ``adjust`` adds a replicate zeroing the stratum
    and multiplying all other PSUs by ``H/(H−1)`` with ``rscales = (H−1)/H``.
    """
    if lonely_psu not in LONELY_PSU:
        raise ReplicateError(f"lonely_psu must be one of {', '.join(LONELY_PSU)}")
    strata = np.asarray(strata)
    index, psu_strata, npsu = _structure(strata, psu)
    fpc_units = _fpc_units(fpc, index, fpctype)
    s_codes, s_levels = pd.factorize(pd.Series(strata), sort=False)
    first = np.full(npsu, index.size, dtype=np.intp)
    np.minimum.at(first, index, np.arange(index.size))
    psu_s = np.asarray(s_codes)[first]
    nstrat = len(s_levels)
    cols: list[np.ndarray] = []
    rscales: list[float] = []
    for h in range(nstrat):
        in_h = np.flatnonzero(psu_s == h)
        nh = in_h.size
        fpc_value = None
        if fpc_units is not None:
            fpc_value = float(fpc_units[np.flatnonzero(np.asarray(s_codes) == h)[0]])
        block, sc = _jk1_block(nh, fpc_value, fpctype)
        nc = block.shape[1]
        if nc == 1:
            if lonely_psu == "fail":
                raise ReplicateError(f"stratum {s_levels[h]!r} has only one PSU")
            if lonely_psu in ("remove", "certainty", "average"):
                continue
            col = np.where(psu_s == h, 0.0, nstrat / (nstrat - 1))
            cols.append(col)
            rscales.append((nstrat - 1) / nstrat)
            continue
        for j in range(nc):
            col = np.ones(npsu)
            col[in_h] = block[:, j]
            cols.append(col)
            rscales.append(sc)
    if not cols:
        raise ReplicateError("all strata were exhaustively sampled: you have the whole population")
    scale = 1.0
    if len(cols) < npsu and lonely_psu == "average":
        scale = npsu / len(cols)
    return ReplicateFactors(
        type="JKn", psu_factors=_frozen(np.column_stack(cols)), index=_frozen(index, np.intp),
        scale=scale, rscales=_frozen(rscales), mse=mse,
    )


def brr_factors(
    strata: np.ndarray,
    psu: np.ndarray,
    *,
    rho: float = 0.0,
    mse: bool = False,
) -> ReplicateFactors:
    """Balanced repeated replication / Fay's method (``as.svrepdesign(type="BRR"|"Fay")``).

    As R's ``brrweights`` (``small = "fail"``, ``large = "split"``): strata must have at
    least two PSUs; a stratum with an even number 2k > 2 of PSUs is split into k pseudo-
    strata of consecutive pairs (in order of first appearance).  Pseudo-strata from split
    strata are numbered first, then the two-PSU strata in sorted order of the stratum
    label; half-sample h uses row h + 1 of ``hadamard(H)`` (H pseudo-strata), one replicate
    per column.  In a replicate the selected PSU gets ``2 − rho`` and the other ``rho``;
    ``scale = 1 / (R (1 − rho)²)``, ``rscales = 1``.  Finite population corrections are not
    used (R drops them with a warning).
    """
    if not 0.0 <= rho < 1.0:
        raise ReplicateError("Fay's rho must be in [0, 1)")
    strata = np.asarray(strata)
    index, psu_strata, npsu = _structure(strata, psu)
    labels = np.array([str(s) for s in psu_strata], dtype=object)
    uniq, counts = np.unique(labels, return_counts=True)  # sorted, as R's table()
    ssize = dict(zip(uniq, counts, strict=True))
    if any(c < 2 for c in counts):
        small = [u for u, c in ssize.items() if c < 2]
        raise ReplicateError(f"some strata have fewer than 2 PSUs: {', '.join(small)}")
    if any(c > 2 and c % 2 == 1 for c in counts):
        odd = [u for u, c in ssize.items() if c > 2 and c % 2 == 1]
        raise ReplicateError(
            f"can't split strata with an odd number of PSUs into pairs: {', '.join(odd)}"
        )
    # R: oo <- order(sunq, match) -- by stratum label, then first appearance.
    oo = sorted(range(npsu), key=lambda j: (labels[j], j))
    first_col = np.zeros(npsu)
    halfsample = np.zeros(npsu, dtype=np.intp)
    upto = 0
    pos_in_stratum: dict[str, int] = {}
    for j in oo:
        k = pos_in_stratum.get(labels[j], 0)
        pos_in_stratum[labels[j]] = k + 1
        first_col[j] = k % 2
    large = [u for u in uniq if ssize[u] > 2]
    for u in large:
        members = [j for j in oo if labels[j] == u]
        for k, j in enumerate(members):
            halfsample[j] = upto + k // 2 + 1
        upto += ssize[u] // 2
    good = [u for u in uniq if ssize[u] == 2]
    good_rank = {u: i for i, u in enumerate(good)}
    for j in range(npsu):
        if ssize[labels[j]] == 2:
            halfsample[j] = upto + good_rank[labels[j]] + 1
    upto += len(good)
    h = hadamard(upto)
    sel = h[halfsample, :]  # row 1 + halfsample (1-based) = halfsample (0-based)
    # col 1 of R's weights when H = 0, col 2 (= 1 - col 1) when H = 1
    wa = np.where(sel == 0, first_col[:, None], 1.0 - first_col[:, None])
    factors = wa * (2.0 - rho) + (1.0 - wa) * rho
    nrep = factors.shape[1]
    return ReplicateFactors(
        type="BRR" if rho == 0 else "Fay", psu_factors=_frozen(factors),
        index=_frozen(index, np.intp), scale=1.0 / (nrep * (1.0 - rho) ** 2),
        rscales=_frozen(np.ones(nrep)), rho=float(rho), mse=mse,
    )


def bootstrap_factors(
    strata: np.ndarray | None,
    psu: np.ndarray,
    *,
    replicates: int = 50,
    rng: np.random.Generator,
    mse: bool = False,
) -> ReplicateFactors:
    """Rao-Wu rescaling bootstrap with ``m_h = n_h − 1`` (R's ``type = "subbootstrap"``).

    In each replicate and stratum, ``n_h − 1`` PSUs are drawn with replacement from the
    ``n_h`` sampled; a PSU drawn ``c`` times gets the factor ``c · n_h/(n_h − 1)``.
    ``scale = 1/(R − 1)``, ``rscales = 1`` (Rao & Wu 1988; Rao, Wu & Yue 1992).  The draws
    come from ``rng``, so a seed reproduces them (R's random stream is different).
    """
    if replicates < 2:
        raise ReplicateError("the bootstrap needs at least 2 replicates")
    if not isinstance(rng, np.random.Generator):
        raise ReplicateError("rng must be a numpy.random.Generator")
    index, psu_strata, npsu = _structure(strata, psu)
    s_codes, s_levels = pd.factorize(pd.Series(psu_strata), sort=False)
    s_codes = np.asarray(s_codes)
    factors = np.empty((npsu, replicates))
    for h in range(len(s_levels)):
        members = np.flatnonzero(s_codes == h)
        nh = members.size
        if nh < 2:
            raise ReplicateError(
                f"stratum {s_levels[h]!r} has only one PSU: the Rao-Wu bootstrap needs two"
            )
        counts = rng.multinomial(nh - 1, np.full(nh, 1.0 / nh), size=replicates)
        factors[members, :] = counts.T * (nh / (nh - 1))
    return ReplicateFactors(
        type="bootstrap", psu_factors=_frozen(factors), index=_frozen(index, np.intp),
        scale=1.0 / (replicates - 1), rscales=_frozen(np.ones(replicates)), mse=mse,
    )
