"""Sampling-plan services: frames, design, calculator, atomic and reproducible draws, verify,
locking and versions, XLSX work lists, background draws."""

from __future__ import annotations

import io

import builders
import pytest
from openpyxl import load_workbook
from sampling_frames import design, dossier_rows, frame_csv, to_csv, two_stage
from sqlalchemy import func, select

import sampling as S
from surveyapp.errors import Conflict, DomainError, ValidationFailed
from surveyapp.models import AuditEvent, Job, SamplingCase, SamplingPlan
from surveyapp.models.codes import CaseStatus, JobStatus, Role, SamplingPlanStatus
from surveyapp.services import sampling_plans as plans


@pytest.fixture
def ctx(app, db):
    with app.test_request_context():  # Vietnamese messages, as in a request
        yield


@pytest.fixture
def world(ctx):
    org = builders.make_org()
    analyst = builders.make_user("phantich", org, Role.ANALYST)
    campaign = builders.make_campaign(org)
    return org, analyst, campaign


@pytest.fixture
def plan(world):
    _org, analyst, campaign = world
    return plans.create_plan(analyst, campaign, "Mẫu hồ sơ 2024")


def _count(model, *where) -> int:
    return builders.db.session.scalar(select(func.count()).select_from(model).where(*where))


def _events(plan) -> list[AuditEvent]:
    return list(builders.db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "sampling_plan", AuditEvent.object_id == str(plan.id))
        .order_by(AuditEvent.id)))


def _drawn(world, plan, data=None):
    analyst = world[1]
    plans.upload_frame(analyst, plan, "ho_so.csv", frame_csv())
    plans.set_design(analyst, plan, data or design())
    plans.draw_sample(analyst, plan)
    return plan


def _cases(plan) -> list[tuple]:
    return [(c.unit_id, c.reserve_rank, c.stratum, c.pik, c.weight) for c in builders.db.session
            .scalars(select(SamplingCase).where(SamplingCase.plan_id == plan.id)
                     .order_by(SamplingCase.position))]


# ---- frames --------------------------------------------------------------------------

def test_upload_stores_the_file_with_the_library_digest_and_audits(world, plan, tmp_path):
    content = frame_csv()
    plans.upload_frame(world[1], plan, "ho_so.csv", content)
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    from sampling.io import read_frame

    assert plan.frame_sha256 == S.frame_digest(read_frame(path)).sha256
    assert plan.frame_rows == 120 and plan.frame_content == content
    assert plan.frame_columns == ["ma_ho_so", "ho_ten", "dia_chi", "co_quan", "phuong", "dan_so",
                                  "so_ho_so"]
    assert [e.action for e in _events(plan)] == ["create", "update"]


def test_xlsx_frames_are_read_by_the_library_too(world, plan):
    import xlsxwriter

    rows = dossier_rows(5)
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, list(rows[0]))
    for r, row in enumerate(rows, start=1):
        sheet.write_row(r, 0, list(row.values()))
    book.close()
    plans.upload_frame(world[1], plan, "ho_so.xlsx", buffer.getvalue())
    assert plan.frame_rows == 20
    assert plans.plan_frame(plan)["co_quan"].iloc[0] == "Sở Tư pháp"


BAD_FRAMES = {
    # Windows-1258 (Vietnamese ANSI), as older Excel versions save "CSV".
    "windows-1258": ("ho_so.csv", "ma,ten\n1,Trần Văn Đức\n".encode("cp1258", errors="replace"),
                     "không phải văn bản UTF-8"),
    "utf-16": ("ho_so.csv", "ma,ten\n1,Trần Đức\n".encode("utf-16"), "UTF-8"),
    "empty": ("ho_so.csv", b"", "không có dòng dữ liệu"),
    "header only": ("ho_so.csv", b"ma,ten\n", "không có dòng dữ liệu"),
    "duplicate heading": ("ho_so.csv", b"ma,ma\n1,2\n", "Hai cột cùng tên “ma”"),
    "blank heading": ("ho_so.csv", b"ma,,ten\n1,2,3\n", "Cột 2 của dòng đầu không có tên"),
    "wrong extension": ("ho_so.pdf", b"%PDF-1.4", ".csv (UTF-8) hoặc .xlsx"),
    "broken xlsx": ("ho_so.xlsx", b"PK\x03\x04 not really", "không phải sổ tính XLSX"),
}


