"""Response rates of a campaign from its assignments and interviews (issue 8): which
dispositions count, the groups, weighting, the page and its CSV/XLSX download."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from field_builders import make_field_world, payload

from surveyapp.auth.policy import principal_for_user
from surveyapp.errors import DomainError
from surveyapp.extensions import db as _db
from surveyapp.models import Assignment, Campaign, User
from surveyapp.services import interviews as interview_service
from surveyapp.services import response_rates as service


def user(login: str) -> User:
    return _db.session.scalar(sa.select(User).where(User.login == login))


def submit(world, index: int, **changes):
    person = user(world.interviewer)
    data = payload(world, index, respondent={"phone": f"09091234{index:02d}"}, **changes)
    outcome = interview_service.submit_interview(principal_for_user(person), person, data)
    assert outcome.status == 201, outcome.body
    return interview_service.get_by_uuid(data["uuid"])


def approve(world, interview):
    interview_service.review_interview(user(world.supervisor), interview, "approve", "")


@pytest.fixture
def world(app, db):
    """Four cases: complete (approved), refusal (approved), not eligible (approved), and a
    fourth with no interview yet, reassigned to the second interviewer; plus a fifth
    interview, complete but still waiting for review, on a fifth case."""
    with app.app_context():
        w = make_field_world(n_cases=5)
        approve(w, submit(w, 0))
        approve(w, submit(w, 1, disposition="refusal", answers={}))
        approve(w, submit(w, 2, disposition="not_eligible", answers={}))
        _db.session.get(Assignment, w.assignments[3]).interviewer_id = w.other_interviewer_id
        _db.session.commit()
        submit(w, 4)  # complete, waiting for review
        yield w


def rows_by(rows, dimension):
    return {r["group"]: r for r in rows if r["dimension"] == dimension}


def test_approved_basis_counts_unfinalised_cases_as_unknown_eligibility(world):
    campaign = _db.session.get(Campaign, world.campaign)
    (survey,) = rows_by(service.rate_rows(campaign), "survey").values()
    # I=1, R=1, NE=1; the case without an interview and the one waiting for review: U=2
    assert (survey["I"], survey["R"], survey["NE"], survey["U"]) == (1, 1, 1, 2)
    assert survey["in_field"] == 2 and survey["n"] == 5
    # e = (I+P+R+NC+O) / (… + NE) = 2 / 3
    assert survey["e"] == pytest.approx(2 / 3)
    # RR1 = 1 / (1 + 1 + 2) = 0.25; RR3 = 1 / (1 + 1 + 2/3 × 2) = 0.3
    assert survey["rr1"] == pytest.approx(0.25)
    assert survey["rr3"] == pytest.approx(1 / (2 + 4 / 3))
    # COOP1 = I / (I+P+R+O) = 1/2; REF1 = 1/4
    assert survey["coop1"] == pytest.approx(0.5) and survey["ref1"] == pytest.approx(0.25)


def test_current_basis_takes_the_latest_submitted_disposition(world):
    campaign = _db.session.get(Campaign, world.campaign)
    (survey,) = rows_by(service.rate_rows(campaign, "current"), "survey").values()
    assert (survey["I"], survey["R"], survey["NE"], survey["U"]) == (2, 1, 1, 1)
    assert survey["in_field"] == 2  # the untouched case and the one not yet approved
    # RR1 = 2 / (2 + 1 + 1) = 0.5; e = 3/4; RR3 = 2 / (3 + 0.75) = 0.5333
    assert survey["rr1"] == pytest.approx(0.5)
    assert survey["rr3"] == pytest.approx(2 / 3.75)


def test_groups_by_stratum_interviewer_and_agency(world):
    campaign = _db.session.get(Campaign, world.campaign)
    rows = service.rate_rows(campaign)
    by_interviewer = rows_by(rows, "interviewer")
    assert set(by_interviewer) == {"Nguyễn Văn An", "Trần Thị Bình"}
    assert by_interviewer["Trần Thị Bình"]["n"] == 1
    assert by_interviewer["Trần Thị Bình"]["rr1"] == 0
    assert by_interviewer["Nguyễn Văn An"]["rr1"] == pytest.approx(1 / 3)
    assert rows_by(rows, "stratum")["A"]["n"] == 5
    assert rows_by(rows, "agency")[""]["n"] == 5  # the questionnaire asks no agency


def test_the_agency_groups_count_the_agency_each_current_version_answered(app, db):
    """On the demo (an agency question): each agency's n is the number of its cases whose
    interview's current version names it, counted here from the whole answer documents."""
    from collections import Counter

    from surveyapp.models import Interview, InterviewVersion
    from surveyapp.services import demo

    with app.test_request_context():
        demo.load_demo()
        campaign = _db.session.scalar(sa.select(Campaign).where(
            Campaign.title == demo.CAMPAIGN_TITLE))
        expected = Counter()
        for interview in _db.session.scalars(sa.select(Interview).where(
                Interview.campaign_id == campaign.id)):
            version = _db.session.scalar(sa.select(InterviewVersion).where(
                InterviewVersion.interview_id == interview.id,
                InterviewVersion.number == interview.version))
            answer = (version.answers or {}).get("co_quan")
            expected[answer if answer not in (None, "", "na", "dk") else ""] += 1
        expected[""] += _db.session.scalar(sa.select(sa.func.count(Assignment.id)).where(
            Assignment.campaign_id == campaign.id)) - sum(
            1 for _ in _db.session.scalars(sa.select(Interview.id).where(
                Interview.campaign_id == campaign.id, Interview.assignment_id.is_not(None))))
        got = {group: row["n"] for group, row in rows_by(service.rate_rows(campaign),
                                                         "agency").items()}
        assert len([g for g in expected if g]) >= 3
        assert got == {group: n for group, n in expected.items() if n}


