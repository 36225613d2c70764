"""The survey design: one frozen object built like R's ``survey::svydesign``.

A :class:`SurveyDesign` holds everything design-based variance needs — the cluster ids of
every sampling stage, the strata, the sampling weights and the finite population
corrections — validated once, with messages as specific as ``svydesign``'s. Estimator
functions (:mod:`analysis.estimators`) take the design and return frozen results.

Domains are subpopulations, never subsets of the data. ``design.subset(mask)`` keeps
every PSU of the design and gives the units outside the domain no weight, as R does.
R's domain vignette (``vignette("domain", package="survey")``) explains why: dropping the
rows would change the number of PSUs per stratum and the standard errors would be wrong.

Weighting and replicate weights (part 2) return new designs, never mutate:

* ``design.calibrate(totals, method, bounds=, trim=, maxit=, epsilon=)``,
  ``design.poststratify(totals)``, ``design.rake(totals)`` -- R's ``calibrate``,
  ``postStratify``, ``rake``. The new design's ``adjustments`` (a tuple of
  :class:`~analysis.calibration.CalibrationAdjustment`, R's ``design$postStrata``) make
  every linearisation variance use the calibration residuals; ``calibration`` holds the
  last :class:`~analysis.calibration.CalibrationResult` (``converged``, diagnostics).
* ``design.as_replicate(type, rho=, replicates=, seed=)`` -- R's ``as.svrepdesign``;
  ``SurveyDesign.from_replicate_weights(data, repweights=, weights=, type=, scale=,
  rscales=, rho=, mse=)`` -- R's ``svrepdesign`` with full replicate weights.

The interface other statistics build on:

* :func:`analysis.variance.score_covariance` ``(design, scores) -> (J, J)``: R's
  ``svyrecvar`` for a linearisation design (calibration residuals included);
* ``design.is_replicate``; ``design.replicate_weights``: ``(n, R)`` replicate weights
  (zero outside a subset), ``None`` for a linearisation design;
  ``design.replicate_covariance(thetas (R, J), theta_full (J,)) -> (J, J)``: R's
  ``svrVar`` with the design's ``scale``, ``rscales`` and ``mse``;
  ``design.degf()``: R's ``degf`` (rank of the replicate weights minus one for a
  replicate design).
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._data import (
    as_list,
    factorize,
    format_value,
    is_missing,
    is_numeric,
    resolve,
    unique_inverse,
)
from .errors import AnalysisWarning, DesignError

__all__ = ["SurveyDesign", "Stage", "Replicates", "LONELY_PSU"]

#: The vocabulary of R's ``options(survey.lonely.psu=)``.
LONELY_PSU = ("fail", "remove", "certainty", "adjust", "average")

# R's onestrat treats a stratum whose every sampling fraction is within 1e-7 of 1 as
# self-representing (it contributes no variance).
_CERTAINTY_TOL = 1e-7


@dataclass(frozen=True, eq=False)
class Stage:
    """The sampling units of one stage, in the form the variance recursion uses.

    Attributes
    ----------
    cluster : (n,) int64
        Code of each row's sampling unit at this stage (``0 .. n_clusters-1``); codes are
        ordered by stratum, so the units of a stratum are consecutive.
    cluster_stratum : (n_clusters,) int64
        Stratum code of each unit.
    n_psu : (n_strata,) int64
        Number of units sampled in each stratum (R's ``fpc$sampsize``).
    popsize : (n_clusters,) float or None
        Population size of each unit's stratum (R's ``fpc$popsize``), ``None`` without fpc.
    scale : (n_clusters,) float
        ``f * n / (n - 1)`` (or ``f`` for a single unit) with ``f = 1 - n / N``.
    certainty : (n_strata,) bool
        Strata sampled with fraction one: no variance contribution.
    stratum_parent : (n_strata,) int64
        Unit of the previous stage each stratum lies in (all zero at the first stage).
    multiplier : (n_strata,) float
        Product of the sampling fractions ``n/N`` of the enclosing units of earlier stages.
    stratum_labels : (n_strata,) str
        Labels used in messages, as R prints them.
    """

    cluster: np.ndarray
    cluster_stratum: np.ndarray
    n_psu: np.ndarray
    popsize: np.ndarray | None
    scale: np.ndarray
    certainty: np.ndarray
    stratum_parent: np.ndarray
    multiplier: np.ndarray
    stratum_labels: np.ndarray

    @property
    def n_clusters(self) -> int:
        return len(self.cluster_stratum)

    @property
    def n_strata(self) -> int:
        return len(self.n_psu)


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _interact(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Codes of the pairs (a, b), ordered by a then b."""
    nb = int(b.max(initial=0)) + 1
    key = a.astype(np.int64) * nb + b
    _, inv = unique_inverse(key, (int(a.max(initial=0)) + 1) * nb)
    return inv.astype(np.int64)


