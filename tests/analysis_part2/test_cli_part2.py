"""The part-2 command line: replicate and calibration design options, quantile rows, the
``calibrate`` subcommand, the bootstrap (checked statistically) and the error contract."""

from __future__ import annotations

import csv
import json
import warnings

import numpy as np
import pytest

import analysis as A
from analysis.__main__ import main
from analysis.io import read_csv

from ._rutil import DATA

STRAT = ["--data", str(DATA / "apistrat.csv"), "--strata", "stype", "--weights", "pw",
         "--fpc", "fpc"]
CLUS1 = ["--data", str(DATA / "apiclus1.csv"), "--ids", "dnum", "--weights", "pw",
         "--fpc", "fpc"]
RAKE = {"stype": {"E": 4421, "H": 755, "M": 1018}, "sch.wide": {"No": 1072, "Yes": 5122}}


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_converted_replicate_design_rows(capsys):
    code, out, err = run(capsys, "estimate", *STRAT, "--type", "JKn", "--mean", "api00",
                         "--by", "awards", "--quantile", "api00,enroll:0.25,0.5", "--deff")
    assert code == 0, err
    rows = json.loads(out)
    assert [r["estimand"] for r in rows] == ["mean"] * 2 + ["quantile"] * 8
    q = [r for r in rows if r["estimand"] == "quantile"]
    assert [(r["variable"], r["quantile"], r["domain"]["awards"]) for r in q[:4]] == [
        ("api00", 0.25, "No"), ("api00", 0.25, "Yes"), ("api00", 0.5, "No"),
        ("api00", 0.5, "Yes")]
    assert all(r["deff"] is None and r["category"] is None for r in q)
    # svyby(~api00, ~awards, as.svrepdesign(des, "JKn"), svyquantile, quantiles = 0.5)
    # in R 4.2.2 / survey 4.1.1: 646 (se 21.37898), 676 (se 17.41218)
    assert q[2]["estimate"] == 646 and q[2]["se"] == pytest.approx(21.37898, rel=1e-6)
    assert q[3]["estimate"] == 676 and q[3]["se"] == pytest.approx(17.41218, rel=1e-6)


