"""Design-based tests: Rao-Scott chi-square for a two-way table and the two-group t-test.

:func:`chisq` is R survey's ``svychisq`` (its ``"F"`` and ``"Chisq"`` statistics):
Pearson's X^2 of the weighted table, corrected by the eigenvalues of the design-effect
matrix ``Delta`` of the interaction contrasts (Rao and Scott 1984). The first-order
correction divides X^2 by the mean eigenvalue and refers it to chi-square on
``(r - 1)(c - 1)`` df; the second-order (default) one refers ``X^2 / tr(Delta)`` to an
F distribution with ``d0 = tr(Delta)^2 / tr(Delta^2)`` and ``d0 * nu`` degrees of
freedom, ``nu`` being the design's PSUs minus strata (Rao and Scott 1984; Thomas and
Rao 1987).

:func:`ttest` is ``svyttest(y ~ g)``: the coefficient of the group indicator in the
survey-weighted linear regression of ``y`` on ``g``, i.e. the difference of the two
domain means, with its design-based standard error and the regression's residual
degrees of freedom (Lumley 2010, §5.2).

References
----------
Rao, J. N. K. and Scott, A. J. (1984). On chi-squared tests for multiway contingency
tables with cell proportions estimated from survey data. *Annals of Statistics* 12, 46-60.
Thomas, D. R. and Rao, J. N. K. (1987). Small-sample comparisons of level and power for
simple goodness-of-fit statistics under cluster sampling. *JASA* 82, 630-636.
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, ch. 5-6. Wiley.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._data import factorize, format_value, is_missing, is_numeric, resolve
from .covariance import score_covariance
from .design import SurveyDesign
from .errors import DataError
from .formula import ModelFrame
from .glm import design_rows, fit_frame

__all__ = ["CHISQ_STATISTICS", "ChisqResult", "TTestResult", "chisq", "ttest"]

#: the statistics of :func:`chisq` (R's ``svychisq(statistic=)`` names)
CHISQ_STATISTICS = ("F", "Chisq")

_RAO_SCOTT = "Pearson's X^2: Rao & Scott adjustment"


def _clean(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class ChisqResult:
    """A Rao-Scott test of association in a two-way table.

    Attributes
    ----------
    statistic_name : {"F", "Chisq"}
    statistic : float
        ``F``: ``X^2 / tr(Delta)``. ``Chisq``: Pearson's X^2 of the weighted table
        scaled to the sample size (as R reports it; the p-value uses
        ``X^2 / mean(eigenvalues)``).
    ndf, ddf : float or None
        Degrees of freedom of the F reference distribution (``statistic="F"``).
    df : float or None
        Degrees of freedom of the chi-square reference (``statistic="Chisq"``).
    p_value : float
    method : str
        R's method string.
    pearson : float
        The uncorrected X^2.
    design_effects : (k,) float
        Eigenvalues of the design-effect matrix ``Delta``.
    variables : tuple of str
    """

    statistic_name: str
    statistic: float
    ndf: float | None
    ddf: float | None
    df: float | None
    p_value: float
    method: str
    pearson: float
    design_effects: np.ndarray
    variables: tuple[str, str]

    def to_dict(self) -> dict[str, Any]:
        """The command line's record: ``ndf``/``ddf`` for F, ``df`` for Chisq."""
        out: dict[str, Any] = {"statistic": _clean(self.statistic)}
        if self.statistic_name == "F":
            out["ndf"] = _clean(self.ndf)
            out["ddf"] = _clean(self.ddf)
        else:
            out["df"] = _clean(self.df)
        out["p_value"] = _clean(self.p_value)
        out["method"] = self.method
        return out


@dataclass(frozen=True)
class TTestResult:
    """A design-based t-test of the difference of two domain means.

    Attributes
    ----------
    estimate : float
        Mean of the second group minus the mean of the first (groups in code-point or
        numeric order).
    se, t, df, p_value : float
        ``df`` is the residual df of the regression, ``degf(design) - 1``.
    ci_low, ci_high : float
        ``estimate ± t(df) · se`` at ``confidence_level``.
    confidence_level : float
    groups : tuple of str
        The two groups, first the reference.
    variable, by : str
    method : str
    """

    estimate: float
    se: float
    t: float
    df: float
    p_value: float
    ci_low: float
    ci_high: float
    confidence_level: float
    groups: tuple[str, str]
    variable: str
    by: str
    method: str = "Design-based t-test"

    def to_dict(self) -> dict[str, Any]:
        return {"estimate": _clean(self.estimate), "se": _clean(self.se), "t": _clean(self.t),
                "df": _clean(self.df), "p_value": _clean(self.p_value),
                "ci_low": _clean(self.ci_low), "ci_high": _clean(self.ci_high)}


def _categorical(spec: Any, design: SurveyDesign, role: str, pos: int):
    col = resolve(spec, design.data, design.n_rows, role, pos)
    miss = is_missing(col.values)
    codes, labels = factorize(col.values, miss)
    return col.name, codes, [format_value(v) for v in labels]