@pytest.mark.parametrize("case", list(BAD_FRAMES))
def test_bad_frames_give_a_vietnamese_message_and_store_nothing(world, plan, case):
    filename, content, expected = BAD_FRAMES[case]
    events = len(_events(plan))
    with pytest.raises(ValidationFailed) as info:
        plans.upload_frame(world[1], plan, filename, content)
    builders.db.session.rollback()
    assert expected in info.value.message, info.value.message
    assert info.value.fields == {"file": info.value.message}
    builders.db.session.refresh(plan)
    assert plan.frame_content is None and plan.frame_sha256 is None
    assert len(_events(plan)) == events


# ---- design --------------------------------------------------------------------------

def _with(rows, index, **changes):
    rows = [dict(r) for r in rows]
    rows[index].update(changes)
    return rows


BAD_DESIGNS = {
    "duplicate ids": (_with(dossier_rows(), 5, ma_ho_so="HS00001"), design(), "id_column",
                      "Mã “HS00001” bị trùng"),
    "missing id": (_with(dossier_rows(), 3, ma_ho_so=""), design(), "id_column",
                   "Cột mã “ma_ho_so” bị trống ở dòng dữ liệu 4 (dòng 5 của tệp)"),
    "missing size": (_with(dossier_rows(), 7, so_ho_so=""), design(), "size_column",
                     "thiếu ở dòng dữ liệu 8"),
    "zero size": (_with(dossier_rows(), 9, so_ho_so="0"), design(), "size_column",
                  "phải lớn hơn 0"),
    "size not a number": (_with(dossier_rows(), 2, so_ho_so="1.234,5"), design(), "size_column",
                          "không phải là số"),
    "empty stratum label": (_with(dossier_rows(), 0, co_quan=""), design(), "stratum_column",
                            "Cột “co_quan” bị trống ở dòng dữ liệu 1"),
    "n larger than frame": (dossier_rows(), design(n=500), "n", "lớn hơn khung mẫu"),
    "pps without size": (dossier_rows(), design(size_column=None), "size_column",
                         "cần một cột thước đo quy mô"),
    "unknown column": (dossier_rows(), design(id_column="khong_co"), "id_column",
                       "Khung mẫu không có cột “khong_co”"),
    "minimum too large": (dossier_rows(), design(minimum=20), "n", "Số tối thiểu mỗi tầng"),
    "second stage by pps": (dossier_rows(), two_stage(method="pps-brewer"), "method",
                            "ngẫu nhiên đơn giản hoặc hệ thống"),
    "seed out of range": (dossier_rows(), design(seed=2**64), "seed", "Hạt giống"),
}


@pytest.mark.parametrize("case", list(BAD_DESIGNS))
def test_bad_designs_are_refused_with_a_precise_message_and_nothing_changes(world, plan, case):
    rows, data, field, expected = BAD_DESIGNS[case]
    plans.upload_frame(world[1], plan, "ho_so.csv", to_csv(rows))
    before = (plan.stages, plan.allocation, plan.n, plan.id_column, len(_events(plan)))
    with pytest.raises(ValidationFailed) as info:
        plans.set_design(world[1], plan, data)
    builders.db.session.rollback()
    assert expected in info.value.message, info.value.message
    assert field in info.value.fields
    builders.db.session.refresh(plan)
    assert (plan.stages, plan.allocation, plan.n, plan.id_column, len(_events(plan))) == before


def test_design_is_stored_with_the_library_stages_and_allocation(world, plan):
    plans.upload_frame(world[1], plan, "ho_so.csv", frame_csv())
    plans.set_design(world[1], plan, design())
    assert plan.stages == [{"unit": "ma_ho_so", "method": "pps-systematic",
                            "n": {"Sở Tư pháp": 10, "Sở Xây dựng": 10, "UBND Quận 1": 10,
                                  "UBND Phường Bến Nghé": 10},
                            "size": "so_ho_so", "strata": "co_quan"}]
    assert [a["n_h"] for a in plan.allocation] == [10, 10, 10, 10]
    assert plans.design_data(plan) == design()


