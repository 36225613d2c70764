"""analysis.reliability.figure_status: the one-figure decision the scorecard and the
explorer share (small cell first, then NCHS for shares, the CV rule otherwise)."""

from __future__ import annotations

import math

import pytest

from analysis import DataError
from analysis.reliability import cv_rule, figure_status, nchs_proportion


def test_a_small_cell_is_suppressed_before_any_rule():
    f = figure_status(0.5, 0.01, 0.48, 0.52, 4, 30, share=True, min_n=5)
    assert f.estimate is None and f.ci_low is None and f.ci_high is None
    assert f.status == "suppressed (small cell)" and f.reasons == ("n<5",) and f.flagged


def test_a_share_gets_the_nchs_decision_and_korn_graubard_interval():
    p, se, n, df = 0.8279480114158236, 0.024344780113074782, 200, 197
    f = figure_status(p, se, 0.0, 1.0, n, df, share=True)
    ref = nchs_proportion(p, se, n, df)
    assert f.status == ref.flag[0] == "present" and not f.flagged
    assert (f.ci_low, f.ci_high) == (ref.ci_low[0], ref.ci_high[0])
    # a wide interval is suppressed by the NCHS rule: no figure shown
    wide = figure_status(0.5, 0.2, 0.1, 0.9, 40, 20, share=True)
    assert wide.estimate is None and wide.status == "suppress"


def test_other_figures_get_the_cv_rule_and_keep_their_interval():
    f = figure_status(3.2, 0.8, 1.6, 4.8, 50, 40, share=False)
    assert f.status == cv_rule(3.2, 0.8)[0] == "caution" and f.flagged
    assert (f.estimate, f.ci_low, f.ci_high) == (3.2, 1.6, 4.8)
    ok = figure_status(3.2, 0.1, 3.0, 3.4, 50, 40, share=False)
    assert ok.status == "reliable" and not ok.flagged
    none = figure_status(math.nan, math.nan, math.nan, math.nan, 50, 40, share=False)
    assert none.status == "not measured" and none.estimate is None


def test_the_nchs_rule_refuses_a_figure_that_is_not_a_share():
    with pytest.raises(DataError, match="not a proportion"):
        figure_status(3.2, 0.1, 3.0, 3.4, 50, 40, share=False, rule="nchs")
    with pytest.raises(DataError):
        figure_status(0.5, 0.1, 0.3, 0.7, 50, 40, share=True, rule="nope")
