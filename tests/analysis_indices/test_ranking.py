"""Rank intervals, multiple-comparison adjusted tests and significance-based bands."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.indices import compute_index
from analysis.ranking import (
    adjust_pvalues,
    compare_periods,
    compare_to_reference,
    performance_bands,
    rank_intervals,
)

from ._common import design, sipas, survey


def test_well_separated_agencies_have_rank_intervals_of_width_zero():
    est = np.array([0.5, 0.9, 0.3, 0.7])
    res = rank_intervals(est, np.diag(np.full(4, 0.005 ** 2)), rng=np.random.default_rng(1),
                         labels=list("ABCD"))
    assert res.rank.tolist() == [3, 1, 4, 2]
    assert res.low.tolist() == res.high.tolist() == res.median.tolist() == [3, 1, 4, 2]
    assert res.p_best.tolist() == [0, 1, 0, 0]
    low = rank_intervals(est, np.diag(np.full(4, 0.005 ** 2)), rng=np.random.default_rng(1),
                         higher_is_better=False)
    assert low.median.tolist() == [2, 4, 1, 3]


def test_identical_agencies_get_wide_overlapping_rank_intervals():
    K = 5
    res = rank_intervals(np.full(K, 0.6), np.eye(K) * 0.05 ** 2, rng=np.random.default_rng(7),
                         draws=10_000)
    assert res.low.tolist() == [1] * K and res.high.tolist() == [K] * K
    assert np.allclose(res.mean, 3.0, atol=0.1)
    assert np.allclose(res.p_best, 1 / K, atol=0.02)


def test_rank_intervals_are_reproducible_with_a_seed_and_use_the_covariance():
    est = np.array([0.62, 0.60, 0.55])
    V = np.array([[4, 3.6, 0], [3.6, 4, 0], [0, 0, 4]]) * 1e-4
    a = rank_intervals(est, V, rng=np.random.default_rng(123), draws=2000)
    b = rank_intervals(est, V, rng=np.random.default_rng(123), draws=2000)
    assert np.array_equal(a.mean, b.mean) and np.array_equal(a.low, b.low)
    # strongly correlated A and B: their order is far more certain than independence says
    indep = rank_intervals(est, np.diag(np.diag(V)), rng=np.random.default_rng(123),
                           draws=2000)
    assert a.p_best[0] > indep.p_best[0] + 0.1


def test_adjusted_p_values_as_r_p_adjust():
    p = [0.01, 0.04, 0.03, 0.005]
    # R: p.adjust(c(.01, .04, .03, .005), "holm") and "BH"
    assert adjust_pvalues(p, "holm") == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert adjust_pvalues(p, "bh") == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert adjust_pvalues(p, "none") == pytest.approx(p)


def test_overlapping_intervals_are_never_put_in_different_bands():
    # A and B: 95 % intervals [0.761, 0.839] and [0.701, 0.779] overlap, although the
    # unadjusted difference test is significant (z = 2.12, p = 0.034)
    est = np.array([0.80, 0.74])
    V = np.diag([0.02 ** 2, 0.02 ** 2])
    bands = performance_bands(est, V, labels=["A", "B"])
    assert bands.band.tolist() == [0, 0] and bands.members == (("A", "B"),)
    # only on the test would they be separated: the default never does that
    assert performance_bands(est, V, labels=["A", "B"], link="test").band.tolist() == [0, 1]
    # a clearly different third agency gets its own band
    est3 = np.array([0.80, 0.74, 0.55])
    b3 = performance_bands(est3, np.diag([0.02 ** 2] * 3), labels=list("ABC"))
    assert b3.band.tolist() == [0, 0, 1]
    # every linked pair (overlap or not significant) shares a band
    assert all(b3.band[i] == b3.band[j] for i, j in zip(*np.nonzero(b3.linked), strict=True))


def test_chains_of_non_significant_neighbours_merge_bands():
    est = np.array([0.80, 0.75, 0.70])  # A-B and B-C overlap, A-C do not
    bands = performance_bands(est, np.diag([0.02 ** 2] * 3), labels=list("ABC"))
    assert bands.band.tolist() == [0, 0, 0]
    assert not bands.linked[0, 2]


def test_bands_relative_to_the_city_only_when_all_members_differ():
    est = np.array([0.90, 0.62, 0.60, 0.30])
    V = np.diag([0.01 ** 2] * 4)
    city = np.full(4, 0.25)  # population shares of the four agencies
    b = performance_bands(est, V, labels=list("ABCD"), reference=city)
    assert b.members == (("A",), ("B", "C"), ("D",))
    assert b.relative == ("above", "not different", "below")


def test_comparison_with_the_city_row_uses_the_covariance():
    df = survey()
    res = compute_index(sipas(), df, design(df), by="agency", include_total=True)
    rows, est, cov = res.block("SIPAS", include_total=True)
    cmp = compare_to_reference(est, cov, len(est) - 1, labels=[
        "city" if r.domain is None else r.domain_dict["agency"] for r in rows],
        df=res.df)
    assert cmp.labels == ("A", "B", "C", "D")
    c = np.array([1.0, 0, 0, 0, -1.0])
    assert cmp.se[0] == pytest.approx(np.sqrt(c @ cov @ c))
    assert cmp.difference[0] == pytest.approx(est[0] - est[-1])
    assert cmp.p_value[0] == pytest.approx(2 * stats.t.sf(abs(cmp.statistic[0]), res.df))
    assert np.all(cmp.p_adjusted >= cmp.p_value)
    # ignoring the overlap of agency and city samples would overstate the SE here
    assert cmp.se[0] < np.sqrt(cov[0, 0] + cov[-1, -1])


def test_comparison_with_the_previous_year():
    cmp = compare_periods([0.80, 0.70], [0.03, 0.03], [0.70, 0.69], [0.04, 0.04],
                          labels=["A", "B"])
    assert cmp.difference == pytest.approx([0.10, 0.01])
    assert cmp.se == pytest.approx([0.05, 0.05])
    assert cmp.p_value[0] == pytest.approx(2 * stats.norm.sf(2.0))
    assert cmp.p_adjusted[0] == pytest.approx(2 * cmp.p_value[0])  # Holm, smallest of two
    # p = 0.046 alone, 0.091 after Holm: not significant once both agencies are tested
    assert cmp.direction == ("not different", "not different")
    raw = compare_periods([0.80, 0.70], [0.03, 0.03], [0.70, 0.69], [0.04, 0.04],
                          adjust="none")
    assert raw.direction == ("above", "not different")
