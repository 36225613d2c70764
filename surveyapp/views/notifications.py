"""In-app notifications: the count in the layout, the list, marking as read."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.policy import requires
from ..extensions import db
from ..forms.orgs import ConfirmForm
from ..models import Notification
from ..services import notifications

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def _unread():
    if not getattr(current_user, "is_authenticated", False):
        return {}
    return {"unread_notifications": notifications.unread_count(current_user.id)}


def load_notification(notification_id: int) -> Notification:
    return db.get_or_404(Notification, notification_id)


@bp.route("/")
@requires("notification.list")
def index():
    """The person's notifications, newest first."""
    page = notifications.list_for(current_user.id, request.args.get("page", 1, type=int))
    return render_template("notifications/index.html", page=page,
                           items=[(n, notifications.message(n)) for n in page.items],
                           form=ConfirmForm())


@bp.route("/<int:notification_id>/read", methods=["POST"])
@requires("notification.read", load_notification)
def read(notification):
    """Mark one as read, then open what it is about."""
    notifications.mark_read(notification)
    if notification.package_version_id:
        return redirect(url_for("packages.detail",
                                package_version_id=notification.package_version_id))
    return redirect(url_for("notifications.index"))


@bp.route("/read-all", methods=["POST"])
@requires("notification.list")
def read_all():
    """Mark every notification as read."""
    notifications.mark_all_read(current_user.id)
    return redirect(url_for("notifications.index"))