def _numeric(col, role: str, rname: str) -> np.ndarray:
    v = col.values
    if not is_numeric(v):
        try:
            v = v.astype(float)
        except (TypeError, ValueError):
            raise DesignError(f"{role} must be numeric: column {col.name!r} is not") from None
    v = v.astype(float)
    miss = np.isnan(v)
    if miss.any():
        row = int(np.flatnonzero(miss)[0])
        raise DesignError(f"missing values in `{rname}' (column {col.name!r}, row {row + 1})")
    return v


@dataclass(frozen=True, eq=False)
class Replicates:
    """The replicate weights of a replicate-weight design (R's ``svyrep.design``).

    Attributes
    ----------
    type : str
        ``"JK1"``, ``"JKn"``, ``"BRR"``, ``"Fay"``, ``"bootstrap"`` or ``"other"``.
    scale : float
    rscales : (R,) float
        The variance is ``scale * sum_r rscales_r (theta_r - c)(theta_r - c)'`` with ``c``
        the full-sample estimate (``mse=True``) or the mean of the replicates (R's
        ``survey:::svrVar``).
    mse : bool
    rho : float
        Fay's coefficient (0 otherwise).
    factors : ReplicateFactors or None
        PSU-compressed replicate factors of a design converted by
        :meth:`SurveyDesign.as_replicate` (replicate weight = weight x factor); ``None``
        when the full replicate weights are stored instead.
    weights : (n, R) float or None
        Full replicate weights (user-supplied, or after calibration).
    """

    type: str
    scale: float
    rscales: np.ndarray
    mse: bool = False
    rho: float = 0.0
    factors: Any = None
    weights: np.ndarray | None = None

    @property
    def n_replicates(self) -> int:
        if self.weights is not None:
            return int(self.weights.shape[1])
        return int(self.factors.replicates)

    def full_weights(self, sampling_weights: np.ndarray) -> np.ndarray:
        """(n, R) replicate weights."""
        if self.weights is not None:
            return self.weights
        return self.factors.replicate_weights(sampling_weights)

    def variance(self, thetas: np.ndarray, theta_full: np.ndarray) -> np.ndarray:
        """``survey:::svrVar`` of (R, J) replicate estimates: a (J, J) matrix."""
        from .replicates import replicate_variance

        t = np.asarray(thetas, dtype=float)
        if t.ndim == 1:
            t = t[:, None]
        return np.atleast_2d(replicate_variance(
            t, np.asarray(theta_full, dtype=float).reshape(-1), self.scale, self.rscales,
            mse=self.mse))


