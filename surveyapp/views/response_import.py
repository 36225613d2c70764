"""Bulk import of responses: upload, mapping preview, job progress, error report (issue 8)."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from ..auth.policy import requires
from ..errors import DomainError
from ..forms.response_import import ResponseImportForm
from ..services import response_import
from ..services.jobs import job_status
from ._helpers import actor, load_campaign, load_job, show_domain_error

bp = Blueprint("response_import", __name__, url_prefix="/field")


def _lang() -> str:
    return "en" if str(get_locale()) == "en" else "vi"


@bp.route("/campaigns/<int:campaign_id>/import", methods=["GET", "POST"])
@requires("field.manage", load_campaign)
def upload(campaign):
    """Upload a CSV/XLSX of responses; preview the mapping, or import it in the background."""
    form = ResponseImportForm()
    preview = None
    if form.validate_on_submit():
        file = form.file.data
        try:
            mapping = response_import.parse_mapping(form.mapping.data)
            if form.preview.data:
                preview = response_import.preview_import(campaign, file.filename or "",
                                                         file.read(), mapping)
            else:
                job = response_import.submit_import_job(
                    actor(), campaign, file.filename or "", file.read(), mapping,
                    form.approve.data, _lang())
                flash(_("The file is being checked and imported."), "info")
                return redirect(url_for("response_import.status", job_id=job.id))
        except DomainError as exc:
            show_domain_error(form, exc)
    return render_template("response_import/upload.html", campaign=campaign, form=form,
                           preview=preview)


@bp.route("/imports/<int:job_id>")
@requires("job.view", load_job)
def status(job):
    """The import's progress, then its summary or its report by row and column."""
    result = job.result if job.kind == "response_import" and job.result else {}
    return render_template("response_import/status.html", job=job, status=job_status(job),
                           result=result)


@bp.route("/imports/<int:job_id>/report.csv")
@requires("job.view", load_job)
def report(job):
    """The import's error report as CSV (row, column, problem)."""
    result = job.result if job.kind == "response_import" and job.result else {}
    data = response_import.report_csv(result.get("report") or [])
    return Response(data, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="import-{job.id}-report.csv"'})
