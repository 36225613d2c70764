"""AAPOR outcome rates against a hand-computed example (Standard Definitions, 2023)."""

from __future__ import annotations

import math

import pytest

from surveyapp.quality import rates
from surveyapp.quality.rates import DispositionCounts

# A worked example in the style of AAPOR's Standard Definitions:
#   I = 400 completes, P = 50 partials, R = 150 refusals, NC = 100 non-contacts,
#   O = 50 other, UH+UO = 200 of unknown eligibility, NE = 50 not eligible (1,000 cases).
EXAMPLE = DispositionCounts(I=400, P=50, R=150, NC=100, O=50, U=200, NE=50)


def test_eligibility_rate_is_the_eligible_share_among_known_eligibility():
    # known eligible = 400+50+150+100+50 = 750; known eligibility = 750 + 50 = 800
    # e = 750 / 800 = 0.9375
    assert rates.eligibility_rate(EXAMPLE) == pytest.approx(0.9375)


def test_rr1_by_hand():
    # RR1 = I / ((I+P) + (R+NC+O) + (UH+UO)) = 400 / (450 + 300 + 200) = 400 / 950
    assert rates.rr1(EXAMPLE) == pytest.approx(400 / 950)
    assert round(rates.rr1(EXAMPLE), 4) == 0.4211


def test_rr3_by_hand():
    # RR3 = I / ((I+P) + (R+NC+O) + e(UH+UO)) = 400 / (750 + 0.9375 × 200)
    #     = 400 / (750 + 187.5) = 400 / 937.5 = 0.42667
    assert rates.rr3(EXAMPLE) == pytest.approx(400 / 937.5)
    assert round(rates.rr3(EXAMPLE), 4) == 0.4267
    # an explicit e overrides the estimate: e = 0.5 → 400 / (750 + 100) = 0.470588
    assert rates.rr3(EXAMPLE, e=0.5) == pytest.approx(400 / 850)
    # e = 1 gives RR1 back
    assert rates.rr3(EXAMPLE, e=1) == pytest.approx(rates.rr1(EXAMPLE))


def test_cooperation_and_refusal_rates_by_hand():
    # COOP1 = I / ((I+P) + R + O) = 400 / (450 + 150 + 50) = 400 / 650
    assert rates.coop1(EXAMPLE) == pytest.approx(400 / 650)
    # REF1 = R / ((I+P) + (R+NC+O) + (UH+UO)) = 150 / 950
    assert rates.ref1(EXAMPLE) == pytest.approx(150 / 950)
    # REF2 = R / ((I+P) + (R+NC+O) + e(UH+UO)) = 150 / 937.5 = 0.16
    assert rates.ref2(EXAMPLE) == pytest.approx(0.16)
    # REF3 = R / ((I+P) + (R+NC+O)) = 150 / 750 = 0.2
    assert rates.ref3(EXAMPLE) == pytest.approx(0.2)


def test_outcome_rates_bundle_and_rows():
    r = rates.outcome_rates(EXAMPLE)
    row = r.to_dict()
    assert row["n"] == 1000
    assert row["e"] == pytest.approx(0.9375)
    assert row["rr1"] == pytest.approx(400 / 950)
    assert row["rr3"] == pytest.approx(400 / 937.5)
    assert row["ref2"] == pytest.approx(0.16)


def test_counts_from_our_disposition_codes_and_weights():
    codes = ["complete", "complete", "refusal", "unknown_eligibility", "not_eligible"]
    c = DispositionCounts.from_dispositions(codes)
    assert (c.I, c.R, c.U, c.NE) == (2, 1, 1, 1)
    # weighted: completes weigh 10 and 30, the refusal 20, the unknown 40, NE 5
    w = DispositionCounts.from_dispositions(codes, [10, 30, 20, 40, 5])
    # e = (40 + 20) / (60 + 5); RR3 = 40 / (60 + e × 40)
    e = 60 / 65
    assert rates.rr3(w) == pytest.approx(40 / (60 + e * 40))
    assert DispositionCounts.from_mapping({"complete": 3, "partial": 1}).P == 1


def test_empty_groups_and_bad_input():
    empty = DispositionCounts()
    assert rates.rr1(empty) is None and rates.rr3(empty) is None
    assert rates.eligibility_rate(empty) is None
    only_unknown = DispositionCounts(U=5)
    assert rates.rr3(only_unknown) == 0.0  # no known eligibility: unknowns count as eligible
    with pytest.raises(ValueError, match="unknown disposition"):
        DispositionCounts.from_dispositions(["maybe"])
    with pytest.raises(ValueError, match="non-negative"):
        DispositionCounts(I=-1)
    with pytest.raises(ValueError, match="non-negative"):
        DispositionCounts(I=math.nan)
    with pytest.raises(ValueError, match="between 0 and 1"):
        rates.rr3(EXAMPLE, e=1.5)
