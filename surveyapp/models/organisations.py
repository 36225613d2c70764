"""Organisations that run surveys (Fatherland Front committees, unions, the UBND office)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import TZDateTime, utcnow


class OrganisationType(db.Model):
    """A kind of organisation; rows, so a new kind is data (seeded by the first migration)."""

    __tablename__ = "organisation_type"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_vi: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    is_office: Mapped[bool] = mapped_column(Boolean, default=False)


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str | None] = mapped_column(String(60))
    type_id: Mapped[int] = mapped_column(ForeignKey("organisation_type.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    type: Mapped[OrganisationType] = relationship()
    parent: Mapped[Organisation | None] = relationship(remote_side=[id])