def test_calculator_gives_the_library_margin_of_error_per_stratum(world, plan):
    plans.upload_frame(world[1], plan, "ho_so.csv", frame_csv())
    plans.set_design(world[1], plan, design(allocation_method="power", power_exponent=0.0))
    calc = plans.calculate(plan, plans.CalculatorInput(confidence_level=0.95, p=0.5,
                                                       response_rate=0.8, target_moe=0.1))
    assert [r.stratum for r in calc.rows] == ["Sở Tư pháp", "Sở Xây dựng", "UBND Quận 1",
                                              "UBND Phường Bến Nghé"]
    for row in calc.rows:
        assert row.n == 10 and row.completes == pytest.approx(8.0)
        assert row.moe == pytest.approx(S.margin_of_error(8.0, p=0.5, N=30))
        assert row.n_needed == S.sample_size(0.1, p=0.5, response_rate=0.8, N=30).n_to_contact
    assert calc.total.n == 40 and calc.total.rows == 120
    with pytest.raises(ValidationFailed) as info:
        plans.calculate(plan, plans.CalculatorInput(p=1.5))
    assert "tỷ lệ kỳ vọng" in info.value.message.lower()


# ---- draw ----------------------------------------------------------------------------

def test_draw_stores_the_record_and_every_case_with_weights(world, plan):
    _drawn(world, plan)
    record = plan.draw_record
    assert plan.status == SamplingPlanStatus.DRAWN
    assert record["generator"]["seed"] == 20240104
    assert record["frame"]["sha256"] == plan.frame_sha256
    cases = _cases(plan)
    assert len(cases) == 40 + 8
    selected = [c for c in cases if c[1] is None]
    reserves = [c for c in cases if c[1] is not None]
    assert len(selected) == 40 and sorted({c[1] for c in reserves}) == [1, 2]
    assert all(abs(c[3] * c[4] - 1) < 1e-12 for c in cases)
    statuses = set(builders.db.session.scalars(select(SamplingCase.status).where(
        SamplingCase.plan_id == plan.id)))
    assert statuses == {CaseStatus.SELECTED, CaseStatus.RESERVE}
    first = builders.db.session.scalar(select(SamplingCase).where(
        SamplingCase.plan_id == plan.id, SamplingCase.position == 1))
    assert set(first.data) == {"ho_ten", "dia_chi"} and first.data["ho_ten"].startswith("Nguyễn")
    assert _events(plan)[-1].action == "state"


def test_the_draw_is_atomic(world, plan, monkeypatch):
    analyst = world[1]
    plans.upload_frame(analyst, plan, "ho_so.csv", frame_csv())
    plans.set_design(analyst, plan, design())

    def broken(*args, **kwargs):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(plans, "_record", broken)
    with pytest.raises(RuntimeError):
        plans.draw_sample(analyst, plan)
    builders.db.session.rollback()
    builders.db.session.refresh(plan)
    assert plan.draw_record is None and plan.status == SamplingPlanStatus.DRAFT
    assert _count(SamplingCase, SamplingCase.plan_id == plan.id) == 0


def test_same_seed_same_cases_other_seed_other_cases(world, plan):
    _drawn(world, plan)
    again = plans.new_version(world[1], plan)
    plans.draw_sample(world[1], again)
    assert _cases(again) == _cases(plan)
    other = plans.new_version(world[1], plan)
    plans.set_design(world[1], other, design(seed=7))
    plans.draw_sample(world[1], other)
    assert [c[0] for c in _cases(other)] != [c[0] for c in _cases(plan)]


def test_a_seed_left_empty_is_chosen_and_recorded(world, plan):
    _drawn(world, plan, design(seed=None))
    assert plan.seed is not None and plan.draw_record["generator"]["seed"] == plan.seed


def _certain_frame() -> bytes:
    # Sizes so unequal that the certainty units leave nothing to replace with reserves.
    rows = dossier_rows(4)
    for i, row in enumerate(rows):
        row["so_ho_so"] = "100000" if i % 4 < 3 else "1"
    return to_csv(rows)


def test_a_trial_draw_reports_draw_time_rules_on_the_design(world, plan):
    plans.upload_frame(world[1], plan, "ho_so.csv", _certain_frame())
    with pytest.raises(ValidationFailed) as info:
        plans.set_design(world[1], plan, design(n=12, reserve=1, allocation_method="equal"))
    assert "dự phòng" in info.value.message and "reserve" in info.value.fields
    builders.db.session.rollback()
    builders.db.session.refresh(plan)
    assert plan.stages is None


