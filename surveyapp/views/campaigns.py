"""Survey campaigns: list, create, edit, move through the workflow."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..auth.policy import can, current_principal, requires
from ..errors import DomainError
from ..extensions import db
from ..forms.campaigns import CampaignForm, TransitionForm
from ..models import Organisation
from ..models.codes import CAMPAIGN_STATUS_LABELS, CampaignStatus
from ..services import campaigns, organisations
from ._helpers import actor, load_campaign, show_domain_error

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")


def _data(form: CampaignForm) -> campaigns.CampaignData:
    return campaigns.CampaignData(
        title=form.title.data, year=form.year.data, fieldwork_start=form.fieldwork_start.data,
        fieldwork_end=form.fieldwork_end.data, description=form.description.data or "",
        agency_ids=form.agencies.data or [], procedure_ids=form.procedures.data or [])


def _fill_choices(form: CampaignForm, year: int | None) -> None:
    p = current_principal()
    form.organisation_id.choices = [(o.id, o.name) for o in organisations.list_organisations(p)
                                    if can("campaign.create", o, p)]
    form.agencies.choices = campaigns.agency_choices(year)
    form.procedures.choices = campaigns.procedure_choices()


@bp.route("/")
@requires("campaign.list")
def index():
    """The campaigns the person may see."""
    return render_template("campaigns/index.html",
                           campaigns=campaigns.list_campaigns(current_principal()),
                           status_labels=CAMPAIGN_STATUS_LABELS,
                           can_create=can("campaign.create"))


@bp.route("/new", methods=["GET", "POST"])
@requires("campaign.create")
def create():
    """Create a campaign for one of the person's organisations."""
    form = CampaignForm()
    _fill_choices(form, None)
    if form.validate_on_submit():
        org = db.get_or_404(Organisation, form.organisation_id.data)
        if not can("campaign.create", org):
            abort(403)
        try:
            campaign = campaigns.create_campaign(actor(), org, _data(form))
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Survey campaign created."), "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=None)


@bp.route("/<int:campaign_id>")
@requires("campaign.view", load_campaign)
def detail(campaign):
    """A campaign: its targets, status and the next steps allowed."""
    transitions = [s for s in campaigns.allowed_transitions(campaign)
                   if can("campaign.submit" if s == CampaignStatus.SUBMITTED
                          else "campaign.transition", campaign)]
    return render_template("campaigns/detail.html", campaign=campaign,
                           status_labels=CAMPAIGN_STATUS_LABELS, transitions=transitions,
                           can_edit=can("campaign.edit", campaign), form=TransitionForm(),
                           can_questionnaire=can("questionnaire.list", campaign),
                           can_sampling=can("sampling.view", campaign),
                           can_export=can("export.campaign", campaign),
                           can_weighting=can("weighting.view", campaign),
                           can_explore=can("explorer.view", campaign),
                           can_reports=can("report.view", campaign),
                           can_quality=can("quality.view", campaign),
                           can_respondents=can("respondent.purge", campaign))


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
@requires("campaign.edit", load_campaign)
def edit(campaign):
    """Edit a campaign."""
    form = CampaignForm(obj=campaign, organisation_id=campaign.organisation_id)
    _fill_choices(form, campaign.year)
    form.organisation_id.choices = [(campaign.organisation_id, campaign.organisation.name)]
    if not form.is_submitted():
        form.agencies.data = [a.id for a in campaign.agencies]
        form.procedures.data = [p.id for p in campaign.procedures]
    if form.validate_on_submit():
        try:
            campaigns.update_campaign(actor(), campaign, _data(form))
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("Changes saved."), "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=campaign)


@bp.route("/<int:campaign_id>/transition", methods=["POST"])
@requires("campaign.transition", load_campaign)
def transition(campaign):
    """Change a campaign's status (submitting to the UBND office needs the organisation admin)."""
    form = TransitionForm()
    if form.validate_on_submit():
        if form.target.data == CampaignStatus.SUBMITTED and not can("campaign.submit", campaign):
            abort(403)
        try:
            campaigns.transition_campaign(actor(), campaign, form.target.data)
        except DomainError as exc:
            show_domain_error(None, exc)
        else:
            flash(_("Status changed to “%(status)s”.",
                    status=CAMPAIGN_STATUS_LABELS[CampaignStatus(campaign.status)]), "success")
    else:
        flash(_("Choose a status."), "danger")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
