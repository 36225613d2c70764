"""Exports for statisticians (issue 8): the analysis extract as CSV, XLSX, SPSS and Stata.

Every export reads back with the same values and labels, carries the design variables,
holds only approved interviews and never any identifying data.
"""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pyreadstat
import pytest
import sqlalchemy as sa
from builders import make_user
from field_builders import frozen_version, make_field_world, payload

from surveyapp.auth.policy import principal_for_user
from surveyapp.errors import ValidationFailed
from surveyapp.extensions import db as _db
from surveyapp.models import Campaign, Interview, Job, SamplingCase, User
from surveyapp.models.codes import Role
from surveyapp.questionnaires import Choice, ChoiceList, Group, Question
from surveyapp.questionnaires import Questionnaire as Definition
from surveyapp.reporting import datasets
from surveyapp.services import assignments as assignment_service
from surveyapp.services import exports as service
from surveyapp.services import interviews as interview_service

RESPONDENT_NAME = "Võ Thị Ngọc Hạnh Độc Nhất"
RESPONDENT_PHONE = "0987654321"
FRAME_NAME = "Hồ sơ"  # the builders' frame label column "name" starts with this
FRAME_ADDRESS = "Lê Lợi"
LONG_LABEL = "Ông/bà đánh giá thế nào về thái độ phục vụ của cán bộ tiếp nhận hồ sơ " * 3


def export_document() -> dict:
    """Every kind of column: single choice with text and with numeric codes, Likert, multiple
    choice, numbers with na/dk, a date, text, a calculated field and a note."""
    return Definition(
        name="export_test", title={"vi": "Phiếu xuất dữ liệu", "en": "Export test"},
        children=[
            Group("s1", {"vi": "Phần 1"}, children=[
                Question("visited", "select_one", {"vi": "Ông/bà đã đến bộ phận một cửa chưa?"},
                         list_name="yesno", required=True),
                Question("satisfaction", "likert", {"vi": LONG_LABEL}, list_name="likert5",
                         allow_dk=True),
                Question("channels", "select_multiple", {"vi": "Các kênh đã dùng"},
                         list_name="channel", allow_na=True),
                Question("intro", "note", {"vi": "Cảm ơn ông/bà"}),
                Question("age", "integer", {"vi": "Tuổi"}, minimum=18, maximum=100,
                         allow_dk=True, allow_na=True),
                Question("wait", "decimal", {"vi": "Thời gian chờ (giờ)"}),
                Question("visit_date", "date", {"vi": "Ngày đến"}),
                Question("comment", "text", {"vi": "Ý kiến khác"}),
                Question("age_next", "calculate", {"vi": "Tuổi năm sau"},
                         calculation="${age} + 1", relevant="${age} != 'dk' and ${age} != 'na'"),
            ]),
        ],
        choice_lists=[
            ChoiceList("yesno", [Choice("yes", {"vi": "Có"}), Choice("no", {"vi": "Không"})]),
            ChoiceList("likert5", [Choice(str(i), {"vi": f"Mức {i}"}) for i in range(1, 6)]),
            ChoiceList("channel", [Choice("desk", {"vi": "Tại quầy"}),
                                   Choice("online", {"vi": "Trực tuyến"}),
                                   Choice("post", {"vi": "Bưu điện"})]),
        ],
    ).to_dict()


ANSWERS = [
    {"visited": "yes", "satisfaction": "4", "channels": ["desk", "online"], "age": 42,
     "wait": 1.5, "visit_date": "2024-08-30", "comment": "Nhanh gọn"},
    {"visited": "no", "satisfaction": "dk", "channels": "na", "age": "dk", "wait": 0.25},
    {"visited": "yes", "satisfaction": "5", "channels": ["post"], "age": "na",
     "comment": "Cán bộ nhiệt tình"},
]


def user(login: str) -> User:
    return _db.session.scalar(sa.select(User).where(User.login == login))


