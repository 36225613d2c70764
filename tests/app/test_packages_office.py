"""The office's side of the submission packages (issue 11): the consolidated view and its
XLSX reports, e-mail copies of notifications, the demo's package, and what an office
reviewer may never open (an organisation's interviews, respondents, exports and runs)."""

from __future__ import annotations

import copy
import io
from datetime import UTC, datetime

import builders
import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from test_packages import ORG_STEPS, _draft, _steps, _user, ids, services  # noqa: F401
from test_route_matrix import MATRIX, decision, url_for_rule

from surveyapp.canonical import digest
from surveyapp.extensions import db as _db
from surveyapp.models import (
    Campaign,
    Job,
    Notification,
    Organisation,
    PackageAgency,
    PackageTransition,
    PackageVersion,
    SubmissionPackage,
)
from surveyapp.services import consolidation, demo, submissions

# Endpoints of an organisation's raw material: interviews, respondents, cases, exports,
# weighting and scorecard runs. The office reads the submitted packages, never these.
RAW_BLUEPRINTS = ("field", "field_api", "respondents", "exports", "response_import", "quality",
                  "sampling_plans", "weighting", "scorecards")


def test_an_office_reviewer_is_denied_every_interview_respondent_and_export_route(
        app, db, client, connection, auth):
    with app.app_context():
        world = builders.make_world()
        for context in ("own", "foreign"):  # submitted: the state in which the office reads
            _db.session.get(Campaign, world.objects[context]["campaign"]).status = "submitted"
        _db.session.commit()
    assert auth.login("office").status_code == 302
    checked, problems = 0, []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in RAW_BLUEPRINTS or MATRIX[rule.endpoint].public:
            continue  # (the offline app's service worker script is public)
        method = MATRIX[rule.endpoint].method
        for context in ("own", "foreign"):
            url = url_for_rule(rule, world.objects[context])
            savepoint = connection.begin_nested()
            try:
                response = client.open(url, method=method)
                response.close()
            finally:
                savepoint.rollback()
            checked += 1
            if decision(response) != "deny":
                problems.append(f"{rule.endpoint} [{context}]: {response.status_code}")
    assert problems == []
    assert checked > 60  # the walk really covered those areas


def _second_organisation_package(real: PackageVersion, shift: float) -> PackageVersion:
    """The Women's Union's accepted package measuring the same index for the same agencies:
    a snapshot of the same format (the real one with its estimates shifted), frozen with
    its own digest."""
    women = _db.session.scalar(sa.select(Organisation).where(Organisation.name == demo.WOMEN))
    package = SubmissionPackage(organisation_id=women.id, year=real.package.year)
    snap = copy.deepcopy(real.snapshot)
    snap["package"]["organisation"] = {"id": women.id, "name": women.name,
                                       "short_name": women.short_name}
    for agency in snap["agencies"].values():
        for r in agency["results"]:
            if r["estimate"] is not None:
                r["estimate"] += shift
                r["ci_low"] += shift
                r["ci_high"] += shift
    version = PackageVersion(package=package, number=1, status="accepted", title="Hội LHPN",
                             snapshot=snap, digest=digest(snap))
    _db.session.add_all([package, version])
    _db.session.flush()
    for code, agency in snap["agencies"].items():
        _db.session.add(PackageAgency(version_id=version.id, agency_code=code,
                                      agency_name=agency["name"]))
    _db.session.add(PackageTransition(version_id=version.id, from_status="received",
                                      to_status="accepted", actor_label="vpubnd",
                                      created_at=datetime(2025, 2, 10, 3, 0, tzinfo=UTC)))
    _db.session.commit()
    return version


def test_the_consolidated_view_and_its_xlsx_show_each_organisation_side_by_side(
        app, ids, client, auth):  # noqa: F811
    with services(app, ids) as w:
        front = _draft(w)
        submissions.add_survey(_user("phantich"), front, w["campaign"].id, w["run"].id)
        _steps(front.id, *ORG_STEPS, ("vpubnd", "received"), ("vpubnd", "accepted"))
        women = _second_organisation_package(front, 0.05)
        year = front.package.year
        data = consolidation.consolidate(year)
        assert [v.id for v in data["versions"]] == sorted(
            [front.id, women.id], key=lambda i: _db.session.get(PackageVersion, i)
            .package.organisation.name)
        node = front.snapshot["surveys"][0]["report"]["rank_node"]
        code = next(c for c, a in front.snapshot["agencies"].items()
                    if any(r["node"] == node and r["estimate"] is not None
                           for r in a["results"]))
        want = next(r for r in front.snapshot["agencies"][code]["results"] if r["node"] == node)
        row = next(a for a in data["agencies"] if a["code"] == code)
        cells = {c.organisation: row["cells"][c.key] for c in data["columns"]}
        assert cells[demo.CITY_FRONT]["estimate"] == want["estimate"]
        assert cells[demo.CITY_FRONT]["ci_low"] == want["ci_low"]
        assert cells[demo.WOMEN]["estimate"] == pytest.approx(want["estimate"] + 0.05)
        shared = next(g for g in data["shared"] if g["node"] == node)
        assert [name for _id, name in shared["organisations"]] == sorted([demo.CITY_FRONT,
                                                                           demo.WOMEN])
        a = next(a for a in shared["agencies"] if a["code"] == code)
        assert sorted(c["estimate"] for c in a["cells"].values()) == pytest.approx(
            [want["estimate"], want["estimate"] + 0.05])
        # A draft or a merely submitted package is not consolidated.
        assert all(v.status in ("accepted", "published") for v in data["versions"])
        front_id = front.id
    auth.login("vpubnd", "demo-reviewer-2024")
    page = client.get(f"/office/?year={year}").get_data(as_text=True)
    assert demo.WOMEN in page and demo.CITY_FRONT in page and 'data-testid="side-by-side"' in page
    book = load_workbook(io.BytesIO(client.get(f"/office/export?year={year}&period=year").data))
    assert book.sheetnames == [f"Hồ sơ năm {year}", "Theo cơ quan", "Chỉ tiêu chung"]
    listing = list(book.worksheets[0].values)
    assert {r[0] for r in listing[1:]} == {demo.CITY_FRONT, demo.WOMEN}
    by_agency = list(book["Theo cơ quan"].values)
    header, rows = by_agency[0], {r[0]: r for r in by_agency[1:]}
    col = header.index(next(h for h in header if h.startswith(demo.WOMEN) and ":" not in h))
    assert rows[code][col] == pytest.approx(want["estimate"] + 0.05)
    # The quarter of the Women's Union's acceptance (10/02/2025): only that package.
    q1 = load_workbook(io.BytesIO(client.get(f"/office/export?year={year + 1}&period=q1").data))
    assert [r[1] for r in list(q1.worksheets[0].values)[1:]] == [demo.WOMEN]
    assert client.get(f"/office/export?year={year}&period=q9").status_code == 400
    auth.logout()
    auth.login("phantich", "demo-analyst-2024")
    assert client.get(f"/office/?year={year}").status_code == 403
    assert front_id


