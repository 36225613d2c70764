"""The OpenAPI 3.1 description of /api/v1/ (served as /api/v1/openapi.json and /api/v1/docs).

Written by hand next to the views it describes; ``tests/app/test_api_spec.py`` checks that
every /api/v1/ route is in it and nothing else, and the schemathesis run checks that the
answers conform to it. The text is English (what API clients expect); the docs page around
it is translated.
"""

from __future__ import annotations

import re

from ..models._types import MAX_ID
from ..models.codes import CampaignStatus, Disposition, JobStatus, ReviewStatus, Role, TokenScope

VERSION = "1.1.0"
JSON = "application/json"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _null(schema: dict) -> dict:
    """``schema`` or null (JSON Schema 2020-12, as OpenAPI 3.1 uses)."""
    if "type" in schema and isinstance(schema["type"], str):
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def _obj(properties: dict, required: list[str] | None = None, extra: bool = True,
         description: str | None = None) -> dict:
    schema = {"type": "object", "properties": properties,
              "required": required if required is not None else list(properties)}
    if not extra:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}


def _schemas() -> dict:
    return {
        "Error": _obj({"error": {"type": "string", "description": "What went wrong, in the "
                                 "language of Accept-Language (Vietnamese by default)."},
                       "status": {"type": "integer", "description": "The HTTP status."}},
                      required=["error"], description="Every error answer."),
        "FieldErrors": _obj({"error": STRING,
                             "fields": {"type": "object", "additionalProperties": STRING,
                                        "description": "Payload field (or question name; "
                                        "\"\" for the body itself) → message."}},
                            description="A 422 of the submission API."),
        "Me": _obj({"login": STRING,
                    "roles": {"type": "object", "description": "Organisation id → its roles.",
                              "additionalProperties": {"type": "array", "items": {
                                  "type": "string", "enum": [r.value for r in Role]}}},
                    "scopes": _null({"type": "array", "items": STRING})},
                   description="The caller. ``scopes`` is null for a browser session."),
        "Campaign": _obj({"id": ID, "organisation_id": ID, "title": STRING, "year": INTEGER,
                          "status": {"type": "string",
                                     "enum": [s.value for s in CampaignStatus]}}),
        "Agency": _obj({"code": STRING, "portal_code": STRING, "name": STRING, "kind": STRING,
                        "unit_code": STRING, "valid_from": DATE, "valid_to": _null(DATE)},
                       description="An assessed agency of the registry (the import layout)."),
        "Job": _obj({"id": ID, "kind": STRING,
                     "status": {"type": "string", "enum": [s.value for s in JobStatus]},
                     "status_label": STRING, "progress": INTEGER, "message": STRING,
                     "result": _null({"type": "object"}), "error": _null(STRING),
                     "finished": BOOLEAN}),
        "ScorecardRun": _obj({
            "id": ID, "campaign_id": ID, "number": {"type": "integer", "minimum": 1},
            "status": STRING, "created_at": DATETIME,
            "weighting_run": _null(_obj({"id": ID, "number": INTEGER})),
            "index": _obj({"key": STRING, "method_version": STRING, "label": STRING,
                           "custom_index_id": _null(INTEGER),
                           "custom_index_version": _null(INTEGER)}),
            "confidence_level": NUMBER, "rule": STRING, "min_n": INTEGER, "seed": INTEGER,
            "df": _null(NUMBER), "band_table": _null({"type": "object"}),
            "comparison_adjust": _null(STRING),
            "previous_run": _null(_obj({"id": ID, "campaign_id": ID, "year": INTEGER,
                                        "number": INTEGER}))},
            description="A stored scorecard run (never recomputed, never overwritten): the "
                        "weighting run, index and method version, rule, minimum cell size and "
                        "seed it was computed with."),
        "ScorecardRow": _obj({
            "agency_code": _null(STRING), "agency_name": STRING, "node": STRING,
            "label": STRING, "level": {"type": "string",
                                       "enum": ["item", "dimension", "overall"]},
            "estimate": _null(NUMBER), "se": _null(NUMBER), "ci_low": _null(NUMBER),
            "ci_high": _null(NUMBER), "unweighted": _null(NUMBER), "n": INTEGER,
            "n_effective": _null(NUMBER),
            "status": {"type": "string", "enum": ["reliable", "flagged", "suppressed"]},
            "reason": STRING, "reason_text": STRING, "band": _null(INTEGER),
            "rank_median": _null(NUMBER), "rank_low": _null(NUMBER),
            "rank_high": _null(NUMBER), "grade": _null(STRING), "maximum": _null(NUMBER),
            "display": _null(NUMBER), "na": _null(INTEGER), "dk": _null(INTEGER)},
            description="One figure: an agency (``agency_code`` null: the city total) and an "
                        "index node. ``display`` is the rounded value graded, for an index "
                        "that rounds (Circular 01/2018 Art. 15: indicators to one decimal, "
                        "the total their sum), else null. ``na`` / ``dk``: an item's "
                        "unweighted counts of not-applicable and don't-know answers, left "
                        "out of its estimate (null for dimensions). A suppressed figure has "
                        "estimate, se, ci_low, ci_high, unweighted, grade and display null and "
                        "says why in ``reason``."),
        "ScorecardComparison": _obj({
            "kind": {"type": "string", "enum": ["city", "previous"]}, "node": STRING,
            "agency_code": STRING, "reference": NUMBER, "difference": NUMBER, "se": NUMBER,
            "statistic": _null(NUMBER), "p_value": NUMBER, "p_adjusted": NUMBER,
            "direction": STRING},
            description="An agency against the city total, or against its previous year."),
        "Scorecard": _obj({"run": _ref("ScorecardRun"),
                           "rows": {"type": "array", "items": _ref("ScorecardRow")},
                           "comparisons": {"type": "array",
                                           "items": _ref("ScorecardComparison")}}),
        **_published_schemas(),
        "Submission": _obj({
            "uuid": {"type": "string", "format": "uuid",
                     "description": "Made on the device when the interview starts."},
            "assignment_id": _null(ID),
            "questionnaire_version_id": ID,
            "started_at": DATETIME, "finished_at": DATETIME,
            "disposition": {"type": "string", "enum": [d.value for d in Disposition]},
            "answers": {"type": "object", "description": "Question name → answer."},
            "respondent": {"type": "object", "maxProperties": 50,
                           "description": "Identifying contact data, stored apart."},
            "paradata": {"type": "object"}},
            required=["uuid", "questionnaire_version_id", "started_at", "finished_at",
                      "disposition", "answers"]),
        "Correction": {"allOf": [_ref("Submission"), _obj(
            {"base_version": {"type": "integer", "minimum": 1,
                              "description": "The version the correction started from."}})]},
        "Receipt": _obj({"uuid": {"type": "string", "format": "uuid"},
                         "receipt": {"type": "string", "description": "SHA-256 of the "
                                     "canonical JSON (RFC 8785) of the stored content."},
                         "version": {"type": "integer", "minimum": 1}}),
        "SubmissionConflict": _obj({"error": STRING, "conflict_id": INTEGER}),
        "StaleCorrection": _obj({"error": STRING, "current_version": INTEGER}),
        "InterviewStatus": _obj({"uuid": {"type": "string", "format": "uuid"},
                                 "status": {"type": "string",
                                            "enum": [s.value for s in ReviewStatus]},
                                 "receipt": _null(STRING), "version": INTEGER}),
        "Assignment": _obj({
            "id": ID, "campaign_id": ID, "campaign_title": STRING,
            "questionnaire_version_id": _null(INTEGER), "status": STRING,
            "comment": _null(STRING),
            "case": _obj({"unit_id": STRING, "stratum": _null(STRING), "psu": _null(STRING),
                          "data": {"type": "object"}}),
            "interview": _null(_obj({"uuid": STRING, "version": INTEGER, "status": STRING})),
            "returned": BOOLEAN}),
    }


