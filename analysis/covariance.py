"""Full design-based covariance matrix of the totals of several score columns.

:func:`analysis.variance.domain_variance` gives the variances (the diagonal) of many
estimates over many domains at once. Tests of association and regression models need
the whole covariance matrix of a few estimates instead: the Rao-Scott design-effect
matrix of ``svychisq`` (Rao and Scott 1984) and the sandwich variance of the
coefficients of ``svyglm`` (Binder 1983). This module computes it with the same
recursion as R survey's ``svyrecvar`` → ``multistage`` → ``onestage`` → ``onestrat``:
for every stage, the sum over strata of

    sum_i scale_i (z_hi - zbar_h)(z_hi - zbar_h)^T,   scale = f n_h / (n_h - 1)

where ``z_hi`` are the unit totals of the scores and ``zbar_h`` their mean over all
``n_h`` sampled units of the stratum (units without observed rows count as zeros, so a
subpopulation keeps its design). Later stages (only with an fpc) are multiplied by the
sampling fractions of the enclosing units. Single-PSU strata follow the design's
``lonely_psu`` policy exactly as the diagonal version does.

References
----------
Binder, D. A. (1983). On the variances of asymptotically normal estimators from complex
surveys. *International Statistical Review* 51, 279-292.
Rao, J. N. K. and Scott, A. J. (1984). On chi-squared tests for multiway contingency
tables with cell proportions estimated from survey data. *Annals of Statistics* 12, 46-60.
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley, appendix C.
"""

from __future__ import annotations

import numpy as np

from .design import Stage, SurveyDesign
from .errors import DataError, LonelyPSUError

__all__ = ["linearisation_covariance", "score_covariance"]


def _sums(index: np.ndarray, M: np.ndarray, size: int) -> np.ndarray:
    out = np.empty((size, M.shape[1]))
    for j in range(M.shape[1]):
        out[:, j] = np.bincount(index, weights=M[:, j], minlength=size)
    return out


def linearisation_covariance(
    design: SurveyDesign, scores: np.ndarray, present: np.ndarray | None = None
) -> np.ndarray:
    """Covariance matrix of the estimated totals of the columns of ``scores``.

    Parameters
    ----------
    design : SurveyDesign
    scores : (n,) or (n, J) float
        Weighted linearised scores (influence functions times weights), zero for rows
        that do not take part.
    present : (n,) bool, optional
        Rows observed for the estimates (in the design's subset, not missing). Decides
        which strata exist, as the rows of a subset do in R (it matters for
        ``lonely_psu="fail"`` and ``"average"``). Defaults to the design's active rows
        with non-zero score or weight.

    Returns
    -------
    (J, J) float ndarray
        ``svyrecvar(scores, ...)``; NaN where R gives NaN (``"average"`` when every
        stratum has a single PSU).

    Raises
    ------
    LonelyPSUError
        A stratum with one PSU has observed rows and ``lonely_psu="fail"``.

    References
    ----------
    Binder (1983); Lumley (2010), appendix C.
    """
    U = np.asarray(scores, dtype=float)
    if U.ndim == 1:
        U = U[:, None]
    if U.ndim != 2 or U.shape[0] != design.n_rows:
        raise DataError(
            f"scores must have one row per unit ({design.n_rows}); got shape {U.shape}"
        )
    if present is None:
        present = design.active.copy()
    present = np.asarray(present, dtype=bool)
    J = U.shape[1]
    out = np.zeros((J, J))
    for s, stage in enumerate(design.stages):
        out += _stage_cov(design.lonely_psu, s, stage, U, present)
    return out


def _stage_cov(policy: str, s: int, stage: Stage, U, present) -> np.ndarray:
    G = stage.n_clusters
    H = stage.n_strata
    Z = _sums(stage.cluster, U, G)  # totals of every sampled unit of this stage
    ch = stage.cluster_stratum
    nh = stage.n_psu.astype(float)
    zbar = _sums(ch, Z, H) / nh[:, None]
    dev = Z - zbar[ch]
    # strata (and clusters) with observed rows: those R's subset still contains
    cl_present = np.bincount(stage.cluster, weights=present, minlength=G) > 0
    h_present = np.bincount(ch, weights=cl_present, minlength=H) > 0
    weight = stage.scale * stage.multiplier[ch]
    cert = stage.certainty
    lonely = (stage.n_psu == 1) & ~cert
    if lonely.any() and policy == "fail":
        bad = lonely & h_present
        if bad.any():
            h = int(np.flatnonzero(bad)[0])
            raise LonelyPSUError(
                f"Stratum ({stage.stratum_labels[h]}) has only one PSU at stage {s + 1}"
            )
    if lonely.any() and policy == "adjust":
        # R does not centre a lonely PSU under "adjust": its total is the deviation
        # from the (already centred) overall mean
        dev[lonely[ch]] = Z[lonely[ch]]
    zero = cert | (lonely & (policy != "adjust"))
    weight = np.where(zero[ch], 0.0, weight)
    if lonely.any() and policy == "average":
        # onestage: sum over the strata present, times n_strata / n_ok_strata, within
        # every unit of the previous stage
        parent = stage.stratum_parent
        n_par = int(parent.max(initial=0)) + 1
        nstrat = np.bincount(parent, weights=h_present, minlength=n_par)
        nok = np.bincount(parent, weights=h_present & ~lonely, minlength=n_par)
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(nstrat > 0, nstrat / nok, 1.0)
        if not np.all(np.isfinite(factor)):
            return np.full((U.shape[1], U.shape[1]), np.nan)
        weight = weight * factor[parent[ch]]
    return (dev * weight[:, None]).T @ dev


def score_covariance(design: SurveyDesign, scores: np.ndarray) -> np.ndarray:
    """Covariance of the totals of ``scores``: the library's variance when it has one.

    Uses :func:`analysis.variance.score_covariance` where that exists (it also handles
    calibrated designs), else :func:`linearisation_covariance`.
    """
    from . import variance

    fn = getattr(variance, "score_covariance", None)
    if fn is not None:
        # R's "average" rule gives NaN (0 * Inf) when every stratum is lonely
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(fn(design, scores), dtype=float)
    return linearisation_covariance(design, scores)
