"""The analysts' explorer of a campaign's weighted data: figures by breakdown with charts
and trends, cross-tabs with the Rao–Scott test, key-driver analysis; each downloadable."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ..auth.policy import requires
from ..errors import DomainError
from ..forms.explorer import CrossTabForm, DriversForm, ExploreForm
from ..services import explorer as service
from ..services import key_drivers
from ._helpers import load_campaign

bp = Blueprint("explorer", __name__, url_prefix="/campaigns/<int:campaign_id>/explore")

MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _query_args() -> dict:
    """The page's query string without the file format (for the download links)."""
    return {k: v for k, v in request.args.to_dict(flat=False).items() if k != "fmt"}


def _bind(form, defaults: dict):
    """Bind the query string over the defaults (a first visit has none: the defaults)."""
    if not _query_args():
        form.process(data=defaults)
        return True
    form.process(request.args, data=defaults)
    return form.validate()


def _choices(pairs) -> list[SelectChoice]:
    """(value, label[, optgroup]) from a service as the form's options."""
    return [SelectChoice(*p[:2], optgroup=p[2] if len(p) > 2 else None) for p in pairs]


def _download(data: bytes, fmt: str, name: str) -> Response:
    return Response(data, mimetype=MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def _fmt() -> str | None:
    fmt = request.args.get("fmt", "csv")
    return fmt if fmt in MEDIA_TYPES else None


# ---- one shape for the three pages and their downloads ----------------------------------------

def _render(template: str, campaign, form=None, status=200, **page):
    return render_template(f"explorer/{template}.html", campaign=campaign, form=form,
                           query_args=_query_args(), **page), status


def _show(campaign, template: str, build_form, compute):
    """Bind the form, compute the page; a refusal is shown on the page (400), never a 500."""
    try:
        form, ok = build_form(campaign)
    except DomainError as exc:  # no questionnaire yet, …
        return _render(template, campaign, error=exc.message)
    if not ok:
        return _render(template, campaign, form, 400)
    try:
        page = compute(form)
    except DomainError as exc:
        return _render(template, campaign, form, 400, error=exc.message)
    return _render(template, campaign, form, **page)


def _export(campaign, template: str, build_form, make, name: str):
    """The page's table as a file (``?fmt=csv|xlsx`` and the page's query)."""
    fmt = _fmt()
    try:
        form, ok = build_form(campaign)
        if fmt is None or not ok:
            raise DomainError(_("The download could not be made: check the choices."))
        data = make(form, fmt)
    except DomainError as exc:
        return _render(template, campaign, None, 400, error=exc.message)
    return _download(data, fmt, f"{name}_{campaign.id}")


# ---- the explorer ----------------------------------------------------------------------------

def _explore_form(campaign):
    form = ExploreForm(formdata=None)
    choices = service.form_choices(campaign)
    form.run.choices = _choices(choices["runs"])
    form.indicator.choices = _choices(choices["indicators"])
    form.by.choices = _choices(choices["breakdowns"])
    form.statistic.choices = _choices(choices["statistics"])
    return form, _bind(form, choices["defaults"])


def _query(form) -> service.Query:
    return service.Query(tuple(form.indicator.data or ()), form.by.data or "",
                         form.statistic.data or "auto", form.min_n.data,
                         form.confidence_level.data, form.rule.data or "auto")


@bp.route("/")
@requires("explorer.view", load_campaign)
def index(campaign):
    """Pick indicators and a breakdown: a table and a chart with CIs, and trends by year."""
    return _show(campaign, "index", _explore_form, lambda form: service.explore_page(
        campaign, form.run.data, _query(form)))


@bp.route("/export")
@requires("explorer.view", load_campaign)
def export(campaign):
    """The explorer's table as CSV or XLSX (``?fmt=csv|xlsx`` and the page's query)."""
    return _export(campaign, "index", _explore_form, lambda form, fmt: service.export_page(
        campaign, form.run.data, _query(form), fmt), "explorer")


# ---- cross-tabs ------------------------------------------------------------------------------

def _crosstab_form(campaign):
    form = CrossTabForm(formdata=None)
    choices = service.crosstab_choices(campaign)
    form.run.choices = _choices(choices["runs"])
    form.rows.choices = _choices(choices["variables"])
    form.cols.choices = _choices(choices["variables"])
    return form, _bind(form, choices["defaults"])


def _crosstab_args(form) -> dict:
    return {"rows_key": form.rows.data, "cols_key": form.cols.data, "min_n": form.min_n.data,
            "confidence_level": form.confidence_level.data, "rule": form.rule.data or "auto"}


@bp.route("/crosstab")
@requires("explorer.view", load_campaign)
def crosstab(campaign):
    """Two categorical questions crossed: row percentages with CIs and the Rao–Scott test."""
    return _show(campaign, "crosstab", _crosstab_form, lambda form: service.crosstab_page(
        campaign, form.run.data, **_crosstab_args(form)))


@bp.route("/crosstab/export")
@requires("explorer.view", load_campaign)
def crosstab_export(campaign):
    """The cross-tab's cells and test as CSV or XLSX."""
    return _export(campaign, "crosstab", _crosstab_form,
                   lambda form, fmt: service.export_crosstab_page(
                       campaign, form.run.data, fmt, **_crosstab_args(form)), "crosstab")


# ---- key drivers -----------------------------------------------------------------------------

def _drivers_form(campaign):
    form = DriversForm(formdata=None)
    choices = key_drivers.form_choices(campaign)
    form.run.choices = _choices(choices["runs"])
    form.scheme.choices = _choices(choices["schemes"])
    form.outcome.choices = _choices(choices["outcomes"])
    return form, _bind(form, choices["defaults"])


def _drivers_query(form) -> key_drivers.DriverQuery:
    return key_drivers.DriverQuery(form.scheme.data, form.outcome.data,
                                   form.confidence_level.data)


@bp.route("/drivers")
@requires("explorer.view", load_campaign)
def drivers(campaign):
    """Which dimensions go with overall satisfaction: survey-weighted regression, a chart of
    the effects with their intervals, and what it means in plain words."""
    return _show(campaign, "drivers", _drivers_form, lambda form: key_drivers.drivers_page(
        campaign, form.run.data, _drivers_query(form)))


@bp.route("/drivers/export")
@requires("explorer.view", load_campaign)
def drivers_export(campaign):
    """The key-driver model's table as CSV or XLSX."""
    return _export(campaign, "drivers", _drivers_form, lambda form, fmt: key_drivers.export_page(
        campaign, form.run.data, _drivers_query(form), fmt), "key_drivers")
