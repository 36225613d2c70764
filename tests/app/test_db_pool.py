"""Pooled connections are pinged only after sitting idle (surveyapp/db_pool.py): a
connection whose server process died while it sat in the pool is replaced, not handed to a
request; one checked in moments ago is used without the extra round trip."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from builders import app_config

from surveyapp import create_app, db_pool
from surveyapp.extensions import db as _db


@pytest.fixture
def postgres_url(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("ends a server process with pg_terminate_backend (CI's PostgreSQL pass "
                    "runs it); SQLite has no server")
    return database_url


def _backend_pid() -> int:
    return _db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def _terminate(url: str, pid: int) -> None:
    admin = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        assert connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"),
                                  {"pid": pid}).scalar_one()
    admin.dispose()


def _app(url: str, idle_seconds: float):
    app = create_app({**app_config(url), "DB_PING_IDLE_SECONDS": idle_seconds,
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0}})
    return app


def test_a_connection_that_died_in_the_pool_is_replaced(postgres_url):
    before = dict(db_pool._settings)
    try:
        app = _app(postgres_url, 0.0)  # every checkout counts as idle: always pinged
        with app.app_context():
            first = _backend_pid()
            _db.session.remove()  # back to the pool
            _terminate(postgres_url, first)
            second = _backend_pid()  # the ping found it dead: a fresh connection
            assert second != first
            _db.session.remove()
            _db.engine.dispose()
    finally:
        db_pool._settings.update(before)


def test_a_connection_back_moments_ago_is_not_pinged(postgres_url):
    """The price of skipping the ping, shown: within the idle window a connection killed
    behind the pool's back reaches the request (which fails, and the pool then replaces it)."""
    before = dict(db_pool._settings)
    try:
        app = _app(postgres_url, 3600.0)
        with app.app_context():
            first = _backend_pid()
            _db.session.remove()
            _terminate(postgres_url, first)
            with pytest.raises(sa.exc.OperationalError):
                _backend_pid()
            _db.session.remove()
            assert _backend_pid() != first  # the pool dropped the dead connection
            _db.session.remove()
            _db.engine.dispose()
    finally:
        db_pool._settings.update(before)
