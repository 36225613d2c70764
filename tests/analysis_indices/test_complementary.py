"""Complementary suppression: a small cell hidden alone can often be worked out from the
figures shown (a SIPAS factor is the mean of its items, the index the mean of its factors),
so the scorecard hides as few further figures as it needs to, keeping the overall index."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import null_space

from analysis.indices import compute_index
from analysis.reliability import scorecard

from ._common import design, sipas, survey

LEVELS = ("item", "dimension", "overall")
# The fixture's SIPAS tree written out by hand: factor = mean of its two items, the index
# = mean of the three factors.
TREE = {"F1": ("q1", "q2"), "F2": ("q3", "q4"), "F3": ("q5", "q6")}
NODES = ["q1", "q2", "q3", "q4", "q5", "q6", "F1", "F2", "F3", "SIPAS"]


def _hand_equations() -> np.ndarray:
    rows = []
    for factor, items in TREE.items():
        eq = np.zeros(len(NODES))
        eq[NODES.index(factor)] = 1
        for it in items:
            eq[NODES.index(it)] = -1 / len(items)
        rows.append(eq)
    eq = np.zeros(len(NODES))
    eq[NODES.index("SIPAS")] = 1
    for factor in TREE:
        eq[NODES.index(factor)] = -1 / len(TREE)
    rows.append(eq)
    return np.array(rows)


def _free(hidden: set[str]) -> set[str]:
    """Hidden nodes that can still take other values with every shown node fixed: those
    with a non-zero entry in some vector of the null space of the hidden columns."""
    cols = [NODES.index(n) for n in NODES if n in hidden]
    basis = null_space(_hand_equations()[:, cols])
    return {NODES[c] for k, c in enumerate(cols) if np.abs(basis[k]).max() > 1e-9}


def _agency_a(card) -> dict[str, object]:
    return {r.node: r for r in card if r.domain and r.domain["agency"] == "A"}


def _card(df, **kw):
    res = compute_index(sipas(), df, design(df), by="agency")
    return res, scorecard(res, min_n=10, rule="cv", levels=LEVELS, **kw)


@pytest.fixture
def few_q1():
    """Agency A: only 5 valid answers to q1 (the rest "na"), 60+ to every other item."""
    df = survey()
    df.loc[df.index[df.agency == "A"][5:], "q1"] = "na"
    return df


def test_a_small_item_hidden_alone_is_the_difference_of_figures_shown(few_q1):
    res, card = _card(few_q1, complementary=False)
    a = _agency_a(card)
    assert a["q1"].status == "suppressed (small cell)" and a["q1"].estimate is None
    assert a["q2"].estimate is not None and a["F1"].estimate is not None
    q1 = next(r for r in res.rows if r.node == "q1" and r.domain_dict == {"agency": "A"})
    assert 2 * a["F1"].estimate - a["q2"].estimate == pytest.approx(q1.estimate, abs=1e-12)


def test_its_sibling_is_hidden_too_and_the_factor_and_index_stay(few_q1):
    _res, card = _card(few_q1)
    a = _agency_a(card)
    hidden = {n for n, r in a.items() if r.estimate is None}
    assert hidden == {"q1", "q2"}
    assert a["q2"].status == "suppressed (complementary)"
    assert a["q2"].reasons == ("complementary",) and a["q2"].ci_low is None
    assert "q1" in _free(hidden)
    # the other agencies, with no small cell, lose nothing
    assert not any(r.status == "suppressed (complementary)" for r in card
                   if r.domain and r.domain["agency"] != "A")


def test_a_small_factor_costs_another_factor_and_one_item_not_the_index():
    df = survey()
    df.loc[df.index[df.agency == "A"][5:], ["q1", "q2"]] = "na"
    _res, card = _card(df)
    a = _agency_a(card)
    hidden = {n for n, r in a.items() if r.estimate is None}
    assert {"q1", "q2", "F1"} <= hidden and a["SIPAS"].estimate is not None
    assert {"q1", "q2", "F1"} <= _free(hidden)
    extra = hidden - {"q1", "q2", "F1"}
    assert len(extra) == 2 and {r.level for n, r in a.items() if n in extra} == {
        "item", "dimension"}
    # without the second step the factor would be the index's difference
    _res, plain = _card(df, complementary=False)
    p = _agency_a(plain)
    assert 3 * p["SIPAS"].estimate - p["F2"].estimate - p["F3"].estimate == pytest.approx(
        next(r for r in _res.rows if r.node == "F1"
             and r.domain_dict == {"agency": "A"}).estimate, abs=1e-12)


def test_a_figure_not_published_needs_no_complement(few_q1):
    # items not shown at all: the factor stays, nothing else is hidden
    res = compute_index(sipas(), few_q1, design(few_q1), by="agency")
    card = scorecard(res, min_n=10, rule="cv", levels=("dimension", "overall"))
    assert all(r.estimate is not None for r in card)