DIGEST = {"type": "string", "pattern": "^[0-9a-f]{64}$",
          "description": "SHA-256 (hex) of the RFC 8785 canonical JSON of the snapshot."}


def _published_schemas() -> dict:
    organisation = _obj({"id": ID, "name": STRING, "short_name": _null(STRING)})
    summary = _obj({
        "version_id": ID, "package_id": ID, "version": {"type": "integer", "minimum": 1},
        "year": INTEGER, "title": STRING, "organisation": organisation, "digest": DIGEST,
        "published_at": _null(DATETIME), "submitted_at": _null(DATETIME),
        "replaces": _null(_obj({"version_id": ID, "version": INTEGER,
                                "digest": _null(STRING)})),
        "superseded_by": _null(ID),
        "current": {"type": "boolean", "description": "No later published version replaces "
                                                      "this one."}},
        description="A published package version: who published what, when, its digest.")
    row_fields = {
        "agency_code": _null(STRING), "agency_name": STRING, "node": STRING, "label": STRING,
        "level": STRING, "estimate": _null(NUMBER), "se": _null(NUMBER),
        "ci_low": _null(NUMBER), "ci_high": _null(NUMBER), "n": INTEGER,
        "status": {"type": "string", "enum": ["reliable", "flagged", "suppressed"]},
        "reason": STRING, "survey": STRING, "index_key": STRING}
    methodology = _obj({"key": STRING, "campaign": {"type": "object"},
                        "scorecard_run": {"type": "object"},
                        "design": _null({"type": "object"}), "sizes": _null({"type": "object"}),
                        "response_rates": _null({"type": "object"}),
                        "weighting": _null({"type": "object"}),
                        "index": _null({"type": "object"})},
                       description="How a survey was designed, fielded, weighted and scored "
                                   "(from its frozen annual report).")
    texts = {"findings": STRING, "recommendations": STRING}
    return {
        "PackageSummary": summary,
        "PublishedYear": _obj({"year": INTEGER, "packages": INTEGER, "versions": INTEGER,
                               "organisations": {"type": "array", "items": STRING}}),
        "ResultRow": _obj(row_fields, description="One published figure (a row of the "
                          "frozen scorecard): suppressed ones have estimate, se and interval "
                          "null, and the reason."),
        "Methodology": methodology,
        "YearDocument": _obj({
            "year": INTEGER,
            "packages": {"type": "array", "items": _ref("PackageSummary")},
            "superseded": {"type": "array", "items": _ref("PackageSummary"),
                           "description": "Earlier published versions replaced since."},
            "agencies": {"type": "array", "items": _obj({
                "code": STRING, "name": STRING,
                "organisations": {"type": "array", "items": ID}})}}),
        "PackageResults": {"allOf": [_ref("PackageSummary"), _obj({
            "findings": _obj({"overall": STRING, "recommendations": STRING}),
            "city": {"type": "array", "items": _ref("ResultRow")},
            "agencies": {"type": "array", "items": _obj({
                "code": STRING, "name": STRING,
                "results": {"type": "array", "items": _ref("ResultRow")}, **texts})},
            "methodology": {"type": "array", "items": _ref("Methodology")}})]},
        "AgencyDocument": _obj({
            "year": INTEGER, "agency": _obj({"code": STRING, "name": STRING}),
            "reports": {"type": "array", "items": {"allOf": [_ref("PackageSummary"), _obj({
                "results": {"type": "array", "items": _ref("ResultRow")}, **texts,
                "methodology": {"type": "array", "items": _ref("Methodology")}})]}}}),
        "Snapshot": _obj({"format": {"type": "string", "const": "surveyapp.package/1"},
                          "package": {"type": "object"},
                          "surveys": {"type": "array", "items": {"type": "object"}},
                          "agencies": {"type": "object", "additionalProperties": {
                              "type": "object"}},
                          "city": {"type": "object"}, "findings": {"type": "object"}},
                         description="The package version as frozen on submission."),
        "PublishedPackage": {"allOf": [_ref("PackageSummary"),
                                       _obj({"snapshot": _ref("Snapshot")})]},
        "OpenData": _obj({
            "format": {"type": "string", "const": "surveyapp.open-data/1"}, "year": INTEGER,
            "how_to_check": STRING,
            "packages": {"type": "array", "items": _ref("PublishedPackage")}},
            description="Every published version of a year (superseded ones too), each with "
                        "its snapshot and digest. RFC 8785 canonical JSON."),
    }


