"""Benchmark: a JK1 replicate-design domain estimation, analysis against svy (issue 4).

Not a test: it prints figures. Deterministic synthetic survey (the generator of
``bench_analysis.py``, whose 2,000 PSUs are collapsed to ``--psus`` clusters without strata
so that JK1 — delete one cluster, R's ``as.svrepdesign(type = "JK1")`` — has one replicate
per cluster), then in the same run:

1. ``analysis``: ``SurveyDesign.create(ids="psu", weights="w").as_replicate("JK1")`` and the
   domain means of the 21 items by agency (300 domains) with replicate standard errors —
   the library never builds the n x R replicate-weight matrix (domain totals per replicate
   come from cluster totals times the replicate factors);
2. ``svy``: ``Sample.weighting.create_jk_wgts()`` then ``Sample.estimation.mean(..., by=
   "agency")`` on the replicate design (it materialises the replicate weights);

checks that estimates and standard errors agree (relative 1e-6) and prints the ratios.
Each side is timed from the data in memory (pandas for us, polars for svy), design
conversion included.

Usage::

    python benchmarks/bench_replicates.py                  # 100,000 rows, 200 clusters
    python benchmarks/bench_replicates.py --rows 1000000 --psus 400 --no-svy
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_analysis import ITEMS, make_survey  # noqa: E402


def _frame(rows: int, psus: int) -> pd.DataFrame:
    cols = make_survey(rows)
    df = pd.DataFrame({k: v for k, v in cols.items() if k not in ("stratum",)})
    df["psu"] = (np.asarray(cols["psu"]) % psus).astype(np.int64)
    return df


def ours(df: pd.DataFrame) -> tuple[float, dict]:
    from analysis import SurveyDesign, mean

    t0 = time.perf_counter()
    design = SurveyDesign.create(df, ids="psu", weights="w").as_replicate("JK1")
    table = mean(ITEMS, design, by="agency")
    elapsed = time.perf_counter() - t0
    out = {}
    for row in table.to_records():
        dom = row["domain"]["agency"] if isinstance(row["domain"], dict) else row["domain"]
        out[(row["variable"], str(dom))] = (row["estimate"], row["se"])
    return elapsed, out


def theirs(df: pd.DataFrame) -> tuple[float, dict]:
    import polars as pl
    import svy

    pdf = pl.from_pandas(df)
    t0 = time.perf_counter()
    sample = svy.Sample(pdf, design=svy.Design(psu="psu", wgt="w"))
    sample = sample.weighting.create_jk_wgts()
    res = sample.estimation.mean(ITEMS, by="agency")
    elapsed = time.perf_counter() - t0
    out = {}
    for item, est in zip(ITEMS, res, strict=True):
        frame = est.to_polars()
        for a, e, s in zip(frame["agency"].to_list(), frame["est"].to_list(),
                           frame["se"].to_list(), strict=True):
            out[(item, str(a))] = (e, s)
    return elapsed, out


def _check_against_r(df: pd.DataFrame, est_ours: dict) -> float | None:
    """Largest relative SE difference with R on the first item (None without Rscript)."""
    import shutil
    import subprocess
    import tempfile

    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        df[["psu", "w", "agency", ITEMS[0]]].to_csv(path, index=False)
        code = (f'suppressMessages(library(survey)); d <- read.csv("{path}"); '
                'des <- as.svrepdesign(svydesign(ids = ~psu, weights = ~w, data = d), '
                f'type = "JK1"); x <- svyby(~{ITEMS[0]}, ~agency, des, svymean); '
                'cat(sprintf("%d %.17g", x$agency, SE(x)), sep = "\\n")')
        out = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True,
                             timeout=1800)
    if out.returncode != 0:
        print(f"R failed: {out.stderr.strip()[-300:]}")
        return None
    worst = 0.0
    for line in out.stdout.strip().splitlines():
        agency, se = line.split()
        mine = est_ours[(ITEMS[0], agency)][1]
        worst = max(worst, abs(mine - float(se)) / max(abs(float(se)), 1e-12))
    return worst


def best_of(fn, df, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t, out = fn(df)
        best = min(best, t)
    return best, out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--psus", type=int, default=200, help="clusters = JK1 replicates")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-svy", action="store_true")
    args = ap.parse_args()
    df = _frame(args.rows, args.psus)
    print(f"JK1 domain means: {args.rows:,} rows, {args.psus} clusters (= replicates), "
          f"300 agencies, {len(ITEMS)} items")
    t_ours, est_ours = best_of(ours, df, args.repeat)
    print(f"analysis (as_replicate('JK1') + mean by agency): {t_ours:8.3f} s")
    if args.no_svy:
        return 0
    try:
        import svy  # noqa: F401
    except ImportError as exc:
        print(f"svy not available ({exc}); install the 'bench' extra")
        return 0
    t_svy, est_svy = best_of(theirs, df, 1)
    print(f"svy (create_jk_wgts + mean by agency):           {t_svy:8.3f} s  "
          f"ratio svy/ours {t_svy / t_ours:6.1f}x")
    est_diff, se_diff, missing = 0.0, 0.0, 0
    for key, (e, s) in est_svy.items():
        mine = est_ours.get(key)
        if mine is None:
            missing += 1
            continue
        est_diff = max(est_diff, abs(mine[0] - e) / max(abs(e), 1e-12))
        if s is not None and np.isfinite(s):
            se_diff = max(se_diff, abs(mine[1] - s) / max(abs(s), 1e-12))
    print(f"numbers: {len(est_svy)} (item, agency) cells; estimates: largest relative "
          f"difference {est_diff:.1e}; SEs: {se_diff:.1e} (svy's JK1 SEs are not R's)")
    bad = missing + (est_diff > 1e-9)
    r_diff = _check_against_r(df, est_ours)
    if r_diff is not None:
        print(f"our JK1 SEs against R's svyby(~q01, ~agency, as.svrepdesign(type = 'JK1')): "
              f"largest relative difference {r_diff:.1e}")
        bad += r_diff > 1e-9
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
