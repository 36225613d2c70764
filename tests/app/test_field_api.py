"""The submission API's contract and every "nothing lost, nothing doubled" rule (issue 7)."""

from __future__ import annotations

import hashlib
import json
import uuid as uuid_module

import pytest
import sqlalchemy as sa
from field_builders import make_field_world, payload

from surveyapp.extensions import db as _db
from surveyapp.models import (
    AuditEvent,
    Interview,
    InterviewConflict,
    InterviewRespondent,
    InterviewVersion,
)
from surveyapp.services import interviews as service
from surveyapp.services.tokens import create_token


def count(model, *where) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@pytest.fixture
def world(app, db):
    with app.app_context():
        yield make_field_world()


@pytest.fixture(scope="session")
def reader_app(database_url):
    """A second app object for the test body's own context: requests then push their own
    context (g, the signed-in user) instead of reusing the test's."""
    from builders import app_config

    from surveyapp import create_app

    return create_app(app_config(database_url))


@pytest.fixture(autouse=True)
def _context(reader_app, world):
    """The test body reads the database (the same test transaction) in its own context."""
    with reader_app.app_context():
        yield


@pytest.fixture
def token(app, world):
    """A Bearer token of the world's interviewer with the interviews:write scope."""
    from surveyapp.models import User

    with app.app_context():
        user = _db.session.scalar(sa.select(User).where(User.login == world.interviewer))
        return create_token(None, "thiết bị", ["interviews:write"], user=user)[1]


def post(client, token, data, language=None, raw=None):
    headers = {"Authorization": f"Bearer {token}"}
    if language:
        headers["Accept-Language"] = language
    if raw is not None:
        return client.post("/api/v1/interviews", data=raw, headers=headers,
                           content_type="application/json")
    return client.post("/api/v1/interviews", json=data, headers=headers)


def put(client, token, interview_uuid, data):
    return client.put(f"/api/v1/interviews/{interview_uuid}", json=data,
                      headers={"Authorization": f"Bearer {token}"})


# ---- 201 / 200 / 409 --------------------------------------------------------------------

def test_a_new_interview_is_stored_once_with_its_receipt(client, world, token):
    data = payload(world)
    response = post(client, token, data)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"uuid", "receipt", "version"}
    assert body["uuid"] == data["uuid"] and body["version"] == 1
    content = {k: v for k, v in data.items() if k != "paradata"}
    assert body["receipt"] == hashlib.sha256(service.canonical_json(content)).hexdigest()
    interview = _db.session.scalar(sa.select(Interview).where(Interview.uuid == data["uuid"]))
    assert interview.status == "submitted" and interview.receipt == body["receipt"]
    assert interview.current.answers == data["answers"]
    assert interview.assignment.status == "submitted"
    assert count(AuditEvent, AuditEvent.object_type == "interview",
                 AuditEvent.object_id == str(interview.id)) == 1


def test_a_new_interview_writes_all_its_rows_in_its_one_transaction(client, world, token):
    """Interview, version 1, identifying data, respondent key and audit event, each pointing
    at the others (on PostgreSQL they go in as one statement, elsewhere one by one)."""
    from surveyapp.models import RespondentKey, User

    data = payload(world)
    assert post(client, token, data).status_code == 201
    interview = _db.session.scalar(sa.select(Interview).where(Interview.uuid == data["uuid"]))
    (version,) = interview.versions
    assert version.number == 1 and version.paradata == data["paradata"]
    assert version.calculated == {} and version.content_sha256 == interview.receipt
    interviewer = _db.session.scalar(sa.select(User).where(User.login == world.interviewer))
    assert interview.interviewer_id == interviewer.id == version.submitted_by_id
    respondent = _db.session.scalar(sa.select(InterviewRespondent).where(
        InterviewRespondent.version_id == version.id))
    assert respondent.data == data["respondent"] and respondent.conflict_id is None
    key = _db.session.scalar(sa.select(RespondentKey).where(
        RespondentKey.version_id == version.id))
    assert key.campaign_id == world.campaign and len(key.key_hash) == 64
    event = _db.session.scalar(sa.select(AuditEvent).where(
        AuditEvent.object_type == "interview", AuditEvent.object_id == str(interview.id)))
    assert event.action == "create" and event.organisation_id == world.org
    assert event.actor_id == interviewer.id and event.actor_label == world.interviewer
    assert event.after == {"uuid": data["uuid"], "version": 1, "receipt": interview.receipt,
                           "disposition": "complete"}
    # Without identifying data: neither their row nor a key, the rest the same.
    bare = payload(world, 1)
    del bare["respondent"]
    assert post(client, token, bare).status_code == 201
    other = _db.session.scalar(sa.select(Interview).where(Interview.uuid == bare["uuid"]))
    assert count(InterviewRespondent, InterviewRespondent.version_id == other.current.id) == 0
    assert count(RespondentKey, RespondentKey.version_id == other.current.id) == 0
    assert count(AuditEvent, AuditEvent.object_id == str(other.id)) == 1
    assert count(Interview) == 2 and count(InterviewVersion) == 2


