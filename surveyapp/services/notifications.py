"""In-app notifications (and their e-mail copies): creating, counting, listing, reading.

A notification keeps a kind and its parameters; ``message`` turns them into a sentence in
the reader's language when the page is shown. When ``MAIL_SERVER`` is configured, the
notifications of a step are also e-mailed (in Vietnamese) by a background job after the
step's commit (``send_mail_later``), so a slow mail server never holds up a request.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..errors import DomainError
from ..extensions import db
from ..models import Notification, PackageVersion, User
from ..models._types import utcnow
from . import mailer

PER_PAGE = 30
MAX_PAGE = 10**6  # far past any real list; keeps the OFFSET inside every database's integer


def notify(user_ids: list[int], kind: str, version: PackageVersion | None, actor: User | None,
           params: dict) -> list[Notification]:
    """One notification per user (in the caller's unit of work)."""
    rows = [Notification(user_id=uid, kind=kind, params=params,
                         package_version_id=version.id if version is not None else None,
                         actor_label=actor.login if actor is not None else "")
            for uid in user_ids]
    db.session.add_all(rows)
    return rows


def message(n: Notification) -> str:
    """The notification as a sentence in the current language."""
    p = {"title": "", "number": "", "organisation": "", "comment": "", **(n.params or {})}
    p["actor"] = n.actor_label or _("the system")
    texts = {
        "package.internal_review": _("%(actor)s sent the package “%(title)s” (version "
                                     "%(number)s) for internal review.", **p),
        "package.draft": _("%(actor)s sent the package “%(title)s” (version %(number)s) "
                           "back to draft.", **p),
        "package.approved": _("%(actor)s approved the package “%(title)s” (version "
                              "%(number)s).", **p),
        "package.submitted": _("%(organisation)s submitted the package “%(title)s” "
                               "(version %(number)s) to the office.", **p),
        "package.received": _("The office received the package “%(title)s” (version "
                              "%(number)s).", **p),
        "package.returned": _("The office returned the package “%(title)s” (version "
                              "%(number)s) with comments: %(comment)s", **p),
        "package.accepted": _("The office accepted the package “%(title)s” (version "
                              "%(number)s).", **p),
        "package.published": _("The office published the package “%(title)s” (version "
                               "%(number)s).", **p),
    }
    return texts.get(n.kind, n.kind)


def unread_count(user_id: int) -> int:
    return db.session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))) or 0


def list_for(user_id: int, page: int = 1):
    """A page of the user's notifications, newest first. ``page`` is bounded to 1 to
    ``MAX_PAGE``; a page past the end is empty (as on the audit log and in the API)."""
    query = (select(Notification).where(Notification.user_id == user_id)
             .order_by(Notification.created_at.desc(), Notification.id.desc()))
    page = min(max(page, 1), MAX_PAGE)
    return db.paginate(query, page=page, per_page=PER_PAGE, error_out=False)


def mark_read(n: Notification) -> None:
    if n.read_at is None:
        n.read_at = utcnow()
        db.session.commit()


def mark_all_read(user_id: int) -> int:
    result = db.session.execute(update(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow()))
    db.session.commit()
    return result.rowcount


def get(notification_id: int) -> Notification | None:
    return db.session.get(Notification, notification_id)


# ---- e-mail ------------------------------------------------------------------------------

def send_mail_later(actor: User | None, created: list[Notification]) -> None:
    """Queue the e-mail copies of just-committed notifications (only with MAIL_SERVER set
    and for recipients who have an address)."""
    if not current_app.config.get("MAIL_SERVER") or not created:
        return
    from .jobs import submit_job

    ids = [n.id for n in created]
    if db.session.scalar(select(func.count(User.id)).join(Notification, Notification.user_id
                                                          == User.id)
                         .where(Notification.id.in_(ids), User.email.is_not(None),
                                User.email != "")):
        submit_job(actor, "notification_mail", {"notification_ids": ids})


def _email(n: Notification, user: User, sender: str, site: str) -> EmailMessage:
    with force_locale("vi"):
        text = message(n)
        subject = _("Survey platform: %(text)s", text=text)
        lines = [_("Dear %(name)s,", name=user.full_name), "", text, ""]
        if site:
            lines.append(_("Sign in to see it: %(site)s", site=site))
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = user.email
    mail["Subject"] = subject[:200]
    mail.set_content("\n".join(lines))
    return mail


def deliver_mail(notification_ids: list[int]) -> dict:
    """Send the e-mail copies of these notifications (the job's work); marks the sent ones."""
    cfg = current_app.config
    rows = list(db.session.scalars(select(Notification).where(
        Notification.id.in_(notification_ids), Notification.emailed_at.is_(None))))
    users = {u.id: u for u in db.session.scalars(select(User).where(
        User.id.in_({n.user_id for n in rows})))}
    mails = []
    for n in rows:
        user = users.get(n.user_id)
        if user is not None and user.email:
            mails.append((n, _email(n, user, cfg["MAIL_FROM"], cfg.get("MAIL_SITE_URL") or "")))
    try:
        mailer.send(mailer.Settings.from_config(cfg), [m for _n, m in mails])
    except (smtplib.SMTPException, OSError) as exc:
        raise DomainError(_("The e-mail could not be sent: %(detail)s", detail=str(exc))) \
            from None
    now = utcnow()
    for n, _mail in mails:
        n.emailed_at = now
    return {"sent": len(mails)}