def _error(description: str, schema: str = "Error") -> dict:
    return {"description": description, "content": {JSON: {"schema": _ref(schema)}}}


def _responses() -> dict:
    return {
        "BadRequest": _error("A parameter is not valid (the message says which)."),
        "Unauthorized": _error("No valid credentials: sign in, or send a live Bearer token."),
        "Forbidden": _error("Signed in, but not allowed: the policy refuses, or the token "
                            "lacks the scope."),
        "NotFound": _error("No such object (or no such address)."),
        "NotModified": {"description": "The client's copy (``If-None-Match``) is current; no "
                        "body.", "headers": {"ETag": {"$ref": "#/components/headers/ETag"}}},
    }


def _headers() -> dict:
    return {
        "ETag": {"description": "Strong ETag: the SHA-256 of the body, quoted.",
                 "schema": STRING},
        "Link": {"description": "RFC 8288 links to the first, prev, next and last pages.",
                 "schema": STRING},
        "X-Total-Count": {"description": "Items over all pages.",
                          "schema": {"type": "integer", "minimum": 0}},
    }


def _parameters() -> dict:
    return {
        "page": {"name": "page", "in": "query", "required": False,
                 "description": "The page, from 1 (a page past the last is empty).",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 10**9 - 1,
                            "default": 1}},
        "per_page": {"name": "per_page", "in": "query", "required": False,
                     "description": "Items per page.",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 1000,
                                "default": 100}},
    }