def test_a_draw_error_is_translated_and_stores_nothing(app, world, plan):
    # Above the inline limit there is no trial draw: the draw itself reports the rule.
    plans.upload_frame(world[1], plan, "ho_so.csv", _certain_frame())
    app.config["SAMPLING_INLINE_MAX_ROWS"] = 5
    try:
        plans.set_design(world[1], plan, design(n=12, reserve=1, allocation_method="equal"))
        with pytest.raises(ValidationFailed) as info:
            plans.draw_sample(world[1], plan)
    finally:
        app.config.pop("SAMPLING_INLINE_MAX_ROWS")
    builders.db.session.rollback()
    assert "dự phòng" in info.value.message
    assert _count(SamplingCase, SamplingCase.plan_id == plan.id) == 0
    builders.db.session.refresh(plan)
    assert plan.draw_record is None


def test_two_stage_draw_keeps_the_first_stage_unit_of_each_case(world, plan):
    _drawn(world, plan, two_stage())
    cases = _cases(plan)
    selected = [c for c in cases if c[1] is None]
    assert len(selected) == 3 * 3 and len(cases) == 3 * 4
    stored = list(builders.db.session.scalars(select(SamplingCase.psu).where(
        SamplingCase.plan_id == plan.id)))
    assert all(p and p.startswith("Phường") for p in stored)
    assert plans.verify_plan(plan).ok


# ---- verify, lock, versions -------------------------------------------------------------

def test_verify_says_yes_for_the_stored_draw(world, plan):
    _drawn(world, plan)
    assert plans.verify_plan(plan) == plans.VerifyOutcome(True, [])


def test_verify_says_no_when_the_frame_changed(world, plan):
    _drawn(world, plan)
    changed = to_csv(_with(dossier_rows(), 0, so_ho_so="12"))
    plan.frame_content = changed
    plan.frame_sha256 = S.frame_digest(plans.read_uploaded_frame("f.csv", changed)).sha256
    outcome = plans.verify_plan(plan)
    assert not outcome.ok
    assert any("Khung mẫu khác" in m and "so_ho_so" in m for m in outcome.messages)


def test_verify_says_no_when_stored_cases_were_altered(world, plan):
    _drawn(world, plan)
    case = builders.db.session.scalar(select(SamplingCase).where(
        SamplingCase.plan_id == plan.id, SamplingCase.position == 1))
    case.unit_id = "HS99999"
    builders.db.session.flush()
    outcome = plans.verify_plan(plan)
    assert not outcome.ok and any("đã lưu" in m for m in outcome.messages)


def test_verify_says_no_when_the_record_was_altered(world, plan):
    _drawn(world, plan)
    record = dict(plan.draw_record)
    record["parameters"] = {**record["parameters"], "reserve": 1}
    plan.draw_record = record
    outcome = plans.verify_plan(plan)
    assert not outcome.ok and any("tham số" in m for m in outcome.messages)


def test_a_locked_plan_refuses_every_change_and_a_new_version_is_a_draft(world, plan):
    analyst = world[1]
    with pytest.raises(Conflict):
        plans.lock_plan(analyst, plan)  # nothing drawn yet
    _drawn(world, plan)
    plans.lock_plan(analyst, plan)
    assert plan.status == SamplingPlanStatus.LOCKED and plan.locked_by_id == analyst.id
    cases = _cases(plan)
    for attempt in (lambda: plans.upload_frame(analyst, plan, "x.csv", frame_csv()),
                    lambda: plans.set_design(analyst, plan, design(n=20)),
                    lambda: plans.draw_sample(analyst, plan),
                    lambda: plans.lock_plan(analyst, plan)):
        with pytest.raises(Conflict) as info:
            attempt()
        assert "đã khóa" in info.value.message
        builders.db.session.rollback()
    assert _cases(plan) == cases and plan.n == 40
    copy = plans.new_version(analyst, plan)
    assert (copy.version, copy.status, copy.previous_id) == (2, SamplingPlanStatus.DRAFT, plan.id)
    assert copy.frame_sha256 == plan.frame_sha256 and copy.stages == plan.stages
    assert copy.draw_record is None and _count(SamplingCase, SamplingCase.plan_id == copy.id) == 0
    plans.set_design(analyst, copy, design(n=20))  # the copy can change
    assert plans.locked_cases(plan.campaign)[0].plan_id == plan.id


def test_a_new_frame_or_design_discards_an_unlocked_draw(world, plan):
    _drawn(world, plan)
    plans.set_design(world[1], plan, design(n=20))
    assert plan.status == SamplingPlanStatus.DRAFT and plan.draw_record is None
    assert _count(SamplingCase, SamplingCase.plan_id == plan.id) == 0