@pytest.fixture()
def smtp_server():
    """A local SMTP server (aiosmtpd) collecting what it receives."""
    from aiosmtpd.controller import Controller

    class Collect:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def test_notifications_are_e_mailed_when_an_smtp_server_is_configured(app, ids, smtp_server):
    from email import message_from_bytes, policy

    controller, handler = smtp_server
    saved = {k: app.config.get(k) for k in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        with services(app, ids) as w:
            _user("mttq.admin").email = "lan@mttq.example.vn"
            _db.session.commit()
            version = _draft(w)
            submissions.add_survey(_user("phantich"), version, w["campaign"].id, w["run"].id)
            _steps(version.id, ("phantich", "internal_review"))
            n = _db.session.scalar(sa.select(Notification).where(
                Notification.user_id == _user("mttq.admin").id,
                Notification.package_version_id == version.id))
            assert n.emailed_at is not None
            job = _db.session.scalar(sa.select(Job).where(Job.kind == "notification_mail"))
            assert job.status == "done" and job.result == {"sent": 1}
    finally:
        app.config.update(saved)
    assert len(handler.messages) == 1
    envelope = handler.messages[0]
    assert envelope.rcpt_tos == ["lan@mttq.example.vn"]
    mail = message_from_bytes(envelope.content, policy=policy.default)
    assert "rà soát nội bộ" in mail["Subject"]
    assert "Kính gửi Nguyễn Thị Lan" in mail.get_content()


def test_without_an_smtp_server_nothing_is_mailed(app, ids):
    with services(app, ids) as w:
        _user("mttq.admin").email = "lan@mttq.example.vn"
        version = _draft(w)
        submissions.add_survey(_user("phantich"), version, w["campaign"].id, w["run"].id)
        _steps(version.id, ("phantich", "internal_review"))
        assert _db.session.scalar(sa.select(sa.func.count(Job.id)).where(
            Job.kind == "notification_mail")) == 0
        assert _db.session.scalars(sa.select(Notification.emailed_at).where(
            Notification.package_version_id == version.id)).all() == [None]


def test_an_unreachable_smtp_server_fails_the_mail_job_not_the_step(app, ids):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    saved = {k: app.config.get(k) for k in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        with services(app, ids) as w:
            _user("mttq.admin").email = "lan@mttq.example.vn"
            version = _draft(w)
            submissions.add_survey(_user("phantich"), version, w["campaign"].id, w["run"].id)
            _steps(version.id, ("phantich", "internal_review"))
            assert _db.session.get(PackageVersion, version.id).status == "internal_review"
            job = _db.session.scalar(sa.select(Job).where(Job.kind == "notification_mail"))
            assert job.status == "failed" and "thư điện tử" in (job.error or "")
    finally:
        app.config.update(saved)


def test_the_demo_has_a_2024_draft_and_a_published_2023_package_of_the_city_front(app, db):
    with app.test_request_context():
        demo.load_demo()
        org = _db.session.scalar(sa.select(Organisation).where(
            Organisation.name == demo.CITY_FRONT))
        versions = {v.package.year: v for v in _db.session.scalars(
            sa.select(PackageVersion).join(SubmissionPackage).where(
                SubmissionPackage.organisation_id == org.id))}
        assert sorted(versions) == [2023, 2024]
        draft, published = versions[2024], versions[2023]
        assert draft.status == "draft"
        assert [s.campaign.title for s in draft.surveys] == [demo.CAMPAIGN_TITLE]
        # 2023: taken the whole way by the people whose role allows each step, frozen, intact.
        assert published.status == "published" and published.published_at is not None
        assert [s.campaign.title for s in published.surveys] == [demo.PREVIOUS_TITLE]
        steps = _db.session.scalars(sa.select(PackageTransition).where(
            PackageTransition.version_id == published.id).order_by(PackageTransition.id)).all()
        assert [(t.to_status, t.actor_label) for t in steps] == [("draft", "phantich")] + [
            (target, login) for target, login in demo.PREVIOUS_PACKAGE_STEPS]
        assert submissions.verify(published).ok
        assert submissions.published_versions() == [published]
        # Its notifications are history: nobody finds them unread.
        notes = _db.session.scalars(sa.select(Notification).where(
            Notification.package_version_id == published.id)).all()
        assert notes and all(n.read_at is not None for n in notes)
        assert demo.load_demo().created is False  # idempotent
        assert _db.session.scalar(sa.select(sa.func.count(PackageVersion.id))) == 2
