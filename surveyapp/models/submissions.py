"""Submission packages (issue 11): an organisation's yearly results sent to the UBND office.

A ``submission_package`` is one (organisation, year). Its content lives in numbered
``package_version`` rows: a version is edited while it is a draft (the analysed surveys it
includes, each with its chosen scorecard run, in ``package_survey``; the organisation's
findings and recommendations, overall on the version and per agency in
``package_finding``), then frozen on submission: ``snapshot`` is the whole package as JSON,
``digest`` the SHA-256 of its RFC 8785 canonical form and ``part_digests`` the same per
part (to name what differs when a check fails). A frozen version is never changed again; a
later change is a new version whose ``replaces_id`` names the one it amends. Every step of
the workflow is a ``package_transition`` row (who, when, the comment); ``package_agency``
indexes the agencies of a frozen version; ``submission_deadline`` is the due date of a year.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import JSONType, TZDateTime, utcnow
from .campaigns import Campaign
from .codes import PackageStatus
from .organisations import Organisation
from .scorecards import ScorecardRun
from .users import User


class SubmissionPackage(db.Model):
    """An organisation's package of one year (its versions hold the content)."""

    __tablename__ = "submission_package"
    __table_args__ = (
        UniqueConstraint("organisation_id", "year"),
        CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    versions: Mapped[list[PackageVersion]] = relationship(
        back_populates="package", order_by="PackageVersion.number")


class PackageVersion(db.Model):
    """One version of a package (number 1, 2, … per package); frozen from submission on."""

    __tablename__ = "package_version"
    __table_args__ = (
        UniqueConstraint("package_id", "number"),
        UniqueConstraint("replaces_id"),  # a version is amended at most once
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("submission_package.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=PackageStatus.DRAFT.value,
                                        index=True)
    title: Mapped[str] = mapped_column(String(200))
    # The organisation's overall findings and recommendations (phản biện xã hội).
    findings: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[str] = mapped_column(Text, default="")
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("package_version.id"))
    snapshot: Mapped[dict | None] = mapped_column(JSONType)
    digest: Mapped[str | None] = mapped_column(String(64), index=True)
    part_digests: Mapped[dict | None] = mapped_column(JSONType)
    frozen_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    published_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    status_changed_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    package: Mapped[SubmissionPackage] = relationship(back_populates="versions")
    replaces: Mapped[PackageVersion | None] = relationship(remote_side=[id])
    created_by: Mapped[User | None] = relationship()
    surveys: Mapped[list[PackageSurvey]] = relationship(
        back_populates="version", order_by="PackageSurvey.position",
        cascade="all, delete-orphan", passive_deletes=True)
    agency_findings: Mapped[list[PackageFinding]] = relationship(
        back_populates="version", order_by="PackageFinding.agency_code",
        cascade="all, delete-orphan", passive_deletes=True)
    transitions: Mapped[list[PackageTransition]] = relationship(
        back_populates="version", order_by="PackageTransition.id",
        cascade="all, delete-orphan", passive_deletes=True)
    agencies: Mapped[list[PackageAgency]] = relationship(
        order_by="PackageAgency.agency_code", cascade="all, delete-orphan",
        passive_deletes=True)


class PackageSurvey(db.Model):
    """An analysed survey in a version: the campaign and the scorecard run it reports."""

    __tablename__ = "package_survey"
    __table_args__ = (UniqueConstraint("version_id", "campaign_id"),
                      UniqueConstraint("version_id", "position"))

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("package_version.id", ondelete="CASCADE"),
                                            index=True)
    position: Mapped[int] = mapped_column(Integer)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    scorecard_run_id: Mapped[int] = mapped_column(ForeignKey("scorecard_run.id"), index=True)

    version: Mapped[PackageVersion] = relationship(back_populates="surveys")
    campaign: Mapped[Campaign] = relationship()
    scorecard_run: Mapped[ScorecardRun] = relationship()


class PackageFinding(db.Model):
    """The organisation's findings and recommendations to one assessed agency."""

    __tablename__ = "package_finding"
    __table_args__ = (UniqueConstraint("version_id", "agency_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("package_version.id", ondelete="CASCADE"),
                                            index=True)
    agency_code: Mapped[str] = mapped_column(String(64))
    agency_name: Mapped[str] = mapped_column(String(255), default="")
    findings: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[str] = mapped_column(Text, default="")

    version: Mapped[PackageVersion] = relationship(back_populates="agency_findings")


class PackageAgency(db.Model):
    """An agency reported in a frozen version (written on submission, for look-ups)."""

    __tablename__ = "package_agency"

    version_id: Mapped[int] = mapped_column(
        ForeignKey("package_version.id", ondelete="CASCADE"), primary_key=True)
    agency_code: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    agency_name: Mapped[str] = mapped_column(String(255), default="")


class PackageTransition(db.Model):
    """One workflow step of a version: from which status to which, by whom, with a comment."""

    __tablename__ = "package_transition"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("package_version.id", ondelete="CASCADE"),
                                            index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))  # None: the version's creation
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    actor_label: Mapped[str] = mapped_column(String(64))  # the login, kept if the user goes
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    version: Mapped[PackageVersion] = relationship(back_populates="transitions")


class SubmissionDeadline(db.Model):
    """The date by which the organisations' packages of a year are due at the office."""

    __tablename__ = "submission_deadline"
    __table_args__ = (CheckConstraint("year BETWEEN 2000 AND 2100", name="year_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    due_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(500), default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, onupdate=utcnow)