AUTH = [{"bearerAuth": []}, {"sessionCookie": []}]
LIST_PARAMETERS = [{"$ref": "#/components/parameters/page"},
                   {"$ref": "#/components/parameters/per_page"}]


def _path_id(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": ID}


def _get(tag: str, summary: str, schema: dict, *, scope: str | None = None,
         public: bool = False, listing: bool = False, parameters: list | None = None,
         description: str = "", not_found: bool = False, media: str = JSON) -> dict:
    """A GET operation: 200 (with ETag), 304, and the errors it can answer."""
    headers = {"ETag": {"$ref": "#/components/headers/ETag"}}
    if listing:
        headers |= {"Link": {"$ref": "#/components/headers/Link"},
                    "X-Total-Count": {"$ref": "#/components/headers/X-Total-Count"}}
    responses = {"200": {"description": "OK", "headers": headers,
                         "content": {media: {"schema": schema}}},
                 "304": {"$ref": "#/components/responses/NotModified"}}
    if listing:
        responses["400"] = {"$ref": "#/components/responses/BadRequest"}
    if not public:
        responses["401"] = {"$ref": "#/components/responses/Unauthorized"}
        responses["403"] = {"$ref": "#/components/responses/Forbidden"}
    if not_found:
        responses["404"] = {"$ref": "#/components/responses/NotFound"}
    text = description
    if scope:
        text = f"{text}\n\nToken scope: `{scope}`.".strip()
    operation = {"tags": [tag], "summary": summary, "description": text,
                 "parameters": (parameters or []) + (LIST_PARAMETERS if listing else []),
                 "responses": responses, "security": [] if public else AUTH}
    if scope:
        operation["x-required-scope"] = scope
    return operation


def _field_write(summary: str, description: str, body: str, ok: dict, conflict: str,
                 extra: dict | None = None) -> dict:
    responses = {**ok,
                 "400": _error("With a session cookie: the CSRF header (X-CSRFToken) is "
                               "missing or stale."),
                 "401": {"$ref": "#/components/responses/Unauthorized"},
                 "403": {"$ref": "#/components/responses/Forbidden"},
                 "409": {"description": "Conflict (see above), or the survey is not in "
                                        "fieldwork (not started or closed): nothing stored.",
                         "content": {JSON: {"schema": {"anyOf": [_ref(conflict),
                                                                 _ref("Error")]}}}},
                 "422": _error("The payload is not valid (a message per field), or it is "
                               "not a JSON object or is nested too deeply.", "FieldErrors")}
    responses |= extra or {}
    return {"tags": ["field"], "summary": summary, "description": description +
            f"\n\nToken scope: `{TokenScope.INTERVIEWS_WRITE}`. Checked in this order: "
            "401/403, then 422, then the outcome. Messages follow Accept-Language.",
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref(body)}}},
            "responses": responses, "security": AUTH,
            "x-required-scope": TokenScope.INTERVIEWS_WRITE.value}


