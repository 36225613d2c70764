"""Annual reports (issue 10): each generation of a campaign's report is a numbered version.

An ``annual_report`` is never overwritten: generating the report again gives the campaign's
next ``number``. It names the scorecard run it was built from (and through it the weighting
run, the plan and the index version), the language, the SHA-256 of the report data it was
rendered from, who asked for it and when. Its files (XLSX, the printable HTML, the PDF) are
``annual_report_file`` rows with their own SHA-256.

The files' bytes live in the database (deferred column), not in the instance folder: the web
tier is stateless and may run on several hosts, PostgreSQL is the system of record (its
backups hold the reports), and a report is small (a few MB for 300 agencies).
"""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from ..extensions import db
from ._numbered import NumberedCampaignRun
from .scorecards import ScorecardRun

REPORT_FORMATS = ("xlsx", "pdf", "html")


class AnnualReport(NumberedCampaignRun, db.Model):
    """One generation of a campaign's annual report (number 1, 2, … per campaign)."""

    __tablename__ = "annual_report"
    scorecard_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("scorecard_run.id", ondelete="SET NULL"), index=True)
    locale: Mapped[str] = mapped_column(String(8))
    data_sha256: Mapped[str] = mapped_column(String(64))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))

    scorecard_run: Mapped[ScorecardRun | None] = relationship()
    files: Mapped[list[AnnualReportFile]] = relationship(
        back_populates="report", order_by="AnnualReportFile.id",
        cascade="all, delete-orphan", passive_deletes=True)


class AnnualReportFile(db.Model):
    """One file of a report: its format, SHA-256, size and bytes."""

    __tablename__ = "annual_report_file"
    __table_args__ = (
        UniqueConstraint("report_id", "format"),
        CheckConstraint("format IN ('xlsx', 'pdf', 'html')", name="format_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("annual_report.id", ondelete="CASCADE"),
                                           index=True)
    format: Mapped[str] = mapped_column(String(8))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))

    report: Mapped[AnnualReport] = relationship(back_populates="files")
