"""Submission packages (issue 11): the workflow, the frozen snapshot and its tamper evidence,
amendments, notifications, deadlines and what each role may see.

The snapshot's figures are checked against the scorecard rows read straight from the
database (suppressed cells blanked), and its digest against ``hashlib`` over the RFC 8785
bytes; a tampered snapshot is written with SQL, behind the ORM's back.
"""

from __future__ import annotations

import copy
import hashlib
import json
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from surveyapp.canonical import canonicalize
from surveyapp.errors import Conflict, InvalidTransition
from surveyapp.extensions import db as _db
from surveyapp.models import (
    AuditEvent,
    Campaign,
    Notification,
    Organisation,
    PackageFinding,
    PackageVersion,
    ScorecardRow,
    ScorecardRun,
    SubmissionPackage,
    User,
)
from surveyapp.models.codes import PACKAGE_TRANSITIONS
from surveyapp.services import demo, package_workflow, submissions
from surveyapp.services.submissions import AgencyText, PackageFailed

DEMO_PASSWORDS = {"phantich": "demo-analyst-2024", "mttq.admin": "demo-orgadmin-2024",
                  "vpubnd": "demo-reviewer-2024", "phunu.admin": "demo-women-2024",
                  "giamsat": "demo-supervisor-2024"}


def _user(login: str) -> User:
    return _db.session.scalar(sa.select(User).where(User.login == login))


@pytest.fixture()
def ids(app, db):
    """The demo (one analysed survey of the city Front with a SIPAS scorecard run), by id."""
    with app.test_request_context():
        demo.load_demo()
        org = _db.session.scalar(sa.select(Organisation).where(
            Organisation.name == demo.CITY_FRONT))
        campaign = _db.session.scalar(sa.select(Campaign).where(
            Campaign.title == demo.CAMPAIGN_TITLE, Campaign.organisation_id == org.id))
        run = _db.session.scalar(sa.select(ScorecardRun).where(
            ScorecardRun.campaign_id == campaign.id).order_by(ScorecardRun.number.desc()))
        return {"org": org.id, "campaign": campaign.id, "run": run.id}


@contextmanager
def services(app, ids):
    """A request context for service calls, left before the test client's requests (which
    would otherwise share its ``g``: the signed-in principal is cached there)."""
    with app.test_request_context():
        yield {"org": _db.session.get(Organisation, ids["org"]),
               "campaign": _db.session.get(Campaign, ids["campaign"]),
               "run": _db.session.get(ScorecardRun, ids["run"])}


@pytest.fixture()
def world(app, ids):
    with services(app, ids) as w:
        yield w


def _draft(world, title="Kết quả khảo sát năm 2024") -> PackageVersion:
    existing = _db.session.scalar(sa.select(PackageVersion).join(SubmissionPackage).where(
        SubmissionPackage.organisation_id == world["org"].id,
        SubmissionPackage.year == world["campaign"].year))
    if existing is not None:  # the demo's own draft, without surveys
        for s in list(existing.surveys):
            submissions.remove_survey(None, existing, s.campaign_id)
        return existing
    return submissions.create_package(_user("phantich"), world["org"], world["campaign"].year,
                                      title)


def _submitted(world) -> PackageVersion:
    version = _draft(world)
    if not version.surveys:
        submissions.add_survey(_user("phantich"), version, world["campaign"].id, world["run"].id)
    package_workflow.transition(_user("phantich"), version, "internal_review")
    package_workflow.transition(_user("mttq.admin"), version, "approved")
    package_workflow.transition(_user("mttq.admin"), version, "submitted")
    return version


def _expected_cells(run: ScorecardRun) -> dict[tuple[str, str], tuple]:
    """(agency, node) -> (estimate, ci_low, ci_high, n, status) read straight from the rows,
    suppressed cells blanked as the published figures must be."""
    out = {}
    for r in _db.session.scalars(sa.select(ScorecardRow).where(ScorecardRow.run_id == run.id,
                                                               ScorecardRow.agency_code
                                                               .is_not(None))):
        blank = r.status == "suppressed"
        out[(r.agency_code, r.node)] = (None if blank else r.estimate,
                                        None if blank else r.ci_low,
                                        None if blank else r.ci_high, r.n, r.status)
    return out


