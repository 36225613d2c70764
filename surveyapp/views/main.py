"""The dashboard, and the navigation every page shows."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..auth.policy import current_principal, requires
from ..forms.orgs import ConfirmForm
from ..services import dashboard as dashboard_service
from ._nav import navigation

bp = Blueprint("main", __name__)


@bp.app_context_processor
def _navigation():
    if not current_user.is_authenticated:
        return {"nav_items": []}
    # formdata=None: only its CSRF token is needed (and a request too large to parse must
    # still render its error page).
    return {"nav_items": navigation(current_principal()),
            "logout_form": ConfirmForm(formdata=None)}


@bp.route("/")
@requires("dashboard.view")
def dashboard():
    """What the signed-in person can work on."""
    return render_template("main/dashboard.html",
                           summary=dashboard_service.summary(current_principal(), current_user))
