"""Bulk import of responses from CSV/XLSX (issue 8): all or nothing, a report by row and
column, deterministic UUIDs so a second import adds nothing, CLI, page and job."""

from __future__ import annotations

import io
import json
import re

import pytest
import sqlalchemy as sa
from field_builders import make_field_world
from openpyxl import Workbook

from surveyapp.extensions import db as _db
from surveyapp.models import (
    Assignment,
    AuditEvent,
    Campaign,
    Interview,
    InterviewRespondent,
    InterviewVersion,
    Job,
)
from surveyapp.services import response_import as service

HEADER = "uuid,assignment_id,started_at,finished_at,disposition,visited,channel,age," \
         "respondent_name,respondent_phone"


def count(model, *where) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.fixture
def world(app, db):
    with app.app_context():
        yield make_field_world(n_cases=6, prefix="imp")


@pytest.fixture(scope="session")
def reader_app(database_url):
    """A second app object for the test body's own context: requests then push their own
    context (g, the CSRF token) instead of reusing the test's."""
    from builders import app_config

    from surveyapp import create_app

    return create_app(app_config(database_url))


@pytest.fixture(autouse=True)
def _context(reader_app, world):
    with reader_app.app_context():
        yield


def campaign(world, walk_in=False) -> Campaign:
    return _db.session.get(Campaign, world.walk_in_campaign if walk_in else world.campaign)


