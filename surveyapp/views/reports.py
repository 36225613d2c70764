"""A campaign's annual reports: the versions, a new one in the background, the downloads."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ..auth.policy import can, requires
from ..errors import DomainError
from ..forms.reports import ReportForm
from ..services import reports as service
from ._helpers import actor, load_campaign, show_domain_error

bp = Blueprint("reports", __name__, url_prefix="/campaigns/<int:campaign_id>/reports")


def _render(campaign, form, status=200):
    page = service.reports_page(campaign)
    form.scorecard_run.choices = [SelectChoice(r.id, _("Scorecard run %(number)s",
                                                       number=r.number)) for r in page["runs"]]
    return render_template("reports/index.html", campaign=campaign, form=form,
                           can_generate=can("report.generate", campaign), **page), status


@bp.route("/")
@requires("report.view", load_campaign)
def index(campaign):
    """The campaign's report versions, the ones being generated, and the form of a new one."""
    return _render(campaign, ReportForm())


@bp.route("/", methods=["POST"])
@requires("report.generate", load_campaign)
def create(campaign):
    """Generate a report in the background, in the language of the page."""
    form = ReportForm()
    form.scorecard_run.choices = [SelectChoice(r.id, str(r.number))
                                  for r in service.reports_page(campaign)["runs"]]
    if not form.validate_on_submit():
        return _render(campaign, form, 400)
    try:
        service.request_report(actor(), campaign, form.scorecard_run.data, str(get_locale()))
    except DomainError as exc:
        show_domain_error(form, exc)
        return _render(campaign, form, 400)
    flash(_("The report is being generated in the background; it will be listed here when "
            "it is ready."), "info")
    return redirect(url_for("reports.index", campaign_id=campaign.id))


def load_report(campaign_id: int, report_id: int, fmt: str):
    report = service.get_report_of(campaign_id, report_id)
    if report is None:
        abort(404)
    return report


@bp.route("/<int:report_id>/<string:fmt>")
@requires("report.view", load_report)
def download(report):
    """One file of a report: the workbook or the PDF as a download, the page to read."""
    fmt = request.view_args["fmt"]
    try:
        stored = service.report_file(report, fmt)
    except DomainError as exc:
        flash(exc.message, "warning")
        return redirect(url_for("reports.index", campaign_id=report.campaign_id))
    disposition = "inline" if fmt == "html" else "attachment"
    headers = {"Content-Disposition": f'{disposition}; filename="{stored.filename}"',
               "Cache-Control": "private, no-store"}
    if fmt == "html":
        # our own page, with inline CSS and SVG only: no script may run in it
        headers["Content-Security-Policy"] = ("default-src 'none'; style-src 'unsafe-inline'; "
                                              "img-src data:")
    return Response(stored.content, mimetype=stored.media_type, headers=headers)
