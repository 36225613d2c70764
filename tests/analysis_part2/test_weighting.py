"""Base weights and non-response adjustment by weighting classes (analysis.weighting).

Evidence: a hand-computed example (Lohr 2019, §8.5.2's weighting-class estimator), R's
``postStratify`` of the respondents to the full sample's weighted class counts (the usual R
idiom, which must give the same weights), and a property test of the defining identity.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.weighting import (
    WeightingError,
    base_weights,
    class_table,
    nonresponse_adjustment,
)

from ._rutil import run_r


def test_base_weights_are_inverse_probabilities_and_bad_ones_are_named():
    assert base_weights([0.5, 0.25, 1.0]).tolist() == [2.0, 4.0, 1.0]
    for bad, row in (([0.5, 0.0], 2), ([1.2], 1), ([0.3, np.nan, 0.1], 2), ([-0.1], 1)):
        with pytest.raises(WeightingError, match=f"row {row} "):
            base_weights(bad)
    with pytest.raises(WeightingError, match="numbers"):
        base_weights(["a"])


def test_hand_computed_classes_with_ineligible_and_unknown_eligibility():
    # class A: four eligible cases of weight 10, three respond -> factor 40/30
    # class B: weights 5, 15, 20 eligible (5 and 20 respond), one ineligible case of weight
    #          100 (drops out), one unknown-eligibility case of weight 10 counted with e=0.5
    #          -> eligible weight 40 + 5 = 45, respondents 25 -> factor 1.8
    w = [10, 10, 10, 10, 5, 15, 20, 100, 10]
    cls = ["A", "A", "A", "A", "B", "B", "B", "B", "B"]
    responded = [1, 1, 1, 0, 1, 0, 1, 0, 0]
    eligible = [1, 1, 1, 1, 1, 1, 1, 0, 1]
    unknown = [0, 0, 0, 0, 0, 0, 0, 0, 1]
    res = nonresponse_adjustment(w, responded, cls, eligible=eligible,
                                 unknown_eligibility=unknown, unknown_eligible_share=0.5)
    expected = [40 / 3, 40 / 3, 40 / 3, 0, 9.0, 0, 36.0, 0, 0]
    np.testing.assert_allclose(res.weights, expected, rtol=1e-15)
    a, b = res.classes
    assert (a.label, a.n_sampled, a.n_respondents, a.factor) == ("A", 4, 3, 40 / 30)
    assert (b.label, b.n_sampled, b.n_eligible, b.weighted_eligible) == ("B", 5, 3.5, 45.0)
    assert b.response_rate == pytest.approx(25 / 45, rel=1e-15)
    assert res.diagnostics.n == 5 and res.diagnostics.sum == pytest.approx(85.0)
    frame = class_table(res)
    assert list(frame["class"]) == ["A", "B"] and frame["factor"].tolist()[1] == 1.8
    assert not res.weights.flags.writeable


def test_crossed_classes_from_a_data_frame_and_a_single_class():
    df = pd.DataFrame({"agency": ["x", "x", "y", "y"], "channel": ["o", "o", "o", "d"]})
    res = nonresponse_adjustment([1, 3, 2, 2], [1, 0, 1, 1], df)
    assert [c.label for c in res.classes] == ["x:o", "y:d", "y:o"]
    assert res.weights.tolist() == [4.0, 0.0, 2.0, 2.0]
    one = nonresponse_adjustment([1, 3, 2, 2], [1, 0, 1, 1])
    assert one.weights.sum() == pytest.approx(8.0) and one.classes[0].label == "(all)"


@pytest.mark.parametrize("kwargs, message", [
    (dict(weights=[1, 1], responded=[1, 0], classes=["a", "b"]), "class 'b' has eligible"),
    (dict(weights=[1, -1], responded=[1, 1]), "row 2"),
    (dict(weights=[1, 1], responded=[1, 2]), "true/false"),
    (dict(weights=[1, 1], responded=[1, 1], eligible=[1, 0]), "row 2 responded but is marked"),
    (dict(weights=[1, 1], responded=[1], classes=None), "one value per unit"),
    (dict(weights=[1, 1], responded=[0, 0]), "no respondent"),
    (dict(weights=[1, 1], responded=[1, 0], classes=["a", None]), "row 2 is missing"),
    (dict(weights=[1, 1], responded=[1, 0], unknown_eligible_share=1.5), "between 0 and 1"),
])
def test_bad_inputs_are_refused_precisely(kwargs, message):
    with pytest.raises(WeightingError, match=message):
        nonresponse_adjustment(**kwargs)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.5, 50), st.booleans(), st.sampled_from("abc")),
                min_size=1, max_size=40))
def test_respondents_carry_the_weight_of_every_eligible_case_of_their_class(rows):
    w = np.array([r[0] for r in rows])
    responded = np.array([r[1] for r in rows])
    cls = np.array([r[2] for r in rows])
    present = {c for c in cls[responded]}
    if not responded.any() or any(c not in present for c in set(cls)):
        with pytest.raises(WeightingError):
            nonresponse_adjustment(w, responded, cls)
        return
    res = nonresponse_adjustment(w, responded, cls)
    for c in set(cls):
        assert res.weights[cls == c].sum() == pytest.approx(w[cls == c].sum(), rel=1e-12)
    assert (res.weights[~responded] == 0).all()


@pytest.mark.r
def test_equals_r_poststratify_of_respondents_to_the_full_sample_class_totals():
    rng = np.random.default_rng(7)
    n = 300
    cls = rng.choice(["a", "b", "c", "d"], n)
    w = rng.uniform(5, 50, n).round(4)
    responded = rng.random(n) < np.where(cls == "a", 0.4, 0.8)
    res = nonresponse_adjustment(w, responded, cls)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "nr.json"
        path.write_text(json.dumps({"w": w.tolist(), "cls": cls.tolist(),
                                    "r": responded.tolist()}))
        out = run_r(f"""
inp <- jsonlite::fromJSON("{path}")
d <- data.frame(w = inp$w, cls = inp$cls, r = inp$r)
pop <- aggregate(w ~ cls, data = d, FUN = sum); names(pop) <- c("cls", "Freq")
des <- svydesign(ids = ~1, weights = ~w, data = d[d$r, ])
ps <- postStratify(des, ~cls, pop)
OUT$w <- weights(ps)
""")
    np.testing.assert_allclose(res.weights[responded], out["w"], rtol=1e-12)