def test_the_whole_way_from_draft_to_published(world):
    analyst, head, office = _user("phantich"), _user("mttq.admin"), _user("vpubnd")
    version = _draft(world)
    assert version.status == "draft" and version.snapshot is None
    submissions.add_survey(analyst, version, world["campaign"].id, world["run"].id)
    codes = [c for c, _n in submissions.agencies_of(version)]
    submissions.update_texts(analyst, version, version.title, "Người dân hài lòng hơn.",
                             "Rút ngắn thời gian chờ.")
    submissions.set_agency_findings(analyst, version, [
        AgencyText(codes[0], "Tiếp đón tốt.", "Bổ sung ghế chờ."), AgencyText(codes[1], "", "")])

    package_workflow.transition(analyst, version, "internal_review")
    package_workflow.transition(head, version, "approved")
    package_workflow.transition(head, version, "submitted")
    assert version.status == "submitted" and version.frozen_at is not None
    snap = version.snapshot
    # The digest is SHA-256 of the RFC 8785 bytes of exactly what is stored.
    assert version.digest == hashlib.sha256(canonicalize(snap)).hexdigest()
    assert submissions.canonical_bytes(version) == canonicalize(snap)
    assert snap["format"] == "surveyapp.package/1"
    assert snap["package"]["organisation"]["name"] == demo.CITY_FRONT
    assert snap["package"]["submitted_by"] == "mttq.admin"
    assert snap["package"]["approved_by"] == "mttq.admin"
    assert snap["findings"] == {"overall": "Người dân hài lòng hơn.",
                                "recommendations": "Rút ngắn thời gian chờ."}
    # Every agency of the run is reported, each figure as the stored row (blanked if suppressed).
    expected = _expected_cells(world["run"])
    assert set(snap["agencies"]) == {a for a, _node in expected}
    got = {(code, r["node"]): (r["estimate"], r["ci_low"], r["ci_high"], r["n"], r["status"])
           for code, a in snap["agencies"].items() for r in a["results"]}
    assert got == expected
    assert snap["agencies"][codes[0]]["findings"] == "Tiếp đón tốt."
    assert snap["agencies"][codes[1]]["findings"] == ""
    assert {a.agency_code for a in version.agencies} == set(snap["agencies"])
    # The methodology and the report data of the survey are in the snapshot.
    report = snap["surveys"][0]["report"]
    assert snap["surveys"][0]["scorecard_run"]["id"] == world["run"].id
    assert report["sizes"]["respondents"] > 0 and report["design"]["method"] == "srs"
    assert report["weighting"]["number"] == world["run"].weight_run.number

    package_workflow.transition(office, version, "received")
    package_workflow.transition(office, version, "accepted")
    assert submissions.published_versions(year=2024) == []
    package_workflow.transition(office, version, "published")
    assert version.published_at is not None
    assert submissions.published_versions(year=world["campaign"].year) == [version]
    assert submissions.published_versions(year=2024, agency_code=codes[0]) == [version]
    assert submissions.published_versions(agency_code="KHONG-CO") == []
    assert submissions.published_years() == [world["campaign"].year, demo.PREVIOUS_YEAR]
    assert submissions.verify(version) == (True, [])
    # Every step is in the history and the audit log.
    steps = [(t.from_status, t.to_status) for t in version.transitions]
    assert steps == [(None, "draft"), ("draft", "internal_review"), ("internal_review", "approved"),
                     ("approved", "submitted"), ("submitted", "received"),
                     ("received", "accepted"), ("accepted", "published")]
    logged = _db.session.scalars(sa.select(AuditEvent.summary).where(
        AuditEvent.object_type == "package_version", AuditEvent.action == "state",
        AuditEvent.object_id == str(version.id)).order_by(AuditEvent.id)).all()
    assert [s.rsplit(": ", 1)[1] for s in logged] == [
        "internal_review", "approved", "submitted", "received", "accepted", "published"]


