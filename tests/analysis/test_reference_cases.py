"""Every linearisation case of ../shared/reference/expected, reproduced to its tolerance.

The expected numbers were computed by R 4.2.2 with survey 4.1.1 (see the reference
README; each case file records the R call). Cases that need calibration, post-
stratification or raking are built through the design (``design.calibrate``), from the
case's ``calibration`` spec; cases with supplied replicate weights are not shipped publicly
(their machinery is tested in tests/analysis_part2). ``sampling_*`` cases belong to the
sampling tests.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from _analysis_shared import REFERENCE

import analysis as A
from analysis.io import read_csv

PART_TWO_KEYS = ("replicates", "replicate_info")


def _linearisation_cases() -> list[Path]:
    out = []
    for path in sorted((REFERENCE / "expected").glob("*.json")):
        if path.name.startswith("sampling_"):
            continue
        case = json.loads(path.read_text())
        design = case["design"]
        if design.get("constructor") != "svydesign" or any(k in design for k in PART_TWO_KEYS):
            continue
        out.append(path)
    return out


def _terms(formula: str | None) -> list[str]:
    if formula is None:
        return []
    body = formula.strip().lstrip("~").strip()
    return [t.strip() for t in body.split("+") if t.strip()]


def build_design(spec: dict, data_dir: Path):
    data = read_csv(data_dir / spec["data"])
    ids = _terms(spec.get("ids"))
    kwargs = dict(
        ids=None if ids in ([], ["1"]) else ids,
        strata=(_terms(spec.get("strata")) or [None])[0],
        weights=(_terms(spec.get("weights")) or [None])[0],
        fpc=_terms(spec.get("fpc")) or None,
        nest=bool(spec.get("nest")),
    )
    design = A.SurveyDesign.create(data, **kwargs)
    cal = spec.get("calibration")
    if cal is not None:
        design = _calibrated(design, data, cal)
    return data, design


def _margin(pop: dict) -> tuple[str, dict]:
    var = next(k for k in pop if k != "Freq")
    return var, {str(lv): f for lv, f in zip(pop[var], pop["Freq"], strict=True)}


def _calibrated(design, data, cal: dict):
    """The case's postStratify / rake / calibrate call, through the design."""
    kind = cal["type"]
    if kind == "postStratify":
        var, totals = _margin(cal["population"])
        assert cal["strata"].lstrip("~").strip() == var
        return design.poststratify({var: totals})
    if kind == "rake":
        return design.rake(dict(_margin(m) for m in cal["margins"]))
    assert kind == "calibrate", kind
    pop = dict(zip(cal["population"]["names"], cal["population"]["values"], strict=True))
    totals: dict = {"(Intercept)": pop["(Intercept)"]}
    for term in _terms(cal["formula"]):
        col = np.asarray(data[term])
        if col.dtype.kind == "f":
            totals[term] = pop[term]
            continue
        levels = sorted({str(v) for v in col})
        rest = {lv: pop[term + lv] for lv in levels[1:]}
        totals[term] = {levels[0]: pop["(Intercept)"] - sum(rest.values()), **rest}
    bounds = cal.get("bounds")
    return design.calibrate(totals, cal.get("calfun", "linear"),
                            bounds=None if bounds is None else tuple(bounds))


_I_EQ = re.compile(r"^I\((?P<var>[\w.]+)\s*==\s*['\"](?P<val>[^'\"]+)['\"]\)$")


def run_call(call: str, design, data):
    """Translate the R call of a case into the library's call; return {(name, domain): row}."""
    m = re.match(r"^(\w+)\((.*)\)$", call.strip())
    assert m, call
    fn, args = m.group(1), m.group(2)
    parts = [p.strip() for p in re.split(r",(?![^()]*\))", args)]
    opts = {}
    positional = []
    for p in parts:
        if "=" in p and not p.startswith("~") and "==" not in p.split("=", 1)[0]:
            k, v = p.split("=", 1)
            opts[k.strip()] = v.strip()
        else:
            positional.append(p)
    deff = opts.get("deff") == "TRUE"
    out = {}

    def collect(table, rname):
        for est in table:
            name = rname(est)
            key = (name, None if est.domain is None else tuple(est.domain))
            out[key] = est

    def factor_name(est):
        return est.variable + (est.category or "")

    if fn in ("svymean", "svytotal"):
        stat = "mean" if fn == "svymean" else "total"
        table = A.estimate(design, **{stat: _terms(positional[0])}, deff=deff)
        collect(table, factor_name)
    elif fn == "svyratio":
        num, den = _terms(positional[0])[0], _terms(positional[1])[0]
        collect(A.ratio(num, den, design, deff=deff), lambda e: e.variable)
    elif fn == "svyby":
        formula, by, _des, func = positional[:4]
        stat = {"svymean": "mean", "svytotal": "total"}[func]
        table = A.estimate(design, **{stat: _terms(formula)}, by=_terms(by), deff=deff)
        collect(table, factor_name)
    elif fn == "svyciprop":
        term = _terms(positional[0])[0]
        im = _I_EQ.match(term)
        assert im, term
        y = np.array([v == im.group("val") for v in data[im.group("var")]])
        method = opts["method"].strip("'\"")
        table = A.proportion(y, design, ci_method=method)
        rname = f'I({im.group("var")} == "{im.group("val")}")'
        for est in table:
            if est.category == "TRUE":
                out[(rname, None)] = est
    else:
        raise AssertionError(f"unknown call {call}")
    return out


CASES = _linearisation_cases()


def test_reference_cases_are_found():
    # The reference folder ships linearisation cases; finding none would pass vacuously.
    assert len(CASES) >= 15


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_reference_case(path):
    case = json.loads(path.read_text())
    data, design = build_design(case["design"], REFERENCE / "data")
    got = run_call(case["call"], design, data)
    tol = case["tolerance"]

    def close(a, b):
        return abs(a - b) <= tol["abs"] + tol["rel"] * abs(b)

    assert len(got) == len(case["results"])
    for row in case["results"]:
        dom = None if row["domain"] is None else tuple(row["domain"].items())
        est = got[(row["variable"], dom)]
        assert close(est.value, row["estimate"]), (row, est)
        assert close(est.se, row["se"]), (row, est)
        if "deff" in row:
            assert close(est.deff, row["deff"]), (row, est)
        if "ci_low" in row:
            assert est.confidence_level == row.get("level", 0.95)
            assert close(est.ci_low, row["ci_low"]), (row, est)
            assert close(est.ci_high, row["ci_high"]), (row, est)
