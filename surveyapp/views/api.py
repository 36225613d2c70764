"""The JSON API (/api/v1/): a browser session or a Bearer token with the right scope.

Lists are paginated and every GET has a strong ETag (``api_support``); the whole API is
described by ``api_spec`` at /api/v1/openapi.json and, for people, at /api/v1/docs.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, render_template

from ..auth.policy import current_principal, public, requires
from ..extensions import db
from ..models.codes import TokenScope
from ..models.scorecards import ScorecardRun
from ..services import campaigns, published, registry
from ..services import scorecards as scorecard_service
from ..services.jobs import job_status
from . import api_spec, api_support
from ._helpers import found_or_404, load_campaign, load_job, load_published

bp = Blueprint("api", __name__, url_prefix="/api/v1")
bp.after_app_request(api_support.conditional)  # every /api/v1/ GET, field_api's too


@bp.route("/openapi.json")
@public
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(api_spec.build_spec())


@bp.route("/docs")
@public
def docs():
    """The OpenAPI description as a page (rendered here from the spec: no script, no CDN)."""
    return render_template("api/docs.html", doc=api_spec.docs_model(api_spec.build_spec()))


@bp.route("/me")
@requires("dashboard.view")
def me():
    """Who the caller is, with roles per organisation and the token's scopes."""
    p = current_principal()
    return jsonify({"login": p.login,
                    "roles": {str(org): sorted(r.value for r in roles)
                              for org, roles in p.roles.items()},
                    "scopes": sorted(p.scopes) if p.scopes is not None else None})


@bp.route("/campaigns")
@requires("campaign.list", scope=TokenScope.CAMPAIGNS_READ)
def campaign_list():
    """Campaigns the caller may see."""
    page = api_support.page_request()
    return api_support.paginated(
        [{"id": c.id, "organisation_id": c.organisation_id, "title": c.title, "year": c.year,
          "status": c.status} for c in campaigns.list_campaigns(current_principal())], page)


@bp.route("/agencies")
@requires("registry.view", scope=TokenScope.REGISTRY_READ)
def agency_list():
    """The registry's agencies in the import/export layout."""
    page = api_support.page_request()
    return api_support.paginated(
        [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
         for row in registry.export_rows("agencies")], page)


@bp.route("/jobs/<int:job_id>")
@requires("job.view", load_job, scope=TokenScope.JOBS_READ)
def job(job):
    """A job's status, for the progress widget."""
    return jsonify(job_status(job))


# ---- scorecard runs (issue 9), with the pages' policy --------------------------------------

def load_scorecard(scorecard_id: int) -> ScorecardRun:
    return db.get_or_404(ScorecardRun, scorecard_id)


@bp.route("/campaigns/<int:campaign_id>/scorecards")
@requires("scorecards.view", load_campaign, scope=TokenScope.SCORECARDS_READ)
def scorecard_list(campaign):
    """The campaign's scorecard runs, newest first."""
    page = api_support.page_request()
    return api_support.paginated(
        [scorecard_service.api_document(r)["run"] for r in scorecard_service.list_runs(campaign)],
        page)


@bp.route("/scorecards/<int:scorecard_id>")
@requires("scorecards.view", load_scorecard, scope=TokenScope.SCORECARDS_READ)
def scorecard(run):
    """A scorecard run with its figures; suppressed cells blank, with the reason."""
    return jsonify(scorecard_service.api_document(run))


# ---- published results (issue 11): public, versioned, from the frozen snapshots -------------

@bp.route("/published/years")
@public
def published_years():
    """Years with published results, newest first."""
    page = api_support.page_request()
    return api_support.paginated(published.years(), page)


@bp.route("/published/<int:year>")
@public
def published_year(year: int):
    """A year's published packages (the current version of each) and the agencies in them."""
    return jsonify(found_or_404(published.year_document(year)))


@bp.route("/published/<int:year>/organisations/<int:organisation_id>")
@public
def published_organisation(year: int, organisation_id: int):
    """An organisation's published results of a year, with findings and methodology."""
    return jsonify(found_or_404(published.organisation_document(year, organisation_id)))


@bp.route("/published/<int:year>/agencies/<agency_code>")
@public
def published_agency(year: int, agency_code: str):
    """One agency's published results of a year, from each organisation that reported it."""
    return jsonify(found_or_404(published.agency_document(year, agency_code)))


@bp.route("/published/packages/<int:package_version_id>")
@public
def published_package(package_version_id: int):
    """A published package version with its digest and its frozen snapshot."""
    return jsonify(published.package_document(load_published(package_version_id)))


@bp.route("/published/packages/<int:package_version_id>/snapshot")
@public
def published_snapshot(package_version_id: int):
    """The version's snapshot as RFC 8785 canonical JSON: its SHA-256 is the digest."""
    body = published.canonical_snapshot(load_published(package_version_id))
    return Response(body, mimetype="application/json")


def _download(body: bytes | None, mimetype: str, filename: str) -> Response:
    return Response(found_or_404(body), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/published/<int:year>/open-data.json")
@public
def open_data_json(year: int):
    """The open-data export of a year as JSON: every published snapshot with its digest."""
    return _download(published.open_data_json(year), "application/json",
                     f"ket-qua-cong-bo-{year}.json")


@bp.route("/published/<int:year>/open-data.csv")
@public
def open_data_csv(year: int):
    """The open-data export of a year as CSV: one row per figure, suppressed cells blank."""
    return _download(published.open_data_csv(year), "text/csv", f"ket-qua-cong-bo-{year}.csv")