def test_the_people_concerned_are_notified_of_each_step(world):
    version = _draft(world)
    submissions.add_survey(_user("phantich"), version, world["campaign"].id, world["run"].id)

    def told(kind):
        return {n.user_id for n in _db.session.scalars(sa.select(Notification).where(
            Notification.kind == kind, Notification.package_version_id == version.id))}

    package_workflow.transition(_user("phantich"), version, "internal_review")
    assert told("package.internal_review") == {_user("mttq.admin").id}  # the head reviews
    package_workflow.transition(_user("mttq.admin"), version, "approved")
    assert told("package.approved") == {_user("phantich").id}  # not the actor
    package_workflow.transition(_user("mttq.admin"), version, "submitted")
    assert told("package.submitted") == {_user("vpubnd").id, _user("phantich").id}
    package_workflow.transition(_user("vpubnd"), version, "received")
    package_workflow.transition(_user("vpubnd"), version, "returned", "Thiếu kiến nghị.")
    assert told("package.returned") == {_user("phantich").id, _user("mttq.admin").id}
    n = _db.session.scalar(sa.select(Notification).where(Notification.kind == "package.returned",
                                                         Notification.user_id ==
                                                         _user("phantich").id))
    assert "Thiếu kiến nghị." in submissions_message(n)


def submissions_message(n):
    from surveyapp.services import notifications

    return notifications.message(n)


def test_steps_outside_the_workflow_are_refused_and_store_nothing(world):
    analyst, head, office = _user("phantich"), _user("mttq.admin"), _user("vpubnd")
    version = _draft(world)
    with pytest.raises(InvalidTransition, match="khảo sát đã phân tích"):
        package_workflow.transition(analyst, version, "internal_review")  # no survey yet
    submissions.add_survey(analyst, version, world["campaign"].id, world["run"].id)
    for target in ("approved", "submitted", "received", "published", "nonsense"):
        with pytest.raises(InvalidTransition):
            package_workflow.transition(head, version, target)
    assert version.status == "draft" and len(version.transitions) == 1
    # Every allowed step is named in the workflow's table of policy actions.
    assert set(package_workflow.STEPS) == {(a, b) for a, bs in PACKAGE_TRANSITIONS.items()
                                           for b in bs}
    package_workflow.transition(analyst, version, "internal_review")
    package_workflow.transition(head, version, "draft", "Bổ sung nhận định.")  # back to draft
    package_workflow.transition(analyst, version, "internal_review")
    package_workflow.transition(head, version, "approved")
    package_workflow.transition(head, version, "submitted")
    package_workflow.transition(office, version, "received")
    with pytest.raises(InvalidTransition, match="bắt buộc"):
        package_workflow.transition(office, version, "returned", "   ")
    assert version.status == "received"
    # A frozen version cannot be edited.
    for change in (lambda: submissions.update_texts(analyst, version, "Tiêu đề khác", "", ""),
                   lambda: submissions.add_survey(analyst, version, world["campaign"].id,
                                                  world["run"].id),
                   lambda: submissions.remove_survey(analyst, version, world["campaign"].id)):
        with pytest.raises(InvalidTransition):
            change()


def test_bad_input_is_refused_with_a_clear_message(world):
    analyst = _user("phantich")
    version = _draft(world)
    with pytest.raises(Conflict):
        submissions.create_package(analyst, world["org"], world["campaign"].year, "Thêm một gói")
    with pytest.raises(PackageFailed, match="Năm phải"):
        submissions.create_package(analyst, world["org"], 1999, "Năm sai")
    with pytest.raises(PackageFailed, match="Tiêu đề"):
        submissions.update_texts(analyst, version, "x", "", "")
    with pytest.raises(PackageFailed):
        submissions.add_survey(analyst, version, world["campaign"].id, 999_999)
    other = ScorecardRun(campaign_id=world["campaign"].id, number=99, index_key="sipas",
                         method_version="x", confidence_level=0.95, min_n=5, rule="cv", seed=1)
    _db.session.add(other)
    _db.session.commit()
    women = _db.session.scalar(sa.select(Organisation).where(Organisation.name == demo.WOMEN))
    foreign = Campaign(organisation_id=women.id, title="Khảo sát khác", year=2024)
    _db.session.add(foreign)
    _db.session.commit()
    with pytest.raises(PackageFailed, match="khảo sát của tổ chức"):
        submissions.add_survey(analyst, version, foreign.id, other.id)
    with pytest.raises(PackageFailed, match="Cơ quan"):
        submissions.set_agency_findings(analyst, version, [AgencyText("KHONG-CO", "x", "")])
    assert version.surveys == [] and version.agency_findings == []