def chisq(
    design: SurveyDesign, rows: Any, cols: Any, statistic: str = "F"
) -> ChisqResult:
    """Rao-Scott test of independence of two categorical variables (``svychisq``).

    Parameters
    ----------
    design : SurveyDesign
    rows, cols : column name or array
        The two variables; numbers are treated as categories. Rows where either is
        missing are left out, domain-style (R's ``na.rm=TRUE``).
    statistic : {"F", "Chisq"}
        ``"F"`` (R's default): second-order Rao-Scott correction with an F reference;
        ``"Chisq"``: first-order correction, chi-square reference.

    Returns
    -------
    ChisqResult

    Raises
    ------
    DataError
        Unknown statistic or column, a variable with fewer than two categories.
    LonelyPSUError
        A stratum with a single PSU and ``lonely_psu="fail"``.

    Notes
    -----
    Followed line by line from ``survey:::svychisq.survey.design``: the cell means of
    the ``r x c`` interaction indicators with their full design covariance ``V``, the
    contrasts ``C`` of the interaction columns orthogonal to the main effects,
    ``Delta = (C' D^-1 C / N)^-1 C' D^-1 V D^-1 C`` with ``D`` the diagonal of cell
    proportions and ``N`` the number of rows, and Pearson's X^2 of the weighted table
    scaled to ``N`` rows. ``nu`` counts PSUs minus strata over all rows of the design.

    References
    ----------
    Rao and Scott (1984); Lumley (2010), §6.2.
    """
    if not isinstance(design, SurveyDesign):
        raise DataError("design must be a SurveyDesign")
    if statistic not in CHISQ_STATISTICS:
        raise DataError(
            f"statistic must be one of {', '.join(CHISQ_STATISTICS)}; got {statistic!r}"
        )
    act = design_rows(design)
    rname, rcode, _ = _categorical(rows, design, "rows", 0)
    cname, ccode, _ = _categorical(cols, design, "cols", 1)
    # R: levels are the distinct values among the design's rows
    rlev = np.unique(rcode[act & (rcode >= 0)])
    clev = np.unique(ccode[act & (ccode >= 0)])
    nr, nc = len(rlev), len(clev)
    for name, k in ((rname, nr), (cname, nc)):
        if k < 2:
            raise DataError(
                f"{name} has {k} categor{'y' if k == 1 else 'ies'}: a two-way table "
                "needs at least two of each variable"
            )
    rmap = np.full(int(rcode.max()) + 1, -1, dtype=np.int64)
    rmap[rlev] = np.arange(nr)
    cmap = np.full(int(ccode.max()) + 1, -1, dtype=np.int64)
    cmap[clev] = np.arange(nc)
    present = design.active & (rcode >= 0) & (ccode >= 0)
    ri = np.where(present, rmap[np.maximum(rcode, 0)], -1)
    ci = np.where(present, cmap[np.maximum(ccode, 0)], -1)
    cell = np.where(present, ri + nr * ci, -1)  # interaction(): rows vary fastest
    K = nr * nc
    N = float(np.count_nonzero(act))
    replicate = getattr(design, "is_replicate", False)
    if replicate:
        nu = design.degf()  # svychisq.svyrep.design
    else:
        st = design.stages[0]
        nu = len(np.unique(st.cluster[act])) - len(np.unique(st.cluster_stratum[st.cluster[act]]))

    w = np.where(present, design.weights, 0.0)
    W = float(w.sum())
    if not W > 0:
        raise DataError("no rows with non-zero weight have both variables")
    idx = np.flatnonzero(present)
    counts = np.bincount(cell[idx], weights=w[idx], minlength=K)
    mean2 = counts / W
    ind = np.zeros((len(idx), K))
    ind[np.arange(len(idx)), cell[idx]] = 1.0
    if replicate:
        # svymean.svyrep.design: cell proportions under every replicate, svrVar
        rw = design.replicate_weights[idx]
        with np.errstate(divide="ignore", invalid="ignore"):
            reps = (rw.T @ ind) / rw.sum(axis=0)[:, None]
        V = np.asarray(design.replicate_covariance(reps, mean2), dtype=float)
    else:
        # svymean's scores: w (indicator - p) / W, on the rows observed
        scores = np.zeros((design.n_rows, K))
        scores[idx] = w[idx][:, None] * (ind - mean2[None, :]) / W
        V = score_covariance(design.subset(present), scores)

    # Pearson's X^2 of the table scaled to N (svytable(..., Ntotal = N))
    table = (counts * N / counts.sum()).reshape(nc, nr).T
    E = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        x2 = float(np.sum((table - E) ** 2 / E))

    # contrasts: interaction columns of ~rows*cols, residualised on the main effects
    r_of = np.tile(np.arange(nr), nc)
    c_of = np.repeat(np.arange(nc), nr)
    X1 = np.column_stack(
        [np.ones(K)]
        + [(r_of == a).astype(float) for a in range(1, nr)]
        + [(c_of == b).astype(float) for b in range(1, nc)]
    )
    X12 = np.column_stack(
        [((r_of == a) & (c_of == b)).astype(float) for b in range(1, nc) for a in range(1, nr)]
    )
    Q, _ = np.linalg.qr(X1)
    C = X12 - Q @ (Q.T @ X12)
    with np.errstate(divide="ignore"):
        inv_p = np.where(mean2 == 0, 0.0, 1.0 / mean2)
    CiD = C * inv_p[:, None]
    denom = C.T @ CiD / N
    numr = CiD.T @ V @ CiD
    delta = np.linalg.solve(denom, numr)
    tr = float(np.trace(delta))
    tr2 = float(np.trace(delta @ delta))
    d0 = tr * tr / tr2
    eig = np.sort(np.linalg.eigvals(delta).real)[::-1]

    from scipy.special import chdtrc, fdtrc

    if statistic == "F":
        stat = x2 / tr
        p = float(fdtrc(d0, d0 * nu, stat)) if nu > 0 else math.nan
        return ChisqResult("F", stat, d0, d0 * nu, None, p, _RAO_SCOTT, x2, eig,
                           (rname, cname))
    k = delta.shape[1]
    p = float(chdtrc(k, x2 / (tr / k)))
    return ChisqResult("Chisq", x2, None, None, float(k), p, _RAO_SCOTT, x2, eig,
                       (rname, cname))


