"""Key-driver analysis: which dimensions of an index go together with overall satisfaction.

Two steps, both plain functions:

- :func:`respondent_scores` scores every node of an index tree (:mod:`analysis.indices`)
  *per respondent*: an item by its rule, a dimension by combining the respondent's valid
  item scores, the overall index by combining the respondent's dimension scores.
- :func:`key_drivers` fits the survey-weighted linear regression (:func:`analysis.glm.glm`,
  R's ``svyglm``) of an outcome — typically the overall satisfaction question — on the
  driver scores, and reports each driver's coefficient and its standardised effect with
  design-based standard errors and confidence intervals, sorted by effect.

What the numbers mean, and what they do not: a coefficient is the difference in the
outcome associated with one more point of the driver *holding the other drivers fixed*;
it is an association in the population the design describes, not a causal effect, and
correlated drivers share their influence (a driver may look weak only because another one
carries what they have in common). The standardised effect ``b · sd(x) / sd(y)`` puts the
drivers on one scale (standard deviations of the outcome per standard deviation of the
driver); its interval treats the two standard deviations as known, the usual convention
(Lumley 2010, §5.2 for the regression itself).

References
----------
Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, ch. 5. Wiley.
Johnson, J. W. and LeBreton, J. M. (2004). History and use of relative importance indices
in organizational research. *Organizational Research Methods* 7, 238–257.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._data import is_numeric, resolve
from .design import SurveyDesign
from .errors import DataError
from .indices import IndexDefinition

__all__ = ["Driver", "DriverResult", "key_drivers", "respondent_scores"]

_SYNTACTIC = re.compile(r"^[A-Za-z.][A-Za-z0-9._]*$")


def _n_rows(data: Any) -> int:
    if isinstance(data, Mapping):
        return len(next(iter(data.values()))) if data else 0
    return len(data)


def _combine(kind: str, scores: np.ndarray, valid: np.ndarray, weights: np.ndarray,
             min_share: float) -> np.ndarray:
    """Per row: ``kind`` of the valid children's scores (NaN without enough of them).

    ``"mean"`` averages the valid children; ``"weighted"`` takes their weighted average;
    ``"sum"`` is prorated — the weighted average of the valid children times the sum of
    all the children's weights — so that a respondent who skipped an item keeps the
    node's range instead of scoring as if the item were zero.
    """
    k = scores.shape[1]
    count = valid.sum(axis=1)
    enough = (count > 0) & (count >= min_share * k - 1e-12)
    w = weights if kind != "mean" else np.ones(k)
    wv = valid * w[None, :]
    tw = wv.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        avg = (wv * np.where(valid, scores, 0.0)).sum(axis=1) / tw
    if kind == "sum":
        avg = avg * float(w.sum())
    return np.where(enough & (tw > 0), avg, np.nan)


def respondent_scores(definition: IndexDefinition, data: Any, *,
                      min_share: float = 0.5) -> dict[str, np.ndarray]:
    """Every node of the index scored for every respondent (row of ``data``).

    Parameters
    ----------
    definition : IndexDefinition
    data : DataFrame or mapping of columns
        The answers, with a column per item (``item.column`` or its name).
    min_share : float
        A dimension (the overall index) is scored for a respondent who has valid scores
        on at least this share of its items (dimensions) — the "half rule" of scale
        scores by default — and on one at least; otherwise NaN. ``0``: any valid item
        (right when skip logic leaves items out on purpose: the score is then over the
        items that applied). ``na``/``dk``/missing answers are not valid.

    Returns
    -------
    dict
        Node name → float array (NaN where the respondent has no score): every item,
        every dimension and, when the definition has one, the overall index. Items are on
        their rule's scale (a top-box item is 0/1); a dimension combines its items as the
        definition says (``"sum"`` prorated over the valid items); the overall index
        combines the dimensions the same way.

    Raises
    ------
    DataError
        A missing column, an answer the item's rule refuses, ``min_share`` outside [0, 1].

    Notes
    -----
    The respondent-level score differs from the index estimate of
    :func:`analysis.indices.compute_index`, which is a ratio of weighted totals over all
    respondents (the dimension averages the item *estimates*); both agree when every
    respondent answers every item.
    """
    if not 0 <= min_share <= 1:
        raise DataError("min_share must be in [0, 1]")
    n = _n_rows(data)
    out: dict[str, np.ndarray] = {}
    dim_scores, dim_valid = [], []
    for dim in definition.dimensions:
        S = np.zeros((n, len(dim.items)))
        V = np.zeros((n, len(dim.items)), dtype=bool)
        for j, it in enumerate(dim.items):
            col = resolve(it.column or it.name, data, n, "index item", j)
            s, valid, _na, _dk, _miss = it.rule.score(col.values, it.name)
            S[:, j], V[:, j] = s, valid
            out[it.name] = np.where(valid, s, np.nan)
        score = _combine(dim.combine, S, V, np.array([it.weight for it in dim.items]),
                         min_share)
        out[dim.name] = score
        dim_scores.append(score)
        dim_valid.append(np.isfinite(score))
    if definition.overall is not None:
        S = np.column_stack(dim_scores)
        V = np.column_stack(dim_valid)
        out[definition.name] = _combine(definition.overall, np.nan_to_num(S), V,
                                        np.array([d.weight for d in definition.dimensions]),
                                        min_share)
    return out


# ------------------------------------------------------------------------------ the model
@dataclass(frozen=True)
class Driver:
    """One driver of the model.

    ``coefficient`` (outcome points per driver point) and ``standardized`` (outcome SDs
    per driver SD) with their design-based SEs and intervals; ``p_value`` of the
    coefficient (Student's t, the model's residual df); ``mean`` and ``sd`` of the driver
    over the rows used (weighted).
    """

    name: str
    label: str
    coefficient: float
    se: float
    ci_low: float
    ci_high: float
    standardized: float
    standardized_se: float
    standardized_ci_low: float
    standardized_ci_high: float
    t: float
    p_value: float
    mean: float
    sd: float

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            out[k] = None if isinstance(v, float) and not math.isfinite(v) else v
        return out


@dataclass(frozen=True)
class DriverResult:
    """A key-driver model: the drivers sorted by standardised effect (largest first).

    ``intercept``/``intercept_se``; ``r_squared`` is the weighted share of the outcome's
    variance the drivers explain over the rows used (``1 - Σw e² / Σw (y - ȳ)²``);
    ``n`` rows used; ``df_residual`` as ``svyglm``; ``outcome_mean``/``outcome_sd`` weighted;
    ``model`` the :class:`analysis.glm.GLMResult`.
    """

    outcome: str
    drivers: tuple[Driver, ...]
    intercept: float
    intercept_se: float
    r_squared: float
    n: int
    df_residual: float
    outcome_mean: float
    outcome_sd: float
    confidence_level: float
    model: Any

    def to_records(self) -> list[dict[str, Any]]:
        return [d.to_dict() for d in self.drivers]


def _term(name: str) -> str:
    return name if _SYNTACTIC.match(name) else "`" + name.replace("`", "") + "`"


def _weighted_moments(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    tw = float(w.sum())
    m = float((w * x).sum()) / tw
    return m, math.sqrt(float((w * (x - m) ** 2).sum()) / tw)


def key_drivers(design: SurveyDesign, outcome: str, drivers: Sequence[str], *,
                labels: Mapping[str, str] | None = None,
                confidence_level: float = 0.95) -> DriverResult:
    """Survey-weighted linear regression of ``outcome`` on the ``drivers`` (``svyglm``).

    Parameters
    ----------
    design : SurveyDesign
        Its data hold the outcome and the driver columns (numbers; NaN where missing).
    outcome : str
        The column of the outcome (e.g. overall satisfaction, 1–5).
    drivers : sequence of str
        The driver columns (e.g. :func:`respondent_scores` of the dimensions); at least one.
    labels : mapping, optional
        Display label of each driver (default: its name).
    confidence_level : float

    Returns
    -------
    DriverResult

    Raises
    ------
    DataError
        Unknown or non-numeric columns, no drivers or a repeated one, a driver without
        variation among the rows used (its coefficient cannot be estimated), no residual
        degrees of freedom, a constant outcome.

    Notes
    -----
    Rows with a missing outcome or driver are left out of the fit while the design keeps
    all its PSUs (``svyglm``'s rule). The coefficients, SEs, t and p-values are
    :func:`analysis.glm.glm`'s; the standardised effect is ``b · sd(x) / sd(y)`` with the
    weighted standard deviations over the rows used, its SE ``se(b) · sd(x) / sd(y)``.
    """
    from .glm import glm

    if not 0 < confidence_level < 1:
        raise DataError("confidence_level must be between 0 and 1")
    drivers = list(drivers)
    if not drivers:
        raise DataError("key_drivers: give at least one driver")
    if len(set(drivers)) != len(drivers) or outcome in drivers:
        raise DataError("key_drivers: the outcome and the drivers must be distinct columns")
    n = design.n_rows
    for k, name in enumerate([outcome, *drivers]):
        col = resolve(name, design.data, n, "outcome" if k == 0 else "driver", k)
        if not is_numeric(col.values):
            raise DataError(f"key_drivers: {name!r} is not numeric")
    formula = f"{_term(outcome)} ~ " + " + ".join(_term(d) for d in drivers)
    model = glm(formula, design, "gaussian")
    rows = model.rows & (design.effective_weights() != 0)
    if not model.df_residual > 0:
        raise DataError("key_drivers: no residual degrees of freedom (too few PSUs for "
                        "the number of drivers)")
    bad = [d for d, b in zip(drivers, model.coef[1:], strict=True) if not math.isfinite(b)]
    if bad:
        raise DataError(f"key_drivers: {', '.join(bad)} cannot be estimated (no variation, "
                        "or a combination of the other drivers)")
    w = design.effective_weights()[rows]
    y = np.asarray(resolve(outcome, design.data, n, "outcome").values, dtype=float)[rows]
    y_mean, y_sd = _weighted_moments(y, w)
    if not y_sd > 0:
        raise DataError(f"key_drivers: the outcome {outcome!r} does not vary")
    # the fitted values are those of the model frame's rows (model.rows), in order
    resid = y - model.fitted[design.effective_weights()[model.rows] != 0]
    r2 = 1.0 - float((w * resid ** 2).sum()) / float((w * (y - y_mean) ** 2).sum())
    ci = model.confidence_intervals(confidence_level)
    se, t, p = model.se, model.t, model.p_value
    names = labels or {}
    out = []
    for k, d in enumerate(drivers, start=1):
        x = np.asarray(resolve(d, design.data, n, "driver", k).values, dtype=float)[rows]
        x_mean, x_sd = _weighted_moments(x, w)
        scale = x_sd / y_sd
        out.append(Driver(
            name=d, label=str(names.get(d, d)), coefficient=float(model.coef[k]),
            se=float(se[k]), ci_low=float(ci[k, 0]), ci_high=float(ci[k, 1]),
            standardized=float(model.coef[k] * scale), standardized_se=float(se[k] * scale),
            standardized_ci_low=float(ci[k, 0] * scale),
            standardized_ci_high=float(ci[k, 1] * scale), t=float(t[k]),
            p_value=float(p[k]), mean=x_mean, sd=x_sd))
    out.sort(key=lambda d: -d.standardized)
    return DriverResult(outcome, tuple(out), float(model.coef[0]), float(se[0]), r2,
                        int(model.n), float(model.df_residual), y_mean, y_sd,
                        float(confidence_level), model)
