"""Quality-control and response-rate pages of a campaign (issue 8): the AAPOR rate table
(and its CSV/XLSX download), the QC dashboard (flags, interviewer productivity), and the
back-check list (draw, record outcomes)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.policy import requires
from ..errors import DomainError
from ..forms.quality import BackCheckDrawForm, BackCheckOutcomeForm
from ..models.codes import (
    BACK_CHECK_OUTCOME_LABELS,
    DISPOSITION_LABELS,
    QC_FLAG_LABELS,
    REVIEW_STATUS_LABELS,
)
from ..services import quality as quality_service
from ..services import response_rates as rate_service
from ._helpers import actor, load_campaign, show_domain_error

bp = Blueprint("quality", __name__, url_prefix="/quality")

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _rate_options() -> tuple[str, bool]:
    basis = request.args.get("basis", "approved")
    return (basis if basis in rate_service.BASES else "approved",
            request.args.get("weighted") == "1")


@bp.route("/campaigns/<int:campaign_id>/rates")
@requires("quality.view", load_campaign)
def rates(campaign):
    """AAPOR response, cooperation and refusal rates by survey, stratum, agency, interviewer."""
    basis, weighted = _rate_options()
    return render_template("quality/rates.html", campaign=campaign, basis=basis,
                           weighted=weighted,
                           rows=rate_service.rate_rows(campaign, basis, weighted))


@bp.route("/campaigns/<int:campaign_id>/rates/export")
@requires("quality.view", load_campaign)
def rates_export(campaign):
    """The rate table as CSV (UTF-8) or XLSX (``?fmt=csv|xlsx``)."""
    fmt = request.args.get("fmt", "csv")
    if fmt not in FORMATS:
        abort(404)
    basis, weighted = _rate_options()
    body = rate_service.export_rates(campaign, fmt, basis, weighted)
    return Response(body, mimetype=FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="response_rates_{campaign.id}.{fmt}"'})


@bp.route("/campaigns/<int:campaign_id>/qc")
@requires("quality.view", load_campaign)
def dashboard(campaign):
    """Automatic flags and per-interviewer productivity."""
    return render_template("quality/dashboard.html", campaign=campaign,
                           qc=quality_service.quality_dashboard(campaign),
                           flag_names=QC_FLAG_LABELS,
                           labels={"disposition": DISPOSITION_LABELS,
                                   "review": REVIEW_STATUS_LABELS})


def _back_check_page(campaign, draw_form: BackCheckDrawForm, status: int = 200):
    return render_template("quality/back_checks.html", campaign=campaign, form=draw_form,
                           outcome_form=BackCheckOutcomeForm(),
                           draws=quality_service.back_checks(campaign),
                           outcomes=BACK_CHECK_OUTCOME_LABELS), status


@bp.route("/campaigns/<int:campaign_id>/back-checks")
@requires("quality.back_check", load_campaign)
def back_checks(campaign):
    """The back-check lists drawn so far, with their outcomes."""
    return _back_check_page(campaign, BackCheckDrawForm())


@bp.route("/campaigns/<int:campaign_id>/back-checks", methods=["POST"])
@requires("quality.back_check", load_campaign)
def draw_back_checks(campaign):
    """Draw a random share of the completed interviews into a new back-check list."""
    form = BackCheckDrawForm()
    if form.validate_on_submit():
        try:
            draw = quality_service.draw_back_checks(actor(), campaign,
                                                    float(form.share.data) / 100,
                                                    form.seed.data)
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("%(n)s interviews drawn for back-checks (seed %(seed)s).",
                    n=len(draw.checks), seed=draw.seed), "success")
            return redirect(url_for("quality.back_checks", campaign_id=campaign.id))
    return _back_check_page(campaign, form, 422)


@bp.route("/campaigns/<int:campaign_id>/back-checks/record", methods=["POST"])
@requires("quality.back_check", load_campaign)
def record_back_check(campaign):
    """Record the outcome of one back-check of the campaign."""
    form = BackCheckOutcomeForm()
    check_id = request.form.get("check_id", "")
    if form.validate_on_submit():
        try:
            quality_service.record_campaign_back_check(
                actor(), campaign, int(check_id) if check_id.isdigit() else None,
                form.outcome.data, form.note.data)
        except DomainError as exc:
            flash(exc.message, "danger")
        else:
            flash(_("Back-check outcome recorded."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "danger")
    return redirect(url_for("quality.back_checks", campaign_id=campaign.id))