def _receipt(description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": _ref("Receipt")}}}


def _paths() -> dict:
    campaign = _path_id("campaign_id", "The campaign's id.")
    scorecard = _path_id("scorecard_id", "The scorecard run's id.")
    interview = {"name": "interview_uuid", "in": "path", "required": True,
                 "description": "The interview's UUID.", "schema": STRING}
    return {
        "/openapi.json": {"get": _get(
            "meta", "This OpenAPI description", {"type": "object"}, public=True)},
        "/docs": {"get": _get(
            "meta", "This description as a page", STRING, public=True, media="text/html")},
        "/me": {"get": _get("account", "Who the caller is", _ref("Me"),
                            description="Any live token may ask, whatever its scopes.")},
        "/campaigns": {"get": _get(
            "campaigns", "Campaigns the caller may see", {"type": "array",
                                                          "items": _ref("Campaign")},
            scope=TokenScope.CAMPAIGNS_READ, listing=True,
            description="Ordered by year (newest first), then title. An organisation sees "
                        "its own; the UBND office sees submitted ones.")},
        "/agencies": {"get": _get(
            "registry", "The registry's assessed agencies",
            {"type": "array", "items": _ref("Agency")}, scope=TokenScope.REGISTRY_READ,
            listing=True)},
        "/jobs/{job_id}": {"get": _get(
            "jobs", "A background job's progress", _ref("Job"), scope=TokenScope.JOBS_READ,
            parameters=[_path_id("job_id", "The job's id.")], not_found=True,
            description="Only the job's owner (or a system administrator).")},
        "/campaigns/{campaign_id}/scorecards": {"get": _get(
            "scorecards", "A campaign's scorecard runs",
            {"type": "array", "items": _ref("ScorecardRun")},
            scope=TokenScope.SCORECARDS_READ, listing=True, parameters=[campaign],
            not_found=True,
            description="Newest first. The campaign's organisation (administrators, "
                        "analysts, supervisors), as on the scorecard pages.")},
        "/scorecards/{scorecard_id}": {"get": _get(
            "scorecards", "A scorecard run with its figures", _ref("Scorecard"),
            scope=TokenScope.SCORECARDS_READ, parameters=[scorecard], not_found=True,
            description="Suppressed cells (fewer respondents than the run's minimum) are "
                        "blank (null), with the reason; as on the pages and in exports.")},
        **_published_paths(),
        "/interviews": {"post": _field_write(
            "Submit an interview",
            "Stores a new interview (201), acknowledges an identical resend (200), or keeps "
            "a different payload under a stored UUID for a supervisor (409).", "Submission",
            {"201": _receipt("Stored; the receipt is sent after the commit."),
             "200": _receipt("An identical resend: nothing stored again.")},
            "SubmissionConflict")},
        "/interviews/{interview_uuid}": {
            "parameters": [interview],
            "put": _field_write(
                "Correct an interview",
                "Stores a correction as a new version (200), or 409 when the interview "
                "changed since ``base_version``.", "Correction",
                {"200": _receipt("Stored as the next version (or an identical resend).")},
                "StaleCorrection",
                {"404": {"$ref": "#/components/responses/NotFound"}}),
            "get": {**_get("field", "Where an interview is in the review loop",
                           _ref("InterviewStatus"), scope=TokenScope.INTERVIEWS_WRITE,
                           not_found=True,
                           description="The interview's interviewer, or a supervisor, "
                                       "administrator or analyst of its organisation.")}},
        "/assignments": {"get": _get(
            "field", "The caller's own assignments",
            {"type": "array", "items": _ref("Assignment")},
            scope=TokenScope.INTERVIEWS_WRITE,
            description="With the questionnaire version to use and the case's locating "
                        "data. Not paginated: a device loads its whole work list.")},
    }


def _published_paths() -> dict:
    year = {"name": "year", "in": "path", "required": True, "description": "The year.",
            "schema": ID}
    version = _path_id("package_version_id", "The package version's id.")
    desc = "Only published versions; suppressed figures are blank, with the reason."
    return {
        "/published/years": {"get": _get(
            "published", "Years with published results", {"type": "array", "items": _ref(
                "PublishedYear")}, public=True, listing=True,
            description="Newest first.")},
        "/published/{year}": {"get": _get(
            "published", "A year's published packages", _ref("YearDocument"), public=True,
            parameters=[year], not_found=True,
            description="The current version of each organisation's package, the earlier "
                        "versions it supersedes, and the agencies reported on.")},
        "/published/{year}/organisations/{organisation_id}": {"get": _get(
            "published", "An organisation's published results of a year",
            _ref("PackageResults"), public=True, not_found=True,
            parameters=[year, _path_id("organisation_id", "The organisation's id.")],
            description=desc)},
        "/published/{year}/agencies/{agency_code}": {"get": _get(
            "published", "An agency's published results of a year", _ref("AgencyDocument"),
            public=True, not_found=True,
            parameters=[year, {"name": "agency_code", "in": "path", "required": True,
                               "description": "The agency's registry code.",
                               "schema": STRING}],
            description="From every organisation whose current package reports the agency. "
                        + desc)},
        "/published/packages/{package_version_id}": {"get": _get(
            "published", "A published package version with its digest and snapshot",
            _ref("PublishedPackage"), public=True, parameters=[version], not_found=True,
            description="Unpublished versions are not found here.")},
        "/published/packages/{package_version_id}/snapshot": {"get": _get(
            "published", "The snapshot's canonical bytes", _ref("Snapshot"), public=True,
            parameters=[version], not_found=True,
            description="Exactly the RFC 8785 canonical JSON that was hashed: the SHA-256 of "
                        "this body is the version's digest.")},
        "/published/{year}/open-data.json": {"get": _get(
            "published", "Open data of a year (JSON)", _ref("OpenData"), public=True,
            parameters=[year], not_found=True,
            description="Every published version's snapshot with its digest, to recompute.")},
        "/published/{year}/open-data.csv": {"get": _get(
            "published", "Open data of a year (CSV)", STRING, public=True, media="text/csv",
            parameters=[year], not_found=True,
            description="One row per published figure (version, survey, agency or city "
                        "total, index node), with the version's digest. UTF-8 with BOM.")},
    }


TAGS = [
    {"name": "meta", "description": "This description."},
    {"name": "published", "description": "Published results (public, open data)."},
    {"name": "account", "description": "The caller."},
    {"name": "campaigns", "description": "Survey campaigns."},
    {"name": "registry", "description": "The registry of assessed agencies."},
    {"name": "scorecards", "description": "Stored scorecard runs (unpublished: the "
                                          "organisation's own)."},
    {"name": "field", "description": "The devices' submission API."},
    {"name": "jobs", "description": "Background jobs."},
]

DESCRIPTION = """\
The survey platform's machine API (HCMC Decision 104/2024/QĐ-UBND).

**Authentication.** Public operations need nothing. The others take either a browser
session (the `session` cookie; unsafe methods then also need the `X-CSRFToken` header) or
a Bearer token: `Authorization: Bearer sa_…`. Tokens are created on the "API tokens" page
or with `flask tokens create`; only their SHA-256 is stored, they can expire and be
revoked, and each carries scopes: an operation names the scope it needs. A token owned by
an organisation acts only within that organisation.

**Errors** are JSON: `{"error": "…", "status": 404}`, in the language of
`Accept-Language` (Vietnamese unless English is preferred).

**Lists** are JSON arrays, one page at a time: `?page=` (from 1) and `?per_page=`
(1–1000, 100 by default); the `Link` header gives the first, prev, next and last pages and
`X-Total-Count` the number of items.

**Caching.** Every successful GET has a strong `ETag` (the SHA-256 of the body); send it
back in `If-None-Match` to get `304 Not Modified` without a body.
"""


def build_spec() -> dict:
    """The OpenAPI document (a plain dict; servers relative to the host that serves it)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Survey platform API", "version": VERSION,
                 "description": DESCRIPTION},
        "servers": [{"url": "/api/v1"}],
        "tags": TAGS,
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "responses": _responses(),
            "headers": _headers(),
            "parameters": _parameters(),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "An API token (`sa_…`)."},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "session",
                                  "description": "A signed-in browser session."},
            },
        },
    }


# ---- the docs page's view of the spec (plain lists, so the template only displays) --------

_INLINE = re.compile(r"(\*\*[^*]+\*\*|``?[^`]+``?)")


def _inline(text: str) -> list[tuple[str, str]]:
    """``text`` as (kind, text) runs: "code", "strong" or "text" (the spec's little markup)."""
    runs = []
    for part in _INLINE.split(text):
        if not part:
            continue
        if part.startswith("**"):
            runs.append(("strong", part.strip("*")))
        elif part.startswith("`"):
            runs.append(("code", part.strip("`")))
        else:
            runs.append(("text", part))
    return runs


def _paragraphs(text: str) -> list[list[tuple[str, str]]]:
    return [_inline(" ".join(p.split())) for p in (text or "").split("\n\n") if p.strip()]


def _resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = spec["components"][section][name]
    return node


def type_text(schema: dict) -> str:
    """A schema in a few words: ``integer``, ``string (date) | null``, ``array of Campaign``."""
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "allOf" in schema:
        return " + ".join(type_text(s) for s in schema["allOf"])
    if "anyOf" in schema:
        return " | ".join(type_text(s) for s in schema["anyOf"])
    kinds = schema.get("type", "any")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    words = []
    for kind in kinds:
        if kind == "array":
            words.append(f"array of {type_text(schema.get('items', {}))}")
        elif kind == "string" and "format" in schema:
            words.append(f"string ({schema['format']})")
        else:
            words.append(kind)
    text = " | ".join(words)
    if "enum" in schema:
        text += ": " + ", ".join(str(v) for v in schema["enum"])
    return text


def docs_model(spec: dict) -> dict:
    """The spec as the docs page lays it out: tags with their operations, then the schemas."""
    sections = {t["name"]: {"name": t["name"], "description": t["description"],
                            "operations": []} for t in spec["tags"]}
    base = spec["servers"][0]["url"]
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method in ("get", "post", "put", "patch", "delete"):
            op = item.get(method)
            if op is None:
                continue
            params = [_resolve(spec, p) for p in shared + op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {})
            responses = []
            for code, response in op["responses"].items():
                response = _resolve(spec, response)
                content = response.get("content", {})
                media = next(iter(content), None)
                responses.append({"code": code, "description": response["description"],
                                  "media": media,
                                  "schema": type_text(content[media]["schema"])
                                  if media else ""})
            sections[op["tags"][0]]["operations"].append({
                "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                "method": method.upper(), "path": base + path, "summary": op["summary"],
                "description": _paragraphs(op.get("description", "")),
                "public": not op.get("security"), "scope": op.get("x-required-scope"),
                "parameters": [{"name": p["name"], "in": p["in"],
                                "required": p.get("required", False),
                                "type": type_text(p["schema"]),
                                "description": p.get("description", "")} for p in params],
                "body": type_text(body[JSON]["schema"]) if JSON in body else None,
                "responses": responses})
    schemas = []
    for name, schema in spec["components"]["schemas"].items():
        parts = schema.get("allOf", [schema])
        props, required = [], set()
        for part in parts:
            part = _resolve(spec, part)
            required |= set(part.get("required", []))
            props += [(k, v) for k, v in part.get("properties", {}).items()]
        schemas.append({"name": name, "description": _paragraphs(schema.get("description",
                                                                            "")),
                        "properties": [{"name": k, "type": type_text(v),
                                        "required": k in required,
                                        "description": v.get("description", "")}
                                       for k, v in props]})
    return {"title": spec["info"]["title"], "version": spec["info"]["version"],
            "description": _paragraphs(spec["info"]["description"]),
            "sections": [s for s in sections.values() if s["operations"]],
            "schemas": schemas}
