"""Fixtures for the app's tests: app, db, client, runner, auth.

The database comes from TEST_DATABASE_URL (PostgreSQL in CI's second pass), else a SQLite
file in a temporary folder. The real Alembic migrations run once per session; each test
runs inside a transaction that is rolled back (services' commits only release savepoints:
SQLAlchemy's "joining a session into an external transaction" recipe).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import scoped_session, sessionmaker

from surveyapp import create_app
from surveyapp.extensions import db as _db

# tests/builders.py is shared by tests/app and tests/browser; make it importable whatever
# pytest's import mode.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from builders import app_config  # noqa: E402


def pytest_collection_modifyitems(config, items):
    # Every app test touches the database: CI runs them again on PostgreSQL (`pytest -m db`).
    for item in items:
        if "tests/app/" in item.nodeid.replace(os.sep, "/"):
            item.add_marker(pytest.mark.db)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app(app_config(database_url))
    with app.app_context():
        upgrade()  # the real migrations, once
    yield app
    with app.app_context():
        _db.engine.dispose()  # close pooled connections before the interpreter does


@pytest.fixture
def connection(app):
    """The test's one connection, inside a transaction rolled back at the end."""
    with app.app_context():
        connection = _db.engine.connect()
    transaction = connection.begin()
    try:
        yield connection
    finally:
        transaction.rollback()
        connection.close()


@pytest.fixture
def db(app, connection):
    """The database, with everything the test does rolled back afterwards."""
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    session = scoped_session(factory, scopefunc=_app_ctx_id)
    original = _db.session
    _db.session = session
    try:
        yield _db
    finally:
        with app.app_context():
            session.remove()
        _db.session = original


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def csrf(app):
    """Turn CSRF protection on for one test (it is off for the others, to keep them short)."""
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


class AuthActions:
    def __init__(self, client):
        self.client = client

    def login(self, login: str, password: str = "password-123", follow: bool = False):
        return self.client.post("/login", data={"login": login, "password": password},
                                follow_redirects=follow)

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


def count(model) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model))
