"""Fixes to the submission packages and the office's pages (issue 11 review): a page number
past every integer on the notifications page, the office's report when one organisation
has two packages (two years) in it, and the tamper check after harmless edits."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import sqlalchemy as sa
from openpyxl import load_workbook
from test_packages import (  # noqa: F401  (ids: a fixture)
    DEMO_PASSWORDS,
    OFFICE_STEPS,
    ORG_STEPS,
    _draft,
    _steps,
    _submitted,
    _user,
    ids,
    services,
)

from surveyapp.extensions import db as _db
from surveyapp.models import Notification, Organisation, PackageTransition, PackageVersion
from surveyapp.services import consolidation, demo, submissions
from surveyapp.services.deadlines import CITY_TZ

# ---- 1. the notifications page -------------------------------------------------------------


def test_any_page_number_on_the_notifications_page_is_answered_not_a_500(app, ids, client,
                                                                         auth):
    with app.app_context():
        user = _user("phantich")
        _db.session.add(Notification(user_id=user.id, kind="package.accepted",
                                     params={"title": "Hồ sơ", "number": 1}))
        _db.session.commit()
    auth.login("phantich", DEMO_PASSWORDS["phantich"])
    for page in ("99999999999999999999", str(2**63), str(2**31), "1000001", "-5", "0",
                 "abc", "1e9"):
        response = client.get(f"/notifications/?page={page}")
        assert response.status_code == 200, page
    first = client.get("/notifications/?page=-5").get_data(as_text=True)
    assert 'data-testid="notifications"' in first  # a page before the first is the first


# ---- 2. the office's report with two packages of one organisation ---------------------------


def _both_front_packages_accepted(app, ids) -> tuple[int, int]:
    """The demo's published 2023 package and its 2024 package taken to accepted now (both
    steps in this quarter): the city Front twice in the quarter's report."""
    with services(app, ids) as w:
        v2024 = _draft(w)
        submissions.add_survey(_user("phantich"), v2024, w["campaign"].id, w["run"].id)
        _steps(v2024.id, *ORG_STEPS, ("vpubnd", "received"), ("vpubnd", "accepted"))
        v2023 = _db.session.scalar(sa.select(PackageVersion).where(
            PackageVersion.title == demo.PREVIOUS_PACKAGE_TITLE))
        assert v2023.status == "published"
        return v2023.id, v2024.id


def _quarter() -> tuple[int, str]:
    now = datetime.now(CITY_TZ)
    return now.year, f"q{(now.month - 1) // 3 + 1}"


def _figures(version: PackageVersion, node: str) -> dict[str, float]:
    return {code: r["estimate"] for code, a in version.snapshot["agencies"].items()
            for r in a["results"] if r["node"] == node and r["estimate"] is not None}


def test_the_quarter_report_keeps_each_package_of_one_organisation_in_its_own_columns(
        app, ids, client, auth):
    v2023_id, v2024_id = _both_front_packages_accepted(app, ids)
    with services(app, ids):
        v2023, v2024 = (_db.session.get(PackageVersion, v) for v in (v2023_id, v2024_id))
        node = v2024.snapshot["surveys"][0]["report"]["rank_node"]
        want = {"2023": _figures(v2023, node), "2024": _figures(v2024, node)}
        code = sorted(set(want["2023"]) & set(want["2024"]))[0]
        assert want["2023"][code] != want["2024"][code]
    auth.login("vpubnd", DEMO_PASSWORDS["vpubnd"])
    year, period = _quarter()
    book = load_workbook(io.BytesIO(
        client.get(f"/office/export?year={year}&period={period}").data))
    sheet = list(book["Theo cơ quan"].values)
    header, rows = sheet[0], {r[0]: r for r in sheet[1:]}
    assert len(set(header)) == len(header)  # every column has its own name
    estimates = [i for i, h in enumerate(header) if i >= 2 and ":" not in h]
    assert sorted(rows[code][i] for i in estimates) == sorted(
        [want["2023"][code], want["2024"][code]])
    got = {("2023" if " — 2023 — " in header[i] else "2024"): rows[code][i] for i in estimates}
    assert got == {"2023": want["2023"][code], "2024": want["2024"][code]}
    # The page names each column by organisation, year, version and survey too.
    with services(app, ids):
        versions = [_db.session.get(PackageVersion, v) for v in (v2023_id, v2024_id)]
        headers = [c.header for c in consolidation.consolidate(2024, versions)["columns"]]
        assert len(set(headers)) == 2 and {" — 2023 — " in h for h in headers} == {True, False}


