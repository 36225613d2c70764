"""Bad input to every form: a clear Vietnamese message, nothing stored, never a 500 page."""

from __future__ import annotations

import builders
import pytest
from sqlalchemy import func, select

from surveyapp.models import (
    AdminUnit,
    ApiToken,
    AuditEvent,
    Campaign,
    Job,
    Membership,
    Organisation,
    User,
)
from surveyapp.models.codes import Role

LONG = "Đ" * 10_001
SCRIPT = "<script>alert('x')</script>"
UNDECODABLE = "Kh\ufffdo s\ufffdt"  # what a browser's non-UTF-8 bytes become once decoded
ENGLISH_DEFAULTS = ("This field is required", "Not a valid", "Field must be", "Invalid Choice")
MODELS = (Organisation, User, Membership, Campaign, ApiToken, Job, AdminUnit)

# form -> (path template, valid data, {field: [bad values]}); {ids} are filled per test.
FORMS = {
    "login": ("/login", {"login": "quantri", "password": builders.PASSWORD},
              {"login": ["", LONG], "password": ["", LONG]}),
    "org_create": ("/orgs/new", {"name": "Hội Cựu chiến binh", "short_name": "CCB",
                                 "type_id": "3"},
                   {"name": ["", LONG, SCRIPT, UNDECODABLE], "short_name": [LONG, SCRIPT],
                    "type_id": ["", "abc", "9999"]}),
    "org_edit": ("/orgs/{org}/edit", {"name": "Tổ chức sửa tên", "short_name": "TC",
                                       "type_id": "1", "active": "y"},
                 {"name": ["", LONG, SCRIPT], "type_id": ["x"]}),
    "new_user": ("/orgs/{org}/users/new",
                 {"login": "nguoimoi", "full_name": "Người Mới", "email": "a@b.vn",
                  "password": "mat-khau-du-dai", "role": "analyst"},
                 {"login": ["", "ab", "có dấu", LONG, SCRIPT, "quantri"],
                  "full_name": ["", LONG, SCRIPT, UNDECODABLE],
                  "email": ["khong-phai-email", LONG], "password": ["", "ngan", LONG],
                  "role": ["", "superuser"]}),
    "add_member": ("/orgs/{org}/members/add", {"login": "quantri", "role": "supervisor"},
                   {"login": ["", LONG, SCRIPT, "khongtontai"], "role": ["", "king"]}),
    "campaign_create": ("/campaigns/new",
                        {"organisation_id": "{org}", "title": "Khảo sát năm 2025",
                         "year": "2025", "fieldwork_start": "2025-09-01",
                         "fieldwork_end": "2025-10-31", "description": "",
                         "agencies": "{agency}", "procedures": "{procedure}"},
                        {"title": ["", "ab", LONG, SCRIPT, UNDECODABLE],
                         "year": ["", "năm nay", "1800", "99999999999999999999"],
                         "fieldwork_start": ["31/02/2025", "abc"],
                         "fieldwork_end": ["2025-08-01", "x"],
                         "description": [LONG, SCRIPT],
                         "organisation_id": ["", "abc", "999999"],
                         "agencies": ["abc", "999999"], "procedures": ["x"]}),
    "campaign_edit": ("/campaigns/{campaign}/edit",
                      {"organisation_id": "{org}", "title": "Khảo sát sửa", "year": "2024",
                       "fieldwork_start": "", "fieldwork_end": "", "description": ""},
                      {"title": ["", LONG, SCRIPT], "year": ["x", "-5"],
                       "organisation_id": ["999999"]}),
    "token": ("/tokens/", {"name": "Máy tính bảng", "owner": "0", "scopes": "campaigns:read",
                           "valid_days": "30"},
              {"name": ["", LONG, SCRIPT], "scopes": ["", "root:all"],
               "valid_days": ["x", "0", "100000"], "owner": ["abc", "999999"]}),
    "password": ("/account/password", {"current_password": builders.PASSWORD,
                                       "new_password": "mat-khau-moi-123",
                                       "confirm": "mat-khau-moi-123"},
                 {"current_password": ["", LONG, "sai-mat-khau"],
                  "new_password": ["", "ngan", LONG, builders.PASSWORD],
                  "confirm": ["", "khac-nhau-123"]}),
    "import": ("/registry/import", {"kind": "units"}, {"kind": ["", "everything"]}),
}

CASES = [(form, field, value) for form, (_p, _d, bad) in FORMS.items()
         for field, values in bad.items() for value in values]


@pytest.fixture
def ids(app, db, client, auth):
    with app.app_context():
        org = builders.make_org()
        builders.make_user("quantri", org, Role.SYSTEM_ADMIN)
        builders.make_user("khac", org, Role.ANALYST)
        agency = builders.make_agency()
        procedure = builders.make_procedure(agencies=[agency])
        campaign = builders.make_campaign(org, agencies=[agency])
        found = {"org": org.id, "agency": agency.id, "procedure": procedure.id,
                 "campaign": campaign.id}
    return found