def test_without_frame_or_design_there_is_nothing_to_draw(world, plan):
    with pytest.raises(DomainError):
        plans.draw_sample(world[1], plan)
    plans.upload_frame(world[1], plan, "ho_so.csv", frame_csv())
    with pytest.raises(DomainError):
        plans.draw_sample(world[1], plan)


# ---- downloads -------------------------------------------------------------------------

def test_work_lists_read_back_with_openpyxl(world, plan):
    org = world[0]
    builders.make_user("dtv.b", org, Role.INTERVIEWER, full_name="Trần Thị Bích")
    builders.make_user("dtv.a", org, Role.INTERVIEWER, full_name="Lê Văn An")
    _drawn(world, plan)
    filename, content = plans.worklists_workbook(plan, with_labels=True)
    assert filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(content), read_only=True)
    assert book.sheetnames == ["Lê Văn An", "Trần Thị Bích", "Dự phòng"]
    seen = []
    for name in ("Lê Văn An", "Trần Thị Bích"):
        rows = list(book[name].iter_rows(values_only=True))
        assert rows[0][0].startswith("Danh sách phỏng vấn")
        assert name in rows[1][0]
        assert rows[3][:4] == ("STT", "Mã (ma_ho_so)", "ho_ten", "dia_chi")
        assert "Kết quả liên hệ" in rows[3]
        body = rows[4:]
        assert [r[0] for r in body] == list(range(1, len(body) + 1))
        seen += [r[1] for r in body]
    assert sorted(seen) == sorted(c[0] for c in _cases(plan) if c[1] is None)
    reserves = list(book["Dự phòng"].iter_rows(values_only=True))[4:]
    assert len(reserves) == 8 and {r[5] for r in reserves} == {1, 2}


def test_sample_workbook_has_weights_and_the_draw_facts(world, plan):
    _drawn(world, plan)
    _name, content = plans.sample_workbook(plan, with_labels=True)
    book = load_workbook(io.BytesIO(content), read_only=True)
    rows = list(book["Mẫu"].iter_rows(values_only=True))
    assert rows[0] == ("Mã (ma_ho_so)", "ho_ten", "dia_chi", "Tầng (co_quan)",
                       "Xác suất chọn", "Trọng số thiết kế", "Thứ tự dự phòng", "Trạng thái")
    assert len(rows) == 1 + 48
    assert all(abs(r[4] * r[5] - 1) < 1e-9 for r in rows[1:])
    facts = dict(book["Lần chọn"].iter_rows(values_only=True))
    assert facts["Hạt giống"] == "20240104"


def test_downloads_leave_out_the_identifying_columns_unless_asked(world, plan):
    _drawn(world, plan)
    for build in (plans.sample_workbook, plans.worklists_workbook):
        book = load_workbook(io.BytesIO(build(plan)[1]), read_only=True)
        cells = {str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                 for v in row if v is not None}
        assert "ho_ten" not in cells and "dia_chi" not in cells
        names = {c.data.get("ho_ten") for c in plan.cases}
        assert names and not (names & cells)


def test_work_lists_without_interviewers_go_to_one_unassigned_sheet(world, plan):
    _drawn(world, plan)
    book = load_workbook(io.BytesIO(plans.worklists_workbook(plan)[1]), read_only=True)
    assert book.sheetnames == ["Chưa phân công", "Dự phòng"]


def test_downloads_need_a_draw(world, plan):
    with pytest.raises(DomainError):
        plans.sample_workbook(plan)


# ---- large frames: a background job ---------------------------------------------------

def test_a_large_frame_is_drawn_by_a_background_job(app, world, plan):
    _org, analyst, _campaign = world
    plans.upload_frame(analyst, plan, "ho_so.csv", frame_csv())
    plans.set_design(analyst, plan, design())
    app.config["SAMPLING_INLINE_MAX_ROWS"] = 50
    try:
        summary, job = plans.request_draw(analyst, plan)  # the inline runner runs it at once
    finally:
        app.config.pop("SAMPLING_INLINE_MAX_ROWS")
    assert summary is None
    job = builders.db.session.get(Job, job.id)
    assert job.status == JobStatus.DONE, job.error
    assert job.result == {"plan_id": plan.id, "selected": 40, "reserves": 8, "seed": 20240104}
    builders.db.session.refresh(plan)
    assert plan.status == SamplingPlanStatus.DRAWN and len(_cases(plan)) == 48
    assert plans.verify_plan(plan).ok


