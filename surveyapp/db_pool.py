"""Checking pooled database connections only where one may have gone stale.

SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one more round trip on every
request, about a tenth of the submission API's CPU per request (benchmarks/README.md). A
connection checked in a few milliseconds ago is almost never stale; one that sat idle in the
pool may be (a database restart, a firewall dropping idle connections). So this pings only
connections idle for more than ``DB_PING_IDLE_SECONDS`` (10 by default) and, as the
pre-ping does, hands a dead one back to the pool to be replaced: SQLAlchemy's documented
"pessimistic" checkout recipe (a ``DisconnectionError`` from a ``checkout`` listener makes
the pool retry with a fresh connection).
"""

from __future__ import annotations

import time

from flask import Flask
from sqlalchemy import event, exc
from sqlalchemy.pool import Pool

_settings = {"idle_seconds": 10.0}
_CHECKED_IN = "surveyapp_checked_in"


def init_app(app: Flask) -> None:
    _settings["idle_seconds"] = float(app.config.get("DB_PING_IDLE_SECONDS", 10.0))
    if not event.contains(Pool, "checkout", _on_checkout):
        event.listen(Pool, "checkin", _on_checkin)
        event.listen(Pool, "checkout", _on_checkout)


def _on_checkin(dbapi_connection, record) -> None:
    if record is not None:
        record.info[_CHECKED_IN] = time.monotonic()


def _on_checkout(dbapi_connection, record, proxy) -> None:
    since = record.info.get(_CHECKED_IN)
    if since is not None and time.monotonic() - since <= _settings["idle_seconds"]:
        return  # back from a request moments ago
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SELECT 1")
        cursor.fetchall()
    except Exception as error:  # noqa: BLE001 - any failure means the connection is unusable
        raise exc.DisconnectionError(f"stale pooled connection: {error}") from error
    finally:
        try:
            cursor.close()
        except Exception:  # noqa: BLE001, S110 - a dead connection may not close its cursor
            pass
    try:
        dbapi_connection.rollback()  # end the ping's implicit transaction (psycopg)
    except Exception as error:  # noqa: BLE001
        raise exc.DisconnectionError(f"stale pooled connection: {error}") from error