def counts(db) -> dict:
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in MODELS}


def fill(value: str, ids: dict) -> str:
    return value.format(**ids) if "{" in value else value


@pytest.mark.parametrize("form,field,value", CASES,
                         ids=[f"{f}-{fld}-{i}" for i, (f, fld, _v) in enumerate(CASES)])
def test_bad_value_is_refused_in_vietnamese(app, db, client, auth, ids, form, field, value):
    path, valid, _bad = FORMS[form]
    if form != "login":
        auth.login("quantri")
    data = {k: fill(v, ids) for k, v in valid.items()}
    data[field] = value
    with app.app_context():
        before = counts(db)
        audit_before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    response = client.post(path.format(**ids), data=data)
    html = response.get_data(as_text=True)
    assert response.status_code in (200, 401), response.status_code
    assert "Vui lòng sửa các trường được đánh dấu." in html or "Sai tên đăng nhập" in html
    assert not any(text in html for text in ENGLISH_DEFAULTS)
    assert SCRIPT not in html  # echoed back escaped, never live
    with app.app_context():
        assert counts(db) == before
        if form != "login":
            audit_after = db.session.scalar(select(func.count()).select_from(AuditEvent))
            assert audit_after == audit_before


@pytest.mark.parametrize("form", [f for f in FORMS if f not in ("login", "import")])
def test_valid_data_is_accepted(app, db, client, auth, ids, form):
    # The same valid data the bad cases start from does pass: the refusals above are real.
    path, valid, _bad = FORMS[form]
    auth.login("quantri")
    data = {k: fill(v, ids) for k, v in valid.items()}
    response = client.post(path.format(**ids), data=data)
    assert response.status_code in (200, 302)
    assert "Vui lòng sửa các trường được đánh dấu." not in response.get_data(as_text=True)


def test_transition_with_a_bad_target(app, db, client, auth, ids):
    auth.login("quantri")
    for target in ("", "published", SCRIPT):
        page = client.post(f"/campaigns/{ids['campaign']}/transition", data={"target": target},
                           follow_redirects=True)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert "Hãy chọn trạng thái." in html or "Trạng thái không xác định." in html
    with app.app_context():
        assert db.session.get(Campaign, ids["campaign"]).status == "draft"


def test_bad_query_strings_never_break_pages(app, db, client, auth, ids):
    auth.login("quantri")
    for path in ("/audit/?page=abc&date_from=31/31/2020&action=%3Cscript%3E",
                 "/audit/?actor=" + "x" * 500, "/registry/?on=hôm-nay",
                 "/registry/agencies?on=2025-13-45", "/registry/export/units.pdf",
                 "/registry/export/passwords.csv", "/campaigns/abc", "/orgs/99999999"):
        response = client.get(path)
        assert response.status_code in (200, 404), path


def test_ids_past_the_database_integer_are_404_not_500(app, db, client, auth, ids):
    """<int:…> in every URL is bounded to PostgreSQL's integer: a larger id matches no
    route (the driver would raise on it: a 500 for a URL anyone can type)."""
    auth.login("quantri")
    for path in (f"/campaigns/{2**31}", f"/orgs/{2**31}", f"/campaigns/{2**63}/plans",
                 f"/api/v1/jobs/{2**31}", f"/results/packages/{2**40}"):
        assert client.get(path).status_code == 404, path
    assert client.get(f"/campaigns/{ids['campaign']}").status_code == 200


def test_error_pages_are_vietnamese(app, db, client, auth, ids):
    assert "Không tìm thấy trang" in client.get("/khong-co").get_data(as_text=True)
    auth.login("khac")
    assert "Bạn không có quyền xem trang này." in client.get("/orgs/new").get_data(as_text=True)
    assert client.put("/login").status_code == 405
    assert client.get("/api/v1/jobs/424242").json == {
        "error": "Trang hoặc đối tượng bạn yêu cầu không tồn tại.", "status": 404}


def test_server_error_page_rolls_back_and_is_vietnamese(app, db, client, auth, ids,
                                                       monkeypatch):
    from surveyapp.services import organisations

    def explode(*args, **kwargs):
        builders.db.session.add(builders.Organisation(name="Nửa chừng", type_id=1))
        builders.db.session.flush()
        raise RuntimeError("bug")

    monkeypatch.setattr(organisations, "create_organisation", explode)
    auth.login("quantri")
    response = client.post("/orgs/new", data={"name": "X", "type_id": "1"})
    assert response.status_code == 500
    assert "Hệ thống gặp sự cố" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Organisation).where(Organisation.name == "Nửa chừng")) \
            is None
