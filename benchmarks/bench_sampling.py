"""Benchmark of the sampling library against R's sampling package and samplics.

Run:  .venv/bin/python benchmarks/bench_sampling.py [--quick] [--no-r] [--no-samplics]

Prints, for the same data in the same run:

1. inclusion probabilities on a 10,000,000-unit frame (n = 10,000);
2. the 10M-unit PPS systematic draw on in-memory arrays (inclusion + selection; aim < 2 s),
   then separately the frame digest of that frame and the parsing of a CSV file of it;
3. stratified πps selection of 10,000 units from 1,000,000 over 300 strata (proportional
   allocation): PPS systematic, Brewer and Sampford, with the low-level functions and
   with the full ``sampling.draw`` (validation, digest, record, CSV bytes);
4. the same computations timed in R (``sampling`` via one Rscript call: inclusionprobabilities,
   UPsystematic, UPbrewer, UPsampford) and in samplics (``SampleSelection`` pps_sys,
   pps_brewer, pps_rs), as ratios other / ours (> 1 means we are faster).

Size measures are lognormal(0, 0.8), which keeps every pi_k < 1 so that samplics (which
refuses certainty units) can run on the same data. It is a script, not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sampling  # noqa: E402
from sampling import (  # noqa: E402
    DrawPlan,
    allocate,
    draw,
    frame_digest,
    inclusion_probabilities,
    select_brewer,
    select_sampford,
    select_systematic,
)
from sampling.io import read_frame  # noqa: E402

BIG_N = 10_000_000
STRAT_N = 1_000_000
STRATA = 300
N_SAMPLE = 10_000

R_SCRIPT = r"""
suppressMessages(library(sampling))
d <- commandArgs(TRUE)[1]
big_n <- as.integer(commandArgs(TRUE)[2]); strat_n <- as.integer(commandArgs(TRUE)[3])
n <- as.integer(commandArgs(TRUE)[4])
x <- readBin(file.path(d, "big.f64"), "double", n = big_n)
xs <- readBin(file.path(d, "strat.f64"), "double", n = strat_n)
h <- readBin(file.path(d, "strata.i32"), "integer", n = strat_n)
nh <- readBin(file.path(d, "nh.i32"), "integer", n = 100000L)
set.seed(1)
t <- system.time(p <- inclusionprobabilities(x, n))[["elapsed"]]
cat("inclusion_10M", t, "\n")
t <- system.time(s <- UPsystematic(inclusionprobabilities(x, n)))[["elapsed"]]
cat("ppssys_10M", t, sum(s), "\n")
groups <- split(seq_along(xs), h)
run <- function(f) system.time(for (g in seq_along(groups)) {
  i <- groups[[g]]; s <- f(inclusionprobabilities(xs[i], nh[g]))
})[["elapsed"]]
t <- system.time(for (g in seq_along(groups)) inclusionprobabilities(xs[groups[[g]]], nh[g]))
cat("strat_inclusion", t[["elapsed"]], "\n")
cat("strat_systematic", run(UPsystematic), "\n")
cat("strat_brewer", run(UPbrewer), "\n")
t <- tryCatch(run(function(p) UPsampford(p, max_iter = 100000L)), error = function(e) NA)
cat("strat_sampford", t, "\n")
"""


def timed(fn, repeat: int = 1):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def make_data(seed: int = 20260104, big_n: int = BIG_N, strat_n: int = STRAT_N):
    rng = np.random.default_rng(seed)
    big = rng.lognormal(0.0, 0.8, big_n)
    weights = rng.lognormal(0.0, 0.5, STRATA)
    counts = np.maximum(np.floor(weights / weights.sum() * strat_n), 100).astype(np.int64)
    counts[-1] += strat_n - counts.sum()
    strata = np.repeat(np.arange(STRATA, dtype=np.int32), counts)
    xs = rng.lognormal(0.0, 0.8, strat_n)
    n_h = np.array(allocate(counts, N_SAMPLE, "proportional").n_h, dtype=np.int32)
    return big, xs, strata, counts, n_h


def ours_stratified(xs, strata, counts, n_h, select, seed=1):
    rng = np.random.default_rng(seed)
    bounds = np.concatenate(([0], np.cumsum(counts)))
    total = 0
    for h in range(STRATA):
        sl = slice(bounds[h], bounds[h + 1])
        pik = inclusion_probabilities(xs[sl], int(n_h[h]))
        if select is not None:
            total += select(pik, rng).size
    return total


def run_r(tmp: Path, big, xs, strata, n_h):
    big.astype("<f8").tofile(tmp / "big.f64")
    xs.astype("<f8").tofile(tmp / "strat.f64")
    (strata + 1).astype("<i4").tofile(tmp / "strata.i32")
    n_h.astype("<i4").tofile(tmp / "nh.i32")
    script = tmp / "bench.R"
    script.write_text(R_SCRIPT, encoding="utf-8")
    proc = subprocess.run(
        ["Rscript", str(script), str(tmp), str(big.size), str(xs.size), str(N_SAMPLE)],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    if proc.returncode != 0:
        print("R failed:", " | ".join(proc.stderr.strip().splitlines()[-3:]))
    out = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[1] != "NA":
            out[parts[0]] = float(parts[1])
    return out


def run_samplics(big, xs, strata, n_h, max_strata: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from samplics.sampling import SampleSelection
        from samplics.utils.types import SelectMethod
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sel = SampleSelection(method=SelectMethod.pps_sys, strat=True)
        zero = np.zeros(big.size, dtype=np.int64)
        out["inclusion_10M"], _ = timed(
            lambda: sel.inclusion_probs(
                np.arange(big.size), samp_size={0: N_SAMPLE}, stratum=zero, mos=big
            )
        )
        keep = strata < max_strata
        ids = np.arange(int(keep.sum()))
        sizes = {int(h): int(n_h[h]) for h in range(max_strata)}
        scale = STRATUM_SCALE = STRAT_N / keep.sum()
        for key, method in (
            ("strat_systematic", SelectMethod.pps_sys),
            ("strat_brewer", SelectMethod.pps_brewer),
            ("strat_sampford", SelectMethod.pps_rs),
        ):
            s = SampleSelection(method=method, strat=True)
            try:
                t, _ = timed(
                    lambda s=s: s.select(ids, samp_size=sizes, stratum=strata[keep], mos=xs[keep])
                )
            except Exception as exc:  # samplics refuses certainty units (small --quick strata)
                print(f"samplics {key}: {type(exc).__name__}: {exc}")
                continue
            out[key] = t * scale
        _ = STRATUM_SCALE
    return out


def bench_big_frame(big: np.ndarray, ours: dict[str, float]) -> None:
    """Digest, CSV parsing and the full draw on the 10M-row frame (separate from arrays)."""
    frame = pd.DataFrame(
        {"id": np.char.add("HS", np.arange(big.size).astype(str)).astype(object), "size": big}
    )
    ours["digest_10M"], _ = timed(lambda: frame_digest(frame))
    with tempfile.TemporaryDirectory() as tmpd:
        path = Path(tmpd) / "frame.csv"
        frame.to_csv(path, index=False)
        ours["parse_csv_10M"], parsed = timed(lambda: read_frame(path))
        ours["digest_10M_text"], _ = timed(lambda: frame_digest(parsed))
    ours["draw_api_10M"], res = timed(
        lambda: draw(frame, DrawPlan.single("id", "pps-systematic", N_SAMPLE, size="size"), seed=1)
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10x smaller frames (a smoke run)")
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--no-samplics", action="store_true")
    ap.add_argument(
        "--samplics-strata",
        type=int,
        default=60,
        help="strata timed in samplics (scaled to 1M units); its pps_sys is an O(N n) Python loop",
    )
    args = ap.parse_args(argv)
    global BIG_N, STRAT_N
    if args.quick:
        BIG_N, STRAT_N = BIG_N // 10, STRAT_N // 10
    print(
        f"sampling {sampling.__version__}, numpy {np.__version__}, pandas {pd.__version__}, "
        f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs"
    )
    big, xs, strata, counts, n_h = make_data(big_n=BIG_N, strat_n=STRAT_N)
    ours: dict[str, float] = {}

    ours["inclusion_10M"], pik = timed(lambda: inclusion_probabilities(big, N_SAMPLE), repeat=3)
    ours["systematic_only_10M"], _ = timed(
        lambda: select_systematic(pik, np.random.default_rng(1)), repeat=3
    )
    ours["ppssys_10M"], sel = timed(
        lambda: select_systematic(inclusion_probabilities(big, N_SAMPLE), np.random.default_rng(1)),
        repeat=3,
    )
    assert sel.size == N_SAMPLE

    bench_big_frame(big, ours)

    ours["strat_inclusion"], _ = timed(
        lambda: ours_stratified(xs, strata, counts, n_h, None), repeat=3
    )
    for key, fn in (
        ("strat_systematic", select_systematic),
        ("strat_brewer", select_brewer),
        ("strat_sampford", select_sampford),
    ):
        ours[key], total = timed(
            lambda fn=fn: ours_stratified(xs, strata, counts, n_h, fn), repeat=3
        )
        assert total == N_SAMPLE
    one = inclusion_probabilities(xs, N_SAMPLE)
    for key, fn in (("single_brewer", select_brewer), ("single_sampford", select_sampford)):
        ours[key], chosen = timed(lambda fn=fn: fn(one, np.random.default_rng(1)))
        assert chosen.size == N_SAMPLE
    sframe = pd.DataFrame({"id": np.arange(xs.size), "stratum": strata, "size": xs})
    n_map = {str(h): int(n_h[h]) for h in range(STRATA)}
    for method in ("pps-systematic", "pps-brewer", "pps-sampford"):
        ours[f"draw_api_{method}"], r = timed(
            lambda m=method: draw(
                sframe, DrawPlan.single("id", m, n_map, strata="stratum", size="size"), seed=1
            )
        )
        assert r.record["result"]["selected"] == N_SAMPLE

    other: dict[str, dict[str, float]] = {}
    if not args.no_r and shutil.which("Rscript"):
        with tempfile.TemporaryDirectory() as tmpd:
            other["R sampling"] = run_r(Path(tmpd), big, xs, strata, n_h)
    if not args.no_samplics:
        try:
            other["samplics"] = run_samplics(big, xs, strata, n_h, args.samplics_strata)
        except ImportError:
            print("samplics not installed")

    label = {
        "inclusion_10M": f"inclusion probabilities, {BIG_N:,} units",
        "systematic_only_10M": f"PPS systematic selection only, {BIG_N:,} units (arrays)",
        "ppssys_10M": f"PPS systematic draw, {BIG_N:,} units (inclusion + selection, arrays)",
        "digest_10M": f"frame digest, {BIG_N:,} rows (text id + float size)",
        "parse_csv_10M": f"read_frame CSV, {BIG_N:,} rows (all text)",
        "digest_10M_text": f"frame digest, {BIG_N:,} rows as read (text)",
        "draw_api_10M": f"sampling.draw pps-systematic, {BIG_N:,} rows (validate+digest+record)",
        "strat_inclusion": f"{STRATA} strata: inclusion probabilities, {STRAT_N:,} units",
        "strat_systematic": f"{STRATA} strata: PPS systematic, {N_SAMPLE:,} of {STRAT_N:,}",
        "strat_brewer": f"{STRATA} strata: Brewer, {N_SAMPLE:,} of {STRAT_N:,}",
        "strat_sampford": f"{STRATA} strata: Sampford, {N_SAMPLE:,} of {STRAT_N:,}",
        "single_brewer": f"one stratum: Brewer, {N_SAMPLE:,} of {STRAT_N:,} (rejection draws)",
        "single_sampford": f"one stratum: Sampford, {N_SAMPLE:,} of {STRAT_N:,}",
        "draw_api_pps-systematic": "  300 strata via sampling.draw (pps-systematic)",
        "draw_api_pps-brewer": "  300 strata via sampling.draw (pps-brewer)",
        "draw_api_pps-sampford": "  300 strata via sampling.draw (pps-sampford)",
    }
    names = list(other)
    print()
    print(f"{'task':<78}{'ours s':>9}" + "".join(f"{n + ' s':>14}{'ratio':>8}" for n in names))
    for key, text in label.items():
        row = f"{text:<78}{ours[key]:>9.3f}"
        for n in names:
            t = other[n].get(key)
            row += f"{t:>14.3f}{t / ours[key]:>8.1f}" if t else f"{'-':>14}{'':>8}"
        print(row)
    print()
    print(
        "ratio = other time / our time (> 1: we are faster). R times are system.time() "
        "inside one Rscript run (R's UPsampford uses the multinomial rejective method); "
        f"samplics stratified times are measured on the first {args.samplics_strata} strata and "
        "scaled to all units; samplics pps_rs is Rao-Sampford."
    )
    verdict = "yes" if ours["ppssys_10M"] < 2.0 else "NO"
    print(
        f"{BIG_N:,}-unit PPS systematic draw on arrays under 2 s: {verdict} "
        f"({ours['ppssys_10M']:.3f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
