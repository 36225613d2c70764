"""Base weights and non-response adjustment by weighting classes.

The first two steps of weighting a fielded survey, before calibration
(:meth:`analysis.design.SurveyDesign.calibrate`):

1. **base weights** ``d_k = 1 / pi_k`` from the inclusion probabilities of the sampling
   plan (:func:`base_weights`);
2. **non-response adjustment by weighting classes** (:func:`nonresponse_adjustment`):
   within each class ``c`` (e.g. agency x channel), the respondents' weights are multiplied
   by the inverse of the class's weighted response rate,

       a_c = sum_{k in s_c, eligible} d_k / sum_{k in r_c} d_k,

   so that the respondents of a class carry the weight of every eligible sampled case of
   the class, and non-respondents get weight 0. Cases known to be ineligible keep their
   weight out of both sums (they are not part of the population); cases of unknown
   eligibility count as eligible in proportion ``unknown_eligible_share`` (AAPOR's *e*;
   1 treats them all as eligible non-respondents, the conservative default).

This is the weighting-class estimator of Oh & Scheuren (1983) and Lohr (2019, §8.5.2); it
assumes response is at random within classes. Classes with no respondent cannot be
adjusted: they are reported by name so the analyst can collapse them; nothing is guessed.

R's ``survey`` package has no direct equivalent beyond its seldom-used ``nonresponse()``
helpers; the usual R idiom (``postStratify`` of the respondents to the full sample's
weighted class counts) gives the same weights, and the tests check that identity.

References
----------
Lohr, S. L. (2019). *Sampling: Design and Analysis*, 2nd ed., §8.5. CRC Press.
Oh, H. L. and Scheuren, F. J. (1983). Weighting adjustment for unit nonresponse. In
*Incomplete Data in Sample Surveys*, vol. 2, 143-184. Academic Press.
Valliant, R., Dever, J. A. and Kreuter, F. (2018). *Practical Tools for Designing and
Weighting Survey Samples*, 2nd ed., ch. 13. Springer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .calibration import WeightDiagnostics, weight_diagnostics
from .errors import AnalysisError

__all__ = [
    "ClassAdjustment",
    "NonresponseResult",
    "WeightingError",
    "base_weights",
    "class_table",
    "nonresponse_adjustment",
]


class WeightingError(AnalysisError, ValueError):
    """Base weights or a non-response adjustment cannot be computed from the inputs."""


def base_weights(probs: Any) -> np.ndarray:
    """Design weights ``1 / pi`` from inclusion probabilities.

    Parameters
    ----------
    probs : array-like of float
        First-order inclusion probabilities (the overall ones for a multi-stage draw),
        each in (0, 1].

    Returns
    -------
    (n,) float, read-only

    Raises
    ------
    WeightingError
        A probability is missing, not a number, zero, negative or above 1 (the row is named).
    """
    try:
        p = np.asarray(probs, dtype=float)
    except (TypeError, ValueError):
        raise WeightingError("inclusion probabilities must be numbers") from None
    if p.ndim != 1:
        raise WeightingError("inclusion probabilities must be one value per unit")
    bad = ~np.isfinite(p) | (p <= 0) | (p > 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise WeightingError(f"inclusion probability of row {row + 1} is {p[row]!r}: every "
                             "probability must be in (0, 1]")
    w = 1.0 / p
    w.flags.writeable = False
    return w


@dataclass(frozen=True)
class ClassAdjustment:
    """One weighting class: its counts, its weighted response rate and its factor."""

    label: str
    n_sampled: int
    n_eligible: float
    n_respondents: int
    weighted_eligible: float
    weighted_respondents: float
    response_rate: float  # weighted: respondents' base weight / eligible base weight
    factor: float  # 1 / response_rate

    def to_dict(self) -> dict[str, Any]:
        return {
            "class": self.label, "n_sampled": self.n_sampled, "n_eligible": self.n_eligible,
            "n_respondents": self.n_respondents, "weighted_eligible": self.weighted_eligible,
            "weighted_respondents": self.weighted_respondents,
            "response_rate": self.response_rate, "factor": self.factor,
        }


@dataclass(frozen=True, eq=False)
class NonresponseResult:
    """Adjusted weights (0 for non-respondents and ineligible cases) and the class table."""

    weights: np.ndarray
    classes: tuple[ClassAdjustment, ...]
    diagnostics: WeightDiagnostics  # of the respondents' adjusted weights

    def to_dict(self) -> dict[str, Any]:
        return {"classes": [c.to_dict() for c in self.classes],
                "diagnostics": self.diagnostics.to_dict()}

    def __repr__(self) -> str:
        d = self.diagnostics
        return (f"NonresponseResult({len(self.classes)} classes, {d.n} respondents, "
                f"sum={d.sum:.6g}, deff_weighting={d.deff_weighting:.4g})")


def _labels(classes: Any, n: int) -> tuple[np.ndarray, list[str]]:
    if classes is None:
        return np.zeros(n, dtype=np.intp), ["(all)"]
    if isinstance(classes, pd.DataFrame):
        parts = [classes[c].astype(str).to_numpy() for c in classes.columns]
        joined = parts[0].astype(object)
        for part in parts[1:]:
            joined = joined + ":" + part.astype(object)
        series = pd.Series(joined)
    else:
        series = pd.Series(np.asarray(classes, dtype=object))
    if len(series) != n:
        raise WeightingError(f"classes has {len(series)} values for {n} units")
    if series.isna().any():
        row = int(np.flatnonzero(series.isna().to_numpy())[0])
        raise WeightingError(f"weighting class of row {row + 1} is missing")
    codes, uniques = pd.factorize(series.astype(str), sort=True)
    return np.asarray(codes, dtype=np.intp), [str(u) for u in uniques]


def _flags(values: Any, n: int, what: str) -> np.ndarray:
    a = np.asarray(values)
    if a.shape != (n,):
        raise WeightingError(f"{what} needs one value per unit ({n})")
    if a.dtype != bool:
        try:
            f = a.astype(float)
        except (TypeError, ValueError):
            raise WeightingError(f"{what} must be true/false for every unit") from None
        if np.isnan(f).any() or not np.isin(f, (0.0, 1.0)).all():
            raise WeightingError(f"{what} must be true/false for every unit")
        a = f.astype(bool)
    return a


def nonresponse_adjustment(
    weights: Any,
    responded: Any,
    classes: Any = None,
    *,
    eligible: Any = None,
    unknown_eligibility: Any = None,
    unknown_eligible_share: float = 1.0,
) -> NonresponseResult:
    """Adjust base weights for unit non-response within weighting classes.

    Parameters
    ----------
    weights : (n,) float
        Base weights of every sampled case (respondents and non-respondents).
    responded : (n,) bool
        Cases with a usable interview.
    classes : (n,) labels, a DataFrame of class columns (crossed), or None (one class)
    eligible : (n,) bool, optional
        False for cases found ineligible (AAPOR 4.x); they drop out. Default: all eligible.
    unknown_eligibility : (n,) bool, optional
        Cases whose eligibility is unknown (AAPOR 3.x); they count as eligible with weight
        share ``unknown_eligible_share`` (AAPOR's *e*).
    unknown_eligible_share : float in [0, 1]

    Returns
    -------
    NonresponseResult

    Raises
    ------
    WeightingError
        Negative or missing weights, a respondent marked ineligible, a class whose eligible
        cases have no respondent (named: collapse it with a neighbour), or inputs of the
        wrong length.
    """
    try:
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError):
        raise WeightingError("weights must be numbers") from None
    n = w.size
    if w.ndim != 1 or n == 0:
        raise WeightingError("weights must be one value per sampled case")
    if (~np.isfinite(w) | (w < 0)).any():
        row = int(np.flatnonzero(~np.isfinite(w) | (w < 0))[0])
        raise WeightingError(f"weight of row {row + 1} is {w[row]!r}: weights must be finite "
                             "and not negative")
    r = _flags(responded, n, "responded")
    elig = np.ones(n, dtype=bool) if eligible is None else _flags(eligible, n, "eligible")
    unknown = np.zeros(n, dtype=bool) if unknown_eligibility is None else \
        _flags(unknown_eligibility, n, "unknown_eligibility")
    if not (0.0 <= float(unknown_eligible_share) <= 1.0):
        raise WeightingError("unknown_eligible_share must be between 0 and 1")
    if (r & ~elig).any():
        row = int(np.flatnonzero(r & ~elig)[0])
        raise WeightingError(f"row {row + 1} responded but is marked ineligible")
    if (r & unknown).any():
        row = int(np.flatnonzero(r & unknown)[0])
        raise WeightingError(f"row {row + 1} responded but its eligibility is marked unknown")
    codes, labels = _labels(classes, n)
    k = len(labels)
    # eligible share of each case: 1 known eligible, e unknown, 0 ineligible
    share = np.where(unknown, float(unknown_eligible_share), elig.astype(float))
    w_elig = np.bincount(codes, weights=w * share, minlength=k)
    w_resp = np.bincount(codes, weights=np.where(r, w, 0.0), minlength=k)
    n_samp = np.bincount(codes, minlength=k)
    n_elig = np.bincount(codes, weights=share, minlength=k)
    n_resp = np.bincount(codes, weights=r.astype(float), minlength=k).astype(int)
    empty = [labels[c] for c in range(k) if w_elig[c] > 0 and w_resp[c] == 0]
    if empty:
        shown = ", ".join(repr(e) for e in empty[:10])
        more = f" and {len(empty) - 10} more" if len(empty) > 10 else ""
        raise WeightingError(f"weighting class {shown}{more} has eligible cases but no "
                             "respondent: collapse it with a similar class")
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(w_resp > 0, w_elig / w_resp, math.nan)
        rate = np.where(w_elig > 0, w_resp / w_elig, math.nan)
    adjusted = np.where(r, w * np.nan_to_num(factor[codes], nan=0.0), 0.0)
    adjusted.flags.writeable = False
    table = tuple(ClassAdjustment(labels[c], int(n_samp[c]), float(n_elig[c]), int(n_resp[c]),
                                  float(w_elig[c]), float(w_resp[c]), float(rate[c]),
                                  float(factor[c])) for c in range(k))
    if not r.any():
        raise WeightingError("no case responded")
    return NonresponseResult(adjusted, table, weight_diagnostics(adjusted[r]))


def class_table(result: NonresponseResult) -> pd.DataFrame:
    """The class table as a data frame (one row per weighting class)."""
    return pd.DataFrame([c.to_dict() for c in result.classes])