def test_an_identical_resend_answers_200_with_the_same_body_and_stores_nothing(
        client, world, token):
    data = payload(world)
    first = post(client, token, data)
    again = post(client, token, dict(data, paradata={"user_agent": "other", "edits": 9}))
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert count(Interview) == 1 and count(InterviewVersion) == 1
    assert count(InterviewConflict) == 0


def test_identical_means_canonical_json_so_key_order_and_number_form_do_not_matter(
        client, world, token):
    data = payload(world)
    post(client, token, data)
    reordered = {k: data[k] for k in reversed(list(data))}
    reordered["answers"] = {"age": 42.0, "channel": "desk", "visited": "yes"}
    raw = json.dumps(reordered, indent=2)
    assert post(client, token, None, raw=raw).status_code == 200


def test_a_different_payload_under_the_same_uuid_is_kept_as_a_conflict(client, world, token):
    data = payload(world)
    post(client, token, data)
    changed = dict(data, answers={"visited": "no", "age": 50},
                   respondent={"name": "Người khác"})
    response = post(client, token, changed)
    assert response.status_code == 409
    body = response.get_json()
    assert set(body) == {"error", "conflict_id"}
    conflict = _db.session.get(InterviewConflict, body["conflict_id"])
    assert conflict.payload["answers"] == changed["answers"]
    assert "respondent" not in conflict.payload  # identifying data kept apart
    kept = _db.session.scalar(sa.select(InterviewRespondent).where(
        InterviewRespondent.conflict_id == conflict.id))
    assert kept.data == {"name": "Người khác"}
    interview = conflict.interview
    assert interview.status == "conflict" and interview.version == 1
    assert interview.current.answers == data["answers"]  # never silently overwritten
    # The same conflicting payload again: the same kept conflict, not a second one.
    assert post(client, token, changed).get_json()["conflict_id"] == conflict.id
    assert count(InterviewConflict) == 1
    status = client.get(f"/api/v1/interviews/{data['uuid']}",
                        headers={"Authorization": f"Bearer {token}"}).get_json()
    assert status["status"] == "conflict"


def test_a_submission_without_a_uuid_is_refused(client, world, token):
    data = payload(world)
    del data["uuid"]
    response = post(client, token, data)
    assert response.status_code == 422
    assert "uuid" in response.get_json()["fields"]
    assert count(Interview) == 0
    bad = post(client, token, payload(world, uuid="not-a-uuid"))
    assert bad.status_code == 422 and "uuid" in bad.get_json()["fields"]


def test_the_uuid_is_unique_in_the_database_not_only_in_code(app, db, world):
    data = payload(world)
    with app.app_context():
        base = dict(campaign_id=world.campaign, version=1, receipt="x" * 64,
                    disposition="complete", status="submitted")
        db.session.add(Interview(uuid=data["uuid"], **base))
        db.session.flush()
        db.session.add(Interview(uuid=data["uuid"], **base))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_one_interview_per_case_is_a_unique_key_in_the_database(app, db, world):
    with app.app_context():
        base = dict(campaign_id=world.campaign, assignment_id=world.assignments[0], version=1,
                    receipt="x" * 64, disposition="complete", status="submitted")
        db.session.add(Interview(uuid=str(uuid_module.uuid4()), **base))
        db.session.flush()
        db.session.add(Interview(uuid=str(uuid_module.uuid4()), **base))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.flush()
        db.session.rollback()
        walk_in = dict(base, assignment_id=None)  # walk-ins have no case: NULLs never collide
        db.session.add(Interview(uuid=str(uuid_module.uuid4()), **walk_in))
        db.session.add(Interview(uuid=str(uuid_module.uuid4()), **walk_in))
        db.session.flush()
        db.session.rollback()


