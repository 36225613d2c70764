"""Weighting runs of a campaign: the list, the form of a new run, a run's diagnostics."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ..auth.policy import can, requires
from ..errors import DomainError
from ..forms.weighting import METHOD_LABELS, WeightRunForm
from ..services import weighting as service
from ._helpers import actor, load_campaign

bp = Blueprint("weighting", __name__, url_prefix="/campaigns/<int:campaign_id>/weighting")


def _form(campaign) -> WeightRunForm:
    form = WeightRunForm()
    form.classes.choices = [SelectChoice(code, label)
                            for code, label in service.class_choices(campaign)]
    return form


def _render_new(campaign, form, status=200):
    return render_template("weighting/new.html", campaign=campaign, form=form,
                           variables=service.class_choices(campaign)), status


@bp.route("/")
@requires("weighting.view", load_campaign)
def index(campaign):
    """The campaign's weighting runs, newest first."""
    return render_template("weighting/index.html", campaign=campaign,
                           runs=service.list_runs(campaign), methods=METHOD_LABELS,
                           can_create=can("weighting.create", campaign))


@bp.route("/new", methods=["GET", "POST"])
@requires("weighting.create", load_campaign)
def new(campaign):
    """The form of a new run; a valid one is computed and stored at once."""
    form = _form(campaign)
    if not form.is_submitted():
        form.totals.data = service.totals_table(service.frame_totals(campaign))
        return _render_new(campaign, form)
    if not form.validate():
        return _render_new(campaign, form, 400)
    upload = form.totals_file.data
    try:
        run = service.create_run(
            actor(), campaign, classes=form.classes.data, method=form.method.data,
            totals_text=form.totals.data or "", totals_file=upload.read() if upload else None,
            bounds=(form.bounds_low.data, form.bounds_high.data),
            trim=(form.trim_low.data, form.trim_high.data),
            unknown_eligible_share=form.unknown_eligible_share.data)
    except DomainError as exc:
        flash(exc.message, "danger")
        return _render_new(campaign, form, 400)
    if run.status == "not_converged":
        flash(_("Weighting run %(number)d is stored, but the calibration did not converge: "
                "check the achieved totals before using it.", number=run.number), "warning")
    else:
        flash(_("Weighting run %(number)d is stored.", number=run.number), "success")
    return redirect(url_for("weighting.detail", campaign_id=campaign.id, run_id=run.id))


def load_run(campaign_id: int, run_id: int):
    run = service.get_run_of(campaign_id, run_id)
    if run is None:
        abort(404)
    return run


@bp.route("/<int:run_id>")
@requires("weighting.view", load_run)
def detail(run):
    """A run: its specification, inputs, diagnostics, class table and weight distribution."""
    return render_template("weighting/detail.html", campaign=run.campaign,
                           methods=METHOD_LABELS, **service.run_detail(run))
