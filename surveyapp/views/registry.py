"""The registry of units, agencies and procedures: browse, import, export."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.policy import can, requires
from ..errors import DomainError
from ..forms.registry import ImportForm
from ..models.codes import AGENCY_KIND_LABELS, UNIT_LEVEL_LABELS
from ..services import jobs, registry
from ._helpers import actor, show_domain_error

bp = Blueprint("registry", __name__, url_prefix="/registry")

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _on_date() -> date | None:
    try:
        return date.fromisoformat(request.args.get("on", ""))
    except ValueError:
        return None


def _common():
    return {"kinds": registry.kind_labels(), "can_edit": can("registry.edit"), "on": _on_date()}


@bp.route("/")
@requires("registry.view")
def units():
    """Administrative units, optionally those valid on a date."""
    return render_template("registry/units.html", units=registry.list_units(_on_date()),
                           level_labels=UNIT_LEVEL_LABELS, **_common())


@bp.route("/agencies")
@requires("registry.view")
def agencies():
    """Assessed agencies."""
    return render_template("registry/agencies.html", agencies=registry.list_agencies(_on_date()),
                           kind_labels=AGENCY_KIND_LABELS, **_common())


@bp.route("/successions")
@requires("registry.view")
def successions():
    """Succession links between old and new units and agencies."""
    unit_links, agency_links = registry.list_successions()
    return render_template("registry/successions.html", unit_links=unit_links,
                           agency_links=agency_links, **_common())


@bp.route("/procedures")
@requires("registry.view")
def procedures():
    """The catalogue of administrative procedures (TTHC)."""
    return render_template("registry/procedures.html", procedures=registry.list_procedures(),
                           **_common())


@bp.route("/export/<kind>.<fmt>")
@requires("registry.view")
def export(kind: str, fmt: str):
    """Download a registry part as CSV (UTF-8) or XLSX, in the import layout."""
    if kind not in registry.KINDS or fmt not in FORMATS:
        abort(404)
    data = registry.export_file(kind, fmt)
    return Response(data, mimetype=FORMATS[fmt], headers={
        "Content-Disposition": f'attachment; filename="{kind}.{fmt}"'})


@bp.route("/import", methods=["GET", "POST"])
@requires("registry.edit")
def import_file():
    """Upload a CSV/XLSX file; it is checked, then imported in the background (all or nothing)."""
    form = ImportForm()
    form.kind.choices = list(registry.kind_labels().items())
    if form.validate_on_submit():
        upload = form.file.data
        try:
            job = jobs.submit_registry_import(actor(), form.kind.data, upload.filename or "",
                                              upload.read())
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("The file is being imported."), "info")
            return redirect(url_for("jobs.detail", job_id=job.id))
    return render_template("registry/import.html", form=form, columns=registry.COLUMNS,
                           **_common())