def test_no_check_then_insert_the_unique_key_decides_and_the_loser_answers_from_the_row(
        app, client, world, token, monkeypatch):
    """The service inserts first; a second submission of a stored UUID (a resend, or the
    loser of a concurrent race) fails on the key, rolls back, re-reads and answers 200/409."""
    data = payload(world)
    lookups = []
    real_find = service._find

    def spy(interview_uuid):
        lookups.append(interview_uuid)
        return real_find(interview_uuid)

    monkeypatch.setattr(service, "_find", spy)
    assert post(client, token, data).status_code == 201
    assert lookups == []  # no look-up before the insert
    assert post(client, token, data).status_code == 200
    assert lookups == [data["uuid"]]  # read only after the key refused the insert
    conflicting = dict(data, answers={"visited": "no", "age": 30})
    assert post(client, token, conflicting).status_code == 409
    assert count(Interview) == 1 and count(InterviewVersion) == 1
    assert count(InterviewConflict) == 1
    assert count(AuditEvent, AuditEvent.object_type == "interview") == 1


def test_the_receipt_is_sent_only_after_the_commit(app, client, world, token, monkeypatch):
    """If the commit fails, no receipt: the client gets an error and keeps its copy."""
    def failing_commit():
        raise sa.exc.OperationalError("COMMIT", {}, Exception("disk full"))

    data = payload(world)
    monkeypatch.setattr(_db.session, "commit", failing_commit)
    response = post(client, token, data)
    assert response.status_code == 500
    assert "receipt" not in (response.get_json() or {})
    monkeypatch.undo()
    assert count(Interview) == 0
    assert post(client, token, data).status_code == 201


# ---- 422: invalid answers, field messages in Vietnamese or English --------------------

def test_invalid_answers_give_422_with_messages_per_field_in_vietnamese(client, world, token):
    data = payload(world, answers={"visited": "no", "channel": "desk", "age": 12,
                                   "bogus": 1})
    response = post(client, token, data)
    assert response.status_code == 422
    body = response.get_json()
    assert set(body) == {"error", "fields"}
    assert body["fields"]["channel"].startswith("Câu hỏi này không áp dụng")
    assert "18" in body["fields"]["age"]
    assert "bogus" in body["fields"]
    assert count(Interview) == 0


def test_messages_are_in_english_when_the_client_prefers_it(client, world, token):
    data = payload(world, answers={"visited": "yes"}, started_at="hôm qua")
    body = post(client, token, data, language="en-GB,en;q=0.9").get_json()
    assert body["fields"]["channel"] == "An answer is required"
    assert body["fields"]["started_at"].startswith("Must be a date and time")
    body = post(client, token, payload(world, disposition="maybe"), language="en").get_json()
    assert body["fields"]["disposition"].startswith("Must be one of")


def test_required_answers_are_waived_for_non_interviews_but_types_are_not(client, world, token):
    refusal = payload(world, disposition="refusal", answers={})
    assert post(client, token, refusal).status_code == 201
    partial = payload(world, assignment_index=1, disposition="partial",
                      answers={"visited": "maybe"})
    response = post(client, token, partial)
    assert response.status_code == 422 and "visited" in response.get_json()["fields"]


@pytest.mark.parametrize("changes, field", [
    ({"started_at": "yesterday"}, "started_at"),
    ({"finished_at": None}, "finished_at"),
    ({"finished_at": "2024-09-02T07:00:00+07:00"}, "finished_at"),
    ({"assignment_id": "7"}, "assignment_id"),
    ({"assignment_id": 999999}, "assignment_id"),
    ({"questionnaire_version_id": 999999}, "questionnaire_version_id"),
    # past PostgreSQL's integer: refused before any query (the driver would raise: a 500)
    ({"assignment_id": 2**31}, "assignment_id"),
    ({"questionnaire_version_id": 2**63}, "questionnaire_version_id"),
    ({"assignment_id": True}, "assignment_id"),
    ({"answers": ["yes"]}, "answers"),
    ({"respondent": "Phạm Thị Dung"}, "respondent"),
    ({"paradata": 3}, "paradata"),
])
def test_each_malformed_field_is_named(client, world, token, changes, field):
    response = post(client, token, payload(world, **changes))
    assert response.status_code == 422
    assert field in response.get_json()["fields"]


