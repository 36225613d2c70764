"""A background job's page with its progress widget."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..auth.policy import requires
from ..services.jobs import job_status
from ._helpers import load_job

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


@bp.route("/<int:job_id>")
@requires("job.view", load_job)
def detail(job):
    """Progress (polled by static/js/jobs.js) and, at the end, the result or the error."""
    return render_template("jobs/detail.html", job=job, status=job_status(job))
