"""The registry: administrative units, assessed agencies, their successions, TTHC procedures.

Units and agencies carry validity dates and succession links (old -> new, with a share
when one was split), so a reorganisation such as July 2025's is a data change and past
survey years keep the units they were drawn from.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class AdminUnit(db.Model):
    """An administrative unit (city, district, ward/commune) valid over a period."""

    __tablename__ = "admin_unit"
    __table_args__ = (
        UniqueConstraint("code", "valid_from"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), index=True)  # statistics-office unit code
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    parent: Mapped[AdminUnit | None] = relationship(remote_side=[id])


class AdminUnitSuccession(db.Model):
    """Old unit -> new unit from a date; share = part of the old unit that went to the new one."""

    __tablename__ = "admin_unit_succession"
    __table_args__ = (
        UniqueConstraint("old_unit_id", "new_unit_id"),
        CheckConstraint("share > 0 AND share <= 1", name="share_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    old_unit_id: Mapped[int] = mapped_column(
        ForeignKey("admin_unit.id", ondelete="CASCADE"), index=True)
    new_unit_id: Mapped[int] = mapped_column(
        ForeignKey("admin_unit.id", ondelete="CASCADE"), index=True)
    share: Mapped[float] = mapped_column(Float, default=1.0)
    effective_date: Mapped[date] = mapped_column(Date)

    old_unit: Mapped[AdminUnit] = relationship(foreign_keys=[old_unit_id])
    new_unit: Mapped[AdminUnit] = relationship(foreign_keys=[new_unit_id])


class Agency(db.Model):
    """An assessed agency: a department/board, a district UBND or a ward/commune UBND."""

    __tablename__ = "agency"
    __table_args__ = (
        UniqueConstraint("code", "valid_from"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), index=True)
    portal_code: Mapped[str | None] = mapped_column(String(32))  # national portal (DVCQG) code
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    admin_unit_id: Mapped[int | None] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)

    admin_unit: Mapped[AdminUnit | None] = relationship()


class AgencySuccession(db.Model):
    __tablename__ = "agency_succession"
    __table_args__ = (
        UniqueConstraint("old_agency_id", "new_agency_id"),
        CheckConstraint("share > 0 AND share <= 1", name="share_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    old_agency_id: Mapped[int] = mapped_column(
        ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    new_agency_id: Mapped[int] = mapped_column(
        ForeignKey("agency.id", ondelete="CASCADE"), index=True)
    share: Mapped[float] = mapped_column(Float, default=1.0)
    effective_date: Mapped[date] = mapped_column(Date)

    old_agency: Mapped[Agency] = relationship(foreign_keys=[old_agency_id])
    new_agency: Mapped[Agency] = relationship(foreign_keys=[new_agency_id])


procedure_agency = Table(
    "procedure_agency",
    db.metadata,
    Column("procedure_id", ForeignKey("procedure.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agency.id", ondelete="CASCADE"), primary_key=True),
)


class Procedure(db.Model):
    """An administrative procedure (TTHC) of the national catalogue."""

    __tablename__ = "procedure"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(500))
    field: Mapped[str] = mapped_column(String(200))  # lĩnh vực

    agencies: Mapped[list[Agency]] = relationship(secondary=procedure_agency, order_by=Agency.name)
