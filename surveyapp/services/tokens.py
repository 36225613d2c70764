"""API tokens: created once (the raw value is shown once), stored as SHA-256, revocable."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update

from ..db_statements import single_statements
from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..models import ApiToken, Membership, Organisation, User
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


@dataclass(frozen=True)
class TokenIdentity:
    """What a request needs of its API token: who it acts for and within which scopes.

    Read with one Core query on every API request (no ORM objects: the identity map and
    relationship loading cost more CPU than the query itself on the submission hot path)."""

    id: int
    name: str
    prefix: str
    scopes: frozenset[str]
    user_id: int | None
    organisation_id: int | None
    user_login: str | None
    user_full_name: str | None
    roles: dict[int, frozenset[str]]  # the user's memberships: organisation id -> roles


def _identity_query():
    t, u, o, m = (ApiToken.__table__, User.__table__, Organisation.__table__,
                  Membership.__table__)
    # One row per membership of the token's user (one row, with no role, otherwise).
    return (select(t.c.id, t.c.name, t.c.prefix, t.c.scopes, t.c.user_id, t.c.organisation_id,
                   t.c.expires_at, t.c.last_used_at, t.c.revoked_at,
                   u.c.login, u.c.full_name, u.c.active.label("user_active"),
                   o.c.active.label("organisation_active"),
                   m.c.organisation_id.label("member_of"), m.c.role)
            .select_from(t.outerjoin(u, u.c.id == t.c.user_id)
                         .outerjoin(o, o.c.id == t.c.organisation_id)
                         .outerjoin(m, m.c.user_id == t.c.user_id))
            .where(t.c.token_hash == bindparam("token_hash")))


# Built once (bound per call).
_IDENTITY = _identity_query()
_TOUCH = (update(ApiToken.__table__).where(ApiToken.__table__.c.id == bindparam("token_id"))
          .values(last_used_at=bindparam("now")))


def authenticate_token(raw: str, now: datetime | None = None) -> TokenIdentity | None:
    """The identity of the live token matching ``raw`` (recording its last use), or None."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    now = now or utcnow()
    with single_statements() as conn:  # a read and at most one UPDATE: no BEGIN/COMMIT
        rows = conn.execute(_IDENTITY, {"token_hash": hash_token(raw)}).all()
        token = _live(rows, now)
        if token is None:
            return None
        last = as_utc(token.last_used_at)
        if last is None or now - last > timedelta(minutes=1):  # don't write on every request
            conn.execute(_TOUCH, {"token_id": token.id, "now": now})
    roles: dict[int, set[str]] = {}
    for row in rows:
        if row.member_of is not None:
            roles.setdefault(row.member_of, set()).add(row.role)
    return TokenIdentity(token.id, token.name, token.prefix, frozenset(token.scopes.split()),
                         token.user_id, token.organisation_id, token.login, token.full_name,
                         {org: frozenset(r) for org, r in roles.items()})


def _live(rows, now: datetime):
    """The token's row if it is live: not revoked, not expired, its owners active."""
    if not rows:
        return None
    token = rows[0]
    if token.revoked_at is not None:
        return None
    if token.organisation_id is not None and not token.organisation_active:
        return None  # a deactivated organisation's tokens stop with it
    expires = as_utc(token.expires_at)
    if expires is not None and expires <= now:
        return None
    if token.user_id is not None and not token.user_active:
        return None
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
