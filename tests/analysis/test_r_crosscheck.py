"""Randomised cross-check against R's survey package, run in batched Rscript subprocesses.

Each run generates 200 random designs (SURVEYAPP_CROSSCHECK_N) — strata or none; no
clusters, one-, two- or three-stage clusters; unequal weights given as weights,
probabilities or derived from the fpc; fpc as population sizes, fractions or absent;
``nest``; every lonely-PSU policy; domains (one and two crossed variables); missing
values — writes them to a temporary folder and lets R compute svymean, svytotal,
svyratio, svyby and svyciprop on all of them (two Rscript processes, each with half of
the designs, so R starts twice rather than 400 times). Estimates, SEs, design effects
and intervals are compared with the library: relative 1e-6, with an absolute floor for
SEs near zero. Where R stops with an error (e.g. a lonely PSU under "fail"), the library
must raise as well.

The seed is fixed (override with SURVEYAPP_CROSSCHECK_SEED) so a failure can be replayed.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import analysis as A
from analysis.io import read_csv

N_DESIGNS = int(os.environ.get("SURVEYAPP_CROSSCHECK_N", "200"))
SEED = int(os.environ.get("SURVEYAPP_CROSSCHECK_SEED", "20240104"))
REL = 1e-6
R_PROCESSES = 2

R_SCRIPT = r"""
suppressPackageStartupMessages({library(survey); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
specs <- fromJSON(file.path(dir, "specs.json"), simplifyVector = FALSE)
num <- function(x) { x <- as.numeric(x); names(x) <- NULL; x }
for (sp in specs) {
  options(survey.lonely.psu = sp$lonely)
  d <- read.csv(file.path(dir, paste0(sp$id, ".csv")), stringsAsFactors = TRUE, na.strings = "")
  res <- list()
  add <- function(key, f) {
    r <- tryCatch(f(), error = function(e) list(error = conditionMessage(e)))
    res[[key]] <<- r
  }
  des <- NULL
  add("design", function() {
    a <- list(ids = as.formula(sp$ids), data = d, nest = isTRUE(sp$nest))
    if (!is.null(sp$strata)) a$strata <- as.formula(sp$strata)
    if (!is.null(sp$weights)) a$weights <- as.formula(sp$weights)
    if (!is.null(sp$probs)) a$probs <- as.formula(sp$probs)
    if (!is.null(sp$fpc)) a$fpc <- as.formula(sp$fpc)
    des <<- do.call(svydesign, a)
    list(degf = degf(des))
  })
  if (!is.null(des)) {
    st <- function(m) list(est = num(coef(m)), se = num(SE(m)))
    std <- function(m) list(est = num(coef(m)), se = num(SE(m)), deff = num(deff(m)))
    add("mean_y1", function() std(svymean(~y1, des, na.rm = TRUE, deff = TRUE)))
    add("total_y2", function() std(svytotal(~y2, des, na.rm = TRUE, deff = TRUE)))
    add("mean_cat", function() { m <- svymean(~cat, des, na.rm = TRUE)
                                 c(st(m), list(names = names(coef(m)))) })
    add("ratio", function() std(svyratio(~y1, ~x, des, na.rm = TRUE, deff = TRUE)))
    add("by_mean", function() { b <- svyby(~y1, ~g1, des, svymean, na.rm = TRUE, deff = TRUE)
      list(est = num(coef(b)), se = num(SE(b)), deff = num(deff(b)), dom = as.character(b$g1)) })
    add("by_total", function() { b <- svyby(~y2, ~g1 + g2, des, svytotal, na.rm = TRUE)
      list(est = num(coef(b)), se = num(SE(b)),
           dom = paste(as.character(b$g1), as.character(b$g2), sep = ".")) })
    add("by_ratio", function() { b <- svyby(~y1, ~g1, des, svyratio, denominator = ~x,
                                            na.rm = TRUE, deff = TRUE)
      list(est = num(coef(b)), se = num(SE(b)), deff = num(deff(b)), dom = as.character(b$g1)) })
    add("ciprop", function() { m <- svyciprop(~I(bin == 1), des, method = sp$ci)
      list(est = num(coef(m)), se = num(SE(m)), ci = num(attr(m, "ci"))) })
    add("by_ciprop", function() {
      b <- svyby(~I(bin == 1), ~g1, des, svyciprop, method = sp$ci, vartype = c("se", "ci"))
      list(est = num(coef(b)), se = num(SE(b)), lo = num(b$ci_l), hi = num(b$ci_u),
           dom = as.character(b$g1)) })
  }
  writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, na = "string"),
             file.path(dir, paste0(sp$id, ".json")))
}
"""


def _random_design(rng: np.random.Generator, k: int) -> tuple[dict, dict[str, np.ndarray]]:
    n_strata = int(rng.choice([0, 2, 3, 5]))
    stages = int(rng.choice([0, 1, 1, 2, 2, 3]))
    fpc_kind = str(rng.choice(["none", "popsize", "fraction"]))
    weight_kind = str(rng.choice(["weights", "probs"] + (["fpc"] if fpc_kind != "none" else [])))
    lonely = str(rng.choice(["fail", "fail", "remove", "certainty", "adjust", "average"]))
    nest = stages > 0 and n_strata > 0 and rng.random() < 0.5
    allow_lonely = lonely != "fail" or rng.random() < 0.15
    cols: dict[str, list] = {k: [] for k in ("st", "psu", "ssu", "tsu", "fpc1", "fpc2", "fpc3")}
    psu_counter = 0
    for h in range(max(n_strata, 1)):
        n_psu = int(rng.integers(2, 6))
        if allow_lonely and rng.random() < 0.3:
            n_psu = 1
        if stages == 0:
            n_psu = int(rng.integers(2, 12)) if n_psu > 1 else 1
        big_n = n_psu + int(rng.integers(0, 15))
        for i in range(n_psu):
            psu_counter += 1
            psu_id = i + 1 if nest else psu_counter
            m = int(rng.integers(1, 4)) if stages >= 2 else 1
            big_m = m + int(rng.integers(0, 5))
            if m == 1 and not allow_lonely:
                big_m = 1
            local_ids = rng.random() < 0.5  # SSU ids unique within the PSU only, or globally
            for j in range(m):
                n_t = int(rng.integers(1, 4)) if stages == 3 else 1
                big_t = n_t + int(rng.integers(0, 4))
                if n_t == 1 and not allow_lonely:
                    big_t = 1
                for t in range(n_t):
                    top = {0: 2, 1: 9, 2: 6, 3: 4}[stages]
                    units = 1 if stages == 0 else int(rng.integers(1, top))
                    for _ in range(units):
                        cols["st"].append(h + 1)
                        cols["psu"].append(psu_id)
                        cols["ssu"].append(j + 1 if local_ids else psu_counter * 10 + j)
                        cols["tsu"].append(t + 1)
                        cols["fpc1"].append(big_n if fpc_kind == "popsize" else n_psu / big_n)
                        cols["fpc2"].append(big_m if fpc_kind == "popsize" else m / big_m)
                        cols["fpc3"].append(big_t if fpc_kind == "popsize" else n_t / big_t)
    n = len(cols["st"])
    data = {k: np.asarray(v, dtype=float) for k, v in cols.items()}
    data["w"] = np.round(rng.uniform(1, 40, n), 3)
    data["p"] = 1 / data["w"]
    psu_effect = rng.normal(0, 5, int(data["psu"].max()) + 1)[data["psu"].astype(int)]
    y1 = rng.normal(50, 10, n) + psu_effect
    y1[rng.random(n) < 0.1] = np.nan
    y2 = rng.poisson(3, n).astype(float)
    y2[rng.random(n) < 0.1] = np.nan
    data["y1"], data["y2"] = np.round(y1, 4), y2
    data["x"] = np.round(rng.uniform(1, 10, n), 4)
    cat = rng.choice(np.array(["a", "b", "c"], dtype=object), n)
    cat[rng.random(n) < 0.05] = None
    data["cat"] = cat
    data["g1"] = rng.choice(np.array(["p", "q", "r"], dtype=object), n)
    data["g2"] = rng.choice(np.array(["u", "v"], dtype=object), n)
    data["bin"] = (rng.random(n) < 0.3).astype(float)

    spec: dict = {"id": f"d{k:03d}", "lonely": lonely, "nest": bool(nest),
                  "ci": str(rng.choice(["logit", "beta"]))}
    if stages == 0:
        spec["ids"] = "~1"
    elif stages == 1:
        spec["ids"] = "~psu"
    elif stages == 2:
        spec["ids"] = "~psu + ssu"
    else:
        spec["ids"] = "~psu + ssu + tsu"
    if n_strata:
        spec["strata"] = "~st"
    if fpc_kind != "none":
        spec["fpc"] = {0: "~fpc1", 1: "~fpc1", 2: "~fpc1 + fpc2", 3: "~fpc1 + fpc2 + fpc3"}[stages]
    if weight_kind == "weights":
        spec["weights"] = "~w"
    elif weight_kind == "probs":
        spec["probs"] = "~p"
    return spec, data


def _write_csv(path: Path, data: dict[str, np.ndarray]) -> None:
    names = list(data)
    lines = [",".join(names)]
    n = len(data[names[0]])
    cols = []
    for name in names:
        v = data[name]
        if v.dtype == object:
            cols.append(["" if x is None else str(x) for x in v])
        else:
            cols.append(["" if np.isnan(x) else repr(float(x)) for x in v])
    for i in range(n):
        lines.append(",".join(c[i] for c in cols))
    path.write_text("\n".join(lines) + "\n")


def _terms(f: str | None) -> list[str] | None:
    if f is None:
        return None
    return [t.strip() for t in f.lstrip("~").split("+")]


def _library(spec: dict, data) -> dict:
    """The library's answers to the R calls, or the error each raised."""
    out: dict = {}
    ids = _terms(spec["ids"])
    try:
        des = A.SurveyDesign.create(
            data, ids=None if ids == ["1"] else ids,
            strata=(_terms(spec.get("strata")) or [None])[0],
            weights=(_terms(spec.get("weights")) or [None])[0],
            probs=(_terms(spec.get("probs")) or [None])[0], fpc=_terms(spec.get("fpc")),
            nest=spec["nest"], lonely_psu=spec["lonely"],
        )
    except A.AnalysisError as exc:
        return {"design": {"error": str(exc)}}
    out["design"] = {"degf": des.degf()}

    def add(key, f):
        try:
            out[key] = f()
        except A.AnalysisError as exc:
            out[key] = {"error": str(exc)}

    def cols(t):
        return {"est": list(t.value), "se": list(t.se), "n": list(t.n)}

    add("mean_y1", lambda: {**cols(t := A.mean("y1", des)), "deff": list(t.deff)})
    add("total_y2", lambda: {**cols(t := A.total("y2", des)), "deff": list(t.deff)})
    add("mean_cat", lambda: {**cols(t := A.mean("cat", des)),
                             "names": ["cat" + c for c in t.category]})
    add("ratio", lambda: {**cols(t := A.ratio("y1", "x", des)), "deff": list(t.deff)})
    add("by_mean", lambda: {**cols(t := A.mean("y1", des, by="g1")), "deff": list(t.deff),
                            "dom": [dict(d)["g1"] for d in t.domain]})
    add("by_total", lambda: {**cols(t := A.total("y2", des, by=["g1", "g2"])),
                             "dom": [".".join(v for _, v in d) for d in t.domain]})
    add("by_ratio", lambda: {**cols(t := A.ratio("y1", "x", des, by="g1")), "deff": list(t.deff),
                             "dom": [dict(d)["g1"] for d in t.domain]})
    binary = data["bin"] == 1

    def ciprop():
        t = A.proportion(binary, des, ci_method=spec["ci"])
        if "TRUE" not in t.category:  # nobody has bin == 1: nothing to compare
            return {"skip": True}
        i = t.category.index("TRUE")
        return {"est": [t.value[i]], "se": [t.se[i]], "n": [t.n[i]],
                "ci": [t.ci_low[i], t.ci_high[i]]}

    def by_ciprop():
        t = A.proportion(binary, des, ci_method=spec["ci"], by="g1")
        if "TRUE" not in t.category:
            return {"skip": True}
        rows = [i for i in range(len(t)) if t.category[i] == "TRUE"]
        return {"est": [t.value[i] for i in rows], "se": [t.se[i] for i in rows],
                "n": [t.n[i] for i in rows],
                "lo": [t.ci_low[i] for i in rows], "hi": [t.ci_high[i] for i in rows],
                "dom": [dict(t.domain[i])["g1"] for i in rows]}

    add("ciprop", ciprop)
    add("by_ciprop", by_ciprop)
    return out


