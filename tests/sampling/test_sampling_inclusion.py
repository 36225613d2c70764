"""Inclusion probabilities: R's reference cases, invariants and validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _sampling_shared import MU284_CSV, reference_case
from hypothesis import given, settings
from hypothesis import strategies as st

from sampling import DesignError, inclusion_probabilities, stratified_inclusion_probabilities

CASES = [
    "sampling_inclusionprob_toy",
    "sampling_inclusionprob_nocap",
    "sampling_inclusionprob_mu284_p75",
]


def _close(a, b, tol):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.all(np.abs(a - b) <= tol["abs"] + tol["rel"] * np.abs(b))


@pytest.mark.parametrize("name", CASES)
def test_reference_cases_match_r_to_1e9(name):
    # Expected numbers: R 4.2.2, sampling 2.9, inclusionprobabilities(x, n) (../shared/reference).
    case = reference_case(name)
    res = case["results"]
    if "size" in res:
        x = res["size"]
    else:
        x = pd.read_csv(MU284_CSV)[res["size_variable"]].to_numpy()
    pik = inclusion_probabilities(x, res["n"])
    assert _close(pik, res["pik"], {"rel": 1e-9, "abs": 1e-12})
    assert _close(pik, res["pik"], case["tolerance"])
    if "n_certainty" in res:
        assert int(np.sum(pik == 1)) == res["n_certainty"]
    assert pik.sum() == pytest.approx(res["n"], abs=1e-9)


def test_toy_case_caps_two_units_iteratively():
    pik = inclusion_probabilities([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50, 100], 4)
    assert list(pik[-2:]) == [1.0, 1.0]
    # the two remaining draws are spread proportionally over the 55 units of size 1..10
    assert pik[0] == pytest.approx(2 / 55)


def test_second_round_of_capping():
    # First pass caps only the 100; the second caps the 40 as well.
    pik = inclusion_probabilities([100, 40, 10, 10, 10, 10], 3)
    assert pik[0] == 1 and pik[1] == 1
    assert pik[2:] == pytest.approx([0.25] * 4)


def test_zero_sizes_get_zero_probability():
    pik = inclusion_probabilities([0, 1, 1, 2], 2)
    assert pik[0] == 0
    assert pik.sum() == pytest.approx(2)


@pytest.mark.parametrize(
    "size, n, message",
    [
        ([1, -2, 3], 1, "negative"),
        ([1, np.nan, 3], 1, "missing"),
        ([1, 2, 0], 3, "larger than the 2 units"),
        ([1, 2, 3], -1, "non-negative"),
    ],
)
def test_invalid_input_is_refused(size, n, message):
    with pytest.raises(DesignError, match=message):
        inclusion_probabilities(size, n)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(min_value=0.01, max_value=1e6, allow_nan=False), min_size=1, max_size=60),
    st.data(),
)
def test_probabilities_sum_to_n_and_stay_in_unit_interval(sizes, data):
    n = data.draw(st.integers(min_value=0, max_value=len(sizes)))
    pik = inclusion_probabilities(sizes, n)
    assert np.all((pik >= 0) & (pik <= 1))
    assert pik.sum() == pytest.approx(n, abs=1e-8 * max(n, 1))
    order = np.argsort(sizes, kind="stable")
    assert np.all(np.diff(pik[order]) >= -1e-12)  # larger units never get a smaller pik


def test_stratified_uses_each_strata_size():
    x = [1, 2, 3, 4, 10, 10, 10]
    strata = ["a", "a", "a", "a", "b", "b", "b"]
    pik = stratified_inclusion_probabilities(x, strata, {"a": 2, "b": 1})
    assert pik[:4].sum() == pytest.approx(2)
    assert pik[4:] == pytest.approx([1 / 3] * 3)
    same = stratified_inclusion_probabilities(x, strata, 1)
    assert same[:4].sum() == pytest.approx(1)


def test_stratified_errors_name_the_stratum():
    with pytest.raises(DesignError, match="'b'"):
        stratified_inclusion_probabilities([1, 2, 3], ["a", "a", "b"], 2)
    with pytest.raises(DesignError, match="no unit in the frame"):
        stratified_inclusion_probabilities([1, 2], ["a", "a"], {"a": 1, "z": 1})
    with pytest.raises(DesignError, match="has no sample size"):
        stratified_inclusion_probabilities([1, 2], ["a", "b"], {"a": 1})
