"""Benchmark of the data explorer, cross-tabs and key drivers (issue 10): are the pages fast
enough without a cache?

Not a test: it prints figures. Two worlds, each timed through ``app.test_client()`` signed in
as the organisation's analyst: per page the first GET with an empty frame cache ("cold": the
extract is read) and the median of ``--requests`` more ("warm": the run's extract comes from
the explorer's per-process cache, every figure is computed again):

1. the demo (``flask demo``: two years of the same survey, about 55 respondents each) on a
   temporary SQLite file;
2. with ``--interviews N`` (default 20,000; 0 skips it), the scorecard benchmark's world on a
   fresh PostgreSQL database (``bench_scorecards._prepare``: the standard questionnaire,
   ``--agencies`` agencies as strata, approved interviews), one weighting run.

Pages: the explorer's default view (the SIPAS index by agency, with the trend across the
organisation's years), three questions by agency (a mean, shares of a choice, the index
again), a cross-tab with its Rao–Scott test, and the key-driver model.

Usage::

    python benchmarks/bench_explorer.py                       # the demo, then 20,000 interviews
    python benchmarks/bench_explorer.py --interviews 0        # the demo only
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

PAGES = [
    ("explorer, default (SIPAS by agency + trend)", ""),
    ("explorer, 3 indicators by agency",
     "?indicator=q:hai_long_chung&indicator=q:kenh&indicator=ix:sipas:SIPAS&by=agency"),
    ("cross-tab channel x overall satisfaction + Rao-Scott", "crosstab"),
    ("key drivers (SIPAS dimensions, svyglm)", "drivers"),
]


def _time_pages(app, client, campaign_id: int, requests: int):
    out = []
    for label, path in PAGES:
        url = f"/campaigns/{campaign_id}/explore/{path}"
        app.extensions.get("explorer_frames", {}).clear()
        seconds, size = [], 0
        for _ in range(requests + 1):
            t0 = time.perf_counter()
            response = client.get(url)
            seconds.append(time.perf_counter() - t0)
            assert response.status_code == 200, (url, response.status_code)
            size = len(response.get_data())
        out.append((label, seconds[0], statistics.median(seconds[1:]), size))
    return out


def _print(title: str, rows) -> None:
    print(title)
    print(f"  {'page':<55} {'cold':>8}    {'warm':>8}   {'HTML':>6}")
    for label, cold, warm, size in rows:
        print(f"  {label:<55} {cold * 1000:6.0f} ms   {warm * 1000:6.0f} ms  "
              f"{size / 1024:5.0f} KiB")


def _demo(requests: int) -> None:
    from flask_migrate import upgrade

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services import demo

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/demo.sqlite3",
                          "SECRET_KEY": uuid.uuid4().hex, "JOB_RUNNER": "inline",
                          "WTF_CSRF_ENABLED": False})
        with app.app_context():
            upgrade()
            t0 = time.perf_counter()
            demo.load_demo()
            print(f"demo loaded in {time.perf_counter() - t0:.1f} s")
            campaign_id = db.session.query(Campaign.id).filter(
                Campaign.title == demo.CAMPAIGN_TITLE).scalar()
            db.session.remove()
        client = app.test_client()
        client.post("/login", data={"login": "phantich", "password": "demo-analyst-2024"})
        _print("the demo (SQLite):", _time_pages(app, client, campaign_id, requests))
        with app.app_context():
            db.engine.dispose()


def _large(n_interviews: int, n_agencies: int, requests: int) -> None:
    from _pg import create_database, drop_database
    from bench_scorecards import ANALYST, PASSWORD, _prepare

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services import weighting

    name = f"surveyapp_bench_explorer_{os.getpid()}"
    url = create_database(name)
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": uuid.uuid4().hex,
                          "JOB_RUNNER": "inline", "RESPONDENT_KEYS": None,
                          "WTF_CSRF_ENABLED": False})
        with app.app_context():
            t0 = time.perf_counter()
            campaign_id, _quality = _prepare(n_interviews, n_agencies)
            campaign = db.session.get(Campaign, campaign_id)
            weighting.compute_weights(None, campaign, weighting.WeightSpec(
                classes=weighting.STRATUM, method="none"))
            print(f"{n_interviews:,} interviews, {n_agencies} agencies prepared in "
                  f"{time.perf_counter() - t0:.1f} s")
            db.session.remove()
        client = app.test_client()
        client.post("/login", data={"login": ANALYST, "password": PASSWORD})
        _print(f"{n_interviews:,} interviews, {n_agencies} agencies (PostgreSQL):",
               _time_pages(app, client, campaign_id, requests))
        with app.app_context():
            db.engine.dispose()
    finally:
        drop_database(name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--interviews", type=int, default=20_000,
                    help="approved interviews of the large world (0: the demo only)")
    ap.add_argument("--agencies", type=int, default=50, help="agencies of the large world")
    ap.add_argument("--requests", type=int, default=5, help="GETs of each page")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    _demo(args.requests)
    if args.interviews:
        _large(args.interviews, args.agencies, args.requests)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
