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
    "estimate",
    "mean",
    "proportion",
    "quantile",
    "ratio",
    "Replicates",
    "score_covariance",
    "total",
]
