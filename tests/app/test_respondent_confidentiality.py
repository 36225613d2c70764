"""Respondent confidentiality (issue 8 part 5, Decision 104/2024 Art. 3.4).

Identifying data encrypted at rest with rotatable keys; shown only to the assigned interviewer
and the supervisors while fielding; never reachable by an analyst or the UBND office by any
page, API or download; purged after the campaign closes and its retention passes, answers
kept, the purge audited.
"""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from datetime import timedelta

import builders
import pytest
import sqlalchemy as sa
from builders import app_config, make_user
from flask_migrate import downgrade, upgrade
from test_route_matrix import url_for_rule

from surveyapp import create_app
from surveyapp.crypto import RespondentKeyError, decrypt_json, new_key
from surveyapp.extensions import db as _db
from surveyapp.models import (
    AuditEvent,
    Campaign,
    Interview,
    InterviewRespondent,
    InterviewVersion,
    Organisation,
    SamplingCase,
    SamplingPlan,
)
from surveyapp.models._types import utcnow
from surveyapp.models.codes import CampaignStatus, Role, TokenScope
from surveyapp.services import respondents
from surveyapp.services.campaigns import transition_campaign
from surveyapp.services.tokens import create_token

NAME, PHONE, ADDRESS = "Phạm Thị Dung Bảo Mật", "0909123456", "12 Đường Bí Mật"
CASE_NAME, CASE_PHONE = "Hồ sơ của Lý Văn Kín", "0911222333"
SECRETS = (NAME, PHONE, ADDRESS, CASE_NAME, CASE_PHONE)


def raw(table: str, row_id: int) -> str:
    return _db.session.execute(sa.text(f"SELECT data FROM {table} WHERE id = :i"),
                               {"i": row_id}).scalar_one()


def plain(value):
    """A plain JSON column read raw: text on SQLite, already a dict on PostgreSQL."""
    return json.loads(value) if isinstance(value, str) else value


def add_identifying_data(world) -> None:
    """Give both worlds' interviews a respondent and their cases label columns; fielding."""
    for context in ("own", "foreign"):
        objects = world.objects[context]
        interview = _db.session.get(Interview, objects["interview"])
        _db.session.add(InterviewRespondent(version_id=interview.current.id,
                                            data={"name": NAME, "phone": PHONE,
                                                  "address": ADDRESS}))
        interview.assignment.case.data = {"name": CASE_NAME, "phone": CASE_PHONE}
        _db.session.get(SamplingPlan, objects["sampling_plan"]).label_columns = ["name", "phone"]
        _db.session.get(Campaign, objects["campaign"]).status = CampaignStatus.FIELDING.value
    _db.session.commit()


def body_text(response) -> str:
    data = response.get_data()
    if data[:2] == b"PK":  # xlsx/zip downloads: search inside every member
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())
        except zipfile.BadZipFile:
            pass
    return data.decode("utf-8", "replace")


# ---- encryption at rest ---------------------------------------------------------------------

def test_identifying_data_are_encrypted_at_rest_and_read_back_in_clear(app, db):
    with app.app_context():
        world = builders.make_world()
        add_identifying_data(world)
        interview = _db.session.get(Interview, world.objects["own"]["interview"])
        row = _db.session.scalar(sa.select(InterviewRespondent).where(
            InterviewRespondent.version_id == interview.current.id))
        stored = raw("interview_respondent", row.id)
        case_stored = raw("sampling_case", interview.assignment.case.id)
        for secret in SECRETS:
            assert secret not in stored and secret not in case_stored
        assert stored.startswith("gAAAAA")  # a Fernet token
        _db.session.expire_all()
        assert respondents.respondent_data(interview) == {"name": NAME, "phone": PHONE,
                                                           "address": ADDRESS}
        assert interview.assignment.case.data == {"name": CASE_NAME, "phone": CASE_PHONE}
        # the answers stay plain JSON, readable by analysis as before
        assert "gAAAAA" not in json.dumps(interview.current.answers)


