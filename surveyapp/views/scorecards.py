"""Scorecard runs of a campaign: the list, the form of a new run, a run's scorecard."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ..auth.policy import can, requires
from ..errors import DomainError
from ..forms.scorecards import RULE_LABELS, ScorecardRunForm
from ..services import scorecards as service
from ._helpers import actor, load_campaign

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

bp = Blueprint("scorecards", __name__, url_prefix="/campaigns/<int:campaign_id>/scorecards")


def _form(campaign) -> ScorecardRunForm:
    form = ScorecardRunForm()
    choices = service.form_choices(campaign)
    form.weight_run.choices = [SelectChoice(v, label) for v, label in choices["weight_runs"]]
    form.index_key.choices = [SelectChoice(v, label) for v, label in choices["indices"]]
    form.band_table.choices = [SelectChoice(v, label) for v, label in choices["band_tables"]]
    return form


def _render_new(campaign, form, status=200):
    return render_template("scorecards/new.html", campaign=campaign, form=form), status


@bp.route("/")
@requires("scorecards.view", load_campaign)
def index(campaign):
    """The campaign's scorecard runs, newest first."""
    runs = service.list_runs(campaign)
    return render_template("scorecards/index.html", campaign=campaign, runs=runs,
                           labels={r.id: service.index_label(r) for r in runs},
                           rules=RULE_LABELS,
                           can_create=can("scorecards.create", campaign))


@bp.route("/new", methods=["GET", "POST"])
@requires("scorecards.create", load_campaign)
def new(campaign):
    """The form of a new run; a valid one is computed and stored at once."""
    form = _form(campaign)
    if not form.is_submitted():
        return _render_new(campaign, form)
    if not form.validate():
        return _render_new(campaign, form, 400)
    try:
        run = service.create_run(actor(), campaign, form.weight_run.data, service.Options(
            index_key=form.index_key.data, confidence_level=form.confidence_level.data,
            min_n=form.min_n.data, rule=form.rule.data, seed=form.seed.data,
            band_table=form.band_table.data or "default"))
    except DomainError as exc:
        flash(exc.message, "danger")
        return _render_new(campaign, form, 400)
    flash(_("Scorecard run %(number)d is stored.", number=run.number), "success")
    return redirect(url_for("scorecards.detail", campaign_id=campaign.id,
                            scorecard_id=run.id))


def load_run(campaign_id: int, scorecard_id: int):
    run = service.get_run_of(campaign_id, scorecard_id)
    if run is None:
        abort(404)
    return run


@bp.route("/<int:scorecard_id>/export")
@requires("scorecards.view", load_run)
def export(run):
    """The run's table as CSV or XLSX (``?fmt=csv|xlsx``); suppressed cells stay blank."""
    fmt = request.args.get("fmt", "csv")
    if fmt not in service.EXPORT_FORMATS:
        abort(404)
    return Response(service.export_run(run, fmt), mimetype=FORMATS[fmt], headers={
        "Content-Disposition":
            f'attachment; filename="scorecard_{run.campaign_id}_{run.number}.{fmt}"'})


@bp.route("/<int:scorecard_id>")
@requires("scorecards.view", load_run)
def detail(run):
    """A run: per agency the index and its dimensions, flags, ranks, bands and a dot plot."""
    return render_template("scorecards/detail.html", campaign=run.campaign, rules=RULE_LABELS,
                           **service.run_page(run))
