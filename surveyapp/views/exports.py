"""Exports for statisticians: the analysis extract of a campaign's approved interviews."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _

from ..auth.policy import requires
from ..errors import DomainError
from ..forms.exports import ExportForm
from ..models import Job
from ..services import exports as export_service
from ._helpers import actor, load_campaign

bp = Blueprint("exports", __name__, url_prefix="/campaigns/<int:campaign_id>/exports")


@bp.route("/")
@requires("export.campaign", load_campaign)
def index(campaign):
    """The export form, what it will contain, and the caller's export jobs."""
    user = actor()
    page = export_service.export_page(campaign, user.id if user else None)
    return render_template("exports/index.html", campaign=campaign, form=ExportForm(),
                           page=page)


@bp.route("/", methods=["POST"])
@requires("export.campaign", load_campaign)
def create(campaign):
    """A small export downloads at once; a large one runs in the background."""
    form = ExportForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
        return redirect(url_for("exports.index", campaign_id=campaign.id))
    try:
        outcome = export_service.request_export(actor(), campaign, form.format.data,
                                                 free_text=form.free_text.data)
    except DomainError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("exports.index", campaign_id=campaign.id))
    if isinstance(outcome, Job):
        flash(_("The export is being written in the background; it will be offered here "
                "when it is ready."), "info")
        return redirect(url_for("exports.index", campaign_id=campaign.id))
    return Response(outcome.data, mimetype=outcome.media_type, headers={
        "Content-Disposition": f'attachment; filename="{outcome.filename}"'})


@bp.route("/download")
@requires("export.campaign", load_campaign)
def download(campaign):
    """The file a finished export job (``?job=<id>``) wrote."""
    try:
        exported = export_service.job_file(campaign, request.args.get("job", type=int))
    except DomainError as exc:
        flash(exc.message, "warning")
        return redirect(url_for("exports.index", campaign_id=campaign.id))
    return send_file(exported.path, mimetype=exported.media_type, as_attachment=True,
                     download_name=exported.filename, max_age=0)
