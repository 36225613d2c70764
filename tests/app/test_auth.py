"""Signing in: argon2 hashes, throttling, CSRF, cookies, headers, safe redirects."""

from datetime import timedelta

import builders
import pytest
from sqlalchemy import select

from surveyapp.models import AuditEvent, User
from surveyapp.models._types import utcnow
from surveyapp.models.codes import Role


@pytest.fixture
def person(app, db):
    with app.app_context():
        org = builders.make_org()
        return builders.make_user("lan", org, Role.ANALYST).login


def test_login_and_logout(client, auth, person):
    assert client.get("/").status_code == 302
    response = auth.login(person)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Xin chào" in client.get("/").get_data(as_text=True)
    auth.logout()
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_in_vietnamese(client, auth, person):
    response = auth.login(person, "not-the-password")
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in response.get_data(as_text=True)


def test_unknown_login_gives_the_same_message(client, auth, person):
    response = auth.login("nobody", "whatever-password")
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in response.get_data(as_text=True)


def test_passwords_are_stored_as_argon2(app, db, person):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == person))
        assert user.password_hash.startswith("$argon2id$")


def test_repeated_failures_lock_the_account_for_a_while(app, db, client, auth, person):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        auth.login(person, "wrong-password!")
    # Even the right password is refused while locked.
    response = auth.login(person)
    assert response.status_code == 401
    assert "Đăng nhập sai quá nhiều lần" in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.login == person))
        user.locked_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert auth.login(person).status_code == 302


def test_successful_login_is_audited(app, db, auth, person):
    auth.login(person)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "login")).all()
        assert [e.actor_label for e in events] == [person]


def test_forms_need_the_csrf_token(app, client, person, csrf):
    response = client.post("/login", data={"login": person, "password": builders.PASSWORD})
    assert response.status_code == 400
    assert "Phiên làm việc đã hết hạn" in response.get_data(as_text=True)


def test_login_with_the_csrf_token_from_the_page(app, client, person, csrf):
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/login", data={"login": person, "password": builders.PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302


def test_session_cookie_flags(client, auth, person):
    response = auth.login(person)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_secure_cookie_when_configured(monkeypatch, database_url):
    from surveyapp import create_app
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "1")
    app = create_app(builders.app_config(database_url))
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_security_headers(client):
    response = client.get("/login")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_have_no_inline_scripts(client, auth, person):
    auth.login(person)
    for path in ("/login", "/", "/campaigns/", "/registry/"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and " onclick=" not in html and "style=" not in html


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil"])
def test_login_never_redirects_off_site(client, person, target):
    response = client.post(f"/login?next={target}",
                           data={"login": person, "password": builders.PASSWORD})
    assert response.headers["Location"] == "/"


def test_login_follows_a_local_next(client, person):
    response = client.post("/login?next=/campaigns/",
                           data={"login": person, "password": builders.PASSWORD})
    assert response.headers["Location"] == "/campaigns/"


def test_inactive_user_cannot_sign_in(app, db, client, auth, person):
    with app.app_context():
        db.session.scalar(select(User).where(User.login == person)).active = False
        db.session.commit()
    assert auth.login(person).status_code == 401


def test_change_own_password(app, db, client, auth, person):
    auth.login(person)
    page = client.post("/account/password", data={
        "current_password": "sai-mat-khau", "new_password": "mat-khau-moi-123",
        "confirm": "mat-khau-moi-123"}).get_data(as_text=True)
    assert "Mật khẩu hiện tại không đúng." in page
    page = client.post("/account/password", data={
        "current_password": builders.PASSWORD, "new_password": "mat-khau-moi-123",
        "confirm": "khac-han-nhau-123"}).get_data(as_text=True)
    assert "Hai mật khẩu mới không khớp nhau." in page
    response = client.post("/account/password", data={
        "current_password": builders.PASSWORD, "new_password": "mat-khau-moi-123",
        "confirm": "mat-khau-moi-123"})
    assert response.status_code == 302
    auth.logout()
    assert auth.login(person).status_code == 401
    assert auth.login(person, "mat-khau-moi-123").status_code == 302
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "update"))
        assert event.object_type == "user" and "password_hash" not in repr(event.after)


def test_json_is_utf8_text(app, db, client, auth, person):
    auth.login(person)
    body = client.get("/api/v1/campaigns").get_data()
    assert "Khảo sát".encode() in body or body == b"[]\n"
    assert b"\\u" not in client.get("/api/v1/me").get_data()


def test_too_large_upload_gets_a_vietnamese_413(app, db, client, auth, person):
    auth.login(person)
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        response = client.post("/account/password", data={"current_password": "x" * 5000})
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    assert response.status_code == 413
    assert "Tệp quá lớn" in response.get_data(as_text=True)
