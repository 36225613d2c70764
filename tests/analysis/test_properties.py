"""Property tests (hypothesis): invariances and textbook identities of the estimators."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import analysis as A

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def surveys(draw):
    """A stratified one-stage cluster sample with unequal weights and a domain variable."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_strata = draw(st.integers(1, 4))
    rows = []
    psu = 0
    for h in range(n_strata):
        for _ in range(draw(st.integers(2, 5))):
            psu += 1
            for _ in range(int(rng.integers(1, 6))):
                rows.append((h, psu))
    st_, ps = (np.array(c) for c in zip(*rows, strict=True))
    n = len(st_)
    data = {
        "st": st_,
        "psu": ps,
        "w": rng.uniform(1, 30, n),
        "y": rng.normal(10, 3, n),
        "g": rng.choice(np.array(["a", "b", "c"], dtype=object), n),
        "N": np.full(n, 50.0),
    }
    return data


def _design(data, **kw):
    return A.SurveyDesign.create(data, ids="psu", strata="st", weights="w", **kw)


@SETTINGS
@given(surveys(), st.floats(0.01, 1000))
def test_scaling_weights_leaves_means_and_ses_unchanged(data, c):
    t1 = A.mean("y", _design(data), by="g")
    scaled = dict(data, w=data["w"] * c)
    t2 = A.mean("y", _design(scaled), by="g")
    np.testing.assert_allclose(t2.value, t1.value, rtol=1e-10)
    np.testing.assert_allclose(t2.se, t1.se, rtol=1e-8, atol=1e-12)
    tot1, tot2 = A.total("y", _design(data)), A.total("y", _design(scaled))
    np.testing.assert_allclose(tot2.value, c * tot1.value, rtol=1e-10)
    np.testing.assert_allclose(tot2.se, c * tot1.se, rtol=1e-8)


@SETTINGS
@given(st.integers(3, 60), st.integers(0, 500), st.integers(0, 2**32 - 1), st.booleans())
def test_srs_gives_the_textbook_standard_error(n, extra, seed, fpc):
    # Cochran (1977) eq. 2.12: se(ybar) = sqrt((1 - n/N) s^2 / n); without fpc, sqrt(s^2/n)
    rng = np.random.default_rng(seed)
    y = rng.normal(0, 5, n)
    N = n + extra + (0 if fpc else 1)
    data = {"y": y, "w": np.full(n, N / n), "N": np.full(n, float(N))}
    des = A.SurveyDesign.create(data, weights="w", fpc="N" if fpc else None)
    t = A.mean("y", des)
    s2 = np.var(y, ddof=1)
    f = n / N if fpc else 0.0
    assert t.value[0] == pytest.approx(y.mean(), rel=1e-12, abs=1e-12)
    assert t.se[0] == pytest.approx(np.sqrt((1 - f) * s2 / n), rel=1e-9, abs=1e-15)
    if fpc and n < N:
        assert t.deff[0] == pytest.approx(1.0, rel=1e-9)  # SRS is its own reference


@SETTINGS
@given(surveys())
def test_domain_totals_add_up_to_the_overall_total(data):
    des = _design(data)
    overall = A.total("y", des)
    by = A.total("y", des, by="g")
    assert by.value.sum() == pytest.approx(overall.value[0], rel=1e-10)
    # and the domains' covariances add up too: var(sum) = sum of the covariance matrix
    k = len(by)
    cov = sum(by.covariance(i, j) for i in range(k) for j in range(k))
    assert cov == pytest.approx(overall.se[0] ** 2, rel=1e-7)


@SETTINGS
@given(surveys(), st.booleans())
def test_domain_mean_equals_ratio_of_domain_indicator(data, fpc):
    # R's own consistency check: svyby(~y, ~g, svymean) == svyratio(~I(y*(g==d)), ~I(g==d))
    des = _design(data, fpc="N" if fpc else None)
    by = A.mean("y", des, by="g")
    for est in by:
        d = dict(est.domain)["g"]
        ind = (data["g"] == d).astype(float)
        r = A.ratio(data["y"] * ind, ind, des)
        assert r.value[0] == pytest.approx(est.value, rel=1e-10)
        assert r.se[0] == pytest.approx(est.se, rel=1e-8, abs=1e-12)


@SETTINGS
@given(surveys())
def test_category_proportions_sum_to_one(data):
    t = A.proportion("g", _design(data), by=None)
    assert t.value.sum() == pytest.approx(1.0, rel=1e-12)
