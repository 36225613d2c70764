"""Field collection: assignments, interviews and their versions, kept conflicts.

"Nothing lost, nothing doubled" lives partly here, in the database itself:

* ``interview.uuid`` is UNIQUE — created on the device when the interview starts, it is the
  one key of a submission; two concurrent first submissions cannot both insert.
* a correction is a new ``InterviewVersion`` (``previous_id`` → the one it replaces,
  ``base_version`` = the number it started from); ``(interview_id, number)`` is UNIQUE, so
  two corrections from the same base cannot both become the next version.
* a second payload with the same UUID but different content is kept as an
  ``InterviewConflict`` for a supervisor — never dropped, never overwriting.
* identifying data of the respondent sit in ``interview_respondent``, apart from the answers
  encrypted at rest (surveyapp/crypto.py); nothing that returns answers reads it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto import EncryptedJSON
from ..extensions import db
from ._types import JSONType, TZDateTime, utcnow
from .campaigns import Campaign
from .codes import AssignmentStatus, ConflictStatus, ReviewStatus
from .questionnaires import QuestionnaireVersion
from .sampling_plans import SamplingCase
from .users import User


class Assignment(db.Model):
    """One case of a locked sample given to an interviewer (a supervisor answers for it)."""

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("sampling_case.id", ondelete="CASCADE"),
                                         unique=True)
    interviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default=AssignmentStatus.ASSIGNED.value,
                                        index=True)
    disposition: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text, default="")  # the supervisor's last word
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship()
    case: Mapped[SamplingCase] = relationship()
    interviewer: Mapped[User] = relationship(foreign_keys=[interviewer_id])
    supervisor: Mapped[User | None] = relationship(foreign_keys=[supervisor_id])


class Interview(db.Model):
    """One interview (or attempt), identified by the UUID its device gave it."""

    __tablename__ = "interview"
    __table_args__ = (
        UniqueConstraint("uuid", name="uq_interview_uuid"),
        # one interview per case of the sample (walk-ins have none: NULLs never collide)
        UniqueConstraint("assignment_id", name="uq_interview_assignment_id"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("assignment.id", ondelete="SET NULL"), index=True)
    interviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"),
                                                       index=True)
    status: Mapped[str] = mapped_column(String(16), default=ReviewStatus.SUBMITTED.value,
                                        index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)  # number of the current version
    receipt: Mapped[str] = mapped_column(String(64))  # of the current version
    disposition: Mapped[str] = mapped_column(String(32))  # of the current version
    review_comment: Mapped[str] = mapped_column(Text, default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, onupdate=utcnow)

    campaign: Mapped[Campaign] = relationship()
    assignment: Mapped[Assignment | None] = relationship()
    interviewer: Mapped[User | None] = relationship(foreign_keys=[interviewer_id])
    versions: Mapped[list[InterviewVersion]] = relationship(
        back_populates="interview", order_by="InterviewVersion.number",
        cascade="all, delete-orphan", passive_deletes=True)
    conflicts: Mapped[list[InterviewConflict]] = relationship(
        back_populates="interview", order_by="InterviewConflict.id",
        cascade="all, delete-orphan", passive_deletes=True)

    @property
    def current(self) -> InterviewVersion:
        return next(v for v in self.versions if v.number == self.version)


class InterviewVersion(db.Model):
    """The content of an interview as submitted once (the first submission or a correction)."""

    __tablename__ = "interview_version"
    __table_args__ = (
        UniqueConstraint("interview_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interview.id", ondelete="CASCADE"),
                                              index=True)
    number: Mapped[int] = mapped_column(Integer)
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("interview_version.id", ondelete="SET NULL"))
    base_version: Mapped[int | None] = mapped_column(Integer)  # what the correction started from
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"),
                                                          index=True)
    disposition: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    answers: Mapped[dict] = mapped_column(JSONType, default=dict)
    calculated: Mapped[dict] = mapped_column(JSONType, default=dict)  # computed by the server
    paradata: Mapped[dict] = mapped_column(JSONType, default=dict)
    content_sha256: Mapped[str] = mapped_column(String(64))  # the receipt
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    interview: Mapped[Interview] = relationship(back_populates="versions")
    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()


class InterviewConflict(db.Model):
    """A second payload under a stored UUID with different content, kept for a supervisor."""

    __tablename__ = "interview_conflict"
    __table_args__ = (UniqueConstraint("interview_id", "content_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    interview_id: Mapped[int] = mapped_column(ForeignKey("interview.id", ondelete="CASCADE"),
                                              index=True)
    # The payload as received, without the respondent's identifying data (kept apart).
    payload: Mapped[dict] = mapped_column(JSONType)
    content_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=ConflictStatus.OPEN.value)
    status_before: Mapped[str] = mapped_column(String(16))  # the interview's status it interrupted
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    resolved_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    interview: Mapped[Interview] = relationship(back_populates="conflicts")


class InterviewRespondent(db.Model):
    """Identifying data of a respondent (name, phone, address …), never stored with answers.

    Belongs to one interview version or to one kept conflict.
    """

    __tablename__ = "interview_respondent"
    __table_args__ = (
        CheckConstraint("(version_id IS NULL) <> (conflict_id IS NULL)", name="one_owner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int | None] = mapped_column(
        ForeignKey("interview_version.id", ondelete="CASCADE"), unique=True)
    conflict_id: Mapped[int | None] = mapped_column(
        ForeignKey("interview_conflict.id", ondelete="CASCADE"), unique=True)
    # Encrypted at rest under RESPONDENT_KEYS (surveyapp/crypto.py); purged after the
    # campaign closes (services/respondents.py).
    data: Mapped[dict] = mapped_column(EncryptedJSON, default=dict)