def test_plans_are_numbered_per_campaign(world):
    _org, analyst, campaign = world
    first = plans.create_plan(analyst, campaign, "Mẫu A")
    second = plans.create_plan(analyst, campaign, "Mẫu B")
    assert (first.version, second.version) == (1, 2)
    assert [p.id for p in plans.list_plans(campaign)] == [second.id, first.id]
    with pytest.raises(ValidationFailed):
        plans.create_plan(analyst, campaign, "ab")
    assert _count(SamplingPlan, SamplingPlan.campaign_id == campaign.id) == 2


def test_the_demo_has_a_locked_plan_whose_draw_verifies(ctx):
    from surveyapp.services import demo

    demo.load_demo()
    campaign = builders.db.session.scalar(select(demo.Campaign).where(
        demo.Campaign.title == demo.CAMPAIGN_TITLE))
    (plan,) = plans.list_plans(campaign)
    assert plan.status == SamplingPlanStatus.LOCKED and plan.frame_rows == 600
    cases = plans.locked_cases(campaign)
    assert sum(c.reserve_rank is None for c in cases) == 80
    assert sum(c.reserve_rank is not None for c in cases) == 5 * 3
    assert cases[0].data["Người nộp"] and cases[0].stratum
    assert plans.verify_plan(plan).ok
    demo.load_demo()  # idempotent: no second plan
    assert len(plans.list_plans(campaign)) == 1


def _with_sd(sd=(1, 2, 3, 4), cost=(1, 1, 4, 4)) -> list[dict]:
    rows = dossier_rows()
    for i, row in enumerate(rows):
        row["do_lech"] = str(sd[i // 30])
        row["chi_phi"] = str(cost[i // 30])
    return rows


def test_neyman_and_optimal_allocation_read_one_value_per_stratum(world, plan):
    plans.upload_frame(world[1], plan, "ho_so.csv", to_csv(_with_sd()))
    plans.set_design(world[1], plan, design(allocation_method="neyman", sd_column="do_lech"))
    assert [a["n_h"] for a in plan.allocation] == [4, 8, 12, 16]
    plans.set_design(world[1], plan, design(allocation_method="optimal", sd_column="do_lech",
                                            cost_column="chi_phi"))
    expected = S.allocate([30] * 4, 40, "optimal", sd=[1, 2, 3, 4], cost=[1, 1, 4, 4])
    assert [a["n_h"] for a in plan.allocation] == list(expected.n_h)
    assert plans.design_data(plan).cost_column == "chi_phi"


@pytest.mark.parametrize("rows,data,field,expected", [
    (_with_sd(), design(allocation_method="neyman"), "sd_column", "độ lệch chuẩn"),
    (_with_sd(), design(allocation_method="optimal", sd_column="do_lech"), "cost_column",
     "chi phí"),
    (_with(_with_sd(), 3, do_lech="9"), design(allocation_method="neyman", sd_column="do_lech"),
     "sd_column", "thay đổi trong tầng “Sở Tư pháp”"),
    (_with(_with_sd(), 40, do_lech="nhiều"),
     design(allocation_method="neyman", sd_column="do_lech"), "sd_column",
     "dòng dữ liệu 41 có “nhiều”"),
    (_with(_with_sd(), 0, chi_phi="0"),
     design(allocation_method="optimal", sd_column="do_lech", cost_column="chi_phi"),
     "cost_column", "dòng dữ liệu 1"),
])
def test_bad_per_stratum_columns(world, plan, rows, data, field, expected):
    plans.upload_frame(world[1], plan, "ho_so.csv", to_csv(rows))
    with pytest.raises(ValidationFailed) as info:
        plans.set_design(world[1], plan, data)
    assert expected in info.value.message and field in info.value.fields


def test_systematic_selection_follows_the_sort_order(world, plan):
    _drawn(world, plan, design(method="systematic", size_column=None, sort_column="phuong"))
    assert plan.stages[0]["sort"] == ["phuong"]
    assert plans.design_data(plan).sort_column == "phuong"
    assert plans.verify_plan(plan).ok
    with pytest.raises(ValidationFailed) as info:
        plans.set_design(world[1], plan, design(method="srs", size_column=None,
                                                sort_column="phuong"))
    assert "chỉ áp dụng cho cách chọn hệ thống" in info.value.message
