"""The machine API's conventions (issue 11): its OpenAPI description covers exactly the
routes, lists are paginated, GETs carry strong ETags, and tokens act only within their
organisation and scopes; scorecard runs read through the API blank suppressed cells."""

from __future__ import annotations

import hashlib
import re

import builders
import pytest
import sqlalchemy as sa

from surveyapp.extensions import db as _db
from surveyapp.models import Campaign, Organisation, ScorecardRow, ScorecardRun
from surveyapp.models.codes import Role
from surveyapp.services.tokens import create_token
from surveyapp.views import api_spec

PREFIX = "/api/v1"


def bearer(raw: str) -> dict:
    return {"Authorization": f"Bearer {raw}"}


def spec_operations(spec: dict) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in spec["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")}


def route_operations(app) -> set[tuple[str, str]]:
    """(METHOD, /path/{arg}) of every registered rule under /api/v1/."""
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[a-z_]+(?:\([^)]*\))?:)?([a-z_]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            found.add((method, path[len(PREFIX):]))
    return found


# ---- the description -----------------------------------------------------------------------

def test_every_api_route_is_described_and_nothing_else(app, client):
    spec = client.get(f"{PREFIX}/openapi.json").json
    assert spec["openapi"].startswith("3.1") and spec["servers"] == [{"url": PREFIX}]
    routes, described = route_operations(app), spec_operations(spec)
    assert routes - described == set(), "routes missing from the OpenAPI description"
    assert described - routes == set(), "described operations that no route serves"
    # the check itself sees the field API (another module's routes) and path arguments
    assert ("POST", "/interviews") in routes and ("GET", "/scorecards/{scorecard_id}") in routes


def test_a_route_added_without_a_description_is_noticed(database_url):
    from surveyapp import create_app

    app = create_app(builders.app_config(database_url))
    app.add_url_rule(f"{PREFIX}/extra/<int:thing_id>", "extra", lambda thing_id: "")
    assert ("GET", "/extra/{thing_id}") in route_operations(app) - spec_operations(
        api_spec.build_spec())


def test_every_reference_resolves_and_every_operation_declares_its_errors():
    spec = api_spec.build_spec()
    text = repr(spec)
    for section, name in re.findall(r"#/components/(\w+)/([\w-]+)", text):
        assert name in spec["components"][section], f"{section}/{name}"
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            assert op["summary"] and op["tags"][0] in {t["name"] for t in spec["tags"]}
            if op["security"]:  # not public: the 401 and 403 bodies are described
                assert {"401", "403"} <= set(op["responses"]), (method, path)
            if "{" in path:
                assert "404" in op["responses"], (method, path)


def test_the_docs_page_is_public_and_shows_every_operation(client):
    page = client.get(f"{PREFIX}/docs")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    spec = api_spec.build_spec()
    assert html.count('data-testid="api-operation"') == len(spec_operations(spec))
    for path in spec["paths"]:
        assert f"{PREFIX}{path}" in html
    assert "Tài liệu API" in html and "scorecards:read" in html
    assert "<script" not in html.split("<main", 1)[1].split("</main>")[0]
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing from elsewhere


def test_the_docs_page_follows_the_language(client):
    client.get("/lang/en")
    assert "API documentation" in client.get(f"{PREFIX}/docs").get_data(as_text=True)


# ---- pagination -------------------------------------------------------------------------------

@pytest.fixture
def many_campaigns(app, db):
    with app.app_context():
        org = builders.make_org()
        builders.make_user("lan", org, Role.ANALYST)
        for i in range(7):
            builders.make_campaign(org, title=f"Khảo sát {i}", year=2020 + i)
        user = _db.session.scalar(sa.select(builders.User).where(builders.User.login == "lan"))
        return create_token(None, "t", ["campaigns:read"], user=user)[1]


def _links(response) -> dict[str, str]:
    return {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"',
                                                response.headers["Link"])}


def test_lists_are_paged_with_links_and_a_total(client, many_campaigns):
    first = client.get(f"{PREFIX}/campaigns?per_page=3", headers=bearer(many_campaigns))
    assert first.status_code == 200 and first.headers["X-Total-Count"] == "7"
    assert [c["year"] for c in first.json] == [2026, 2025, 2024]
    links = _links(first)
    assert set(links) == {"first", "next", "last"}
    assert "page=3" in links["last"] and "per_page=3" in links["last"]
    seen = [c["id"] for c in first.json]
    url = links["next"]
    while url:
        page = client.get(url, headers=bearer(many_campaigns))
        seen += [c["id"] for c in page.json]
        assert "prev" in _links(page)
        url = _links(page).get("next")
    assert len(seen) == len(set(seen)) == 7  # every item once, none twice
    past = client.get(f"{PREFIX}/campaigns?per_page=3&page=9", headers=bearer(many_campaigns))
    assert past.status_code == 200 and past.json == [] and "page=3" in _links(past)["prev"]
    # the default page holds everything here (100 items)
    assert len(client.get(f"{PREFIX}/campaigns", headers=bearer(many_campaigns)).json) == 7


