"""Field work stays within its organisation and its fieldwork: an interviewer's assignments
and interviews only with a field role in the campaign's organisation (a token limited to
another organisation, a user removed from it: nothing); no interview stored or corrected
once the campaign has left fieldwork; a deeply nested body is a 422, never a 500."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from builders import make_org
from field_builders import payload
from test_field_pages import _context, reader_app, user, world  # noqa: F401 (fixtures)

from surveyapp.auth.policy import can, principal_for_user
from surveyapp.errors import InvalidTransition
from surveyapp.extensions import db as _db
from surveyapp.models import (
    Assignment,
    Campaign,
    Interview,
    InterviewConflict,
    InterviewVersion,
    Membership,
    Organisation,
)
from surveyapp.models.codes import CampaignStatus, Role
from surveyapp.services import assignments as assignment_service
from surveyapp.services import interviews as interview_service
from surveyapp.services import response_import
from surveyapp.services.tokens import create_token

CLOSED = "Cuộc khảo sát không ở giai đoạn thu thập thông tin (chưa bắt đầu hoặc đã kết thúc)"


def count(model, *where) -> int:
    return _db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def token_of(login: str, organisation: Organisation | None = None) -> str:
    return create_token(None, "thiết bị", ["interviews:write"], user=user(login),
                        organisation=organisation)[1]


def second_organisation(world, role: Role = Role.INTERVIEWER) -> Organisation:
    """Another organisation where the world's interviewer also works."""
    org = make_org("Hội Cựu chiến binh thử")
    _db.session.add(Membership(user_id=world.interviewer_id, organisation_id=org.id,
                               role=role.value))
    _db.session.commit()
    return org


def headers(token: str, language: str | None = None) -> dict:
    out = {"Authorization": f"Bearer {token}"}
    if language:
        out["Accept-Language"] = language
    return out


def submitted(client, world, index: int = 0) -> dict:
    data = payload(world, index)
    response = client.post("/api/v1/interviews", json=data,
                           headers=headers(token_of(world.interviewer)))
    assert response.status_code == 201, response.get_json()
    return data


def set_status(campaign_id: int, status: CampaignStatus) -> None:
    _db.session.get(Campaign, campaign_id).status = status.value
    _db.session.commit()


def interview_of(data: dict) -> Interview:
    _db.session.expire_all()
    return _db.session.scalar(sa.select(Interview).where(Interview.uuid == data["uuid"]))


# ---- 1. the campaign's organisation --------------------------------------------------------

def test_a_token_limited_to_another_organisation_lists_none_of_the_interviewers_cases(
        client, world):
    org2 = second_organisation(world)
    everywhere = client.get("/api/v1/assignments", headers=headers(token_of(world.interviewer)))
    assert {a["id"] for a in everywhere.get_json()} == set(world.assignments)
    limited = client.get("/api/v1/assignments",
                         headers=headers(token_of(world.interviewer, org2)))
    assert limited.status_code == 200 and limited.get_json() == []
    assert "Hồ sơ A-1" not in limited.get_data(as_text=True)  # no identifying data


def test_a_token_limited_to_another_organisation_cannot_read_correct_or_submit(client, world):
    data = submitted(client, world)
    limited = token_of(world.interviewer, second_organisation(world))
    url = f"/api/v1/interviews/{data['uuid']}"
    assert client.get(url, headers=headers(limited)).status_code == 403
    correction = dict(data, base_version=1, answers={"visited": "no", "age": 30})
    assert client.put(url, json=correction, headers=headers(limited)).status_code == 403
    other = payload(world, 1)
    refused = client.post("/api/v1/interviews", json=other, headers=headers(limited))
    assert refused.status_code == 403
    assert interview_of(data).version == 1 and count(InterviewVersion) == 1
    assert interview_of(other) is None


