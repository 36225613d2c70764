"""The command line: outputs, exit codes (0 / 1 error / 2 usage), files, --help."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _sampling_shared import MU284_CSV
from openpyxl import Workbook

from sampling.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
F = str(MU284_CSV)


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse exits for --help and usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_error(result, code=1, contains=""):
    rc, out, err = result
    assert rc == code
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert contains in err, err


def test_size(capsys):
    rc, out, err = run(
        capsys,
        "size",
        "--type",
        "proportion",
        "--moe",
        "0.05",
        "--N",
        "5000",
        "--domains",
        "4",
        "--response-rate",
        "0.7",
    )
    assert rc == 0 and err == ""
    d = json.loads(out)
    assert list(d)[:4] == ["n", "n_per_domain", "n_to_contact", "moe"]
    assert d["n"] == 4 * d["n_per_domain"] and d["n_per_domain"] == 295
    assert d["n_to_contact"] == 4 * 422
    rc, out, _ = run(capsys, "size", "--type", "mean", "--sd", "10", "--moe", "1", "--deff", "2")
    assert json.loads(out)["n"] == 769
    rc, out, _ = run(capsys, "size", "--type", "proportion", "--n", "385")
    assert json.loads(out)["moe"] == pytest.approx(0.049944507)
    rc, out, _ = run(capsys, "size", "--type", "proportion", "--p", "0.5", "--detect", "0.1")
    assert json.loads(out)["n_per_group"] == 388


def test_size_usage_and_value_errors(capsys):
    assert_error(run(capsys, "size", "--type", "mean", "--moe", "1"), 2, "--sd")
    assert_error(
        run(capsys, "size", "--type", "proportion", "--moe", "0.05", "--p", "0.5", "--sd", "1"), 2
    )
    assert_error(run(capsys, "size", "--type", "ratio", "--moe", "1"), 2)
    assert_error(run(capsys, "size", "--type", "proportion", "--moe", "-1"), 1, "positive")
    assert_error(
        run(capsys, "size", "--type", "proportion", "--p", "2", "--moe", "0.1"),
        1,
        "between 0 and 1",
    )


def test_allocate(capsys):
    rc, out, _ = run(
        capsys,
        "allocate",
        "--frame",
        F,
        "--strata",
        "REG",
        "--n",
        "50",
        "--method",
        "proportional",
        "--min",
        "3",
    )
    rows = json.loads(out)
    assert rc == 0 and [set(r) for r in rows] == [{"stratum", "N_h", "n_h"}] * 8
    assert sum(r["n_h"] for r in rows) == 50 and min(r["n_h"] for r in rows) >= 3
    assert sum(r["N_h"] for r in rows) == 284
    rc, out, _ = run(
        capsys,
        "allocate",
        "--frame",
        F,
        "--strata",
        "REG",
        "--n",
        "50",
        "--method",
        "neyman",
        "--sd",
        "P75",
    )
    assert sum(r["n_h"] for r in json.loads(out)) == 50
    assert_error(
        run(capsys, "allocate", "--frame", F, "--strata", "REG", "--n", "500", "--method", "equal"),
        1,
        "larger than the frame",
    )
    assert_error(
        run(
            capsys,
            "allocate",
            "--frame",
            F,
            "--strata",
            "REG",
            "--n",
            "5",
            "--method",
            "optimal",
            "--sd",
            "P75",
        ),
        1,
        "cost",
    )


def test_inclusion_plain_and_stratified(capsys, tmp_path):
    rc, out, _ = run(
        capsys, "inclusion", "--frame", F, "--id", "LABEL", "--size", "P75", "--n", "30"
    )
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["id", "pik"] and len(rows) == 285
    assert rows[16] == ["16", "1.0"]  # Stockholm, a certainty unit
    assert sum(float(r[1]) for r in rows[1:]) == pytest.approx(30)
    rc, out, _ = run(
        capsys,
        "inclusion",
        "--frame",
        F,
        "--id",
        "LABEL",
        "--size",
        "P75",
        "--n",
        "2",
        "--strata",
        "REG",
    )
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["id", "stratum", "pik"] and [r[0] for r in rows[1:]] == [
        str(i) for i in range(1, 285)
    ]
    nfile = tmp_path / "n.csv"
    nfile.write_text("stratum,n\n" + "".join(f"{h},{h}\n" for h in range(1, 9)), encoding="utf-8")
    rc, out, _ = run(
        capsys,
        "inclusion",
        "--frame",
        F,
        "--id",
        "LABEL",
        "--size",
        "P75",
        "--strata",
        "REG",
        "--n-file",
        str(nfile),
    )
    rows = list(csv.reader(io.StringIO(out)))[1:]
    assert sum(float(r[2]) for r in rows if r[1] == "8") == pytest.approx(8)
    nfile.write_text("stratum,n\n1,1\n9,1\n", encoding="utf-8")
    assert_error(
        run(
            capsys,
            "inclusion",
            "--frame",
            F,
            "--id",
            "LABEL",
            "--size",
            "P75",
            "--strata",
            "REG",
            "--n-file",
            str(nfile),
        ),
        1,
        "stratum '9'",
    )
    assert_error(
        run(
            capsys,
            "inclusion",
            "--frame",
            F,
            "--id",
            "LABEL",
            "--size",
            "P75",
            "--n-file",
            str(nfile),
        ),
        1,
        "no column 'stratum' (--strata)",
    )


def test_joint(capsys):
    rc, out, _ = run(
        capsys,
        "joint",
        "--frame",
        F,
        "--id",
        "LABEL",
        "--size",
        "P75",
        "--n",
        "4",
        "--method",
        "sampford",
    )
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["id_k", "id_l", "pikl"] and len(rows) == 1 + 284 * 285 // 2
    assert rows[1][:2] == ["1", "1"] and rows[2][:2] == ["1", "2"]
    assert_error(
        run(
            capsys,
            "joint",
            "--frame",
            F,
            "--id",
            "LABEL",
            "--size",
            "P75",
            "--n",
            "4",
            "--method",
            "brewer",
        ),
        1,
        "Brewer's method has no closed-form",
    )


def _draw_args(out, record, *extra):
    return [
        "draw",
        "--frame",
        F,
        "--id",
        "LABEL",
        "--method",
        "pps-systematic",
        "--n",
        "3",
        "--strata",
        "REG",
        "--size",
        "P75",
        "--seed",
        "20240104",
        "--reserve",
        "1",
        "--out",
        str(out),
        "--record",
        str(record),
        *extra,
    ]


def test_draw_and_verify(capsys, tmp_path):
    a, ra = tmp_path / "a.csv", tmp_path / "a.json"
    rc, out, err = run(capsys, *_draw_args(a, ra))
    assert rc == 0 and err == ""
    assert json.loads(out) == json.loads(ra.read_text(encoding="utf-8"))
    assert out == ra.read_text(encoding="utf-8")
    b, rb = tmp_path / "b.csv", tmp_path / "b.json"
    run(capsys, *_draw_args(b, rb))
    assert a.read_bytes() == b.read_bytes()  # byte-identical sample
    header = a.read_text(encoding="utf-8").splitlines()[0]
    assert header.endswith(",pik,weight,reserve_rank")
    rc, out, err = run(capsys, "verify", "--record", str(ra), "--frame", F)
    assert rc == 0 and out.startswith("verified") and err == ""
    changed = tmp_path / "changed.csv"
    text = MU284_CSV.read_text(encoding="utf-8").replace("\n16,", "\n16,", 1)
    lines = text.splitlines()
    lines[5] = lines[5].replace(lines[5].split(",")[2], "777", 1)
    changed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_error(
        run(capsys, "verify", "--record", str(ra), "--frame", str(changed)),
        1,
        "frame digest differs",
    )


def test_draw_errors_write_nothing(capsys, tmp_path):
    out, rec = tmp_path / "s.csv", tmp_path / "r.json"
    assert_error(
        run(
            capsys,
            "draw",
            "--frame",
            F,
            "--id",
            "LABEL",
            "--method",
            "srs",
            "--n",
            "400",
            "--out",
            str(out),
            "--record",
            str(rec),
        ),
        1,
        "n = 400 is larger than the 284 units",
    )
    assert_error(
        run(
            capsys,
            "draw",
            "--frame",
            F,
            "--id",
            "REG",
            "--method",
            "srs",
            "--n",
            "4",
            "--out",
            str(out),
            "--record",
            str(rec),
        ),
        1,
        "duplicate id '1' in id column 'REG'",
    )
    assert_error(
        run(
            capsys,
            "draw",
            "--frame",
            F,
            "--id",
            "LABEL",
            "--method",
            "pps-brewer",
            "--n",
            "4",
            "--out",
            str(out),
            "--record",
            str(rec),
        ),
        1,
        "needs a size column",
    )
    assert_error(
        run(
            capsys,
            "draw",
            "--frame",
            F,
            "--id",
            "LABEL",
            "--method",
            "simple",
            "--n",
            "4",
            "--out",
            str(out),
            "--record",
            str(rec),
        ),
        2,
        "invalid choice",
    )
    assert_error(
        run(
            capsys,
            "draw",
            "--frame",
            str(tmp_path / "none.csv"),
            "--id",
            "LABEL",
            "--method",
            "srs",
            "--n",
            "4",
            "--out",
            str(out),
            "--record",
            str(rec),
        ),
        1,
        "does not exist",
    )
    assert not out.exists() and not rec.exists()
    assert os.listdir(tmp_path) == []


def test_draw_xlsx_vietnamese_and_stages(capsys, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Mã hồ sơ", "Phường", "Dân số", "Lĩnh vực"])
    for w in range(6):
        for i in range(5):
            ws.append([f"HS-{w}-{i}", f"Phường Bến Nghé {w}", 1000 * (w + 1), "Đất đai"])
    wb.save(tmp_path / "khung.xlsx")
    stages = tmp_path / "stages.json"
    stages.write_text(
        json.dumps(
            [
                {"unit": "Phường", "method": "pps-sampford", "n": 3, "size": "Dân số"},
                {"unit": "Mã hồ sơ", "method": "srs", "n_per_parent": 2},
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    out, rec = tmp_path / "s.csv", tmp_path / "r.json"
    rc, printed, err = run(
        capsys,
        "draw",
        "--frame",
        str(tmp_path / "khung.xlsx"),
        "--id",
        "Mã hồ sơ",
        "--stages",
        str(stages),
        "--seed",
        "1",
        "--reserve",
        "1",
        "--out",
        str(out),
        "--record",
        str(rec),
    )
    assert rc == 0, err
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 3 * 2 + 3
    assert rows[0]["Lĩnh vực"] == "Đất đai"
    assert all(
        float(r["pik"]) == pytest.approx(float(r["pik_stage1"]) * float(r["pik_stage2"]))
        for r in rows
    )
    rc, printed, err = run(
        capsys, "verify", "--record", str(rec), "--frame", str(tmp_path / "khung.xlsx")
    )
    assert rc == 0, err


def test_verify_bad_record(capsys, tmp_path):
    bad = tmp_path / "r.json"
    bad.write_text("{not json", encoding="utf-8")
    assert_error(run(capsys, "verify", "--record", str(bad), "--frame", F), 1, "not valid JSON")


@pytest.mark.parametrize("command", ["size", "allocate", "inclusion", "joint", "draw", "verify"])
def test_help_in_plain_words(capsys, command):
    rc, out, err = run(capsys, command, "--help")
    assert rc == 0 and err == ""
    assert "usage:" in out and len(out) > 300


def test_module_entry_point_and_no_traceback(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ok = subprocess.run(
        [sys.executable, "-m", "sampling", "size", "--type", "proportion", "--moe", "0.05"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert ok.returncode == 0 and json.loads(ok.stdout)["n"] == 385
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "sampling",
            "inclusion",
            "--frame",
            F,
            "--id",
            "LABEL",
            "--size",
            "LABEL",
            "--n",
            "300",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert bad.returncode == 1 and bad.stdout == "" and bad.stderr.count("\n") == 1
    usage = subprocess.run(
        [sys.executable, "-m", "sampling"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert usage.returncode == 2 and usage.stdout == "" and "Traceback" not in usage.stderr


def test_n_file_defaults_to_a_stratum_column_and_overrides_n(capsys, tmp_path):
    frame = tmp_path / "f.csv"
    frame.write_text(
        "id,stratum,x\n" + "".join(f"u{i},{'AB'[i % 2]},{i + 1}\n" for i in range(10)),
        encoding="utf-8",
    )
    nfile = tmp_path / "n.csv"
    nfile.write_text("stratum,n\nA,2\nB,1\n", encoding="utf-8")
    rc, out, err = run(
        capsys,
        "inclusion",
        "--frame",
        str(frame),
        "--id",
        "id",
        "--size",
        "x",
        "--n",
        "3",
        "--n-file",
        str(nfile),
    )
    assert rc == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sum(float(r["pik"]) for r in rows if r["stratum"] == "A") == pytest.approx(2)
    rc, out, err = run(
        capsys,
        "draw",
        "--frame",
        str(frame),
        "--id",
        "id",
        "--method",
        "srs",
        "--n-file",
        str(nfile),
        "--seed",
        "1",
        "--out",
        str(tmp_path / "s.csv"),
        "--record",
        str(tmp_path / "r.json"),
    )
    assert rc == 0, err
    assert json.loads(out)["parameters"]["stages"][0]["strata"] == "stratum"