def test_the_submission_api_stores_the_respondent_encrypted(app, db, client):
    from field_builders import make_field_world, payload

    with app.app_context():
        world = make_field_world(prefix="enc")
        from surveyapp.models import User

        user = _db.session.scalar(sa.select(User).where(User.login == world.interviewer))
        token = create_token(None, "thiết bị", ["interviews:write"], user=user)[1]
    data = payload(world, respondent={"name": NAME, "phone": PHONE})
    response = client.post("/api/v1/interviews", json=data,
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 201, response.get_data(as_text=True)
    with app.app_context():
        interview = _db.session.scalar(sa.select(Interview).where(Interview.uuid == data["uuid"]))
        row_id = _db.session.scalar(sa.select(InterviewRespondent.id).where(
            InterviewRespondent.version_id == interview.current.id))
        assert NAME not in raw("interview_respondent", row_id)
        assert respondents.respondent_data(interview) == {"name": NAME, "phone": PHONE}


def test_rotation_keeps_old_rows_readable_then_lets_the_old_key_go(app, db, runner,
                                                                   monkeypatch):
    old_keys = list(app.config["RESPONDENT_KEYS"])
    with app.app_context():
        world = builders.make_world()
        add_identifying_data(world)
        interview_id = world.objects["own"]["interview"]
        interview = _db.session.get(Interview, interview_id)
        row_id = _db.session.scalar(sa.select(InterviewRespondent.id).where(
            InterviewRespondent.version_id == interview.current.id))
        case_id = interview.assignment.case.id
        before = raw("interview_respondent", row_id)
    fresh = new_key()
    # 1. a new key put first: rows written under the old key stay readable
    monkeypatch.setitem(app.config, "RESPONDENT_KEYS", [fresh, *old_keys])
    with app.app_context():
        _db.session.expire_all()
        assert respondents.respondent_data(_db.session.get(Interview, interview_id))["name"] == NAME
    # 2. rotate-key re-encrypts every row with the new key
    result = runner.invoke(args=["respondents", "rotate-key"])
    assert result.exit_code == 0, result.output
    assert "interview_respondent\t" in result.output and "sampling_case\t" in result.output
    with app.app_context():
        after = raw("interview_respondent", row_id)
        assert after != before
        assert decrypt_json(after, None) == {"name": NAME, "phone": PHONE, "address": ADDRESS}
    # 3. the old key dropped: everything still opens
    monkeypatch.setitem(app.config, "RESPONDENT_KEYS", [fresh])
    with app.app_context():
        _db.session.expire_all()
        assert respondents.respondent_data(_db.session.get(Interview, interview_id))["name"] == NAME
        assert _db.session.get(SamplingCase, case_id).data["name"] == CASE_NAME
    # 4. a key dropped before rotating: a clear one-line error, nothing rewritten
    monkeypatch.setitem(app.config, "RESPONDENT_KEYS", [new_key()])
    with app.app_context():
        _db.session.expire_all()
        with pytest.raises(RespondentKeyError):
            decrypt_json(raw("interview_respondent", row_id))
    result = runner.invoke(args=["respondents", "rotate-key"])
    assert result.exit_code == 1
    assert "cannot be decrypted" in result.output and "Traceback" not in result.output


def test_keys_come_from_the_environment_or_a_generated_instance_file(tmp_path, monkeypatch):
    k1, k2 = new_key(), new_key()
    url = f"sqlite:///{tmp_path / 'keys.sqlite3'}"
    monkeypatch.setenv("RESPONDENT_KEYS", f"{k1}, {k2}")
    assert create_app(app_config(url)).config["RESPONDENT_KEYS"] == [k1, k2]
    monkeypatch.delenv("RESPONDENT_KEYS")
    monkeypatch.setenv("SURVEYAPP_RESPONDENT_KEYS", json.dumps([k2, k1]))
    assert create_app(app_config(url)).config["RESPONDENT_KEYS"] == [k2, k1]
    monkeypatch.delenv("SURVEYAPP_RESPONDENT_KEYS")
    with pytest.raises(RespondentKeyError, match="key 1 is not a Fernet key"):
        create_app(app_config(url, RESPONDENT_KEYS=["not-a-key"]))
    with pytest.raises(ValueError, match="RESPONDENT_RETENTION_DAYS must be"):
        create_app(app_config(url, RESPONDENT_RETENTION_DAYS="-3"))
    assert create_app(app_config(url, RESPONDENT_RETENTION_DAYS="7")
                      ).config["RESPONDENT_RETENTION_DAYS"] == 7
    # embedded default: one key generated into the instance folder, mode 600, kept
    from flask import Flask

    from surveyapp.config import load_config

    flask_app = Flask("x", instance_path=str(tmp_path / "instance"))
    load_config(flask_app, {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "s"})
    key_file = tmp_path / "instance" / "respondent_keys"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert flask_app.config["RESPONDENT_KEYS"] == [key_file.read_text().strip()]
    again = Flask("x", instance_path=str(tmp_path / "instance"))
    load_config(again, {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "s"})
    assert again.config["RESPONDENT_KEYS"] == flask_app.config["RESPONDENT_KEYS"]


@pytest.fixture
def scratch_database_url(tmp_path, database_url):
    """An empty database of the kind under test: a SQLite file, or a PostgreSQL database
    created next to TEST_DATABASE_URL's and dropped afterwards."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'm.sqlite3'}"
        return
    url = sa.engine.make_url(database_url)
    name = f"{url.database}_resp_mig"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_the_migration_encrypts_rows_stored_in_plain_json(scratch_database_url):
    app = create_app(app_config(scratch_database_url))
    with app.app_context():
        upgrade()
        world = builders.make_world()
        interview = _db.session.get(Interview, world.objects["own"]["interview"])
        version_id, case_id = interview.current.id, interview.assignment.case.id
        _db.session.remove()
        downgrade(revision="0005_one_interview_per_case")  # tokens back to plain JSON
        assert plain(raw("sampling_case", case_id)) == {}
        j = "CAST(:d AS JSONB)" if _db.engine.dialect.name == "postgresql" else ":d"
        _db.session.execute(sa.text(
            f"INSERT INTO interview_respondent (version_id, data) VALUES (:v, {j})"),
            {"v": version_id, "d": json.dumps({"name": NAME})})
        _db.session.execute(sa.text(f"UPDATE sampling_case SET data = {j} WHERE id = :i"),
                            {"d": json.dumps({"name": CASE_NAME}), "i": case_id})
        _db.session.commit()
        _db.session.remove()
        upgrade(revision="0006_respondent_crypto")
        stored = _db.session.execute(sa.text(
            "SELECT data FROM interview_respondent WHERE version_id = :v"),
            {"v": version_id}).scalar_one()
        assert NAME not in stored and decrypt_json(stored) == {"name": NAME}
        assert decrypt_json(raw("sampling_case", case_id)) == {"name": CASE_NAME}
        _db.session.remove()
        downgrade(revision="0005_one_interview_per_case")
        stored = _db.session.execute(sa.text(
            "SELECT data FROM interview_respondent WHERE version_id = :v"),
            {"v": version_id}).scalar_one()
        assert plain(stored) == {"name": NAME}
        _db.session.remove()
        _db.engine.dispose()


# ---- who sees them --------------------------------------------------------------------------

def test_only_the_interviewer_and_supervisors_see_them_and_only_while_fielding(app, db, client,
                                                                               auth):
    with app.app_context():
        world = builders.make_world()
        add_identifying_data(world)
        interview_id = world.objects["own"]["interview"]
        campaign_id = world.objects["own"]["campaign"]
    url = f"/field/interviews/{interview_id}"
    for role, sees in (("supervisor", True), ("org_admin", False), ("system_admin", False)):
        client.post("/logout")
        auth.login(world.logins[role])
        page = client.get(url)
        assert page.status_code == 200, role
        assert (NAME in page.get_data(as_text=True)) is sees, role
        assert (PHONE in page.get_data(as_text=True)) is sees, role
    with app.app_context():
        from surveyapp.auth.policy import can, principal_for_user
        from surveyapp.models import User

        interview = _db.session.get(Interview, interview_id)
        user = _db.session.scalar(sa.select(User).where(User.login == world.logins["interviewer"]))
        assert can("respondent.view", interview, principal_for_user(user))
        analyst = _db.session.scalar(sa.select(User).where(User.login == world.logins["analyst"]))
        assert not can("respondent.view", interview, principal_for_user(analyst))
        _db.session.get(Campaign, campaign_id).status = CampaignStatus.CLOSED.value
        _db.session.commit()
        assert not can("respondent.view", interview, principal_for_user(user))
    client.post("/logout")
    auth.login(world.logins["supervisor"])
    page = client.get(url).get_data(as_text=True)
    assert NAME not in page and "không được xem" in page


def test_an_analyst_and_the_office_reach_identifying_data_by_no_route(app, db, client, auth,
                                                                      connection):
    """Every registered GET route (pages, API with a token of every scope, downloads), as
    an analyst of the organisation and as the UBND office reviewer, in every campaign state;
    the respondent's name, phone and address never appear in a response."""
    with app.app_context():
        world = builders.make_world()
        add_identifying_data(world)
        office_org = _db.session.get(Organisation, world.office)
        from surveyapp.models import User

        tokens = {}
        for role in ("analyst", "office_reviewer"):
            user = _db.session.scalar(sa.select(User).where(User.login == world.logins[role]))
            tokens[role] = create_token(None, "all", [s.value for s in TokenScope], user=user)[1]
        assert office_org is not None
    rules = [r for r in app.url_map.iter_rules()
             if "GET" in r.methods and r.endpoint not in ("static", "auth.logout")]
    # the supervisor's page shows them: the search below would find a leak
    auth.login(world.logins["supervisor"])
    assert NAME in client.get(f"/field/interviews/{world.objects['own']['interview']}"
                              ).get_data(as_text=True)
    leaks, reached = [], 0
    for status in (CampaignStatus.FIELDING, CampaignStatus.CLOSED, CampaignStatus.SUBMITTED):
        with app.app_context():
            for context in ("own", "foreign"):
                _db.session.get(Campaign, world.objects[context]["campaign"]).status = status.value
            _db.session.commit()
        for role in ("analyst", "office_reviewer"):
            client.post("/logout")
            auth.login(world.logins[role])
            # neither the respondent's data nor the frame's identifying columns of the cases
            secrets = SECRETS
            for rule in rules:
                for context in ("own", "foreign"):
                    url = url_for_rule(rule, world.objects[context])
                    if url is None:
                        continue
                    headers = ({"Authorization": f"Bearer {tokens[role]}"}
                               if url.startswith("/api/") else {})
                    savepoint = connection.begin_nested()
                    try:
                        response = client.get(url, headers=headers)
                        text = body_text(response)
                        response.close()
                    finally:
                        savepoint.rollback()
                    assert response.status_code < 500, (url, role)
                    reached += response.status_code == 200
                    leaks += [(status.value, role, url, s) for s in secrets if s in text]
    assert leaks == []
    assert reached > 50  # the walk really opened pages


# ---- purge ----------------------------------------------------------------------------------

def _closed_world(app):
    with app.app_context():
        world = builders.make_world()
        add_identifying_data(world)
        return world


def _close(world, actor_login="a.org_admin"):
    from surveyapp.models import User

    campaign = _db.session.get(Campaign, world.objects["own"]["campaign"])
    actor = _db.session.scalar(sa.select(User).where(User.login == actor_login))
    transition_campaign(actor, campaign, CampaignStatus.CLOSED.value)
    return campaign


def test_purge_removes_identifying_data_keeps_answers_and_is_audited(app, db):
    with app.app_context():
        world = _closed_world(app)
        interview_id = world.objects["own"]["interview"]
        other_interview_id = world.objects["foreign"]["interview"]
        # a kept conflicting submission carries its own identifying data
        from surveyapp.models import InterviewConflict

        conflict = InterviewConflict(interview_id=interview_id, payload={"answers": {}},
                                     content_sha256="1" * 64, status_before="submitted")
        _db.session.add(conflict)
        _db.session.flush()
        _db.session.add(InterviewRespondent(conflict_id=conflict.id, data={"name": NAME}))
        from surveyapp.models import RespondentKey

        _db.session.add(RespondentKey(version_id=_db.session.get(
            Interview, interview_id).current.id, campaign_id=world.objects["own"]["campaign"],
            key_hash="a" * 64))
        _db.session.commit()
        campaign = _close(world)
        answers_before = dict(_db.session.get(Interview, interview_id).current.answers)
        # nothing before the retention passes (default 30 days)
        assert app.config["RESPONDENT_RETENTION_DAYS"] == 30
        early = respondents.purge_campaign(None, campaign)
        assert not early.purged and early.reason == "retention" and early.respondents == 2
        later = utcnow() + timedelta(days=31)
        dry = respondents.purge_campaign(None, campaign, now=later, dry_run=True)
        assert not dry.purged and dry.respondents == 2 and dry.case_labels == 1
        interview = _db.session.get(Interview, interview_id)
        assert respondents.respondent_data(interview) is not None
        # the real purge
        result = respondents.purge_campaign(None, campaign, now=later)
        assert result.purged and (result.respondents, result.case_labels) == (2, 1)
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(
            InterviewRespondent).where(InterviewRespondent.conflict_id == conflict.id)) == 0
        _db.session.expire_all()
        interview = _db.session.get(Interview, interview_id)
        assert respondents.respondent_data(interview) is None
        assert interview.assignment.case.data == {}
        assert interview.current.answers == answers_before
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(InterviewVersion).where(
            InterviewVersion.interview_id == interview_id)) == 1
        events = list(_db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.object_type == "campaign", AuditEvent.object_id == str(campaign.id),
            AuditEvent.action == "delete")))
        assert len(events) == 1
        assert events[0].after["respondents"] == 2 and events[0].after["case_labels"] == 1
        assert result.contact_hashes == 1 and events[0].after["contact_hashes"] == 1
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(RespondentKey).where(
            RespondentKey.campaign_id == campaign.id)) == 0
        # the fielding campaign of the other organisation is untouched
        other = _db.session.get(Interview, other_interview_id)
        assert respondents.respondent_data(other) == {"name": NAME, "phone": PHONE,
                                                       "address": ADDRESS}
        assert not respondents.purge_campaign(None, other.campaign, now=later).purged
        # a second purge finds nothing and writes no second event
        assert respondents.purge_campaign(None, campaign, now=later).reason == "nothing"
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.object_id == str(campaign.id), AuditEvent.action == "delete")) == 1


