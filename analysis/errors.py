"""The exceptions and warnings raised by :mod:`analysis`.

One small hierarchy, as in samplics and svy: callers catch :class:`AnalysisError` for
anything the library rejects, or a child class when they want to react to one cause.
Arguments are never validated with ``assert``.
"""

from __future__ import annotations


class AnalysisError(Exception):
    """Base class of every error raised by the analysis library."""


class DesignError(AnalysisError, ValueError):
    """The survey design declaration is invalid (ids, strata, weights, fpc, options)."""


class DataError(AnalysisError, ValueError):
    """The data do not fit the request: unknown column, wrong type, nothing to estimate."""


class LonelyPSUError(AnalysisError):
    """A stratum has a single PSU and ``lonely_psu="fail"`` (R's ``survey.lonely.psu``)."""


class AnalysisWarning(UserWarning):
    """A condition R's survey package also warns about; the computation went ahead."""