def test_a_user_removed_from_the_organisation_no_longer_works_its_cases(client, auth, world):
    data = submitted(client, world)
    token = token_of(world.interviewer)
    second_organisation(world)  # still an interviewer elsewhere: the API stays open to them
    _db.session.execute(sa.delete(Membership).where(
        Membership.user_id == world.interviewer_id, Membership.organisation_id == world.org))
    _db.session.commit()
    assert client.get("/api/v1/assignments", headers=headers(token)).get_json() == []
    url = f"/api/v1/interviews/{data['uuid']}"
    assert client.get(url, headers=headers(token)).status_code == 403
    correction = dict(data, base_version=1, answers={"visited": "no", "age": 30})
    assert client.put(url, json=correction, headers=headers(token)).status_code == 403
    refused = client.post("/api/v1/interviews", json=payload(world, 1), headers=headers(token))
    assert refused.status_code == 403
    assert interview_of(data).version == 1 and count(Interview) == 1
    # The pages and the policy agree: no entry form, no identifying data, no list.
    auth.login(world.interviewer)
    assert client.get(f"/field/assignments/{world.assignments[1]}/entry").status_code == 403
    person = principal_for_user(user(world.interviewer))
    assert not can("respondent.view", interview_of(data), person)
    assert not can("interview.view", interview_of(data), person)
    assert assignment_service.my_assignments(person) == []


def test_the_interviewer_keeps_their_own_work_in_their_organisation(client, world):
    data = submitted(client, world)
    token = token_of(world.interviewer, _db.session.get(Organisation, world.org))
    assert client.get(f"/api/v1/interviews/{data['uuid']}",
                      headers=headers(token)).status_code == 200
    listed = client.get("/api/v1/assignments", headers=headers(token)).get_json()
    assert {a["id"] for a in listed} == set(world.assignments)
    assert assignment_service.my_assignments(
        principal_for_user(user(world.interviewer))) != []


# ---- 2. only while the campaign is fielding -----------------------------------------------

def approved_then_closed(client, world) -> dict:
    """An interview submitted and approved, then the campaign closed: its payload."""
    data = submitted(client, world)
    interview_service.review_interview(user(world.supervisor), interview_of(data), "approve",
                                       "")
    set_status(world.campaign, CampaignStatus.CLOSED)
    return data


def test_a_correction_after_fieldwork_is_refused_and_the_approved_interview_stays(
        client, world):
    data = approved_then_closed(client, world)
    correction = dict(data, base_version=1, answers={"visited": "no", "age": 30})
    url = f"/api/v1/interviews/{data['uuid']}"
    token = token_of(world.interviewer)
    response = client.put(url, json=correction, headers=headers(token))
    assert response.status_code == 409
    assert response.get_json() == {"error": interview_service.message("not_fielding", "vi")}
    assert CLOSED in response.get_json()["error"]
    english = client.put(url, json=correction, headers=headers(token, "en"))
    assert english.status_code == 409 and "not in fieldwork" in english.get_json()["error"]
    interview = interview_of(data)
    assert (interview.status, interview.version) == ("approved", 1)
    assert count(InterviewVersion) == 1
    assert _db.session.get(Assignment, world.assignments[0]).status == "approved"


def test_no_new_interview_outside_fieldwork(client, world):
    token = token_of(world.interviewer)
    for status in (CampaignStatus.CLOSED, CampaignStatus.DRAFT):
        set_status(world.campaign, status)
        data = payload(world)
        response = client.post("/api/v1/interviews", json=data, headers=headers(token))
        assert response.status_code == 409, status
        assert CLOSED in response.get_json()["error"]
    set_status(world.walk_in_campaign, CampaignStatus.ANALYSED)
    walk_in = client.post("/api/v1/interviews", json=payload(world, None),
                          headers=headers(token, "en"))
    assert walk_in.status_code == 409 and "not in fieldwork" in walk_in.get_json()["error"]
    assert count(Interview) == 0 and count(InterviewVersion) == 0
    assert _db.session.get(Assignment, world.assignments[0]).status == "assigned"