def _num(v) -> float:
    # R writes NA, NaN and Inf as strings ("NA", "NaN", "Inf", "-Inf")
    if v is None or v == "NA":
        return math.nan
    return float(v)


def _close(a, b, scale: float, what: str) -> str | None:
    a, b = _num(a), _num(b)
    if math.isnan(b) or math.isnan(a):
        return None if (math.isnan(a) and math.isnan(b)) else f"{what}: {a!r} vs R {b!r}"
    if math.isinf(b) or math.isinf(a):
        return None if a == b else f"{what}: {a!r} vs R {b!r}"
    floor = 1e-9 * (1 + scale)
    return None if abs(a - b) <= floor + REL * abs(b) else f"{what}: {a!r} vs R {b!r}"


# Failures inside R that are R's limitations, not answers: survey 4.1.1 fails inside
# svyby for some two-stage domains with a lonely PSU (tapply on an empty strata vector).
# There is no R number to compare with.
R_INTERNAL_ERRORS = (
    "arguments must have same length",
    # model.matrix() cannot code a factor with a single level (a tiny design where the
    # categorical variable happens to take one value)
    "contrasts can be applied only to factors with 2 or more levels",
)


def _compare(key: str, mine: dict, r: dict) -> list[str]:
    """Differences between the library's and R's answers to one call.

    Two kinds of rows are compared only in part, deliberately:
    - a mean or ratio in a domain with no observed value of the variable (n = 0): R
      reports 0 (a sum of nothing), the library NaN (0/0); the NaN is asserted instead;
    - design effects and svyciprop intervals of degenerate rows (n <= 1, or a standard
      error that is zero up to rounding): R divides rounding noise (e.g. 4e-17) by zero
      there, so its Inf/NaN/0/1 are not reproducible numbers.
    """
    if "error" in r:
        if any(msg in r["error"] for msg in R_INTERNAL_ERRORS):
            return []
        return [] if "error" in mine else [f"{key}: R failed ({r['error']}) but we did not"]
    if "error" in mine:
        return [f"{key}: we failed ({mine['error']}) but R did not"]
    if mine.get("skip"):
        return []
    problems = []
    for field in ("dom", "names"):
        if field in r:
            rv = r[field] if isinstance(r[field], list) else [r[field]]
            if list(mine[field]) != rv:
                problems.append(f"{key}: {field} {mine[field]} vs R {rv}")
                return problems
    for field in ("est", "se", "deff", "ci", "lo", "hi"):
        if field not in r:
            continue
        rv = r[field] if isinstance(r[field], list) else [r[field]]
        mv = mine[field]
        if len(rv) != len(mv):
            problems.append(f"{key}: {field} has {len(mv)} values, R {len(rv)}")
            continue
        ests = r["est"] if isinstance(r["est"], list) else [r["est"]]
        ses = r["se"] if isinstance(r["se"], list) else [r["se"]]
        for i, (a, b) in enumerate(zip(mv, rv, strict=True)):
            row = min(i, len(ests) - 1)
            e = _num(ests[row]) if ests else math.nan
            scale = abs(e) if math.isfinite(e) else 1.0
            n_obs = mine["n"][row]
            if n_obs == 0 and "total" not in key:  # a total of nothing is 0 for both
                if field == "est" and not math.isnan(_num(a)):
                    problems.append(f"{key}.est[{i}]: {a!r} for a domain with no data")
                continue
            degenerate = n_obs <= 1 or abs(_num(ses[row])) <= 1e-9 * (1 + scale)
            if degenerate and field in ("deff", "ci", "lo", "hi"):
                continue
            msg = _close(a, b, scale, f"{key}.{field}[{i}]")
            if msg:
                problems.append(msg)
    return problems