def submit(world, index: int, answers: dict, version_id: int, **changes) -> Interview:
    person = user(world.interviewer)
    data = payload(world, index, answers=answers, questionnaire_version_id=version_id,
                   **changes,
                   respondent={"name": RESPONDENT_NAME, "phone": RESPONDENT_PHONE,
                               "address": "12 Nguyễn Huệ"})
    outcome = interview_service.submit_interview(principal_for_user(person), person, data)
    assert outcome.status == 201, outcome.body
    return interview_service.get_by_uuid(data["uuid"])


@pytest.fixture(autouse=True)
def export_dir(app, tmp_path):
    """Job files go to a folder of the test's own, not the instance folder."""
    before = app.config.get("EXPORT_DIR")
    app.config["EXPORT_DIR"] = str(tmp_path / "exports")
    yield
    app.config["EXPORT_DIR"] = before


@pytest.fixture
def world(app, db):
    """Three approved interviews, one waiting for review (never exported)."""
    with app.app_context():
        world = make_field_world(n_cases=4, prefix="x")
        campaign = _db.session.get(Campaign, world.campaign)
        version = frozen_version(campaign, export_document())
        supervisor = user(world.supervisor)
        world.approved = []
        for i, answers in enumerate(ANSWERS):
            # the last one early in the morning in Vietnam: still 2 September there
            early = {"started_at": "2024-09-02T06:00:00+07:00",
                     "finished_at": "2024-09-02T06:20:00+07:00"} if i == 2 else {}
            interview = submit(world, i, answers, version.id, **early)
            interview_service.review_interview(supervisor, interview, "approve", "")
            world.approved.append(interview.id)
        world.waiting = submit(world, 3, {"visited": "no"}, version.id).id
        yield world


def campaign_of(world) -> Campaign:
    return _db.session.get(Campaign, world.campaign)


def export_file(world, fmt: str, tmp_path, free_text: bool = True) -> str:
    """The campaign's export in ``fmt`` (with its free-text answers, unless told otherwise:
    these tests check every kind of variable, strings included)."""
    path = tmp_path / f"extract.{datasets.EXTENSIONS[fmt]}"
    service.write_export(campaign_of(world), fmt, path, free_text=free_text)
    return str(path)


def expected_columns(world) -> dict:
    """What the extract must hold, column by column (SPSS coding of na/dk)."""
    campaign = campaign_of(world)
    weights = assignment_service.campaign_weights(campaign)
    interviews = [_db.session.get(Interview, i) for i in world.approved]
    cases = [_db.session.get(SamplingCase, iv.assignment.case_id) for iv in interviews]
    return {
        "resp_id": [float(i) for i in world.approved],
        "disposition": [1.0, 1.0, 1.0],
        "stratum": [c.stratum for c in cases],
        "pik": [c.pik for c in cases],
        "weight": [weights[c.id] for c in cases],
        "visited": [1.0, 2.0, 1.0],
        "satisfaction": [4.0, -98.0, 5.0],
        "channels_desk": [1.0, -99.0, 0.0],
        "channels_online": [1.0, -99.0, 0.0],
        "channels_post": [0.0, -99.0, 1.0],
        "age": [42.0, -98.0, -99.0],
        "wait": [1.5, 0.25, None],
        "age_next": [43.0, None, None],
        "comment": ["Nhanh gọn", "", "Cán bộ nhiệt tình"],
    }


def same(a, b) -> bool:
    if b is None or b == "":
        return a is None or a == "" or a != a  # NaN
    return a == b


# ---- the extract ------------------------------------------------------------------------------

def test_extract_has_one_row_per_approved_interview_and_the_questions_in_order(world):
    dataset = service.build_extract(campaign_of(world))
    names = [v.name for v in dataset.variables]
    assert names == ["resp_id", "disposition", "int_date", "stratum", "psu", "pik", "weight",
                     "visited", "satisfaction", "channels_desk", "channels_online",
                     "channels_post", "age", "wait", "visit_date", "comment", "age_next"]
    assert dataset.columns["resp_id"] == world.approved  # the waiting one is not there
    assert world.waiting not in dataset.columns["resp_id"]
    approved = interview_service.approved_interviews(campaign_of(world))
    assert [v.interview_id for v in approved] == dataset.columns["resp_id"]
    assert dataset.columns["visit_date"] == [date(2024, 8, 30), None, None]
    assert dataset.columns["int_date"] == [date(2024, 9, 2)] * 3  # Vietnam's calendar day


