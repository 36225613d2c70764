"""Published results (issue 11): the public JSON endpoints, the open-data export, from which
the digest listed on the public page is recomputed here with an RFC 8785 serialiser written
in this file (not the app's), the public pages, suppression, and tamper evidence."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db as _db
from surveyapp.models import Campaign, PackageVersion, ScorecardRow
from surveyapp.services import demo, package_workflow, scorecards, submissions

STEPS = ["draft", "internal_review", "approved", "submitted", "received", "accepted",
         "published"]


# ---- an independent RFC 8785 (JSON Canonicalization Scheme) serialiser -----------------

def _jcs_number(x) -> str:
    """ECMAScript Number::toString (RFC 8785 §3.2.2.3) of a finite double."""
    if isinstance(x, bool):
        raise TypeError
    x = float(x)
    if not math.isfinite(x):
        raise ValueError("no JSON form")
    if x == 0:
        return "0"
    # Python's repr gives the shortest digits that round-trip, as ECMAScript requires.
    text = repr(abs(x))
    mantissa, _, exponent = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    n = len(whole) + int(exponent or 0)  # value = 0.<digits> x 10^n
    n -= len(digits) - len(digits.lstrip("0"))
    digits = digits.strip("0")
    k = len(digits)
    sign = "-" if x < 0 else ""
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    return f"{sign}{digits[0]}{'.' + digits[1:] if k > 1 else ''}e{'+' if e >= 0 else '-'}{abs(e)}"


def _jcs_string(s: str) -> str:
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch in "\b\f\n\r\t":
            out.append({"\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}[ch])
        elif code < 0x20:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def jcs(value) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return _jcs_number(value)
    if isinstance(value, str):
        return _jcs_string(value)
    if isinstance(value, list):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    # keys sorted by their UTF-16 code units
    items = sorted(value.items(), key=lambda kv: kv[0].encode("utf-16-be"))
    return "{" + ",".join(_jcs_string(k) + ":" + jcs(v) for k, v in items) + "}"


@pytest.mark.parametrize("value,text", [
    (0.0, "0"), (-0.0, "0"), (1.0, "1"), (100.0, "100"), (1e21, "1e+21"), (1e20,
     "100000000000000000000"), (0.000001, "0.000001"), (1e-7, "1e-7"), (123.456, "123.456"),
    (-1.5e-10, "-1.5e-10"), (5e-324, "5e-324"), (1.7976931348623157e308,
     "1.7976931348623157e+308"), (4.5, "4.5"), (0.1 + 0.2, "0.30000000000000004"), (7, "7")])
def test_the_independent_serialiser_follows_rfc8785_numbers(value, text):
    # RFC 8785 Appendix B and ECMAScript's Number::toString examples.
    assert _jcs_number(value) == text


def test_the_independent_serialiser_sorts_keys_by_utf16_units():
    # RFC 8785 §3.2.3's example order: "\r", "1", "\u0080", "ö", "€", "😀", "דּ"
    keys = ["\u20ac", "\r", "\ufb33", "1", "\U0001f600", "\u0080", "\u00f6"]
    text = jcs({k: 0 for k in keys})
    assert [json.loads(f'"{m}"') for m in re.findall(r'"((?:[^"\\]|\\.)*)":', text)] == [
        "\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


# ---- a published package of the demo ---------------------------------------------------

def publish_demo(min_n: int | None = None) -> int:
    """The demo's 2024 package taken to "published" (with a run of ``min_n`` if given)."""
    demo.load_demo()
    campaign = _db.session.scalar(sa.select(Campaign).where(
        Campaign.title == demo.CAMPAIGN_TITLE))
    version = _db.session.scalar(sa.select(PackageVersion).join(PackageVersion.package)
                                 .where(PackageVersion.status == "draft"))
    if min_n is not None:
        from surveyapp.services import weighting

        run = scorecards.compute_scorecard(None, weighting.list_runs(campaign)[-1],
                                           scorecards.Options("sipas", min_n=min_n))
        submissions.add_survey(None, version, campaign.id, run.id)
    elif not version.surveys:
        submissions.add_survey(None, version, campaign.id, scorecards.list_runs(campaign)[0].id)
    for step in STEPS[STEPS.index(version.status) + 1:]:
        package_workflow.transition(None, version, step)
    return version.id


@pytest.fixture
def published_id(app, db):
    with app.test_request_context():
        return publish_demo()


@pytest.fixture
def tiny_cells_id(app, db):
    with app.test_request_context():
        return publish_demo(min_n=10)


