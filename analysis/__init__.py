"""analysis — survey designs and design-based estimators that agree with R's ``survey``.

A pure library, used by the web application and from notebooks alike:

- **No Flask, no SQLAlchemy, no WTForms, no network IO, no ``surveyapp`` or ``sampling``
  imports.** It depends on numpy, scipy, pandas and statsmodels only
  (``tests/test_architecture.py`` enforces the import rule).
- **File IO only in the command line module** (``__main__.py``) **and** :mod:`analysis.io`
  (reading CSV files into columns). Core functions take data frames and arrays.
- **No global random state**: nothing here draws random numbers.

The API follows R's survey package: declare the design once, then call estimator
functions on it; results are frozen objects.

>>> from analysis import SurveyDesign, mean
>>> design = SurveyDesign.create(df, ids="psu", strata="stratum", weights="w")  # doctest: +SKIP
>>> table = mean(["q1", "q2"], design, by="agency")                             # doctest: +SKIP
>>> table.contrast({"variable": "q1", "domain": {"agency": "A"}},
...                {"variable": "q1", "domain": {"agency": "B"}})                # doctest: +SKIP

The command line, ``python -m analysis estimate --data FILE.csv ...``, prints JSON rows.
"""

from .design import LONELY_PSU, Replicates, Stage, SurveyDesign
from .errors import AnalysisError, AnalysisWarning, DataError, DesignError, LonelyPSUError
from .estimators import CI_METHODS, MISSING, estimate, mean, proportion, ratio, total
from .quantile_estimates import quantile
from .results import ConfidenceInterval, Estimate, EstimateTable
from .variance import score_covariance

# Imported on first use (PEP 562): they pull in pandas, and the command line must start fast.
_LAZY = {
    "base_weights": "weighting",
    "chisq": "svytests",
    "cronbach_alpha": "scales",
    "svyglm": "glm",  # the function glm() of the module analysis.glm, under R's name
    "nonresponse_adjustment": "weighting",
    "ttest": "svytests",
    # satisfaction indices, reliability rules and rankings (issue 9)
    "IndexDefinition": "indices",
    "Dimension": "indices",
    "Item": "indices",
    "BandTable": "indices",
    "compute_index": "indices",
    "sipas_index": "indices",
    "circular01_index": "indices",
    "papi_index": "indices",
    "top_box": "indices",
    "points": "indices",
    "rescale": "indices",
    "mean_0_100": "indices",
    "nchs_proportion": "reliability",
    "cv_rule": "reliability",
    "small_cells": "reliability",
    "scorecard": "reliability",
    "rank_intervals": "ranking",
    "performance_bands": "ranking",
    "compare_to_reference": "ranking",
    "compare_periods": "ranking",
    "figure_status": "reliability",
    # key-driver analysis (issue 10)
    "key_drivers": "drivers",
    "respondent_scores": "drivers",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module = importlib.import_module(f".{_LAZY[name]}", __name__)
        return getattr(module, "glm" if name == "svyglm" else name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))

__all__ = [
    "AnalysisError",
    "AnalysisWarning",
    "CI_METHODS",
    "ConfidenceInterval",
    "DataError",
    "DesignError",
    "Estimate",
    "EstimateTable",
    "LONELY_PSU",
    "LonelyPSUError",
    "MISSING",
    "Stage",
    "SurveyDesign",
    "BandTable",
    "Dimension",
    "IndexDefinition",
    "Item",
    "base_weights",
    "circular01_index",
    "compare_periods",
    "compare_to_reference",
    "compute_index",
    "cv_rule",
    "mean_0_100",
    "nchs_proportion",
    "papi_index",
    "performance_bands",
    "points",
    "rank_intervals",
    "rescale",
    "sipas_index",
    "scorecard",
    "small_cells",
    "top_box",
    "chisq",
    "cronbach_alpha",
    "estimate",
    "figure_status",
    "key_drivers",
    "mean",
    "nonresponse_adjustment",
    "proportion",
    "quantile",
    "ratio",
    "Replicates",
    "respondent_scores",
    "score_covariance",
    "svyglm",
    "total",
    "ttest",
]