def ttest(
    design: SurveyDesign, variable: Any, by: Any, confidence_level: float = 0.95
) -> TTestResult:
    """Design-based t-test for the difference of the means of two groups (``svyttest``).

    Parameters
    ----------
    design : SurveyDesign
    variable : column name or array
        The numeric outcome.
    by : column name or array
        The grouping variable: exactly two distinct values among the design's rows
        (text or numbers; the first in code-point or numeric order is the reference).
    confidence_level : float

    Returns
    -------
    TTestResult
        ``estimate`` is the second group's mean minus the first's.

    Raises
    ------
    DataError
        A non-numeric outcome, a grouping variable without exactly two groups.

    Notes
    -----
    R fits ``svyglm(y ~ g)`` and reports the coefficient of ``g``: a domain contrast
    whose variance counts every PSU of the design. Rows with a missing outcome or
    group are left out, keeping the design. The degrees of freedom are the
    regression's residual df, ``degf - 1`` (R's ``m$df.resid``).

    References
    ----------
    Lumley (2010), §5.2.
    """
    if not isinstance(design, SurveyDesign):
        raise DataError("design must be a SurveyDesign")
    if not 0 < confidence_level < 1:
        raise DataError(f"confidence_level must be between 0 and 1, got {confidence_level!r}")
    n = design.n_rows
    ycol = resolve(variable, design.data, n, "variable")
    if not is_numeric(ycol.values):
        raise DataError(f"{ycol.name!r} is not numeric: a t-test compares means")
    gname, gcode, glabels = _categorical(by, design, "by", 0)
    act = design_rows(design)
    y = ycol.values.astype(float)
    levels = np.unique(gcode[act & (gcode >= 0)])
    if len(levels) != 2:
        shown = ", ".join(glabels[k] for k in levels[:5]) + (", ..." if len(levels) > 5 else "")
        raise DataError(
            f"group must be binary: {gname!r} has {len(levels)} groups"
            + (f" ({shown})" if len(levels) else "")
        )
    rows = act & ~np.isnan(y) & (gcode >= 0)
    if not rows.any():
        raise DataError(f"no rows with both {ycol.name!r} and {gname!r}")
    idx = np.flatnonzero(rows)
    g = (gcode[idx] == levels[1]).astype(float)
    X = np.column_stack([np.ones(len(idx)), g])
    label = f"{gname}{glabels[levels[1]]}"
    frame = ModelFrame(X=X, columns=("(Intercept)", label), y=y[idx], y_codes=None,
                       y_levels=None, rows=rows, response=ycol.name)
    fit = fit_frame(frame, design, "gaussian", f"{ycol.name} ~ {gname}")
    est = float(fit.coef[1])
    se = float(fit.se[1])
    df = float(fit.df_residual)
    t = est / se if se > 0 else math.nan
    if df > 0:
        from scipy.special import stdtr, stdtrit

        p = float(2 * stdtr(df, -abs(t)))
        q = float(stdtrit(df, 1 - (1 - confidence_level) / 2))
        lo, hi = est - q * se, est + q * se
    else:
        p = lo = hi = math.nan
    return TTestResult(
        estimate=est, se=se, t=t, df=df, p_value=p, ci_low=lo, ci_high=hi,
        confidence_level=confidence_level,
        groups=(glabels[levels[0]], glabels[levels[1]]), variable=ycol.name, by=gname,
    )
