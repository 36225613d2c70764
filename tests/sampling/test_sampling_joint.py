"""Joint inclusion probabilities: structure and closed forms (R comparisons in test_against_r)."""

from __future__ import annotations

import numpy as np
import pytest

from sampling import DesignError, inclusion_probabilities, joint_inclusion_probabilities

PIK = inclusion_probabilities([3, 5, 2, 8, 9, 4, 6, 30, 7, 1], 4)  # unit 7 is certain


@pytest.mark.parametrize("method", ["systematic", "sampford", "maxentropy"])
def test_fixed_size_designs_have_consistent_joint_probabilities(method):
    m = joint_inclusion_probabilities(PIK, method)
    n = round(PIK.sum())
    assert np.allclose(m, m.T)
    assert np.allclose(np.diag(m), PIK)
    # sum over l != k of pi_kl = (n - 1) pi_k for fixed-size designs
    off = m.sum(axis=1) - np.diag(m)
    assert np.allclose(off, (n - 1) * PIK, atol=1e-6)
    # a certainty unit is in every sample: pi_kl = pi_l
    k = int(np.flatnonzero(PIK == 1)[0])
    assert np.allclose(m[k], PIK)
    assert np.all(m >= -1e-15)
    assert np.all(m <= np.minimum.outer(PIK, PIK) + 1e-12)


def test_sampford_and_maxentropy_satisfy_sen_yates_grundy_condition():
    for method in ("sampford", "maxentropy"):
        m = joint_inclusion_probabilities(PIK, method)
        inner = PIK < 1
        off_diagonal = ~np.eye(PIK.size, dtype=bool)
        ok = (m <= np.outer(PIK, PIK) + 1e-12) | ~off_diagonal
        assert np.all(ok[np.ix_(inner, inner)])


def test_systematic_has_impossible_pairs_in_list_order():
    pik = np.full(6, 0.5)  # interval 2: units (0, 2, 4) or (1, 3, 5)
    m = joint_inclusion_probabilities(pik, "systematic")
    assert m[0, 1] == 0 and m[0, 2] == pytest.approx(0.5)


def test_srs_and_poisson_closed_forms():
    m = joint_inclusion_probabilities(np.full(5, 0.4), "srs")
    assert m[0, 1] == pytest.approx(2 * 1 / (5 * 4))
    p = np.array([0.2, 0.5, 0.7])
    assert joint_inclusion_probabilities(p, "poisson")[0, 2] == pytest.approx(0.14)


def test_brewer_is_refused_with_an_explanation():
    with pytest.raises(DesignError, match="Brewer's method has no closed-form"):
        joint_inclusion_probabilities(PIK, "brewer")
    with pytest.raises(DesignError, match="unknown method"):
        joint_inclusion_probabilities(PIK, "midzuno")


def test_too_many_units_is_refused():
    with pytest.raises(DesignError, match="at most"):
        joint_inclusion_probabilities(np.full(6000, 0.5), "systematic")
