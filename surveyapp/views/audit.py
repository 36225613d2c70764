"""The audit log page, with filters."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ..auth.policy import audit_organisations, current_principal, requires
from ..forms.audit import AuditFilterForm
from ..services import audit

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.route("/")
@requires("audit.view")
def index():
    """Audit events of the organisations the person administers (all, for a system admin)."""
    form = AuditFilterForm(request.args)
    form.object_type.choices = [("", "—")] + [(t, t) for t in audit.object_types()]
    valid = form.validate()
    flt = audit.AuditFilter(
        organisation_ids=audit_organisations(current_principal()),
        object_type=form.object_type.data if valid else "",
        action=form.action.data if valid else "",
        actor=form.actor.data if valid else "",
        date_from=form.date_from.data if valid else None,
        date_to=form.date_to.data if valid else None)
    page = request.args.get("page", 1, type=int)
    return render_template("audit/index.html", form=form,
                           events=audit.list_events(flt, page=max(page, 1)),
                           page_args={k: v for k, v in request.args.items() if k != "page"})