def test_purge_cli_dry_run_retention_zero_and_bad_campaign(app, db, runner, monkeypatch):
    with app.app_context():
        world = _closed_world(app)
        campaign_id = _close(world).id
        fielding_id = world.objects["foreign"]["campaign"]
    result = runner.invoke(args=["respondents", "purge", "--campaign", str(fielding_id)])
    assert result.exit_code == 0 and "not closed" in result.output
    result = runner.invoke(args=["respondents", "purge"])
    assert result.exit_code == 0 and "kept until" in result.output
    monkeypatch.setitem(app.config, "RESPONDENT_RETENTION_DAYS", 0)
    result = runner.invoke(args=["respondents", "purge", "--dry-run"])
    assert result.exit_code == 0
    assert f"{campaign_id}\twould purge\trespondents=1\tcase_labels=1" in result.output
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(
            InterviewRespondent)) == 2
    result = runner.invoke(args=["respondents", "purge"])
    assert result.exit_code == 0, result.output
    assert f"{campaign_id}\tpurged\trespondents=1\tcase_labels=1" in result.output
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(
            InterviewRespondent)) == 1
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
            AuditEvent.object_id == str(campaign_id), AuditEvent.action == "delete",
            AuditEvent.actor_label == "cli")) == 1
    result = runner.invoke(args=["respondents", "purge", "--campaign", "999999"])
    assert result.exit_code == 1 and "no survey campaign 999999" in result.output
    assert "Traceback" not in result.output