def test_chosen_questions_give_the_same_columns_as_the_whole_extract(world):
    """Each question's JSON is read in SQL (``answers -> 'q'``), for the whole extract and
    for ``questions=``: every kind of column must come out identical, types included, under
    any server settings (the whole extract's values are checked against the interviews'
    answers in test_extract_has_one_row_per_approved_interview_and_the_questions_in_order)."""
    whole = service.build_extract(campaign_of(world))
    names = ["visited", "satisfaction", "channels", "age", "wait", "visit_date", "comment",
             "age_next"]
    if _db.session.get_bind().dialect.name == "postgresql":
        # PostgreSQL's COPY path parses text: a server's other date style or float digits
        # must not change what it reads (reverted with the test's transaction)
        _db.session.execute(sa.text("SET datestyle = 'SQL, DMY'"))
        _db.session.execute(sa.text("SET extra_float_digits = -3"))
    chosen = service.build_extract(campaign_of(world), questions=set(names))
    assert [v.name for v in chosen.variables] == [v.name for v in whole.variables]
    for name, column in chosen.columns.items():
        assert column == whole.columns[name], name
        assert [type(v) for v in column] == [type(v) for v in whole.columns[name]], name
    assert chosen.columns["age_next"] == [43, None, None]
    assert chosen.columns["channels_desk"] == [1, "na", 0]
    assert chosen.columns["wait"] == [1.5, 0.25, None]
    only = service.build_extract(campaign_of(world), questions={"satisfaction"})
    assert [v.name for v in only.variables][7:] == ["satisfaction"]
    assert only.columns["satisfaction"] == [4, "dk", 5]


def test_design_variables_come_from_the_locked_plan_and_the_weights_after_reserves(world):
    dataset = service.build_extract(campaign_of(world))
    expected = expected_columns(world)
    for name in ("stratum", "pik", "weight"):
        assert dataset.columns[name] == expected[name], name
    assert dataset.columns["stratum"] == ["A", "A", "A"]
    assert dataset.columns["pik"] == [0.1] * 3
    assert dataset.columns["weight"] == [10.0] * 3


def test_value_labels_come_from_the_choice_lists_in_vietnamese(world):
    variables = {v.name: v for v in service.build_extract(campaign_of(world)).variables}
    assert variables["visited"].value_labels == {1: "Có", 2: "Không"}  # text codes numbered
    assert variables["satisfaction"].value_labels == {i: f"Mức {i}" for i in range(1, 6)}
    assert variables["channels_online"].label == "Các kênh đã dùng: Trực tuyến"
    assert variables["channels_online"].value_labels == {0: "Không chọn", 1: "Có chọn"}
    assert variables["age"].special == ("na", "dk")
    assert variables["disposition"].value_labels[1] == "Phỏng vấn đầy đủ"
    assert "intro" not in variables  # notes are not data


# ---- every format reads back -------------------------------------------------------------------

def test_sav_reads_back_with_the_same_values_labels_and_missing_values(world, tmp_path):
    frame, meta = pyreadstat.read_sav(export_file(world, "sav", tmp_path), user_missing=True)
    dataset = service.build_extract(campaign_of(world))
    for name, values in expected_columns(world).items():
        assert all(same(a, b) for a, b in zip(frame[name].tolist(), values)), name
    labels = dict(zip(meta.column_names, meta.column_labels))
    for v in dataset.variables:
        assert labels[v.name] == datasets.spss_label(v.label)
    assert labels["visited"] == "Ông/bà đã đến bộ phận một cửa chưa?"
    assert meta.variable_value_labels["visited"] == {1.0: "Có", 2.0: "Không"}
    assert meta.variable_value_labels["satisfaction"] == {
        **{float(i): f"Mức {i}" for i in range(1, 6)}, -98.0: "Không biết"}
    assert meta.variable_value_labels["age"] == {-99.0: "Không áp dụng", -98.0: "Không biết"}
    assert meta.missing_ranges["age"] == [{"lo": -99.0, "hi": -99.0},
                                          {"lo": -98.0, "hi": -98.0}]
    assert frame["visit_date"].tolist()[0] == date(2024, 8, 30)