def test_shared_indicators_keep_every_package_of_an_organisation(app, ids, client, auth):
    from test_packages_office import _second_organisation_package

    v2023_id, v2024_id = _both_front_packages_accepted(app, ids)
    with services(app, ids):
        v2023, v2024 = (_db.session.get(PackageVersion, v) for v in (v2023_id, v2024_id))
        women = _second_organisation_package(v2024, 0.05)
        _db.session.add(PackageTransition(  # accepted again this quarter: in its report
            version_id=women.id, from_status="received", to_status="accepted",
            actor_label="vpubnd", created_at=datetime.now(UTC)))
        _db.session.commit()
        women_id = women.id
        node = v2024.snapshot["surveys"][0]["report"]["rank_node"]
        want = {2023: _figures(v2023, node), 2024: _figures(v2024, node)}
        code = sorted(set(want[2023]) & set(want[2024]))[0]
        assert want[2023][code] != want[2024][code]
        label = next(r["label"] for r in v2024.snapshot["agencies"][code]["results"]
                     if r["node"] == node)
    auth.login("vpubnd", DEMO_PASSWORDS["vpubnd"])
    year, period = _quarter()
    book = load_workbook(io.BytesIO(
        client.get(f"/office/export?year={year}&period={period}").data))
    sheet = list(book["Chỉ tiêu chung"].values)
    header = sheet[0]
    front = [r for r in sheet[1:] if r[1] == label and r[2] == code
             and r[4] == demo.CITY_FRONT]
    estimate = header.index("Ước lượng")
    assert sorted(r[estimate] for r in front) == sorted([want[2023][code], want[2024][code]])
    assert {r[header.index("Năm khảo sát")]: r[estimate] for r in front} == {
        2023: want[2023][code], 2024: want[2024][code]}
    # The page's table: one column per package version and survey, each with its figure.
    with services(app, ids):
        versions = [_db.session.get(PackageVersion, v) for v in (v2023_id, v2024_id, women_id)]
        shared = next(g for g in consolidation.consolidate(2024, versions)["shared"]
                      if g["node"] == node)
        assert [name for _id, name in shared["organisations"]] == sorted([demo.CITY_FRONT,
                                                                           demo.WOMEN])
        assert len({o["label"] for o in shared["sources"]}) == len(shared["sources"]) == 3
        cells = next(a for a in shared["agencies"] if a["code"] == code)["cells"]
        assert {o["year"]: cells[o["key"]]["estimate"] for o in shared["sources"]
                if o["organisation"] == demo.CITY_FRONT} == {2023: want[2023][code],
                                                             2024: want[2024][code]}
    page = client.get("/office/?year=2024").get_data(as_text=True)
    assert page.count("2024 · phiên bản 1 · ") >= 4  # 2 side by side + 2 in each shared table


# ---- 3. the tamper check after harmless edits ------------------------------------------------


def test_renaming_the_organisation_leaves_a_submitted_package_intact(app, ids, client, auth):
    runner = app.test_cli_runner()
    with services(app, ids) as w:
        version = _submitted(w)
        _steps(version.id, *OFFICE_STEPS)
        vid = version.id
        org = _db.session.get(Organisation, ids["org"])
        org.name = "Ủy ban MTTQ Việt Nam Thành phố Hồ Chí Minh (tên mới)"
        w["campaign"].title = w["campaign"].title + " (sửa tên)"
        _db.session.commit()
        _db.session.expire_all()
        result = submissions.verify(_db.session.get(PackageVersion, vid))
        assert result.ok and result.altered == []
        # What changed since submission is still told, as information.
        assert {"package", f"surveys/c{ids['campaign']}"} <= \
            {d.part for d in result.since_submission}
    cli = runner.invoke(args=["packages", "verify", str(vid)])
    assert cli.exit_code == 0, cli.output
    assert "intact" in cli.output
    auth.login("vpubnd", DEMO_PASSWORDS["vpubnd"])
    page = client.get(f"/packages/{vid}/verify")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-testid="verify-ok"' in html and 'data-testid="since-submission"' in html
    auth.logout()
    check = client.get(f"/results/packages/{vid}/check").get_data(as_text=True)
    assert 'data-testid="check-ok"' in check and 'data-testid="check-failed"' not in check


def test_altered_part_digests_are_not_intact(app, ids):
    """The digests stored per part are part of the evidence: rewriting one is caught even
    though the snapshot still hashes to the whole digest."""
    with services(app, ids) as w:
        version = _submitted(w)
        forged = {**version.part_digests, "package": "0" * 64}
        _db.session.execute(sa.update(PackageVersion.__table__)
                            .where(PackageVersion.__table__.c.id == version.id)
                            .values(part_digests=forged))
        _db.session.commit()
        _db.session.expire(version)
        result = submissions.verify(version)
        assert not result.ok
        assert [(d.part, d.against) for d in result.altered] == [("package", "digest")]
