"""Writing and reading the audit log; services call ``record`` before their one commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import insert, inspect, select

from ..extensions import db
from ..models import AuditEvent, User
from ..models._types import utcnow
from ..models.codes import AuditAction

# Never copied into the log.
SECRET_COLUMNS = {"password_hash", "token_hash", "input_data"}


def snapshot(obj) -> dict:
    """The object's column values as JSON-safe data (secrets left out)."""
    values = {}
    for column in inspect(obj).mapper.column_attrs:
        key = column.key
        if key in SECRET_COLUMNS:
            continue
        values[key] = _json_safe(getattr(obj, key))
    return values


def _json_safe(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return None
    return value


def _event_values(actor: User | None, action: AuditAction, obj, *, before, after,
                  organisation_id, summary, object_type, object_id) -> dict:
    return dict(
        actor_id=actor.id if actor is not None else None,
        actor_label=actor.login if actor is not None else "cli",
        organisation_id=organisation_id,
        action=action.value,
        object_type=object_type or (obj.__tablename__ if obj is not None else ""),
        object_id=object_id or (str(inspect(obj).identity[0]) if obj is not None and
                                inspect(obj).identity else ""),
        summary=summary[:255],
        before=before,
        after=after,
    )


def record(actor: User | None, action: AuditAction, obj=None, *, before: dict | None = None,
           after: dict | None = None, organisation_id: int | None = None, summary: str = "",
           object_type: str | None = None, object_id: str | None = None) -> AuditEvent:
    """Add an audit event to the session (committed with the caller's unit of work)."""
    if obj is not None and obj in db.session.new:
        db.session.flush()  # the new object needs its id for the log
    event = AuditEvent(**_event_values(actor, action, obj, before=before, after=after,
                                       organisation_id=organisation_id, summary=summary,
                                       object_type=object_type, object_id=object_id))
    db.session.add(event)
    return event


_INSERT_EVENT = insert(AuditEvent.__table__)


def event_row(actor: User | None, action: AuditAction, *, object_type: str, object_id: str,
              before: dict | None = None, after: dict | None = None,
              organisation_id: int | None = None, summary: str = "") -> dict:
    """The column values of the same event as :func:`record` (for Core INSERTs)."""
    values = _event_values(actor, action, None, before=before, after=after,
                           organisation_id=organisation_id, summary=summary,
                           object_type=object_type, object_id=object_id)
    values["created_at"] = utcnow()
    return values


def insert_event(actor: User | None, action: AuditAction, *, object_type: str, object_id: str,
                 before: dict | None = None, after: dict | None = None,
                 organisation_id: int | None = None, summary: str = "") -> None:
    """The same event as :func:`record`, written at once as a Core INSERT in the caller's
    transaction (for hot paths such as the submission API: no unit-of-work bookkeeping)."""
    db.session.connection().execute(_INSERT_EVENT, event_row(
        actor, action, object_type=object_type, object_id=object_id, before=before,
        after=after, organisation_id=organisation_id, summary=summary))


@dataclass(frozen=True)
class AuditFilter:
    organisation_ids: set[int] | None  # None: all organisations
    object_type: str = ""
    action: str = ""
    actor: str = ""
    date_from: date | None = None
    date_to: date | None = None


def list_events(f: AuditFilter, page: int, per_page: int = 50):
    """A page of audit events, newest first, restricted to the allowed organisations."""
    query = select(AuditEvent).order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
    if f.organisation_ids is not None:
        query = query.where(AuditEvent.organisation_id.in_(f.organisation_ids or {-1}))
    if f.object_type:
        query = query.where(AuditEvent.object_type == f.object_type)
    if f.action:
        query = query.where(AuditEvent.action == f.action)
    if f.actor:
        query = query.where(AuditEvent.actor_label == f.actor.strip().lower())
    if f.date_from:
        query = query.where(AuditEvent.created_at >= datetime.combine(f.date_from, time.min, UTC))
    if f.date_to:
        query = query.where(AuditEvent.created_at < datetime.combine(f.date_to, time.max, UTC))
    return db.paginate(query, page=page, per_page=per_page, error_out=False)


def object_types() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.object_type).distinct()
                                   .order_by(AuditEvent.object_type)))