def _tamper(version: PackageVersion, change) -> None:
    """Rewrite the stored snapshot with SQL (no ORM events, no new digest)."""
    snap = copy.deepcopy(version.snapshot)
    change(snap)
    _db.session.execute(sa.update(PackageVersion.__table__)
                        .where(PackageVersion.__table__.c.id == version.id)
                        .values(snapshot=snap))
    _db.session.commit()
    _db.session.expire(version)


def test_a_modified_stored_snapshot_is_detected_by_the_check_the_page_and_the_cli(
        app, ids, client, auth):
    runner = app.test_cli_runner()
    with services(app, ids) as w:
        version = _submitted(w)
        vid, digest = version.id, version.digest
    ok = runner.invoke(args=["packages", "verify", str(vid)])
    assert ok.exit_code == 0, ok.output
    assert "intact" in ok.output and digest in ok.output
    with services(app, ids):
        version = _db.session.get(PackageVersion, vid)
        code = sorted(version.snapshot["agencies"])[0]

        def nudge(snap):
            row = next(r for r in snap["agencies"][code]["results"] if r["estimate"] is not None)
            row["estimate"] = row["estimate"] + 0.01

        _tamper(version, nudge)
        result = submissions.verify(version)
        assert not result.ok
        found = [(d.part, d.against) for d in result.differences]
        assert (f"agencies/{code}", "digest") in found
        assert (f"agencies/{code}", "recomputation") in found
        assert {d.part for d in result.differences} == {f"agencies/{code}"}
    bad = runner.invoke(args=["packages", "verify", str(vid)])
    assert bad.exit_code == 1
    assert f"agencies/{code}" in bad.output and "digest" in bad.output
    auth.login("vpubnd", DEMO_PASSWORDS["vpubnd"])
    page = client.get(f"/packages/{vid}/verify")
    assert page.status_code == 409
    assert f"agencies/{code}" in page.get_data(as_text=True)
    with services(app, ids):
        version = _db.session.get(PackageVersion, vid)
        _tamper(version, lambda snap: snap["package"].update(title="Tiêu đề đã sửa"))
        parts = {d.part for d in submissions.verify(version).differences}
        assert parts == {f"agencies/{code}", "package"}
    missing = runner.invoke(args=["packages", "verify", "999999"])
    assert missing.exit_code != 0 and "999999" in missing.output


def test_a_change_behind_a_frozen_version_shows_against_the_recomputation(world):
    version = _submitted(world)
    code = sorted(version.snapshot["agencies"])[0]
    # The agency texts are kept as rows too; changing one after submission is shown against
    # the recomputation, as information: the stored snapshot still matches its digest, so
    # the version is intact (what was submitted is unchanged).
    _db.session.add(PackageFinding(version_id=version.id, agency_code=code, agency_name="x",
                                   findings="Viết thêm sau khi gửi.", recommendations=""))
    _db.session.commit()
    _db.session.expire(version)
    result = submissions.verify(version)
    assert result.ok and result.altered == []
    assert [(d.part, d.against) for d in result.differences] == [
        (f"agencies/{code}", "recomputation")]


