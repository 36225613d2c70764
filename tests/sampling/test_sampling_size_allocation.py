"""Sample size (Cochran's textbook numbers) and allocation (exact totals, bounds)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sampling import DesignError, allocate, margin_of_error, sample_size, two_group_size


def test_cochran_proportion_385():
    # Cochran (1977) 4.4: z = 1.96, p = 0.5, d = 0.05 -> n0 = 384.16 -> 385 interviews.
    res = sample_size(0.05)
    assert res.n == 385 and res.n_per_domain == 385 and res.n_to_contact == 385
    assert res.n0 == pytest.approx(1.959963984540054**2 * 0.25 / 0.0025)
    assert res.moe <= 0.05


def test_finite_population_correction_and_response_rate():
    res = sample_size(0.05, N=1000, response_rate=0.8)
    # n = n0 / (1 + (n0 - 1) / N) = 384.146 / 1.383146 = 277.7 -> 278
    assert res.n == 278
    assert res.n_to_contact == math.ceil(278 / 0.8)
    assert margin_of_error(278, N=1000) <= 0.05 < margin_of_error(277, N=1000)


def test_mean_with_design_effect_and_domains():
    res = sample_size(2.0, type="mean", sd=10, deff=1.5, domains=5)
    n0 = 1.959963984540054**2 * 100 * 1.5 / 4
    assert res.n_per_domain == math.ceil(n0) and res.n == 5 * res.n_per_domain
    assert res.moe == pytest.approx(1.959963984540054 * math.sqrt(1.5 * 100 / res.n_per_domain))


def test_inverse_is_consistent():
    for n in (50, 200, 1000):
        e = margin_of_error(n, p=0.3, confidence_level=0.9)
        assert sample_size(e, p=0.3, confidence_level=0.9).n == n


def test_two_group_power():
    # Fleiss et al. (2003) 4.2 without continuity correction: p1 = .5, p2 = .6, 80 % power -> 388.
    assert two_group_size(p1=0.5, p2=0.6).n_per_group == 388
    res = two_group_size(type="mean", difference=5, sd=10, power=0.9)
    assert res.n_per_group == math.ceil(2 * (1.959963984540054 + 1.2815515655446004) ** 2 * 4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(moe=0), "positive"),
        (dict(moe=0.05, p=1.2), "strictly between"),
        (dict(moe=0.05, type="mean"), "standard deviation"),
        (dict(moe=0.05, response_rate=0), "response rate"),
        (dict(moe=0.05, confidence_level=95), "confidence level"),
    ],
)
def test_sample_size_errors(kwargs, message):
    moe = kwargs.pop("moe")
    with pytest.raises(DesignError, match=message):
        sample_size(moe, **kwargs)


def test_proportional_allocation_largest_remainders():
    res = allocate([100, 200, 50, 5], 60, "proportional", strata=["a", "b", "c", "d"])
    # exact 16.9, 33.8, 8.45, 0.85 -> floors 16, 33, 8, 0 + 3 by remainder (d, a, b)
    assert res.n_h == (17, 34, 8, 1)
    assert res.to_records()[0] == {"stratum": "a", "N_h": 100, "n_h": 17}


def test_neyman_and_optimal():
    res = allocate([100, 100], 30, "neyman", sd=[1, 2])
    assert res.n_h == (10, 20)
    res = allocate([100, 100], 30, "optimal", sd=[1, 2], cost=[1, 4])
    assert res.n_h == (15, 15)


def test_power_allocation_between_equal_and_proportional():
    N = [1000, 100, 10_000]
    assert allocate(N, 111, "power", power_exponent=1).n_h == allocate(N, 111, "proportional").n_h
    assert allocate(N, 111, "power", power_exponent=0).n_h == (37, 37, 37)
    half = allocate(N, 111, "power", power_exponent=0.5).n_h
    assert half[1] > allocate(N, 111, "proportional").n_h[1]


def test_take_all_and_bounds():
    res = allocate([3, 1000, 1000], 100, "equal")
    assert res.n_h[0] == 3 and res.take_all[0] and sum(res.n_h) == 100
    res = allocate([10, 1000], 100, "proportional", minimum=5)
    assert res.n_h == (5, 95)
    res = allocate([500, 500, 500], 90, "neyman", sd=[10, 1, 1], maximum=40)
    assert res.n_h == (40, 25, 25)


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (([10, 10], 25, "proportional"), {}, "larger than the frame"),
        (([10, 10], 5, "neyman"), {}, "standard deviation"),
        (([10, 10], 5, "optimal"), {"sd": [1, 1]}, "cost"),
        (([10, 10], 5, "proportional"), {"minimum": 3}, "minimum"),
        (([10, 10], 15, "proportional"), {"maximum": 7}, "maximum"),
        (([10, 10], 5, "random"), {}, "unknown allocation method"),
    ],
)
def test_allocation_errors(args, kwargs, message):
    with pytest.raises(DesignError, match=message):
        allocate(*args, **kwargs)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=30),
    st.sampled_from(["proportional", "equal", "neyman", "power"]),
    st.data(),
)
def test_allocation_sums_exactly_and_respects_bounds(N, method, data):
    n = data.draw(st.integers(min_value=0, max_value=sum(N)))
    sd = data.draw(
        st.lists(st.floats(min_value=0.1, max_value=100), min_size=len(N), max_size=len(N))
    )
    lo = data.draw(st.integers(min_value=0, max_value=3))
    if sum(min(lo, x) for x in N) > n:
        lo = 0
    res = allocate(N, n, method, sd=sd, minimum=lo)
    assert sum(res.n_h) == n
    assert all(min(lo, N_) <= k <= N_ for k, N_ in zip(res.n_h, N, strict=True))
    assert np.all(np.abs(np.array(res.n_h) - np.array(res.exact)) < 1 + 1e-9)
