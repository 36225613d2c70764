"""Benchmark of the annual report (issue 10): XLSX and PDF for 300 agencies.

Not a test: it prints figures. What it does, all on this machine:

1. creates a fresh PostgreSQL database (``_pg``) and builds the field world of
   ``bench_scorecards.py`` (the standard questionnaire, ``--agencies`` agencies as strata of a
   locked plan, ``--interviews`` approved interviews plus 5 % never interviewed);
2. computes the weighting run (classes by agency) and the ``sipas`` scorecard run — setup,
   not timed here (``bench_scorecards.py`` times them);
3. times (a) ``reports.build_report_data`` (the runs, the response rates, the index), (b)
   ``render_xlsx``, (c) ``render_html``, (d) ``render_pdf`` (headless Chromium), and (e) the
   whole background job (``request_report`` with the inline runner: data, the three files,
   the stored version); prints sizes, the PDF's page count and peak RSS.

Usage::

    python benchmarks/bench_reports.py                          # 300 agencies, 30,000 interviews
    python benchmarks/bench_reports.py --agencies 30 --interviews 3000
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pg import create_database, drop_database  # noqa: E402
from bench_export import _peak_mb  # noqa: E402
from bench_scorecards import _prepare  # noqa: E402


def _timed(fn):
    """(result, wall s, CPU s of this process)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--interviews", type=int, default=30_000, help="approved interviews")
    ap.add_argument("--agencies", type=int, default=300, help="agencies (strata)")
    ap.add_argument("--repeat", type=int, default=3, help="PDF prints timed (best kept)")
    ap.add_argument("--profile", action="store_true",
                    help="also print the top functions of build_report_data (cProfile)")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models import AnnualReport, Campaign, Job, ScorecardRun
    from surveyapp.reporting.annual_html import render_html
    from surveyapp.reporting.annual_pdf import render_pdf
    from surveyapp.reporting.annual_xlsx import render_xlsx
    from surveyapp.services import reports, scorecards, weighting

    name = f"surveyapp_bench_reports_{os.getpid()}"
    url = create_database(name)
    figures: list[tuple[str, float, float | None, str]] = []
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": uuid.uuid4().hex,
                          "JOB_RUNNER": "inline", "RESPONDENT_KEYS": None,
                          "WTF_CSRF_ENABLED": False})
        with app.app_context():
            t0 = time.perf_counter()
            campaign_id, _quality = _prepare(args.interviews, args.agencies)
            campaign = db.session.get(Campaign, campaign_id)
            wrun = weighting.compute_weights(None, campaign, weighting.WeightSpec(
                classes=weighting.STRATUM, method="none"))
            run = scorecards.compute_scorecard(None, wrun, scorecards.Options("sipas"))
            run_id = run.id
            print(f"data, weighting and scorecard runs prepared in "
                  f"{time.perf_counter() - t0:.1f} s (peak RSS {_peak_mb():.0f} MB)")
            db.session.remove()
            print(f"load average before timing: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

            if args.profile:
                import cProfile
                import pstats

                profiler = cProfile.Profile()
                profiler.runcall(reports.build_report_data,
                                 db.session.get(ScorecardRun, run_id))
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
                db.session.remove()
            run = db.session.get(ScorecardRun, run_id)
            data, s, c = _timed(lambda: reports.build_report_data(run))
            figures.append(("(a) build_report_data", s, c,
                            f"{len(data['scorecard'])} agencies, {len(data['nodes'])} nodes"))
            xlsx, s, c = _timed(lambda: render_xlsx(data))
            figures.append(("(b) render_xlsx", s, c, f"{len(xlsx) / 1e6:.2f} MB"))
            html, s, c = _timed(lambda: render_html(data))
            figures.append(("(c) render_html", s, c, f"{len(html.encode()) / 1e6:.2f} MB"))
            # Chromium's own CPU is in its processes, not ours: the wall time is the figure;
            # the best of --repeat prints, since other work on the machine stretches it
            prints = [_timed(lambda: render_pdf(html)) for _k in range(args.repeat)]
            pdf = prints[0][0]
            s = min(p[1] for p in prints)
            pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
            figures.append((f"(d) render_pdf (Chromium), best of {args.repeat}", s, None,
                            f"{len(pdf) / 1e6:.2f} MB, {pages} pages; all: "
                            + ", ".join(f"{p[1]:.1f}" for p in prints)))
            figures.append(("XLSX report: (a) + (b)", figures[0][1] + figures[1][1], None, ""))
            figures.append(("PDF report: (a) + (c) + (d)",
                            figures[0][1] + figures[2][1] + figures[3][1], None, ""))
            db.session.remove()

            campaign = db.session.get(Campaign, campaign_id)
            run = db.session.get(ScorecardRun, run_id)
            job, s, c = _timed(lambda: reports.request_report(None, campaign, run.id))
            job = db.session.get(Job, job.id)
            assert job.status == "done", job.error
            report = db.session.get(AnnualReport, job.result["report_id"])
            figures.append(("(e) the background job end to end (inline)", s, c,
                            ", ".join(f"{f.format} {f.size / 1e6:.2f} MB"
                                      for f in report.files)))
            db.session.remove()
            db.engine.dispose()

        print()
        print(f"{args.interviews:,} approved interviews, {args.agencies} agencies")
        print(f"{'step':56} {'wall s':>8} {'CPU s':>8}  notes")
        for label, s, c, note in figures:
            cpu = f"{c:8.2f}" if c is not None else f"{'':8}"
            print(f"{label:56} {s:8.2f} {cpu}  {note}")
        print(f"peak RSS {_peak_mb():.0f} MB; load average now "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        drop_database(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