def _version(app, version_id):
    return _db.session.get(PackageVersion, version_id)


def test_published_years_and_the_year_document(app, client, published_id):
    years = client.get("/api/v1/published/years")
    assert years.status_code == 200 and years.headers["X-Total-Count"] == "2"
    # The demo publishes its 2023 round itself; the 2024 package is the one published here.
    assert [(y["year"], y["packages"]) for y in years.json] == [(2024, 1), (2023, 1)]
    doc = client.get("/api/v1/published/2024").json
    with app.app_context():
        version = _version(app, published_id)
        digest, org_id = version.digest, version.package.organisation_id
    assert [p["version_id"] for p in doc["packages"]] == [published_id]
    assert doc["packages"][0]["digest"] == digest and doc["packages"][0]["current"] is True
    assert {a["code"] for a in doc["agencies"]} >= {"SO-TP"}
    assert client.get("/api/v1/published/2022").status_code == 404
    org = client.get(f"/api/v1/published/2024/organisations/{org_id}").json
    assert org["version_id"] == published_id and org["findings"]["overall"]
    assert org["methodology"][0]["design"]["n"] > 0
    agency = client.get("/api/v1/published/2024/agencies/SO-TP").json
    assert agency["agency"]["name"] == "Sở Tư pháp"
    assert agency["reports"][0]["results"] and all(
        r["agency_code"] == "SO-TP" for r in agency["reports"][0]["results"])
    assert client.get("/api/v1/published/2024/agencies/NOPE").status_code == 404
    assert client.get("/api/v1/published/2024/agencies/A%00B").status_code == 404


def test_the_snapshot_bytes_hash_to_the_digest(app, client, published_id):
    document = client.get(f"/api/v1/published/packages/{published_id}").json
    body = client.get(f"/api/v1/published/packages/{published_id}/snapshot").get_data()
    assert hashlib.sha256(body).hexdigest() == document["digest"]
    assert json.loads(body) == document["snapshot"]
    assert jcs(document["snapshot"]).encode() == body  # the bytes are RFC 8785's


def test_an_unpublished_version_is_not_public(app, client, published_id):
    with app.test_request_context():
        version = _version(app, published_id)
        amended = submissions.amend(None, version)  # a new draft: not published
        amended_id = amended.id
    for url in (f"/api/v1/published/packages/{amended_id}",
                f"/api/v1/published/packages/{amended_id}/snapshot",
                f"/results/packages/{amended_id}", f"/results/packages/{amended_id}/check"):
        assert client.get(url).status_code == 404, url
    with app.test_request_context():
        # the draft goes to "submitted" only: still nothing public about it
        draft = _version(app, amended_id)
        for step in STEPS[1:4]:
            package_workflow.transition(None, draft, step)
    assert client.get(f"/api/v1/published/packages/{amended_id}").status_code == 404
    assert [p["version_id"] for p in client.get("/api/v1/published/2024").json[
        "packages"]] == [published_id]


def test_the_open_data_export_recomputes_the_digest_listed_on_the_public_page(
        app, client, published_id):
    page = client.get("/results/2024").get_data(as_text=True)
    listed = re.findall(r'data-testid="digest">([0-9a-f]{64})<', page)
    export = client.get("/api/v1/published/2024/open-data.json")
    assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]
    data = json.loads(export.get_data())
    assert data["format"] == "surveyapp.open-data/1" and data["year"] == 2024
    recomputed = {hashlib.sha256(jcs(p["snapshot"]).encode("utf-8")).hexdigest()
                  for p in data["packages"]}
    assert listed and set(listed) == recomputed == {p["digest"] for p in data["packages"]}
    # the export itself is canonical JSON too (the same bytes for the same publications)
    assert jcs(data).encode() == export.get_data()


