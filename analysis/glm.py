"""Survey-weighted generalised linear models with design-based standard errors (``svyglm``).

The coefficients solve the weighted score equations ``sum_i w_i x_i (y_i - mu_i) / V(mu_i)
g'(mu_i) = 0`` (a pseudo-likelihood, Binder 1983): a GLM fitted with the sampling weights
as prior weights. Their variance is the sandwich ``A^-1 V A^-1`` of Binder (1983), where
``V`` is the design-based covariance of the totals of the estimating functions — the
linearisation of :mod:`analysis.covariance`, so strata, clusters, multistage fpc and
lonely-PSU rules all apply. This is R survey's ``svyglm`` (Lumley 2010, ch. 5), and the
numbers are R's:

- the model is fitted by iteratively reweighted least squares exactly as R's
  ``glm.fit`` does (same starting values, the same stopping rule
  ``|dev - dev_old| / (|dev| + 0.1) < 1e-8``, weights rescaled to mean one), so the
  last digits of the coefficients and of the working weights that enter the variance
  are those R stops at;
- ``estfun = X * working residual * working weight``, ``A^-1`` is ``summary.glm``'s
  ``cov.unscaled``, and the covariance is ``svyrecvar(estfun %*% A^-1)``
  (``survey:::svy.varcoef``);
- residual degrees of freedom ``degf(design) + 1 - rank``; t statistics and p-values
  use them for every family (``summary.svyglm``);
- the dispersion is ``svyvar`` of the Pearson residuals;
- rows with a missing model variable are left out of the fit but the design keeps all
  its PSUs (R drops the rows from the design, which leaves the sampled PSU counts
  unchanged: the same variance); a calibrated design's variance uses the calibration
  residuals of the scores (:func:`analysis.variance.score_covariance`);
- on a replicate-weight design the model is refitted with every replicate's weights
  (normalised to sum one, started at the full-sample estimate) and the replicate
  coefficients combined by ``svrVar`` (``svyglm.svyrep.design``); its dispersion is
  ``summary.svrepglm``'s ``sum(w r^2) / sum(w)``.

statsmodels' ``GLM`` gives the same coefficients to its own convergence tolerance
(the tests check it); its stopping rule differs from R's, which shows in the sixth
digit of standard errors of logistic models, hence the R-faithful loop here.

References
----------
Binder, D. A. (1983). On the variances of asymptotically normal estimators from complex
surveys. *International Statistical Review* 51, 279-292.
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, ch. 5. Wiley.
McCullagh, P. and Nelder, J. A. (1989). *Generalized Linear Models*, 2nd ed., §2.5.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _logit as _lg
from .covariance import score_covariance
from .design import SurveyDesign
from .errors import AnalysisWarning, DataError
from .formula import Formula, ModelFrame, model_frame, parse_formula

__all__ = ["FAMILIES", "Coefficient", "GLMResult", "glm", "fit_frame"]

#: families of :func:`glm`, R's names
FAMILIES = ("gaussian", "binomial", "quasibinomial")

_EPS = _lg.EPS
_EPSILON = 1e-8  # glm.control()$epsilon
_MAXIT = 25  # glm.control()$maxit
_ALIAS_TOL = 1e-7


# ------------------------------------------------------------------ families (R's C code)
class _Family:
    def __init__(self, name: str) -> None:
        self.name = name
        self.logit = name != "gaussian"

    def linkfun(self, mu):
        return np.log(mu / (1 - mu)) if self.logit else mu

    def linkinv(self, eta):
        return _lg.linkinv(eta) if self.logit else eta

    def mu_eta(self, eta):
        return _lg.mu_eta(eta) if self.logit else np.ones_like(eta)

    def variance(self, mu):
        return mu * (1 - mu) if self.logit else np.ones_like(mu)

    def dev_resids(self, y, mu, wt):
        if self.logit:
            return _lg.binomial_dev_resids(y, mu, wt)
        return wt * (y - mu) ** 2

    def mustart(self, y, wt):
        if self.logit:
            return (wt * y + 0.5) / (wt + 1)
        return y.copy()


# ------------------------------------------------------------------ results
def _clean(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class Coefficient:
    """One row of the coefficient table (R's ``summary(svyglm)$coefficients``)."""

    term: str
    estimate: float
    se: float
    t: float
    p_value: float

    def to_dict(self) -> dict[str, Any]:
        return {"term": self.term, "estimate": _clean(self.estimate), "se": _clean(self.se),
                "t": _clean(self.t), "p_value": _clean(self.p_value)}


@dataclass(frozen=True, eq=False)
class GLMResult:
    """A fitted survey-weighted GLM.

    Attributes
    ----------
    formula : str
    family : {"gaussian", "binomial", "quasibinomial"}
    terms : tuple of str
        Coefficient names as R gives them.
    coef : (p,) float
        Estimates; NaN for a coefficient aliased with earlier ones (R's ``NA``).
    cov : (p, p) float
        Design-based covariance (``vcov(svyglm)``); NaN rows for aliased terms.
    df_residual : float
        ``degf(design) + 1 - rank``.
    dispersion : float
        ``svyvar`` of the Pearson residuals (``summary(svyglm)$dispersion``).
    n : int
        Rows used (no missing model variable, non-zero weight).
    iterations : int
    converged : bool
    fitted : (n_used,) float
        Fitted means of the rows used.
    rows : (n,) bool
        The rows used in the fit (of the design's data).
    response_levels : tuple of str or None
        For a categorical response of a binomial model: its levels; the model is for
        the probability of any level but the first.
    """

    formula: str
    family: str
    terms: tuple[str, ...]
    coef: np.ndarray
    cov: np.ndarray
    df_residual: float
    dispersion: float
    n: int
    iterations: int
    converged: bool
    fitted: np.ndarray
    rows: np.ndarray
    response_levels: tuple[str, ...] | None = None

    @property
    def se(self) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.sqrt(np.diag(self.cov))

    @property
    def t(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.coef / self.se

    @property
    def p_value(self) -> np.ndarray:
        """Two-sided p-values from Student's t with ``df_residual`` degrees of freedom."""
        if not self.df_residual > 0:
            return np.full(len(self.coef), np.nan)
        from scipy.special import stdtr

        return 2 * stdtr(self.df_residual, -np.abs(self.t))

    @property
    def coefficients(self) -> tuple[Coefficient, ...]:
        se, t, p = self.se, self.t, self.p_value
        return tuple(
            Coefficient(self.terms[k], float(self.coef[k]), float(se[k]), float(t[k]),
                        float(p[k]))
            for k in range(len(self.terms))
        )

    def confidence_intervals(self, confidence_level: float = 0.95) -> np.ndarray:
        """Wald intervals ``coef ± t(df_residual) · se`` as R's ``confint.svyglm``;
        a (p, 2) array, NaN when ``df_residual <= 0``."""
        if not 0 < confidence_level < 1:
            raise DataError(f"confidence_level must be between 0 and 1, got {confidence_level!r}")
        if not self.df_residual > 0:
            return np.full((len(self.coef), 2), np.nan)
        from scipy.special import stdtrit

        q = stdtrit(self.df_residual, 1 - (1 - confidence_level) / 2)
        se = self.se
        return np.column_stack([self.coef - q * se, self.coef + q * se])

    def to_records(self) -> list[dict[str, Any]]:
        """The command line's output: one dict per coefficient, then the model row
        ``{"term": None, "df_residual", "dispersion"}``."""
        rows: list[dict[str, Any]] = [c.to_dict() for c in self.coefficients]
        rows.append({"term": None, "df_residual": _clean(self.df_residual),
                     "dispersion": _clean(self.dispersion)})
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {"formula": self.formula, "family": self.family,
                "coefficients": [c.to_dict() for c in self.coefficients],
                "df_residual": _clean(self.df_residual),
                "dispersion": _clean(self.dispersion), "n": int(self.n)}

    def __repr__(self) -> str:
        return (f"<GLMResult {self.family}: {self.formula}; {len(self.terms)} coefficients, "
                f"df_residual={self.df_residual:g}, n={self.n}>")


# ------------------------------------------------------------------ fitting
def _aliased(Xw: np.ndarray) -> np.ndarray:
    """Columns linearly dependent on earlier ones (R's QR with limited pivoting)."""
    p = Xw.shape[1]
    keep: list[int] = []
    out = np.zeros(p, dtype=bool)
    for j in range(p):
        col = Xw[:, j]
        norm = float(np.linalg.norm(col))
        if keep:
            Q, _ = np.linalg.qr(Xw[:, keep])
            res = col - Q @ (Q.T @ col)
        else:
            res = col
        if norm == 0 or float(np.linalg.norm(res)) < _ALIAS_TOL * norm:
            out[j] = True
        else:
            keep.append(j)
    return out


def _irls(X: np.ndarray, y: np.ndarray, prior: np.ndarray, fam: _Family,
          start: np.ndarray | None = None):
    """R's ``glm.fit``; returns coef, eta, mu, working weights, A^-1, iterations, conv."""
    n, p = X.shape
    if start is None:
        eta = fam.linkfun(fam.mustart(y, prior))
    else:
        eta = X @ start
    mu = fam.linkinv(eta)
    devold = float(np.sum(fam.dev_resids(y, mu, prior)))
    conv = False
    coef = np.zeros(p)
    w = np.zeros(n)
    good = prior > 0
    R = np.eye(p)
    it = 0
    for it in range(1, _MAXIT + 1):  # noqa: B007 - the count is reported
        mu_eta = fam.mu_eta(eta)
        good = (prior > 0) & (mu_eta != 0)
        z = eta[good] + (y - mu)[good] / mu_eta[good]
        wg = np.sqrt(prior[good] * mu_eta[good] ** 2 / fam.variance(mu)[good])
        Q, R = np.linalg.qr(X[good] * wg[:, None])
        coef = np.linalg.solve(R, Q.T @ (z * wg))
        w = np.zeros(n)
        w[good] = wg
        eta = X @ coef
        mu = fam.linkinv(eta)
        dev = float(np.sum(fam.dev_resids(y, mu, prior)))
        if not math.isfinite(dev):
            raise DataError("the model cannot be fitted: the deviance is not finite")
        if abs(dev - devold) / (abs(dev) + 0.1) < _EPSILON:
            conv = True
            break
        devold = dev
    Rinv = np.linalg.solve(R, np.eye(p))
    ainv = Rinv @ Rinv.T
    return coef, eta, mu, w * w, ainv, it, conv


def design_rows(design: SurveyDesign) -> np.ndarray:
    """The rows R's design object holds: a subset of a calibrated design keeps every row
    (``[.survey.design2`` gives them zero weight), any other subset drops them."""
    if getattr(design, "is_calibrated", False) and not getattr(design, "is_replicate", False):
        return np.ones(design.n_rows, dtype=bool)
    return np.asarray(design.active, dtype=bool)


def fit_frame(
    frame: ModelFrame,
    design: SurveyDesign,
    family: str = "gaussian",
    formula_text: str = "",
) -> GLMResult:
    """Fit a survey-weighted GLM to an evaluated model frame.

    :func:`glm` parses a formula and calls this; :func:`analysis.svytests.ttest` builds
    its frame directly.
    """
    if family not in FAMILIES:
        raise DataError(f"family must be one of {', '.join(FAMILIES)}; got {family!r}")
    fam = _Family(family)
    rows = frame.rows
    idx = np.flatnonzero(rows)
    # R rescales the weights to mean one over the design's rows (rescale=TRUE); the
    # coefficients do not depend on it, the Pearson residuals (dispersion) do
    w_design = design.effective_weights()
    base = design_rows(design)
    mean_w = float(np.mean(w_design[base]))
    prior = w_design[idx] / mean_w
    if frame.y is None:
        if family == "gaussian":
            raise DataError(
                f"the response {frame.response} is categorical: a gaussian model needs "
                "numbers (use family binomial for a two-level response)"
            )
        y = (frame.y_codes != 0).astype(float)
    else:
        y = frame.y.astype(float)
    if fam.logit:
        if np.any((y < 0) | (y > 1)):
            raise DataError(f"{family}: y values must be 0 <= y <= 1 "
                            f"(response {frame.response})")
        if family == "binomial":
            m = prior * y
            if np.any(np.abs(m - np.round(m)) > 0.001):
                warnings.warn("non-integer #successes in a binomial glm!", AnalysisWarning,
                              stacklevel=3)
    if not np.any(prior > 0):
        raise DataError("no rows with non-zero weight in the model")
    X = frame.X
    p_all = X.shape[1]
    if p_all == 0:
        raise DataError("the model has no coefficients")
    pos = prior > 0
    alias = _aliased(X[pos] * np.sqrt(prior[pos])[:, None])
    Xk = X[:, ~alias]
    coef_k, eta, mu, wt, ainv, it, conv = _irls(Xk, y, prior, fam)
    if not conv:
        warnings.warn("glm.fit: algorithm did not converge", AnalysisWarning, stacklevel=3)
    if fam.logit:
        eps = 10 * _EPS
        if np.any(pos & ((mu > 1 - eps) | (mu < eps))):
            warnings.warn("glm.fit: fitted probabilities numerically 0 or 1 occurred",
                          AnalysisWarning, stacklevel=3)
    rank = int(Xk.shape[1])
    wd = w_design[idx]
    W = float(np.sum(wd))
    if getattr(design, "is_replicate", False):
        cov_k = _replicate_cov(design, Xk, y, idx, fam, coef_k)
        # svyglm.svyrep.design takes degf before dropping incomplete rows
        df_resid = float(design.degf() + 1 - rank)
        # summary.svrepglm: sum(pw * r^2) / sum(pw), Pearson residuals divided by
        # sqrt(pw / sum(pw)) of the rows used: the constant sqrt(sum_used / mean_all)
        with np.errstate(divide="ignore", invalid="ignore"):
            pearson = (y - mu) * math.sqrt(W / mean_w) / np.sqrt(fam.variance(mu))
        pearson = np.where(prior > 0, pearson, 0.0)
        dispersion = float(np.sum(wd * pearson * pearson)) / W
    else:
        resid_working = (y - mu) / fam.mu_eta(eta)
        estfun = Xk * (resid_working * wt)[:, None]
        scores = np.zeros((design.n_rows, Xk.shape[1]))
        scores[idx] = estfun @ ainv
        cov_k = score_covariance(design.subset(rows), scores)
        df_resid = float(design.degf(rows=rows) + 1 - rank)
        # summary.svyglm: svyvar(resid(fit, "pearson"), design), where residuals.svyglm
        # divides the prior weights by the design weights rescaled to mean one over the
        # rows of the design left after dropping incomplete rows: sqrt(wts / pwts) is
        # the constant sqrt(mean_used / mean_all)
        n_left = int(np.count_nonzero(base)) if getattr(design, "is_calibrated", False) \
            else len(idx)
        mean_used = W / n_left
        with np.errstate(divide="ignore", invalid="ignore"):
            pearson = (y - mu) * math.sqrt(mean_used / mean_w) / np.sqrt(fam.variance(mu))
        pearson = np.where(prior > 0, pearson, 0.0)
        n_nz = int(np.count_nonzero(wd))
        rbar = float(np.sum(wd * pearson)) / W
        dev = pearson - rbar
        dispersion = (float(np.sum(wd * dev * dev * n_nz / (n_nz - 1))) / W
                      if n_nz > 1 else math.nan)

    coef = np.full(p_all, np.nan)
    coef[~alias] = coef_k
    cov = np.full((p_all, p_all), np.nan)
    keep = np.flatnonzero(~alias)
    cov[np.ix_(keep, keep)] = cov_k
    return GLMResult(
        formula=formula_text,
        family=family,
        terms=frame.columns,
        coef=coef,
        cov=cov,
        df_residual=df_resid,
        dispersion=dispersion,
        n=int(np.count_nonzero(prior)),
        iterations=int(it),
        converged=bool(conv),
        fitted=mu,
        rows=rows,
        response_levels=frame.y_levels,
    )


def _replicate_cov(design, X, y, idx, fam: _Family, beta0: np.ndarray) -> np.ndarray:
    """``svyglm.svyrep.design``: refit with every replicate's weights (normalised to sum
    one, started at the full-sample coefficients) and combine with ``svrVar``."""
    if not np.all(np.isfinite(beta0)):
        raise DataError(f"Infinite/NA values in estimate ({', '.join(map(str, beta0))})")
    rw = design.replicate_weights[idx]
    betas = np.empty((rw.shape[1], X.shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)
        for r in range(rw.shape[1]):
            wi = rw[:, r]
            betas[r] = _irls(X, y, wi / wi.sum(), fam, start=beta0)[0]
    return np.asarray(design.replicate_covariance(betas, beta0), dtype=float)


def glm(formula: str | Formula, design: SurveyDesign, family: str = "gaussian") -> GLMResult:
    """Fit a survey-weighted generalised linear model, as R's ``svyglm``.

    Parameters
    ----------
    formula : str or Formula
        An R model formula on the columns of ``design.data``, e.g.
        ``"api00 ~ ell + meals + factor(stype)"``; see :mod:`analysis.formula`.
    design : SurveyDesign
        Its data hold the model variables; a subset design fits the subpopulation.
    family : {"gaussian", "binomial", "quasibinomial"}
        Identity link for gaussian, logit for the binomial families (their
        coefficients and standard errors are identical; R's ``binomial`` warns about
        non-integer successes with survey weights, as it does here).

    Returns
    -------
    GLMResult

    Raises
    ------
    DataError
        Unknown columns, a categorical response for gaussian, a response outside [0, 1]
        for the binomial families, a factor with one level, no usable rows.
    LonelyPSUError
        A stratum with a single PSU and ``lonely_psu="fail"``.

    Notes
    -----
    A categorical response of a binomial model is "success" for every level but the
    first (R's rule for factors). Rows with a missing value in any model variable are
    left out, keeping the design (all PSUs still count).

    References
    ----------
    Binder (1983); Lumley (2010), ch. 5.
    """
    if not isinstance(design, SurveyDesign):
        raise DataError("design must be a SurveyDesign")
    if design.data is None:
        raise DataError("the design has no data to evaluate the formula on")
    f = parse_formula(formula) if isinstance(formula, str) else formula
    if f.response is None:
        raise DataError(f"the formula needs a response: {f.text!r}")
    frame = model_frame(f, design.data, rows=design_rows(design))
    return fit_frame(frame, design, family, f.text)
