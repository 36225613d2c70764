"""The JSON API (/api/v1/): a browser session or a Bearer token with the right scope."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..auth.policy import current_principal, requires
from ..models.codes import TokenScope
from ..services import campaigns, registry
from ..services.jobs import job_status
from ._helpers import load_job

bp = Blueprint("api", __name__, url_prefix="/api/v1")


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
    return jsonify([{"id": c.id, "organisation_id": c.organisation_id, "title": c.title,
                     "year": c.year, "status": c.status}
                    for c in campaigns.list_campaigns(current_principal())])


@bp.route("/agencies")
@requires("registry.view", scope=TokenScope.REGISTRY_READ)
def agency_list():
    """The registry's agencies in the import/export layout."""
    return jsonify([{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
                    for row in registry.export_rows("agencies")])


@bp.route("/jobs/<int:job_id>")
@requires("job.view", load_job, scope=TokenScope.JOBS_READ)
def job(job):
    """A job's status, for the progress widget."""
    return jsonify(job_status(job))
