"""Registry import/export: all-or-nothing, precise Vietnamese messages, UTF-8 both ways."""

import io

import builders
import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from surveyapp.models import AdminUnit, AdminUnitSuccession, Agency, Job, Procedure
from surveyapp.models.codes import Role
from surveyapp.services import demo

UNITS_CSV = (
    "code,name,level,parent_code,valid_from,valid_to\n"
    "79,Thành phố Hồ Chí Minh,province,,02/07/1976,30/06/2025\n"
    "760,Quận 1,district,79,2021-01-01,2025-06-30\n"
    "26740,Phường Bến Nghé,commune,760,01/01/2021,30/06/2025\n"
)


@pytest.fixture
def admin(app, db, client, auth):
    with app.app_context():
        org = builders.make_org()
        builders.make_user("quantri", org, Role.SYSTEM_ADMIN)
    auth.login("quantri")


def upload(client, kind, name, data):
    return client.post("/registry/import", data={"kind": kind, "file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data", follow_redirects=True)


def count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_csv_import_creates_units_with_hierarchy(app, db, client, admin):
    page = upload(client, "units", "don_vi.csv", UNITS_CSV.encode("utf-8"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Đã xong." in html
    with app.app_context():
        ward = db.session.scalar(select(AdminUnit).where(AdminUnit.code == "26740"))
        assert ward.name == "Phường Bến Nghé" and ward.parent.code == "760"
        assert ward.parent.parent.name == "Thành phố Hồ Chí Minh"
        job = db.session.scalar(select(Job))
        assert job.status == "done" and job.result["created"] == 3 and job.input_data is None


def test_xlsx_import_and_reimport_is_idempotent(app, db, client, admin):
    book = Workbook()
    sheet = book.active
    for line in UNITS_CSV.strip().split("\n"):
        sheet.append(line.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    upload(client, "units", "don_vi.xlsx", buffer.getvalue())
    upload(client, "units", "don_vi.xlsx", buffer.getvalue())
    with app.app_context():
        assert count(db, AdminUnit) == 3
        results = [j.result for j in db.session.scalars(select(Job).order_by(Job.id))]
        assert results[1]["unchanged"] == 3 and results[1]["created"] == 0


def test_bad_rows_import_nothing_and_name_line_and_column(app, db, client, admin):
    bad = UNITS_CSV + "761,Quận 12,quan,79,31/02/2021,\n" + ",Không mã,commune,760,2021-01-01,\n"
    html = upload(client, "units", "x.csv", bad.encode("utf-8")).get_data(as_text=True)
    assert "Tệp chưa được nhập" in html
    assert "Dòng 5, cột “level”" in html and "“quan” không thuộc các giá trị" in html
    assert "Dòng 5, cột “valid_from”" in html
    assert "Dòng 6, cột “code”: bắt buộc phải có giá trị." in html
    with app.app_context():
        assert count(db, AdminUnit) == 0
        assert db.session.scalar(select(Job)).status == "failed"


def test_unknown_parent_is_reported_and_nothing_is_stored(app, db, client, admin):
    data = "code,name,level,parent_code,valid_from,valid_to\n761,Quận 12,district,99,2021-01-01,\n"
    html = upload(client, "units", "x.csv", data.encode()).get_data(as_text=True)
    assert "không có đơn vị mã 99" in html
    with app.app_context():
        assert count(db, AdminUnit) == 0


def test_non_utf8_upload_gives_a_clear_message(app, db, client, admin):
    page = upload(client, "units", "cp1258.csv", UNITS_CSV.encode("cp1258", errors="replace"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Tệp không phải văn bản mã hóa UTF-8" in html
    with app.app_context():
        assert count(db, Job) == 0 and count(db, AdminUnit) == 0


@pytest.mark.parametrize("name,data,message", [
    ("x.csv", b"", "Tệp rỗng."),
    ("x.txt", b"code\n1\n", "Chỉ nhập được tệp .csv"),
    ("x.xlsx", b"not a zip file", "không phải là bảng tính .xlsx"),
    ("x.csv", b"code,name\n", "chỉ có dòng tiêu đề"),
    ("x.csv", b"code;name\nA;B\n", "Thiếu cột: level, valid_from"),
])
def test_unreadable_files(app, db, client, admin, name, data, message):
    html = upload(client, "units", name, data).get_data(as_text=True)
    assert message in html
    with app.app_context():
        assert count(db, AdminUnit) == 0


def test_missing_file(app, db, client, admin):
    html = client.post("/registry/import", data={"kind": "units"}).get_data(as_text=True)
    assert "Hãy chọn một tệp." in html


def test_script_tags_in_a_file_are_refused(app, db, client, admin):
    data = UNITS_CSV + "761,<script>alert(1)</script>,district,79,2021-01-01,\n"
    html = upload(client, "units", "x.csv", data.encode()).get_data(as_text=True)
    assert "không được dùng ký tự &lt; và &gt;" in html
    assert "<script>alert(1)" not in html
    with app.app_context():
        assert count(db, AdminUnit) == 0


def test_export_round_trips_the_demo_registry(app, db, client, admin):
    with app.app_context():
        demo.load_registry(demo.DemoResult())
        before = {k: count(db, m) for k, m in
                  [("units", AdminUnit), ("agencies", Agency), ("procedures", Procedure),
                   ("unit_successions", AdminUnitSuccession)]}
    for kind in ("units", "unit_successions", "agencies", "agency_successions", "procedures"):
        csv_bytes = client.get(f"/registry/export/{kind}.csv").data
        assert csv_bytes.startswith("\ufeff".encode())  # UTF-8 with BOM for spreadsheets
        xlsx = client.get(f"/registry/export/{kind}.xlsx").data
        rows = list(load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True))
        assert len(rows) > 1
        for name, data in (("r.csv", csv_bytes), ("r.xlsx", xlsx)):
            page = upload(client, kind, name, data).get_data(as_text=True)
            assert "Đã xong." in page, (kind, name)
    with app.app_context():
        after = {k: count(db, m) for k, m in
                 [("units", AdminUnit), ("agencies", Agency), ("procedures", Procedure),
                  ("unit_successions", AdminUnitSuccession)]}
        assert after == before
        assert all(j.result["created"] == 0 and j.result["updated"] == 0
                   for j in db.session.scalars(select(Job)))
    assert "Phường Sài Gòn" in client.get("/registry/export/units.csv").data.decode("utf-8-sig")


def test_units_valid_on_a_date(app, db, client, admin):
    with app.app_context():
        demo.load_registry(demo.DemoResult())
    before = client.get("/registry/?on=2024-06-01").get_data(as_text=True)
    after = client.get("/registry/?on=2025-08-01").get_data(as_text=True)
    assert "Quận 1" in before and "Phường Sài Gòn" not in before
    assert "Phường Sài Gòn" in after and "Quận 1<" not in after


def test_only_system_admins_import(app, db, client, auth):
    with app.app_context():
        org = builders.make_org()
        builders.make_user("phantich", org, Role.ANALYST)
    auth.login("phantich")
    assert client.get("/registry/import").status_code == 403
    assert client.get("/registry/").status_code == 200
