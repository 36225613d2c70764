"""The survey campaign every later capability hangs on (questionnaire, sample, results)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, Date, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import TZDateTime, utcnow
from .codes import CampaignStatus
from .organisations import Organisation
from .registry import Agency, Procedure

campaign_agency = Table(
    "campaign_agency",
    db.metadata,
    Column("campaign_id", ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True),
    Column("agency_id", ForeignKey("agency.id"), primary_key=True),
)

campaign_procedure = Table(
    "campaign_procedure",
    db.metadata,
    Column("campaign_id", ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True),
    Column("procedure_id", ForeignKey("procedure.id"), primary_key=True),
)


class Campaign(db.Model):
    __tablename__ = "campaign"
    __table_args__ = (
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
        CheckConstraint("fieldwork_end IS NULL OR fieldwork_end >= fieldwork_start",
                        name="fieldwork_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    fieldwork_start: Mapped[date | None] = mapped_column(Date)
    fieldwork_end: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=CampaignStatus.DRAFT.value, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, onupdate=utcnow)
    # The questionnaire version in use while fielding (set and frozen when fieldwork starts;
    # see services/questionnaires.py). use_alter: campaign -> version -> questionnaire -> campaign.
    questionnaire_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_version.id", use_alter=True))

    organisation: Mapped[Organisation] = relationship()
    agencies: Mapped[list[Agency]] = relationship(secondary=campaign_agency, order_by=Agency.name)
    procedures: Mapped[list[Procedure]] = relationship(secondary=campaign_procedure,
                                                       order_by=Procedure.code)

    @property
    def fielding(self) -> bool:
        """In fieldwork: the only state in which interviews are entered, corrected, returned
        or imported."""
        return self.status == CampaignStatus.FIELDING.value
