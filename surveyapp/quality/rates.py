"""AAPOR outcome rates: response, cooperation and refusal rates from disposition counts.

Formulas from AAPOR, *Standard Definitions: Final Dispositions of Case Codes and Outcome
Rates for Surveys*, 10th edition (2023), section "Response rates" and following. Symbols:

=====  =====================================================  =======================
code   AAPOR                                                  our ``Disposition``
=====  =====================================================  =======================
I      complete interview (1.1)                               ``complete``
P      partial interview (1.2)                                ``partial``
R      refusal and break-off (2.1)                            ``refusal``
NC     non-contact (2.2)                                      ``non_contact``
O      other (2.0, 2.3)                                       ``other_non_interview``
UH+UO  unknown eligibility (3.1, 3.2, 3.9)                    ``unknown_eligibility``
NE     not eligible (4.0)                                     ``not_eligible``
=====  =====================================================  =======================

The functions take plain numbers (counts, or sums of base weights for a weighted rate —
AAPOR's "weighted response rates" use the same formulas on weighted counts) and return
floats; a rate whose denominator is zero is ``None`` (undefined), never an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

#: our disposition codes -> AAPOR symbols (``unknown`` stands for UH+UO)
AAPOR_CODES = {
    "complete": "I",
    "partial": "P",
    "refusal": "R",
    "non_contact": "NC",
    "other_non_interview": "O",
    "unknown_eligibility": "U",
    "not_eligible": "NE",
}


@dataclass(frozen=True)
class DispositionCounts:
    """Counts (or weighted counts) of cases by AAPOR final disposition.

    ``U`` is UH+UO: cases of unknown eligibility (never reached, or eligibility not
    established).
    """

    I: float = 0  # noqa: E741 — AAPOR's own symbol
    P: float = 0
    R: float = 0
    NC: float = 0
    O: float = 0  # noqa: E741
    U: float = 0
    NE: float = 0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int | float) or isinstance(value, bool) or value < 0 \
                    or value != value:
                raise ValueError(f"count {name} must be a non-negative number, got {value!r}")

    @classmethod
    def from_dispositions(cls, dispositions: Iterable[str],
                          weights: Iterable[float] | None = None) -> DispositionCounts:
        """Count our disposition codes (optionally summing weights instead of counting).

        Raises ``ValueError`` for a code that is not a disposition.
        """
        totals = dict.fromkeys(AAPOR_CODES.values(), 0.0)
        weights = iter(weights) if weights is not None else None
        for code in dispositions:
            if code not in AAPOR_CODES:
                raise ValueError(f"unknown disposition {code!r}")
            totals[AAPOR_CODES[code]] += next(weights) if weights is not None else 1
        return cls(**totals)

    @classmethod
    def from_mapping(cls, counts: Mapping[str, float]) -> DispositionCounts:
        """From ``{our disposition code: count}``."""
        totals = dict.fromkeys(AAPOR_CODES.values(), 0.0)
        for code, n in counts.items():
            if code not in AAPOR_CODES:
                raise ValueError(f"unknown disposition {code!r}")
            totals[AAPOR_CODES[code]] += n
        return cls(**totals)

    @property
    def total(self) -> float:
        return self.I + self.P + self.R + self.NC + self.O + self.U + self.NE

    @property
    def known_eligible(self) -> float:
        """I+P+R+NC+O: cases known to be eligible."""
        return self.I + self.P + self.R + self.NC + self.O


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def eligibility_rate(c: DispositionCounts) -> float | None:
    """AAPOR's *e*, estimated by the proportion eligible among cases of known eligibility.

    e = (I+P+R+NC+O) / (I+P+R+NC+O+NE). This is the "proportional allocation" (CASRO)
    estimate that AAPOR's Standard Definitions name as the default basis for *e*: it assumes
    the cases of unknown eligibility are eligible in the same proportion as those whose
    eligibility was established. ``None`` if no case has known eligibility.
    """
    return _ratio(c.known_eligible, c.known_eligible + c.NE)


def _e(c: DispositionCounts, e: float | None) -> float:
    if e is None:
        e = eligibility_rate(c)
        return 1.0 if e is None else e  # no case of known eligibility: treat U as eligible
    if not 0 <= e <= 1:
        raise ValueError(f"e must be between 0 and 1, got {e!r}")
    return e


def rr1(c: DispositionCounts) -> float | None:
    """Response Rate 1 (the minimum): I / ((I+P) + (R+NC+O) + (UH+UO))."""
    return _ratio(c.I, c.I + c.P + c.R + c.NC + c.O + c.U)


def rr3(c: DispositionCounts, e: float | None = None) -> float | None:
    """Response Rate 3: I / ((I+P) + (R+NC+O) + e(UH+UO)).

    ``e`` defaults to :func:`eligibility_rate` (eligible share among known-eligibility
    cases); pass another estimate to override it.
    """
    return _ratio(c.I, c.I + c.P + c.R + c.NC + c.O + _e(c, e) * c.U)


def coop1(c: DispositionCounts) -> float | None:
    """Cooperation Rate 1: I / ((I+P) + R + O) — completes among contacted eligible cases."""
    return _ratio(c.I, c.I + c.P + c.R + c.O)


def ref1(c: DispositionCounts) -> float | None:
    """Refusal Rate 1: R / ((I+P) + (R+NC+O) + (UH+UO))."""
    return _ratio(c.R, c.I + c.P + c.R + c.NC + c.O + c.U)


def ref2(c: DispositionCounts, e: float | None = None) -> float | None:
    """Refusal Rate 2: R / ((I+P) + (R+NC+O) + e(UH+UO)) (``e`` as in :func:`rr3`)."""
    return _ratio(c.R, c.I + c.P + c.R + c.NC + c.O + _e(c, e) * c.U)


def ref3(c: DispositionCounts) -> float | None:
    """Refusal Rate 3: R / ((I+P) + (R+NC+O)) — unknown-eligibility cases left out (e = 0)."""
    return _ratio(c.R, c.I + c.P + c.R + c.NC + c.O)


@dataclass(frozen=True)
class OutcomeRates:
    """The rates of one group of cases (a survey, a stratum, an agency, an interviewer)."""

    counts: DispositionCounts
    e: float | None
    rr1: float | None
    rr3: float | None
    coop1: float | None
    ref1: float | None
    ref2: float | None
    ref3: float | None

    def to_dict(self) -> dict:
        out = {k: getattr(self.counts, k) for k in ("I", "P", "R", "NC", "O", "U", "NE")}
        out.update(n=self.counts.total, e=self.e, rr1=self.rr1, rr3=self.rr3,
                   coop1=self.coop1, ref1=self.ref1, ref2=self.ref2,
                   ref3=self.ref3)
        return out


def outcome_rates(c: DispositionCounts, e: float | None = None) -> OutcomeRates:
    """Every rate of ``c`` at once (``e`` as in :func:`rr3`)."""
    used = e if e is not None else eligibility_rate(c)
    return OutcomeRates(c, used, rr1(c), rr3(c, e), coop1(c), ref1(c), ref2(c, e), ref3(c))