def test_the_csv_export_has_every_figure_with_the_digest(app, client, tiny_cells_id):
    response = client.get("/api/v1/published/2024/open-data.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    with app.app_context():
        version = _version(app, tiny_cells_id)
        run_id = version.surveys[0].scorecard_run_id
        stored = _db.session.scalars(sa.select(ScorecardRow).where(
            ScorecardRow.run_id == run_id)).all()
        digest = version.digest
    assert len(rows) == len(stored)  # every agency x node and the city total, once
    assert {r["digest"] for r in rows} == {digest}
    hidden = [r for r in rows if r["status"] == "suppressed"]
    shown = [r for r in rows if r["status"] != "suppressed"]
    assert hidden and shown
    assert all(r["estimate"] == r["se"] == r["ci_low"] == r["ci_high"] == "" for r in hidden)
    assert all(r["estimate"] != "" for r in shown)


def test_suppressed_cells_are_blank_in_the_api_and_on_the_pages(app, client, tiny_cells_id):
    with app.app_context():
        version = _version(app, tiny_cells_id)
        run_id = version.surveys[0].scorecard_run_id
        withheld = [r for r in _db.session.scalars(sa.select(ScorecardRow).where(
            ScorecardRow.run_id == run_id, ScorecardRow.status == "suppressed"))
            if r.estimate is not None]
    assert withheld  # kept in the database, never published
    bodies = [client.get(url).get_data(as_text=True) for url in (
        "/api/v1/published/2024", f"/api/v1/published/packages/{tiny_cells_id}",
        "/api/v1/published/2024/open-data.json", "/api/v1/published/2024/open-data.csv",
        "/results/2024", f"/results/packages/{tiny_cells_id}")]
    agencies = {r.agency_code for r in withheld if r.agency_code}
    bodies += [client.get(f"/results/2024/agencies/{code}").get_data(as_text=True)
               for code in agencies]
    for r in withheld:
        for value in (r.estimate, r.se, r.ci_low, r.ci_high):
            if len(repr(value)) > 8:  # a figure no other field would repeat by chance
                assert all(repr(value) not in body for body in bodies), value
    assert 'data-testid="suppressed"' in bodies[4]


def test_the_public_pages_need_no_sign_in(app, client, published_id):
    with app.app_context():
        version = _version(app, published_id)
        digest, org = version.digest, version.package.organisation.name
    index = client.get("/results/").get_data(as_text=True)
    assert "Kết quả đã công bố" in index and "/results/2024" in index
    year = client.get("/results/2024")
    html = year.get_data(as_text=True)
    assert year.status_code == 200 and org in html and digest in html
    assert 'data-testid="public-dot-plot"' in html and "Khoảng tin cậy" in html
    assert f"/results/packages/{published_id}/check" in html
    agency = client.get("/results/2024/agencies/SO-TP").get_data(as_text=True)
    assert "Sở Tư pháp" in agency and 'data-testid="agency-bar-chart"' in agency
    assert 'data-testid="dimension-scores"' in agency
    package = client.get(f"/results/packages/{published_id}").get_data(as_text=True)
    assert 'data-testid="methodology"' in package and "Chọn ngẫu nhiên đơn giản" in package
    check = client.get(f"/results/packages/{published_id}/check").get_data(as_text=True)
    assert 'data-testid="check-ok"' in check
    assert f'data-testid="recomputed-digest">{digest}<' in check
    for body in (index, html, agency, package, check):
        assert not re.search(r'(src|href)="(https?:)?//', body)  # no CDN, nothing remote
    assert client.get("/results/2022").status_code == 404
    assert client.get("/results/2024/agencies/NOPE").status_code == 404


def test_a_modified_stored_snapshot_is_detected_by_the_check_page_and_the_export(
        app, client, published_id):
    with app.app_context():
        version = _version(app, published_id)
        snapshot = json.loads(json.dumps(version.snapshot))
        row = next(r for r in snapshot["city"]["results"] if r["estimate"] is not None)
        row["estimate"] = row["estimate"] + 0.01  # someone edits the stored figures
        version.snapshot = snapshot
        _db.session.commit()
        digest = version.digest
    check = client.get(f"/results/packages/{published_id}/check").get_data(as_text=True)
    assert 'data-testid="check-failed"' in check and 'data-testid="check-ok"' not in check
    recomputed = re.search(r'data-testid="recomputed-digest">([0-9a-f]{64})<', check).group(1)
    assert recomputed != digest
    data = json.loads(client.get("/api/v1/published/2024/open-data.json").get_data())
    package = data["packages"][0]
    assert hashlib.sha256(jcs(package["snapshot"]).encode()).hexdigest() != package["digest"]


def test_the_package_page_gives_a_hidden_figures_reason_in_words(app, client, auth,
                                                                 tiny_cells_id):
    # the frozen snapshot keeps the reason codes ("n<10"); the page reads them in words
    auth.login("phantich", "demo-analyst-2024")
    page = client.get(f"/packages/{tiny_cells_id}").get_data(as_text=True)
    reasons = re.findall(r'data-testid="suppressed-reason">([^<]*)<', page)
    assert " ít hơn 10 người trả lời" in reasons
    assert not any(code in page for code in ("n&lt;10", "n<10", "n_eff&lt;", "n_eff<"))
