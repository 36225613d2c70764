"""Blocks of single statements (surveyapp/db_statements.py) and the submission API on them.

On PostgreSQL with the app's own engine (real commits, not the tests' rolled-back
connection) every statement of a block is its own transaction: no BEGIN/COMMIT. What must
hold: the one INSERT of a new interview is committed with all its rows — or none of them —
when it returns, the assignment it completes is marked in the same statement, a session
leaves the block with an ordinary connection, and ORM changes that would be written one
statement at a time are refused. Elsewhere (SQLite, the rolled-back test connection) the
block is the session's transaction, committed at its end.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from field_builders import committed_field_world, payload

from surveyapp.db_statements import single_statements
from surveyapp.extensions import db as _db
from surveyapp.models import Assignment, AuditEvent, Interview, InterviewVersion


def _autocommit(connection) -> bool:
    return bool(connection.connection.driver_connection.autocommit)


@pytest.fixture
def committed_world(app, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("statements as their own transactions are PostgreSQL's (CI's PostgreSQL "
                    "pass runs this); on SQLite the block is one transaction, tested below")
    yield from committed_field_world(app, n_cases=2)


def test_each_statement_commits_as_it_returns_and_the_session_comes_back_ordinary(
        app, committed_world):
    world, _raw = committed_world
    with app.app_context():
        with single_statements() as conn:
            assert _autocommit(conn)
            conn.execute(sa.update(Assignment).where(Assignment.id == world.assignments[0])
                         .values(comment="đã hẹn lại"))
            # Another connection sees it before the block ends: the statement committed.
            with _db.engine.connect() as other:
                assert other.scalar(sa.select(Assignment.comment).where(
                    Assignment.id == world.assignments[0])) == "đã hẹn lại"
        assert not _db.session().in_transaction()
        # The next statement begins an ordinary transaction, rolled back as usual.
        conn = _db.session.connection()
        assert not _autocommit(conn)
        conn.execute(sa.update(Assignment).where(Assignment.id == world.assignments[0])
                     .values(comment="không lưu"))
        _db.session.rollback()
        assert _db.session.scalar(sa.select(Assignment.comment).where(
            Assignment.id == world.assignments[0])) == "đã hẹn lại"
        _db.session.remove()


def test_orm_changes_left_in_a_block_are_refused(app, committed_world):
    world, _raw = committed_world
    with app.app_context():
        with pytest.raises(RuntimeError, match="not be atomic"):
            with single_statements():
                _db.session.get(Assignment, world.assignments[0]).comment = "một nửa"
        assert _db.session.scalar(sa.select(Assignment.comment).where(
            Assignment.id == world.assignments[0])) == ""
        _db.session.remove()


def test_a_submission_for_an_assignment_is_one_statement_all_or_nothing(app,
                                                                         committed_world):
    """The interview, its version, identifying data, audit event and the assignment's new
    status are written by one statement; a second UUID for the same case is refused by the
    unique key and leaves none of its rows."""
    world, raw = committed_world
    client = app.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    first = payload(world, assignment_index=0, disposition="partial")
    assert client.post("/api/v1/interviews", json=first, headers=headers).status_code == 201
    with app.app_context():
        assignment = _db.session.get(Assignment, world.assignments[0])
        assert (assignment.status, assignment.disposition) == ("submitted", "partial")
        assert assignment.updated_at > assignment.created_at
        interview_id = _db.session.scalar(sa.select(Interview.id).where(
            Interview.uuid == first["uuid"]))
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.object_type == "interview",
            AuditEvent.object_id == str(interview_id))) == 1
        events_before = _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
        versions_before = _db.session.scalar(
            sa.select(sa.func.count()).select_from(InterviewVersion))
        _db.session.remove()

    second = payload(world, assignment_index=0)  # another UUID for the same case
    response = client.post("/api/v1/interviews", json=second, headers=headers)
    assert response.status_code == 422 and "assignment_id" in response.json["fields"]
    with app.app_context():
        assert _db.session.scalar(sa.select(Interview.id).where(
            Interview.uuid == second["uuid"])) is None
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) \
            == events_before
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(InterviewVersion)) \
            == versions_before
        assert _db.session.get(Assignment, world.assignments[0]).disposition == "partial"
        _db.session.remove()


def test_elsewhere_the_block_is_one_transaction_committed_at_its_end(app, db):
    """SQLite, or PostgreSQL through the tests' rolled-back connection: the block runs in
    the session's transaction; an error inside it undoes everything the block wrote."""
    import builders

    with app.app_context():
        org = builders.make_org("Hội Cựu chiến binh thử")
        with pytest.raises(ValueError):
            with single_statements() as conn:
                assert conn is db.session.connection()
                conn.execute(sa.text("UPDATE organisation SET name = 'đổi' WHERE id = :i"),
                             {"i": org.id})
                raise ValueError("stop")
        assert db.session.scalar(sa.text("SELECT name FROM organisation WHERE id = :i"),
                                 {"i": org.id}) == "Hội Cựu chiến binh thử"
        with single_statements() as conn:
            conn.execute(sa.text("UPDATE organisation SET name = 'đổi' WHERE id = :i"),
                         {"i": org.id})
        assert not db.session().in_transaction()
        assert db.session.scalar(sa.text("SELECT name FROM organisation WHERE id = :i"),
                                 {"i": org.id}) == "đổi"