def test_after_fieldwork_a_resend_is_acknowledged_and_a_different_one_kept_nowhere(
        client, world):
    data = approved_then_closed(client, world)
    token = token_of(world.interviewer)
    again = client.post("/api/v1/interviews", json=data, headers=headers(token))
    assert again.status_code == 200 and again.get_json()["version"] == 1
    different = dict(data, answers={"visited": "no", "age": 30})
    refused = client.post("/api/v1/interviews", json=different, headers=headers(token))
    assert refused.status_code == 409 and "conflict_id" not in refused.get_json()
    assert count(InterviewConflict) == 0 and interview_of(data).status == "approved"


def test_the_entry_form_and_the_pages_api_refuse_in_vietnamese_after_fieldwork(
        client, auth, world):
    set_status(world.campaign, CampaignStatus.CLOSED)
    auth.login(world.interviewer)
    response = client.get(f"/field/assignments/{world.assignments[0]}/entry",
                          follow_redirects=True)
    assert response.status_code == 200
    assert CLOSED + ": không thể nhập hoặc sửa phiếu." in response.get_data(as_text=True)
    # The entry page sends through the API with the page's language.
    sent = client.post("/api/v1/interviews", json=payload(world),
                       headers={"Accept-Language": "vi"})
    assert sent.status_code == 409 and CLOSED in sent.get_json()["error"]
    assert count(Interview) == 0


def test_returning_an_interview_after_fieldwork_is_refused_approving_is_not(client, world):
    first, second, third = (submitted(client, world, i) for i in range(3))
    set_status(world.campaign, CampaignStatus.CLOSED)
    supervisor = user(world.supervisor)
    with pytest.raises(InvalidTransition, match="không thể trả lại phiếu"):
        interview_service.review_interview(supervisor, interview_of(first), "return",
                                           "Hỏi lại tuổi.")
    assert interview_of(first).status == "submitted"
    interview_service.review_interview(supervisor, interview_of(second), "approve", "")
    interview_service.review_interview(supervisor, interview_of(third), "reject", "Trùng.")
    assert (interview_of(second).status, interview_of(third).status) == ("approved", "rejected")


def test_the_bulk_import_refuses_a_campaign_outside_fieldwork(world):
    set_status(world.walk_in_campaign, CampaignStatus.CLOSED)
    data = ("started_at,finished_at,visited,age\n"
            "2024-09-02T08:00:00+07:00,2024-09-02T08:10:00+07:00,no,40\n").encode()
    campaign = _db.session.get(Campaign, world.walk_in_campaign)
    with pytest.raises(InvalidTransition, match="chỉ nhập được phiếu trả lời"):
        response_import.import_responses(None, campaign, "giay.csv", data)
    assert count(Interview) == 0
    set_status(world.walk_in_campaign, CampaignStatus.FIELDING)
    assert response_import.import_responses(None, campaign, "giay.csv", data)["imported"] == 1


# ---- 3. deeply nested bodies ----------------------------------------------------------------

@pytest.mark.parametrize("depth", [40, 500, 990, 5000])
def test_a_deeply_nested_body_is_a_422_never_a_500(client, world, depth):
    token = token_of(world.interviewer)
    deep = "[" * depth + "]" * depth
    bodies = ['{"answers": ' + deep + "}",
              json.dumps(payload(world)).replace('"answers": {', '"answers": {"x": '
                                                 + deep + ", ", 1)]
    for body in bodies:
        response = client.post("/api/v1/interviews", data=body, headers=headers(token),
                               content_type="application/json")
        assert response.status_code == 422, (depth, response.status_code)
        assert set(response.get_json()) == {"error", "fields"}
    data = submitted(client, world)
    corrected = client.put(f"/api/v1/interviews/{data['uuid']}", data=bodies[1],
                           headers=headers(token), content_type="application/json")
    assert corrected.status_code == 422
    assert count(Interview) == 1 and count(InterviewVersion) == 1