@pytest.mark.parametrize("query", ["page=0", "page=-1", "page=abc", "per_page=0",
                                   "per_page=1001", "per_page=2.5", "page=+2", "page=%D9%A3",
                                   "page=99999999999999999999"])
def test_bad_paging_parameters_are_a_400_with_a_message(client, many_campaigns, query):
    response = client.get(f"{PREFIX}/campaigns?{query}", headers=bearer(many_campaigns))
    assert response.status_code == 400
    name = query.split("=")[0]
    assert response.json["status"] == 400 and name in response.json["error"]
    assert "số nguyên" in response.json["error"]


# ---- ETags ---------------------------------------------------------------------------------

def test_gets_carry_a_strong_etag_of_the_body_and_answer_304(client, many_campaigns):
    headers = bearer(many_campaigns)
    response = client.get(f"{PREFIX}/campaigns", headers=headers)
    etag = response.headers["ETag"]
    assert etag == '"' + hashlib.sha256(response.get_data()).hexdigest() + '"'  # strong: no W/
    assert response.headers["Cache-Control"] == "private, no-cache"
    again = client.get(f"{PREFIX}/campaigns", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    other = client.get(f"{PREFIX}/campaigns", headers={**headers, "If-None-Match": '"abc"'})
    assert other.status_code == 200
    # a different body (another page) has another ETag
    paged = client.get(f"{PREFIX}/campaigns?per_page=2", headers=headers)
    assert paged.headers["ETag"] != etag
    # an error is not cached, and a public document is
    assert "ETag" not in client.get(f"{PREFIX}/campaigns").headers
    spec = client.get(f"{PREFIX}/openapi.json")
    assert spec.headers["Cache-Control"] == "no-cache" and spec.headers["ETag"]
    assert client.get(f"{PREFIX}/openapi.json", headers={
        "If-None-Match": spec.headers["ETag"]}).status_code == 304


def test_no_etag_on_pages_outside_the_api(client):
    assert "ETag" not in client.get("/login").headers


# ---- tokens: organisation and scope ---------------------------------------------------------

@pytest.fixture
def two_orgs(app, db):
    """A person who works for two organisations, each with a campaign and a scorecard run."""
    with app.app_context():
        a = builders.make_org("Tổ chức A")
        b = builders.make_org("Tổ chức B")
        user = builders.make_user("lan", a, Role.ANALYST)
        _db.session.add(builders.Membership(user_id=user.id, organisation_id=b.id,
                                            role=Role.ANALYST.value))
        _db.session.commit()
        ids = {}
        for org in (a, b):
            campaign = builders.make_campaign(org, title=f"Khảo sát của {org.name}")
            plan = builders.make_sampling_plan(campaign)
            run = builders.make_scorecard_run(builders.make_weight_run(campaign, plan))
            ids[org.name] = (org.id, campaign.id, run.id)
        return user.id, ids


def _token(app, user_id=None, org_id=None, scopes=("campaigns:read", "scorecards:read")):
    with app.app_context():
        user = _db.session.get(builders.User, user_id) if user_id else None
        org = _db.session.get(Organisation, org_id) if org_id else None
        return create_token(None, "t", list(scopes), user=user, organisation=org)[1]


def test_a_token_of_one_organisation_does_not_act_in_the_users_other_one(app, client,
                                                                          two_orgs):
    user_id, ids = two_orgs
    (a_id, a_campaign, a_run), (_b_id, b_campaign, b_run) = ids["Tổ chức A"], ids["Tổ chức B"]
    personal = bearer(_token(app, user_id))
    assert {c["id"] for c in client.get(f"{PREFIX}/campaigns", headers=personal).json} == {
        a_campaign, b_campaign}
    scoped = bearer(_token(app, user_id, a_id))
    assert [c["id"] for c in client.get(f"{PREFIX}/campaigns", headers=scoped).json] == [
        a_campaign]
    assert client.get(f"{PREFIX}/scorecards/{a_run}", headers=scoped).status_code == 200
    assert client.get(f"{PREFIX}/scorecards/{b_run}", headers=scoped).status_code == 403
    assert client.get(f"{PREFIX}/campaigns/{b_campaign}/scorecards",
                      headers=scoped).status_code == 403
    assert client.get(f"{PREFIX}/me", headers=scoped).json["roles"] == {str(a_id): ["analyst"]}
    # an organisation's own token (no user) likewise
    org_only = bearer(_token(app, None, a_id))
    assert client.get(f"{PREFIX}/scorecards/{a_run}", headers=org_only).status_code == 200
    assert client.get(f"{PREFIX}/scorecards/{b_run}", headers=org_only).status_code == 403


def test_a_token_needs_the_scope_of_each_operation(app, client, two_orgs):
    user_id, ids = two_orgs
    _org, campaign_id, run_id = ids["Tổ chức A"]
    only_campaigns = bearer(_token(app, user_id, scopes=["campaigns:read"]))
    assert client.get(f"{PREFIX}/campaigns", headers=only_campaigns).status_code == 200
    for url in (f"/scorecards/{run_id}", f"/campaigns/{campaign_id}/scorecards", "/agencies"):
        response = client.get(PREFIX + url, headers=only_campaigns)
        assert response.status_code == 403 and response.json["status"] == 403, url
    only_scorecards = bearer(_token(app, user_id, scopes=["scorecards:read"]))
    assert client.get(f"{PREFIX}/campaigns", headers=only_scorecards).status_code == 403
    assert client.get(f"{PREFIX}/scorecards/{run_id}", headers=only_scorecards).status_code == 200


def test_tokens_of_a_deactivated_organisation_stop_working(app, client, two_orgs):
    _user, ids = two_orgs
    org_id = ids["Tổ chức A"][0]
    raw = _token(app, None, org_id)
    assert client.get(f"{PREFIX}/me", headers=bearer(raw)).status_code == 200
    with app.app_context():
        _db.session.get(Organisation, org_id).active = False
        _db.session.commit()
    assert client.get(f"{PREFIX}/me", headers=bearer(raw)).status_code == 401


def test_a_revoked_token_is_refused_at_once(app, client, two_orgs):
    from surveyapp.models import ApiToken
    from surveyapp.services.tokens import revoke_token

    user_id, ids = two_orgs
    raw = _token(app, user_id)
    run_id = ids["Tổ chức A"][2]
    assert client.get(f"{PREFIX}/scorecards/{run_id}", headers=bearer(raw)).status_code == 200
    with app.app_context():
        stored = _db.session.scalar(sa.select(ApiToken))
        assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
        revoke_token(None, stored)
    assert client.get(f"{PREFIX}/scorecards/{run_id}", headers=bearer(raw)).status_code == 401


# ---- scorecards through the API -----------------------------------------------------------

def test_scorecard_runs_are_listed_newest_first_for_the_campaigns_organisation(app, client,
                                                                               two_orgs):
    user_id, ids = two_orgs
    _org, campaign_id, run_id = ids["Tổ chức A"]
    with app.app_context():
        first = _db.session.get(ScorecardRun, run_id)
        second = ScorecardRun(campaign_id=campaign_id, number=2,
                              weight_run_id=first.weight_run_id, index_key="tt01",
                              method_version="v", confidence_level=0.9, min_n=5, rule="cv",
                              seed=7, status="done")
        _db.session.add(second)
        _db.session.commit()
        second_id, weight_id = second.id, first.weight_run_id
    listing = client.get(f"{PREFIX}/campaigns/{campaign_id}/scorecards",
                         headers=bearer(_token(app, user_id)))
    assert listing.status_code == 200 and listing.headers["X-Total-Count"] == "2"
    assert [(r["id"], r["number"]) for r in listing.json] == [(second_id, 2), (run_id, 1)]
    assert listing.json[0]["weighting_run"]["id"] == weight_id
    assert listing.json[0]["index"]["key"] == "tt01"
    # each item is the run part of the run's own document
    document = client.get(f"{PREFIX}/scorecards/{second_id}",
                          headers=bearer(_token(app, user_id))).json
    assert document["run"] == listing.json[0]
    assert client.get(f"{PREFIX}/campaigns/999999/scorecards",
                      headers=bearer(_token(app, user_id))).status_code == 404


def test_a_tiny_cell_is_blank_in_the_api_with_its_reason(app, db, client):
    from surveyapp.services import demo, scorecards, weighting

    with app.test_request_context():
        demo.load_demo()
        campaign = _db.session.scalar(sa.select(Campaign).where(
            Campaign.title == demo.CAMPAIGN_TITLE))
        demo_run_id = scorecards.list_runs(campaign)[-1].id
        run = scorecards.compute_scorecard(None, weighting.list_runs(campaign)[-1],
                                           scorecards.Options("sipas", min_n=1000))
        run_id = run.id
        stored = {(r.agency_code, r.node): r.estimate for r in _db.session.scalars(
            sa.select(ScorecardRow).where(ScorecardRow.run_id == run_id))}
    auth_ok = client.post("/login", data={"login": "phantich", "password": "demo-analyst-2024"})
    assert auth_ok.status_code == 302
    document = client.get(f"{PREFIX}/scorecards/{run_id}").json
    agencies = [r for r in document["rows"] if r["agency_code"] is not None]
    assert agencies and all(r["status"] == "suppressed" for r in agencies)
    for r in agencies:
        assert r["estimate"] is r["se"] is r["ci_low"] is r["ci_high"] is None
        assert "n<1000" in r["reason"]
        assert stored[(r["agency_code"], r["node"])] is not None  # kept in the database
    body = client.get(f"{PREFIX}/scorecards/{run_id}").get_data(as_text=True)
    for (code, _node), estimate in stored.items():
        if code is not None and len(repr(estimate)) > 8:  # a figure no other field repeats
            assert repr(estimate) not in body
    for r in document["rows"]:  # the city total too, whenever it is suppressed
        if r["status"] == "suppressed":
            assert r["estimate"] is None and r["ci_low"] is None and r["reason"]
    # the demo's own run (minimum 5) shows the agencies' figures through the same endpoint
    shown = client.get(f"{PREFIX}/scorecards/{demo_run_id}").json["rows"]
    assert any(r["agency_code"] and r["estimate"] is not None and r["status"] != "suppressed"
               for r in shown)
