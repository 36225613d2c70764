"""The command line contract of ``python -m analysis chisq | ttest | glm``.

Keys, typing (text columns are categorical, numbers numeric), missing values and error
handling (one line on stderr, exit 1) as for ``estimate``. The numbers are R's
(survey 4.1.1, printed with 15 digits by::

    des <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
    svychisq(~sch.wide + stype, des); svychisq(~sch.wide + stype, des, statistic = "Chisq")
    svyttest(api00 ~ comp.imp, des)
    summary(svyglm(sch.wide ~ ell + stype, des, family = quasibinomial()))

and for apiclus2 ``svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2)``).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from analysis.__main__ import main

from ._rutil import DATA

STRAT = ["--data", str(DATA / "apistrat.csv"), "--strata", "stype", "--weights", "pw",
         "--fpc", "fpc"]
CLUS2 = ["--data", str(DATA / "apiclus2.csv"), "--ids", "dnum+snum", "--fpc", "fpc1+fpc2"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_chisq_f(capsys):
    code, out, err = run(capsys, "chisq", *STRAT, "--vars", "sch.wide,stype")
    assert code == 0 and err == ""
    rec = json.loads(out)
    assert list(rec) == ["statistic", "ndf", "ddf", "p_value", "method"]
    assert rec["statistic"] == pytest.approx(17.2474439638888, rel=1e-12)
    assert rec["ndf"] == pytest.approx(1.82867150416358, rel=1e-12)
    assert rec["ddf"] == pytest.approx(360.248286320226, rel=1e-12)
    assert rec["p_value"] == pytest.approx(2.03504635946516e-07, rel=1e-9)
    assert rec["method"] == "Pearson's X^2: Rao & Scott adjustment"


def test_chisq_chisq_two_stage(capsys):
    code, out, _ = run(capsys, "chisq", *CLUS2, "--vars", "sch.wide,stype",
                       "--statistic", "Chisq")
    assert code == 0
    rec = json.loads(out)
    assert list(rec) == ["statistic", "df", "p_value", "method"]
    assert rec["statistic"] == pytest.approx(53.9086683447049, rel=1e-12)
    assert rec["df"] == 2
    assert rec["p_value"] == pytest.approx(6.97802144090656e-06, rel=1e-9)


def test_ttest(capsys):
    code, out, err = run(capsys, "ttest", *STRAT, "--var", "api00", "--by", "comp.imp")
    assert code == 0 and err == ""
    rec = json.loads(out)
    assert list(rec) == ["estimate", "se", "t", "df", "p_value", "ci_low", "ci_high"]
    assert rec["estimate"] == pytest.approx(40.9899300351764, rel=1e-12)
    assert rec["t"] == pytest.approx(2.08424329551705, rel=1e-12)
    assert rec["df"] == 196
    assert rec["p_value"] == pytest.approx(0.0384341879512073, rel=1e-10)
    assert [rec["ci_low"], rec["ci_high"]] == pytest.approx(
        [2.20466400155797, 79.7751960687947], rel=1e-12)


def test_glm_quasibinomial(capsys):
    code, out, err = run(capsys, "glm", *STRAT, "--formula", "sch.wide ~ ell + stype",
                         "--family", "quasibinomial")
    assert code == 0 and err == ""
    rows = json.loads(out)
    assert [r["term"] for r in rows] == ["(Intercept)", "ell", "stypeH", "stypeM", None]
    assert all(list(r) == ["term", "estimate", "se", "t", "p_value"] for r in rows[:-1])
    assert list(rows[-1]) == ["term", "df_residual", "dispersion"]
    ref = {  # estimate, se, t, p (R)
        "(Intercept)": (2.7633515297912155, 0.5622660511024823, 4.91466899766201,
                        1.88727469463271e-06),
        "stypeH": (-2.4670564941036526, 0.5273881907599859, -4.67787587459729,
                   5.42489968591047e-06),
    }
    for r in rows[:-1]:
        if r["term"] in ref:
            assert [r["estimate"], r["se"], r["t"], r["p_value"]] == pytest.approx(
                ref[r["term"]], rel=1e-9)
    assert rows[-1]["df_residual"] == 194
    assert rows[-1]["dispersion"] == pytest.approx(1.0635277364336, rel=1e-12)


def test_glm_binomial_warns_on_stderr(capsys):
    code, out, err = run(capsys, "glm", *STRAT, "--formula", "sch.wide ~ ell",
                         "--family", "binomial")
    assert code == 0
    assert err == "warning: non-integer #successes in a binomial glm!\n"
    assert json.loads(out)[-1]["df_residual"] == 196


def test_glm_gaussian_two_stage_factor(capsys):
    code, out, _ = run(capsys, "glm", *CLUS2, "--formula",
                       "api00 ~ ell + meals + mobility + factor(stype)")
    assert code == 0
    rows = json.loads(out)
    assert [r["term"] for r in rows][-3:] == ["factor(stype)H", "factor(stype)M", None]
    assert rows[0]["estimate"] == pytest.approx(880.460975136985439, rel=1e-12)
    assert rows[0]["se"] == pytest.approx(19.942096325702355, rel=1e-10)
    assert rows[-1]["df_residual"] == 34
    assert rows[-1]["dispersion"] == pytest.approx(5429.01779291966, rel=1e-12)


def test_glm_aliased_term_is_null(tmp_path, capsys):
    path = tmp_path / "d.csv"
    path.write_text("y,x,x2,w\n1,1,2,1\n2,2,4,1\n2,3,6,2\n4,4,8,1\n3,5,10,1\n", encoding="utf-8")
    code, out, _ = run(capsys, "glm", "--data", str(path), "--weights", "w",
                       "--formula", "y ~ x + x2")
    assert code == 0
    rows = json.loads(out)
    assert rows[2] == {"term": "x2", "estimate": None, "se": None, "t": None, "p_value": None}


@pytest.mark.parametrize(
    "argv, message",
    [
        (["chisq", *STRAT, "--vars", "sch.wide"], "expected two column names"),
        (["chisq", *STRAT, "--vars", "sch.wide,nosuch"], "unknown column 'nosuch'"),
        (["chisq", *STRAT, "--vars", "sch.wide,flag"], "needs at least two"),
        (["ttest", *STRAT, "--var", "api00", "--by", "stype"], "group must be binary"),
        (["ttest", *STRAT, "--var", "stype", "--by", "comp.imp"], "not numeric"),
        (["glm", *STRAT, "--formula", "api00 ~ ell +"], "ends too early"),
        (["glm", *STRAT, "--formula", "api00 ~ nosuch"], "unknown column 'nosuch'"),
        (["glm", *STRAT, "--formula", "stype ~ ell"], "categorical"),
        (["glm", *STRAT, "--formula", "api00 ~ ell", "--family", "binomial"], "0 <= y <= 1"),
        (["glm", "--data", str(DATA / "apiclus1.csv"), "--ids", "dnum", "--strata", "dnum",
          "--weights", "pw", "--formula", "api00 ~ ell"], "only one PSU"),
    ],
)
def test_errors_are_one_line(argv, message, capsys):
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["glm", *STRAT, "--formula", "y ~ x", "--family", "poisson"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_subprocess_and_help_stay_light():
    # the subcommands import no statistics at module level: --help is fast and clean
    proc = subprocess.run([sys.executable, "-m", "analysis", "glm", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--formula" in proc.stdout
    code = ("import sys, analysis.commands.glm, analysis.commands.chisq, "
            "analysis.commands.ttest; print(sorted(m for m in ('scipy', 'statsmodels', "
            "'analysis.glm', 'analysis.svytests', 'analysis.formula') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.stdout.strip() == "[]"


def test_replicate_and_calibration_options_reach_the_models(tmp_path, capsys):
    # the shared design options: --type converts to replicate weights, --calibrate-method
    # post-stratifies; the command prints what the library computes on that design
    import numpy as np

    from analysis import SurveyDesign
    from analysis.glm import glm
    from analysis.io import read_csv
    from analysis.svytests import ttest

    code, out, _ = run(capsys, "glm", *STRAT, "--type", "JKn", "--formula", "api00 ~ ell")
    assert code == 0
    rows = json.loads(out)
    des = SurveyDesign.create(read_csv(DATA / "apistrat.csv"), strata="stype", weights="pw",
                              fpc="fpc")
    ref = glm("api00 ~ ell", des.as_replicate("JKn"))
    assert [r["se"] for r in rows[:-1]] == pytest.approx(list(ref.se), rel=1e-12)
    assert rows[-1]["dispersion"] == pytest.approx(ref.dispersion, rel=1e-12)

    totals = tmp_path / "totals.json"
    totals.write_text('{"stype": {"E": 4421, "H": 755, "M": 1018}}', encoding="utf-8")
    code, out, _ = run(capsys, "ttest", "--data", str(DATA / "apiclus1.csv"), "--ids", "dnum",
                       "--weights", "pw", "--fpc", "fpc", "--calibrate-method", "poststratify",
                       "--totals", str(totals), "--var", "api00", "--by", "comp.imp")
    assert code == 0
    rec = json.loads(out)
    des1 = SurveyDesign.create(read_csv(DATA / "apiclus1.csv"), ids="dnum", weights="pw",
                               fpc="fpc")
    ps = ttest(des1.poststratify({"stype": {"E": 4421, "H": 755, "M": 1018}}), "api00",
               "comp.imp")
    assert np.isclose(rec["se"], ps.se, rtol=1e-12) and rec["df"] == ps.df
