"""Benchmark of the satisfaction-index scorecards (issue 9): 300 agencies, 200,000 interviews.

Not a test: it prints figures. What it does, all on this machine:

1. creates a fresh PostgreSQL database (``_pg``) and builds the schema with the migrations;
2. builds a field world with the tests' builders, freezes the *standard questionnaire
   template* (so that the real ``sipas`` scheme applies: its SIPAS Likert items and the
   agency question), registers ``--agencies`` agencies on the campaign and locks a sampling
   plan whose strata are the agencies (cases with stratum, PSU, pik and weight); then inserts
   one assignment, one approved interview, its version and its respondent row per respondent
   case with Core ``executemany``, the way ``bench_export.py`` does (agencies differ in how
   satisfied their respondents are), plus 5 % of cases never interviewed (non-respondents);
3. times (a) ``weighting.compute_weights`` with non-response classes by agency (the stratum)
   and no calibration, (b) ``scorecards.compute_scorecard`` for the ``sipas`` index, with the
   load (the whole ``exports.build_extract``, and ``analysis_frame`` of the index's questions
   as ``compute_scorecard`` reads them) and the library part
   (``analysis.indices.compute_index`` by agency with the city total, and the covariance
   blocks of the ranked node) timed separately, and (c) ``GET`` of the stored run's page
   through ``app.test_client()`` signed in as the organisation's analyst (median of a few
   requests, HTML size); prints each step's peak RSS (Linux: the high-water mark is reset
   before the step) and the process's.

``--profile N`` also prints the N functions of (a) and of (b) with the largest cumulative time
(cProfile, in a second run of (b) that is not timed).

Usage::

    python benchmarks/bench_scorecards.py                        # 200,000 interviews, 300 agencies
    python benchmarks/bench_scorecards.py --interviews 5000 --agencies 30 --profile 30
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pg import create_database, drop_database  # noqa: E402
from bench_export import SECRET_LABEL, SECRET_NAME, _peak_mb  # noqa: E402

ANALYST = "bench.phantich"
PASSWORD = "bench-analyst-2024"
NONRESPONSE_SHARE = 0.05
PSUS_PER_AGENCY = 20

LIKERT_5 = ("1", "2", "3", "4", "5")
CHANNELS = ("truc_tiep", "truc_tuyen_toan_trinh", "truc_tuyen_mot_phan", "buu_chinh")


def _answers(rng: random.Random, code: str, p: float, template) -> tuple[dict, dict]:
    """One respondent's answers to the standard template; ``p``: the agency's chance that a
    Likert item is answered 4 or 5 (top two)."""
    kenh = rng.choice(CHANNELS)
    desk = kenh in ("truc_tiep", "truc_tuyen_mot_phan")
    online = kenh in ("truc_tuyen_toan_trinh", "truc_tuyen_mot_phan")
    feedback = rng.random() < 0.2

    def likert(special: bool = False) -> str:
        if special and rng.random() < 0.04:
            return rng.choice(("na", "dk"))
        return rng.choice(("4", "5")) if rng.random() < p else rng.choice(("1", "2", "3"))

    a = {"co_quan": code, "thu_tuc": f"2.00{rng.randint(1000, 1999)}", "kenh": kenh,
         "ngay_nop_ho_so": f"2024-08-{rng.randint(1, 14):02d}",
         "ngay_nhan_ket_qua": f"2024-08-{rng.randint(15, 30):02d}"}
    for name in template["desk"]:
        if desk:
            a[name] = likert(True)
    for name in template["online"]:
        if online:
            a[name] = likert(True)
    for name in template["agree"]:
        a[name] = likert(True)
    for name in template["satisfaction"]:
        a[name] = likert()
    for name in template["feedback"]:
        if feedback:
            a[name] = likert(name != "gy_hai_long")
    for name, codes in template["expectation"].items():
        a[name] = rng.choice(codes)
        if a[name] == "khac":
            a[f"{name}_khac"] = "Cần cải thiện thêm"
    tra = rng.choice(("som_hen", "dung_hen", "dung_hen", "tre_hen"))
    a.update({"cc_thai_do": likert(), "cc_phien_ha": rng.choice(("khong",) * 19 + ("co",)),
              "kq_tra_ket_qua": tra,
              "kq_so_lan_lien_he": rng.choice(("khong_lan_nao", "mot_lan", "hai_lan_tro_len")),
              "kq_so_co_quan": rng.choice(("khong_co_quan_nao", "chi_mot_cua",
                                           "nhieu_co_quan")),
              "gy_da_gop_y": "co" if feedback else "khong",
              "nd61_thong_tin": rng.choice(("day_du", "day_du", "chua_day_du")),
              "nd61_chi_them": "khong", "hai_long_chung": likert(),
              "diem_chung": rng.randint(0, 10), "y_kien_khac": "",
              "gioi_tinh": rng.choice(("nam", "nu")), "nhom_tuoi": rng.choice(
                  ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")),
              "trinh_do": rng.choice(("thcs", "thpt", "dai_hoc")),
              "nghe_nghiep": rng.choice(("cong_nhan", "kinh_doanh", "nhan_vien_dn")),
              "noi_cu_tru": rng.choice(("cung_xa", "xa_khac_tphcm"))})
    if tra == "tre_hen":
        a["kq_xin_loi"] = rng.choice(("co", "khong"))
    if feedback:
        a["nd61_tra_loi_gop_y"] = likert()
    if online:
        a["nd61_dvctt"] = likert()
        a["nd61_dvctt_van_de"] = ["khong_co_van_de"]
    points = {"som_hen": 2, "dung_hen": 1, "tre_hen": 0}
    calculated = {
        "tt01_diem_1": points[tra],
        "tt01_diem_3": {"khong_lan_nao": 2, "mot_lan": 1,
                        "hai_lan_tro_len": 0}[a["kq_so_lan_lien_he"]],
        "tt01_diem_4": {"khong_co_quan_nao": 2, "chi_mot_cua": 1,
                        "nhieu_co_quan": 0}[a["kq_so_co_quan"]],
        "tt01_diem_7": 0 if a["cc_phien_ha"] == "co" else points[tra]}
    return a, calculated


def _template_items(definition) -> dict:
    """The template's Likert items grouped by the condition they are asked under."""
    out = {"desk": [], "online": [], "feedback": [], "agree": [], "satisfaction": [],
           "expectation": {}}
    for q in definition.questions():
        meta = q.metadata or {}
        if q.type == "likert" and meta.get("sipas_factor"):
            rel = q.relevant or ""
            if "gy_da_gop_y" in rel:
                out["feedback"].append(q.name)
            elif "truc_tiep" in rel:
                out["desk"].append(q.name)
            elif "truc_tuyen_toan_trinh" in rel:
                out["online"].append(q.name)
            elif meta.get("content") == "hai_long":
                out["satisfaction"].append(q.name)
            else:
                out["agree"].append(q.name)
        elif q.type == "select_one" and meta.get("content") == "mong_doi":
            out["expectation"][q.name] = [c.code for c in
                                          definition.choice_list(q.list_name).choices]
    return out


