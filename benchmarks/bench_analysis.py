"""Benchmark of the analysis engine against svy and samplics (not a test: it prints figures).

The task (issue 3): domain means of 21 items (20 Likert items and one binary item) by
agency (300 domains), with Taylor-linearisation standard errors for a stratified
cluster design — 40 strata, about 2,000 PSUs, with-replacement PSU approximation (no
fpc) — on a deterministic synthetic survey of up to 1,000,000 respondents.

Every measurement runs in a fresh subprocess, so start-up, imports and peak memory
(max RSS of that process) are its own:

* ``library``  — ``analysis`` on columns already read: design + estimates ("compute"),
  with the CSV read timed separately;
* ``cli``      — the whole ``python -m analysis estimate ... --by agency`` process on the
  CSV file (start-up, imports, CSV reading, JSON output included);
* ``svy``      — svy (Rust core): CSV read with polars, then ``Sample.estimation.mean``;
* ``samplics`` — samplics ``TaylorEstimator`` per item with ``domain=``.

The peers are optional (``pip install svy samplics``); they run at the sizes they finish
in reasonable time. Their numbers are checked against ours (relative 1e-6).

Usage::

    python benchmarks/bench_analysis.py                  # defaults below
    python benchmarks/bench_analysis.py --sizes 100000 --svy-sizes 100000 \\
        --samplics-sizes 10000 --repeat 3 --keep /tmp/bench

Timings on a shared machine are noisy: each figure is the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
ITEMS = [f"q{i:02d}" for i in range(1, 21)] + ["b"]
SEED = 20240104
N_FULL = 1_000_000
N_STRATA = 40
PSU_PER_STRATUM = 50
N_AGENCIES = 300


# ----------------------------------------------------------------------------- data
def make_survey(n: int = N_FULL, seed: int = SEED) -> dict[str, np.ndarray]:
    """The synthetic survey: deterministic for a given seed.

    40 strata (districts) x 50 PSUs (wards) = 2,000 PSUs; respondents spread unevenly
    over PSUs; each respondent rates one of 300 agencies (60 % a local agency of the
    district, 40 % a city-wide one); unequal weights (PSU base weight x a respondent
    non-response adjustment); 20 Likert items 1..5 with agency and PSU effects; one
    binary item.
    """
    rng = np.random.default_rng(seed)
    n_psu = N_STRATA * PSU_PER_STRATUM
    size = rng.gamma(4.0, 1.0, n_psu)
    psu = np.sort(rng.choice(n_psu, size=n, p=size / size.sum()))
    stratum = psu // PSU_PER_STRATUM
    local = 1 + (stratum * (N_AGENCIES // N_STRATA) + rng.integers(0, 8, n)) % N_AGENCIES
    agency = np.where(rng.random(n) < 0.6, local, rng.integers(1, N_AGENCIES + 1, n))
    w = (rng.uniform(50, 500, n_psu)[psu] * rng.uniform(0.8, 1.25, n)).round(3)
    agency_effect = rng.normal(0, 0.4, N_AGENCIES + 1)[agency]
    psu_effect = rng.normal(0, 0.3, n_psu)[psu]
    data: dict[str, np.ndarray] = {"stratum": stratum + 1, "psu": psu + 1, "agency": agency, "w": w}
    for i, name in enumerate(ITEMS[:-1]):
        latent = 3.3 + agency_effect + psu_effect + 0.05 * i + rng.normal(0, 1.0, n)
        data[name] = np.clip(np.rint(latent), 1, 5).astype(np.int8)
    data["b"] = (rng.random(n) < 1 / (1 + np.exp(-(0.5 + agency_effect)))).astype(np.int8)
    return data


def subsample(data: dict[str, np.ndarray], n: int, seed: int = SEED) -> dict[str, np.ndarray]:
    """The first ``n`` rows of a fixed random permutation, in file order (same design)."""
    if n >= len(data["w"]):
        return data
    idx = np.sort(np.random.default_rng(seed + 1).permutation(len(data["w"]))[:n])
    return {k: v[idx] for k, v in data.items()}


def write_csv(data: dict[str, np.ndarray], path: Path) -> None:
    try:
        import polars as pl

        pl.DataFrame(data).write_csv(path)
    except ImportError:
        import pandas as pd

        pd.DataFrame(data).to_csv(path, index=False)


# ----------------------------------------------------------------------------- workers
def _rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_library(csv: str) -> dict:
    sys.path.insert(0, str(REPO))
    t0 = time.perf_counter()
    import analysis
    from analysis.io import read_csv

    t1 = time.perf_counter()
    table = read_csv(csv)
    t2 = time.perf_counter()
    design = analysis.SurveyDesign.create(table, ids="psu", strata="stratum", weights="w")
    t3 = time.perf_counter()
    result = analysis.estimate(design, mean=ITEMS, by="agency", deff=False)
    t4 = time.perf_counter()
    return {"import": t1 - t0, "read": t2 - t1, "design": t3 - t2, "estimate": t4 - t3,
            "compute": t4 - t2, "rows": len(result), "rss_mb": _rss_mb()}


def worker_svy(csv: str) -> dict:
    t0 = time.perf_counter()
    import polars as pl
    import svy

    t1 = time.perf_counter()
    df = pl.read_csv(csv)
    t2 = time.perf_counter()
    sample = svy.Sample(df, design=svy.Design(stratum="stratum", psu="psu", wgt="w"))
    res = sample.estimation.mean(ITEMS, by="agency")
    t3 = time.perf_counter()
    out = {}
    for item, est in zip(ITEMS, res, strict=True):
        frame = est.to_polars()
        out[item] = {str(a): [e, s] for a, e, s in
                     zip(frame["agency"].to_list(), frame["est"].to_list(), frame["se"].to_list(),
                         strict=True)}
    return {"import": t1 - t0, "read": t2 - t1, "compute": t3 - t2, "numbers": out,
            "rss_mb": _rss_mb()}


def worker_samplics(csv: str) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    import pandas as pd
    from samplics import PopParam
    from samplics.estimation import TaylorEstimator

    t1 = time.perf_counter()
    df = pd.read_csv(csv)
    t2 = time.perf_counter()
    out = {}
    for item in ITEMS:
        est = TaylorEstimator(PopParam.mean)
        est.estimate(y=df[item].to_numpy(float), samp_weight=df["w"].to_numpy(),
                     stratum=df["stratum"].to_numpy(), psu=df["psu"].to_numpy(),
                     domain=df["agency"].to_numpy())
        out[item] = {str(int(a)): [float(est.point_est[a]), float(est.stderror[a])]
                     for a in est.point_est}
    t3 = time.perf_counter()
    return {"import": t1 - t0, "read": t2 - t1, "compute": t3 - t2, "numbers": out,
            "rss_mb": _rss_mb()}


WORKERS = {"library": worker_library, "svy": worker_svy, "samplics": worker_samplics}


# ----------------------------------------------------------------------------- driver
def _run_child(cmd: list[str], timeout: float) -> tuple[float, float, str, int]:
    """Wall time, peak RSS (MB), stdout and exit code of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return float("inf"), float("nan"), "", -9
    wall = time.perf_counter() - t0
    # the child has been reaped by communicate(); its rusage is in RUSAGE_CHILDREN max
    import resource

    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    if proc.returncode != 0:
        sys.stderr.write(err.decode()[-2000:])
    return wall, rss, out.decode(), proc.returncode