def test_dta_reads_back_with_the_same_values_labels_and_extended_missing(world, tmp_path):
    path = export_file(world, "dta", tmp_path)
    with open(path, "rb") as f:
        assert b"<release>118</release>" in f.read(100)  # Unicode Stata format
    frame, meta = pyreadstat.read_dta(path, user_missing=True)
    stata = {"-99.0": "a", "-98.0": "b"}
    for name, values in expected_columns(world).items():
        values = [stata.get(str(v), v) for v in values]
        got = frame[name].tolist()
        assert all(same(a, b) for a, b in zip(got, values)), (name, got, values)
    labels = dict(zip(meta.column_names, meta.column_labels))
    dataset = service.build_extract(campaign_of(world))
    for v in dataset.variables:
        assert labels[v.name] == (datasets.stata_label(v.label) or None)
    assert len(labels["satisfaction"]) == 80  # clipped to Stata's limit, the codebook is whole
    assert meta.variable_value_labels["satisfaction"] == {
        **{i: f"Mức {i}" for i in range(1, 6)}, "b": "Không biết"}
    assert meta.variable_value_labels["visited"] == {1: "Có", 2: "Không"}
    assert meta.missing_user_values["age"] == ["a", "b"]


def test_xlsx_has_a_data_sheet_and_a_codebook(world, tmp_path):
    book = openpyxl.load_workbook(export_file(world, "xlsx", tmp_path))
    assert book.sheetnames == ["data", "codebook"]
    rows = [list(r) for r in book["data"].values]
    header, body = rows[0], rows[1:]
    assert len(body) == 3
    for name, values in expected_columns(world).items():
        got = [row[header.index(name)] for row in body]
        assert all(same(a, b) for a, b in zip(got, values)), (name, got)
    codebook = [list(r) for r in book["codebook"].values]
    assert codebook[0] == datasets.CODEBOOK_HEADERS
    assert ["satisfaction", LONG_LABEL.strip(), "numeric", "satisfaction", None, None] \
        in codebook
    assert ["visited", None, None, None, 2, "Không"] in codebook
    assert any(r[0] == "age" and r[4] == -99 for r in codebook)


def test_csv_is_a_zip_of_utf8_data_and_codebook_with_bom(world, tmp_path):
    with zipfile.ZipFile(export_file(world, "csv", tmp_path)) as archive:
        assert sorted(archive.namelist()) == ["codebook.csv", "data.csv"]
        data = archive.read("data.csv")
        codebook = archive.read("codebook.csv").decode("utf-8-sig")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert len(rows) == 3
    assert rows[0]["comment"] == "Nhanh gọn"
    assert [r["age"] for r in rows] == ["42", "-98", "-99"]
    assert [r["channels_post"] for r in rows] == ["0", "-99", "1"]
    assert rows[0]["visit_date"] == "2024-08-30"
    assert "Tại quầy" in codebook


@pytest.mark.parametrize("fmt", datasets.FORMATS)
def test_no_export_contains_identifying_data(world, tmp_path, fmt):
    """Respondent name/phone/address and the frame's label columns are never exported."""
    path = export_file(world, fmt, tmp_path)
    if fmt == "csv":
        with zipfile.ZipFile(path) as archive:
            text = "".join(archive.read(n).decode("utf-8-sig") for n in archive.namelist())
    elif fmt == "xlsx":
        book = openpyxl.load_workbook(path)
        text = repr([list(r) for s in book.worksheets for r in s.values])
    else:
        reader = pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta
        frame, meta = reader(path)
        text = frame.to_csv() + repr(meta.column_names) + repr(meta.column_labels) \
            + repr(meta.variable_value_labels)
    raw = Path(path).read_bytes()
    for secret in (RESPONDENT_NAME, RESPONDENT_PHONE, "Nguyễn Huệ", FRAME_NAME, FRAME_ADDRESS):
        assert secret not in text, (fmt, secret)
        assert secret.encode("utf-8") not in raw, (fmt, secret)
    for column in ("name", "phone", "address"):
        assert column not in text.split(",")


