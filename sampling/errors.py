"""The exceptions of the sampling library.

Every error the library raises on purpose is a :class:`SamplingError`; callers (the CLI,
the web services) catch that one class and show its message, which is written for the
person who prepared the frame or the plan.
"""

from __future__ import annotations


class SamplingError(Exception):
    """Base class of every error raised by :mod:`sampling` on purpose."""


class FrameError(SamplingError):
    """The frame cannot be used: missing columns, duplicate ids, bad size measures, ..."""


class DesignError(SamplingError):
    """The parameters of a design are invalid (n larger than the frame, unknown method, ...)."""


class RecordError(SamplingError):
    """A draw record is malformed or cannot be read."""
