"""Weighting (issue 9): stored, versioned weighting runs and the unit weights under them.

A ``weight_run`` is never overwritten: computing the weights again gives the campaign's next
``number``. It keeps the full specification (non-response classes, calibration method, totals,
bounds, trim, the unknown-eligibility share), what it was computed from (the locked plan's id
and version, the number of input rows and a SHA-256 of them, so that the run can be verified)
and its diagnostics. ``unit_weight`` holds one row per respondent (approved complete or
partial interview): base, non-response-adjusted and final weight.
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._numbered import NumberedCampaignRun
from ._types import JSONType


class WeightRunStatus:
    """``done``: calibrated (or no calibration asked); ``not_converged``: stored anyway."""

    DONE = "done"
    NOT_CONVERGED = "not_converged"


class WeightRun(NumberedCampaignRun, db.Model):
    """One weighting of a campaign's approved interviews (number 1, 2, … per campaign)."""

    __tablename__ = "weight_run"
    spec: Mapped[dict] = mapped_column(JSONType, default=dict)
    plan_id: Mapped[int | None] = mapped_column(
        ForeignKey("sampling_plan.id", ondelete="SET NULL"))
    plan_version: Mapped[int] = mapped_column(Integer)
    input_rows: Mapped[int] = mapped_column(Integer)
    input_sha256: Mapped[str] = mapped_column(String(64))
    diagnostics: Mapped[dict] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=WeightRunStatus.DONE)

    units: Mapped[list[UnitWeight]] = relationship(
        back_populates="run", order_by="UnitWeight.interview_id",
        cascade="all, delete-orphan", passive_deletes=True)


class UnitWeight(db.Model):
    """The weights of one respondent in one run."""

    __tablename__ = "unit_weight"
    __table_args__ = (UniqueConstraint("run_id", "interview_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("weight_run.id", ondelete="CASCADE"),
                                        index=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interview.id", ondelete="CASCADE"),
                                              index=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("sampling_case.id", ondelete="SET NULL"))
    base_weight: Mapped[float] = mapped_column(Float)
    nonresponse_weight: Mapped[float] = mapped_column(Float)
    final_weight: Mapped[float] = mapped_column(Float)

    run: Mapped[WeightRun] = relationship(back_populates="units")
