"""SurveyDesign.create: svydesign's validation, derived weights, stages, subsets."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import analysis as A
from analysis.errors import DesignError


def frame(**cols):
    return {k: np.asarray(v) for k, v in cols.items()}


BASE = frame(
    st=[1, 1, 1, 2, 2, 2],
    psu=[1, 1, 2, 3, 4, 4],
    w=[2.0, 2, 3, 4, 5, 5],
    y=[1.0, 2, 3, 4, 5, 6],
    N=[10, 10, 10, 20, 20, 20],
)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(ids="nope", weights="w"), "ids: unknown column 'nope'"),
        (dict(ids="psu", weights="w", probs="w"),
         "Can't specify both sampling weights and probabilities"),
        (dict(ids="psu", weights="neg"),
         "weights must be non-negative: column 'neg' has -1 in row 2"),
        (dict(ids="psu", weights="wna"), "missing values in `weights' (column 'wna', row 3)"),
        (dict(ids="psuna", weights="w"), "missing values in `id' (column 'psuna', row 1)"),
        (dict(ids="psu", strata="stna", weights="w"),
         "missing values in `strata' (column 'stna', row 6)"),
        (dict(ids="one", weights="w"), "Design has only one primary sampling unit"),
        (dict(ids="cross", strata="st", weights="w"),
         "Clusters not nested in strata at top level; you may want nest=TRUE."),
        (dict(ids="psu", weights="w", fpc="mixed"), "Must have all fpc>=1 or all fpc<=1"),
        (dict(ids="psu", strata="st", weights="w", fpc="small"),
         "FPC implies >100% sampling in some strata"),
        (dict(ids=["psu", "y"], weights="w", fpc="N"),
         "fpc must be given for every sampling stage"),
        (dict(ids="psu", weights="w", lonely_psu="drop"),
         "lonely_psu must be one of fail, remove"),
        (dict(ids="psu", probs="zero"), "probabilities must be positive"),
        (dict(ids="psu", weights="text"), "weights must be numeric"),
    ],
)
def test_validation_messages(kwargs, message):
    data = dict(BASE)
    data.update(
        neg=np.array([1.0, -1, 1, 1, 1, 1]),
        wna=np.array([1.0, 1, np.nan, 1, 1, 1]),
        psuna=np.array([None, 1, 2, 3, 4, 4], dtype=object),
        stna=np.array(["a", "a", "a", "b", "b", None], dtype=object),
        one=np.ones(6),
        cross=np.array([1, 1, 2, 2, 3, 3]),
        mixed=np.array([0.5, 0.5, 0.5, 20, 20, 20]),
        small=np.array([2.0, 2, 2, 1, 1, 1]),
        zero=np.array([0.5, 0.0, 0.5, 0.5, 0.5, 0.5]),
        text=np.array(["a", "b", "c", "d", "e", "f"], dtype=object),
    )
    expected = A.DataError if "unknown column" in message else DesignError
    with pytest.raises(expected) as err:
        A.SurveyDesign.create(data, **kwargs)
    assert message in str(err.value)


def test_nest_relabels_psus_within_strata():
    data = frame(st=[1, 1, 2, 2], psu=[1, 2, 1, 2], w=[1.0, 1, 1, 1])
    with pytest.raises(DesignError, match="nest=TRUE"):
        A.SurveyDesign.create(data, ids="psu", strata="st", weights="w")
    des = A.SurveyDesign.create(data, ids="psu", strata="st", weights="w", nest=True)
    assert des.n_psu == 4 and des.n_strata == 2 and des.degf() == 2


def test_weights_derived_from_fpc_of_two_stages():
    # R: weights = (N1/n1) * (N2/n2) when neither weights nor probs are given
    data = frame(a=[1, 1, 2, 2, 3], b=[1, 2, 1, 2, 1], N1=[10] * 5, N2=[4, 4, 5, 5, 3])
    des = A.SurveyDesign.create(data, ids=["a", "b"], fpc=["N1", "N2"])
    np.testing.assert_allclose(des.weights, np.array([2, 2, 2.5, 2.5, 3]) * 10 / 3)
    fractions = frame(a=data["a"], b=data["b"], f1=[0.3] * 5, f2=[0.5, 0.5, 0.4, 0.4, 1 / 3])
    des2 = A.SurveyDesign.create(fractions, ids=["a", "b"], fpc=["f1", "f2"])
    np.testing.assert_allclose(des2.weights, des.weights)
    assert len(des.stages) == 2 and des.n_stages == 2


def test_no_weights_warns_like_r():
    with pytest.warns(A.AnalysisWarning, match="assuming equal probability"):
        des = A.SurveyDesign.create(BASE, ids="psu")
    assert np.all(des.weights == 1)


def test_fpc_varying_within_stratum_warns():
    data = dict(BASE, Nv=np.array([10, 11, 10, 20, 20, 20]))
    with pytest.warns(A.AnalysisWarning, match="varies within strata: stratum 1 at stage 1"):
        A.SurveyDesign.create(data, ids="psu", strata="st", weights="w", fpc="Nv")


def test_design_is_frozen_and_update_returns_a_copy():
    des = A.SurveyDesign.create(BASE, ids="psu", strata="st", weights="w")
    with pytest.raises(AttributeError):
        des.lonely_psu = "remove"  # type: ignore[misc]
    with pytest.raises(ValueError):
        des.weights[0] = 1.0
    other = des.update(lonely_psu="adjust")
    assert other.lonely_psu == "adjust" and des.lonely_psu == "fail"
    assert "Stratified 1-stage cluster sample" in repr(des)
    assert "4 PSUs, 2 strata" in repr(des)


def test_subset_keeps_the_design_and_matches_by():
    des = A.SurveyDesign.create(BASE, ids="psu", strata="st", weights="w", fpc="N")
    g = np.array(["a", "b", "a", "b", "a", "a"], dtype=object)
    sub = des.subset(g == "a")
    assert sub.n_psu == des.n_psu  # every PSU still counts
    by = A.mean("y", des, by=g)
    one = A.mean("y", sub)
    assert one.value[0] == pytest.approx(by.value[0], rel=1e-14)
    assert one.se[0] == pytest.approx(by.se[0], rel=1e-12)
    with pytest.raises(DesignError):
        des.subset([True, False])


def test_arrays_without_data_frame():
    des = A.SurveyDesign.create(ids=BASE["psu"], strata=BASE["st"], weights=BASE["w"])
    t = A.total(BASE["y"], des)
    assert t.value[0] == pytest.approx(float(np.sum(BASE["w"] * BASE["y"])))


def test_fraction_fpc_gives_same_variance_as_population_sizes():
    n_h = np.array([2, 2, 2, 2, 2, 2])  # two PSUs per stratum
    frac = BASE["N"].astype(float)
    data = dict(BASE, f=n_h / frac)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a = A.mean("y", A.SurveyDesign.create(data, ids="psu", strata="st", weights="w", fpc="N"))
        b = A.mean("y", A.SurveyDesign.create(data, ids="psu", strata="st", weights="w", fpc="f"))
    assert a.se[0] == pytest.approx(b.se[0], rel=1e-12)
