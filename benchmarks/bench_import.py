"""Benchmark of the bulk import of responses (issue 8) on PostgreSQL.

Not a test: it prints figures. What it does, on this machine's loopback PostgreSQL:

1. creates a fresh database, builds the schema with the migrations and a field world with
   the tests' builders (a fielding walk-in campaign with a frozen questionnaire: skip logic,
   a ranged integer with "dk", a text question);
2. writes synthetic files of ``--rows`` interviews (default 100,000; every row with a
   respondent name and phone, which go to the encrypted identifying data): a CSV, an XLSX,
   and the same CSV with one bad row near the end;
3. imports each through ``services.response_import.import_responses`` (the same call as the
   background job and the ``responses import`` command) and prints seconds and rows/s,
   checking the stored counts: the CSV stores every row, a second import of the same CSV
   stores nothing, the file with one bad row stores nothing and reports that one row.

Usage::

    python benchmarks/bench_import.py                  # 100,000 rows each
    python benchmarks/bench_import.py --rows 20000 --skip-xlsx
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pg import create_database, drop_database  # noqa: E402

HEADER = ["started_at", "finished_at", "s1/visited", "s1/channel", "s2/age", "note_text",
          "respondent_name", "respondent_phone"]


def _row(i: int) -> list:
    visited, channel = ("yes", "online" if i % 3 else "desk") if i % 2 else ("no", "")
    age = "dk" if i % 97 == 0 else str(18 + i % 80)
    return ["2024-09-02 08:30", "2024-09-02 08:45", visited, channel, age,
            "Thủ tục nhanh" if i % 5 == 0 else "", f"Nguyễn Văn {i}", f"09{i:08d}"]


def _csv(rows: int, bad_row: int | None = None) -> bytes:
    lines = [",".join(HEADER)]
    for i in range(rows):
        values = _row(i)
        if i == bad_row:
            values[4] = "bốn mươi"
        lines.append(",".join(values))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _xlsx(rows: int) -> bytes:
    from datetime import datetime

    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(HEADER)
    start, end = datetime(2024, 9, 2, 8, 30), datetime(2024, 9, 2, 8, 45)
    for i in range(rows):
        values = _row(i)
        age = values[4]
        ws.append([start, end, values[2], values[3] or None,
                   age if age == "dk" else int(age), values[5] or None, values[6], values[7]])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--skip-xlsx", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    sys.path.insert(0, str(REPO / "tests"))
    sys.path.insert(0, str(REPO))
    import sqlalchemy as sa
    from field_builders import make_field_world
    from flask_migrate import upgrade

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models import Campaign, Interview
    from surveyapp.services import response_import

    name = "surveyapp_bench_import"
    url = create_database(name)
    ok = True
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench",
                          "JOB_RUNNER": "inline", "RESPONSE_IMPORT_MAX_ROWS": args.rows + 10})
        with app.app_context(), app.test_request_context():
            upgrade(directory=str(REPO / "migrations"))
            world = make_field_world(n_cases=1, prefix="bench")
            campaign_id = world.walk_in_campaign

            def stored() -> int:
                return db.session.scalar(sa.select(sa.func.count()).select_from(Interview)
                                         .where(Interview.campaign_id == campaign_id))

            def run(label: str, filename: str, data: bytes) -> dict | None:
                nonlocal ok
                db.session.remove()
                campaign = db.session.get(Campaign, campaign_id)
                before = stored()
                t0 = time.perf_counter()
                try:
                    summary = response_import.import_responses(None, campaign, filename, data)
                    outcome = f"imported {summary['imported']}, skipped {summary['skipped']}"
                except response_import.ImportFailed as exc:
                    summary = None
                    outcome = (f"refused: {exc.total} problem(s): "
                               f"{[(p.row, p.column) for p in exc.report[:3]]}")
                seconds = time.perf_counter() - t0
                after = stored()
                print(f"{label:<34} {seconds:7.1f} s  {args.rows / seconds:9.0f} rows/s  "
                      f"{outcome}; interviews stored {before} -> {after}", flush=True)
                return {"summary": summary, "added": after - before}

            csv_data = _csv(args.rows)
            print(f"CSV {len(csv_data) / 1e6:.1f} MB, {args.rows} rows", flush=True)
            bad = run("CSV with one bad row", "bad.csv", _csv(args.rows, args.rows - 7))
            ok &= bad["summary"] is None and bad["added"] == 0
            first = run("CSV", "responses.csv", csv_data)
            ok &= first["added"] == args.rows
            again = run("CSV again (same file)", "responses.csv", csv_data)
            ok &= again["added"] == 0 and again["summary"]["skipped"] == args.rows
            if not args.skip_xlsx:
                t0 = time.perf_counter()
                xlsx = _xlsx(args.rows)
                print(f"XLSX {len(xlsx) / 1e6:.1f} MB written in "
                      f"{time.perf_counter() - t0:.1f} s", flush=True)
                second = run("XLSX", "responses.xlsx", xlsx)
                ok &= second["added"] == args.rows
            db.session.remove()
            db.engine.dispose()
    finally:
        if not args.keep:
            drop_database(name)
    print("OK" if ok else "FAILED: stored counts are not as expected")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
