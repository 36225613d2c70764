"""Benchmark of the exports for statisticians (issue 8): 100,000 approved interviews.

Not a test: it prints figures. What it does, all on this machine:

1. creates a fresh PostgreSQL database and builds the schema with the migrations;
2. builds a field world with the tests' builders, a frozen questionnaire of 25 questions
   (15 Likert items with "don't know", a multiple choice of 5, numbers, a date, text, a
   calculated field) and a locked sampling plan of ``--rows`` cases in 10 strata, then
   inserts one assignment, one approved interview, its version and its respondent row per
   case with Core ``executemany`` (identifying data in the respondent rows and the cases'
   label columns, as in production);
3. writes the extract in each format through ``services.exports.write_export`` (the code the
   background job runs: the query, the extract and the file) and prints wall seconds, this
   process's CPU seconds (the fairer figure on a shared machine), megabytes and peak RSS,
   after checking that no file contains the respondents' names or the frame's labels.

Usage::

    python benchmarks/bench_export.py                   # 100,000 rows, every format
    python benchmarks/bench_export.py --rows 20000 --formats sav dta
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pg import create_database, drop_database  # noqa: E402

SECRET_NAME = "Nguyễn Thị Bí Mật"
SECRET_LABEL = "Hồ sơ bí mật"


def _document() -> dict:
    from surveyapp.questionnaires import Choice, ChoiceList, Group, Question
    from surveyapp.questionnaires import Questionnaire as Definition

    likert = [Question(f"q{i:02d}", "likert", {"vi": f"Mức độ hài lòng về khía cạnh {i}"},
                       list_name="likert5", allow_dk=True) for i in range(1, 16)]
    return Definition(
        name="bench_export", title={"vi": "Phiếu đo lường sự hài lòng"},
        children=[Group("s1", {"vi": "Phần 1"}, children=[
            Question("visited", "select_one", {"vi": "Đã đến bộ phận một cửa?"},
                     list_name="yesno"),
            *likert,
            Question("channels", "select_multiple", {"vi": "Các kênh đã dùng"},
                     list_name="channel", allow_na=True),
            Question("age", "integer", {"vi": "Tuổi"}, minimum=18, maximum=100, allow_dk=True),
            Question("visits", "integer", {"vi": "Số lần đến"}),
            Question("wait", "decimal", {"vi": "Thời gian chờ (giờ)"}),
            Question("visit_date", "date", {"vi": "Ngày đến"}),
            Question("comment", "text", {"vi": "Ý kiến khác"}),
            Question("score", "calculate", {"vi": "Điểm"}, calculation="${visits} * 2"),
        ])],
        choice_lists=[
            ChoiceList("yesno", [Choice("yes", {"vi": "Có"}), Choice("no", {"vi": "Không"})]),
            ChoiceList("likert5", [Choice(str(i), {"vi": f"Mức {i}"}) for i in range(1, 6)]),
            ChoiceList("channel", [Choice(c, {"vi": f"Kênh {c}"})
                                   for c in ("desk", "online", "post", "phone", "app")]),
        ],
    ).to_dict()


def _answers(rng: random.Random) -> dict:
    answers = {"visited": rng.choice(["yes", "no"]),
               "channels": rng.sample(["desk", "online", "post", "phone", "app"],
                                      rng.randint(0, 3)) if rng.random() > 0.05 else "na",
               "age": rng.randint(18, 90) if rng.random() > 0.03 else "dk",
               "visits": rng.randint(1, 9), "wait": round(rng.random() * 4, 2),
               "visit_date": f"2024-08-{rng.randint(1, 30):02d}",
               "comment": rng.choice(["", "Nhanh gọn", "Cán bộ nhiệt tình, hướng dẫn rõ ràng"])}
    for i in range(1, 16):
        answers[f"q{i:02d}"] = str(rng.randint(1, 5)) if rng.random() > 0.04 else "dk"
    return answers


def _prepare(url: str, rows: int) -> int:
    """Schema, world and the bulk rows; returns the campaign id."""
    sys.path.insert(0, str(REPO / "tests"))
    import sqlalchemy as sa
    from field_builders import frozen_version, make_field_world
    from flask_migrate import upgrade

    from surveyapp.extensions import db
    from surveyapp.models import (
        Assignment,
        Campaign,
        Interview,
        InterviewRespondent,
        InterviewVersion,
        SamplingCase,
        SamplingPlan,
    )

    upgrade(directory=str(REPO / "migrations"))
    world = make_field_world(n_cases=1, prefix="bench")
    campaign = db.session.get(Campaign, world.campaign)
    version = frozen_version(campaign, _document())
    db.session.execute(sa.delete(Assignment).where(Assignment.campaign_id == campaign.id))
    db.session.execute(sa.delete(SamplingPlan).where(SamplingPlan.campaign_id == campaign.id))
    plan = SamplingPlan(campaign_id=campaign.id, title="Mẫu 100.000", version=1,
                        status="locked", label_columns=["name"], allocation_params={},
                        reserve=0, locked_at=datetime.now(UTC))
    db.session.add(plan)
    db.session.commit()
    rng = random.Random(20241204)
    now = datetime.now(UTC)
    base = 1_000_000
    chunk = 10_000
    for start in range(0, rows, chunk):
        ids = range(start, min(rows, start + chunk))
        db.session.execute(sa.insert(SamplingCase), [
            {"id": base + i, "plan_id": plan.id, "position": i, "unit_id": f"U{i:06d}",
             "data": {"name": f"{SECRET_LABEL} {i}", "address": f"{i} Lê Lợi"},
             "stratum": f"S{i % 10}", "psu": f"P{i % 500}", "pik": 0.05 + (i % 10) / 100,
             "weight": 1 / (0.05 + (i % 10) / 100), "status": "selected"} for i in ids])
        db.session.execute(sa.insert(Assignment), [
            {"id": base + i, "campaign_id": campaign.id, "case_id": base + i,
             "interviewer_id": world.interviewer_id, "supervisor_id": world.supervisor_id,
             "status": "approved", "disposition": "complete", "comment": "",
             "created_at": now, "updated_at": now} for i in ids])
        db.session.execute(sa.insert(Interview), [
            {"id": base + i, "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
             "campaign_id": campaign.id, "assignment_id": base + i,
             "interviewer_id": world.interviewer_id, "status": "approved", "version": 1,
             "receipt": "0" * 64, "disposition": "complete", "review_comment": "",
             "created_at": now, "updated_at": now} for i in ids])
        db.session.execute(sa.insert(InterviewVersion), [
            {"id": base + i, "interview_id": base + i, "number": 1,
             "questionnaire_version_id": version.id, "disposition": "complete",
             "started_at": now, "finished_at": now, "answers": (a := _answers(rng)),
             "calculated": {"score": a["visits"] * 2}, "paradata": {},
             "content_sha256": "0" * 64, "created_at": now} for i in ids])
        db.session.execute(sa.insert(InterviewRespondent), [
            {"id": base + i, "version_id": base + i,
             "data": {"name": f"{SECRET_NAME} {i}", "phone": f"09{i:08d}"}} for i in ids])
        db.session.commit()
        print(f"  inserted {min(rows, start + chunk):,} / {rows:,}", flush=True)
    return campaign.id


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100_000, help="approved interviews")
    ap.add_argument("--formats", nargs="+", default=["csv", "xlsx", "sav", "dta"])
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models import Campaign
    from surveyapp.services import exports

    name = f"surveyapp_bench_export_{os.getpid()}"
    url = create_database(name)
    workdir = Path(tempfile.mkdtemp(prefix="bench_export_"))
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": uuid.uuid4().hex,
                          "JOB_RUNNER": "inline", "EXPORT_DIR": str(workdir),
                          "RESPONDENT_KEYS": None})
        with app.app_context():
            t0 = time.perf_counter()
            campaign_id = _prepare(url, args.rows)
            print(f"data prepared in {time.perf_counter() - t0:.1f} s")
            db.session.remove()
            campaign = db.session.get(Campaign, campaign_id)
            t0, c0 = time.perf_counter(), time.process_time()
            dataset = exports.build_extract(campaign)
            print(f"extract alone: {dataset.n_rows:,} rows x {len(dataset.variables)} variables "
                  f"in {time.perf_counter() - t0:.1f} s (CPU {time.process_time() - c0:.1f} s, "
                  f"peak RSS {_peak_mb():.0f} MB)")
            del dataset
            print(f"load average before the formats: {os.getloadavg()[0]:.1f}")
            print(f"{'format':8} {'seconds':>8} {'CPU s':>8} {'MB':>8} {'peak RSS MB':>12}")
            for fmt in args.formats:
                db.session.expire_all()
                path = workdir / f"extract.{fmt}"
                t0, c0 = time.perf_counter(), time.process_time()
                # every variable, free text included: the largest file an export writes
                n = exports.write_export(campaign, fmt, path, free_text=True)
                seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
                raw = path.read_bytes()
                assert n == args.rows, (fmt, n)
                for secret in (SECRET_NAME, SECRET_LABEL):
                    assert secret.encode("utf-8") not in raw, (fmt, "identifying data")
                print(f"{fmt:8} {seconds:8.1f} {cpu:8.1f} {len(raw) / 1e6:8.1f} {_peak_mb():12.0f}",
                      flush=True)
                path.unlink()
            db.session.remove()
            db.engine.dispose()
    finally:
        drop_database(name)
        for leftover in workdir.glob("*"):
            leftover.unlink()
        workdir.rmdir()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
