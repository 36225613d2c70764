"""Selection algorithms: exact sizes, use of the uniform stream, and seeded simulations.

Each simulation draws 20,000 samples and compares every unit's empirical inclusion
frequency with its pik: |f - pik| <= 4.5 sd (sd = sqrt(pik (1 - pik) / R)), a bound that a
correct method breaks with probability below 1e-4 over all units and methods here.
"""

from __future__ import annotations

import numpy as np
import pytest

from sampling import (
    DesignError,
    inclusion_probabilities,
    joint_inclusion_probabilities,
    select_brewer,
    select_poisson,
    select_sampford,
    select_srs,
    select_systematic,
)
from sampling.draw import _draw_group

R = 20_000
SIZES = np.array([1, 2, 3, 3, 4, 5, 6, 8, 9, 12, 15, 40, 3, 7, 2], dtype=float)
N_SAMPLE = 5
PIK = inclusion_probabilities(SIZES, N_SAMPLE)  # unit 11 (size 40) is a certainty unit


def _check_frequencies(counts, pik, draws):
    pik = np.asarray(pik, float)
    freq = counts / draws
    sd = np.sqrt(pik * (1 - pik) / draws)
    inner = (pik > 0) & (pik < 1)
    z = np.abs(freq[inner] - pik[inner]) / sd[inner]
    assert z.max() < 4.5, (freq, pik)
    assert np.all(freq[pik == 1] == 1)
    assert np.all(freq[pik == 0] == 0)


def test_reference_pik_has_a_certainty_unit():
    assert PIK[11] == 1 and PIK.sum() == pytest.approx(N_SAMPLE)


@pytest.mark.parametrize("select", [select_systematic, select_brewer, select_sampford])
def test_fixed_size_methods_simulation(select):
    rng = np.random.default_rng(12345)
    counts = np.zeros(PIK.size)
    for _ in range(R):
        s = select(PIK, rng)
        assert s.size == N_SAMPLE  # always exactly n
        assert np.all(np.diff(s) > 0)
        counts[s] += 1
    _check_frequencies(counts, PIK, R)


def test_srs_simulation_and_exact_size():
    rng = np.random.default_rng(7)
    counts = np.zeros(15)
    for _ in range(R):
        s = select_srs(15, 4, rng)
        assert s.size == 4
        counts[s] += 1
    _check_frequencies(counts, np.full(15, 4 / 15), R)


def test_equal_probability_systematic_simulation_with_fractional_interval():
    rng = np.random.default_rng(8)
    pik = np.full(17, 5 / 17)
    counts = np.zeros(17)
    for _ in range(R):
        s = select_systematic(pik, rng)
        assert s.size == 5
        counts[s] += 1
    _check_frequencies(counts, pik, R)


def test_poisson_simulation():
    rng = np.random.default_rng(9)
    counts = np.zeros(PIK.size)
    sizes = []
    for _ in range(R):
        s = select_poisson(PIK, rng)
        counts[s] += 1
        sizes.append(s.size)
    _check_frequencies(counts, PIK, R)
    assert np.mean(sizes) == pytest.approx(N_SAMPLE, abs=4.5 * np.sqrt(np.sum(PIK * (1 - PIK)) / R))
    assert np.var(sizes) > 0  # the size is random


@pytest.mark.parametrize(
    "method", ["srs", "systematic", "pps-systematic", "pps-brewer", "pps-sampford"]
)
def test_reserve_split_keeps_stated_probabilities(method):
    # With reserves, the method draws n + m, then random order splits sample and reserves;
    # the stated pik of the sample must be the empirical frequency of being in the sample,
    # and the sample plus its reserves must be the n + m draw.
    draws = 6_000  # the 20,000-draw checks of each method are above; this checks the split
    rng = np.random.default_rng(99)
    x = None if method in ("srs", "systematic") else SIZES
    size = SIZES.size
    n, m = 4, 2
    main = np.zeros(size)
    either = np.zeros(size)
    pik = None
    for _ in range(draws):
        pik, sel, res = _draw_group(
            method, x, n, m, rng, np.arange(size) if x is None else None, ""
        )
        assert sel.size == n and res.size == m
        assert not set(sel) & set(res)
        main[sel] += 1
        either[sel] += 1
        either[res] += 1
    _check_frequencies(main, pik, draws)
    ext = np.full(size, (n + m) / size) if x is None else inclusion_probabilities(SIZES, n + m)
    _check_frequencies(either, ext, draws)