def run_worker(kind: str, csv: Path, timeout: float) -> dict | None:
    wall, _, out, code = _run_child([sys.executable, __file__, "--worker", kind, str(csv)], timeout)
    if code != 0:
        return None
    res = json.loads(out)
    res["wall"] = wall
    return res


def run_cli(csv: Path, timeout: float) -> tuple[float, float, list[dict]]:
    cmd = [sys.executable, "-m", "analysis", "estimate", "--data", str(csv), "--ids", "psu",
           "--strata", "stratum", "--weights", "w", "--mean", ",".join(ITEMS), "--by", "agency"]
    # run through /usr/bin/time-like accounting: a wrapper reports the child's own max RSS
    wrapper = [sys.executable, "-c",
               "import resource,subprocess,sys;"
               "r=subprocess.run(sys.argv[1:],stdout=sys.stdout.buffer);"
               "sys.stderr.write('RSS %f\\n' % (resource.getrusage(resource.RUSAGE_CHILDREN)"
               ".ru_maxrss/1024));sys.exit(r.returncode)"] + cmd
    t0 = time.perf_counter()
    proc = subprocess.run(wrapper, capture_output=True, cwd=REPO, timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit("CLI failed: " + proc.stderr.decode()[-2000:])
    # the wrapper's own start-up (~20 ms) is excluded by timing the CLI alone once more
    t_wrapped = time.perf_counter() - t0
    t0 = time.perf_counter()
    plain = subprocess.run(cmd, capture_output=True, cwd=REPO, timeout=timeout)
    wall = time.perf_counter() - t0
    rss = float(proc.stderr.decode().strip().split()[-1])
    del t_wrapped
    return wall, rss, json.loads(plain.stdout)


def compare(ours: list[dict], theirs: dict, rel: float = 1e-6) -> tuple[int, float, list[str]]:
    """Compare estimates and SEs per (item, agency): count, largest relative difference
    (with an absolute floor of 1e-9 x (1 + |estimate|) for SEs that are zero up to
    rounding), and a description of the disagreements."""
    worst = 0.0
    count = 0
    bad = []
    for row in ours:
        agency = row["domain"]["agency"]
        pair = theirs.get(row["variable"], {}).get(agency)
        if pair is None:
            bad.append(f"{row['variable']}[{agency}]: missing")
            continue
        floor = 1e-9 * (1 + abs(row["estimate"]))
        for what, a, b in (("estimate", row["estimate"], pair[0]), ("se", row["se"], pair[1])):
            a = float("nan") if a is None else a
            diff = abs(a - b)
            if diff <= floor:
                continue
            d = diff / abs(b) if b else float("inf")
            worst = max(worst, d)
            if d > rel or d != d:
                bad.append(f"{row['variable']}[{agency}] {what}: ours {a!r}, theirs {b!r}")
        count += 1
    return count, worst, bad


def best(values: list[float]) -> float:
    return min(values) if values else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    ap.add_argument("csv", nargs="?", help=argparse.SUPPRESS)
    ap.add_argument("--sizes", default="100000,1000000",
                    help="sizes for the library and the CLI (default 100000,1000000)")
    ap.add_argument("--svy-sizes", default="100000", help="sizes for svy (default 100000)")
    ap.add_argument("--samplics-sizes", default="10000",
                    help="sizes for samplics (default 10000; it takes minutes at 100000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (best is kept)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds per peer run")
    ap.add_argument("--keep", metavar="DIR", help="write the CSV files here and keep them")
    args = ap.parse_args()

    if args.worker:
        print(json.dumps(WORKERS[args.worker](args.csv)))
        return

    def sizes(text: str) -> list[int]:
        return [int(s) for s in text.split(",") if s.strip()]

    lib_sizes, svy_sizes = sizes(args.sizes), sizes(args.svy_sizes)
    smp_sizes = sizes(args.samplics_sizes)
    all_sizes = sorted(set(lib_sizes + svy_sizes + smp_sizes))
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_analysis_"))
    folder.mkdir(parents=True, exist_ok=True)

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} CPUs")
    t0 = time.perf_counter()
    full = make_survey(max(all_sizes + [N_FULL]) if max(all_sizes) > N_FULL else N_FULL)
    print(f"synthetic survey: {len(full['w']):,} respondents, {N_STRATA} strata, "
          f"{len(np.unique(full['psu'])):,} PSUs, {len(np.unique(full['agency']))} agencies, "
          f"{len(ITEMS)} items (generated in {time.perf_counter() - t0:.1f} s)")
    files = {}
    for n in all_sizes:
        path = folder / f"survey_{n}.csv"
        if not path.exists():
            write_csv(subsample(full, n), path)
        files[n] = path
    del full

    startup = [_run_child([sys.executable, "-m", "analysis", "--help"], 60)[0]
               for _ in range(args.repeat)]
    print(f"\n`python -m analysis --help` start-up: {best(startup) * 1000:.0f} ms")

    cli_rows: dict[int, list[dict]] = {}
    cli_time: dict[int, float] = {}
    print("\nanalysis (this library)")
    print(f"  {'rows':>9}  {'read':>7}  {'design':>7}  {'estim.':>7}  {'compute':>8}  "
          f"{'lib RSS':>8}  {'CLI wall':>9}  {'CLI RSS':>8}")
    for n in lib_sizes:
        runs = [run_worker("library", files[n], args.timeout) for _ in range(args.repeat)]
        runs = [r for r in runs if r]
        cli = [run_cli(files[n], args.timeout) for _ in range(args.repeat)]
        cli_time[n] = best([c[0] for c in cli])
        cli_rows[n] = cli[0][2]
        r = min(runs, key=lambda r: r["compute"])
        print(f"  {n:>9,}  {r['read']:6.2f}s  {r['design']:6.2f}s  {r['estimate']:6.2f}s  "
              f"{r['compute']:7.2f}s  {max(x['rss_mb'] for x in runs):6.0f}MB  "
              f"{cli_time[n]:8.2f}s  {max(c[1] for c in cli):6.0f}MB")
        assert len(cli_rows[n]) == len(ITEMS) * N_AGENCIES, len(cli_rows[n])

    for name, peer_sizes in (("svy", svy_sizes), ("samplics", smp_sizes)):
        print(f"\n{name}")
        for n in peer_sizes:
            runs = []
            for _ in range(args.repeat):
                r = run_worker(name, files[n], args.timeout)
                if r is None:
                    break
                runs.append(r)
                if r["compute"] > 20:  # slow enough that noise does not matter: one run
                    break
            if not runs:
                print(f"  {n:>9,}  not available or did not finish within {args.timeout:.0f} s")
                continue
            r = min(runs, key=lambda r: r["compute"])
            # time our CLI again right after the peer, under the same machine load
            cli = [run_cli(files[n], args.timeout) for _ in range(args.repeat)]
            cli_time[n] = min(cli_time.get(n, float("inf")), best([c[0] for c in cli]))
            cli_rows.setdefault(n, cli[0][2])
            count, worst, bad = compare(cli_rows[n], r["numbers"])
            wall = best([x["wall"] for x in runs])
            print(f"  {n:>9,} rows: estimation {r['compute']:.2f} s, whole process {wall:.2f} s "
                  f"(import {r['import']:.2f} s, read {r['read']:.2f} s), RSS {r['rss_mb']:.0f} MB")
            print(f"             our whole CLI process: {cli_time[n]:.2f} s -> "
                  f"{r['compute'] / cli_time[n]:.1f}x faster than {name}'s estimation alone, "
                  f"{wall / cli_time[n]:.1f}x faster than its whole process")
            print(f"             numbers: {count} (item, agency) estimates and SEs compared, "
                  f"largest relative difference {worst:.1e}; {len(bad)} disagreements")
            for line in bad[:5]:
                print(f"               {line}")
    if not args.keep:
        for p in files.values():
            p.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