def sampled_csv(world, rows=None) -> bytes:
    rows = rows if rows is not None else [
        f",{world.assignments[0]},2024-09-02 08:30,2024-09-02 08:45,complete,yes,desk,42,"
        "Phạm Thị Dung,0909123456",
        f",{world.assignments[1]},02/09/2024,02/09/2024,complete,no,,40,,",
        f",{world.assignments[2]},2024-09-03T09:00:00+07:00,2024-09-03T09:20:00+07:00,"
        "complete,no,,dk,,",
    ]
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def walk_in_csv(n: int, bad: dict[int, str] | None = None) -> bytes:
    """``n`` walk-in rows (no assignments); ``bad`` replaces the age of some rows."""
    lines = ["started_at,finished_at,s1/visited,s1/channel,s2/age"]
    for i in range(n):
        age = (bad or {}).get(i, str(18 + i % 80))
        visited, channel = ("yes", "online") if i % 2 else ("no", "")
        lines.append(f"2024-09-02T08:00:00+07:00,2024-09-02T08:10:00+07:00,{visited},"
                     f"{channel},{age}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def report_of(exc) -> list[tuple]:
    return [(p.row, p.column, p.message) for p in exc.value.report]


# ---- good files ------------------------------------------------------------------------------

def test_csv_rows_become_submitted_interviews_with_respondents_apart(world):
    summary = service.import_responses(None, campaign(world), "giay.csv", sampled_csv(world))
    assert summary["rows"] == 3 and summary["imported"] == 3 and summary["skipped"] == 0
    assert summary["status"] == "submitted"
    interviews = list(_db.session.scalars(sa.select(Interview).where(
        Interview.campaign_id == world.campaign).order_by(Interview.assignment_id)))
    assert [i.status for i in interviews] == ["submitted"] * 3
    answers = [i.versions[0].answers for i in interviews]
    assert answers[0] == {"visited": "yes", "channel": "desk", "age": 42}
    assert answers[1] == {"visited": "no", "age": 40}
    assert answers[2]["age"] == "dk"
    # identifying data in InterviewRespondent, never in the answers
    respondent = _db.session.scalar(sa.select(InterviewRespondent).where(
        InterviewRespondent.version_id == interviews[0].versions[0].id))
    assert respondent.data == {"name": "Phạm Thị Dung", "phone": "0909123456"}
    assert "name" not in answers[0] and "respondent_name" not in answers[0]
    from surveyapp.models import RespondentKey

    assert count(RespondentKey, RespondentKey.version_id == interviews[0].versions[0].id) == 1
    # local times without an offset are Vietnam's
    assert interviews[0].versions[0].started_at.hour in (1, 8)
    assigned = _db.session.get(Assignment, world.assignments[0])
    assert assigned.status == "submitted" and assigned.disposition == "complete"
    assert count(AuditEvent, AuditEvent.action == "import") == 1


def test_the_same_file_twice_is_stored_once(world):
    data = sampled_csv(world)
    service.import_responses(None, campaign(world), "a.csv", data)
    again = service.import_responses(None, campaign(world), "a.csv", data)
    assert again["imported"] == 0 and again["skipped"] == 3
    assert count(Interview, Interview.campaign_id == world.campaign) == 3
    assert count(InterviewVersion) == 3


def test_a_changed_row_under_a_stored_uuid_is_an_error(world):
    uuid = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
    first = [f"{uuid},{world.assignments[0]},2024-09-02,2024-09-02,complete,yes,desk,42,,"]
    service.import_responses(None, campaign(world), "a.csv", sampled_csv(world, first))
    changed = [f"{uuid},{world.assignments[0]},2024-09-02,2024-09-02,complete,yes,desk,43,,"]
    with pytest.raises(service.ImportFailed) as exc:
        service.import_responses(None, campaign(world), "b.csv", sampled_csv(world, changed))
    assert [(r, c) for r, c, _ in report_of(exc)] == [(2, "uuid")]
    assert count(Interview) == 1


def test_supervisor_may_approve_on_import(world):
    from surveyapp.models import User

    supervisor = _db.session.scalar(sa.select(User).where(User.login == world.supervisor))
    summary = service.import_responses(supervisor, campaign(world), "a.csv",
                                       sampled_csv(world), approve=True)
    assert summary["status"] == "approved"
    assert {i.status for i in _db.session.scalars(sa.select(Interview))} == {"approved"}
    assert _db.session.get(Assignment, world.assignments[0]).status == "approved"


def test_an_interviewer_may_not_approve(world):
    from surveyapp.errors import PermissionDenied
    from surveyapp.models import User

    interviewer = _db.session.scalar(sa.select(User).where(User.login == world.interviewer))
    with pytest.raises(PermissionDenied):
        service.import_responses(interviewer, campaign(world), "a.csv", sampled_csv(world),
                                 approve=True)


def test_xlsx_with_typed_cells(world):
    from datetime import datetime

    wb = Workbook()
    ws = wb.active
    ws.append(["assignment_id", "started_at", "finished_at", "visited", "channel", "age"])
    ws.append([world.assignments[0], datetime(2024, 9, 2, 8, 30), datetime(2024, 9, 2, 8, 50),
               "yes", "online", 55])
    ws.append([float(world.assignments[1]), datetime(2024, 9, 2, 9), datetime(2024, 9, 2, 9, 5),
               "no", None, 30.0])
    buf = io.BytesIO()
    wb.save(buf)
    summary = service.import_responses(None, campaign(world), "phieu.xlsx", buf.getvalue())
    assert summary["imported"] == 2
    stored = {i.assignment_id: i.versions[0] for i in _db.session.scalars(sa.select(Interview))}
    assert stored[world.assignments[0]].answers == {"visited": "yes", "channel": "online",
                                                    "age": 55}
    assert stored[world.assignments[1]].answers == {"visited": "no", "age": 30}


def test_xlsx_phone_number_cells_get_back_their_leading_zero(world):
    """Excel keeps 0909 123 456 typed into a number cell as 909123456 (openpyxl may read it
    as 909123456.0): the stored phone is the national number, and QC's respondent key is
    the same as for the phone typed on a device."""
    from datetime import datetime

    from surveyapp.models import RespondentKey
    from surveyapp.services import respondent_keys

    wb = Workbook()
    ws = wb.active
    ws.append(["assignment_id", "started_at", "finished_at", "visited", "channel", "age",
               "respondent_name", "respondent_phone"])
    for index, phone in enumerate([909123456, 909123457.0, 2838291234, "0909123458", 84909123459]):
        ws.append([world.assignments[index], datetime(2024, 9, 2, 8, 30),
                   datetime(2024, 9, 2, 8, 50), "yes", "online", 40, "Lê Thị Hoa", phone])
    buf = io.BytesIO()
    wb.save(buf)
    summary = service.import_responses(None, campaign(world), "phieu.xlsx", buf.getvalue())
    assert summary["imported"] == 5
    phones = dict(_db.session.execute(
        sa.select(Interview.assignment_id, InterviewRespondent.data)
        .join(InterviewVersion, InterviewVersion.interview_id == Interview.id)
        .join(InterviewRespondent, InterviewRespondent.version_id == InterviewVersion.id)).all())
    phones = {a: data["phone"] for a, data in phones.items()}
    assert [phones[a] for a in world.assignments[:5]] == [
        "0909123456", "0909123457", "02838291234", "0909123458", "84909123459"]
    keys = set(_db.session.scalars(sa.select(RespondentKey.key_hash)))
    assert respondent_keys.key_of({"phone": "0909 123 456"}) in keys
    assert respondent_keys.key_of({"phone": "+84 909 123 459"}) in keys


def test_odk_style_headers_bom_unit_ids_and_a_mapping(world):
    units = [f"A-{i:04d}" for i in (1, 2)]
    text = ("\ufeffmeta/instanceID,case,start,end,grp_s1/visited,grp_s1/channel,tuoi,"
            "_submission_time,bo_qua\n"
            f"uuid:3f2504e0-4f89-41d3-9a0c-0305e82c3301,{units[0]},2024-09-02T08:00:00Z,"
            "2024-09-02T08:10:00Z,yes,desk,40,2024-09-03,x\n"
            f",{units[1]},2024-09-02T08:00:00Z,2024-09-02T08:10:00Z,no,,DK,2024-09-03,y\n")
    mapping = {"tuoi": "age", "bo_qua": ""}
    summary = service.import_responses(None, campaign(world), "kobo.csv",
                                       text.encode("utf-8"), mapping)
    assert summary["imported"] == 2
    stored = _db.session.scalar(sa.select(Interview).where(
        Interview.uuid == "3f2504e0-4f89-41d3-9a0c-0305e82c3301"))
    assert stored.assignment_id == world.assignments[0]
    assert stored.versions[0].answers == {"visited": "yes", "channel": "desk", "age": 40}


def test_select_multiple_as_space_separated_codes():
    from surveyapp.importers.responses import convert_cell

    assert convert_cell("desk online", "select_multiple") == ["desk", "online"]
    assert convert_cell("desk;online", "select_multiple") == ["desk", "online"]
    assert convert_cell("n/a", "select_multiple") == "na"
    assert convert_cell("3,5", "decimal") == 3.5
    assert convert_cell("12", "integer") == 12
    assert convert_cell("02/09/2024", "date") == "2024-09-02"
    assert convert_cell("abc", "integer") == "abc"  # left for the questionnaire's checks


# ---- bad files: a precise report, nothing stored --------------------------------------------

def test_wrong_types_unknown_choices_relevance_and_constraints_are_reported(world):
    rows = [
        f",{world.assignments[0]},2024-09-02,2024-09-02,complete,yes,desk,bốn mươi,,",
        f",{world.assignments[1]},2024-09-02,2024-09-02,complete,maybe,,40,,",
        f",{world.assignments[2]},2024-09-02,2024-09-02,complete,no,desk,40,,",
        f",{world.assignments[3]},2024-09-02,2024-09-02,complete,yes,desk,12,,",
        f",{world.assignments[4]},2024-09-02,2024-09-02,finished,yes,desk,40,,",
        f",{world.assignments[5]},hôm qua,2024-09-02,complete,yes,desk,40,,",
    ]
    with pytest.raises(service.ImportFailed) as exc:
        service.import_responses(None, campaign(world), "x.csv", sampled_csv(world, rows))
    got = {(r, c): m for r, c, m in report_of(exc)}
    assert set(got) == {(2, "age"), (3, "visited"), (4, "channel"), (5, "age"),
                        (6, "disposition"), (7, "started_at")}
    assert "số nguyên" in got[(2, "age")]
    assert "maybe" in got[(3, "visited")]
    assert "18" in got[(5, "age")] and "100" in got[(5, "age")]
    assert exc.value.total == 6
    assert count(Interview) == 0 and count(InterviewVersion) == 0
    assert "Nothing was stored" in exc.value.message or "Không" in exc.value.message


def test_broken_encoding_is_refused_with_a_clear_message(world):
    data = sampled_csv(world).decode("utf-8").encode("cp1258", errors="replace")
    data = data.replace(b"Dung", b"D\xf9ng")
    from surveyapp.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        service.import_responses(None, campaign(world), "x.csv", data)
    assert "UTF-8" in exc.value.message
    assert count(Interview) == 0


def test_missing_and_unknown_columns(world):
    data = (f"assignment_id,started_at,visited,age,tinh_trang\n"
            f"{world.assignments[0]},2024-09-02,yes,40,x\n").encode()
    with pytest.raises(service.ImportFailed) as exc:
        service.import_responses(None, campaign(world), "x.csv", data,
                                 {"cau_khong_co": "q99"})
    got = {(r, c) for r, c, _ in report_of(exc)}
    assert got == {(None, "finished_at"), (None, "tinh_trang"), (None, "cau_khong_co")}
    no_assignment = b"started_at,finished_at,visited,age\n2024-09-02,2024-09-02,no,40\n"
    with pytest.raises(service.ImportFailed) as exc:
        service.import_responses(None, campaign(world), "x.csv", no_assignment)
    assert [(r, c) for r, c, _ in report_of(exc)] == [(None, "assignment_id")]
    with pytest.raises(service.ImportFailed) as exc:
        service.import_responses(None, campaign(world), "x.csv", b"tuoi,x\n1,2\n",
                                 {"tuoi": "not_a_question"})
    assert (None, "tuoi") in {(r, c) for r, c, _ in report_of(exc)}
    assert count(Interview) == 0


def test_unknown_assignment_case_twice_and_a_case_already_interviewed(world):
    rows = [f",999999,2024-09-02,2024-09-02,complete,no,,40,,",
            f",{world.assignments[0]},2024-09-02,2024-09-02,complete,no,,40,,",
            f",{world.assignments[0]},2024-09-02,2024-09-02,complete,no,,41,,"]
    with pytest.raises(service.ImportFailed) as exc:
        service.import_responses(None, campaign(world), "x.csv", sampled_csv(world, rows))
    assert {(r, c) for r, c, _ in report_of(exc)} == {(2, "assignment_id"),
                                                      (4, "assignment_id")}
    service.import_responses(None, campaign(world), "ok.csv", sampled_csv(world, rows[1:2]))
    with pytest.raises(service.ImportFailed) as exc:
        service.import_responses(None, campaign(world), "y.csv", sampled_csv(world, rows[2:]))
    assert [(r, c) for r, c, _ in report_of(exc)] == [(2, "assignment_id")]
    assert count(Interview) == 1


def test_not_a_file_we_read(world):
    from surveyapp.errors import ValidationFailed

    for name, data in (("x.txt", b"a,b\n"), ("x.xlsx", b"not a zip"), ("x.csv", b""),
                       ("x.csv", b"started_at,finished_at\n")):
        with pytest.raises(ValidationFailed):
            service.import_responses(None, campaign(world), name, data)
    with pytest.raises(ValidationFailed):
        service.parse_mapping('{"a": 1}')
    with pytest.raises(ValidationFailed):
        service.parse_mapping("{not json")


def test_one_bad_row_in_many_stores_nothing(world):
    data = walk_in_csv(5000, bad={3717: "abc"})
    with pytest.raises(service.ImportFailed) as exc:
        service.import_responses(None, campaign(world, walk_in=True), "big.csv", data)
    assert report_of(exc) == [(3719, "s2/age", report_of(exc)[0][2])]
    assert count(Interview) == 0 and count(InterviewVersion) == 0
    summary = service.import_responses(None, campaign(world, walk_in=True), "big.csv",
                                       walk_in_csv(5000))
    assert summary["imported"] == 5000
    assert count(Interview, Interview.campaign_id == world.walk_in_campaign) == 5000
    again = service.import_responses(None, campaign(world, walk_in=True), "big.csv",
                                     walk_in_csv(5000))
    assert again == {**summary, "imported": 0, "skipped": 5000}
    assert count(Interview) == 5000


def test_report_csv_lists_row_column_and_message():
    text = service.report_csv([{"row": 3, "column": "age", "message": "Cần một số nguyên"},
                               {"row": None, "column": "x", "message": "Cột lạ"}])
    assert text.startswith("\ufeff".encode())
    lines = text.decode("utf-8-sig").splitlines()
    assert lines[1] == "3,age,Cần một số nguyên" and lines[2] == ",x,Cột lạ"


# ---- command line ------------------------------------------------------------------------------

def test_cli_prints_a_summary_and_fails_with_the_report(app, runner, world, tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(sampled_csv(world))
    result = runner.invoke(args=["responses", "import", str(good), "--survey",
                                 str(world.campaign)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["ok"] is True and summary["imported"] == 3
    bad = tmp_path / "bad.csv"
    bad.write_bytes(walk_in_csv(3, bad={1: "200"}))
    mapping = tmp_path / "m.json"
    mapping.write_text('{"s2/age": "age"}')
    result = runner.invoke(args=["responses", "import", str(bad), "--survey",
                                 str(world.walk_in_campaign), "--mapping", str(mapping)])
    assert result.exit_code == 1
    body = json.loads(result.output)
    assert body["ok"] is False and [(p["row"], p["column"]) for p in body["report"]] == \
        [(3, "s2/age")]
    for args in (["responses", "import", str(tmp_path / "none.csv"), "--survey", "1"],
                 ["responses", "import", str(good), "--survey", "999999"]):
        result = runner.invoke(args=args)
        assert result.exit_code != 0 and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1
    mapping.write_text("[1, 2]")
    result = runner.invoke(args=["responses", "import", str(good), "--survey",
                                 str(world.campaign), "--mapping", str(mapping)])
    assert result.exit_code != 0 and "Traceback" not in result.output


# ---- the page and the job ------------------------------------------------------------------------

def _token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_page_preview_import_job_and_report(app, client, auth, csrf, world):
    token = _token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"login": world.supervisor, "password": "password-123",
                                "csrf_token": token})
    url = f"/field/campaigns/{world.campaign}/import"
    page = client.get(url)
    assert page.status_code == 200
    token = _token(page.get_data(as_text=True))
    # without the CSRF token: refused, nothing queued
    refused = client.post(url, data={"file": (io.BytesIO(sampled_csv(world)), "a.csv"),
                                     "submit": "1"}, content_type="multipart/form-data")
    assert refused.status_code == 400 and count(Job) == 0
    token = _token(client.get(url).get_data(as_text=True))
    preview = client.post(url, data={"csrf_token": token, "preview": "1",
                                     "file": (io.BytesIO(sampled_csv(world)), "a.csv")},
                          content_type="multipart/form-data")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "respondent_name" in html and "visited" in html
    assert count(Interview) == 0
    started = client.post(url, data={"csrf_token": token, "submit": "1",
                                     "file": (io.BytesIO(sampled_csv(world)), "a.csv")},
                          content_type="multipart/form-data")
    assert started.status_code == 302
    job = _db.session.scalar(sa.select(Job).order_by(Job.id.desc()))
    assert started.headers["Location"].endswith(f"/field/imports/{job.id}")
    _db.session.refresh(job)
    assert job.status == "done" and job.result["ok"] and job.result["imported"] == 3
    assert count(Interview) == 3
    status = client.get(f"/api/v1/jobs/{job.id}").get_json()
    assert status["progress"] == 100 and status["finished"]
    # a bad file: the job ends with the report, downloadable as CSV
    bad = sampled_csv(world, [f",{world.assignments[4]},2024-09-02,2024-09-02,complete,"
                              "yes,desk,7,,"])
    client.post(url, data={"csrf_token": token, "submit": "1",
                           "file": (io.BytesIO(bad), "b.csv")},
                content_type="multipart/form-data")
    job = _db.session.scalar(sa.select(Job).order_by(Job.id.desc()))
    _db.session.refresh(job)
    assert job.result["ok"] is False and job.result["report"][0]["column"] == "age"
    shown = client.get(f"/field/imports/{job.id}").get_data(as_text=True)
    assert "age" in shown and "Phải trong khoảng" in shown
    report = client.get(f"/field/imports/{job.id}/report.csv")
    assert report.status_code == 200 and report.mimetype == "text/csv"
    assert "2,age," in report.get_data().decode("utf-8-sig")
    assert count(Interview) == 3


def test_page_bad_upload_gives_a_form_error(app, client, auth, world):
    auth.login(world.supervisor)
    url = f"/field/campaigns/{world.campaign}/import"
    page = client.post(url, data={"submit": "1",
                                  "file": (io.BytesIO(b"\xff\xfe\x00a"), "a.csv")},
                       content_type="multipart/form-data")
    assert page.status_code == 200 and "UTF-8" in page.get_data(as_text=True)
    page = client.post(url, data={"submit": "1", "mapping": "{oops",
                                  "file": (io.BytesIO(sampled_csv(world)), "a.csv")},
                       content_type="multipart/form-data")
    assert page.status_code == 200 and "JSON" in page.get_data(as_text=True)
    assert count(Job) == 0


def test_interviewers_cannot_open_the_import_page(app, client, auth, world):
    auth.login(world.interviewer)
    assert client.get(f"/field/campaigns/{world.campaign}/import").status_code == 403


def test_job_reports_progress_while_checking(world, monkeypatch):
    seen = []
    service.import_responses(None, campaign(world, walk_in=True), "big.csv",
                             walk_in_csv(12000),
                             progress=lambda pct, msg: seen.append(pct))
    assert seen == sorted(seen) and len(seen) >= 3 and seen[-1] < 100


def test_types_of_an_odk_export_multiple_choice_decimals_dates_na_and_constraints(world):
    from builders import make_campaign
    from field_builders import frozen_version

    from surveyapp.models import Organisation
    from surveyapp.models.codes import CampaignStatus
    from surveyapp.questionnaires import Choice, ChoiceList, Group, Question
    from surveyapp.questionnaires import Questionnaire as Definition

    document = Definition(
        name="types", title={"vi": "Kiểu", "en": "Types"},
        children=[Group("grp", {"vi": "Nhóm", "en": "Group"}, children=[
            Question("channels", "select_multiple", {"vi": "Kênh", "en": "Channels"},
                     list_name="channel"),
            Question("fee", "decimal", {"vi": "Phí", "en": "Fee"}, minimum=0, allow_na=True),
            Question("visit_date", "date", {"vi": "Ngày", "en": "Date"}),
            Question("wait", "integer", {"vi": "Chờ", "en": "Wait"},
                     constraint=". <= 120", allow_dk=True),
        ])],
        choice_lists=[ChoiceList("channel", [Choice("desk", {"vi": "Quầy", "en": "Desk"}),
                                             Choice("online", {"vi": "Mạng", "en": "Online"}),
                                             Choice("post", {"vi": "Bưu điện", "en": "Post"})])],
    ).to_dict()
    org = _db.session.get(Organisation, world.org)
    walk_in = make_campaign(org, title="Kiểu dữ liệu", status=CampaignStatus.FIELDING)
    frozen_version(walk_in, document)
    header = "start,end,grp/channels,grp/fee,grp/visit_date,grp/wait\n"
    good = (header + "2024-09-02,2024-09-02,desk online,\"12,5\",02/09/2024,15\n"
            "2024-09-02,2024-09-02,post,n/a,2024-09-01,dk\n").encode()
    service.import_responses(None, walk_in, "odk.csv", good)
    stored = sorted((v.answers for v in _db.session.scalars(
        sa.select(InterviewVersion).join(Interview).where(
            Interview.campaign_id == walk_in.id))), key=lambda a: a["channels"])
    assert stored == [{"channels": ["desk", "online"], "fee": 12.5,
                       "visit_date": "2024-09-02", "wait": 15},
                      {"channels": ["post"], "fee": "na", "visit_date": "2024-09-01",
                       "wait": "dk"}]
    bad = (header + "2024-09-02,2024-09-02,desk fax,-1,31/02/2024,200\n"
           "2024-09-02,2024-09-02,desk desk,abc,2024-09-01,1.5\n").encode()
    with pytest.raises(service.ImportFailed) as exc:
        service.import_responses(None, walk_in, "bad.csv", bad)
    got = {(r, c) for r, c, _ in report_of(exc)}
    assert got == {(2, "grp/channels"), (2, "grp/fee"), (2, "grp/visit_date"), (2, "grp/wait"),
                   (3, "grp/channels"), (3, "grp/fee"), (3, "grp/wait")}
    assert count(Interview, Interview.campaign_id == walk_in.id) == 2
