"""Small helpers shared by the views."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, flash
from flask_login import current_user

from ..errors import DomainError, ValidationFailed
from ..extensions import db
from ..models import ApiToken, Campaign, Job, Membership, Organisation


def actor():
    """The signed-in person as the services' ``actor`` argument."""
    return current_user if getattr(current_user, "id", None) else None


def show_domain_error(form, exc: DomainError) -> None:
    """Put a service's refusal on the form fields it names, or flash it."""
    placed = False
    for name, message in exc.fields.items():
        field = getattr(form, name, None) if form is not None else None
        if field is not None:
            field.errors = [*field.errors, message] if isinstance(field.errors, list) else [message]
            placed = True
    if not placed:
        flash(exc.message, "danger")
        if isinstance(exc, ValidationFailed):
            for message in exc.errors[:50]:
                flash(message, "danger")


def safe_next(target: str | None) -> str | None:
    """Accept only a local path as a redirect target."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return None
    return target


# Loaders for @requires: the target object of a route, or 404.

def load_org(org_id: int) -> Organisation:
    return db.get_or_404(Organisation, org_id)


def load_membership(membership_id: int) -> Membership:
    return db.get_or_404(Membership, membership_id)


def load_campaign(campaign_id: int) -> Campaign:
    return db.get_or_404(Campaign, campaign_id)


def load_token(token_id: int) -> ApiToken:
    return db.get_or_404(ApiToken, token_id)


def load_job(job_id: int) -> Job:
    return db.get_or_404(Job, job_id)


def found_or_404(value):
    """``value``, or a 404 when the service found nothing (None)."""
    if value is None:
        abort(404)
    return value


def load_published(package_version_id: int):
    """A published package version (issue 11); any other status is not public: 404."""
    from ..services.published import published_version

    return found_or_404(published_version(package_version_id))