# ---- requests --------------------------------------------------------------------------------

def test_unknown_format_and_a_campaign_without_approved_interviews_are_refused(world, app):
    with pytest.raises(ValidationFailed, match="Unknown export format|Định dạng"):
        service.request_export(None, campaign_of(world), "pdf")
    empty = _db.session.get(Campaign, world.walk_in_campaign)
    with pytest.raises(ValidationFailed, match="no approved|chưa có"):
        service.request_export(None, empty, "sav")


def login_analyst(world, auth):
    campaign = campaign_of(world)
    analyst = make_user("x.analyst", campaign.organisation, Role.ANALYST)
    _db.session.commit()
    assert auth.login(analyst.login).status_code == 302
    return analyst


def test_page_downloads_a_small_export_at_once(world, client, auth):
    login_analyst(world, auth)
    page = client.get(f"/campaigns/{world.campaign}/exports/")
    assert page.status_code == 200
    assert "Xuất dữ liệu" in page.get_data(as_text=True)
    response = client.post(f"/campaigns/{world.campaign}/exports/", data={"format": "sav"})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('-extract.sav"')
    assert response.data[:4] == b"$FL2"


def _csv_rows(data: bytes) -> list[dict]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return list(csv.DictReader(io.StringIO(archive.read("data.csv").decode("utf-8-sig"))))


def test_free_text_answers_are_left_out_unless_the_exporter_includes_them(world, tmp_path):
    """Respondents may write names or phone numbers into free text: an export leaves the
    text questions out by default, every other variable stays."""
    with zipfile.ZipFile(export_file(world, "csv", tmp_path, free_text=False)) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("data.csv").decode("utf-8-sig"))))
        codebook = archive.read("codebook.csv").decode("utf-8-sig")
    assert "comment" not in rows[0] and "Ý kiến khác" not in codebook
    assert [r["age"] for r in rows] == ["42", "-98", "-99"]
    assert {"satisfaction", "channels_post", "visit_date", "age_next", "weight"} <= set(rows[0])
    with zipfile.ZipFile(export_file(world, "csv", tmp_path, free_text=True)) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("data.csv").decode("utf-8-sig"))))
    assert rows[0]["comment"] == "Nhanh gọn"


def test_every_export_is_in_the_audit_log_with_its_free_text_choice(world, client, auth):
    from surveyapp.models import AuditEvent

    analyst = login_analyst(world, auth)
    page = client.get(f"/campaigns/{world.campaign}/exports/").get_data(as_text=True)
    assert "Đưa vào các câu trả lời tự do" in page
    without = client.post(f"/campaigns/{world.campaign}/exports/", data={"format": "csv"})
    assert without.status_code == 200 and "comment" not in _csv_rows(without.data)[0]
    with_text = client.post(f"/campaigns/{world.campaign}/exports/",
                            data={"format": "csv", "free_text": "y"})
    assert _csv_rows(with_text.data)[0]["comment"] == "Nhanh gọn"
    events = _db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.action == "export").order_by(AuditEvent.id)).all()
    assert [(e.actor_id, e.object_type, e.object_id, e.after) for e in events] == [
        (analyst.id, "campaign", str(world.campaign),
         {"format": "csv", "rows": 3, "free_text": False}),
        (analyst.id, "campaign", str(world.campaign),
         {"format": "csv", "rows": 3, "free_text": True})]


