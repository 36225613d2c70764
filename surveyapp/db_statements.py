"""Statements that are each their own transaction, for the API's hot path on PostgreSQL.

PostgreSQL runs a statement sent outside a transaction block as a transaction of its own:
committed (and, with ``synchronous_commit`` on, flushed to the WAL) before the statement
returns. A request whose reads need no common snapshot and whose write is ONE statement
therefore needs no BEGIN and no COMMIT: on the submission API that is two round trips of
five (token, questionnaire version, the one INSERT of the interview's rows). Atomicity is
the statement's: the interview, its version, identifying data and audit event are one
INSERT ... WITH statement (services/interviews.py), so they commit together or not at all.

Where this does not apply the block simply runs in the session's transaction, as any other
code does: on SQLite, and when the session already began a transaction or is bound to an
outer one (the tests' rollback-per-test connection).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine

from .extensions import db


def _autocommit_possible(session) -> bool:
    bind = session.get_bind()
    return (isinstance(bind, Engine) and bind.dialect.name == "postgresql"
            and not session.in_transaction())


@contextmanager
def single_statements() -> Iterator[Connection]:
    """A connection for a block whose writes are committed when it ends: on PostgreSQL each
    statement commits on its own (no BEGIN/COMMIT, see above), elsewhere the session's
    transaction commits at the end of the block. An exception rolls back what is open.

    Afterwards the session has no transaction: its next statement begins an ordinary one,
    on a connection with the pool's default isolation. ORM objects the block loaded are
    expired, as after any commit. The block must not leave ORM changes to flush on
    PostgreSQL: they would be written one statement at a time, so that is refused.
    """
    session = db.session  # the scoped session: commit and rollback as everywhere else
    autocommit = _autocommit_possible(session())
    connection = session.connection(
        execution_options={"isolation_level": "AUTOCOMMIT"} if autocommit else None)
    try:
        if autocommit:
            with session.no_autoflush:  # pending ORM changes stay pending: refused below
                yield connection
        else:
            yield connection
    except BaseException:
        session.rollback()  # autocommit: no round trip, nothing is open on the server
        raise
    if autocommit and (session.new or session.dirty or session.deleted):
        session.rollback()
        raise RuntimeError("ORM changes inside single_statements() would not be atomic")
    session.commit()  # autocommit: releases the connection, no COMMIT is sent