def test_new_key_command_prints_a_usable_key(runner):
    result = runner.invoke(args=["respondents", "new-key"])
    assert result.exit_code == 0
    from cryptography.fernet import Fernet

    Fernet(result.output.strip().encode())


def test_analyst_pages_name_interviews_by_pseudonymous_ids_only(app, db, client, auth):
    """An analyst's campaign pages never carry a respondent's name (see the route walk); the
    interview page, where ids live, is closed to analysts altogether."""
    with app.app_context():
        world = builders.make_world()
        add_identifying_data(world)
        make_user("a.analyst2", _db.session.get(Organisation, world.org_a), Role.ANALYST)
    auth.login("a.analyst2")
    assert client.get(f"/field/interviews/{world.objects['own']['interview']}"
                      ).status_code == 403


def test_the_org_admin_purges_from_the_campaign_page(app, db, client, auth, csrf):
    with app.app_context():
        world = _closed_world(app)
        fielding_id = world.objects["own"]["campaign"]
    from test_field_pages import login_with_csrf

    login_with_csrf(client, world.logins["org_admin"])
    page = client.get(f"/campaigns/{fielding_id}/respondents").get_data(as_text=True)
    assert 'data-testid="respondents-count">1<' in page and 'data-testid="purge"' not in page
    assert NAME not in page and PHONE not in page
    # without the CSRF token: refused, nothing deleted
    response = client.post(f"/campaigns/{fielding_id}/respondents/purge")
    assert response.status_code in (302, 400)
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(
            InterviewRespondent)) == 2

    def token(url):
        import re

        html = client.get(url).get_data(as_text=True)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)

    url = f"/campaigns/{fielding_id}/respondents"
    # fielding: refused with a message
    response = client.post(f"{url}/purge", data={"csrf_token": token(url)},
                           follow_redirects=True)
    assert "chỉ được xóa thông tin nhận dạng sau khi" in response.get_data(as_text=True).lower()
    with app.app_context():
        _close(world)
    # closed, retention not passed: kept until the due date
    response = client.post(f"{url}/purge", data={"csrf_token": token(url)},
                           follow_redirects=True)
    assert "được lưu giữ đến" in response.get_data(as_text=True)
    app.config["RESPONDENT_RETENTION_DAYS"] = 0
    try:
        page = client.get(url).get_data(as_text=True)
        assert 'data-testid="purge"' in page
        response = client.post(f"{url}/purge", data={"csrf_token": token(url)},
                               follow_redirects=True)
    finally:
        app.config["RESPONDENT_RETENTION_DAYS"] = 30
    text = response.get_data(as_text=True)
    assert "Đã xóa thông tin nhận dạng: 1 người trả lời, 1 trường hợp mẫu." in text
    with app.app_context():
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(
            InterviewRespondent)) == 1
        event = _db.session.scalar(sa.select(AuditEvent).where(
            AuditEvent.action == "delete", AuditEvent.object_id == str(fielding_id)))
        assert event.actor_label == world.logins["org_admin"]


