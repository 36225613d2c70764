"""sampling: sample size, allocation, selection and verifiable draws for surveys.

A pure library. It imports no Flask, SQLAlchemy, WTForms or any part of ``surveyapp`` or
``analysis``; it does no network IO; files are read and written only by the CLI
(``__main__.py``) and :mod:`sampling.io`; the core functions take arrays and pandas
DataFrames. There is no global random state: selection functions take a
``numpy.random.Generator`` (``rng``) and :func:`draw` builds one from a recorded seed.
Errors are :class:`SamplingError` subclasses.

Main entry points
-----------------
* :func:`sample_size`, :func:`margin_of_error`, :func:`two_group_size`
* :func:`allocate`
* :func:`inclusion_probabilities`, :func:`stratified_inclusion_probabilities`,
  :func:`joint_inclusion_probabilities`
* :func:`select_srs`, :func:`select_systematic`, :func:`select_poisson`,
  :func:`select_brewer`, :func:`select_sampford` (arrays + rng)
* :class:`DrawPlan`, :class:`Stage`, :func:`draw`, :func:`verify` (frames + seed,
  with draw records and reserves)
* :func:`frame_digest` (canonical form ``surveyapp-frame/1``), :func:`sampling.io.read_frame`
* ``python -m sampling size|allocate|inclusion|joint|draw|verify`` (see ``--help``)
"""

__version__ = "0.1.0"

from .allocation import ALLOCATION_METHODS, Allocation, allocate  # noqa: E402
from .draw import (  # noqa: E402
    METHODS,
    RESERVE_RULE,
    DrawPlan,
    DrawResult,
    Stage,
    Verification,
    draw,
    verify,
)
from .errors import DesignError, FrameError, RecordError, SamplingError  # noqa: E402
from .frame import CANONICAL_FORM, FrameDigest, frame_digest  # noqa: E402
from .inclusion import inclusion_probabilities, stratified_inclusion_probabilities  # noqa: E402
from .joint import joint_inclusion_probabilities  # noqa: E402
from .selection import (  # noqa: E402
    select_brewer,
    select_poisson,
    select_sampford,
    select_srs,
    select_systematic,
)
from .size import SampleSize, TwoGroupSize, margin_of_error, sample_size, two_group_size  # noqa: E402

__all__ = [
    "__version__",
    "ALLOCATION_METHODS",
    "Allocation",
    "allocate",
    "METHODS",
    "RESERVE_RULE",
    "DrawPlan",
    "DrawResult",
    "Stage",
    "Verification",
    "draw",
    "verify",
    "SamplingError",
    "FrameError",
    "DesignError",
    "RecordError",
    "CANONICAL_FORM",
    "FrameDigest",
    "frame_digest",
    "inclusion_probabilities",
    "stratified_inclusion_probabilities",
    "joint_inclusion_probabilities",
    "select_srs",
    "select_systematic",
    "select_poisson",
    "select_brewer",
    "select_sampford",
    "SampleSize",
    "TwoGroupSize",
    "sample_size",
    "margin_of_error",
    "two_group_size",
]