@dataclass(frozen=True, eq=False)
class SurveyDesign:
    """A probability sample design for Taylor-linearisation (ultimate cluster) variance.

    Build it with :meth:`SurveyDesign.create`, whose arguments mirror ``svydesign``. The
    object is immutable; :meth:`subset` and :meth:`update` return new designs.

    Attributes
    ----------
    weights : (n,) float
        Sampling weights ``1 / prob`` (zero outside a :meth:`subset`).
    stages : tuple of Stage
        The first stage always; later stages only when the fpc makes them matter (R's
        recursion adds a later stage's variance only when fpc is given).
    n_stages : int
        Number of stages declared in ``ids``.
    has_strata, has_fpc, nest : bool
    lonely_psu : str
        One of :data:`LONELY_PSU`; see :meth:`create`.
    active : (n,) bool
        Rows in the (sub)population the design describes.
    data : object or None
        The data frame the design was declared on; estimators look columns up in it.
    """

    weights: np.ndarray
    stages: tuple[Stage, ...]
    n_stages: int
    has_strata: bool
    has_fpc: bool
    nest: bool
    lonely_psu: str
    active: np.ndarray
    data: Any = field(default=None, repr=False)
    strata_codes: np.ndarray | None = field(default=None, repr=False)
    adjustments: tuple[Any, ...] = field(default=(), repr=False)
    calibration: Any = field(default=None, repr=False)
    replicates: Replicates | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(
        cls,
        data: Any = None,
        *,
        ids: Any = None,
        strata: Any = None,
        weights: Any = None,
        probs: Any = None,
        fpc: Any = None,
        nest: bool = False,
        check_strata: bool | None = None,
        lonely_psu: str = "fail",
    ) -> SurveyDesign:
        """Declare a survey design, as ``survey::svydesign`` does.

        Parameters
        ----------
        data : DataFrame, dict of arrays, or None
            Where column names are looked up (R's ``data=``).
        ids : column name, array, or a list of them (one per stage); ``None`` or ``"1"``
            Cluster ids of each sampling stage (R's ``ids = ~A + B``). ``None``/``"1"``
            means no clustering: every row is its own PSU.
        strata : column name or array, optional
            First-stage strata. Later stages are stratified by the enclosing unit.
        weights : column name or array, optional
            Sampling weights. Must be non-negative; exclusive with ``probs``.
        probs : column name, array, or list per stage, optional
            Selection probabilities; the weight is ``1 / prod(probs)``.
        fpc : column name, array, or list per stage, optional
            Finite population correction for every stage: population sizes, or sampling
            fractions when all values are at most 1. Without weights or probs the weights
            are derived from it (``prod(N_i / n_i)``). Without fpc the design is the
            with-replacement approximation and only the first stage matters.
        nest : bool
            Cluster ids are only unique within strata (R's ``nest=TRUE``).
        check_strata : bool, optional
            Check that clusters are nested in strata; defaults to ``not nest``.
        lonely_psu : {"fail", "remove", "certainty", "adjust", "average"}
            What a stratum with one PSU contributes, with the meaning of R's
            ``survey.lonely.psu``: ``fail`` raises :class:`~analysis.errors.LonelyPSUError`
            when an estimate uses the stratum; ``remove`` and ``certainty`` make it
            contribute nothing; ``adjust`` centres its PSU total at the overall mean
            (the total of the already-centred scores); ``average`` replaces its
            contribution by the average of the other strata.

        Raises
        ------
        DesignError
            With the messages of ``svydesign`` where it has one.

        References
        ----------
        Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.
        Cochran, W. G. (1977). *Sampling Techniques*, 3rd ed., ch. 10–11.
        """
        if lonely_psu not in LONELY_PSU:
            raise DesignError(
                f"lonely_psu must be one of {', '.join(LONELY_PSU)}; got {lonely_psu!r}"
            )
        n = _n_rows(data, ids, strata, weights, probs, fpc)

        # ids: one column per stage, "1" meaning no clustering
        id_specs = as_list(ids)
        if not id_specs or (len(id_specs) == 1 and _is_one(id_specs[0])):
            id_codes = [np.arange(n, dtype=np.int64)]
            id_labels = [None]
        else:
            id_codes, id_labels = [], []
            for i, spec in enumerate(id_specs):
                if _is_one(spec):
                    raise DesignError(
                        "ids: '1' (no clustering) cannot be combined with other stages"
                    )
                col = resolve(spec, data, n, "ids", i)
                miss = is_missing(col.values)
                if miss.any():
                    row = int(np.flatnonzero(miss)[0])
                    raise DesignError(
                        f"missing values in `id' (column {col.name!r}, row {row + 1})"
                    )
                codes, labels = factorize(col.values, miss)
                id_codes.append(codes)
                id_labels.append(labels)
        n_stages = len(id_codes)

        prob_cols = [resolve(p, data, n, "probs", i) for i, p in enumerate(as_list(probs))]
        prob_vals = [_numeric(c, "probs", "prob") for c in prob_cols]
        w_given = None
        if weights is not None:
            wcol = resolve(weights, data, n, "weights")
            w_given = _numeric(wcol, "weights", "weights")
            if prob_vals:
                raise DesignError("Can't specify both sampling weights and probabilities")
            if np.any(w_given < 0):
                row = int(np.flatnonzero(w_given < 0)[0])
                raise DesignError(
                    f"weights must be non-negative: column {wcol.name!r} has "
                    f"{w_given[row]:g} in row {row + 1}"
                )
            if not np.all(np.isfinite(w_given)):
                row = int(np.flatnonzero(~np.isfinite(w_given))[0])
                raise DesignError(f"weights must be finite: column {wcol.name!r}, row {row + 1}")
        for c, p in zip(prob_cols, prob_vals, strict=True):
            if np.any(~(p > 0)):
                row = int(np.flatnonzero(~(p > 0))[0])
                raise DesignError(
                    f"probabilities must be positive: column {c.name!r} has {p[row]:g} "
                    f"in row {row + 1}"
                )

        has_strata = strata is not None
        if has_strata:
            scol = resolve(strata, data, n, "strata")
            smiss = is_missing(scol.values)
            if smiss.any():
                row = int(np.flatnonzero(smiss)[0])
                raise DesignError(
                    f"missing values in `strata' (column {scol.name!r}, row {row + 1})"
                )
            strata_codes, strata_labels = factorize(scol.values, smiss)
        else:
            strata_codes = np.zeros(n, dtype=np.int64)
            strata_labels = np.array(["1"])

        fpc_cols = [resolve(f, data, n, "fpc", i) for i, f in enumerate(as_list(fpc))]
        fpc_vals = [_numeric(c, "fpc", "fpc") for c in fpc_cols]
        if fpc_vals and len(fpc_vals) != n_stages:
            raise DesignError(
                f"fpc must be given for every sampling stage: ids has {n_stages} "
                f"stage{'s' if n_stages > 1 else ''}, fpc has {len(fpc_vals)}"
            )

        if id_codes[0].min(initial=0) == id_codes[0].max(initial=0) and not (nest and has_strata):
            raise DesignError("Design has only one primary sampling unit")

        # Later-stage ids are unique within the enclosing units (R: interaction(ids[,1:i])).
        for i in range(1, n_stages):
            id_codes[i] = _interact(id_codes[i - 1], id_codes[i])
        if nest and has_strata:
            id_codes = [_interact(strata_codes, c) for c in id_codes]
        if check_strata is None:
            check_strata = not nest
        if check_strata and has_strata:
            ns = int(strata_codes.max()) + 1
            pairs, _ = unique_inverse(id_codes[0] * ns + strata_codes,
                                      (int(id_codes[0].max()) + 1) * ns)
            per_cluster = np.bincount(pairs // ns)
            if np.any(per_cluster > 1):
                raise DesignError(
                    "Clusters not nested in strata at top level; you may want nest=TRUE."
                )

        want_stages = n_stages if fpc_vals else 1
        stages: list[Stage] = []
        sampsize_rows: list[np.ndarray] = []
        popsize_rows: list[np.ndarray] = []
        # popsize from fpc (R's as.fpc)
        if fpc_vals:
            allf = np.concatenate(fpc_vals)
            ispopsize = bool(np.any(allf > 1))
            if ispopsize != bool(np.all(allf >= 1)):
                raise DesignError("Must have all fpc>=1 or all fpc<=1")
        stratum_rows = strata_codes
        stratum_lab = np.array([format_value(v) for v in strata_labels], dtype=object)
        prev: Stage | None = None
        prev_cluster_labels: np.ndarray | None = None
        for s in range(want_stages):
            if s > 0:
                # stage-s strata are the units of stage s-1
                stratum_rows = prev.cluster  # type: ignore[union-attr]
                stratum_lab = prev_cluster_labels  # type: ignore[assignment]
            cluster = _interact(stratum_rows, id_codes[s])
            first = _first_index(cluster, int(cluster.max(initial=-1)) + 1)
            cl_stratum = stratum_rows[first]
            n_h = np.bincount(cl_stratum, minlength=len(stratum_lab)).astype(np.int64)
            samp_row = n_h[stratum_rows].astype(float)
            sampsize_rows.append(samp_row)
            pop_cl = None
            if fpc_vals:
                v = fpc_vals[s]
                pop_row = v if ispopsize else samp_row / v
                bad = pop_row < samp_row
                if np.any(bad):
                    row = int(np.flatnonzero(bad)[0])
                    raise DesignError(
                        f"FPC implies >100% sampling in some strata (row {row + 1}, stage "
                        f"{s + 1}: popsize={pop_row[row]:g}, sampsize={samp_row[row]:g})"
                    )
                if not ispopsize and np.any(np.isfinite(pop_row) & (pop_row > 1e10)):
                    row = int(np.flatnonzero(np.isfinite(pop_row) & (pop_row > 1e10))[0])
                    warnings.warn(
                        f"FPC implies population larger than ten billion (record {row + 1} "
                        f"stage {s + 1})",
                        AnalysisWarning,
                        stacklevel=2,
                    )
                order = np.lexsort((pop_row, stratum_rows))
                srt_s, srt_p = stratum_rows[order], pop_row[order]
                change = (srt_s[1:] == srt_s[:-1]) & (srt_p[1:] != srt_p[:-1])
                if np.any(change):
                    h = int(srt_s[1:][change][0])
                    warnings.warn(
                        f"`fpc' varies within strata: stratum {stratum_lab[h]} at stage {s + 1}",
                        AnalysisWarning,
                        stacklevel=2,
                    )
                popsize_rows.append(pop_row)
                pop_cl = pop_row[first]
            if pop_cl is None:
                f = np.ones(len(first))
            else:
                nn = n_h[cl_stratum]
                f = np.where(np.isinf(pop_cl), 1.0, (pop_cl - nn) / pop_cl)
            nn = n_h[cl_stratum].astype(float)
            scale = np.where(nn > 1, f * nn / np.maximum(nn - 1, 1), f)
            not_cert = np.bincount(cl_stratum, weights=(f >= _CERTAINTY_TOL), minlength=len(n_h))
            certainty = not_cert == 0
            if s == 0:
                parent = np.zeros(len(n_h), dtype=np.int64)
                mult = np.ones(len(n_h))
            else:
                parent = np.arange(len(n_h), dtype=np.int64)  # stratum s == unit s-1
                pst = prev.cluster_stratum  # type: ignore[union-attr]
                mult = (
                    prev.multiplier[pst]  # type: ignore[union-attr]
                    * prev.n_psu[pst]  # type: ignore[union-attr]
                    / prev.popsize  # type: ignore[union-attr,operator]
                )
            stage = Stage(
                cluster=_readonly(cluster),
                cluster_stratum=_readonly(cl_stratum),
                n_psu=_readonly(n_h),
                popsize=None if pop_cl is None else _readonly(pop_cl),
                scale=_readonly(scale),
                certainty=_readonly(certainty),
                stratum_parent=_readonly(parent),
                multiplier=_readonly(np.asarray(mult, dtype=float)),
                stratum_labels=stratum_lab,
            )
            stages.append(stage)
            prev = stage
            # labels of this stage's units, for messages about the next stage's strata
            prev_cluster_labels = np.array(
                [f"{stratum_lab[h]}.{c + 1}" for c, h in enumerate(cl_stratum)], dtype=object
            ) if s + 1 < want_stages else None

        # weights
        if w_given is not None:
            w = w_given
        elif prob_vals:
            p = np.prod(np.vstack(prob_vals), axis=0)
            w = 1.0 / p
        elif fpc_vals:
            pops = np.vstack(popsize_rows)
            if np.any(pops > 1e12):
                raise DesignError("Weights not supplied and can't be computed from fpc.")
            w = np.prod(pops / np.vstack(sampsize_rows), axis=0)
        else:
            warnings.warn(
                "No weights or probabilities supplied, assuming equal probability",
                AnalysisWarning,
                stacklevel=2,
            )
            w = np.ones(n)
        return cls(
            weights=_readonly(np.asarray(w, dtype=float).copy()),
            stages=tuple(stages),
            n_stages=n_stages,
            has_strata=has_strata,
            has_fpc=bool(fpc_vals),
            nest=bool(nest),
            lonely_psu=lonely_psu,
            active=_readonly(np.ones(n, dtype=bool)),
            data=data,
            strata_codes=_readonly(strata_codes),
        )

    # ------------------------------------------------------------------ derived
    @property
    def n_rows(self) -> int:
        """Number of rows (units) in the data, inside and outside any subset."""
        return len(self.weights)

    @property
    def probs(self) -> np.ndarray:
        """Selection probabilities ``1 / weights`` (``inf`` for zero weights)."""
        with np.errstate(divide="ignore"):
            return 1.0 / self.weights

    @property
    def n_psu(self) -> int:
        """Number of first-stage sampling units."""
        return self.stages[0].n_clusters

    @property
    def n_strata(self) -> int:
        """Number of first-stage strata."""
        return self.stages[0].n_strata

    def effective_weights(self) -> np.ndarray:
        """Weights with zero outside the subset the design describes."""
        return np.where(self.active, self.weights, 0.0)

    def degf(self, rows: np.ndarray | None = None) -> int:
        """Design degrees of freedom: PSUs minus strata among rows with non-zero weight.

        As R's ``degf()``; ``rows`` (a boolean mask) restricts it further, as R does when
        ``degf`` is evaluated on a domain.
        """
        if self.replicates is not None:
            return self._replicate_degf(rows)
        inset = self.active & (self.weights != 0)
        if rows is not None:
            inset = inset & rows
        st = self.stages[0]
        cl = np.unique(st.cluster[inset])
        return int(len(cl) - len(np.unique(st.cluster_stratum[cl])))

    def _replicate_degf(self, rows: np.ndarray | None) -> int:
        # R: qr(weights(design, "analysis"), tol = 1e-5)$rank - 1 on the (subset) design
        from .replicates import replicate_degf

        inset = self.active if rows is None else self.active & rows
        reps = self.replicates
        if reps.weights is None:  # type: ignore[union-attr]
            f = reps.factors  # type: ignore[union-attr]
            used = np.unique(f.index[inset & (self.weights != 0)])
            return replicate_degf(f.psu_factors[used])
        return replicate_degf(reps.weights[inset])  # type: ignore[union-attr,index]

    # ------------------------------------------------------------------ new designs
    def subset(self, mask: Any) -> SurveyDesign:
        """The design restricted to a domain, keeping every PSU (R's ``subset()``).

        Rows outside ``mask`` get no weight and do not count as observed, but the strata
        and PSU counts of the full design are kept, so standard errors stay correct.
        """
        m = np.asarray(mask)
        if m.dtype != bool or m.shape != self.active.shape:
            raise DesignError(f"subset mask must be a boolean array of length {self.n_rows}")
        return dataclasses.replace(self, active=_readonly(self.active & m))

    def update(self, *, lonely_psu: str | None = None) -> SurveyDesign:
        """A copy with another lonely-PSU policy."""
        if lonely_psu is None:
            return self
        if lonely_psu not in LONELY_PSU:
            raise DesignError(
                f"lonely_psu must be one of {', '.join(LONELY_PSU)}; got {lonely_psu!r}"
            )
        return dataclasses.replace(self, lonely_psu=lonely_psu)

    # ------------------------------------------------------------------ calibration
    @property
    def is_calibrated(self) -> bool:
        """True when the weights were post-stratified, raked or calibrated."""
        return bool(self.adjustments)

    def calibrate(
        self,
        totals: Any,
        method: str = "linear",
        *,
        bounds: Any = None,
        trim: Any = None,
        maxit: int | None = None,
        epsilon: float | None = None,
    ) -> SurveyDesign:
        """A new design whose weights reproduce population totals (R's ``calibrate``).

        Parameters
        ----------
        totals : mapping
            Population totals in the command line's TOTALS.json shape:
            ``{"var": {"level": total, ...}}`` for a categorical margin, ``{"a:b":
            {"levelA:levelB": total}}`` for a cross-classified margin, ``{"x": total}`` for
            a numeric variable, optionally ``{"(Intercept)": N}``
            (:func:`analysis.calibration.build_model`).
        method : {"poststratify", "rake", "linear", "raking", "logit"}
            ``poststratify`` (R's ``postStratify``, one margin), ``rake`` (R's ``rake``,
            iterative proportional fitting to convergence) or a ``calfun`` of R's
            ``calibrate``.
        bounds, trim : (low, high), optional
            Bounds on the g-weights and trimming of g (``calibrate`` methods only).
        maxit, epsilon : optional
            Iteration limit and tolerance (R's defaults 50 and 1e-7 for ``calibrate``).

        Returns
        -------
        SurveyDesign
            A new design (this one is unchanged) with the calibrated weights; its
            linearisation variances use the calibration residuals, as R's ``svyrecvar``
            does with ``design$postStrata``. :attr:`calibration` holds the
            :class:`~analysis.calibration.CalibrationResult` (``converged``,
            ``iterations``, achieved totals, weight diagnostics); non-convergence is
            reported there (and warned about), never hidden. A replicate design has
            every replicate's weights calibrated the same way, as R's
            ``calibrate.svyrep.design`` does.

        Raises
        ------
        CalibrationError
            Invalid totals (unknown or missing levels, inconsistent margins, ...).
        """
        from . import calibration as C

        if method not in C.METHODS:
            raise C.CalibrationError(
                f"calibration method must be one of {', '.join(C.METHODS)}, got {method!r}"
            )
        frame = self._calibration_frame(totals)
        result, model = C.calibrate_frame(frame, self.weights, totals, method, bounds=bounds,
                                          trim=trim, maxit=maxit, epsilon=epsilon)
        if not result.converged:
            warnings.warn(
                f"calibration ({method}) did not converge in {result.iterations} "
                f"iterations (largest relative misfit {result.max_misfit:.3g})",
                AnalysisWarning, stacklevel=2,
            )
        reps = self.replicates
        if reps is not None:
            rw = reps.full_weights(self.weights)
            new = np.empty_like(rw)
            for r in range(rw.shape[1]):
                new[:, r] = _calibrate_column(C, model, rw[:, r], method, bounds, trim, maxit,
                                              epsilon)
            reps = dataclasses.replace(reps, factors=None, weights=_readonly(new))
            return dataclasses.replace(self, weights=_readonly(np.array(result.weights)),
                                       replicates=reps, calibration=result)
        return dataclasses.replace(
            self,
            weights=_readonly(np.array(result.weights)),
            adjustments=self.adjustments + (result.adjustment,),
            calibration=result,
        )

    def poststratify(self, totals: Any) -> SurveyDesign:
        """Post-stratified design (R's ``postStratify``): ``calibrate(totals, "poststratify")``."""
        return self.calibrate(totals, "poststratify")

    def rake(self, totals: Any, *, maxit: int | None = None,
             epsilon: float | None = None) -> SurveyDesign:
        """Raked design (R's ``rake``): ``calibrate(totals, "rake")``."""
        return self.calibrate(totals, "rake", maxit=maxit, epsilon=epsilon)

    def _calibration_frame(self, totals: Any):
        import pandas as pd

        from .calibration import INTERCEPT, CalibrationError

        if not hasattr(totals, "items") or not totals:
            raise CalibrationError("population totals must be a non-empty JSON object")
        if self.data is None:
            raise CalibrationError("calibration needs the design's data (declare it with data=)")
        names: list[str] = []
        for key in totals:
            if key == INTERCEPT or not isinstance(key, str):
                continue
            for v in key.split(":"):
                if v and v not in names:
                    names.append(v)
        cols = {}
        columns = getattr(self.data, "columns", None)  # a DataFrame's Index has no truth value
        available = set(columns if columns is not None else list(self.data))
        for v in names:
            if v not in available:
                raise CalibrationError(f"calibration margin: no column {v!r} in the data")
            cols[v] = np.asarray(self.data[v])
        return pd.DataFrame(cols, index=pd.RangeIndex(self.n_rows))

    # ------------------------------------------------------------------ replicate designs
    @property
    def is_replicate(self) -> bool:
        """True for a replicate-weight design."""
        return self.replicates is not None

    @property
    def replicate_weights(self) -> np.ndarray | None:
        """(n, R) replicate weights (zero outside a subset); ``None`` for linearisation."""
        if self.replicates is None:
            return None
        rw = self.replicates.full_weights(self.weights)
        if not self.active.all():
            rw = rw * self.active[:, None]
        return rw

    def replicate_covariance(self, thetas: np.ndarray, theta_full: np.ndarray) -> np.ndarray:
        """(J, J) replicate covariance of (R, J) replicate estimates (R's ``svrVar``).

        ``scale * sum_r rscales_r (theta_r - c)(theta_r - c)'`` with ``c = theta_full``
        when the design has ``mse=True``, else the mean of the replicates with positive
        ``rscales``; replicates with a missing value are dropped, as R does.
        """
        if self.replicates is None:
            raise DesignError("not a replicate-weight design")
        return self.replicates.variance(thetas, theta_full)

    def as_replicate(
        self,
        type: str = "auto",
        *,
        rho: float | None = None,
        replicates: int = 50,
        rng: np.random.Generator | None = None,
        seed: int | None = None,
        mse: bool = False,
    ) -> SurveyDesign:
        """Convert to a replicate-weight design, as R's ``as.svrepdesign``.

        ``type``: ``"JK1"`` (unstratified), ``"JKn"`` (stratified; R's lonely-PSU rules
        with this design's ``lonely_psu``), ``"BRR"``, ``"Fay"`` (``rho``; stratified,
        fpc dropped as R does), ``"bootstrap"`` (Rao-Wu rescaling with ``m_h = n_h - 1``,
        ``replicates`` draws from ``rng`` or ``numpy.random.default_rng(seed)``), or
        ``"auto"`` (JK1 without strata, JKn with). First-stage units and the first-stage
        fpc are used, as in R. The sampling weights (calibrated or not) are kept; a
        calibrated design's calibration is not repeated per replicate (as in R:
        calibrate *after* converting to get calibrated replicates).
        """
        from . import replicates as RP

        if self.replicates is not None:
            raise DesignError("the design already has replicate weights")
        if type == "auto":
            type = "JKn" if self.has_strata else "JK1"
        if type not in ("JK1", "JKn", "BRR", "Fay", "bootstrap"):
            raise DesignError(
                f"replicate type must be one of JK1, JKn, BRR, Fay, bootstrap; got {type!r}"
            )
        if type == "JK1" and self.has_strata:
            raise DesignError("Can't use JK1 for a stratified design")
        if type in ("JKn", "BRR", "Fay") and not self.has_strata:
            raise DesignError("Must use JK1 or bootstrap for an unstratified design")
        st0 = self.stages[0]
        psu = st0.cluster
        strata = np.array([f"{c:09d}" for c in range(self.n_strata)], dtype=object)[
            st0.cluster_stratum[psu]]
        fpc = None if st0.popsize is None else st0.popsize[psu]
        try:
            if type == "JK1":
                factors = RP.jk1_factors(psu, fpc, mse=mse)
            elif type == "JKn":
                factors = RP.jkn_factors(strata, psu, fpc, lonely_psu=self.lonely_psu, mse=mse)
            elif type in ("BRR", "Fay"):
                if type == "Fay" and rho is None:
                    raise DesignError("type Fay needs rho (Fay's coefficient)")
                r = 0.0 if type == "BRR" else float(rho)  # type: ignore[arg-type]
                if self.has_fpc:
                    warnings.warn("Finite population correction dropped in conversion",
                                  AnalysisWarning, stacklevel=2)
                factors = RP.brr_factors(strata, psu, rho=r, mse=mse)
            else:
                if rng is None:
                    rng = np.random.default_rng(seed)
                factors = RP.bootstrap_factors(strata, psu, replicates=int(replicates),
                                               rng=rng, mse=mse)
        except RP.ReplicateError as exc:
            raise DesignError(str(exc)) from None
        reps = Replicates(type=factors.type, scale=float(factors.scale),
                          rscales=factors.rscales, mse=bool(mse), rho=float(factors.rho),
                          factors=factors)
        return dataclasses.replace(self, replicates=reps)

    @classmethod
    def from_replicate_weights(
        cls,
        data: Any = None,
        *,
        repweights: Any,
        weights: Any = None,
        type: str = "other",
        scale: float | None = None,
        rscales: Any = None,
        rho: float | None = None,
        mse: bool = False,
        combined_weights: bool = True,
    ) -> SurveyDesign:
        """A design from supplied replicate weights, as R's ``svrepdesign``.

        ``repweights`` is a list of column names (or an (n, R) array) of full replicate
        weights (R's ``combined.weights = TRUE``; ``combined_weights=False`` means
        replicate factors). ``type`` sets R's defaults for ``scale``/``rscales``
        (:func:`analysis.replicates.supplied_replicates`): BRR ``1/R``; Fay
        ``1/(R (1 - rho)^2)``; JK1 ``(R - 1)/R``; JKn needs ``rscales``; bootstrap
        ``1/(R - 1)``; other 1.
        """
        from . import replicates as RP

        if isinstance(repweights, np.ndarray) and repweights.ndim == 2:
            rw = repweights.astype(float)
            n = rw.shape[0]
        else:
            specs = as_list(repweights)
            if not specs:
                raise DesignError("no replicate weight columns given")
            n = _n_rows(data, *specs)
            cols = [_numeric(resolve(s, data, n, "repweights", i), "replicate weights",
                             "repweights") for i, s in enumerate(specs)]
            rw = np.column_stack(cols)
        w = None
        if weights is not None:
            w = _numeric(resolve(weights, data, n, "weights"), "weights", "weights")
        try:
            rr = RP.supplied_replicates(rw, w, type=type, combined_weights=combined_weights,
                                        scale=scale, rscales=rscales, rho=rho, mse=mse)
        except RP.ReplicateError as exc:
            raise DesignError(str(exc)) from None
        if weights is None:
            warnings.warn("No sampling weights provided: equal probability assumed",
                          AnalysisWarning, stacklevel=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AnalysisWarning)
            base = cls.create(data if data is not None else {"_w": rr.weights},
                              weights=np.array(rr.weights))
        reps = Replicates(type=rr.type, scale=float(rr.scale), rscales=rr.rscales,
                          mse=bool(mse), rho=float(rr.rho), weights=rr.replicate_weights)
        return dataclasses.replace(base, replicates=reps)

    def __repr__(self) -> str:
        kind = "Stratified " if self.has_strata else ""
        if self.n_stages > 1:
            kind += f"{self.n_stages}-stage cluster sample"
        elif self.n_psu < self.n_rows:
            kind += "1-stage cluster sample"
        else:
            kind += "independent sampling design"
        kind += " (with fpc)" if self.has_fpc else " (with replacement)"
        sub = "" if self.active.all() else f", subset of {int(self.active.sum())} rows"
        return (
            f"<SurveyDesign: {kind}; {self.n_rows} rows, {self.n_psu} PSUs, "
            f"{self.n_strata} strata, lonely_psu={self.lonely_psu!r}{sub}>"
        )


def _calibrate_column(C, model, w, method, bounds, trim, maxit, epsilon) -> np.ndarray:
    """One replicate's weights calibrated like the full sample (calibrate.svyrep.design)."""
    if method == "poststratify":
        return C.poststratify(w, model.margins[0]).weights
    if method == "rake":
        return C.rake(w, model.margins, maxit=maxit, epsilon=epsilon).weights
    x, tots, names = model.model_matrix()
    return C.calibrate(w, x, tots, calfun=method, bounds=bounds, trim=trim,
                       maxit=50 if maxit is None else maxit,
                       epsilon=1e-7 if epsilon is None else epsilon, names=names).weights


def _first_index(codes: np.ndarray, n_codes: int) -> np.ndarray:
    """Index of the first row of each code (codes are 0..n_codes-1, all present)."""
    first = np.empty(n_codes, dtype=np.int64)
    # assigning in reverse leaves the smallest index of each code
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def _is_one(spec: Any) -> bool:
    return isinstance(spec, (str, int)) and str(spec).strip() in ("1", "~1")


def _n_rows(data: Any, *specs: Any) -> int:
    if data is not None:
        if isinstance(data, dict):
            return len(next(iter(data.values()))) if data else 0
        return len(data)
    for spec in specs:
        for s in as_list(spec):
            if not isinstance(s, (str, int)):
                return len(np.asarray(s))
    raise DesignError("cannot tell the number of rows: give data or arrays")
