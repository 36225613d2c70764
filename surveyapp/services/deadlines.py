"""Submission deadlines per year (issue 11): set by the office or a system administrator,
shown on the package pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import ValidationFailed
from ..extensions import db
from ..models import PackageTransition, PackageVersion, SubmissionDeadline, User
from ..models._types import as_utc
from ..models.codes import AuditAction, PackageStatus
from . import audit

CITY_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def list_deadlines() -> list[SubmissionDeadline]:
    return list(db.session.scalars(select(SubmissionDeadline)
                                   .order_by(SubmissionDeadline.year.desc())))


def deadline_for(year: int) -> SubmissionDeadline | None:
    return db.session.scalar(select(SubmissionDeadline).where(SubmissionDeadline.year == year))


def set_deadline(actor: User | None, year: int, due_on: date, note: str = "") -> SubmissionDeadline:
    """Create or change the deadline of ``year`` (commits once)."""
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        message = _("The year must be from 2000 to 2100.")
        raise ValidationFailed(message, fields={"year": message})
    if not isinstance(due_on, date) or not year <= due_on.year <= year + 2:
        message = _("The deadline must fall in the survey year or the two years after it.")
        raise ValidationFailed(message, fields={"due_on": message})
    note = (note or "").strip()[:500]
    row = deadline_for(year)
    before = None if row is None else {"due_on": row.due_on.isoformat(), "note": row.note}
    if row is None:
        row = SubmissionDeadline(year=year, due_on=due_on, note=note)
        db.session.add(row)
    row.due_on, row.note, row.updated_by_id = due_on, note, getattr(actor, "id", None)
    audit.record(actor, AuditAction.UPDATE if before else AuditAction.CREATE, row,
                 before=before, after={"year": year, "due_on": due_on.isoformat(), "note": note},
                 summary=f"deadline {year}: {due_on.isoformat()}")
    db.session.commit()
    return row


@dataclass(frozen=True)
class DeadlineState:
    due_on: date | None
    note: str
    submitted_on: date | None
    state: str  # none | open | overdue | on_time | late


def deadline_state(version: PackageVersion, today: date) -> DeadlineState:
    """The year's deadline and where the version stands against it."""
    row = deadline_for(version.package.year)
    submitted = db.session.scalar(select(PackageTransition.created_at).where(
        PackageTransition.version_id == version.id,
        PackageTransition.to_status == PackageStatus.SUBMITTED.value)
        .order_by(PackageTransition.id))
    # The deadline is a date in the city's time zone.
    submitted_on = as_utc(submitted).astimezone(CITY_TZ).date() if submitted else None
    if row is None:
        return DeadlineState(None, "", submitted_on, "none")
    if submitted_on is not None:
        state = "on_time" if submitted_on <= row.due_on else "late"
    else:
        state = "overdue" if today > row.due_on else "open"
    return DeadlineState(row.due_on, row.note, submitted_on, state)