def test_a_body_that_is_not_a_json_object_gives_422(client, world, token):
    assert post(client, token, None, raw="[1, 2]").status_code == 422
    assert post(client, token, None, raw="{not json").status_code == 422


def test_walk_in_needs_a_design_without_a_locked_sample(client, world, token):
    assert post(client, token, payload(world, assignment_index=None)).status_code == 201
    sampled = payload(world, assignment_id=None)
    response = post(client, token, sampled)
    assert response.status_code == 422 and "assignment_id" in response.get_json()["fields"]


def test_a_draft_questionnaire_version_is_refused(app, client, world, token):
    from surveyapp.models import QuestionnaireVersion

    version = _db.session.get(QuestionnaireVersion, world.version)
    draft = QuestionnaireVersion(questionnaire_id=version.questionnaire_id, number=2,
                                 status="draft", document=version.document,
                                 digest=version.digest, source="copy")
    _db.session.add(draft)
    _db.session.commit()
    response = post(client, token, payload(world, questionnaire_version_id=draft.id))
    assert response.status_code == 422
    assert "questionnaire_version_id" in response.get_json()["fields"]


# ---- 401 / 403 first ---------------------------------------------------------------------

def test_no_credentials_401_before_anything_else(client, world):
    assert client.post("/api/v1/interviews", json={}).status_code == 401
    assert client.post("/api/v1/interviews", json=payload(world),
                       headers={"Authorization": "Bearer sa_wrong"}).status_code == 401


def test_a_token_without_the_scope_gets_403_even_for_an_invalid_body(app, client, world):
    from surveyapp.models import User

    user = _db.session.scalar(sa.select(User).where(User.login == world.interviewer))
    raw = create_token(None, "đọc", ["campaigns:read"], user=user)[1]
    assert post(client, raw, {"uuid": None}).status_code == 403


def test_another_interviewers_assignment_is_403_before_422(app, client, world):
    from surveyapp.models import User

    other = _db.session.scalar(sa.select(User).where(User.login == world.other_interviewer))
    raw = create_token(None, "khác", ["interviews:write"], user=other)[1]
    invalid = payload(world, answers={"visited": "perhaps"})
    response = post(client, raw, invalid)
    assert response.status_code == 403
    foreign = _db.session.scalar(sa.select(User).where(User.login == world.foreign_interviewer))
    raw_b = create_token(None, "ngoài", ["interviews:write"], user=foreign)[1]
    assert post(client, raw_b, payload(world, assignment_index=None)).status_code == 403
    assert count(Interview) == 0


def test_session_authentication_needs_the_csrf_header(app, client, world, auth, csrf):
    auth_response = client.get("/login")
    token = _csrf_from(auth_response.get_data(as_text=True))
    client.post("/login", data={"login": world.interviewer, "password": "password-123",
                                "csrf_token": token})
    data = payload(world)
    assert client.post("/api/v1/interviews", json=data).status_code == 400
    page = client.get("/field/").get_data(as_text=True)
    header = _csrf_from(page)
    response = client.post("/api/v1/interviews", json=data, headers={"X-CSRFToken": header})
    assert response.status_code == 201


def _csrf_from(html: str) -> str:
    import re

    match = re.search(r'name="csrf[-_]token" (?:content|value)="([^"]+)"', html) or \
        re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


# ---- corrections: versions, base_version, stale refused ---------------------------------

def test_a_correction_is_a_new_version_pointing_to_the_previous(client, world, token):
    data = payload(world)
    first = post(client, token, data).get_json()
    corrected = dict(data, base_version=1, answers={"visited": "yes", "channel": "online",
                                                    "age": 43})
    response = put(client, token, data["uuid"], corrected)
    assert response.status_code == 200
    body = response.get_json()
    assert body["version"] == 2 and body["receipt"] != first["receipt"]
    interview = _db.session.scalar(sa.select(Interview).where(Interview.uuid == data["uuid"]))
    v1, v2 = interview.versions
    assert (v2.previous_id, v2.base_version, v2.number) == (v1.id, 1, 2)
    assert v1.answers["channel"] == "desk"  # the old version stays as it was
    assert interview.version == 2 and interview.receipt == body["receipt"]