def test_supplied_replicate_weights_equal_the_conversion(tmp_path, capsys):
    data = read_csv(DATA / "apistrat.csv")
    des = A.SurveyDesign.create(data, strata="stype", weights="pw", fpc="fpc")
    rep = des.as_replicate("JKn")
    rw = rep.replicate_weights
    src = DATA / "apistrat.csv"
    with open(src, newline="") as fh:
        rows = list(csv.reader(fh))
    f = tmp_path / "rep.csv"
    with open(f, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(rows[0] + [f"repw{r + 1}" for r in range(rw.shape[1])])
        for i, r in enumerate(rows[1:]):
            w.writerow(r + [repr(float(v)) for v in rw[i]])
    rs = tmp_path / "rscales.txt"
    rs.write_text("\n".join(repr(float(v)) for v in rep.replicates.rscales) + "\n")
    code, out, err = run(capsys, "estimate", "--data", f, "--weights", "pw", "--repweights",
                         "^repw", "--type", "JKn", "--rscales", f"@{rs}", "--mean",
                         "api00,enroll", "--ratio", "api.stu/enroll")
    assert code == 0, err
    got = json.loads(out)
    expect = A.estimate(rep, mean=["api00", "enroll"], ratio=[("api.stu", "enroll")],
                        deff=False).to_records(deff=False)
    for g, e in zip(got, expect, strict=True):
        assert g["estimate"] == pytest.approx(e["estimate"], rel=1e-12)
        assert g["se"] == pytest.approx(e["se"], rel=1e-10)
        assert g["ci_low"] == pytest.approx(e["ci_low"], rel=1e-10)
    # --mse centres on the full-sample estimate: the variance can only grow
    code, out2, _ = run(capsys, "estimate", "--data", f, "--weights", "pw", "--repweights",
                        "^repw", "--type", "JKn", "--rscales", f"@{rs}", "--mean", "api00",
                        "--mse")
    assert json.loads(out2)[0]["se"] >= got[0]["se"]


def test_calibrated_estimate_in_one_call(tmp_path, capsys):
    t = tmp_path / "t.json"
    t.write_text(json.dumps(RAKE))
    code, out, err = run(capsys, "estimate", *CLUS1, "--calibrate-method", "rake",
                         "--totals", t, "--mean", "api00,enroll")
    assert code == 0, err
    rows = json.loads(out)
    # clus1_rake2_mean.json (R)
    assert rows[0]["estimate"] == pytest.approx(641.2303209268, rel=1e-9)
    assert rows[0]["se"] == pytest.approx(23.703616887929012, rel=1e-9)
    assert rows[1]["se"] == pytest.approx(64.67601822115367, rel=1e-9)


def test_calibrate_subcommand(tmp_path, capsys):
    t = tmp_path / "t.json"
    t.write_text(json.dumps(RAKE))
    out_csv = tmp_path / "out.csv"
    code, out, err = run(capsys, "calibrate", *CLUS1, "--method", "rake", "--totals", t,
                         "--out", out_csv)
    assert code == 0, err
    diag = json.loads(out)
    assert list(diag) == ["method", "converged", "iterations", "sum", "min", "max", "cv",
                          "deff_weighting", "n_effective", "achieved"]
    assert diag["method"] == "rake" and diag["converged"] is True
    for var, levels in RAKE.items():
        for lv, tot in levels.items():
            assert diag["achieved"][var][lv] == pytest.approx(tot, rel=1e-8)
    back = read_csv(out_csv)
    w = np.asarray(back["calibrated_weight"])
    assert len(w) == 183 and w.sum() == pytest.approx(6194, rel=1e-10)
    assert diag["deff_weighting"] == pytest.approx(len(w) * (w**2).sum() / w.sum() ** 2)
    assert list(back)[:-1] == list(read_csv(DATA / "apiclus1.csv"))


def test_calibration_failure_is_reported(tmp_path, capsys):
    t = tmp_path / "t.json"
    t.write_text(json.dumps(RAKE))
    code, out, err = run(capsys, "calibrate", *CLUS1, "--method", "logit", "--bounds",
                         "0.9,1.1", "--totals", t, "--out", tmp_path / "o.csv")
    assert code == 0
    assert json.loads(out)["converged"] is False
    assert "did not converge" in err


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["estimate", *STRAT, "--type", "JK1", "--mean", "api00"], 1,
         "error: Can't use JK1 for a stratified design"),
        (["estimate", *STRAT, "--quantile", "api00", "--mean", "api00"], 1,
         "error: --quantile: expected V1,V2:P1,P2"),
        (["estimate", *STRAT, "--quantile", "api00:0.5", "--interval-type", "quantile"], 1,
         "error: interval type 'quantile' needs a replicate-weight design"),
        (["estimate", *STRAT, "--mean", "api00", "--calibrate-method", "rake"], 1,
         "error: --calibrate-method and --totals go together"),
        (["estimate", *STRAT, "--mean", "api00", "--repweights", "^nothing"], 1,
         "error: --ids does not apply"),
        (["estimate", *STRAT, "--type", "Fay", "--mean", "api00"], 1,
         "error: type Fay needs rho"),
        (["estimate", *STRAT, "--type", "XYZ", "--mean", "api00"], 2, "python -m analysis"),
        (["calibrate", *CLUS1, "--method", "rake", "--totals", "/nonexistent.json", "--out",
          "/tmp/x.csv"], 1, "error: cannot read totals file"),
    ],
)
def test_errors_one_line(capsys, argv, code, message):
    if message.startswith("error: --ids"):
        argv = ["estimate", "--data", str(DATA / "apistrat.csv"), "--ids", "dnum",
                "--weights", "pw", "--repweights", "^pw", "--mean", "api00"]
    with pytest.raises(SystemExit) if code == 2 else _nothing():
        c, out, err = run(capsys, *argv)
        assert c == code and out == ""
        assert err.startswith(message), err
        assert err.count("\n") == 1 or "warning" in err


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def test_calibration_error_message(tmp_path, capsys):
    t = tmp_path / "t.json"
    t.write_text(json.dumps({"stype": {"E": 4421, "H": 755}}))
    code, out, err = run(capsys, "estimate", *CLUS1, "--calibrate-method", "poststratify",
                         "--totals", t, "--mean", "api00")
    assert code == 1 and out == ""
    assert err.startswith("error: calibration margin 'stype'") and err.count("\n") == 1


def test_bootstrap_is_seeded_and_statistically_right():
    data = read_csv(DATA / "apistrat.csv")
    des = A.SurveyDesign.create(data, strata="stype", weights="pw", fpc="fpc")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        b1 = A.mean("api00", des.as_replicate("bootstrap", replicates=400, seed=7))
        b2 = A.mean("api00", des.as_replicate("bootstrap", replicates=400, seed=7))
        b3 = A.mean("api00", des.as_replicate("bootstrap", replicates=400, seed=8))
    assert b1.se[0] == b2.se[0] and b1.se[0] != b3.se[0]
    # the Rao-Wu bootstrap estimates the with-replacement variance: strat_wr_mean_total
    # (R) gives SE 9.57 for api00 without fpc; with 400 replicates the bootstrap SE has a
    # relative sampling error of about 1/sqrt(2 * 400) = 3.5 %, so 15 % is > 4 sigma
    wr = A.mean("api00", A.SurveyDesign.create(data, strata="stype", weights="pw"))
    assert abs(b1.se[0] / wr.se[0] - 1) < 0.15
    assert b1.value[0] == wr.value[0]