def test_systematic_uses_one_uniform_as_documented():
    pik = np.array([0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
    u = np.random.default_rng(3).random()
    s = select_systematic(pik, np.random.default_rng(3))
    # points u, u + 1, u + 2 fall in (V_{k-1}, V_k] with V = 0.5, 1.0, ...
    expected = [int(np.ceil((u + j) / 0.5)) - 1 for j in range(3)]
    assert list(s) == expected


def test_srs_is_the_random_sort_of_one_uniform_per_unit():
    u = np.random.default_rng(11).random(10)
    assert list(select_srs(10, 3, np.random.default_rng(11))) == sorted(np.argsort(u)[:3])


def test_systematic_returns_exactly_n_on_a_large_frame():
    rng = np.random.default_rng(5)
    x = rng.pareto(1.5, 200_000) + 1
    pik = inclusion_probabilities(x, 1000)
    for seed in range(5):
        assert select_systematic(pik, np.random.default_rng(seed)).size == 1000


def test_methods_refuse_a_non_generator_and_bad_probabilities():
    with pytest.raises(DesignError, match="Generator"):
        select_systematic(PIK, 42)
    with pytest.raises(DesignError, match="whole number"):
        select_brewer([0.5, 0.6], np.random.default_rng(1))
    with pytest.raises(DesignError, match="outside"):
        select_sampford([1.5, 0.5], np.random.default_rng(1))
    with pytest.raises(DesignError, match="between 0"):
        select_srs(3, 4, np.random.default_rng(1))


def test_sampford_gives_up_with_a_clear_message():
    pik = np.full(10, 0.9)
    with pytest.raises(DesignError, match="Brewer"):
        select_sampford(pik, np.random.default_rng(1), max_attempts=3)


@pytest.mark.parametrize(
    "method, select", [("systematic", select_systematic), ("sampford", select_sampford)]
)
def test_joint_probabilities_match_simulated_pair_frequencies(method, select):
    pik = inclusion_probabilities([2, 3, 4, 5, 6, 7, 9, 4], 3)
    rng = np.random.default_rng(2024)
    pair = np.zeros((pik.size, pik.size))
    for _ in range(R):
        s = select(pik, rng)
        ind = np.zeros(pik.size)
        ind[s] = 1
        pair += np.outer(ind, ind)
    expected = joint_inclusion_probabilities(pik, method)
    freq = pair / R
    sd = np.sqrt(np.maximum(expected * (1 - expected), 1e-12) / R)
    assert np.max(np.abs(freq - expected) / sd) < 4.5
    if method == "systematic":
        assert np.all(freq[expected == 0] == 0)  # impossible pairs never occur


@pytest.mark.parametrize("sizes, n", [(SIZES, N_SAMPLE), ([9, 8, 8, 7, 6, 9, 8, 5], 6)])
def test_brewer_rejection_path_simulation(monkeypatch, sizes, n):
    # Large strata use rejection sampling for each draw; force it on small frames and
    # check the same 20,000-draw frequencies (the second frame has pik near 1).
    import sampling.selection as sel

    monkeypatch.setattr(sel, "BREWER_DIRECT_LIMIT", 0)
    pik = inclusion_probabilities(np.asarray(sizes, float), n)
    rng = np.random.default_rng(4321)
    counts = np.zeros(pik.size)
    for _ in range(R):
        s = sel.select_brewer(pik, rng)
        assert s.size == n
        counts[s] += 1
    _check_frequencies(counts, pik, R)


def test_brewer_is_fast_on_a_large_single_stratum():
    pik = inclusion_probabilities(np.random.default_rng(3).lognormal(0, 0.8, 300_000), 3000)
    assert select_brewer(pik, np.random.default_rng(1)).size == 3000
