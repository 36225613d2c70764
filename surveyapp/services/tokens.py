"""API tokens: created once (the raw value is shown once), stored as SHA-256, revocable."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..models import ApiToken, Organisation, User
from ..models._types import as_utc, utcnow
from ..models.codes import AuditAction, TokenScope
from . import audit

TOKEN_PREFIX = "sa_"


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def create_token(actor: User | None, name: str, scopes: list[str], user: User | None = None,
                 organisation: Organisation | None = None,
                 valid_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token; returns the stored row and the raw token (never stored)."""
    if user is None and organisation is None:
        raise ValidationFailed(_("A token needs an owner: a user or an organisation."))
    unknown = [s for s in scopes if s not in {v.value for v in TokenScope}]
    if unknown or not scopes:
        message = _("Unknown scope: %(scopes)s.", scopes=", ".join(unknown)) if unknown \
            else _("Choose at least one scope.")
        raise ValidationFailed(message, fields={"scopes": message})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=valid_days) if valid_days else None
    token = ApiToken(name=name.strip() or _("API token"), user_id=user.id if user else None,
                     organisation_id=organisation.id if organisation else None,
                     scopes=" ".join(sorted(set(scopes))), token_hash=hash_token(raw),
                     prefix=raw[:10], created_by_id=actor.id if actor else None,
                     expires_at=expires)
    db.session.add(token)
    db.session.flush()
    audit.record(actor, AuditAction.CREATE, token, after=audit.snapshot(token),
                 organisation_id=organisation.id if organisation else None, summary=token.name)
    db.session.commit()
    return token, raw


def revoke_token(actor: User | None, token: ApiToken) -> ApiToken:
    if token.revoked_at is not None:
        raise Conflict(_("This token was already revoked."))
    before = audit.snapshot(token)
    token.revoked_at = utcnow()
    audit.record(actor, AuditAction.STATE, token, before=before, after=audit.snapshot(token),
                 organisation_id=token.organisation_id, summary=token.name)
    db.session.commit()
    return token


# Built once (bound per call): the token with its organisation and its user, and the user's
# memberships that make the request's principal — one query on every API request.
_BY_HASH = (select(ApiToken).where(ApiToken.token_hash == bindparam("token_hash"))
            .options(joinedload(ApiToken.user).joinedload(User.memberships),
                     joinedload(ApiToken.organisation)))


def authenticate_token(raw: str, now: datetime | None = None) -> ApiToken | None:
    """The live token matching ``raw`` (recording its last use), or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    now = now or utcnow()
    token = db.session.scalars(_BY_HASH, {"token_hash": hash_token(raw)}).unique().one_or_none()
    if token is None or token.revoked_at is not None:
        return None
    if token.organisation is not None and not token.organisation.active:
        return None  # a deactivated organisation's tokens stop with it
    expires = as_utc(token.expires_at)
    if expires is not None and expires <= now:
        return None
    if token.user is not None and not token.user.active:
        return None
    last = as_utc(token.last_used_at)
    if last is None or now - last > timedelta(minutes=1):  # don't write on every request
        token.last_used_at = now
        db.session.commit()
    return token


def tokens_for(user: User) -> list[ApiToken]:
    """Tokens the user owns, plus those of organisations the user administers."""
    from ..models.codes import Role
    admin_orgs = {m.organisation_id for m in user.memberships if m.role == Role.ORG_ADMIN}
    query = select(ApiToken).order_by(ApiToken.created_at.desc())
    condition = ApiToken.user_id == user.id
    if admin_orgs:
        condition = condition | ApiToken.organisation_id.in_(admin_orgs)
    return list(db.session.scalars(query.where(condition)))
