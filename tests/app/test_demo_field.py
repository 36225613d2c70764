"""The demo's field work (issue 7): the demo sample assigned, interviewed and reviewed."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from field_builders import field_principal

from surveyapp.extensions import db as _db
from surveyapp.models import (
    Assignment,
    AuditEvent,
    Campaign,
    Interview,
    InterviewConflict,
    InterviewVersion,
    Organisation,
    QuestionnaireVersion,
)
from surveyapp.models.codes import Disposition
from surveyapp.questionnaires import Questionnaire as Definition
from surveyapp.questionnaires.answers import check_answers, compile_questionnaire
from surveyapp.services import assignments, demo, demo_field, interviews


def count(model) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def campaign(app, db):
    with app.app_context():
        demo.load_demo()
        org = _db.session.scalar(sa.select(Organisation).where(
            Organisation.name == demo.CITY_FRONT))
        yield _db.session.scalar(sa.select(Campaign).where(
            Campaign.title == demo.CAMPAIGN_TITLE, Campaign.organisation_id == org.id))


def test_every_selected_case_of_the_demo_sample_is_assigned(campaign):
    rows = assignments.case_rows(campaign)
    selected = [r for r in rows if r.case.status == "selected"]
    assert len(selected) == 80
    interviewer = _db.session.scalar(sa.select(Assignment)).interviewer
    assert interviewer.login == demo_field.INTERVIEWER
    for r in selected:
        assert r.assignment is not None, r.case.unit_id
        assert r.assignment.interviewer.login == demo_field.INTERVIEWER
        assert r.assignment.supervisor.login == demo_field.SUPERVISOR
    # Reserves are not assigned: no non-response was replaced in the demo.
    assert all(r.assignment is None for r in rows if r.case.status == "reserve")
    assert len(assignments.my_assignments(field_principal(interviewer.id))) == 80


def test_approved_demo_interviews_pass_the_questionnaires_checks(campaign):
    approved = interviews.approved_interviews(campaign)
    assert len(approved) >= 40
    complete = [v for v in approved if v.disposition == Disposition.COMPLETE]
    assert len(complete) >= 30
    assert any(v.disposition in (Disposition.REFUSAL, Disposition.NON_CONTACT)
               for v in approved)
    compiled: dict[int, object] = {}
    for v in approved:
        assert v.interview.status == "approved" and v.number == v.interview.version
        qv = _db.session.get(QuestionnaireVersion, v.questionnaire_version_id)
        assert qv.frozen and qv.id == campaign.questionnaire_version_id
        if qv.id not in compiled:
            compiled[qv.id] = compile_questionnaire(Definition.from_dict(qv.document))
        errors = check_answers(compiled[qv.id], v.answers, today=dt.date(2024, 10, 31))
        if v.disposition == Disposition.COMPLETE:
            assert errors == {}, (v.interview.uuid, errors)
            assert len(v.answers) >= 10
        else:
            assert v.answers == {}
    # Agencies differ in satisfaction: not every complete interview looks alike.
    assert len({tuple(sorted(map(str, v.answers.items()))) for v in complete}) == len(complete)


def test_one_demo_interview_is_returned_with_a_comment_and_some_wait(campaign):
    returned = list(_db.session.scalars(sa.select(Interview).where(
        Interview.campaign_id == campaign.id, Interview.status == "returned")))
    assert len(returned) == 1
    (interview,) = returned
    assert interview.review_comment.strip()
    assert interview.assignment.status == "returned"
    assert interview.assignment.comment == interview.review_comment
    waiting = interviews.review_queue(campaign)
    assert waiting and all(i.status == "submitted" for i in waiting)
    # Every review decision is in the audit log (this campaign's: the demo has another year).
    ids = [str(i) for i in _db.session.scalars(sa.select(Interview.id).where(
        Interview.campaign_id == campaign.id))]
    reviewed = len(ids) - len(waiting)
    decisions = _db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "interview", AuditEvent.action == "state",
        AuditEvent.object_id.in_(ids)))
    assert decisions == reviewed


def test_loading_the_demo_again_adds_nothing(campaign):
    models = (Assignment, Interview, InterviewVersion, InterviewConflict, AuditEvent)
    before = {m.__name__: count(m) for m in models}
    statuses = sorted(_db.session.scalars(sa.select(Interview.status)))
    result = demo.load_demo()
    assert result.created is False
    assert {m.__name__: count(m) for m in models} == before
    assert sorted(_db.session.scalars(sa.select(Interview.status))) == statuses
