"""Sampling plans of a campaign (versioned, lockable) and the cases their draw selected.

A plan keeps the uploaded frame exactly as uploaded (file bytes + the library's canonical
digest), the column mapping and design choices, the library's draw record, and one
``SamplingCase`` per selected unit or reserve: the list of cases to be interviewed that
field assignments pick up. A locked plan never changes; a new version copies it into a draft.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..crypto import EncryptedJSON
from ..extensions import db
from ._types import JSONType, TZDateTime, utcnow
from .campaigns import Campaign
from .codes import CaseStatus, SamplingPlanStatus


class SamplingPlan(db.Model):
    __tablename__ = "sampling_plan"
    __table_args__ = (
        UniqueConstraint("campaign_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("n IS NULL OR n >= 1", name="n_positive"),
        CheckConstraint("reserve >= 0", name="reserve_non_negative"),
        CheckConstraint("seed IS NULL OR seed >= 0", name="seed_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("sampling_plan.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=SamplingPlanStatus.DRAFT.value)

    # The frame, kept as uploaded; its digest is the library's canonical one (surveyapp-frame/1).
    frame_filename: Mapped[str | None] = mapped_column(String(255))
    frame_content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    frame_sha256: Mapped[str | None] = mapped_column(String(64))
    frame_rows: Mapped[int | None] = mapped_column(Integer)
    frame_columns: Mapped[list | None] = mapped_column(JSONType)

    # Column mapping: which frame column plays which role.
    id_column: Mapped[str | None] = mapped_column(String(200))
    label_columns: Mapped[list] = mapped_column(JSONType, default=list)
    stratum_column: Mapped[str | None] = mapped_column(String(200))
    size_column: Mapped[str | None] = mapped_column(String(200))
    psu_column: Mapped[str | None] = mapped_column(String(200))

    # Design: methods, stages (the library's stage list), allocation, n, seed, reserves.
    method: Mapped[str | None] = mapped_column(String(32))
    psu_method: Mapped[str | None] = mapped_column(String(32))
    n_per_psu: Mapped[int | None] = mapped_column(Integer)
    allocation_method: Mapped[str | None] = mapped_column(String(32))
    allocation_params: Mapped[dict] = mapped_column(JSONType, default=dict)
    n: Mapped[int | None] = mapped_column(Integer)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    reserve: Mapped[int] = mapped_column(Integer, default=0)
    stages: Mapped[list | None] = mapped_column(JSONType)
    allocation: Mapped[list | None] = mapped_column(JSONType)  # [{"stratum", "N_h", "n_h"}]

    draw_record: Mapped[dict | None] = mapped_column(JSONType)
    drawn_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    drawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    locked_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    locked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship()
    cases: Mapped[list[SamplingCase]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", passive_deletes=True,
        order_by="SamplingCase.position")

    @property
    def locked(self) -> bool:
        return self.status == SamplingPlanStatus.LOCKED


class SamplingCase(db.Model):
    """One selected unit (or reserve) of a drawn sample: a case to be interviewed."""

    __tablename__ = "sampling_case"
    __table_args__ = (
        UniqueConstraint("plan_id", "unit_id"),
        UniqueConstraint("plan_id", "position"),
        CheckConstraint("pik > 0 AND pik <= 1", name="pik_range"),
        CheckConstraint("reserve_rank IS NULL OR reserve_rank >= 1", name="reserve_rank_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("sampling_plan.id", ondelete="CASCADE"),
                                         index=True)
    position: Mapped[int] = mapped_column(Integer)  # row of the library's sample output
    unit_id: Mapped[str] = mapped_column(String(200))  # value of the frame's id column
    # the frame's label columns (identifying): encrypted at rest, purged after the campaign
    data: Mapped[dict] = mapped_column(EncryptedJSON, default=dict)
    stratum: Mapped[str | None] = mapped_column(String(200))
    psu: Mapped[str | None] = mapped_column(String(200))
    pik: Mapped[float] = mapped_column(Float)
    weight: Mapped[float] = mapped_column(Float)
    reserve_rank: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.SELECTED.value, index=True)

    plan: Mapped[SamplingPlan] = relationship(back_populates="cases")
