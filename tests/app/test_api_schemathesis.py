"""A property-based run of schemathesis against the API's own OpenAPI description (issue 11).

Each operation of /api/v1/openapi.json is called in-process (WSGI) with requests that
schemathesis generates from the description — valid ones, and invalid ones that must be
refused with a 4xx — anonymously for public operations and with a live token (every scope)
otherwise, on random ids and on the fixture's real objects. Every answer must be free of
server errors and conform to the description: status code, content type, headers and body
schema. Deterministic (derandomized) and bounded (MAX_EXAMPLES per operation and mode).
"""

from __future__ import annotations

import builders
import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from surveyapp.extensions import db as _db
from surveyapp.models import ScorecardRow
from surveyapp.models.codes import Role, TokenScope
from surveyapp.services.tokens import create_token
from surveyapp.views import api_spec

MAX_EXAMPLES = 30

SPEC = api_spec.build_spec()
# Schemathesis leaves out the operation that serves the description itself (it has just
# read it); tests/app/test_api.py checks that one.
OPERATIONS = sorted((method.upper(), path) for path, item in SPEC["paths"].items()
                    for method in item if method in ("get", "post", "put", "delete")
                    and path != "/openapi.json")


def _inputs(method: str, path: str) -> bool:
    """Has the operation anything to make invalid (parameters or a body)?"""
    item = SPEC["paths"][path]
    op = item[method.lower()]
    return bool(item.get("parameters") or op.get("parameters") or op.get("requestBody"))


RUNS = [(m, p, mode) for m, p in OPERATIONS
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        if mode is GenerationMode.POSITIVE or _inputs(m, p)]
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_headers_conformance", "response_schema_conformance", "ignored_auth")


def _public(method: str, path: str) -> bool:
    return not SPEC["paths"][path][method.lower()]["security"]


@pytest.fixture
def world(app, db):
    """An organisation administrator's token with every scope, and real objects to name."""
    with app.app_context():
        org = builders.make_org()
        admin = builders.make_user("ha", org, Role.ORG_ADMIN)
        campaign = builders.make_campaign(org, agencies=[builders.make_agency()])
        plan = builders.make_sampling_plan(campaign)
        run = builders.make_scorecard_run(builders.make_weight_run(campaign, plan))
        # One shown and one suppressed figure, so the document's rows are exercised.
        for position, (code, status, estimate) in enumerate(
                [(None, "reliable", 81.5), ("SO-TP", "suppressed", 77.0)]):
            _db.session.add(ScorecardRow(
                run_id=run.id, position=position, agency_code=code, agency_name="x",
                node="sipas", level="overall", estimate=estimate, se=1.0, ci_low=estimate - 2,
                ci_high=estimate + 2, unweighted=estimate, n=40 if code is None else 3,
                n_effective=30.0, status=status, reason="n<10" if code else ""))
        job = builders.make_job(admin)
        # An assignment of the administrator's with its interview (the field operations).
        version = builders.make_questionnaire_version(campaign, status="frozen")
        _assignment, interview = builders.make_field_objects(plan, version, admin, "c1")
        _db.session.commit()
        raw = create_token(None, "schemathesis", [s.value for s in TokenScope], user=admin)[1]
        ids = {"campaign_id": campaign.id, "scorecard_id": run.id, "job_id": job.id,
               "interview_uuid": interview.uuid}
        assert _db.session.scalar(sa.select(sa.func.count()).select_from(ScorecardRow)) == 2
    return raw, ids


@pytest.fixture
def api_schema(app, world):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    assert {(op.method.upper(), op.path) for op in (r.ok() for r in
                                                   schema.get_all_operations())} == set(OPERATIONS)
    return schema


def _run(operation, mode: GenerationMode, headers: dict, path_parameters: dict | None):
    checks = [getattr(schemathesis.checks, name) for name in CHECKS]
    if mode is GenerationMode.NEGATIVE:
        checks.append(schemathesis.checks.negative_data_rejection)
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

    @settings(max_examples=MAX_EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case):
        case.call_and_validate(headers=headers, checks=checks)

    run()


@pytest.mark.parametrize("method,path,mode", RUNS, ids=[
    f"{m} {p} {'valid' if mode is GenerationMode.POSITIVE else 'invalid'}" for m, p, mode in RUNS])
def test_the_api_conforms_to_its_description(api_schema, world, method, path, mode):
    raw, ids = world
    operation = api_schema[path][method]
    headers = {} if _public(method, path) else {"Authorization": f"Bearer {raw}"}
    _run(operation, mode, headers, None)
    # Real objects too (random ids mostly answer 404): the fixture's campaign, run and job.
    real = {p["name"]: ids[p["name"]] for p in (
        SPEC["paths"][path].get("parameters", []) +
        SPEC["paths"][path][method.lower()].get("parameters", []))
        if p.get("in") == "path" and p["name"] in ids}
    if real and mode is GenerationMode.POSITIVE:
        _run(operation, mode, headers, real)


PUBLISHED = [(m, p) for m, p in OPERATIONS if p.startswith("/published/")]


@pytest.fixture
def published_world(app, db):
    """The demo's 2024 package, published: real documents for the published operations."""
    from test_published import publish_demo

    from surveyapp.models import PackageVersion

    with app.test_request_context():
        version = _db.session.get(PackageVersion, publish_demo())
        return {"year": version.package.year, "organisation_id": version.package.organisation_id,
                "package_version_id": version.id, "agency_code": "SO-TP"}


def test_published_results_conform_with_a_published_package(app, published_world):
    """Every published operation on the real objects (one published package, paid once)."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    assert PUBLISHED
    for method, path in PUBLISHED:
        names = [p["name"] for p in SPEC["paths"][path][method.lower()].get("parameters", [])
                 if p.get("in") == "path"]
        _run(schema[path][method], GenerationMode.POSITIVE, {},
             {n: published_world[n] for n in names})
