"""Respondents' identifying data of a campaign: where they stand, and the purge button for
the organisation's administrators (the same service as `flask respondents purge`)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _

from ..auth.policy import requires
from ..forms.field import ConfirmForm
from ..services import respondents as respondent_service
from ._helpers import actor, load_campaign

bp = Blueprint("respondents", __name__, url_prefix="/campaigns")


@bp.route("/<int:campaign_id>/respondents")
@requires("respondent.purge", load_campaign)
def index(campaign):
    """Counts of identifying data, the retention and the date they may be purged."""
    status = respondent_service.purge_campaign(None, campaign, dry_run=True)
    return render_template("respondents/index.html", campaign=campaign, status=status,
                           form=ConfirmForm())


@bp.route("/<int:campaign_id>/respondents/purge", methods=["POST"])
@requires("respondent.purge", load_campaign)
def purge(campaign):
    """Purge now, if the campaign is closed and its retention has passed."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("The form expired; please try again."), "danger")
    else:
        result = respondent_service.purge_campaign(actor(), campaign)
        if result.purged:
            flash(_("Identifying data purged: %(respondents)s respondents, %(cases)s cases.",
                    respondents=result.respondents, cases=result.case_labels), "success")
        elif result.reason == "fielding":
            flash(_("Identifying data can be purged only after the survey is closed."), "warning")
        elif result.reason == "retention":
            flash(_("Identifying data are kept until %(date)s (retention period).",
                    date=format_date(result.due_at)), "warning")
        else:
            flash(_("There are no identifying data left to purge."), "info")
    return redirect(url_for("respondents.index", campaign_id=campaign.id))
