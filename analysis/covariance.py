"""The design-based covariance matrix that regression and tests of association use.

:func:`analysis.variance.domain_variance` gives variances (the diagonal) of many
estimates over many domains at once. The Rao-Scott design-effect matrix of ``svychisq``
(Rao and Scott 1984) and the sandwich variance of ``svyglm`` coefficients (Binder 1983)
need the whole covariance matrix of a few estimates: R survey's ``svyrecvar`` on a
matrix of scores, which :func:`analysis.variance.score_covariance` computes (strata,
clusters, multistage fpc, lonely-PSU rules, calibration residuals). This module is the
single place :mod:`analysis.glm` and :mod:`analysis.svytests` get it from.

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

from .design import SurveyDesign

__all__ = ["score_covariance"]


def score_covariance(design: SurveyDesign, scores: np.ndarray) -> np.ndarray:
    """Covariance of the estimated totals of the columns of ``scores`` (``svyrecvar``).

    Parameters
    ----------
    design : SurveyDesign
        A linearisation design; its active rows (:meth:`SurveyDesign.subset`) are the
        rows observed, which decides the strata that exist for the lonely-PSU rules.
    scores : (n,) or (n, J) float
        Weighted linearised scores, zero outside the active rows.

    Returns
    -------
    (J, J) float
        NaN where R gives NaN (``lonely_psu="average"`` when every stratum of a unit
        has a single PSU: R's ``0 * n / 0``).

    Raises
    ------
    LonelyPSUError
        A stratum with one PSU has active rows and ``lonely_psu="fail"``.

    References
    ----------
    Binder (1983); Lumley (2010), appendix C.
    """
    from .variance import score_covariance as svyrecvar

    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(svyrecvar(design, scores), dtype=float)
