"""The audit log page: filters, and each organisation admin sees only their organisations."""

import builders
from sqlalchemy import select

from surveyapp.models import AuditEvent
from surveyapp.models.codes import Role
from surveyapp.services import organisations


def test_audit_page_filters_and_isolation(app, db, client, auth):
    with app.app_context():
        org_a = builders.make_org("Tổ chức A")
        org_b = builders.make_org("Tổ chức B")
        builders.make_user("admin.a", org_a, Role.ORG_ADMIN)
        builders.make_user("root", org_a, Role.SYSTEM_ADMIN)
        organisations.update_organisation(None, org_a, "Tổ chức A mới", "A", org_a.type_id, True)
        organisations.update_organisation(None, org_b, "Tổ chức B mới", "B", org_b.type_id, True)
    auth.login("admin.a")
    page = client.get("/audit/").get_data(as_text=True)
    assert "Tổ chức A mới" in page and "Tổ chức B mới" not in page
    auth.logout()
    auth.login("root")
    page = client.get("/audit/").get_data(as_text=True)
    assert "Tổ chức A mới" in page and "Tổ chức B mới" in page
    filtered = client.get("/audit/?action=login").get_data(as_text=True)
    assert "Tổ chức A mới" not in filtered and "root" in filtered
    by_actor = client.get("/audit/?actor=cli&object_type=organisation").get_data(as_text=True)
    assert "Tổ chức B mới" in by_actor
    assert client.get("/audit/?date_from=not-a-date").status_code == 200


def test_every_change_records_before_and_after(app, db):
    with app.app_context():
        org = builders.make_org("Trước")
        organisations.update_organisation(None, org, "Sau", "", org.type_id, True)
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "update"))
        assert event.before["name"] == "Trước" and event.after["name"] == "Sau"
        assert event.object_type == "organisation" and event.object_id == str(org.id)


def test_secrets_never_reach_the_log(app, db, client, auth):
    with app.app_context():
        org = builders.make_org()
        builders.make_user("boss", org, Role.ORG_ADMIN)
        org_id = org.id
    auth.login("boss")
    client.post(f"/orgs/{org_id}/users/new", data={"login": "moi", "full_name": "Người Mới",
                                                   "password": "mat-khau-rat-dai",
                                                   "role": "analyst"})
    client.post("/tokens/", data={"name": "t", "owner": "0", "scopes": ["campaigns:read"]})
    with app.app_context():
        actions = {(e.object_type, e.action) for e in db.session.scalars(select(AuditEvent))}
        assert {("user", "create"), ("membership", "create"), ("api_token", "create")} <= actions
        for event in db.session.scalars(select(AuditEvent)):
            text = repr(event.before) + repr(event.after)
            assert "password_hash" not in text and "token_hash" not in text
            assert "argon2" not in text