def test_weighted_rates_sum_base_weights(world):
    campaign = _db.session.get(Campaign, world.campaign)
    (survey,) = rows_by(service.rate_rows(campaign, weighted=True), "survey").values()
    assert survey["I"] == 10 and survey["U"] == 20  # every case weighs 10
    assert survey["rr3"] == pytest.approx(1 / (2 + 4 / 3))


def test_agency_question_is_found_in_nested_groups():
    doc = {"children": [{"type": "group", "name": "g", "children": [
        {"type": "integer", "name": "age"}, {"type": "agency", "name": "co_quan"}]}]}
    assert service._agency_question(doc) == "co_quan"
    assert service._agency_question({"children": []}) is None


def test_bad_options_are_domain_errors(world):
    campaign = _db.session.get(Campaign, world.campaign)
    with pytest.raises(DomainError):
        service.rate_rows(campaign, "guess")
    with pytest.raises(DomainError):
        service.rate_rows(campaign, dimensions=("colour",))
    with pytest.raises(DomainError):
        service.export_rates(campaign, "pdf")


def test_rates_page_and_downloads(world, client, auth):
    auth.login(world.supervisor)
    page = client.get(f"/quality/campaigns/{world.campaign}/rates")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Tỷ lệ trả lời" in html and "RR3" in html and "25,0 %" in html
    assert client.get(f"/quality/campaigns/{world.campaign}/rates?basis=current&weighted=1"
                      ).status_code == 200
    assert client.get(f"/quality/campaigns/{world.campaign}/rates?basis=nonsense"
                      ).status_code == 200  # an unknown basis falls back to the default
    csv = client.get(f"/quality/campaigns/{world.campaign}/rates/export?fmt=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    text = csv.get_data().decode("utf-8-sig")
    header, first = text.splitlines()[:2]
    assert header.startswith("dimension,group,n,I,P,R,NC,O,U,NE,in_field,e,rr1,rr3")
    assert first.startswith("survey,") and ",0.25," in first
    xlsx = client.get(f"/quality/campaigns/{world.campaign}/rates/export?fmt=xlsx")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
    import openpyxl

    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet.cell(1, 13).value == "rr1" and sheet.cell(2, 13).value == pytest.approx(0.25)
    assert client.get(f"/quality/campaigns/{world.campaign}/rates/export?fmt=pdf"
                      ).status_code == 404


def test_interviewers_do_not_see_rates(world, client, auth):
    auth.login(world.interviewer)
    assert client.get(f"/quality/campaigns/{world.campaign}/rates").status_code == 403


def test_other_organisations_do_not_see_rates(world, client, auth):
    auth.login(world.foreign_interviewer)
    assert client.get(f"/quality/campaigns/{world.campaign}/rates/export").status_code == 403


def test_walk_ins_are_cases_and_rejected_interviews_are_not_interviews(app, db):
    with app.app_context():
        w = make_field_world(n_cases=2, prefix="w")
        person = user(w.interviewer)
        for disposition in ("complete", "refusal"):
            data = payload(w, None, disposition=disposition,
                           answers={} if disposition != "complete" else payload(w)["answers"])
            outcome = interview_service.submit_interview(principal_for_user(person), person,
                                                         data)
            assert outcome.status == 201, outcome.body
        walk_in = _db.session.get(Campaign, w.walk_in_campaign)
        (survey,) = rows_by(service.rate_rows(walk_in, "current"), "survey").values()
        assert (survey["n"], survey["I"], survey["R"]) == (2, 1, 1)
        assert rows_by(service.rate_rows(walk_in, "current"), "stratum")[""]["n"] == 2
        # a rejected interview counts as no interview: unknown eligibility, not in the field
        rejected = submit(w, 0)
        interview_service.review_interview(user(w.supervisor), rejected, "reject", "bịa")
        campaign = _db.session.get(Campaign, w.campaign)
        for basis in ("approved", "current"):
            (survey,) = rows_by(service.rate_rows(campaign, basis), "survey").values()
            assert (survey["I"], survey["U"], survey["in_field"]) == (0, 2, 1)


def test_the_campaign_page_links_to_the_rates_for_those_who_may_see_them(world, client, auth):
    auth.login(world.supervisor)
    assert 'data-testid="rates-link"' in client.get(f"/campaigns/{world.campaign}").get_data(
        as_text=True)


def test_the_campaign_page_has_no_rate_link_for_interviewers(world, client, auth):
    # (one sign-in per test: the world's app context keeps ``g`` between requests)
    auth.login(world.interviewer)
    page = client.get(f"/campaigns/{world.campaign}")
    assert page.status_code == 200 and 'data-testid="rates-link"' not in page.get_data(
        as_text=True)


def test_two_interviewers_with_one_name_are_two_groups(world):
    user(world.other_interviewer).full_name = "Nguyễn Văn An"
    _db.session.commit()
    campaign = _db.session.get(Campaign, world.campaign)
    rows = [r for r in service.rate_rows(campaign) if r["dimension"] == "interviewer"]
    assert [(r["group"], r["n"]) for r in rows] == [("Nguyễn Văn An", 4), ("Nguyễn Văn An", 1)]