def test_an_amendment_is_a_new_version_and_every_version_stays_readable(app, ids, client,
                                                                          auth):
    with services(app, ids) as world:
        office = _user("vpubnd")
        v1 = _submitted(world)
        digest1, snap1 = v1.digest, copy.deepcopy(v1.snapshot)
        package_workflow.transition(office, v1, "received")
        with pytest.raises(InvalidTransition):
            submissions.amend(_user("phantich"), v1)  # only returned or published versions
        package_workflow.transition(office, v1, "returned", "Bổ sung kiến nghị cho từng cơ quan.")
        v2 = submissions.amend(_user("phantich"), v1)
        assert (v2.number, v2.status, v2.replaces_id) == (2, "draft", v1.id)
        assert [s.scorecard_run_id for s in v2.surveys] == [world["run"].id]
        with pytest.raises(InvalidTransition):
            submissions.amend(_user("phantich"), v1)  # amended once only
        submissions.update_texts(_user("phantich"), v2, v2.title, "Bản sửa đổi.", "")
        for who, target in (("phantich", "internal_review"), ("mttq.admin", "approved"),
                            ("mttq.admin", "submitted")):
            package_workflow.transition(_user(who), v2, target)
        assert v2.snapshot["package"]["replaces"] == {"version_id": v1.id, "version": 1,
                                                      "digest": digest1}
        assert v2.digest != digest1
        _db.session.expire_all()
        assert v1.digest == digest1 and v1.snapshot == snap1 and v1.status == "returned"
        assert submissions.verify(v1).ok and submissions.verify(v2).ok
        assert submissions.version_chain(v2) == [v1, v2]
        for target in ("received", "accepted", "published"):
            package_workflow.transition(office, v2, target)
        assert submissions.published_versions(year=2024) == [v2]
        v1_id = v1.id
    auth.login("vpubnd", DEMO_PASSWORDS["vpubnd"])
    page = client.get(f"/packages/{v1_id}").get_data(as_text=True)
    assert "Bổ sung kiến nghị cho từng cơ quan." in page and digest1 in page


def _as(auth, login):
    auth.logout()
    auth.login(login, DEMO_PASSWORDS[login])


def _steps(version_id, *steps):
    version = _db.session.get(PackageVersion, version_id)
    for who, target in steps:
        package_workflow.transition(_user(who), version, target)
    return version


ORG_STEPS = (("phantich", "internal_review"), ("mttq.admin", "approved"),
             ("mttq.admin", "submitted"))
OFFICE_STEPS = (("vpubnd", "received"), ("vpubnd", "accepted"), ("vpubnd", "published"))


def test_who_sees_which_version(app, ids, client, auth):
    with services(app, ids) as w:
        version = _draft(w)
        submissions.add_survey(_user("phantich"), version, w["campaign"].id, w["run"].id)
        vid = version.id
    url = f"/packages/{vid}"

    def status(login):
        _as(auth, login)
        return client.get(url).status_code

    # A draft: the organisation's analysts and head; not the office, not another organisation,
    # not the organisation's supervisor.
    assert [status(u) for u in ("phantich", "mttq.admin", "vpubnd", "phunu.admin",
                                "giamsat")] == [200, 200, 403, 403, 403]
    _as(auth, "vpubnd")
    assert f'data-testid="package-{vid}"' not in client.get("/packages/").get_data(as_text=True)
    with services(app, ids):
        _steps(vid, *ORG_STEPS)
    # Submitted: the office reads it; another organisation still does not.
    assert [status(u) for u in ("vpubnd", "phunu.admin")] == [200, 403]
    assert client.get(f"{url}/snapshot.json").status_code == 403
    assert f'data-testid="package-{vid}"' not in client.get("/packages/").get_data(as_text=True)
    _as(auth, "vpubnd")
    assert f'data-testid="package-{vid}"' in client.get("/packages/").get_data(as_text=True)
    with services(app, ids):
        digest = _steps(vid, *OFFICE_STEPS).digest
    assert status("phunu.admin") == 200
    body = client.get(f"{url}/snapshot.json")
    assert hashlib.sha256(body.data).hexdigest() == digest
    assert json.loads(body.data)["package"]["version_id"] == vid


