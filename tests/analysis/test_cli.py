"""The command line contract: ``python -m analysis estimate`` (fields, typing, errors)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from _analysis_shared import REFERENCE

from analysis.__main__ import main

DATA = REFERENCE / "data"
KEYS = ["estimand", "variable", "category", "quantile", "domain", "estimate", "se", "ci_low",
        "ci_high", "n"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_estimate_rows_follow_the_contract(capsys):
    code, out, err = run(capsys, "estimate", "--data", str(DATA / "apistrat.csv"),
                         "--strata", "stype", "--weights", "pw", "--fpc", "fpc",
                         "--mean", "api00,enroll", "--deff")
    assert code == 0 and err == ""
    rows = json.loads(out)
    assert [list(r) for r in rows] == [KEYS[:9] + ["deff", "n"]] * 2
    api = rows[0]
    # strat_fpc_mean.json (R survey 4.1.1)
    assert api["estimate"] == pytest.approx(662.2873631593208, rel=1e-9)
    assert api["se"] == pytest.approx(9.408940802784583, rel=1e-9)
    assert api["deff"] == pytest.approx(1.2044572685377175, rel=1e-9)
    assert api["n"] == 200 and api["quantile"] is None and api["domain"] is None


def test_categories_domains_ratio_and_ci_methods(capsys):
    code, out, _ = run(capsys, "estimate", "--data", str(DATA / "apiclus1.csv"), "--ids", "dnum",
                       "--weights", "pw", "--fpc", "fpc", "--proportion", "sch.wide",
                       "--total", "stype", "--ratio", "api.stu/enroll", "--by", "awards",
                       "--ci-method", "logit", "--level", "0.9")
    assert code == 0
    rows = json.loads(out)
    assert all("deff" not in r for r in rows)
    props = [r for r in rows if r["estimand"] == "proportion"]
    assert [(r["category"], r["domain"]) for r in props] == [
        ("No", {"awards": "No"}), ("No", {"awards": "Yes"}),
        ("Yes", {"awards": "No"}), ("Yes", {"awards": "Yes"})]
    totals = [r for r in rows if r["estimand"] == "total"]
    assert {r["category"] for r in totals} == {"E", "H", "M"}
    ratio = [r for r in rows if r["estimand"] == "ratio"]
    assert [r["variable"] for r in ratio] == ["api.stu/enroll"] * 2
    assert all(0 <= r["ci_low"] <= r["ci_high"] <= 1 for r in props)
    # awards=Yes schools all met the target: p is 0 or 1 and R's glm stops a hair inside
    assert all(r["ci_low"] <= r["estimate"] <= r["ci_high"] for r in props if r["se"] > 0)


def test_typing_rule_numbers_vs_text_and_missing(tmp_path, capsys):
    f = tmp_path / "d.csv"
    f.write_text("g,code,y,w\nb,2,1.5,1\na,10,,2\nB,2,3,1\na,1.0,4,1\n")
    code, out, _ = run(capsys, "estimate", "--data", str(f), "--weights", "w",
                       "--proportion", "code,g", "--mean", "y")
    assert code == 0
    rows = json.loads(out)
    codes = [r["category"] for r in rows if r["variable"] == "code"]
    assert codes == ["1", "2", "10"]  # numeric: numeric order, written as text
    assert [r["category"] for r in rows if r["variable"] == "g"] == ["B", "a", "b"]  # code points
    y = [r for r in rows if r["variable"] == "y"][0]
    assert y["n"] == 3 and y["estimate"] == pytest.approx((1.5 + 3 + 4) / 3)


def test_nan_is_written_as_null(tmp_path, capsys):
    f = tmp_path / "d.csv"
    f.write_text("y,g,w\n1,a,1\n2,a,1\n,b,1\n3,b,1\n")
    code, out, _ = run(capsys, "estimate", "--data", str(f), "--weights", "w", "--mean", "y",
                       "--by", "g")
    assert code == 0
    assert "NaN" not in out and "Infinity" not in out
    rows = json.loads(out)
    b = [r for r in rows if r["domain"] == {"g": "b"}][0]
    assert b["n"] == 1 and b["estimate"] == 3.0


SMALL = """st,psu,w,neg,y
E,1,2,2,1.5
E,2,2,-1,2.5
E,3,3,3,3.0
H,4,1,1,4.0
H,4,1,1,5.5
"""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mean", "nope"], "error: unknown column 'nope'"),
        (["--mean", "y", "--weights", "neg"], "error: weights must be non-negative"),
        (["--weights", "w"], "error: nothing to estimate"),
        (["--mean", "y", "--ids", "psu", "--strata", "st", "--weights", "w"],
         "error: Stratum (H) has only one PSU at stage 1"),
        (["--ratio", "y", "--weights", "w"], "error: --ratio: expected NUM/DEN"),
        (["--mean", "y", "--weights", "w", "--fpc", "neg"],
         "error: Must have all fpc>=1 or all fpc<=1"),
    ],
)
def test_errors_one_line_exit_1_nothing_on_stdout(tmp_path, capsys, args, message):
    f = tmp_path / "small.csv"
    f.write_text(SMALL)
    code, out, err = run(capsys, "estimate", "--data", str(f), *args)
    assert code == 1 and out == ""
    assert err.startswith(message) and err.count("\n") == 1


def test_lonely_psu_option_reaches_the_design(tmp_path, capsys):
    f = tmp_path / "small.csv"
    f.write_text(SMALL)
    code, out, _ = run(capsys, "estimate", "--data", str(f), "--ids", "psu", "--strata", "st",
                       "--weights", "w", "--mean", "y", "--lonely-psu", "certainty")
    assert code == 0 and json.loads(out)[0]["se"] > 0


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["estimate", "--data", "x.csv", "--weights", "a", "--probs", "b", "--mean", "y"])
    assert exc.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and "not allowed with argument" in err and err.count("\n") == 1
    with pytest.raises(SystemExit) as exc:
        main(["estimate", "--mean", "y"])
    assert exc.value.code == 2


def test_missing_file_is_an_error(capsys, tmp_path):
    code, out, err = run(capsys, "estimate", "--data", str(tmp_path / "none.csv"), "--mean", "y")
    assert code == 1 and out == "" and err.startswith("error: cannot read")


def test_process_help_and_no_traceback(tmp_path):
    repo = Path(__file__).resolve().parents[2]
    help_ = subprocess.run([sys.executable, "-m", "analysis", "--help"], capture_output=True,
                           text=True, cwd=repo)
    assert help_.returncode == 0 and "estimate" in help_.stdout
    sub = subprocess.run([sys.executable, "-m", "analysis", "estimate", "--help"],
                         capture_output=True, text=True, cwd=repo)
    for opt in ("--ids", "--strata", "--weights", "--probs", "--fpc", "--nest", "--lonely-psu",
                "--mean", "--total", "--proportion", "--ratio", "--by", "--level", "--deff",
                "--ci-method"):
        assert opt in sub.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n3\n")
    proc = subprocess.run([sys.executable, "-m", "analysis", "estimate", "--data", str(bad),
                           "--mean", "a"], capture_output=True, text=True, cwd=repo)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1


def test_two_stage_design_with_fpc_at_both_stages(capsys):
    # R 4.2.2, survey 4.1.1:
    #   des <- svydesign(id=~dnum+snum, fpc=~fpc1+fpc2, data=apiclus2)
    #   svymean(~api00, des, deff=TRUE); svyby(~enroll, ~stype, des, svytotal, na.rm=TRUE)
    code, out, err = run(capsys, "estimate", "--data", str(DATA / "apiclus2.csv"),
                         "--ids", "dnum+snum", "--fpc", "fpc1+fpc2", "--mean", "api00", "--deff")
    assert code == 0 and err == ""
    (row,) = json.loads(out)
    assert row["estimate"] == pytest.approx(670.8118081180812169, rel=1e-12)
    assert row["se"] == pytest.approx(30.0990273768366023, rel=1e-10)
    assert row["deff"] == pytest.approx(6.2505137557125794, rel=1e-10)
    code, out, _ = run(capsys, "estimate", "--data", str(DATA / "apiclus2.csv"),
                       "--ids", "dnum+snum", "--fpc", "fpc1+fpc2", "--total", "enroll",
                       "--by", "stype")
    rows = {r["domain"]["stype"]: r for r in json.loads(out)}
    for stype, est, se in (("E", 1161343.97999999998, 334451.84837550472),
                           ("H", 715486.12000000011, 338720.98813905701),
                           ("M", 762442.83000000007, 291735.04183014896)):
        assert rows[stype]["estimate"] == pytest.approx(est, rel=1e-12)
        assert rows[stype]["se"] == pytest.approx(se, rel=1e-10)


def test_nest_probs_and_warnings(tmp_path, capsys):
    f = tmp_path / "n.csv"
    f.write_text("st,psu,p,y\n1,1,0.5,1\n1,2,0.5,2\n2,1,0.25,3\n2,2,0.25,5\n")
    code, out, err = run(capsys, "estimate", "--data", str(f), "--ids", "psu", "--strata", "st",
                         "--probs", "p", "--mean", "y")
    assert code == 1 and "nest=TRUE" in err
    code, out, err = run(capsys, "estimate", "--data", str(f), "--ids", "psu", "--strata", "st",
                         "--probs", "p", "--nest", "--mean", "y")
    assert code == 0 and err == ""
    assert json.loads(out)[0]["estimate"] == pytest.approx((2 * 1 + 2 * 2 + 4 * 3 + 4 * 5) / 12)
    # no weights at all: R's warning on stderr, the estimate on stdout
    code, out, err = run(capsys, "estimate", "--data", str(f), "--mean", "y")
    assert code == 0
    assert err == "warning: No weights or probabilities supplied, assuming equal probability\n"
    assert json.loads(out)[0]["estimate"] == pytest.approx(2.75)
