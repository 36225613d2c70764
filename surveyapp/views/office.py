"""The UBND office's pages (issue 11): the consolidated view of a year's accepted packages,
its XLSX exports for the quarterly and yearly reports, and the submission deadlines."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth.policy import requires
from ..errors import DomainError
from ..forms.packages import DeadlineForm
from ..services import consolidation, deadlines
from ._helpers import actor, show_domain_error

bp = Blueprint("office", __name__, url_prefix="/office")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _year() -> int:
    year = request.args.get("year", type=int)
    if year is None or not 2000 <= year <= 2100:
        years = consolidation.years()
        return years[0] if years else date.today().year
    return year


@bp.route("/")
@requires("office.view")
def consolidated():
    """All accepted packages of a year side by side per agency; shared indicators."""
    year = _year()
    return render_template("office/consolidated.html", years=consolidation.years(),
                           periods=consolidation.PERIODS, **consolidation.consolidate(year))


@bp.route("/export")
@requires("office.view")
def export():
    """The office's yearly (``period=year``) or quarterly (``q1``–``q4``) report as XLSX."""
    year = _year()
    period = request.args.get("period", "year")
    data = consolidation.export_xlsx(year, period)
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f'attachment; filename="office_{year}_{period}.xlsx"'})


@bp.route("/deadlines", methods=["GET", "POST"])
@requires("package.deadlines")
def deadlines_page():
    """The submission deadline of each year (set by the office or a system administrator)."""
    form = DeadlineForm()
    if not form.is_submitted():
        form.year.data = date.today().year
    if form.validate_on_submit():
        try:
            deadlines.set_deadline(actor(), form.year.data, form.due_on.data,
                                   form.note.data or "")
        except DomainError as exc:
            show_domain_error(form, exc)
        else:
            flash(_("The deadline of %(year)d is saved.", year=form.year.data), "success")
            return redirect(url_for("office.deadlines_page"))
    return render_template("office/deadlines.html", form=form,
                           deadlines=deadlines.list_deadlines()), 400 if form.errors else 200