def test_the_workflow_driven_through_the_pages_checks_each_role(app, ids, client, auth):
    with services(app, ids) as w:
        version = _draft(w)
        submissions.add_survey(_user("phantich"), version, w["campaign"].id, w["run"].id)
        vid, campaign_id, title = version.id, w["campaign"].id, w["campaign"].title
    base = f"/packages/{vid}"

    def status_now():
        with services(app, ids):
            return _db.session.get(PackageVersion, vid).status

    _as(auth, "phantich")
    assert client.post(f"{base}/approve").status_code == 403  # the head approves
    assert client.post(f"{base}/request-review").status_code == 302
    _as(auth, "vpubnd")
    assert client.post(f"{base}/approve").status_code == 403
    _as(auth, "mttq.admin")
    assert client.post(f"{base}/approve").status_code == 302
    assert client.post(f"{base}/submit").status_code == 302
    assert status_now() == "submitted"
    assert client.post(f"{base}/receive").status_code == 403  # the office receives
    _as(auth, "vpubnd")
    assert client.post(f"{base}/receive").status_code == 302
    response = client.post(f"{base}/return", data={"comment": ""}, follow_redirects=True)
    assert "bắt buộc" in response.get_data(as_text=True)  # refused in Vietnamese
    assert status_now() == "received"
    assert client.post(f"{base}/accept").status_code == 302
    assert client.post(f"{base}/publish").status_code == 302
    assert status_now() == "published"
    with services(app, ids):
        version = _db.session.get(PackageVersion, vid)
        digest, report = version.digest, version.snapshot["surveys"][0]["report"]
    page = client.get(base).get_data(as_text=True)
    assert digest in page and "Đã công bố" in page
    xlsx = client.get(f"{base}/reports/{campaign_id}.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    from surveyapp.reporting.annual_xlsx import render_xlsx

    assert xlsx.data == render_xlsx(report)  # generated from the frozen snapshot
    printable = client.get(f"{base}/reports/{campaign_id}")
    assert printable.status_code == 200 and title in printable.get_data(as_text=True)
    assert client.get(f"{base}/reports/999999").status_code == 404


def test_notifications_bell_list_and_reading(app, ids, client, auth):
    with services(app, ids) as w:
        version = _draft(w)
        submissions.add_survey(_user("phantich"), version, w["campaign"].id, w["run"].id)
        package_workflow.transition(_user("phantich"), version, "internal_review")
        vid = version.id
        nid = _db.session.scalar(sa.select(Notification.id).where(
            Notification.user_id == _user("mttq.admin").id,
            Notification.package_version_id == vid))
    _as(auth, "mttq.admin")
    assert 'data-testid="unread-count">1<' in client.get("/").get_data(as_text=True)
    assert "rà soát nội bộ" in client.get("/notifications/").get_data(as_text=True)
    _as(auth, "phantich")
    assert client.post(f"/notifications/{nid}/read").status_code == 403  # not theirs
    _as(auth, "mttq.admin")
    response = client.post(f"/notifications/{nid}/read")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/packages/{vid}")
    assert 'data-testid="unread-count"' not in client.get("/").get_data(as_text=True)


def test_deadlines_are_set_by_the_office_and_shown_on_the_package(app, ids, client, auth):
    from surveyapp.services import deadlines

    with services(app, ids) as w:
        version = _draft(w)
        vid, year = version.id, version.package.year
    _as(auth, "phantich")
    assert client.post("/office/deadlines", data={"year": year, "due_on": f"{year + 1}-01-31"}
                       ).status_code == 403
    _as(auth, "vpubnd")
    bad = client.post("/office/deadlines", data={"year": year, "due_on": f"{year + 5}-01-31"})
    assert bad.status_code == 400 and "Hạn gửi phải" in bad.get_data(as_text=True)
    assert client.post("/office/deadlines", data={"year": year, "due_on": f"{year + 1}-01-31",
                                                  "note": "Theo Quyết định 104"}
                       ).status_code == 302
    due = date(year + 1, 1, 31)
    _as(auth, "phantich")
    page = client.get(f"/packages/{vid}").get_data(as_text=True)
    assert "31/01/%d" % (year + 1) in page and "Theo Quyết định 104" in page
    # Today is after the demo year's deadline: the unsubmitted draft is shown overdue.
    assert date.today() > due and 'data-testid="overdue"' in page
    with services(app, ids) as w:
        version = _db.session.get(PackageVersion, vid)
        assert deadlines.deadline_state(version, due).state == "open"
        assert deadlines.deadline_state(version, due + timedelta(days=1)).state == "overdue"
        submissions.add_survey(_user("phantich"), version, w["campaign"].id, w["run"].id)
        _steps(vid, *ORG_STEPS)
        assert deadlines.deadline_state(version, date.today()).state == "late"
