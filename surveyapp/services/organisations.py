"""Creating, editing and listing organisations."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..auth.policy import Principal
from ..errors import Conflict, NotFound
from ..extensions import db
from ..models import Organisation, OrganisationType, User
from ..models.codes import AuditAction
from . import audit


def organisation_types() -> list[OrganisationType]:
    return list(db.session.scalars(select(OrganisationType).order_by(OrganisationType.id)))


def list_organisations(p: Principal) -> list[Organisation]:
    """Organisations the principal belongs to (all of them for a system administrator)."""
    query = select(Organisation).order_by(Organisation.name)
    if not p.system_admin:
        query = query.where(Organisation.id.in_(p.org_ids() or {-1}))
    return list(db.session.scalars(query))


def _check_unique_name(name: str, exclude_id: int | None = None) -> None:
    query = select(Organisation.id).where(Organisation.name == name)
    if exclude_id is not None:
        query = query.where(Organisation.id != exclude_id)
    if db.session.scalar(query) is not None:
        message = _("An organisation with this name already exists.")
        raise Conflict(message, fields={"name": message})


def _type(type_id: int) -> OrganisationType:
    org_type = db.session.get(OrganisationType, type_id)
    if org_type is None:
        message = _("Unknown organisation type.")
        raise NotFound(message, fields={"type_id": message})
    return org_type


def create_organisation(actor: User | None, name: str, short_name: str, type_id: int,
                        parent_id: int | None = None) -> Organisation:
    name = name.strip()
    _check_unique_name(name)
    org = Organisation(name=name, short_name=short_name.strip() or None, type=_type(type_id),
                       parent_id=parent_id or None)
    db.session.add(org)
    db.session.flush()
    audit.record(actor, AuditAction.CREATE, org, after=audit.snapshot(org),
                 organisation_id=org.id, summary=name)
    db.session.commit()
    return org


def update_organisation(actor: User | None, org: Organisation, name: str, short_name: str,
                        type_id: int, active: bool) -> Organisation:
    name = name.strip()
    _check_unique_name(name, exclude_id=org.id)
    before = audit.snapshot(org)
    org.name = name
    org.short_name = short_name.strip() or None
    org.type = _type(type_id)
    org.active = active
    db.session.flush()
    audit.record(actor, AuditAction.UPDATE, org, before=before, after=audit.snapshot(org),
                 organisation_id=org.id, summary=name)
    db.session.commit()
    return org
