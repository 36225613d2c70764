"""Calibration of survey weights, computed exactly as R's ``survey`` package does.

This module holds the design-independent building blocks of weighting: it works on plain
arrays (design weights, a model matrix or category codes, population totals) and returns
frozen results.  A design object wraps them: it passes its weights in, stores the returned
:class:`CalibrationAdjustment` (one per calibration step, in order, like R's
``design$postStrata`` list) and, when computing a linearisation variance, replaces the
weighted scores by :func:`calibration_residuals` of them.

Methods
-------
* :func:`poststratify` -- R's ``postStratify`` (one margin, possibly cross-classified).
* :func:`rake` -- iterative proportional fitting as R's ``rake``; it runs to convergence
  (R's default ``control = list(maxit = 10, epsilon = 1)`` stops after at most ten passes
  or as soon as no cell of the joint table moves by one unit of weight; we stop only when
  every margin is reproduced to ``epsilon``, relative, which is the fixed point R reaches
  with a tight ``control``).
* :func:`calibrate` -- R's ``calibrate`` with ``calfun`` ``"linear"`` (GREG),
  ``"raking"`` or ``"logit"``, ``bounds`` on g, ``trim`` of g with the trimmed excess
  spread over the untrimmed units, ``maxit`` and ``epsilon``: the Newton iteration of
  ``survey:::grake`` (Deville & Särndal 1992; Deville, Särndal & Sautory 1993), and the
  closed-form ``survey:::regcalibrate`` for unbounded linear calibration.
* :func:`build_model` -- the model matrix and totals from a DataFrame and a totals mapping
  of the CLI's shape, with precise validation messages.

References
----------
Deville, J.-C. and Särndal, C.-E. (1992). Calibration estimators in survey sampling.
*JASA* 87, 376-382.
Deville, J.-C., Särndal, C.-E. and Sautory, O. (1993). Generalized raking procedures in
survey sampling. *JASA* 88, 1013-1020.
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, ch. 7. Wiley.
Kish, L. (1965). *Survey Sampling*. Wiley (design effect due to weighting).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.linalg

from .errors import AnalysisError

__all__ = [
    "CalibrationAdjustment",
    "CalibrationError",
    "CalibrationModel",
    "CalibrationResult",
    "Margin",
    "WeightDiagnostics",
    "build_model",
    "calibrate",
    "calibrate_frame",
    "calibration_residuals",
    "domain_residual_parts",
    "poststratify",
    "rake",
    "weight_diagnostics",
]

INTERCEPT = "(Intercept)"
CALFUNS = ("linear", "raking", "logit")
# R's grake rescales the weights when every population total exceeds the sample total by
# more than this factor (``SOMETHRESHOLD`` in survey:::grake); bounds then act on the
# rescaled g.  Kept identical so bounded calibrations give R's g.
_RESCALE_THRESHOLD = 20.0
# R's backfitting for raked designs (survey:::svyrecvar) runs a fixed ten sweeps.
_RAKE_BACKFIT_SWEEPS = 10


class CalibrationError(AnalysisError, ValueError):
    """Invalid calibration input: unknown or missing level, negative total, inconsistent
    margins, bad bounds."""


# --------------------------------------------------------------------------- results


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    a.setflags(write=False)
    return a


@dataclass(frozen=True)
class WeightDiagnostics:
    """Summary of a weight vector.

    ``cv`` is the coefficient of variation with the population standard deviation
    (divisor n), so that Kish's design effect due to weighting is
    ``deff_weighting = n Σw² / (Σw)² = 1 + cv²`` and the effective sample size is
    ``n_effective = (Σw)² / Σw² = n / deff_weighting`` (Kish 1965).
    """

    n: int
    sum: float
    min: float
    max: float
    cv: float
    deff_weighting: float
    n_effective: float

    def to_dict(self) -> dict[str, float]:
        return {
            "n": self.n, "sum": self.sum, "min": self.min, "max": self.max,
            "cv": self.cv, "deff_weighting": self.deff_weighting,
            "n_effective": self.n_effective,
        }


def weight_diagnostics(weights: np.ndarray) -> WeightDiagnostics:
    """Sum, min, max, CV, Kish design effect due to weighting and effective n of ``weights``."""
    w = np.asarray(weights, dtype=float)
    n = int(w.size)
    if n == 0:
        raise CalibrationError("no weights to summarise")
    s = float(w.sum())
    s2 = float(np.dot(w, w))
    mean = s / n
    sd = float(np.sqrt(np.mean((w - mean) ** 2)))
    deff = n * s2 / (s * s) if s != 0 else math.nan
    return WeightDiagnostics(
        n=n, sum=s, min=float(w.min()), max=float(w.max()),
        cv=sd / mean if mean != 0 else math.nan,
        deff_weighting=deff, n_effective=(s * s) / s2 if s2 != 0 else math.nan,
    )


@dataclass(frozen=True)
class CalibrationAdjustment:
    """What the variance needs to know about one calibration step (R's ``postStrata`` entry).

    ``kind`` is ``"greg"`` (``calibrate``), ``"poststratify"`` or ``"rake"``.  Arrays:

    * greg: ``model`` (n x p model matrix), ``design_weights`` (weights before the step),
      ``g`` (final g including R's rescaling and trimming).
    * poststratify: ``codes`` (post-stratum of each unit), ``design_weights`` (before),
      ``weights`` (after).
    * rake: ``codes`` (the full cross-classification cell of each unit),
      ``design_weights`` (before), ``margin_cells`` (for each margin, the margin level of
      each cell) and ``margin_factors`` (for each margin, the cumulative g of each cell
      right after that margin was adjusted in the final pass -- the weights R stores for
      the margin).
    """

    kind: str
    design_weights: np.ndarray
    model: np.ndarray | None = None
    g: np.ndarray | None = None
    codes: np.ndarray | None = None
    weights: np.ndarray | None = None
    margin_cells: tuple[np.ndarray, ...] = ()
    margin_factors: tuple[np.ndarray, ...] = ()

    @cached_property
    def _greg_basis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        # R: tqr <- qr(mm * whalf); only its column space matters for qr.resid.  A
        # Householder QR of an n x p matrix is slow at a million rows, so: columns scaled
        # to unit norm, the Gram matrix, R's rank rule (a column whose residual on the
        # previous ones is below 1e-7 of its norm is dropped, as LINPACK's dqrdc2 does) by
        # a pivot-free Cholesky in column order, and seminormal equations with one step of
        # refinement in residualise() (Björck 1996, §2.5) for QR-level accuracy.
        whalf = np.sqrt(self.design_weights)
        a = self.model * whalf[:, None]
        norms = np.sqrt((a * a).sum(axis=0))
        keep = [j for j in range(a.shape[1]) if norms[j] > 0]
        a = a[:, keep] / norms[keep]
        gram = a.T @ a
        chosen: list[int] = []
        for j in range(gram.shape[0]):
            if chosen:
                gk = gram[np.ix_(chosen, chosen)]
                v = np.linalg.solve(gk, gram[chosen, j])
                r2 = gram[j, j] - gram[j, chosen] @ v
            else:
                r2 = gram[j, j]
            if r2 > 1e-14 * gram[j, j]:
                chosen.append(j)
        a = np.ascontiguousarray(a[:, chosen])
        chol = scipy.linalg.cho_factor(gram[np.ix_(chosen, chosen)])
        return a, chol, self.g * whalf

    def residualise(self, scores: np.ndarray) -> np.ndarray:
        """Apply this step's residual transformation to a 2-D score matrix."""
        x = scores
        if self.kind == "greg":
            # R (svyrecvar): x <- qr.resid(psvar$qr, x / psvar$w) * psvar$w with
            # w = g * sqrt(design weights): with x = w_cal * z this is
            # w_cal * (z - X B), B the design-weighted least-squares fit of z on X.
            a, chol, w = self._greg_basis
            safe = np.where(w == 0, 1.0, w)
            y = np.where(w[:, None] == 0, 0.0, x / safe[:, None])
            resid = y - a @ scipy.linalg.cho_solve(chol, a.T @ y)
            resid = resid - a @ scipy.linalg.cho_solve(chol, a.T @ resid)
            return resid * w[:, None]
        if self.kind == "poststratify":
            psw = np.array(self.weights, dtype=float)
            oldw = self.design_weights
            zeroes = (psw == 0) & (oldw == 0)
            psw[zeroes] = 1.0
            codes = self.codes
            k = int(codes.max()) + 1 if codes.size else 0
            den = np.bincount(codes, weights=oldw, minlength=k)
            ratio = oldw / psw
            out = np.empty_like(x)
            for j in range(x.shape[1]):
                num = np.bincount(codes, weights=x[:, j] * ratio, minlength=k)
                with np.errstate(invalid="ignore", divide="ignore"):
                    means = num / den
                out[:, j] = x[:, j] - means[codes] * psw
            return out
        if self.kind == "rake":
            # R (svyrecvar, class "raking"): ten sweeps of
            #   x <- x - psw * apply(x / psw, 2, ave, margin)
            # with psw the weights stored for each margin and ave() an *unweighted* mean
            # within the margin's levels -- done on the joint cells (linear in n).
            w0 = self.design_weights
            cells = self.codes
            n_cells = self.margin_factors[0].size
            k = x.shape[1]
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = x / w0[:, None]
                sums = np.empty((1, n_cells, k))
                for j in range(k):
                    sums[0, :, j] = np.bincount(cells, weights=ratio[:, j], minlength=n_cells)
                offsets, coef = _rake_coefficients(self, sums)
                fit = _rake_cell_fit(self, offsets, coef[0])
            return x - w0[:, None] * fit[cells]
        raise CalibrationError(f"unknown calibration adjustment kind {self.kind!r}")


def calibration_residuals(
    scores: np.ndarray, adjustments: CalibrationAdjustment | Sequence[CalibrationAdjustment]
) -> np.ndarray:
    """Replace weighted scores by the calibration residuals R's survey uses for the variance.

    Parameters
    ----------
    scores : array (n,) or (n, k)
        The *weighted* linearised values, exactly what R passes to ``svyrecvar``: for a
        total ``w_cal * y``; for a mean ``w_cal * (y - ȳ) / Σ w_cal``; for a ratio
        ``w_cal * (y - R x) / X̂``; zero outside a domain.  ``w_cal`` are the final
        (calibrated) weights.
    adjustments : CalibrationAdjustment or sequence of them
        The ``adjustment`` of each calibration applied to the design, in the order they were
        applied (R's ``design$postStrata`` list).

    Returns
    -------
    ndarray, same shape as ``scores``
        For calibration (``kind="greg"``): ``w_cal * (z - X B)`` where ``z = scores / w_cal``
        and ``B`` is the regression of ``z`` on the calibration model matrix ``X`` weighted
        by the weights *before* calibration (``survey:::svyrecvar``: ``qr.resid(qr(X
        sqrt(w_design)), x / (g sqrt(w_design))) * g sqrt(w_design)``; Deville & Särndal
        1992, Lumley 2010 §7.3).  Post-stratification: ``x - w_ps * m_h`` with ``m_h`` the
        old-weight mean of ``x / w_ps`` in post-stratum h.  Raking: R's ten backfitting
        sweeps over the margins.

    Notes
    -----
    How a design's linearisation variance uses it (R's ``svyrecvar``): compute the weighted
    score matrix ``x`` as for an uncalibrated design but with the calibrated weights, call
    ``x = calibration_residuals(x, design.adjustments)``, then compute the usual
    stratified multistage variance (PSU totals within strata, FPC, lonely PSU rule) of the
    returned matrix instead of ``x``.  Calibration within clusters (R's ``stage > 0``) and
    ``aggregate.stage`` are not part of this module.
    """
    x = np.asarray(scores, dtype=float)
    one_d = x.ndim == 1
    if one_d:
        x = x[:, None]
    if isinstance(adjustments, CalibrationAdjustment):
        adjustments = [adjustments]
    for adj in adjustments:
        if adj.design_weights.shape[0] != x.shape[0]:
            raise CalibrationError(
                f"scores have {x.shape[0]} rows but the calibration was done on "
                f"{adj.design_weights.shape[0]} units"
            )
        x = adj.residualise(x)
    return x[:, 0] if one_d else x


def _rake_coefficients(adjustment, cell_sums: np.ndarray):
    """R's ten backfitting sweeps (svyrecvar, class "raking") in coefficient space.

    After any number of sweeps the residual is ``x0 − Σ_m psw_m E_m c_m`` (E_m: level
    indicators of margin m, ``psw_m = w0 · f_m[cell]`` the weights R stored for margin m),
    and each step ``x <- x − psw_m ave_m(x / psw_m)`` adds to ``c_m`` the unweighted level
    means of ``x / psw_m``.  All of it follows from ``cell_sums`` -- the sums of
    ``x / w0`` by (domain, joint cell), shape (n_domains, n_cells, k) -- because units of a
    cell share every ``f_m``; so the n units are touched only to form those sums.

    Returns ``(offsets, coef)``: ``coef[d, offsets[m] + level]`` is ``c_m`` for domain d.
    """
    import scipy.sparse as sp

    cell_n = np.bincount(adjustment.codes, minlength=adjustment.margin_factors[0].size)
    factors = adjustment.margin_factors
    cells_level = adjustment.margin_cells
    sizes = [int(lv.max()) + 1 for lv in cells_level]
    offsets = np.r_[0, np.cumsum(sizes)]
    nd, nc, k = cell_sums.shape
    flat = cell_sums.transpose(1, 0, 2).reshape(nc, nd * k)
    ind = [sp.csr_matrix((np.ones(nc), (lv, np.arange(nc))), shape=(sz, nc))
           for lv, sz in zip(cells_level, sizes, strict=True)]
    with np.errstate(invalid="ignore", divide="ignore"):
        # level sums of x / psw_a = Σ_cells (Σ_{i in cell} x_i / w0_i) / f_a[cell]
        s0 = [np.asarray(e @ (flat / f[:, None])).reshape(sz, nd, k).transpose(1, 0, 2)
              for e, f, sz in zip(ind, factors, sizes, strict=True)]
        counts = [np.asarray(e @ cell_n, dtype=float) for e in ind]
        # gram[a][b][l, l'] = Σ_{i in l (margin a), l' (margin b)} psw_b(i) / psw_a(i)
        gram = [[np.asarray((ea @ sp.diags(cell_n * fb / fa) @ eb.T).todense())
                 for eb, fb in zip(ind, factors, strict=True)]
                for ea, fa in zip(ind, factors, strict=True)]
        coef = np.zeros((nd, int(offsets[-1]), k))
        for _ in range(_RAKE_BACKFIT_SWEEPS):
            for a in range(len(sizes)):
                sub = s0[a].copy()
                for b in range(len(sizes)):
                    sub -= np.einsum("lm,dmk->dlk", gram[a][b],
                                     coef[:, offsets[b]:offsets[b + 1], :])
                coef[:, offsets[a]:offsets[a + 1], :] += sub / counts[a][None, :, None]
    return offsets, coef


def _rake_cell_fit(adjustment, offsets, coef_d: np.ndarray) -> np.ndarray:
    """(n_cells, k): Σ_m f_m[cell] c_m[level_m(cell)] -- the fitted part divided by w0."""
    out = np.zeros((adjustment.margin_factors[0].size, coef_d.shape[1]))
    for a, (f, lv) in enumerate(zip(adjustment.margin_factors, adjustment.margin_cells,
                                    strict=True)):
        out += f[:, None] * coef_d[offsets[a] + lv, :]
    return out


def domain_residual_parts(
    scores: np.ndarray,
    domain: np.ndarray,
    n_domains: int,
    adjustment: CalibrationAdjustment,
) -> tuple[np.ndarray, np.ndarray]:
    """Calibration residuals of domain scores in factored form, for many domains at once.

    For domain estimation the score of variable j in domain d is ``x_ij 1{domain_i = d}``;
    its calibration residual is *not* zero outside the domain, so materialising the
    residuals costs n x (domains x variables).  Every calibration residual is
    ``x − F c(x)``, linear in x with a fixed basis F, so this returns

    * ``F`` (n, q): w_cal·X for calibration (q = model columns), ``w_ps`` × post-stratum
      indicators for post-stratification, and for raking the stacked ``psw_m`` × level
      indicators of every margin;
    * ``C`` (n_domains, q, k): the coefficients for each domain and score column,

    such that ``calibration_residuals(x * (domain == d)[:, None], adjustment)`` equals
    ``x * (domain == d)[:, None] − F @ C[d]`` (to rounding).  A variance routine then needs
    only PSU totals: ``rowsum(x, (psu, domain)) − rowsum(F, psu) @ C[d]``, which is linear
    in n.  Domains are codes ``0..n_domains-1``; units with a negative code are in no
    domain.  One adjustment at a time (apply several in sequence with the dense
    :func:`calibration_residuals`).
    """
    x = np.asarray(scores, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    dom = np.asarray(domain, dtype=np.int64)
    n, k = x.shape
    if dom.shape != (n,):
        raise CalibrationError(f"{dom.size} domain codes for {n} score rows")
    inside = dom >= 0
    dsafe = np.where(inside, dom, 0)

    def group_sums(values: np.ndarray, level: np.ndarray, n_levels: int) -> np.ndarray:
        """(n_domains, n_levels, k) sums of values (n, k) by (domain, level)."""
        key = dsafe * n_levels + level
        out = np.empty((n_domains * n_levels, k))
        for j in range(k):
            out[:, j] = np.bincount(key, weights=np.where(inside, values[:, j], 0.0),
                                    minlength=n_domains * n_levels)
        return out.reshape(n_domains, n_levels, k)

    if adjustment.kind == "greg":
        xm = adjustment.model
        g = adjustment.g
        ww = adjustment.design_weights
        w_cal = g * ww
        p = xm.shape[1]
        # R: fitted = w_cal X (X'WX)^+ X' (x / g), W = design weights
        with np.errstate(invalid="ignore", divide="ignore"):
            xg = np.where(g[:, None] == 0, 0.0, x / np.where(g == 0, 1.0, g)[:, None])
        tmat = (xm * ww[:, None]).T @ xm
        tinv = np.linalg.pinv(tmat, rcond=1e-10)
        s = np.empty((n_domains, p, k))
        for c in range(p):
            s[:, c, :] = group_sums(xg * xm[:, [c]], np.zeros(n, dtype=np.int64), 1)[:, 0, :]
        coef = np.einsum("pq,dqk->dpk", tinv, s)
        return xm * w_cal[:, None], coef
    if adjustment.kind == "poststratify":
        psw = np.array(adjustment.weights, dtype=float)
        oldw = adjustment.design_weights
        psw[(psw == 0) & (oldw == 0)] = 1.0
        codes = adjustment.codes
        h = int(codes.max()) + 1
        den = np.bincount(codes, weights=oldw, minlength=h)
        num = group_sums(x * (oldw / psw)[:, None], codes, h)
        with np.errstate(invalid="ignore", divide="ignore"):
            coef = num / den[None, :, None]
        basis = np.zeros((n, h))
        basis[np.arange(n), codes] = psw
        return basis, coef
    if adjustment.kind == "rake":
        w0 = adjustment.design_weights
        cells = adjustment.codes
        n_cells = adjustment.margin_factors[0].size
        with np.errstate(invalid="ignore", divide="ignore"):
            offsets, coef = _rake_coefficients(
                adjustment, group_sums(x / w0[:, None], cells, n_cells))
        basis = np.zeros((n, int(offsets[-1])))
        for a, (f, lv) in enumerate(zip(adjustment.margin_factors, adjustment.margin_cells,
                                        strict=True)):
            basis[np.arange(n), offsets[a] + lv[cells]] = w0 * f[cells]
        return basis, coef
    raise CalibrationError(f"unknown calibration adjustment kind {adjustment.kind!r}")


@dataclass(frozen=True)
class CalibrationResult:
    """Frozen outcome of a calibration.

    Attributes
    ----------
    method : str
        ``"poststratify"``, ``"rake"``, ``"linear"``, ``"raking"`` or ``"logit"``.
    weights, g : ndarray
        Calibrated weights and ``g = weights / design weights``.
    converged : bool
        Whether the iteration met ``epsilon`` within ``maxit`` (post-stratification and
        unbounded linear calibration are closed-form and always converge).  Never hidden:
        a failed calibration still returns its last iterate with ``converged=False``.
    iterations : int
        Newton steps (calibrate) or full passes over the margins (rake).
    targets, achieved : ndarray
        Population totals and the totals the calibrated weights reproduce, in ``names``
        order.
    max_misfit : float
        ``max |achieved - target| / (1 + |target|)``, grake's convergence measure.
    trimmed : int
        Number of g values trimmed (``trim``).
    notes : tuple of str
        R behaviours worth telling the user about (e.g. ``trim`` ignored by R's
        closed-form linear calibration).
    """

    method: str
    weights: np.ndarray
    g: np.ndarray
    converged: bool
    iterations: int
    names: tuple[str, ...]
    targets: np.ndarray
    achieved: np.ndarray
    max_misfit: float
    diagnostics: WeightDiagnostics
    adjustment: CalibrationAdjustment = field(repr=False)
    trimmed: int = 0
    notes: tuple[str, ...] = ()

    def achieved_dict(self) -> dict[str, float]:
        return {n: float(a) for n, a in zip(self.names, self.achieved, strict=True)}

    def to_dict(self, model: CalibrationModel | None = None) -> dict[str, Any]:
        """The CLI's diagnostics object.

        ``achieved`` is keyed by total name, or nested in the totals file's shape
        (``{"var": {"level": total}}``) when the :class:`CalibrationModel` is given.
        """
        d = self.diagnostics
        achieved = (self.achieved_dict() if model is None
                    else model.nest(self.names, self.achieved))
        return {
            "method": self.method, "converged": self.converged,
            "iterations": self.iterations, "sum": d.sum, "min": d.min, "max": d.max,
            "cv": d.cv, "deff_weighting": d.deff_weighting, "n_effective": d.n_effective,
            "achieved": achieved,
        }

    def __repr__(self) -> str:
        d = self.diagnostics
        return (
            f"CalibrationResult(method={self.method!r}, converged={self.converged}, "
            f"iterations={self.iterations}, n={d.n}, sum={d.sum:.6g}, min={d.min:.6g}, "
            f"max={d.max:.6g}, deff_weighting={d.deff_weighting:.4f}, "
            f"max_misfit={self.max_misfit:.3g})"
        )


def _check_weights(w: np.ndarray) -> np.ndarray:
    w = np.asarray(w, dtype=float)
    if w.ndim != 1:
        raise CalibrationError("design weights must be a 1-D array")
    if not np.all(np.isfinite(w)):
        raise CalibrationError("design weights must be finite (no missing values)")
    if np.any(w < 0):
        raise CalibrationError("design weights must not be negative")
    return w


def _misfit(targets: np.ndarray, achieved: np.ndarray) -> float:
    if targets.size == 0:
        return 0.0
    return float(np.max(np.abs(achieved - targets) / (1.0 + np.abs(targets))))


# ----------------------------------------------------------------------- calfuns (R)


def _bounds_tuple(bounds: Sequence[float] | None) -> tuple[float, float]:
    if bounds is None:
        return (-math.inf, math.inf)
    if len(bounds) != 2:
        raise CalibrationError("bounds must be a pair (lower, upper)")
    lo, hi = float(bounds[0]), float(bounds[1])
    if math.isnan(lo) or math.isnan(hi) or lo > hi:
        raise CalibrationError(f"bounds must satisfy lower <= upper, got ({lo}, {hi})")
    return lo, hi


def _calfun(name: str):
    """R's ``cal.linear`` / ``cal.raking`` / ``cal.logit``: (F^-1(u) = g - 1, dF)."""
    if name == "linear":
        def fm1(u, lo, hi):
            return np.minimum(np.maximum(u + 1.0, lo), hi) - 1.0

        def df(u, lo, hi):
            return ((u < hi - 1.0) & (u > lo - 1.0)).astype(float)
    elif name == "raking":
        def fm1(u, lo, hi):
            return np.minimum(np.maximum(np.exp(u), lo), hi) - 1.0

        def df(u, lo, hi):
            return np.where((u < hi - 1.0) & (u > lo - 1.0), np.exp(u), 0.0)
    elif name == "logit":
        def fm1(u, lo, hi):
            a = (hi - lo) / ((hi - 1.0) * (1.0 - lo))
            e = np.exp(a * u)
            return (lo * (hi - 1.0) + hi * (1.0 - lo) * e) / (hi - 1.0 + (1.0 - lo) * e) - 1.0

        def df(u, lo, hi):
            a = (hi - lo) / ((hi - 1.0) * (1.0 - lo))
            e = np.exp(a * u)
            den = hi - 1.0 + (1.0 - lo) * e
            return (hi * (1.0 - lo) * e * a / den
                    - ((lo * (hi - 1.0) + hi * (1.0 - lo) * e) * ((1.0 - lo) * e * a)) / den**2)
    else:
        raise CalibrationError(f"calfun must be one of {', '.join(CALFUNS)}, got {name!r}")
    return fm1, df


def _ginv(a: np.ndarray) -> np.ndarray:
    # MASS::ginv(tol = 256 * .Machine$double.eps): SVD pseudo-inverse with singular values
    # below tol * d[1] treated as zero -- what numpy's pinv does with rcond.
    return np.linalg.pinv(a, rcond=256 * np.finfo(float).eps)


def _grake(mm, ww, fm1, df, lo, hi, population, epsilon, maxit):
    """survey:::grake, step for step (sigma2 = 1, eta starts at 0)."""
    sample_total = mm.T @ ww
    eta = np.zeros(mm.shape[1])
    xeta = mm @ eta
    g = 1.0 + fm1(xeta, lo, hi)
    deriv = df(xeta, lo, hi)
    it = 1
    with np.errstate(divide="ignore", invalid="ignore"):
        scales = population / sample_total
    scale = None
    if scales.size and np.min(scales) > _RESCALE_THRESHOLD:
        scale = float(np.mean(scales))
        ww = ww * scale
        sample_total = sample_total * scale
    failed = None
    eps = np.broadcast_to(np.asarray(epsilon, dtype=float), population.shape)
    while True:
        tmat = (mm * (ww * deriv)[:, None]).T @ mm
        misfit = population - sample_total - mm.T @ (ww * fm1(xeta, lo, hi))
        deta = _ginv(tmat) @ misfit
        eta = eta + deta
        xeta = mm @ eta
        g = 1.0 + fm1(xeta, lo, hi)
        deriv = df(xeta, lo, hi)
        while it < maxit and not (np.all(np.isfinite(g)) and np.all(np.isfinite(deriv))):
            # R halves the step while exp() overflows.
            it += 1
            deta = deta / 2.0
            eta = eta - deta
            xeta = mm @ eta
            g = 1.0 + fm1(xeta, lo, hi)
            deriv = df(xeta, lo, hi)
        misfit = population - sample_total - mm.T @ (ww * fm1(xeta, lo, hi))
        rel = np.abs(misfit) / (1.0 + np.abs(population))
        if np.all(rel < eps):
            break
        it += 1
        if it > maxit:
            failed = float(np.max(rel))
            break
    if scale is not None:
        g = g * scale
    return g, it, failed, scale


def calibrate(
    design_weights: np.ndarray,
    model: np.ndarray,
    population: np.ndarray,
    *,
    calfun: str = "linear",
    bounds: Sequence[float] | None = None,
    trim: Sequence[float] | None = None,
    maxit: int = 50,
    epsilon: float = 1e-7,
    names: Sequence[str] | None = None,
) -> CalibrationResult:
    """Calibrate weights to population totals as R's ``survey::calibrate`` does.

    Parameters
    ----------
    design_weights : array (n,)
        Weights before calibration (R's ``weights(design)``).
    model : array (n, p)
        Calibration model matrix (R's ``model.matrix(formula, ...)``; any basis of the same
        column space gives the same g).  See :func:`build_model`.
    population : array (p,)
        Population totals of the columns of ``model``.
    calfun : {"linear", "raking", "logit"}
        Distance function (Deville & Särndal 1992): linear = GREG (g = 1 + x'λ), raking
        (g = exp(x'λ)), logit (g bounded in ``bounds``, which must then be finite with
        ``lower < 1 < upper``).
    bounds : (lower, upper), optional
        Bounds on g.  For linear calibration without bounds R uses the closed form
        (``survey:::regcalibrate``); otherwise the Newton iteration of ``survey:::grake``
        with generalised inverse and step halving.  As in R, when every population total
        exceeds the weighted sample total by more than 20 times, the weights are first
        rescaled by the mean ratio and the bounds apply to the rescaled g.
    trim : (lower, upper), optional
        After calibration, g values outside ``trim`` are set to the limit and the weight
        removed or added, ``Σ (g - g_trimmed) w``, is spread over the untrimmed units in
        proportion to their design weights (R's ``calibrate(trim=)``, one pass; the
        calibration constraints no longer hold exactly -- see ``achieved``).  R ignores
        ``trim`` for unbounded linear calibration (its closed-form path returns first);
        so do we, and say so in ``notes``.
    maxit, epsilon : int, float
        Newton iterations and convergence tolerance on
        ``|misfit| / (1 + |population|)`` for every total (R's defaults 50 and 1e-7).
    names : sequence of str, optional
        Names of the totals (default ``x1..xp``).

    Returns
    -------
    CalibrationResult
        Weights ``g * design_weights``; ``converged=False`` (never an exception) when the
        Newton iteration fails.  Its ``adjustment`` feeds :func:`calibration_residuals`.
    """
    ww = _check_weights(design_weights)
    mm = np.asarray(model, dtype=float)
    if mm.ndim == 1:
        mm = mm[:, None]
    if mm.shape[0] != ww.shape[0]:
        raise CalibrationError(
            f"model matrix has {mm.shape[0]} rows but there are {ww.shape[0]} weights"
        )
    if not np.all(np.isfinite(mm)):
        raise CalibrationError("the calibration model matrix has missing or infinite values")
    pop = np.asarray(population, dtype=float).reshape(-1)
    if pop.shape[0] != mm.shape[1]:
        raise CalibrationError(
            f"{pop.shape[0]} population totals for {mm.shape[1]} calibration variables"
        )
    if not np.all(np.isfinite(pop)):
        raise CalibrationError("population totals must be finite numbers")
    names = tuple(names) if names is not None else tuple(f"x{i + 1}" for i in range(pop.size))
    if len(names) != pop.size:
        raise CalibrationError("names must have one entry per population total")
    if calfun not in CALFUNS:
        raise CalibrationError(f"calfun must be one of {', '.join(CALFUNS)}, got {calfun!r}")
    lo, hi = _bounds_tuple(bounds)
    if calfun == "logit" and not (math.isfinite(lo) and math.isfinite(hi)):
        raise CalibrationError("logit calibration requires finite bounds")
    if calfun == "logit" and not (lo < 1.0 < hi):
        raise CalibrationError(f"logit calibration requires lower < 1 < upper, got ({lo}, {hi})")
    trim_t = None
    if trim is not None:
        trim_t = _bounds_tuple(trim)
    if maxit < 1:
        raise CalibrationError("maxit must be at least 1")
    if not epsilon > 0:
        raise CalibrationError("epsilon must be positive")

    # R drops columns that are zero in the sample *and* in the population.
    sample_total = mm.T @ ww
    keep = ~((pop == 0) & np.all(mm == 0, axis=0))
    mmk, popk = mm[:, keep], pop[keep]

    notes: list[str] = []
    failed = None
    if calfun == "linear" and lo == -math.inf and hi == math.inf:
        # survey:::regcalibrate: g = 1 + X (X'WX)^{-1} (T - t̂).
        whalf = np.sqrt(ww)
        a = mmk * whalf[:, None]
        tmat = a.T @ a
        tt = _ginv(tmat) @ (popk - sample_total[keep])
        g = 1.0 + mmk @ tt
        iterations = 1
        if trim_t is not None:
            notes.append(
                "trim ignored: R's calibrate() uses the closed-form linear calibration "
                "when there are no bounds, and that path does not trim"
            )
            trim_t = None
    else:
        fm1, df = _calfun(calfun)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            g, iterations, failed, scale = _grake(mmk, ww, fm1, df, lo, hi, popk, epsilon,
                                                  maxit)
        if scale is not None and (math.isfinite(lo) or math.isfinite(hi)):
            notes.append(
                f"weights rescaled by {scale:.6g} before calibration (every population total "
                "exceeds its sample estimate more than 20 times); as in R, the bounds apply "
                "to g relative to the rescaled weights"
            )
    converged = failed is None and bool(np.all(np.isfinite(g)))

    trimmed = 0
    if trim_t is not None:
        t_lo, t_hi = trim_t
        gnew = np.maximum(t_lo, np.minimum(g, t_hi))
        outside = (g < t_lo) | (g > t_hi)
        trimmed = int(outside.sum())
        if trimmed:
            excess = float(np.sum((g - gnew) * ww))
            gnew[~outside] = gnew[~outside] + excess / float(np.sum(ww[~outside]))
            g = gnew

    weights = g * ww
    achieved = mm.T @ weights
    adjustment = CalibrationAdjustment(
        kind="greg", design_weights=_frozen(ww), model=_frozen(mmk), g=_frozen(g)
    )
    return CalibrationResult(
        method=calfun, weights=_frozen(weights), g=_frozen(g), converged=converged,
        iterations=int(iterations), names=names, targets=_frozen(pop),
        achieved=_frozen(achieved), max_misfit=_misfit(pop, achieved),
        diagnostics=weight_diagnostics(weights), adjustment=adjustment, trimmed=trimmed,
        notes=tuple(notes),
    )


# ------------------------------------------------------------ post-stratify and rake


@dataclass(frozen=True)
class Margin:
    """One categorical margin: each unit's level code and the population total per level.

    ``codes`` are integers ``0..len(levels)-1``; ``targets[k]`` is the population total of
    ``levels[k]``.  Levels with a zero total and no sample unit may be listed.
    """

    name: str
    codes: np.ndarray
    levels: tuple[str, ...]
    targets: np.ndarray

    def __post_init__(self) -> None:
        codes = np.asarray(self.codes)
        if codes.ndim != 1 or not np.issubdtype(codes.dtype, np.integer):
            raise CalibrationError(f"margin {self.name!r}: codes must be a 1-D integer array")
        targets = np.asarray(self.targets, dtype=float)
        if targets.shape != (len(self.levels),):
            raise CalibrationError(
                f"margin {self.name!r}: {targets.size} totals for {len(self.levels)} levels"
            )
        if codes.size and (codes.min() < 0 or codes.max() >= len(self.levels)):
            raise CalibrationError(f"margin {self.name!r}: codes outside 0..{len(self.levels) - 1}")
        if not np.all(np.isfinite(targets)):
            raise CalibrationError(f"margin {self.name!r}: population totals must be finite")
        neg = np.flatnonzero(targets < 0)
        if neg.size:
            k = neg[0]
            raise CalibrationError(
                f"margin {self.name!r}: population total for level {self.levels[k]!r} is "
                f"negative ({targets[k]:g})"
            )
        object.__setattr__(self, "codes", codes.astype(np.intp, copy=False))
        object.__setattr__(self, "targets", _frozen(targets))
        object.__setattr__(self, "levels", tuple(str(v) for v in self.levels))


def _check_margin_support(
    m: Margin, w: np.ndarray, counts: np.ndarray | None = None,
    sample: np.ndarray | None = None,
) -> np.ndarray:
    """Sample totals per level, with R's postStratify checks (counts/sample may be given)."""
    if counts is None:
        counts = np.bincount(m.codes, minlength=len(m.levels))
    if sample is None:
        sample = np.bincount(m.codes, weights=w, minlength=len(m.levels))
    for k, level in enumerate(m.levels):
        if counts[k] > 0 and m.targets[k] == 0:
            raise CalibrationError(
                f"margin {m.name!r}: level {level!r} has {counts[k]} sample unit(s) but a "
                "population total of 0"
            )
        if counts[k] == 0 and m.targets[k] > 0:
            raise CalibrationError(
                f"margin {m.name!r}: level {level!r} has a population total of "
                f"{m.targets[k]:g} but no sample unit"
            )
        if counts[k] > 0 and sample[k] == 0:
            raise CalibrationError(
                f"margin {m.name!r}: level {level!r} has only zero-weight sample units"
            )
    return sample


def poststratify(design_weights: np.ndarray, margin: Margin) -> CalibrationResult:
    """Post-stratify weights as R's ``postStratify``.

    Each unit's weight is multiplied by ``N_h / N̂_h``, the population total of its
    post-stratum over the weighted sample count.  A cross-classified margin (``a:b``) is
    one margin whose levels are the cells.  Post-strata with a positive population total
    and no sample unit are an error (R's ``partial = FALSE``), as are sampled levels with a
    zero population total.
    """
    w = _check_weights(design_weights)
    if margin.codes.shape[0] != w.shape[0]:
        raise CalibrationError(
            f"margin {margin.name!r} has {margin.codes.shape[0]} codes for {w.shape[0]} weights"
        )
    sample = _check_margin_support(margin, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        reweight = np.where(sample > 0, margin.targets / sample, 0.0)
    # R: design$prob <- design$prob / reweight[index]; weights = 1 / prob.
    new = w * reweight[margin.codes]
    g = reweight[margin.codes]
    achieved = np.bincount(margin.codes, weights=new, minlength=len(margin.levels))
    names = tuple(f"{margin.name}={lv}" for lv in margin.levels)
    adjustment = CalibrationAdjustment(
        kind="poststratify", design_weights=_frozen(w), codes=margin.codes,
        weights=_frozen(new),
    )
    return CalibrationResult(
        method="poststratify", weights=_frozen(new), g=_frozen(g), converged=True,
        iterations=1, names=names, targets=margin.targets, achieved=_frozen(achieved),
        max_misfit=_misfit(margin.targets, achieved), diagnostics=weight_diagnostics(new),
        adjustment=adjustment,
    )


def rake(
    design_weights: np.ndarray,
    margins: Sequence[Margin],
    *,
    maxit: int | None = None,
    epsilon: float | None = None,
    criterion: str = "misfit",
) -> CalibrationResult:
    """Rake weights to several margins by iterative proportional fitting (R's ``rake``).

    Each pass post-stratifies to every margin in turn.  Unlike R's default ``control``
    (``maxit = 10``, ``epsilon = 1``: stop when no cell of the joint table changes by a
    unit of weight), the iteration runs until every margin total is reproduced to
    ``epsilon`` relative (``|achieved - target| / (1 + |target|)``) after a full pass, or
    ``maxit`` passes; a failure to converge is reported in ``converged``.  The fixed point
    is the one R reaches with a tight ``control`` (and the raking-ratio solution of
    ``calibrate(calfun = "raking")``; Deville, Särndal & Sautory 1993).

    ``criterion="r"`` reproduces R's stopping rule exactly instead (to match output of
    R's ``rake()``, e.g. with its default ``control``): after each pass, stop when the
    largest change of any cell of the joint weighted table is below ``epsilon`` (taken as
    ``epsilon * Σ w`` when ``epsilon < 1``), at most ``maxit`` passes; defaults
    ``maxit = 10``, ``epsilon = 1``.  With ``criterion="misfit"`` the defaults are
    ``maxit = 1000``, ``epsilon = 1e-12``.

    Raking multiplies all units of a cell of the joint cross-classification by the same
    factor, so the iteration runs on the (small) table of cell totals and only the final
    multiplication touches the n units; this is what makes a million rows fast.
    """
    w = _check_weights(design_weights)
    if not margins:
        raise CalibrationError("rake needs at least one margin")
    if criterion not in ("misfit", "r"):
        raise CalibrationError(f"criterion must be 'misfit' or 'r', got {criterion!r}")
    if maxit is None:
        maxit = 10 if criterion == "r" else 1000
    if epsilon is None:
        epsilon = 1.0 if criterion == "r" else 1e-12
    if maxit < 1:
        raise CalibrationError("maxit must be at least 1")
    if not epsilon > 0:
        raise CalibrationError("epsilon must be positive")
    n = w.shape[0]
    for m in margins:
        if m.codes.shape[0] != n:
            raise CalibrationError(
                f"margin {m.name!r} has {m.codes.shape[0]} codes for {n} weights"
            )
    totals = [float(m.targets.sum()) for m in margins]
    for m, t in zip(margins[1:], totals[1:], strict=True):
        if abs(t - totals[0]) > 1e-6 * max(abs(totals[0]), 1.0):
            raise CalibrationError(
                f"margins {margins[0].name!r} and {m.name!r} have different population "
                f"totals ({totals[0]:.15g} and {t:.15g}); raking cannot reproduce both"
            )

    # Joint cell of each unit (mixed radix over the margins' levels), compressed.
    combined = np.zeros(n, dtype=np.int64)
    for m in margins:
        combined = combined * len(m.levels) + m.codes
    n_joint = math.prod(len(m.levels) for m in margins)
    if n_joint <= 1 << 24:
        # O(n) compression through a dense lookup table (no sort of the n codes); the
        # cell counts and weighted totals come from the same two passes.
        full_n = np.bincount(combined, minlength=n_joint)
        full_w = np.bincount(combined, weights=w, minlength=n_joint)
        occupied = np.flatnonzero(full_n)
        lookup = np.empty(n_joint, dtype=np.intp)
        lookup[occupied] = np.arange(occupied.size)
        cells, unit_cell = occupied.astype(np.int64), lookup[combined]
        cell_n, cell_w = full_n[occupied], full_w[occupied]
    else:
        codes_, uniq = pd.factorize(combined, sort=True)
        cells, unit_cell = np.asarray(uniq, dtype=np.int64), np.asarray(codes_, dtype=np.intp)
        cell_n = np.bincount(unit_cell, minlength=cells.size)
        cell_w = np.bincount(unit_cell, weights=w, minlength=cells.size)
    cell_level = []
    rem = cells.copy()
    for m in reversed(margins):
        cell_level.append((rem % len(m.levels)).astype(np.intp))
        rem //= len(m.levels)
    cell_level.reverse()
    for m, lv in zip(margins, cell_level, strict=True):
        _check_margin_support(
            m, w, counts=np.bincount(lv, weights=cell_n, minlength=len(m.levels)),
            sample=np.bincount(lv, weights=cell_w, minlength=len(m.levels)),
        )

    g = np.ones(cells.size)
    factors: list[np.ndarray] = []
    converged = False
    passes = 0
    targets = [m.targets for m in margins]
    # R's rule: absolute change of the joint table, epsilon relative to Σw when < 1
    r_eps = epsilon * float(np.sum(w)) if epsilon < 1 else epsilon
    old_table = cell_w.copy()
    while passes < maxit:
        passes += 1
        factors = []
        for m, lv, tg in zip(margins, cell_level, targets, strict=True):
            tot = np.bincount(lv, weights=cell_w * g, minlength=len(m.levels))
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(tot > 0, tg / tot, 0.0)
            g = g * ratio[lv]
            factors.append(g.copy())
        if criterion == "r":
            new_table = cell_w * g
            delta = float(np.max(np.abs(old_table - new_table)))
            if delta < r_eps:
                converged = True
                break
            old_table = new_table
            continue
        worst = 0.0
        for m, lv, tg in zip(margins, cell_level, targets, strict=True):
            tot = np.bincount(lv, weights=cell_w * g, minlength=len(m.levels))
            worst = max(worst, _misfit(tg, tot))
        if worst < epsilon:
            converged = True
            break

    unit_g = g[unit_cell]
    new = w * unit_g
    names: list[str] = []
    tg_all: list[np.ndarray] = []
    ach_all: list[np.ndarray] = []
    for m, lv in zip(margins, cell_level, strict=True):
        names.extend(f"{m.name}={level}" for level in m.levels)
        tg_all.append(m.targets)
        # achieved totals from the cell table (the same sums, grouped by cell first)
        ach_all.append(np.bincount(lv, weights=cell_w * g, minlength=len(m.levels)))
    tgt = np.concatenate(tg_all)
    ach = np.concatenate(ach_all)
    adjustment = CalibrationAdjustment(
        kind="rake", design_weights=_frozen(w), codes=unit_cell,
        margin_cells=tuple(cell_level), margin_factors=tuple(_frozen(f) for f in factors),
    )
    return CalibrationResult(
        method="rake", weights=_frozen(new), g=_frozen(unit_g), converged=converged,
        iterations=passes, names=tuple(names), targets=_frozen(tgt), achieved=_frozen(ach),
        max_misfit=_misfit(tgt, ach), diagnostics=weight_diagnostics(new),
        adjustment=adjustment,
    )


# ------------------------------------------------------------- totals from a DataFrame


def _label(v: Any) -> str:
    """One value as the string the totals file uses (integers without ``.0``)."""
    if isinstance(v, bool | np.bool_):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        f = float(v)
        if math.isfinite(f) and f == round(f) and abs(f) < 2**53:
            return str(int(f))
        return format(f, ".15g")
    return str(v)


def _factorize(col: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes of each unit and the string label of each code (factorize first: the label
    conversion then touches only the distinct values, which keeps a million rows fast)."""
    if getattr(col.dtype, "storage", None) == "pyarrow" and hasattr(col.array, "__arrow_array__"):
        # Arrow-backed strings (pandas' default string dtype): Arrow's hash encoding is
        # about twice as fast as pandas.factorize on them.
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = col.array.__arrow_array__()
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        enc = pc.dictionary_encode(arr)
        codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
        return codes, [_label(u) for u in enc.dictionary.to_pylist()]
    codes, uniques = pd.factorize(col, sort=False)
    return np.asarray(codes, dtype=np.intp), [_label(u) for u in np.asarray(uniques)]


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CalibrationError(f"{what}: population total must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise CalibrationError(f"{what}: population total must be finite, got {value!r}")
    if v < 0:
        raise CalibrationError(f"{what}: population total is negative ({v:g})")
    return v


def _column(data: pd.DataFrame, name: str, key: str) -> pd.Series:
    if name not in data.columns:
        raise CalibrationError(f"calibration margin {key!r}: no column {name!r} in the data")
    col = data[name]
    nmiss = int(col.isna().sum())
    if nmiss:
        raise CalibrationError(
            f"calibration margin {key!r}: column {name!r} has {nmiss} missing value(s); "
            "calibration variables must be complete"
        )
    return col


@dataclass(frozen=True)
class CalibrationModel:
    """Calibration variables built from a DataFrame and a totals mapping.

    ``margins`` are the categorical margins (a cross margin ``a:b`` is one margin with
    levels ``"levelA:levelB"``), ``numeric`` the numeric variables with their totals and
    ``intercept`` the population size if given.  :meth:`model_matrix` gives the indicator /
    numeric model matrix whose column space is R's ``~ a + b + x`` (all levels of every
    margin; the redundancy is harmless because g depends only on the column space and the
    Newton step uses a generalised inverse as R's grake does).
    """

    margins: tuple[Margin, ...]
    numeric: tuple[tuple[str, np.ndarray, float], ...]
    intercept: float | None
    n: int
    _keys: tuple[tuple[str, str | None], ...] = field(repr=False, default=())

    def model_matrix(self, full: bool = False) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
        """``(X, totals, names)``; names ``"(Intercept)"``, ``"var=level"``, ``"x"``.

        By default the basis R's ``model.matrix(~ a + b + x)`` uses: an intercept (total
        N: the ``"(Intercept)"`` entry or the margins' common sum) and, for every
        categorical margin, the indicators of all its levels but the first in code-point
        order (R's treatment contrasts; the first level's total is implied).  The column
        space -- hence g -- is the same as with every indicator, but ``grake`` checks
        convergence column by column, so matching R's columns makes it stop at R's
        iteration.  ``full=True`` gives one column per level (for reporting achieved
        totals in the totals file's shape).
        """
        cols: list[np.ndarray] = []
        tots: list[float] = []
        names: list[str] = []
        intercept = self.intercept
        if intercept is None and self.margins and not full:
            intercept = float(self.margins[0].targets.sum())
        if intercept is not None and not (full and self.intercept is None):
            cols.append(np.ones(self.n))
            tots.append(intercept)
            names.append(INTERCEPT)
        for m in self.margins:
            present = [k for k in range(len(m.levels))
                       if not (m.targets[k] == 0 and not np.any(m.codes == k))]
            if not full:
                present = sorted(present, key=lambda k: m.levels[k])[1:]
            for k in sorted(present):
                cols.append((m.codes == k).astype(float))
                tots.append(float(m.targets[k]))
                names.append(f"{m.name}={m.levels[k]}")
        for name, values, total in self.numeric:
            cols.append(values)
            tots.append(total)
            names.append(name)
        x = np.column_stack(cols) if cols else np.empty((self.n, 0))
        return x, np.array(tots), tuple(names)

    def nest(self, names: Sequence[str], values: Sequence[float]) -> dict[str, Any]:
        """Values keyed by total name, nested back into the totals file's shape."""
        flat = dict(zip(names, (float(v) for v in values), strict=True))
        out: dict[str, Any] = {}
        if INTERCEPT in flat:
            out[INTERCEPT] = flat[INTERCEPT]
        for m in self.margins:
            out[m.name] = {
                lv: flat[f"{m.name}={lv}"] for lv in m.levels if f"{m.name}={lv}" in flat
            }
        for name, _, _ in self.numeric:
            if name in flat:
                out[name] = flat[name]
        return out


def build_model(data: pd.DataFrame, totals: Mapping[str, Any]) -> CalibrationModel:
    """Validate a totals mapping against the data and build the calibration variables.

    Parameters
    ----------
    data : DataFrame
        The sample.
    totals : mapping
        The CLI's TOTALS.json: ``{"var": {"level": total, ...}}`` for a categorical margin,
        ``{"a:b": {"levelA:levelB": total, ...}}`` for a cross-classified margin,
        ``{"x": total}`` for a numeric variable and optionally ``{"(Intercept)": N}``.
        Category values are matched as strings (integers written without ``.0``).

    Raises
    ------
    CalibrationError
        Unknown column, missing values, a level present in the data but absent from the
        totals ("missing level"), a level with a positive total but no sample unit ("unknown
        level"), a negative or non-numeric total, a numeric margin on a non-numeric column,
        or margins whose totals disagree (every categorical margin must add up to the same
        N, and overlapping margins must agree on their shared variables).
    """
    if not isinstance(totals, Mapping) or not totals:
        raise CalibrationError("population totals must be a non-empty JSON object")
    n = len(data)
    margins: list[Margin] = []
    numeric: list[tuple[str, np.ndarray, float]] = []
    intercept: float | None = None
    factor_cache: dict[str, tuple[np.ndarray, list[str]]] = {}

    def factor(name: str, key: str) -> tuple[np.ndarray, list[str]]:
        if name not in factor_cache:
            factor_cache[name] = _factorize(_column(data, name, key))
        return factor_cache[name]

    for key, spec in totals.items():
        if not isinstance(key, str) or not key:
            raise CalibrationError(f"invalid calibration variable name {key!r}")
        if key == INTERCEPT:
            intercept = _number(spec, INTERCEPT)
            continue
        if isinstance(spec, Mapping):
            variables = key.split(":")
            if any(not v for v in variables):
                raise CalibrationError(f"invalid calibration margin name {key!r}")
            unit_codes, labels = factor(variables[0], key)
            for v in variables[1:]:
                c2, l2 = factor(v, key)
                combined = unit_codes.astype(np.int64) * len(l2) + c2
                unit_codes, cells = pd.factorize(combined, sort=False)
                unit_codes = np.asarray(unit_codes, dtype=np.intp)
                labels = [f"{labels[c // len(l2)]}:{l2[c % len(l2)]}" for c in cells]
            if not spec:
                raise CalibrationError(f"calibration margin {key!r} has no levels")
            levels: list[str] = []
            targets: list[float] = []
            for lv, tot in spec.items():
                lv = str(lv)
                if len(variables) > 1 and len(lv.split(":")) != len(variables):
                    raise CalibrationError(
                        f"calibration margin {key!r}: level {lv!r} must have "
                        f"{len(variables)} parts separated by ':'"
                    )
                levels.append(lv)
                targets.append(_number(tot, f"calibration margin {key!r}, level {lv!r}"))
            present = labels
            known = set(levels)
            missing = sorted(str(v) for v in present if v not in known)
            if missing:
                raise CalibrationError(
                    f"calibration margin {key!r}: level(s) {', '.join(map(repr, missing))} "
                    "occur in the data but have no population total"
                )
            index = {lv: k for k, lv in enumerate(levels)}
            lookup = np.array([index[v] for v in labels], dtype=np.intp)
            codes = lookup[unit_codes]
            counts = np.bincount(codes, minlength=len(levels))
            for k, lv in enumerate(levels):
                if counts[k] == 0 and targets[k] > 0:
                    raise CalibrationError(
                        f"calibration margin {key!r}: unknown level {lv!r} (population "
                        f"total {targets[k]:g}) has no sample unit; levels in the data: "
                        f"{', '.join(sorted(str(v) for v in present))}"
                    )
            margins.append(Margin(key, codes, tuple(levels), np.array(targets)))
        else:
            total = _number(spec, f"calibration variable {key!r}")
            col = _column(data, key, key)
            values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
            if np.any(~np.isfinite(values)):
                raise CalibrationError(
                    f"calibration variable {key!r} has a single total, so it must be a "
                    "numeric column; it has non-numeric values (give {level: total} for a "
                    "categorical margin)"
                )
            numeric.append((key, values, total))

    # Consistency: all categorical margins estimate the same N, and margins sharing
    # variables must agree on the shared sub-table.
    sizes = [(m.name, float(m.targets.sum())) for m in margins]
    if intercept is not None:
        sizes.insert(0, (INTERCEPT, intercept))
    for name, size in sizes[1:]:
        ref_name, ref = sizes[0]
        if abs(size - ref) > 1e-6 * max(abs(ref), 1.0):
            raise CalibrationError(
                f"inconsistent population totals: {ref_name!r} adds up to {ref:.15g} but "
                f"{name!r} adds up to {size:.15g}"
            )
    by_vars = {m.name: m.name.split(":") for m in margins}
    for i, a in enumerate(margins):
        for b in margins[i + 1:]:
            shared = [v for v in by_vars[a.name] if v in by_vars[b.name]]
            if not shared:
                continue
            sub_a = _collapse(a, by_vars[a.name], shared)
            sub_b = _collapse(b, by_vars[b.name], shared)
            for lv in [*sub_a, *(k for k in sub_b if k not in sub_a)]:
                ta, tb = sub_a.get(lv, 0.0), sub_b.get(lv, 0.0)
                if abs(ta - tb) > 1e-6 * max(abs(ta), abs(tb), 1.0):
                    raise CalibrationError(
                        f"inconsistent population totals: margins {a.name!r} and {b.name!r} "
                        f"give {ta:.15g} and {tb:.15g} for {':'.join(shared)} = {lv!r}"
                    )
    return CalibrationModel(tuple(margins), tuple(numeric), intercept, n)


def _collapse(m: Margin, variables: list[str], shared: list[str]) -> dict[str, float]:
    pos = [variables.index(v) for v in shared]
    out: dict[str, float] = {}
    for lv, t in zip(m.levels, m.targets, strict=True):
        parts = lv.split(":") if len(variables) > 1 else [lv]
        k = ":".join(parts[p] for p in pos)
        out[k] = out.get(k, 0.0) + float(t)
    return out


METHODS = ("poststratify", "rake", "linear", "raking", "logit")


def calibrate_frame(
    data: pd.DataFrame,
    design_weights: np.ndarray,
    totals: Mapping[str, Any],
    method: str,
    *,
    bounds: Sequence[float] | None = None,
    trim: Sequence[float] | None = None,
    maxit: int | None = None,
    epsilon: float | None = None,
    rake_criterion: str = "misfit",
) -> tuple[CalibrationResult, CalibrationModel]:
    """The ``calibrate`` subcommand's computation: totals mapping -> calibrated weights.

    ``method`` is ``poststratify`` (exactly one categorical margin, possibly ``a:b``),
    ``rake`` (categorical margins only; IPF to convergence) or a ``calibrate`` distance
    ``linear``/``raking``/``logit`` (any margins).  ``maxit``/``epsilon`` default to R's
    (50, 1e-7) for calibrate and to (1000, 1e-12) for rake.  Returns the result and the
    model (use ``model.nest(result.names, result.achieved)`` for the CLI's ``achieved``).
    """
    if method not in METHODS:
        raise CalibrationError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    model = build_model(data, totals)
    w = _check_weights(design_weights)
    if w.shape[0] != model.n:
        raise CalibrationError(f"{w.shape[0]} weights for {model.n} rows")
    if method in ("poststratify", "rake"):
        if model.numeric:
            raise CalibrationError(
                f"method {method!r} takes categorical margins only; numeric variable "
                f"{model.numeric[0][0]!r} needs method linear, raking or logit"
            )
        if bounds is not None or trim is not None:
            raise CalibrationError(f"bounds and trim apply to calibrate methods, not {method!r}")
        if method == "poststratify":
            if len(model.margins) != 1:
                raise CalibrationError(
                    "poststratify takes exactly one margin (use 'a:b' for a cross-"
                    f"classification), got {len(model.margins)}"
                )
            return poststratify(w, model.margins[0]), model
        return rake(
            w, model.margins, maxit=maxit, epsilon=epsilon, criterion=rake_criterion,
        ), model
    x, tots, names = model.model_matrix()
    result = calibrate(
        w, x, tots, calfun=method, bounds=bounds, trim=trim,
        maxit=50 if maxit is None else maxit, epsilon=1e-7 if epsilon is None else epsilon,
        names=names,
    )
    # report every level's achieved total (the totals file's shape), not R's contrasts
    xf, tf, nf = model.model_matrix(full=True)
    achieved = xf.T @ result.weights
    result = dataclasses.replace(
        result, names=nf, targets=_frozen(tf), achieved=_frozen(achieved),
        max_misfit=_misfit(tf, achieved),
    )
    return result, model