def _prepare(n_interviews: int, n_agencies: int) -> tuple[int, dict[str, float]]:
    """Schema, world and the bulk rows; returns (campaign id, {agency code: top-2 chance})."""
    sys.path.insert(0, str(REPO / "tests"))
    import sqlalchemy as sa
    from builders import password_hash
    from field_builders import frozen_version, make_field_world
    from flask_migrate import upgrade

    from surveyapp.extensions import db
    from surveyapp.models import (
        Agency,
        Assignment,
        Campaign,
        Interview,
        InterviewRespondent,
        InterviewVersion,
        Membership,
        SamplingCase,
        SamplingPlan,
        User,
    )
    from surveyapp.models.codes import Role
    from surveyapp.questionnaires.template import standard_template

    upgrade(directory=str(REPO / "migrations"))
    world = make_field_world(n_cases=1, prefix="bench")
    campaign = db.session.get(Campaign, world.campaign)
    definition = standard_template()
    version = frozen_version(campaign, definition.to_dict())
    items = _template_items(definition)
    rng = random.Random(20241204)
    codes = [f"CQ{k:03d}" for k in range(n_agencies)]
    # agencies differ in satisfaction: top-2 chance from 0.45 to 0.92
    quality = {c: 0.45 + 0.47 * rng.random() for c in codes}
    agencies = [Agency(code=c, name=f"UBND phường thử {k + 1:03d}", kind="ward",
                       valid_from=datetime(2021, 1, 1).date()) for k, c in enumerate(codes)]
    db.session.add_all(agencies)
    campaign.agencies = agencies
    analyst = User(login=ANALYST, full_name="Phân tích viên thử",
                   password_hash=password_hash(PASSWORD))
    db.session.add(analyst)
    db.session.flush()
    db.session.add(Membership(user_id=analyst.id, organisation_id=world.org,
                              role=Role.ANALYST.value))
    db.session.execute(sa.delete(Assignment).where(Assignment.campaign_id == campaign.id))
    db.session.execute(sa.delete(SamplingPlan).where(SamplingPlan.campaign_id == campaign.id))
    plan = SamplingPlan(campaign_id=campaign.id, title=f"Mẫu {n_agencies} cơ quan",
                        version=1, status="locked", label_columns=["name"],
                        allocation_params={}, reserve=0, locked_at=datetime.now(UTC))
    db.session.add(plan)
    db.session.commit()
    n_cases = n_interviews + int(n_interviews * NONRESPONSE_SHARE)
    now = datetime.now(UTC)
    base = 1_000_000
    chunk = 10_000
    pik = {c: 0.02 + 0.08 * rng.random() for c in codes}
    for start in range(0, n_cases, chunk):
        ids = range(start, min(n_cases, start + chunk))
        strata = {i: codes[i % n_agencies] for i in ids}
        db.session.execute(sa.insert(SamplingCase), [
            {"id": base + i, "plan_id": plan.id, "position": i, "unit_id": f"U{i:07d}",
             "data": {"name": f"{SECRET_LABEL} {i}", "address": f"{i} Lê Lợi"},
             "stratum": strata[i], "psu": f"P{(i // n_agencies) % PSUS_PER_AGENCY}",
             "pik": pik[strata[i]], "weight": 1 / pik[strata[i]], "status": "selected"}
            for i in ids])
        done = [i for i in ids if i < n_interviews]  # the rest are never interviewed
        if done:
            db.session.execute(sa.insert(Assignment), [
                {"id": base + i, "campaign_id": campaign.id, "case_id": base + i,
                 "interviewer_id": world.interviewer_id, "supervisor_id": world.supervisor_id,
                 "status": "approved", "disposition": "complete", "comment": "",
                 "created_at": now, "updated_at": now} for i in done])
            db.session.execute(sa.insert(Interview), [
                {"id": base + i, "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                 "campaign_id": campaign.id, "assignment_id": base + i,
                 "interviewer_id": world.interviewer_id, "status": "approved", "version": 1,
                 "receipt": "0" * 64, "disposition": "complete", "review_comment": "",
                 "created_at": now, "updated_at": now} for i in done])
            rows = []
            for i in done:
                answers, calculated = _answers(rng, strata[i], quality[strata[i]], items)
                rows.append({"id": base + i, "interview_id": base + i, "number": 1,
                             "questionnaire_version_id": version.id,
                             "disposition": "complete", "started_at": now,
                             "finished_at": now, "answers": answers,
                             "calculated": calculated, "paradata": {},
                             "content_sha256": "0" * 64, "created_at": now})
            db.session.execute(sa.insert(InterviewVersion), rows)
            db.session.execute(sa.insert(InterviewRespondent), [
                {"id": base + i, "version_id": base + i,
                 "data": {"name": f"{SECRET_NAME} {i}", "phone": f"09{i:08d}"}} for i in done])
        db.session.commit()
        print(f"  inserted {min(n_cases, start + chunk):,} / {n_cases:,} cases", flush=True)
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    return campaign.id, quality


