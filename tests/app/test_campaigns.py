"""Survey campaigns: create, edit, the status workflow, audit, organisation isolation."""

import builders
import pytest
from sqlalchemy import select

from surveyapp.errors import InvalidTransition
from surveyapp.models import AuditEvent, Campaign
from surveyapp.models.codes import CampaignStatus, Role
from surveyapp.services import campaigns


@pytest.fixture
def org(app, db):
    with app.app_context():
        org = builders.make_org()
        builders.make_user("lan", org, Role.ANALYST)
        builders.make_user("hong", org, Role.INTERVIEWER)
        builders.make_user("tuan", org, Role.ORG_ADMIN)
        agency = builders.make_agency()
        procedure = builders.make_procedure(agencies=[agency])
        return {"id": org.id, "agency": agency.id, "procedure": procedure.id}


def form(org, **changes):
    data = {"organisation_id": org["id"], "title": "Khảo sát sự hài lòng năm 2025",
            "year": "2025", "fieldwork_start": "2025-09-01", "fieldwork_end": "2025-10-31",
            "description": "Theo Quyết định 104/2024/QĐ-UBND", "agencies": [org["agency"]],
            "procedures": [org["procedure"]]}
    data.update(changes)
    return data


def test_analyst_creates_edits_and_moves_a_campaign(app, db, client, auth, org):
    auth.login("lan")
    response = client.post("/campaigns/new", data=form(org))
    assert response.status_code == 302
    campaign_url = response.headers["Location"]
    page = client.get(campaign_url).get_data(as_text=True)
    assert "Khảo sát sự hài lòng năm 2025" in page and "01/09/2025" in page
    assert client.post(campaign_url + "/edit",
                       data=form(org, title="Khảo sát năm 2025 (sửa)")).status_code == 302
    client.post(campaign_url + "/transition", data={"target": "fielding"})
    with app.app_context():
        campaign = db.session.scalar(select(Campaign))
        assert campaign.title == "Khảo sát năm 2025 (sửa)" and campaign.status == "fielding"
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "campaign").order_by(AuditEvent.id)).all()
        assert [e.action for e in events] == ["create", "update", "state"]
        assert events[1].before["title"] == "Khảo sát sự hài lòng năm 2025"
        assert events[1].after["title"] == "Khảo sát năm 2025 (sửa)"
        assert events[2].before == {"status": "draft"} and events[2].after == {"status": "fielding"}
        assert all(e.actor_label == "lan" and e.organisation_id == org["id"] for e in events)


def test_the_whole_workflow_and_refused_jumps(app, db, org):
    with app.app_context():
        o = db.session.get(builders.Organisation, org["id"])
        c = builders.make_campaign(o, agencies=[db.session.get(builders.Agency, org["agency"])])
        with pytest.raises(InvalidTransition):
            campaigns.transition_campaign(None, c, "submitted")
        for target in ("fielding", "closed", "fielding", "closed", "analysed", "submitted"):
            campaigns.transition_campaign(None, c, target)
        assert c.status == "submitted"
        for target in CampaignStatus:
            with pytest.raises(InvalidTransition):
                campaigns.transition_campaign(None, c, target.value)
        with pytest.raises(InvalidTransition):
            campaigns.transition_campaign(None, c, "published-by-magic")


def test_fielding_needs_a_target_agency(app, db, client, auth, org):
    with app.app_context():
        c = builders.make_campaign(db.session.get(builders.Organisation, org["id"]))
        campaign_id = c.id
    auth.login("lan")
    page = client.post(f"/campaigns/{campaign_id}/transition", data={"target": "fielding"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Hãy chọn ít nhất một cơ quan được khảo sát" in page
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).status == "draft"


def test_only_the_organisation_admin_submits(app, db, client, auth, org):
    with app.app_context():
        c = builders.make_campaign(db.session.get(builders.Organisation, org["id"]),
                                   status=CampaignStatus.ANALYSED)
        campaign_id = c.id
    auth.login("lan")
    assert "Chuyển sang “Đã gửi Văn phòng UBND”" not in client.get(
        f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert client.post(f"/campaigns/{campaign_id}/transition",
                       data={"target": "submitted"}).status_code == 403
    auth.logout()
    auth.login("tuan")
    assert client.post(f"/campaigns/{campaign_id}/transition",
                       data={"target": "submitted"}).status_code == 302
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).status == "submitted"


def test_targets_are_frozen_after_fieldwork_starts(app, db, client, auth, org):
    auth.login("lan")
    url = client.post("/campaigns/new", data=form(org)).headers["Location"]
    client.post(url + "/transition", data={"target": "fielding"})
    page = client.post(url + "/edit", data=form(org, agencies=[])).get_data(as_text=True)
    assert "Chỉ được đổi cơ quan và thủ tục" in page


def test_interviewer_cannot_create_or_edit(app, db, client, auth, org):
    auth.login("hong")
    assert client.get("/campaigns/new").status_code == 403
    assert "Tạo cuộc khảo sát" not in client.get("/campaigns/").get_data(as_text=True)


def test_no_campaign_of_another_organisation_is_listed(app, db, client, auth, org):
    with app.app_context():
        other = builders.make_org("Tổ chức khác")
        builders.make_campaign(other, title="Bí mật của tổ chức khác")
    auth.login("lan")
    assert "Bí mật của tổ chức khác" not in client.get("/campaigns/").get_data(as_text=True)
    assert "Bí mật" not in client.get("/").get_data(as_text=True)
    assert all(c["title"] != "Bí mật của tổ chức khác"
               for c in client.get("/api/v1/campaigns").json)


def test_cannot_create_for_a_foreign_organisation(app, db, client, auth, org):
    with app.app_context():
        other_id = builders.make_org("Tổ chức khác").id
    auth.login("lan")
    page = client.post("/campaigns/new", data=form(org, organisation_id=other_id))
    assert page.status_code == 200 and "Lựa chọn không hợp lệ" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Campaign)) is None
