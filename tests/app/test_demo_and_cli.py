"""`flask demo` (idempotent, printed credentials), `flask users create`, configuration."""

from sqlalchemy import func, select

from surveyapp import create_app
from surveyapp.models import (
    AdminUnit,
    AdminUnitSuccession,
    Agency,
    AuditEvent,
    Campaign,
    Membership,
    Organisation,
    User,
)
from surveyapp.models.codes import Role
from surveyapp.services import demo


def counts(db):
    return {m.__name__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Organisation, User, Membership, AdminUnit, AdminUnitSuccession, Agency,
                      Campaign, AuditEvent)}


def test_demo_is_idempotent_and_prints_credentials(app, db, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    for login, _name, password, _role, _org in demo.USERS:
        assert login in first.output and password in first.output
    with app.app_context():
        after_first = counts(db)
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "already present" in second.output
    with app.app_context():
        assert counts(db) == after_first


def test_demo_has_every_role_the_2024_structure_and_the_2025_successions(app, db, runner):
    runner.invoke(args=["demo"])
    with app.app_context():
        roles = set(db.session.scalars(select(Membership.role)))
        assert roles == {r.value for r in Role}
        names = set(db.session.scalars(select(Organisation.name)))
        assert {demo.CITY_FRONT, demo.Q1_FRONT, demo.TD_FRONT, demo.WOMEN, demo.OFFICE} <= names
        thu_duc = db.session.scalar(select(AdminUnit).where(AdminUnit.name == "Thành phố Thủ Đức"))
        assert thu_duc.level == "district" and thu_duc.valid_to.isoformat() == "2025-06-30"
        # After 1 July 2025 wards hang directly under the city: no district level.
        new_wards = db.session.scalars(select(AdminUnit).where(
            AdminUnit.valid_from == demo.NEW_FROM, AdminUnit.level == "commune")).all()
        assert new_wards and all(w.parent.level == "province" for w in new_wards)
        # Shares of a split unit add up to 1.
        da_kao = db.session.scalar(select(AdminUnit).where(AdminUnit.name == "Phường Đa Kao"))
        shares = db.session.scalars(select(AdminUnitSuccession.share).where(
            AdminUnitSuccession.old_unit_id == da_kao.id)).all()
        assert sorted(shares) == [0.4, 0.6]
        # The 2024 round is in the field; the 2023 round (for the trend lines) is closed.
        by_year = {c.year: c for c in db.session.scalars(select(Campaign))}
        assert sorted(by_year) == [2023, 2024]
        assert by_year[2023].status == "closed"
        campaign = by_year[2024]
        assert campaign.status == "fielding"
        # The 2024 campaign targets only agencies that existed in 2024.
        assert all(a.valid_from.year <= 2024 for a in campaign.agencies)
        # One person in several organisations.
        analyst = db.session.scalar(select(User).where(User.login == "phantich"))
        assert len({m.organisation_id for m in analyst.memberships}) == 2


def test_demo_users_can_sign_in(app, db, client, runner, auth):
    runner.invoke(args=["demo"])
    login, _name, password, _role, _org = demo.USERS[4]
    assert auth.login(login, password).status_code == 302


def test_users_create_command(app, db, runner):
    created = runner.invoke(args=["orgs", "create", "Ủy ban MTTQ Việt Nam Quận 3", "--type",
                                  "front_district"])
    assert created.exit_code == 0, created.output
    org_id = int(created.output.strip())
    again = runner.invoke(args=["orgs", "create", "Ủy ban MTTQ Việt Nam Quận 3", "--type",
                                "front_district"])
    assert again.exit_code != 0 and "Đã có tổ chức mang tên này." in again.output
    result = runner.invoke(args=["users", "create", "root", "--name", "Quản trị", "--org",
                                 str(org_id), "--role", "system_admin"],
                           input="mat-khau-rat-dai\nmat-khau-rat-dai\n")
    assert result.exit_code == 0, result.output
    short = runner.invoke(args=["users", "create", "x2", "--name", "X", "--org", str(org_id),
                                "--role", "analyst"], input="ngan\nngan\n")
    assert short.exit_code != 0 and "ít nhất 10 ký tự" in short.output


def test_secret_key_is_generated_once_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config = {"SQLALCHEMY_DATABASE_URI": "sqlite://"}
    app1 = _app_in(tmp_path, config)
    app2 = _app_in(tmp_path, config)
    assert app1.config["SECRET_KEY"] == app2.config["SECRET_KEY"]
    assert len(app1.config["SECRET_KEY"]) == 64
    key_file = tmp_path / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert _app_in(tmp_path, config).config["SECRET_KEY"] == "from-the-environment"


def _app_in(instance, config):
    from flask import Flask

    from surveyapp import config as config_module
    app = Flask("surveyapp", instance_path=str(instance))
    config_module.load_config(app, config)
    return app


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = _app_in(tmp_path, {"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'surveyapp.sqlite3'}"
    assert app.config["JOB_RUNNER"] == "thread"


def test_database_url_and_redis_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example/surveys")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    app = _app_in(tmp_path, {"SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/surveys"
    assert app.config["JOB_RUNNER"] == "rq"


def test_production_keeps_strong_argon2_parameters(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    hasher = app.extensions["surveyapp.passwords"]["hasher"]
    assert hasher.time_cost >= 3 and hasher.memory_cost >= 65536