def test_a_stale_correction_is_refused_not_last_write_wins(client, world, token):
    data = payload(world)
    post(client, token, data)
    a = dict(data, base_version=1, answers={"visited": "no", "age": 40})
    b = dict(data, base_version=1, answers={"visited": "no", "age": 60})
    assert put(client, token, data["uuid"], a).status_code == 200
    stale = put(client, token, data["uuid"], b)
    assert stale.status_code == 409 and "error" in stale.get_json()
    interview = _db.session.scalar(sa.select(Interview).where(Interview.uuid == data["uuid"]))
    assert interview.version == 2 and interview.current.answers["age"] == 40
    # A resend of the correction that succeeded is acknowledged, not refused or doubled.
    again = put(client, token, data["uuid"], a)
    assert again.status_code == 200 and again.get_json()["version"] == 2
    assert count(InterviewVersion) == 2


def test_a_correction_needs_its_base_version_and_valid_answers(client, world, token):
    data = payload(world)
    post(client, token, data)
    assert put(client, token, data["uuid"], data).status_code == 422
    bad = dict(data, base_version=1, answers={"visited": "yes"})
    response = put(client, token, data["uuid"], bad)
    assert response.status_code == 422 and "channel" in response.get_json()["fields"]
    moved = dict(data, base_version=1, assignment_id=world.assignments[1])
    assert put(client, token, data["uuid"], moved).status_code == 422


def test_unknown_uuid_is_404_and_another_users_interview_403(app, client, world, token):
    from surveyapp.models import User

    headers = {"Authorization": f"Bearer {token}"}
    missing = "00000000-0000-4000-8000-000000000000"
    assert client.get(f"/api/v1/interviews/{missing}", headers=headers).status_code == 404
    data = payload(world)
    post(client, token, data)
    other = _db.session.scalar(sa.select(User).where(User.login == world.other_interviewer))
    raw = create_token(None, "khác", ["interviews:write"], user=other)[1]
    assert client.get(f"/api/v1/interviews/{data['uuid']}",
                      headers={"Authorization": f"Bearer {raw}"}).status_code == 403
    assert put(client, raw, data["uuid"], dict(data, base_version=1)).status_code == 403


# ---- GET endpoints -------------------------------------------------------------------------

def test_status_of_an_interview(client, world, token):
    data = payload(world)
    body = post(client, token, data).get_json()
    status = client.get(f"/api/v1/interviews/{data['uuid']}",
                        headers={"Authorization": f"Bearer {token}"}).get_json()
    assert status == {"uuid": data["uuid"], "status": "submitted", "receipt": body["receipt"],
                      "version": 1}


def test_assignments_are_the_callers_own_with_the_questionnaire_version(client, world, token):
    rows = client.get("/api/v1/assignments",
                      headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [r["id"] for r in rows] == world.assignments
    assert all(r["questionnaire_version_id"] == world.version for r in rows)
    assert rows[0]["case"]["data"]["name"].startswith("Hồ sơ")
    assert "answers" not in json.dumps(rows)


def test_respondent_data_are_stored_apart_and_never_returned_with_answers(client, world, token):
    data = payload(world)
    post(client, token, data)
    version = _db.session.scalar(sa.select(InterviewVersion))
    assert "name" not in json.dumps(version.answers)
    respondent = _db.session.scalar(sa.select(InterviewRespondent).where(
        InterviewRespondent.version_id == version.id))
    assert respondent.data == data["respondent"]
    status = client.get(f"/api/v1/interviews/{data['uuid']}",
                        headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True)
    assert "Phạm" not in status


def test_canonical_json_follows_rfc8785_forms():
    assert service.canonical_json({"b": 1.0, "a": [1e21, 1e-7, 0.1, -0.0], "é": "ả"}) == \
        '{"a":[1e+21,1e-7,0.1,0],"b":1,"é":"ả"}'.encode()
    # keys sorted by UTF-16 code units (an astral character sorts before U+FFFF)
    assert service.canonical_json({"\uffff": 1, "\U0001f600": 2}).startswith(
        '{"\U0001f600"'.encode())