def test_page_refuses_bad_requests_with_a_clear_message(world, client, auth):
    login_analyst(world, auth)
    response = client.post(f"/campaigns/{world.campaign}/exports/", data={"format": "exe"},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "Định dạng xuất không hợp lệ" in response.get_data(as_text=True)
    response = client.post(f"/campaigns/{world.walk_in_campaign}/exports/",
                           data={"format": "dta"}, follow_redirects=True)
    assert "chưa có phiếu nào được duyệt" in response.get_data(as_text=True)
    response = client.get(f"/campaigns/{world.campaign}/exports/download?job=999999",
                          follow_redirects=True)
    assert response.status_code == 200
    assert "Không có bản xuất này" in response.get_data(as_text=True)


def test_page_refuses_the_csrf_less_post(world, app, client, auth):
    login_analyst(world, auth)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post(f"/campaigns/{world.campaign}/exports/", data={"format": "sav"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code in (302, 400)
    assert not response.data.startswith(b"$FL2")


def test_a_large_export_runs_as_a_job_and_is_offered_for_download(world, app, client, auth):
    analyst = login_analyst(world, auth)
    before = app.config["EXPORT_INLINE_MAX_ROWS"]
    app.config["EXPORT_INLINE_MAX_ROWS"] = 1
    try:
        response = client.post(f"/campaigns/{world.campaign}/exports/", data={"format": "dta"})
        client.post(f"/campaigns/{world.campaign}/exports/",
                    data={"format": "csv", "free_text": "y"})
    finally:
        app.config["EXPORT_INLINE_MAX_ROWS"] = before
    assert response.status_code == 302
    job, text_job = _db.session.scalars(sa.select(Job).where(
        Job.kind == service.JOB_KIND, Job.owner_id == analyst.id).order_by(Job.id)).all()
    assert job.status == "done", job.error
    assert job.result["rows"] == 3
    page = client.get(f"/campaigns/{world.campaign}/exports/").get_data(as_text=True)
    assert f"export-download-{job.id}" in page
    assert page.count("có câu trả lời tự do") == 1  # the job that included free text
    download = client.get(f"/campaigns/{world.campaign}/exports/download?job={job.id}")
    assert download.status_code == 200
    assert b"<stata_dta>" in download.data[:20]
    assert b"comment" not in download.data
    download.close()
    text_download = client.get(
        f"/campaigns/{world.campaign}/exports/download?job={text_job.id}")
    assert _csv_rows(text_download.data)[0]["comment"] == "Nhanh gọn"
    text_download.close()
    # another campaign's page does not hand out this campaign's file
    other = client.get(f"/campaigns/{world.walk_in_campaign}/exports/download?job={job.id}")
    assert other.status_code == 302


def test_export_files_are_deleted_after_their_retention(world, app, client, auth, runner):
    """Job files hold row-level data: EXPORT_RETENTION_HOURS after they were written the
    next export job (or `flask exports purge`) deletes them; other files are left alone."""
    import os
    import time

    analyst = login_analyst(world, auth)
    before = app.config["EXPORT_INLINE_MAX_ROWS"]
    app.config["EXPORT_INLINE_MAX_ROWS"] = 1
    try:
        client.post(f"/campaigns/{world.campaign}/exports/", data={"format": "csv"})
    finally:
        app.config["EXPORT_INLINE_MAX_ROWS"] = before
    job = _db.session.scalar(sa.select(Job).where(Job.kind == service.JOB_KIND,
                                                  Job.owner_id == analyst.id))
    page = client.get(f"/campaigns/{world.campaign}/exports/").get_data(as_text=True)
    kept_until = service.available_until(job)
    assert f"lưu đến {kept_until.astimezone(ZoneInfo('Asia/Ho_Chi_Minh')):%d/%m/%Y %H:%M}" \
        in page
    folder = service.export_dir()
    job_file = folder / f"job-{job.id}.zip"
    stale = [folder / "job-999998.sav", folder / "inline-abc.dta", folder / "tmpx.part"]
    foreign = folder / "notes.txt"
    hours_ago = time.time() - 73 * 3600
    for path in [*stale, foreign]:
        path.write_bytes(b"x")
        os.utime(path, (hours_ago, hours_ago))
    assert job_file.exists()

    listed = runner.invoke(args=["exports", "purge", "--dry-run"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines() == ["inline-abc.dta", "job-999998.sav", "tmpx.part",
                                          "would delete 3 export file(s)"]
    assert all(p.exists() for p in stale)
    done = runner.invoke(args=["exports", "purge"])
    assert done.output.splitlines()[-1] == "deleted 3 export file(s)"
    assert not any(p.exists() for p in stale) and foreign.exists() and job_file.exists()
    # Once the job's own file is past its retention, the page says to export again.
    os.utime(job_file, (hours_ago, hours_ago))
    assert service.purge_exports() == [job_file.name]
    download = client.get(f"/campaigns/{world.campaign}/exports/download?job={job.id}",
                          follow_redirects=True)
    assert "xuất lại" in download.get_data(as_text=True).lower()


def test_the_export_retention_must_be_a_number_of_hours(database_url):
    from builders import app_config

    from surveyapp import create_app

    with pytest.raises(ValueError, match="EXPORT_RETENTION_HOURS must be"):
        create_app(app_config(database_url, EXPORT_RETENTION_HOURS="-1"))
    with pytest.raises(ValueError, match="EXPORT_RETENTION_HOURS must be"):
        create_app(app_config(database_url, EXPORT_RETENTION_HOURS="ba ngày"))
    assert create_app(app_config(database_url, EXPORT_RETENTION_HOURS="0.5")
                      ).config["EXPORT_RETENTION_HOURS"] == 0.5


def test_a_failed_export_job_leaves_no_file_and_a_readable_error(world, app):
    campaign = _db.session.get(Campaign, world.walk_in_campaign)
    job = service.submit_job(None, service.JOB_KIND, {"campaign_id": campaign.id,
                                                      "format": "xlsx"})
    _db.session.refresh(job)
    assert job.status == "failed"
    assert "chưa có phiếu nào được duyệt" in job.error or "no approved" in job.error
    assert not list(service.export_dir().glob(f"job-{job.id}.*"))
    assert not list(service.export_dir().glob("*.part"))


def test_variable_names_are_valid_for_spss_and_stata():
    names = datasets.variable_names(["Câu 1: Đánh giá", "1abc", "if", "q1", "Q1", "a" * 40,
                                     "a" * 40, "_x", ""])
    assert names == ["Cau_1_Danh_gia", "v_1abc", "if_", "q1", "Q1_2", "a" * 32,
                     "a" * 30 + "_2", "x", "v"]
    assert all(len(n) <= 32 and n[0].isalpha() for n in names)


def test_campaign_page_links_to_the_exports(world, client, auth):
    """Who may open the page at all is the route matrix's business (analysts, supervisors,
    organisation admins)."""
    login_analyst(world, auth)
    assert 'data-testid="exports-link"' in client.get(
        f"/campaigns/{world.campaign}").get_data(as_text=True)


@pytest.fixture
def app_context(app, db):
    with app.app_context():
        yield


def test_weights_follow_the_reserve_rule_after_a_reserve_was_opened(app_context):
    world = make_field_world(n_cases=4, prefix="r")
    campaign = campaign_of(world)
    version = frozen_version(campaign, export_document())
    supervisor = user(world.supervisor)
    done = submit(world, 0, ANSWERS[0], version.id)
    interview_service.review_interview(supervisor, done, "approve", "")
    person = user(world.interviewer)
    refusal = payload(world, 1, answers={}, questionnaire_version_id=version.id,
                      disposition="refusal")
    assert interview_service.submit_interview(principal_for_user(person), person,
                                              refusal).status == 201
    refused = interview_service.get_by_uuid(refusal["uuid"])
    interview_service.review_interview(supervisor, refused, "approve", "")
    assignment_service.open_reserve(supervisor, refused.assignment)
    dataset = service.build_extract(campaign)
    weights = assignment_service.campaign_weights(campaign)
    assert dataset.columns["weight"] == [weights[done.assignment.case_id],
                                         weights[refused.assignment.case_id]]
    assert dataset.columns["weight"] == [pytest.approx(8.0), pytest.approx(8.0)]  # 10 * 4/5
    assert dataset.columns["disposition"] == [1, 3]  # complete, refusal