@pytest.mark.r
def test_random_designs_agree_with_r(tmp_path):
    rng = np.random.default_rng(SEED)
    specs, datas = [], {}
    for k in range(N_DESIGNS):
        spec, data = _random_design(rng, k)
        _write_csv(tmp_path / f"{spec['id']}.csv", data)
        specs.append(spec)
        datas[spec["id"]] = data
    script = tmp_path / "crosscheck.R"
    script.write_text(R_SCRIPT)
    # all designs in two batches: two Rscript processes side by side (one per core)
    procs = []
    for part in range(R_PROCESSES):
        folder = tmp_path if part == 0 else tmp_path / f"part{part}"
        folder.mkdir(exist_ok=True)
        (folder / "specs.json").write_text(json.dumps(specs[part::R_PROCESSES]))
        for spec in specs[part::R_PROCESSES]:
            if part:
                name = f"{spec['id']}.csv"
                (folder / name).write_bytes((tmp_path / name).read_bytes())
        procs.append((folder, subprocess.Popen(["Rscript", "--vanilla", str(script), str(folder)],
                                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                               text=True)))
    for folder, proc in procs:
        _, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-2000:]
        for spec in json.loads((folder / "specs.json").read_text()):
            if folder != tmp_path:
                name = f"{spec['id']}.json"
                (tmp_path / name).write_bytes((folder / name).read_bytes())

    failures = []
    checked = r_internal = lib_errors = 0
    kinds = {"ids": set(), "lonely": set(), "fpc": set()}
    for spec in specs:
        r = json.loads((tmp_path / f"{spec['id']}.json").read_text())
        table = read_csv(tmp_path / f"{spec['id']}.csv")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", A.AnalysisWarning)
            mine = _library(spec, table)
        for key, rv in r.items():
            if key not in mine:
                failures.append(f"{spec['id']} {key}: not computed by the library")
                continue
            problems = _compare(key, mine[key], rv)
            failures.extend(f"{spec['id']} ({spec}) {p}" for p in problems)
            checked += "error" not in rv
            r_internal += "error" in rv and any(m in rv["error"] for m in R_INTERNAL_ERRORS)
            lib_errors += "error" in rv and "error" in mine[key]
        kinds["ids"].add(spec["ids"])
        kinds["lonely"].add(spec["lonely"])
        kinds["fpc"].add(spec.get("fpc"))
    assert not failures, f"{len(failures)} mismatches (seed {SEED}):\n" + "\n".join(failures[:30])
    # the generator really covered the space: enough comparisons, every kind of design
    assert checked >= 8 * N_DESIGNS * 0.7
    assert r_internal <= 0.01 * 8 * N_DESIGNS
    assert lib_errors >= 1  # some designs fail as R does (lonely PSU under "fail")
    assert kinds["ids"] == {"~1", "~psu", "~psu + ssu", "~psu + ssu + tsu"}
    assert kinds["lonely"] == {"fail", "remove", "certainty", "adjust", "average"}
    assert len(kinds["fpc"]) == 4
