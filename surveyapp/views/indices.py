"""Custom indices and band tables of a campaign's organisation: the list, the editor (each save
stores a new version), a custom index's versions, and a new band table."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ..auth.policy import can, requires
from ..errors import DomainError
from ..forms.indices import BandTableForm, CustomIndexForm
from ..services import band_tables
from ..services import custom_indices as service
from ._helpers import actor, load_campaign

bp = Blueprint("indices", __name__, url_prefix="/campaigns/<int:campaign_id>/indices")


@dataclass(frozen=True)
class IndexTarget:
    """A custom index seen from one of its organisation's campaigns (the policy reads
    ``.campaign``)."""

    campaign: object
    index: object


def load_index(campaign_id: int, index_id: int) -> IndexTarget:
    campaign = load_campaign(campaign_id)
    index = service.get_index_of(campaign.organisation_id, index_id)
    if index is None:
        abort(404)
    return IndexTarget(campaign, index)


@bp.route("/")
@requires("indices.view", load_campaign)
def index(campaign):
    """The organisation's custom indices and the band tables it may grade with."""
    return render_template("indices/index.html", campaign=campaign,
                           indices=service.index_rows(campaign.organisation_id),
                           tables=band_tables.tables_for(campaign.organisation_id),
                           can_edit=can("indices.edit", campaign))


@bp.route("/<int:index_id>")
@requires("indices.view", load_index)
def detail(target):
    """A custom index: every version's tree and the scorecard runs that used it."""
    return render_template("indices/detail.html", campaign=target.campaign,
                           index=target.index, versions=service.versions_page(target.index),
                           can_edit=can("indices.edit", target.campaign))


def _fill_choices(form: CustomIndexForm, questions) -> dict:
    """Each item row's dimension and scoring choices; returns {question name: question}."""
    by_name = {q.name: q for q in questions or []}
    slots = [SelectChoice("", _("— not in the index —"))]
    for k, d in enumerate(form.dimensions, start=1):
        name = d.form.label.data or _("Dimension %(number)d", number=k)
        slots.append(SelectChoice(str(k), f"{k}. {name}"))
    for entry in form.items:
        entry.form.dimension.choices = slots
        q = by_name.get(entry.form.question.data)
        entry.form.scoring.choices = [SelectChoice(v, label) for v, label in
                                      (q.scoring_choices() if q else [("mean", "")])]
    return by_name


def _place_errors(form: CustomIndexForm, fields: dict[str, str]) -> None:
    """Put each message on the field the service names (``items-3-weight``)."""
    for key, message in fields.items():
        target = form
        try:
            for part in key.split("-"):
                target = target[int(part)] if part.isdigit() else target[part]
        except (KeyError, IndexError, TypeError):
            continue
        target.errors = [*target.errors, message]


def _render_editor(campaign, custom, form, questions, status=200, problems=()):
    by_name = _fill_choices(form, questions)
    return render_template("indices/edit.html", campaign=campaign, index=custom, form=form,
                           questions=by_name, has_questionnaire=questions is not None,
                           problems=problems), status


def _editor(campaign, custom):
    questions = service.editor_questions(campaign)
    form = CustomIndexForm()
    if not form.is_submitted():
        form = CustomIndexForm(data=service.editor_values(campaign, custom))
        return _render_editor(campaign, custom, form, questions)
    if form.more.data:  # one more dimension slot; nothing is stored
        form.dimensions.append_entry({"label": "", "weight": "1"})
        return _render_editor(campaign, custom, form, questions)
    if not form.validate():
        return _render_editor(campaign, custom, form, questions, 400)
    try:
        version, created = service.save_version(
            actor(), campaign, custom, form.name.data,
            [service.DimensionInput(d.form.label.data or "", d.form.weight.data or "")
             for d in form.dimensions],
            [service.ItemInput(i.form.question.data or "", i.form.dimension.data or "",
                               i.form.weight.data or "", i.form.scoring.data or "")
             for i in form.items])
    except DomainError as exc:
        _place_errors(form, exc.fields)
        return _render_editor(campaign, custom, form, questions, 400,
                              getattr(exc, "errors", None) or [exc.message])
    if created:
        flash(_("Version %(number)d of the index \"%(name)s\" is stored.",
                number=version.number, name=version.name), "success")
    else:
        flash(_("Nothing changed: version %(number)d is kept.", number=version.number), "info")
    return redirect(url_for("indices.detail", campaign_id=campaign.id,
                            index_id=version.index_id))


@bp.route("/new", methods=["GET", "POST"])
@requires("indices.edit", load_campaign)
def new(campaign):
    """The editor of a new custom index, from the campaign's frozen questionnaire."""
    return _editor(campaign, None)


@bp.route("/<int:index_id>/edit", methods=["GET", "POST"])
@requires("indices.edit", load_index)
def edit(target):
    """The editor of a custom index: saving stores its next version."""
    return _editor(target.campaign, target.index)


@bp.route("/band-tables/new", methods=["GET", "POST"])
@requires("indices.edit", load_campaign)
def new_band_table(campaign):
    """The organisation's own band table."""
    form = BandTableForm()
    if form.is_submitted():
        if form.validate():
            try:
                table = band_tables.create_table(
                    actor(), campaign.organisation, form.name.data or "", form.bands.data or "",
                    form.reference_max.data or "", bool(form.scale_to_measured.data))
            except DomainError as exc:
                _place_errors(form, exc.fields)
            else:
                flash(_("The band table \"%(name)s\" is stored.", name=table.name), "success")
                return redirect(url_for("indices.index", campaign_id=campaign.id))
        return render_template("indices/band_table.html", campaign=campaign, form=form), 400
    return render_template("indices/band_table.html", campaign=campaign, form=form)