def _reset_peak() -> None:
    """Reset the process's peak RSS to its current RSS (Linux ``clear_refs``), if allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass


def _rss_mb(field: str = "VmHWM") -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _timed(fn):
    """(result, wall s, CPU s, peak RSS MB of the step or None)."""
    _reset_peak()
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0, _rss_mb()


def _library_part(data):
    """What compute_scorecard asks of ``analysis`` for the index: every node per agency and
    the city, and the ranked node's covariance across agencies (with and without the city)."""
    import warnings

    from analysis.errors import AnalysisWarning
    from analysis.indices import compute_index
    from surveyapp.questionnaires.template import standard_template
    from surveyapp.services import scorecards
    from surveyapp.services.index_definitions import build_definition

    index = build_definition("sipas", standard_template())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AnalysisWarning)
        design = scorecards.design_of(data)
        result = compute_index(index, data, design, by=scorecards.AGENCY, include_total=True)
        for node in scorecards.top_nodes(index):
            result.block(node)
            result.block(node, include_total=True)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--interviews", type=int, default=200_000, help="approved interviews")
    ap.add_argument("--agencies", type=int, default=300, help="agencies (strata)")
    ap.add_argument("--requests", type=int, default=5, help="GETs of the run page")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="print the N functions of (a) and (b) with the largest cumulative time")
    args = ap.parse_args()
    sys.path.insert(0, str(REPO))
    import numpy as np

    from surveyapp import create_app
    from surveyapp.extensions import db
    from surveyapp.models import Campaign, ScorecardRun, WeightRun
    from surveyapp.questionnaires.template import standard_template
    from surveyapp.services import exports, scorecards, weighting
    from surveyapp.services.index_definitions import build_definition

    name = f"surveyapp_bench_scorecards_{os.getpid()}"
    url = create_database(name)
    figures: list[tuple[str, float, float | None, float | None, str]] = []
    try:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": uuid.uuid4().hex,
                          "JOB_RUNNER": "inline", "RESPONDENT_KEYS": None,
                          "WTF_CSRF_ENABLED": False})
        with app.app_context():
            t0 = time.perf_counter()
            campaign_id, quality = _prepare(args.interviews, args.agencies)
            print(f"data prepared in {time.perf_counter() - t0:.1f} s "
                  f"(peak RSS {_peak_mb():.0f} MB)")
            db.session.remove()
            print(f"load average before timing: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")

            campaign = db.session.get(Campaign, campaign_id)
            spec = weighting.WeightSpec(classes=weighting.STRATUM, method="none")
            wrun, s, c, m = _timed(lambda: weighting.compute_weights(None, campaign, spec))
            figures.append(("(a) compute_weights, classes by agency, no calibration", s, c, m,
                            f"{len(wrun.units):,} unit weights"))
            wrun_id = wrun.id
            db.session.remove()

            campaign = db.session.get(Campaign, campaign_id)
            dataset, s, c, m = _timed(lambda: exports.build_extract(campaign))
            figures.append(("(b1) load: exports.build_extract", s, c, m,
                            f"{dataset.n_rows:,} rows x {len(dataset.variables)} variables"))
            del dataset
            db.session.remove()
            campaign = db.session.get(Campaign, campaign_id)
            wrun = db.session.get(WeightRun, wrun_id)
            definition = standard_template()
            # as compute_scorecard asks for it: the index's questions only
            index = build_definition("sipas", definition)
            columns = {it.column or it.name for it in index.items}
            data, s, c, m = _timed(lambda: scorecards.analysis_frame(campaign, wrun, definition,
                                                                    columns=columns))
            figures.append(("(b2) load: analysis_frame, the index's questions", s, c, m,
                            f"{len(data['weight']):,} respondents x {len(columns)} items"))
            before = _rss_mb("VmRSS")
            result, s, c, m = _timed(lambda: _library_part(data))
            figures.append(("(b3) library: compute_index + ranked blocks", s, c, m,
                            f"{len(result.rows):,} (domain, node) estimates; RSS before "
                            f"{before or 0:.0f} MB"))
            del data, result
            db.session.remove()

            wrun = db.session.get(WeightRun, wrun_id)
            options = scorecards.Options("sipas")
            run, s, c, m = _timed(lambda: scorecards.compute_scorecard(None, wrun, options))
            n_rows = len(run.rows)
            figures.append(("(b) compute_scorecard sipas (load + compute + store)", s, c, m,
                            f"{n_rows:,} rows stored"))
            run_id = run.id
            # a sanity check: the best and worst agencies by construction vs the stored index
            overall = {r.agency_code: r.estimate for r in run.rows
                       if r.node == "SIPAS" and r.agency_code is not None
                       and r.estimate is not None}
            codes = sorted(overall)
            corr = float(np.corrcoef([quality[k] for k in codes],
                                     [overall[k] for k in codes])[0, 1])
            statuses: dict[str, int] = {}
            for r in run.rows:
                if r.node == "SIPAS":
                    statuses[r.status] = statuses.get(r.status, 0) + 1
            print(f"overall index vs the agencies' built-in top-2 chance: r = {corr:.3f}; "
                  f"statuses of the overall node: {statuses}")
            db.session.remove()
            if args.profile:
                import cProfile
                import pstats

                campaign = db.session.get(Campaign, campaign_id)
                prof = cProfile.Profile()
                prof.runcall(weighting.compute_weights, None, campaign, spec)
                print("profile of (a):")
                pstats.Stats(prof).sort_stats("cumulative").print_stats(args.profile)
                db.session.rollback()
                wrun = db.session.get(WeightRun, wrun_id)
                prof = cProfile.Profile()
                prof.runcall(scorecards.compute_scorecard, None, wrun, options)
                print("profile of (b):")
                pstats.Stats(prof).sort_stats("cumulative").print_stats(args.profile)
                db.session.remove()
            db.engine.dispose()

        client = app.test_client()
        login = client.post("/login", data={"login": ANALYST, "password": PASSWORD})
        assert login.status_code == 302, login.status_code
        page = f"/campaigns/{campaign_id}/scorecards/{run_id}"
        times, size = [], 0
        first = None
        for k in range(args.requests + 1):
            t0 = time.perf_counter()
            resp = client.get(page)
            elapsed = time.perf_counter() - t0
            assert resp.status_code == 200, resp.status_code
            html = resp.get_data()
            size = len(html)
            if k == 0:
                first = elapsed
                assert b'data-testid="dot-plot"' in html
            else:
                times.append(elapsed)
        figures.append(("(c) GET run page, first request (cold)", first, None, None,
                        f"{size / 1e6:.2f} MB HTML"))
        figures.append((f"(c) GET run page, median of {len(times)}", statistics.median(times),
                        None, None, f"min {min(times):.3f} s, max {max(times):.3f} s"))
        with app.app_context():
            assert db.session.get(ScorecardRun, run_id) is not None
            db.session.remove()
            db.engine.dispose()

        print()
        print(f"{args.interviews:,} approved interviews, {args.agencies} agencies "
              f"({int(args.interviews * NONRESPONSE_SHARE):,} cases never interviewed)")
        print(f"{'step':62} {'wall s':>8} {'CPU s':>8} {'peak MB':>8}  notes")
        for label, s, c, m, note in figures:
            cpu = f"{c:8.2f}" if c is not None else f"{'':8}"
            mem = f"{m:8.0f}" if m is not None else f"{'':8}"
            print(f"{label:62} {s:8.2f} {cpu} {mem}  {note}")
        print(f"peak RSS {_peak_mb():.0f} MB; load average now "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        drop_database(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
