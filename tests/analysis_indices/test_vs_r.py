"""Index SEs against an independent computation (issue 9, "done when").

fixtures/index_vs_r.json was made by fixtures/index_vs_r.R (R's survey: svyby of the
domain totals with covmat = TRUE, then svycontrast of every node as an expression, i.e.
the delta method; withReplicates for the JKn design) on fixtures/survey.csv, through
tests/analysis_part2/_rutil.py:run_r. The R-marked test reruns R and checks the saved
numbers still come out.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.indices import compute_index

from ._common import FIXTURES, design, papi, sipas, survey, tt01

EXPECTED = json.loads((FIXTURES / "index_vs_r.json").read_text(encoding="utf-8"))
CASES = {"sipas": sipas, "tt01": tt01, "papi": papi}


def _names(result):
    return [f"{r.domain_dict['agency']}|{r.node}" for r in result]


@pytest.mark.parametrize("key", sorted(CASES))
def test_linearised_index_equals_svyby_svycontrast(key):
    df = survey()
    res = compute_index(CASES[key](), df, design(df), by="agency")
    exp = EXPECTED[key]
    assert _names(res) == exp["nodes"]
    np.testing.assert_allclose([r.estimate for r in res], exp["estimate"], rtol=1e-12)
    np.testing.assert_allclose([r.se for r in res], exp["se"], rtol=1e-10)
    # the full covariance of all nodes within and across agencies (R: columns)
    np.testing.assert_allclose(res.covariance, np.array(exp["vcov"]).T, rtol=1e-9,
                               atol=1e-15)
    assert res.method == "linearisation"


@pytest.mark.parametrize("key", ["sipas_total", "sipas_total_calibrated"])
def test_city_total_and_its_covariance_with_the_agencies_equal_r(key):
    # R: every agency's nodes and the city's as svycontrast expressions of the domain
    # totals, so the city-agency covariances are R's; the calibrated case uses the
    # calibration residuals (linear calibration on t1 and t2, fixture script)
    df = survey()
    des = design(df)
    if key.endswith("calibrated"):
        des = des.calibrate({"(Intercept)": 32000, "t1": 81000, "t2": 80000}, "linear")
    res = compute_index(sipas(), df, des, by="agency", include_total=True)
    exp = EXPECTED[key]
    assert [n.replace("TOTAL|", "None|") for n in exp["nodes"]] == [
        f"{None if r.domain is None else r.domain_dict['agency']}|{r.node}" for r in res]
    np.testing.assert_allclose([r.estimate for r in res], exp["estimate"], rtol=1e-12)
    np.testing.assert_allclose([r.se for r in res], exp["se"], rtol=1e-10)
    np.testing.assert_allclose(res.covariance, np.array(exp["vcov"]).T, rtol=1e-9,
                               atol=1e-15)
    # the ranking's block: the overall index of every agency and the city
    rows, est, cov = res.block("SIPAS", include_total=True)
    ix = [k for k, n in enumerate(exp["nodes"]) if n.endswith("|SIPAS")]
    np.testing.assert_allclose(est, np.array(exp["estimate"])[ix], rtol=1e-12)
    np.testing.assert_allclose(cov, np.array(exp["vcov"]).T[np.ix_(ix, ix)], rtol=1e-9,
                               atol=1e-15)


def test_single_item_equals_svyby_svyratio():
    df = survey()
    res = compute_index(sipas(), df, design(df), by="agency")
    rows = [r for r in res if r.node == "q1"]
    np.testing.assert_allclose([r.estimate for r in rows],
                               EXPECTED["sipas_q1_svyratio"]["estimate"], rtol=1e-12)
    np.testing.assert_allclose([r.se for r in rows], EXPECTED["sipas_q1_svyratio"]["se"],
                               rtol=1e-10)


def test_replicate_design_equals_r_withreplicates_and_is_close_to_linearisation():
    df = survey()
    des = design(df)
    jk = compute_index(sipas(), df, des.as_replicate("JKn"), by="agency")
    exp = EXPECTED["sipas_jkn"]
    assert jk.method == "replicates"
    np.testing.assert_allclose([r.estimate for r in jk], exp["estimate"], rtol=1e-12)
    np.testing.assert_allclose([r.se for r in jk], exp["se"], rtol=1e-10)
    np.testing.assert_allclose(jk.covariance, np.array(exp["vcov"]).T, rtol=1e-9,
                               atol=1e-15)
    lin = compute_index(sipas(), df, des, by="agency")
    ratio = np.array([r.se for r in jk]) / np.array([r.se for r in lin])
    # JKn and linearisation are asymptotically equal; with 20 PSUs they agree to a few %
    assert np.median(np.abs(ratio - 1)) < 0.03
    assert np.max(np.abs(ratio - 1)) < 0.08


@pytest.mark.r
def test_r_script_reproduces_the_fixture(monkeypatch):
    from tests.analysis_part2._rutil import run_r

    monkeypatch.setenv("SURVEY_CSV", str((FIXTURES / "survey.csv").resolve()))
    out = run_r((FIXTURES / "index_vs_r.R").read_text(encoding="utf-8"))
    for key in ("sipas", "tt01", "papi", "sipas_jkn", "sipas_total", "sipas_total_calibrated"):
        np.testing.assert_allclose(out[key]["se"], EXPECTED[key]["se"], rtol=1e-12)
        np.testing.assert_allclose(out[key]["estimate"], EXPECTED[key]["estimate"],
                                   rtol=1e-12)
