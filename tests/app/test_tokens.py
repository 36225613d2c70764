"""API tokens: shown once, stored as SHA-256, scoped, expiring, revocable; CLI and UI."""

import hashlib
from datetime import timedelta

import builders
import pytest
from sqlalchemy import select

from surveyapp.models import ApiToken
from surveyapp.models._types import as_utc, utcnow
from surveyapp.models.codes import Role


@pytest.fixture
def setup(app, db):
    with app.app_context():
        org = builders.make_org()
        builders.make_user("lan", org, Role.ANALYST)
        builders.make_campaign(org)
        return org.id


def bearer(raw):
    return {"Authorization": f"Bearer {raw}"}


def test_cli_create_prints_only_the_raw_token_and_stores_its_sha256(app, db, runner, setup):
    result = runner.invoke(args=["tokens", "create", "--user", "lan", "--scope", "campaigns:read"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip()
    assert raw.startswith("sa_") and "\n" not in raw
    with app.app_context():
        token = db.session.scalar(select(ApiToken))
        assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        assert raw not in (token.token_hash, token.prefix)


def test_token_reads_the_api_within_its_scope(app, db, client, runner, setup):
    raw = runner.invoke(args=["tokens", "create", "--user", "lan",
                              "--scope", "campaigns:read"]).output.strip()
    response = client.get("/api/v1/campaigns", headers=bearer(raw))
    assert response.status_code == 200
    assert response.json[0]["title"] == "Khảo sát sự hài lòng năm 2024"
    assert client.get("/api/v1/me", headers=bearer(raw)).json["scopes"] == ["campaigns:read"]
    # Outside its scope: refused.
    assert client.get("/api/v1/agencies", headers=bearer(raw)).status_code == 403
    with app.app_context():
        assert db.session.scalar(select(ApiToken)).last_used_at is not None


def test_a_users_token_acts_with_every_role_of_the_user(app, db, client, runner, setup):
    """The token, its user and the user's memberships come in one query (one row per
    membership): every membership must be there, in every organisation."""
    from surveyapp.models import Membership

    with app.app_context():
        other = builders.make_org("Hội Liên hiệp Phụ nữ thử")
        user = builders.make_user("minh", other, Role.SUPERVISOR, Role.INTERVIEWER)
        db.session.add(Membership(user_id=user.id, organisation_id=setup,
                                  role=Role.ANALYST.value))
        db.session.commit()
        other_id = other.id
    raw = runner.invoke(args=["tokens", "create", "--user", "minh",
                              "--scope", "campaigns:read"]).output.strip()
    roles = client.get("/api/v1/me", headers=bearer(raw)).json["roles"]
    assert roles == {str(setup): ["analyst"], str(other_id): ["interviewer", "supervisor"]}


def test_organisation_token_without_a_user(app, db, client, runner, setup):
    raw = runner.invoke(args=["tokens", "create", "--org", str(setup),
                              "--scope", "campaigns:read"]).output.strip()
    response = client.get("/api/v1/campaigns", headers=bearer(raw))
    assert response.status_code == 200 and len(response.json) == 1


def test_tokens_do_not_open_web_pages(client, runner, setup):
    raw = runner.invoke(args=["tokens", "create", "--user", "lan"]).output.strip()
    assert client.get("/campaigns/", headers=bearer(raw)).status_code == 302


@pytest.mark.parametrize("header", ["Bearer sa_wrong", "Bearer ", "Basic abc",
                                    "Bearer " + "x" * 500])
def test_bad_tokens_get_401(client, setup, header):
    response = client.get("/api/v1/campaigns", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["status"] == 401


def test_revoked_and_expired_tokens_are_refused(app, db, client, runner, setup):
    raw = runner.invoke(args=["tokens", "create", "--user", "lan"]).output.strip()
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    result = runner.invoke(args=["tokens", "revoke", str(token_id)])
    assert result.exit_code == 0
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 401
    assert runner.invoke(args=["tokens", "revoke", str(token_id)]).exit_code != 0

    raw2 = runner.invoke(args=["tokens", "create", "--user", "lan", "--days", "1"]).output.strip()
    assert client.get("/api/v1/me", headers=bearer(raw2)).status_code == 200
    with app.app_context():
        token = db.session.scalar(select(ApiToken).where(ApiToken.revoked_at.is_(None)))
        token.expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(raw2)).status_code == 401


def test_a_deactivated_users_tokens_stop_working(app, db, client, runner, setup):
    from surveyapp.models import User

    raw = runner.invoke(args=["tokens", "create", "--user", "lan"]).output.strip()
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200
    with app.app_context():
        db.session.scalar(select(User).where(User.login == "lan")).active = False
        db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 401


def test_last_use_is_written_at_most_once_a_minute(app, db, runner, setup):
    from surveyapp.services.tokens import authenticate_token

    raw = runner.invoke(args=["tokens", "create", "--user", "lan"]).output.strip()
    now = utcnow()
    with app.app_context():
        assert authenticate_token(raw, now) is not None
        assert authenticate_token(raw, now + timedelta(seconds=30)) is not None
        db.session.rollback()
        assert as_utc(db.session.scalar(select(ApiToken.last_used_at))) == now
        assert authenticate_token(raw, now + timedelta(seconds=61)) is not None
        db.session.rollback()
        assert as_utc(db.session.scalar(select(ApiToken.last_used_at))) == now + timedelta(
            seconds=61)


def test_the_request_user_of_a_token_loads_the_rest_of_the_user_on_demand(app, db, runner,
                                                                           setup):
    """current_user of a token request carries id and login from the token's query; any
    other attribute of a user token comes from the user row, loaded once on first use."""
    from flask_login import current_user

    from surveyapp.models import User

    with app.app_context():
        db.session.scalar(select(User).where(User.login == "lan")).email = "lan@example.vn"
        db.session.commit()
    user_raw = runner.invoke(args=["tokens", "create", "--user", "lan"]).output.strip()
    org_raw = runner.invoke(args=["tokens", "create", "--org", str(setup)]).output.strip()
    with app.test_request_context("/api/v1/me", headers=bearer(user_raw)):
        assert current_user.login == "lan" and current_user.id is not None
        assert current_user.email == "lan@example.vn"
        assert [m.organisation_id for m in current_user.memberships] == [setup]
    with app.test_request_context("/api/v1/me", headers=bearer(org_raw)):
        assert current_user.id is None and current_user.login.startswith("token:sa_")
        assert current_user.memberships == []
        with pytest.raises(AttributeError):
            current_user.email  # noqa: B018 - an organisation token has no user


def test_cli_list_and_unknown_user(runner, setup):
    runner.invoke(args=["tokens", "create", "--user", "lan", "--name", "Máy tính bảng"])
    listing = runner.invoke(args=["tokens", "list"]).output
    assert "lan" in listing and "active" in listing
    bad = runner.invoke(args=["tokens", "create", "--user", "nobody"])
    assert bad.exit_code != 0 and "nobody" in bad.output


def test_ui_creates_shows_once_and_revokes(app, db, client, auth, setup):
    auth.login("lan")
    page = client.post("/tokens/", data={"name": "Nhập phiếu ngoại tuyến", "owner": "0",
                                         "scopes": ["interviews:write"]})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    raw = html.split('data-testid="raw-token">')[1].split("<")[0]
    assert raw.startswith("sa_")
    assert raw not in client.get("/tokens/").get_data(as_text=True)  # never shown again
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    assert client.post(f"/tokens/{token_id}/revoke").status_code == 302
    with app.app_context():
        assert db.session.get(ApiToken, token_id).revoked_at is not None


def test_ui_cannot_create_a_token_for_a_foreign_organisation(app, db, client, auth, setup):
    with app.app_context():
        other = builders.make_org("Tổ chức khác")
        other_id = other.id
    auth.login("lan")
    page = client.post("/tokens/", data={"name": "x", "owner": str(other_id),
                                         "scopes": ["campaigns:read"]})
    assert page.status_code == 200 and "Lựa chọn không hợp lệ" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(ApiToken)) is None


def test_api_posts_need_csrf_with_a_session_but_not_with_a_token(database_url):
    from flask import Flask
    from flask_sqlalchemy.session import _app_ctx_id
    from sqlalchemy.orm import scoped_session, sessionmaker

    from surveyapp import create_app
    from surveyapp.auth.policy import requires
    from surveyapp.extensions import db as _db
    from surveyapp.services.tokens import create_token

    app: Flask = create_app(builders.app_config(database_url, WTF_CSRF_ENABLED=True))
    app.add_url_rule("/api/v1/test-echo", "test_echo", methods=["POST"],
                     view_func=requires("dashboard.view")(lambda: {"ok": True}))
    client = app.test_client()
    with app.app_context():
        connection = _db.engine.connect()
    transaction = connection.begin()
    try:
        original = _db.session
        _db.session = scoped_session(sessionmaker(bind=connection,
                                                  join_transaction_mode="create_savepoint"),
                                     scopefunc=_app_ctx_id)
        with app.app_context():
            org = builders.make_org()
            builders.make_user("lan", org, Role.ANALYST)
            raw = create_token(None, "t", ["campaigns:read"],
                               user=_db.session.scalar(select(builders.User)))[1]
        # A token needs no CSRF token (and is not refused for lacking one).
        assert client.post("/api/v1/test-echo", headers=bearer(raw)).status_code == 200
        # A bad token is not rescued by a session cookie.
        page = client.get("/login").get_data(as_text=True)
        csrf_token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/login", data={"login": "lan", "password": builders.PASSWORD,
                                    "csrf_token": csrf_token})
        assert client.post("/api/v1/test-echo", headers=bearer("sa_bad")).status_code == 401
        # The session alone must send the CSRF token (header, as the offline page will);
        # signing in started a fresh session, so take the token from a signed-in page.
        page = client.get("/").get_data(as_text=True)
        csrf_token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        assert client.post("/api/v1/test-echo").status_code == 400
        assert client.post("/api/v1/test-echo",
                           headers={"X-CSRFToken": csrf_token}).status_code == 200
    finally:
        with app.app_context():
            _db.session.remove()
        _db.session = original
        transaction.rollback()
        connection.close()
        with app.app_context():
            _db.engine.dispose()


def test_organisation_admin_creates_an_organisation_token(app, db, client, auth):
    with app.app_context():
        org = builders.make_org("Hội Liên hiệp Phụ nữ (thử)")
        builders.make_user("ha", org, Role.ORG_ADMIN)
        org_id = org.id
    auth.login("ha")
    page = client.post("/tokens/", data={"name": "Cổng dữ liệu", "owner": str(org_id),
                                         "scopes": ["results:read"]}).get_data(as_text=True)
    assert 'data-testid="raw-token"' in page
    # The form offered again still lists the organisation as a possible owner.
    assert f'<option value="{org_id}">Hội Liên hiệp Phụ nữ (thử)</option>' in page
    with app.app_context():
        token = db.session.scalar(select(ApiToken))
        assert token.organisation_id == org_id and token.user_id is None
