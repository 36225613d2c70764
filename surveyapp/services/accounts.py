"""Users, memberships and signing in (with throttling of repeated failures)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..auth.passwords import hash_password, needs_rehash, verify_dummy, verify_password
from ..errors import Conflict, DomainError, NotFound, ValidationFailed
from ..extensions import db
from ..models import Membership, Organisation, User
from ..models._types import as_utc, utcnow
from ..models.codes import AuditAction, Role
from . import audit

MIN_PASSWORD_LENGTH = 10


class LoginRefused(DomainError):
    status_code = 401


def normalise_login(login: str) -> str:
    return (login or "").strip().lower()


def authenticate(login: str, password: str, max_failures: int, lock_seconds: int,
                 now: datetime | None = None) -> User:
    """Check a password; after ``max_failures`` failures the account is locked for a while."""
    now = now or utcnow()
    user = db.session.scalar(select(User).where(User.login == normalise_login(login)))
    if user is None:
        verify_dummy(password)  # same cost as a real check
        raise LoginRefused(_("Wrong login or password."))
    locked_until = as_utc(user.locked_until)
    if locked_until is not None and locked_until > now:
        raise LoginRefused(_("Too many failed attempts. Try again after %(time)s.",
                             time=_local_time(locked_until)))
    if not user.active or not verify_password(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(seconds=lock_seconds)
            user.failed_logins = 0
        db.session.commit()
        raise LoginRefused(_("Wrong login or password."))
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record(user, AuditAction.LOGIN, user, summary=user.login)
    db.session.commit()
    return user


def _local_time(moment: datetime) -> str:
    from flask_babel import format_datetime
    return format_datetime(moment, "HH:mm dd/MM/yyyy")


def _check_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(_("The password must have at least %(n)d characters.",
                                 n=MIN_PASSWORD_LENGTH),
                               fields={"password": _("The password must have at least %(n)d "
                                                     "characters.", n=MIN_PASSWORD_LENGTH)})


def change_password(user: User, current: str, new: str) -> None:
    """A person changes their own password (the current one is checked first)."""
    if not verify_password(user.password_hash, current):
        message = _("The current password is wrong.")
        raise DomainError(message, fields={"current_password": message})
    _check_password(new)
    if new == current:
        message = _("Choose a password different from the current one.")
        raise DomainError(message, fields={"new_password": message})
    user.password_hash = hash_password(new)
    audit.record(user, AuditAction.UPDATE, user, summary=_("password changed"))
    db.session.commit()


def create_user(actor: User | None, organisation: Organisation, login: str, full_name: str,
                password: str, role: Role, email: str | None = None) -> User:
    """Create a person with a first role in an organisation."""
    login = normalise_login(login)
    _check_password(password)
    _check_role_grant(actor, role)
    if db.session.scalar(select(func.count()).select_from(User).where(User.login == login)):
        message = _("The login %(login)s is already taken.", login=login)
        raise Conflict(message, fields={"login": message})
    user = User(login=login, full_name=full_name.strip(), email=(email or "").strip() or None,
                password_hash=hash_password(password))
    db.session.add(user)
    membership = Membership(user=user, organisation_id=organisation.id, role=role.value)
    db.session.add(membership)
    audit.record(actor, AuditAction.CREATE, user, after=audit.snapshot(user),
                 organisation_id=organisation.id, summary=login)
    audit.record(actor, AuditAction.CREATE, membership, after=audit.snapshot(membership),
                 organisation_id=organisation.id, summary=f"{login}: {role.value}")
    db.session.commit()
    return user


def _check_role_grant(actor: User | None, role: Role) -> None:
    """Only a system administrator (or the command line) may hand out system-wide roles."""
    if role not in (Role.SYSTEM_ADMIN, Role.OFFICE_REVIEWER) or actor is None:
        return
    if not any(m.role == Role.SYSTEM_ADMIN for m in actor.memberships):
        message = _("Only a system administrator may grant this role.")
        raise DomainError(message, fields={"role": message})


def add_membership(actor: User | None, organisation: Organisation, login: str,
                   role: Role) -> Membership:
    """Give an existing person a role in an organisation."""
    user = db.session.scalar(select(User).where(User.login == normalise_login(login)))
    if user is None:
        message = _("No user with the login %(login)s.", login=normalise_login(login))
        raise NotFound(message, fields={"login": message})
    _check_role_grant(actor, role)
    exists = db.session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.organisation_id == organisation.id,
        Membership.role == role.value))
    if exists is not None:
        message = _("This person already has this role here.")
        raise Conflict(message, fields={"role": message})
    membership = Membership(user=user, organisation_id=organisation.id, role=role.value)
    db.session.add(membership)
    audit.record(actor, AuditAction.CREATE, membership, after=audit.snapshot(membership),
                 organisation_id=organisation.id, summary=f"{user.login}: {role.value}")
    db.session.commit()
    return membership


def remove_membership(actor: User | None, membership: Membership) -> None:
    """Take a role away; a person's last system-administrator role cannot remove itself."""
    if (actor is not None and membership.user_id == actor.id
            and membership.role == Role.SYSTEM_ADMIN):
        raise DomainError(_("You cannot remove your own system administrator role."))
    before = audit.snapshot(membership)
    org_id = membership.organisation_id
    db.session.delete(membership)
    audit.record(actor, AuditAction.DELETE, before=before, organisation_id=org_id,
                 object_type="membership", object_id=str(before["id"]),
                 summary=f"{membership.user.login}: {membership.role}")
    db.session.commit()


def members(organisation: Organisation) -> list[Membership]:
    return list(db.session.scalars(
        select(Membership).join(User).where(Membership.organisation_id == organisation.id)
        .order_by(User.full_name, Membership.role)))


def get_user_by_login(login: str) -> User:
    user = db.session.scalar(select(User).where(User.login == normalise_login(login)))
    if user is None:
        raise NotFound(_("No user with the login %(login)s.", login=normalise_login(login)))
    return user
