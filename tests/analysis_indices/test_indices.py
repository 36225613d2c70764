"""Hand-computed examples of the three index schemes and checks against the estimators."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis import DataError, SurveyDesign, mean
from analysis.indices import (
    BandTable,
    Dimension,
    IndexDefinition,
    Item,
    circular01_bands,
    circular01_index,
    compute_index,
    mean_0_100,
    papi_index,
    rescale,
    sipas_index,
)

from ._common import TT01_MAPS, design, sipas, survey


def _srs(df, w=None):
    return SurveyDesign.create(df, weights=np.ones(len(df)) if w is None else np.array(w))


def test_sipas_share_excludes_and_counts_na_dk_missing():
    df = pd.DataFrame({"q1": ["5", "4", "2", "na", "dk", ""],
                       "q2": ["1", "5", "5", "5", "3", "4"]})
    w = [1, 2, 1, 1, 1, 1]
    res = compute_index(sipas_index({"F": ["q1", "q2"]}), df, _srs(df, w))
    q1, q2, f, overall = (res.find(n) for n in ("q1", "q2", "F", "SIPAS"))
    assert q1.estimate == pytest.approx(3 / 4)  # (1 + 2) / (1 + 2 + 1)
    assert q1.unweighted == pytest.approx(2 / 3)
    assert (q1.n, q1.na, q1.dk, q1.missing) == (3, 1, 1, 1)
    assert q2.estimate == pytest.approx(5 / 7) and q2.unweighted == pytest.approx(4 / 6)
    assert (q2.n, q2.na, q2.dk, q2.missing) == (6, 0, 0, 0)
    assert f.estimate == pytest.approx((3 / 4 + 5 / 7) / 2)
    assert f.n == 6 and f.na is None
    assert overall.estimate == pytest.approx(f.estimate) and overall.level == "overall"
    assert res.definition.method_version == "sipas-top2/v1"


def test_unknown_answer_code_is_an_error_not_a_zero():
    df = pd.DataFrame({"q1": ["5", "4", "6"]})
    with pytest.raises(DataError, match="not in the scale"):
        compute_index(sipas_index({"F": ["q1"]}), df, _srs(df))


def test_item_equals_the_domain_mean_of_the_estimators():
    df = survey()
    des = design(df)
    res = compute_index(sipas(), df, des, by="agency")
    y = np.where(df["q3"].isin(list("12345")), df["q3"].isin(["4", "5"]).astype(float), np.nan)
    tab = mean(y, des, by="agency")
    for est in tab:
        row = res.find("q3", est.domain_dict)
        assert row.estimate == pytest.approx(est.value, rel=1e-12)
        assert row.se == pytest.approx(est.se, rel=1e-10)
        # NCHS effective n of a proportion: p (1 - p) / se^2
        assert row.n_effective == pytest.approx(row.estimate * (1 - row.estimate) / row.se ** 2)
        assert row.deff == pytest.approx(row.n / row.n_effective)
        lo, hi = est.confidence_interval()
        t = (row.ci_high - row.estimate) / row.se
        assert t == pytest.approx(float(__import__("scipy").stats.t.ppf(0.975, des.degf())))


def test_calibrated_design_uses_calibration_residuals():
    df = survey()
    # data as a dict of arrays: SurveyDesign._calibration_frame tests a DataFrame's
    # columns for truth (a bug of design.py, reported, not in this package's files)
    cols = {c: df[c].to_numpy() for c in df.columns}
    des = SurveyDesign.create(cols, ids="psu", strata="stratum", weights="w", fpc="fpc")
    des = des.poststratify({"stratum": {"S1": 4000, "S2": 6000, "S3": 9000, "S4": 12000}})
    res = compute_index(sipas(), df, des, by="agency")
    y = np.where(df["q1"].isin(list("12345")), df["q1"].isin(["4", "5"]).astype(float), np.nan)
    for est in mean(y, des, by="agency"):
        row = res.find("q1", est.domain_dict)
        assert row.estimate == pytest.approx(est.value, rel=1e-12)
        assert row.se == pytest.approx(est.se, rel=1e-9)


def test_circular01_points_rounding_total_and_scaled_bands():
    df = pd.DataFrame({"c1": ["sooner", "ontime", "late", "ontime"],
                       "c3": ["none", "none", "once", ""],
                       "c4": ["", "", "", ""],           # not measured: left out (Art. 15)
                       "c7": ["early", "early", "ontime", "harassed"]})
    res = compute_index(circular01_index(TT01_MAPS), df, _srs(df))
    c1, c3, c4, c7, total = (res.find(n) for n in ("c1", "c3", "c4", "c7", "total"))
    assert (c1.estimate, c1.display) == (1.0, 1.0)
    assert c3.estimate == pytest.approx(5 / 3) and c3.display == 1.7 and c3.missing == 1
    assert math.isnan(c4.estimate) and c4.missing == 4 and c4.items_measured == 0
    assert c7.estimate == 1.25 and c7.display == 1.3  # rounded half up, not to even
    # the total keeps the unrounded estimate (and SE); the display adds the rounded scores
    assert total.estimate == pytest.approx(1 + 5 / 3 + 1.25)
    assert total.display == 4.0
    assert total.maximum == 6.0 and total.items_measured == 3
    # bands written for 18 points scaled to the measured maximum 6: Tốt is >= 12 * 6/18 = 4
    assert total.band == "Tốt"
    assert "scaled to the measured maximum 6" in total.band_note
    assert circular01_bands().classify(total.estimate, 6.0) == "Khá"  # 3.92 unrounded
    assert np.isfinite(total.se) and total.se > 0


def test_band_table_is_data():
    spec = {"name": "custom", "bands": [{"label": "high", "lower": 0.8},
                                        {"label": "low", "lower": None}]}
    table = BandTable.from_dict(spec)
    assert table.classify(0.85) == "high" and table.classify(0.79) == "low"
    assert table.classify(float("nan")) is None
    t01 = circular01_bands()
    assert t01.thresholds(18) == (("Xuất sắc", 15), ("Tốt", 12), ("Khá", 9),
                                  ("Trung bình", 6), ("Yếu", None))
    assert t01.classify(15, 18) == "Xuất sắc" and t01.classify(14.99, 18) == "Tốt"
    assert t01.classify(5.9, 18) == "Yếu"
    assert t01.thresholds(8)[0][1] == pytest.approx(15 * 8 / 18)


def test_papi_fixed_range_rescaling():
    df = pd.DataFrame({"t1": [4.0, 0.0, 2.0], "t2": [0.0, 4.0, 2.0], "t3": [1.0, 3.0, 2.0],
                       "agency": ["A", "A", "B"]})
    defn = papi_index({"D1": {"t1": (0, 4), "t2": (0, 4)}, "D2": {"t3": (0, 4)}})
    res = compute_index(defn, df, _srs(df), by="agency")
    a = res.find("t1", {"agency": "A"})
    assert a.estimate == pytest.approx((5.0 + 0.5) / 2)  # 4 -> 5, 0 -> 0.5 on 0.5-5
    assert (a.minimum, a.maximum) == (0.5, 5.0)
    d1 = res.find("D1", {"agency": "A"})
    assert d1.estimate == pytest.approx(5.5) and (d1.minimum, d1.maximum) == (1.0, 10.0)
    b = res.find("PAPI", {"agency": "B"})
    assert b.estimate == pytest.approx(5.5 + 5.5) and b.maximum == 20.0
    # a fixed range: agency A's score does not depend on the other agencies
    big = survey()
    full = compute_index(defn, big, design(big), by="agency")
    only_a = big[big.agency == "A"].reset_index(drop=True)
    alone = compute_index(defn, only_a, design(only_a))
    assert alone.find("PAPI").estimate == pytest.approx(
        full.find("PAPI", {"agency": "A"}).estimate, rel=1e-12)
    bad = pd.DataFrame({"t1": [5.0, 1.0], "t2": [1.0, 1.0], "t3": [1.0, 1.0]})
    with pytest.raises(DataError, match="theoretical range"):
        compute_index(defn, bad, _srs(bad))


def test_user_tree_weighted_0_100():
    df = pd.DataFrame({"x": [1, 5, 3, 4], "y": [2, 2, "na", 5]})
    defn = IndexDefinition("custom", "user/1", (
        Dimension("D", (Item("x", mean_0_100(1, 5), weight=3),
                        Item("y", mean_0_100(1, 5), weight=1)), "weighted"),), overall=None)
    res = compute_index(defn, df, _srs(df))
    mx = np.mean([0, 100, 50, 75])
    my = np.mean([25, 25, 100])
    assert res.find("x").estimate == pytest.approx(mx)
    assert res.find("y").estimate == pytest.approx(my) and res.find("y").na == 1
    assert res.find("D").estimate == pytest.approx((3 * mx + my) / 4)
    assert res.find("D").maximum == pytest.approx(100.0)


def test_definition_validation():
    it = Item("q1", rescale(1, 5))
    with pytest.raises(DataError, match="twice"):
        IndexDefinition("I", "v", (Dimension("A", (it,)), Dimension("B", (it,))))
    with pytest.raises(DataError, match="combine"):
        IndexDefinition("I", "v", (Dimension("A", (it,), combine="median"),))
    with pytest.raises(DataError, match="hi > lo"):
        rescale(5, 1)


def test_total_domain_and_cross_domain_covariance():
    df = survey()
    des = design(df)
    res = compute_index(sipas(), df, des, by="agency", include_total=True)
    city = compute_index(sipas(), df, des)
    assert res.find("SIPAS").estimate == pytest.approx(city.find("SIPAS").estimate, rel=1e-12)
    assert res.find("SIPAS").se == pytest.approx(city.find("SIPAS").se, rel=1e-12)
    rows, est, cov = res.block("SIPAS", include_total=True)
    assert [r.domain_dict for r in rows][-1] is None and cov.shape == (5, 5)
    assert np.all(np.linalg.eigvalsh(cov) > -1e-12)
    # a contrast of two agencies uses their covariance (R: svycontrast on svyby)
    i, k = res.index("SIPAS", {"agency": "A"}), res.index("SIPAS", {"agency": "D"})
    diff, se = res.contrast({i: 1.0, k: -1.0})
    V = res.covariance
    assert se == pytest.approx(math.sqrt(V[i, i] + V[k, k] - 2 * V[i, k]))
    recs = res.to_records()
    assert recs[0]["method_version"] == "sipas-top2/v1" and recs[0]["domain"] == {"agency": "A"}


def test_an_item_without_valid_answers_in_a_domain_is_left_out_there():
    df = pd.DataFrame({"q1": ["5", "4", "na", "na"], "q2": ["5", "1", "4", "2"],
                       "agency": ["A", "A", "B", "B"]})
    res = compute_index(sipas_index({"F": ["q1", "q2"]}), df, _srs(df), by="agency")
    b = res.find("F", {"agency": "B"})
    assert math.isnan(res.find("q1", {"agency": "B"}).estimate)
    assert b.estimate == pytest.approx(0.5) and b.items_measured == 1
    assert res.find("F", {"agency": "A"}).estimate == pytest.approx((1.0 + 0.5) / 2)
    i = res.index("q1", {"agency": "B"})
    assert np.isnan(res.covariance[i]).all()


def test_supplied_replicate_weights_give_the_converted_design_result():
    df = survey()
    jk = design(df).as_replicate("JKn")
    supplied = SurveyDesign.from_replicate_weights(
        df, repweights=jk.replicate_weights, weights="w", type="JKn",
        rscales=jk.replicates.rscales, scale=jk.replicates.scale)
    a = compute_index(sipas(), df, jk, by="agency")
    b = compute_index(sipas(), df, supplied, by="agency")
    np.testing.assert_allclose([r.se for r in b], [r.se for r in a], rtol=1e-12)