def test_the_interviewer_sees_the_case_labels_only_while_fielding(app, db, client, auth):
    with app.app_context():
        world = builders.make_world()
        add_identifying_data(world)
        from surveyapp.models import Assignment, User

        user = _db.session.scalar(sa.select(User).where(
            User.login == world.logins["interviewer"]))
        token = create_token(None, "thiết bị", ["interviews:write"], user=user)[1]
        assignment = _db.session.get(Assignment, world.objects["own"]["assignment"])
        assignment.status = "assigned"
        _db.session.commit()
    auth.login(world.logins["interviewer"])
    api = {"Authorization": f"Bearer {token}"}
    entry = f"/field/assignments/{world.objects['own']['assignment']}/entry"
    assert CASE_NAME in client.get("/field/").get_data(as_text=True)
    assert CASE_NAME in client.get("/api/v1/assignments", headers=api).get_data(as_text=True)
    with app.app_context():
        _close(world)
    for url, headers in (("/field/", {}), ("/api/v1/assignments", api), (entry, {})):
        response = client.get(url, headers=headers)
        assert response.status_code < 500, url
        assert CASE_NAME not in response.get_data(as_text=True), url


def test_supervisors_no_longer_see_case_labels_once_the_survey_closes(app, db, client, auth):
    from field_builders import make_field_world

    with app.app_context():
        world = make_field_world(prefix="lbl")
    auth.login(world.supervisor)
    url = f"/field/campaigns/{world.campaign}/assignments"
    assert "Hồ sơ A-1" in client.get(url).get_data(as_text=True)
    with app.app_context():
        _db.session.get(Campaign, world.campaign).status = CampaignStatus.CLOSED.value
        _db.session.commit()
    page = client.get(url)
    assert page.status_code == 200 and "Hồ sơ A-1" not in page.get_data(as_text=True)


def test_the_campaign_page_links_the_purge_page_for_org_admins_only(app, db, client, auth):
    with app.app_context():
        world = builders.make_world()
    url = f"/campaigns/{world.objects['own']['campaign']}"
    for role, sees in (("org_admin", True), ("analyst", False), ("supervisor", False)):
        client.post("/logout")
        auth.login(world.logins[role])
        assert ('data-testid="respondents-link"' in client.get(url).get_data(as_text=True)
                ) is sees, role
