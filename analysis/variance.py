"""Design-based variance of estimated totals by Taylor linearisation.

This is R survey's ``svyrecvar`` → ``multistage`` → ``onestage`` → ``onestrat``
recursion, vectorised over many score variables and over all domains at once.

For every score column (the linearised estimate, "influence function" times weight) and
every domain, the variance is the sum over strata of

    scale_h * sum_i (z_hi - zbar_h)^2,   scale_h = f_h * n_h / (n_h - 1),  f_h = 1 - n_h/N_h

where ``z_hi`` are PSU totals of the scores and ``zbar_h`` their mean over *all* ``n_h``
PSUs of the stratum (PSUs without domain members count as zeros: that is what makes a
domain a subpopulation and not a subset). With an fpc, each later stage adds the same
sum within every sampled unit of the previous stage, multiplied by the sampling
fractions ``n/N`` of the enclosing units (Cochran 1977, §11.8; Särndal, Swensson and
Wretman 1992, §4.3). Without an fpc only the first stage counts (the with-replacement
"ultimate cluster" approximation).

Single-PSU strata follow R's ``survey.lonely.psu`` vocabulary; see
:meth:`analysis.design.SurveyDesign.create`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._data import unique_inverse
from .design import Stage, SurveyDesign
from .errors import DesignError, LonelyPSUError

__all__ = ["domain_variance", "domain_psu_counts", "score_covariance", "residualise",
           "ScoreFactor", "domain_score_factor"]

# materialise at most this many score values at once when residualising domain scores
_CHUNK = 1 << 23


def _group_starts(sorted_keys: np.ndarray) -> np.ndarray:
    if len(sorted_keys) == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.empty(len(sorted_keys), dtype=bool)
    change[0] = True
    np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=change[1:])
    return np.flatnonzero(change)


def _colsum(index: np.ndarray, M: np.ndarray, size: int) -> np.ndarray:
    """Sums of the rows of ``M`` by ``index``, column by column (Fortran-ordered result).

    ``np.bincount`` per column is several times faster than sorting the matrix and
    calling ``np.add.reduceat`` along its first axis.
    """
    out = np.empty((size, M.shape[1]), order="F")
    for j in range(M.shape[1]):
        out[:, j] = np.bincount(index, weights=M[:, j], minlength=size)
    return out


def domain_variance(
    design: SurveyDesign,
    scores: np.ndarray,
    present: np.ndarray,
    dom: np.ndarray,
    n_dom: int,
) -> np.ndarray:
    """Variance of the totals of ``scores`` within each domain.

    Parameters
    ----------
    design : SurveyDesign
    scores : (n, J) float
        Weighted linearised scores of J estimates; zero where a row does not take part.
        Fortran order (columns contiguous) is fastest.
    present : (n, J) bool
        Rows observed for each estimate (in the domain, not missing, in the design's
        subset). Presence decides which strata "exist" for an estimate, as the rows of a
        subset do in R: it matters for ``lonely_psu="fail"`` and ``"average"``.
    dom : (n,) int
        Domain code of each row, ``-1`` for rows in no domain.
    n_dom : int

    Returns
    -------
    (n_dom, J) float
        Variances; NaN where R gives NaN (``"average"`` with only single-PSU strata).

    Raises
    ------
    LonelyPSUError
        A stratum with one PSU is used by an estimate and ``lonely_psu="fail"``.
    """
    if design.replicates is not None:
        raise DesignError(
            "a replicate-weight design has no linearisation variance: use its replicate "
            "weights (design.replicate_weights, design.replicate_covariance)"
        )
    scores = np.asarray(scores, dtype=float)
    if scores.ndim == 1:
        scores = scores[:, None]
        present = present[:, None]
    if design.adjustments:
        return _calibrated_domain_variance(design, scores, dom, n_dom)
    # rows in no domain go to an extra domain, dropped at the end (their scores are 0)
    dom = np.where(dom < 0, n_dom, dom).astype(np.int64)
    out = np.zeros((n_dom + 1, scores.shape[1]))
    for s, stage in enumerate(design.stages):
        _add_stage(out, design.lonely_psu, s, stage, scores, present, dom, n_dom + 1)
    return out[:n_dom]


def residualise(design: SurveyDesign, scores: np.ndarray) -> np.ndarray:
    """Scores replaced by their calibration residuals (identity for uncalibrated designs).

    R's ``svyrecvar`` does this with ``design$postStrata`` before the stratified
    multistage variance: GREG residuals for ``calibrate``, post-stratum-centred scores for
    ``postStratify``, ten backfitting sweeps for ``rake`` (Särndal, Swensson and Wretman
    1992, §6.5; Lumley 2010, §7.3).
    """
    if not design.adjustments:
        return scores
    from .calibration import calibration_residuals

    return calibration_residuals(scores, design.adjustments)


def _calibrated_domain_variance(design, scores, dom, n_dom):
    """Domain variances of a calibrated design: each domain's scores are residualised.

    A domain score is zero outside the domain, but its calibration residual is not, so
    (as R, whose subsets of calibrated designs keep every row) the residual of every
    (domain, estimate) column goes through the variance of the full design, every row
    counting as present.
    """
    n, J = scores.shape
    out = np.empty((n_dom, J))
    all_rows = np.zeros(n, dtype=np.int64)
    per = max(1, _CHUNK // max(n * J, 1))
    for d0 in range(0, n_dom, per):
        ds = range(d0, min(n_dom, d0 + per))
        X = np.empty((n, len(ds) * J), order="F")
        for k, d in enumerate(ds):
            X[:, k * J:(k + 1) * J] = np.where((dom == d)[:, None], scores, 0.0)
        R = np.asfortranarray(residualise(design, X))
        P = np.ones(R.shape, dtype=bool, order="F")
        v = np.zeros((2, R.shape[1]))
        for s, stage in enumerate(design.stages):
            _add_stage(v, design.lonely_psu, s, stage, R, P, all_rows, 2)
        out[d0:d0 + len(ds)] = v[0].reshape(len(ds), J)
    return out


def score_covariance(design: SurveyDesign, scores: np.ndarray) -> np.ndarray:
    """Design-based covariance matrix of the totals of the columns of ``scores``.

    R's ``svyrecvar(scores, design$cluster, design$strata, design$fpc,
    postStrata = design$postStrata)``: the full (J, J) matrix, not only its diagonal, by
    the same ultimate-cluster / multistage recursion, finite population corrections and
    lonely-PSU rules as :func:`domain_variance`. A calibrated design first replaces the
    scores by their calibration residuals (:func:`residualise`), so regression, tests and
    any other linearised statistic get R's calibrated standard errors.

    Parameters
    ----------
    design : SurveyDesign
        A linearisation design (replicate designs: refit with
        ``design.replicate_weights`` and use ``design.replicate_covariance``).
    scores : (n,) or (n, J) float
        Weighted linearised scores (influence functions times weights), zero outside the
        design's active rows (its :meth:`~analysis.design.SurveyDesign.subset`).

    Returns
    -------
    (J, J) float

    Raises
    ------
    LonelyPSUError
        A stratum with one PSU holds active rows and ``lonely_psu="fail"``.
    """
    if design.replicates is not None:
        raise DesignError(
            "score_covariance is for linearisation designs; a replicate-weight design "
            "uses design.replicate_covariance on replicate estimates"
        )
    x = np.asarray(scores, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[0] != design.n_rows:
        raise DesignError(f"scores have {x.shape[0]} rows, the design has {design.n_rows}")
    if design.adjustments:
        x = residualise(design, x)
        present = np.ones(design.n_rows, dtype=bool)
    else:
        present = np.asarray(design.active, dtype=bool)
    J = x.shape[1]
    out = np.zeros((J, J))
    for s, stage in enumerate(design.stages):
        out += _stage_covariance(design.lonely_psu, s, stage, x, present)
    return out


def _stage_covariance(policy, s, stage: Stage, x, present) -> np.ndarray:
    """One stage of the recursion for a single domain holding every row (full matrix)."""
    n_cl = stage.n_clusters
    Z = _colsum(stage.cluster, x, n_cl)
    h = stage.cluster_stratum
    H = stage.n_strata
    nh = stage.n_psu.astype(float)
    # PSUs of a stratum all appear (every row is in the one domain)
    S = _colsum(h, Z, H)
    zbar = S / nh[:, None]
    dev = Z - zbar[h]
    # second pass, as R's mean()
    zbar = zbar + _colsum(h, dev, H) / nh[:, None]
    dev = Z - zbar[h]
    wgt, uncentred = _stage_weights(policy, s, stage, present)
    if uncentred.any():
        dev = np.where(uncentred[h][:, None], Z, dev)  # uncentred: the centred-score total
    return (dev * wgt[:, None]).T @ dev


def _stage_weights(policy, s, stage: Stage, present) -> tuple[np.ndarray, np.ndarray]:
    """Weight of each unit's centred total in one stage's variance, and the strata whose
    totals enter uncentred (``lonely_psu="adjust"``); raises for ``"fail"``.

    ``present`` (n,) marks the rows observed: strata without them do not exist for the
    lonely-PSU rules (R's subset).
    """
    n_cl = stage.n_clusters
    h = stage.cluster_stratum
    H = stage.n_strata
    sc = np.asarray(stage.scale, dtype=float)
    mult = stage.multiplier[h] if s > 0 else np.ones(n_cl)
    cert = stage.certainty[h]
    lonely_h = (stage.n_psu == 1) & ~stage.certainty
    wgt = np.where(cert, 0.0, sc * mult)
    uncentred = np.zeros(H, dtype=bool)
    if lonely_h.any():
        pres_cl = np.bincount(stage.cluster, weights=present.astype(float), minlength=n_cl) > 0
        pres_h = np.bincount(h, weights=pres_cl.astype(float), minlength=H) > 0
        if policy == "fail":
            bad = lonely_h & pres_h
            if bad.any():
                k = int(np.flatnonzero(bad)[0])
                raise LonelyPSUError(
                    f"Stratum ({stage.stratum_labels[k]}) has only one PSU at stage {s + 1}"
                )
        elif policy == "adjust":
            uncentred = lonely_h
        elif policy == "average":
            wgt = np.where(lonely_h[h], 0.0, wgt)
            parent = stage.stratum_parent
            n_par = int(parent.max(initial=0)) + 1
            nstrat = np.bincount(parent, weights=pres_h.astype(float), minlength=n_par)
            nok = np.bincount(parent, weights=(pres_h & ~lonely_h).astype(float),
                              minlength=n_par)
            with np.errstate(divide="ignore", invalid="ignore"):
                # a unit whose strata are all lonely: 0 * inf, R's NaN
                factor = np.where(nstrat > 0, nstrat / nok, 1.0)
                wgt = wgt * factor[parent[h]]
    return wgt, uncentred


def _add_stage(out, policy, s, stage: Stage, scores, present, dom, n_dom) -> None:
    n_cl = np.int64(stage.n_clusters)
    key = stage.cluster if n_dom == 1 else dom * n_cl + stage.cluster
    ukey, gid = unique_inverse(key, int(n_dom * n_cl))
    G = len(ukey)
    Z = _colsum(gid, scores, G)
    gd, gc = ukey // n_cl, ukey % n_cl
    if n_dom == 1:
        gd = np.zeros(G, dtype=np.int64)
    gh = stage.cluster_stratum[gc]
    n_strata = stage.n_strata
    dh = gd * np.int64(n_strata) + gh  # sorted: groups are ordered by (domain, stratum)
    starts2 = _group_starts(dh)
    K = len(starts2)
    counts = np.diff(np.append(starts2, G))
    kidx = np.repeat(np.arange(K), counts)
    kd = gd[starts2]
    kh = gh[starts2]
    nh = stage.n_psu[kh].astype(float)
    absent = nh - counts
    sc = stage.scale[gc]
    sc_all = np.bincount(stage.cluster_stratum, weights=stage.scale, minlength=n_strata)[kh]
    sc_here = np.bincount(kidx, weights=sc, minlength=K)
    sc_absent = np.where(counts == nh, 0.0, np.maximum(sc_all - sc_here, 0.0))
    J = Z.shape[1]
    S = np.empty((K, J))
    var_k = np.empty((K, J))
    # column by column: contiguous vectors, no (groups x estimates) temporaries
    for j in range(J):
        z = Z[:, j]
        s_j = np.bincount(kidx, weights=z, minlength=K)
        zbar = s_j / nh
        dev = z - zbar[kidx]
        # second pass, as R's mean(): identical PSU totals give exactly zero variance
        zbar = zbar + (np.bincount(kidx, weights=dev, minlength=K) - absent * zbar) / nh
        dev = z - zbar[kidx]
        dev *= dev
        dev *= sc
        var_k[:, j] = np.bincount(kidx, weights=dev, minlength=K) + sc_absent * zbar * zbar
        S[:, j] = s_j
    cert = stage.certainty[kh]
    if cert.any():
        var_k[cert] = 0.0
    lonely = (stage.n_psu[kh] == 1) & ~cert
    if lonely.any():
        Pg = _colsum(gid, present, G) > 0
        present_k = _colsum(kidx, Pg, K) > 0
        if policy == "fail":
            bad = lonely[:, None] & present_k
            if bad.any():
                k = int(np.flatnonzero(bad.any(axis=1))[0])
                raise LonelyPSUError(
                    f"Stratum ({stage.stratum_labels[kh[k]]}) has only one PSU at stage {s + 1}"
                )
        elif policy == "adjust":
            var_k[lonely] = sc_all[lonely, None] * S[lonely] ** 2
        elif policy == "average":
            var_k[lonely] = 0.0
            parent = stage.stratum_parent[kh]
            dp = kd * np.int64(parent.max() + 1) + parent
            starts3 = _group_starts(dp)
            nstrat = np.add.reduceat(present_k.astype(np.int64), starts3, axis=0)
            nok = np.add.reduceat((present_k & ~lonely[:, None]).astype(np.int64), starts3, axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                factor = np.where(nstrat > 0, nstrat / nok, 1.0)
            mult = stage.multiplier[kh]
            vdp = np.add.reduceat(var_k * mult[:, None], starts3, axis=0)
            with np.errstate(invalid="ignore"):
                vdp = vdp * factor
            np.add.at(out, kd[starts3], vdp)
            return
        # "remove" and "certainty": the centred single PSU contributes zero already
    contrib = var_k if s == 0 else var_k * stage.multiplier[kh][:, None]
    out += _colsum(kd, contrib, out.shape[0])


def domain_psu_counts(
    design: SurveyDesign, inset: np.ndarray, dom: np.ndarray, n_dom: int
) -> tuple[np.ndarray, np.ndarray]:
    """First-stage PSUs and strata having rows in ``inset`` (n, J), per domain.

    Used for the degrees of freedom of a domain, R's ``degf()`` on a subset.
    """
    stage = design.stages[0]
    keep = dom >= 0
    idx = np.flatnonzero(keep)
    cl = stage.cluster[idx]
    d = dom[idx]
    ins = inset[idx]
    key = d * np.int64(stage.n_clusters) + cl
    order = np.argsort(key, kind="stable")
    sk = key[order]
    starts = _group_starts(sk)
    J = inset.shape[1]
    if len(starts) == 0:
        return np.zeros((n_dom, J), np.int64), np.zeros((n_dom, J), np.int64)
    gk = sk[starts]
    gd, gc = gk // stage.n_clusters, gk % stage.n_clusters
    Pg = np.logical_or.reduceat(ins[order], starts, axis=0)
    psus = np.zeros((n_dom, J), np.int64)
    np.add.at(psus, gd, Pg.astype(np.int64))
    gh = stage.cluster_stratum[gc]
    dh = gd * np.int64(stage.n_strata) + gh
    s2 = _group_starts(dh)
    Ph = np.logical_or.reduceat(Pg, s2, axis=0)
    strata = np.zeros((n_dom, J), np.int64)
    np.add.at(strata, gd[s2], Ph.astype(np.int64))
    return psus, strata


# ---------------------------------------------------------------- many domain scores
@dataclass(frozen=True, eq=False)
class ScoreFactor:
    """The covariance of many domain scores in factored form.

    Every score (column) has, at each sampling unit of every stage (row), a centred unit
    total ``B[c, a]``, and the covariance is ``sum_c weight_c B[c, a] B[c, b]``. A domain's
    score is zero outside it, so ``B`` is stored sparsely: the units holding rows of the
    domain carry their deviation from the stratum mean (``matrix``), and the other units of
    a stratum the domain lies in share one value, minus that mean (``alpha``, per stratum
    and column). Where a domain holds most units of a stratum, the remaining units are
    stored explicitly in ``matrix`` instead (``alpha`` zero), which keeps the storage
    within twice the (domain, unit) totals and the zero variance of identical totals exact.

    Attributes
    ----------
    matrix : scipy.sparse.csc_matrix (units, m)
        The stored centred totals.
    rmat : scipy.sparse.csc_matrix (units, m)
        ``alpha`` of the unit's stratum at the stored entries of ``alpha`` blocks (zero
        elsewhere): what the implicit units' value is corrected by where a unit is stored.
    alpha : scipy.sparse.csc_matrix (strata of every stage, m)
    unit_stratum : (units,) int
        Stratum (row of ``alpha``) of every unit.
    weight : (units,) float
        ``f n / (n - 1)`` times the multiplier of the stage, lonely-PSU rules applied.
    basis, coef : (units, q) and (q, m) float, or None
        Calibrated designs: the centred unit totals of the calibration basis and each
        score's coefficients; ``B - basis @ coef`` is then the residuals' centred totals.
    defined : bool
        False where R gives NaN for every entry (``lonely_psu="average"`` when a unit's
        strata all have a single PSU).
    """

    matrix: Any
    rmat: Any
    alpha: Any
    unit_stratum: np.ndarray
    weight: np.ndarray
    basis: np.ndarray | None = None
    coef: np.ndarray | None = None
    defined: bool = True

    @property
    def n_columns(self) -> int:
        return int(self.matrix.shape[1])

    def combine(self, coefficients: Any) -> ScoreFactor:
        """The factor of linear combinations ``scores @ coefficients`` (an (m, m') matrix,
        dense or sparse) of columns sharing their units (one domain's scores)."""
        import scipy.sparse as sp

        c = sp.csc_matrix(coefficients)
        coef = None if self.coef is None else np.asarray((c.T @ self.coef.T).T)
        return dataclasses.replace(self, matrix=sp.csc_matrix(self.matrix @ c),
                                   rmat=sp.csc_matrix(self.rmat @ c),
                                   alpha=sp.csc_matrix(self.alpha @ c), coef=coef)

    @staticmethod
    def hstack(factors: Sequence[ScoreFactor]) -> ScoreFactor:
        """The columns of several factors of the same design side by side."""
        import scipy.sparse as sp

        first = factors[0]
        coef = None
        if first.basis is not None:
            coef = np.hstack([f.coef for f in factors])  # type: ignore[misc]
        return dataclasses.replace(
            first, matrix=sp.hstack([f.matrix for f in factors], format="csc"),
            rmat=sp.hstack([f.rmat for f in factors], format="csc"),
            alpha=sp.hstack([f.alpha for f in factors], format="csc"), coef=coef,
            defined=all(f.defined for f in factors))

    def _pieces(self, ix: np.ndarray):
        import scipy.sparse as sp

        X, R, A = self.matrix[:, ix], self.rmat[:, ix], self.alpha[:, ix]
        n_units, n_strata = len(self.weight), self.alpha.shape[0]
        P = sp.csr_matrix((self.weight, (np.arange(n_units), self.unit_stratum)),
                          shape=(n_units, n_strata))  # weighted unit -> stratum
        wh = np.bincount(self.unit_stratum, weights=self.weight, minlength=n_strata)
        return X, R, A, P, wh

    def covariance(self, columns: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """The (k, k) covariance of ``columns`` (all of them when ``None``)."""
        ix = (np.arange(self.n_columns) if columns is None
              else np.asarray(columns, dtype=np.int64).reshape(-1))
        if not self.defined:
            return np.full((len(ix), len(ix)), np.nan)
        if self.basis is not None:
            return self._dense_covariance(ix)
        X, R, A, P, wh = self._pieces(ix)
        w = self.weight[:, None]
        XW = X.multiply(w).tocsc()
        RW = R.multiply(w).tocsc()
        # B = X + Q with Q = P A - R: alpha on the implicit units of each stratum only
        t1 = XW.T @ X
        PX = P.T @ X
        t2 = PX.T @ A - XW.T @ R
        PR = P.T @ R
        t4 = A.T @ A.multiply(wh[:, None]).tocsc() - A.T @ PR - PR.T @ A + RW.T @ R
        return np.asarray((t1 + t2 + t2.T + t4).toarray())

    def variances(self) -> np.ndarray:
        """The diagonal of the covariance: the variance of every column."""
        if not self.defined:
            return np.full(self.n_columns, np.nan)
        if self.basis is not None:
            out = np.empty(self.n_columns)
            step = max(1, _CHUNK // max(len(self.weight), 1))
            for c0 in range(0, self.n_columns, step):
                ix = np.arange(c0, min(self.n_columns, c0 + step))
                for r0, r1 in self._row_chunks(len(ix)):
                    b = self._dense_rows(ix, r0, r1)
                    out[ix] = (0.0 if r0 == 0 else out[ix]) + self.weight[r0:r1] @ (b * b)
            return out
        X, R, A, P, wh = self._pieces(np.arange(self.n_columns))
        w = self.weight

        def colsum(m) -> np.ndarray:
            return np.asarray(m.sum(axis=0)).reshape(-1)

        d1 = np.asarray(X.multiply(X).T @ w).reshape(-1)
        d2 = colsum((P.T @ X).multiply(A)) - np.asarray(X.multiply(R).T @ w).reshape(-1)
        d4 = (np.asarray(A.multiply(A).T @ wh).reshape(-1) - 2 * colsum(A.multiply(P.T @ R))
              + np.asarray(R.multiply(R).T @ w).reshape(-1))
        return d1 + 2 * d2 + d4

    # calibrated designs: the residuals' totals are dense, so they are formed block by block
    def _row_chunks(self, k: int):
        n = len(self.weight)
        step = max(1, _CHUNK // max(k, 1))
        return [(r0, min(n, r0 + step)) for r0 in range(0, n, step)]

    def _dense_rows(self, ix: np.ndarray, r0: int, r1: int) -> np.ndarray:
        b = (self.matrix[r0:r1][:, ix].toarray() - self.rmat[r0:r1][:, ix].toarray()
             + self.alpha[:, ix].tocsr()[self.unit_stratum[r0:r1]].toarray())
        return b - self.basis[r0:r1] @ self.coef[:, ix]  # type: ignore[index]

    def _dense_covariance(self, ix: np.ndarray) -> np.ndarray:
        out = np.zeros((len(ix), len(ix)))
        for r0, r1 in self._row_chunks(len(ix)):
            b = self._dense_rows(ix, r0, r1)
            out += (b * self.weight[r0:r1, None]).T @ b
        return out


def domain_score_factor(design: SurveyDesign, scores: np.ndarray, dom: np.ndarray,
                        n_dom: int) -> ScoreFactor:
    """:func:`score_covariance` of many domain scores without an n x (domains x J) matrix.

    Column ``d J + j`` of the result stands for the score ``scores[:, j] * (dom == d)``
    (a domain is a subpopulation: its score is zero outside it and it keeps the full
    design). The covariance of any of these columns equals ``score_covariance`` of the
    matrix of all of them -- the same strata, PSU totals, two-pass centring, fpc, lonely-PSU
    rules (rows observed: the design's active rows, every row when calibrated) and
    calibration residuals -- but only the (domain, PSU) totals are stored, so the work and
    memory grow with n and those totals, not with n x domains.

    Parameters
    ----------
    design : SurveyDesign
        A linearisation design.
    scores : (n, J) float
        Weighted linearised scores, zero outside the design's active rows.
    dom : (n,) int
        Domain code ``0..n_dom-1`` of each row, ``-1`` for rows in no domain.
    n_dom : int

    Returns
    -------
    ScoreFactor
        With ``n_dom * J`` columns.

    Raises
    ------
    LonelyPSUError
        A stratum with one PSU has observed rows and ``lonely_psu="fail"``.
    """
    import scipy.sparse as sp

    if design.replicates is not None:
        raise DesignError("domain_score_factor is for linearisation designs")
    x = np.asarray(scores, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    dom = np.asarray(dom, dtype=np.int64)
    J = x.shape[1]
    calibrated = bool(design.adjustments)
    present = np.ones(design.n_rows, dtype=bool) if calibrated else design.active
    basis_cols = None
    coef = None
    if calibrated:
        from .calibration import calibration_residuals, domain_residual_parts

        adjs = design.adjustments
        parts, coefs = [], []
        for m, adj in enumerate(adjs):
            # the residual of a chain of steps: x - sum_m L_{>m}(F_m) c_m(x), each c_m
            # linear in the domain scores themselves
            basis_m, c_m = domain_residual_parts(x, dom, n_dom, adj)
            if m + 1 < len(adjs):
                basis_m = calibration_residuals(basis_m, adjs[m + 1:])
            parts.append(basis_m)
            coefs.append(c_m.transpose(1, 0, 2).reshape(c_m.shape[1], n_dom * J))
        basis_cols = np.hstack(parts)
        coef = np.vstack(coefs)
    ent: dict[str, list] = {k: [] for k in ("row", "col", "val", "rval", "arow", "acol",
                                             "aval", "weight", "stratum", "basis")}
    units = strata = 0
    for s, stage in enumerate(design.stages):
        wgt, uncentred = _stage_weights(design.lonely_psu, s, stage, present)
        t = _centred_domain_totals(stage, x, dom, n_dom, uncentred)
        cols = (t.domain[:, None] * J + np.arange(J)).reshape(-1)
        ent["row"].append(np.repeat(units + t.unit, J))
        ent["col"].append(cols)
        ent["val"].append(t.values.reshape(-1))
        ent["rval"].append(t.rvalues.reshape(-1))
        ent["arow"].append(np.repeat(strata + t.alpha_stratum, J))
        ent["acol"].append((t.alpha_domain[:, None] * J + np.arange(J)).reshape(-1))
        ent["aval"].append(t.alpha.reshape(-1))
        ent["weight"].append(wgt)
        ent["stratum"].append(strata + stage.cluster_stratum)
        if basis_cols is not None:
            tb = _centred_domain_totals(stage, basis_cols, np.zeros(design.n_rows, np.int64), 1,
                                        uncentred, keep_all=True)
            b = np.zeros((stage.n_clusters, basis_cols.shape[1]))
            b[tb.unit] = tb.values
            ent["basis"].append(b)
        units += stage.n_clusters
        strata += stage.n_strata
    weight = np.concatenate(ent["weight"])
    m = n_dom * J
    row, col = np.concatenate(ent["row"]), np.concatenate(ent["col"])
    matrix = sp.csc_matrix((np.concatenate(ent["val"]), (row, col)), shape=(units, m))
    # the same pattern as matrix (explicit zeros kept: csc from the same coordinates)
    rmat = sp.csc_matrix((np.concatenate(ent["rval"]), (row, col)), shape=(units, m))
    alpha = sp.csc_matrix((np.concatenate(ent["aval"]), (np.concatenate(ent["arow"]),
                                                          np.concatenate(ent["acol"]))),
                          shape=(strata, m))
    return ScoreFactor(matrix, rmat, alpha, np.concatenate(ent["stratum"]), weight,
                       np.vstack(ent["basis"]) if ent["basis"] else None, coef,
                       bool(np.all(np.isfinite(weight))))


@dataclass(frozen=True)
class _DomainTotals:
    """One stage's stored centred totals (entries), and the implicit units' values."""

    unit: np.ndarray  # (E,)
    domain: np.ndarray  # (E,)
    values: np.ndarray  # (E, J)
    rvalues: np.ndarray  # (E, J): alpha of the entry's (domain, stratum) block, or 0
    alpha_stratum: np.ndarray  # (Ka,)
    alpha_domain: np.ndarray  # (Ka,)
    alpha: np.ndarray  # (Ka, J): minus the mean, on the units not stored


def _centred_domain_totals(stage: Stage, x: np.ndarray, dom: np.ndarray, n_dom: int,
                           uncentred: np.ndarray, keep_all: bool = False) -> _DomainTotals:
    """Every unit's centred total of each domain's scores, in the strata the domain has rows.

    A unit without rows of the domain has total zero, so its centred total is minus the
    stratum mean: stored once per (domain, stratum) as ``alpha`` when such units are the
    majority of the stratum (else, or with ``keep_all``, stored unit by unit). The
    two-pass mean is R's (as :func:`_add_stage`).
    """
    n_cl = np.int64(stage.n_clusters)
    inside = np.flatnonzero(dom >= 0)
    key = dom[inside] * n_cl + stage.cluster[inside]
    ukey, gid = unique_inverse(key, int(n_dom * n_cl))
    G = len(ukey)
    Z = _colsum(gid, x[inside], G)
    gd, gc = ukey // n_cl, ukey % n_cl
    gh = stage.cluster_stratum[gc]
    starts = _group_starts(gd * np.int64(stage.n_strata) + gh)  # groups sorted by (d, h, unit)
    K = len(starts)
    counts = np.diff(np.append(starts, G))
    kidx = np.repeat(np.arange(K), counts)
    kd, kh = gd[starts], gh[starts]
    size = stage.n_psu[kh].astype(np.int64)
    nh = size.astype(float)
    absent = size - counts
    # implicit when most of the stratum's units are absent (never for uncentred strata)
    implicit = (absent > counts) & ~uncentred[kh] & (not keep_all)
    stored = np.where(implicit, counts, size)
    # the units of a stratum have consecutive codes, from first[h]
    first = np.cumsum(stage.n_psu) - stage.n_psu
    E = int(stored.sum())
    eoff = np.cumsum(stored) - stored
    eblock = np.repeat(np.arange(K), stored)
    rank = np.arange(E) - eoff[eblock]  # position among the block's stored entries
    # explicit blocks hold every unit (in unit order); implicit ones their present units
    unit = np.where(implicit[eblock], 0, first[kh][eblock] + rank)
    pos = np.where(implicit[kidx], eoff[kidx] + np.arange(G) - starts[kidx],
                   eoff[kidx] + gc - first[gh])
    unit[pos] = gc
    unc = uncentred[kh]
    J = Z.shape[1]
    values = np.empty((E, J))
    alpha = np.empty((K, J))
    for j in range(J):
        z = Z[:, j]
        zbar = np.bincount(kidx, weights=z, minlength=K) / nh
        dev = z - zbar[kidx]
        zbar = zbar + (np.bincount(kidx, weights=dev, minlength=K) - absent * zbar) / nh
        v = -zbar[eblock]
        v[pos] = z - zbar[kidx]
        if unc.any():
            # lonely_psu="adjust": the stratum's unit totals enter uncentred
            v[unc[eblock]] = 0.0
            sel = unc[kidx]
            v[pos[sel]] = z[sel]
        values[:, j] = v
        alpha[:, j] = -zbar
    rvalues = np.where(implicit[eblock][:, None], alpha[eblock], 0.0)
    return _DomainTotals(unit, kd[eblock], values, rvalues, kh[implicit], kd[implicit],
                         alpha[implicit])
