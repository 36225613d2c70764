"""Scorecards (issue 9): stored, versioned scorecard runs and their rows.

A ``scorecard_run`` is never overwritten: computing a scorecard again gives the campaign's
next ``number``. It names the weighting run it used, the index (key and method version),
the confidence level, the small-cell minimum, the reliability rule and the seed of the rank
simulation, so that every figure can be recomputed. ``scorecard_row`` holds one figure per
domain (an agency, or the city total with ``agency_code`` NULL) and index node. A suppressed
row keeps its estimate and CI here; the service's read functions blank them.

A run of a custom index names the ``custom_index_version`` it used; a run graded with a band
table keeps a copy of the table (``bands``), so later edits never change it.
``scorecard_comparison`` holds the run's comparisons of each agency with the city total and
with the same index of the previous year's campaign (``previous_run``); they are part of
the run, computed once with it.
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._numbered import NumberedCampaignRun
from ._types import JSONType
from .index_definitions import BandTable, CustomIndexVersion
from .weighting import WeightRun


class ScorecardStatus:
    """Status of one figure."""

    RELIABLE = "reliable"
    FLAGGED = "flagged"
    SUPPRESSED = "suppressed"


class ScorecardRun(NumberedCampaignRun, db.Model):
    """One scorecard of a campaign (number 1, 2, … per campaign)."""

    __tablename__ = "scorecard_run"
    weight_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("weight_run.id", ondelete="SET NULL"))
    index_key: Mapped[str] = mapped_column(String(16))
    method_version: Mapped[str] = mapped_column(String(64))
    confidence_level: Mapped[float] = mapped_column(Float)
    min_n: Mapped[int] = mapped_column(Integer)
    rule: Mapped[str] = mapped_column(String(8))
    seed: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="done")
    custom_index_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("custom_index_version.id", ondelete="SET NULL"))
    band_table_id: Mapped[int | None] = mapped_column(
        ForeignKey("band_table.id", ondelete="SET NULL"))
    bands: Mapped[dict | None] = mapped_column(JSONType)  # the band table's spec as used
    df: Mapped[float | None] = mapped_column(Float)  # the design's degrees of freedom
    previous_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("scorecard_run.id", ondelete="SET NULL"))
    comparison_adjust: Mapped[str | None] = mapped_column(String(8))  # holm | bh

    weight_run: Mapped[WeightRun | None] = relationship()
    custom_index_version: Mapped[CustomIndexVersion | None] = relationship()
    band_table: Mapped[BandTable | None] = relationship()
    previous_run: Mapped[ScorecardRun | None] = relationship(remote_side="ScorecardRun.id")
    rows: Mapped[list[ScorecardRow]] = relationship(
        back_populates="run", order_by="ScorecardRow.position",
        cascade="all, delete-orphan", passive_deletes=True)
    comparisons: Mapped[list[ScorecardComparison]] = relationship(
        back_populates="run", order_by="ScorecardComparison.id",
        cascade="all, delete-orphan", passive_deletes=True)


class ScorecardRow(db.Model):
    """One (domain, node) figure of a run."""

    __tablename__ = "scorecard_row"
    __table_args__ = (UniqueConstraint("run_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("scorecard_run.id", ondelete="CASCADE"),
                                        index=True)
    position: Mapped[int] = mapped_column(Integer)
    agency_code: Mapped[str | None] = mapped_column(String(64))  # NULL: the city total
    agency_name: Mapped[str] = mapped_column(String(255), default="")
    node: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))  # item | dimension | overall
    estimate: Mapped[float | None] = mapped_column(Float)
    se: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    unweighted: Mapped[float | None] = mapped_column(Float)
    n: Mapped[int] = mapped_column(Integer)
    n_effective: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(255), default="")
    band: Mapped[int | None] = mapped_column(Integer)
    rank_median: Mapped[float | None] = mapped_column(Float)
    rank_low: Mapped[float | None] = mapped_column(Float)
    rank_high: Mapped[float | None] = mapped_column(Float)
    grade: Mapped[str | None] = mapped_column(String(64))  # the band table's label
    maximum: Mapped[float | None] = mapped_column(Float)  # largest attainable value
    # the rounded value graded, for indices that round for display (Circular 01 Art. 15)
    display: Mapped[float | None] = mapped_column(Float)
    # an item's unweighted "not applicable" / "don't know" answers, left out of its estimate
    na: Mapped[int | None] = mapped_column(Integer)
    dk: Mapped[int | None] = mapped_column(Integer)

    run: Mapped[ScorecardRun] = relationship(back_populates="rows")


class ComparisonKind:
    CITY = "city"  # the agency against the city total of the same run
    PREVIOUS = "previous"  # against its own figure of the previous year's run


class ScorecardComparison(db.Model):
    """One agency's comparison on one node: difference, SE, raw and adjusted p-value."""

    __tablename__ = "scorecard_comparison"
    __table_args__ = (UniqueConstraint("run_id", "kind", "node", "agency_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("scorecard_run.id", ondelete="CASCADE"),
                                        index=True)
    kind: Mapped[str] = mapped_column(String(16))
    node: Mapped[str] = mapped_column(String(64))
    agency_code: Mapped[str] = mapped_column(String(64))
    reference: Mapped[float] = mapped_column(Float)  # the city's or the previous estimate
    difference: Mapped[float] = mapped_column(Float)
    se: Mapped[float] = mapped_column(Float)
    statistic: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    p_adjusted: Mapped[float] = mapped_column(Float)
    direction: Mapped[str] = mapped_column(String(16))  # above | below | not different

    run: Mapped[ScorecardRun] = relationship(back_populates="comparisons")
