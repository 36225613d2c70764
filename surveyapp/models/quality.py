"""Quality control of field work (issue 8): respondents' keyed hashes and back-checks.

* ``respondent_key`` holds, per interview version, the keyed hash (HMAC-SHA256) of the
  respondent's normalised contact data — the duplicate-respondent flag compares these; the
  contact data themselves stay in ``interview_respondent`` (encrypted there).
* ``back_check_draw`` is a run: a random share of completed interviews drawn with a stored
  seed; ``back_check`` its rows, each with the outcome recorded by a supervisor.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import TZDateTime, utcnow
from .campaigns import Campaign
from .field import Interview
from .users import User


class RespondentKey(db.Model):
    """The keyed hash of one interview version's respondent contact data (never the data)."""

    __tablename__ = "respondent_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(
        ForeignKey("interview_version.id", ondelete="CASCADE"), unique=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    key_hash: Mapped[str] = mapped_column(String(64), index=True)


class BackCheckDraw(db.Model):
    """One random draw of completed interviews to re-contact (seed stored: reproducible)."""

    __tablename__ = "back_check_draw"
    __table_args__ = (CheckConstraint("share > 0 AND share <= 1", name="share_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    share: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(Integer)
    eligible: Mapped[int] = mapped_column(Integer)  # completed interviews drawn from
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    campaign: Mapped[Campaign] = relationship()
    checks: Mapped[list[BackCheck]] = relationship(
        back_populates="draw", order_by="BackCheck.id", cascade="all, delete-orphan",
        passive_deletes=True)


class BackCheck(db.Model):
    """One interview to re-contact, and what the re-contact found."""

    __tablename__ = "back_check"
    __table_args__ = (UniqueConstraint("interview_id", name="uq_back_check_interview_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("back_check_draw.id", ondelete="CASCADE"),
                                         index=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interview.id", ondelete="CASCADE"))
    outcome: Mapped[str | None] = mapped_column(String(16))  # BackCheckOutcome; None: to do
    note: Mapped[str] = mapped_column(Text, default="")
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    checked_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    draw: Mapped[BackCheckDraw] = relationship(back_populates="checks")
    interview: Mapped[Interview] = relationship()
    checked_by: Mapped[User | None] = relationship()
