"""Questionnaires and their versions: one JSON document (``Questionnaire.to_dict()``) per version.

A questionnaire belongs to an organisation and, usually, to one campaign (``campaign_id``;
NULL for a questionnaire kept for reuse within the organisation). Its versions are numbered
1, 2, 3 …; a version is a *draft* (editable) or *frozen* (never changes again: its document
and digest are fixed, checked by ``_refuse_changes_to_frozen_versions`` below as well as by
the services). The campaign records the version in use while fielding
(``Campaign.questionnaire_version_id``); interviews (issue 7) point at
``questionnaire_version.id``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..extensions import db
from ._types import JSONType, TZDateTime, utcnow
from .campaigns import Campaign
from .codes import QuestionnaireVersionStatus
from .organisations import Organisation


class Questionnaire(db.Model):
    __tablename__ = "questionnaire"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # One questionnaire per campaign; NULL: kept for reuse within the organisation.
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    campaign: Mapped[Campaign | None] = relationship()
    versions: Mapped[list[QuestionnaireVersion]] = relationship(
        back_populates="questionnaire", order_by="QuestionnaireVersion.number",
        cascade="all, delete-orphan", passive_deletes=True)

    @property
    def latest(self) -> QuestionnaireVersion | None:
        return self.versions[-1] if self.versions else None


class QuestionnaireVersion(db.Model):
    __tablename__ = "questionnaire_version"
    __table_args__ = (
        UniqueConstraint("questionnaire_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
        CheckConstraint("status IN ('draft', 'frozen')", name="status_known"),
        CheckConstraint("status = 'draft' OR frozen_at IS NOT NULL", name="frozen_has_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(
        ForeignKey("questionnaire.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default=QuestionnaireVersionStatus.DRAFT.value)
    # The questionnaire definition: surveyapp.questionnaires.Questionnaire.to_dict().
    document: Mapped[dict] = mapped_column(JSONType)
    # SHA-256 of the document's canonical JSON (sorted keys, no spaces, UTF-8).
    digest: Mapped[str] = mapped_column(String(64))
    # How the version came to be: template, xlsform, copy, edit, blank.
    source: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(255), default="")
    based_on_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_version.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow, onupdate=utcnow)
    frozen_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    frozen_at: Mapped[datetime | None] = mapped_column(TZDateTime)

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="versions")

    @property
    def frozen(self) -> bool:
        return self.status == QuestionnaireVersionStatus.FROZEN


class FrozenVersionChanged(RuntimeError):
    """A programming error: something tried to change a frozen questionnaire version."""


_FIXED_ONCE_FROZEN = ("document", "digest", "number", "questionnaire_id", "status")


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_frozen_versions(session, flush_context, instances) -> None:
    """Last line of defence: a frozen version's content never changes, whatever the caller."""
    from sqlalchemy import inspect

    for obj in session.dirty:
        if not isinstance(obj, QuestionnaireVersion):
            continue
        state = inspect(obj)
        status_history = state.attrs.status.history
        was_frozen = (status_history.deleted or [obj.status])[0] == \
            QuestionnaireVersionStatus.FROZEN
        if not was_frozen:
            continue
        for key in _FIXED_ONCE_FROZEN:
            if state.attrs[key].history.has_changes():
                raise FrozenVersionChanged(
                    f"questionnaire version {obj.id} is frozen; its {key} cannot change")
    for obj in session.deleted:
        if isinstance(obj, QuestionnaireVersion) and obj.status == \
                QuestionnaireVersionStatus.FROZEN and obj.questionnaire not in session.deleted:
            raise FrozenVersionChanged(f"questionnaire version {obj.id} is frozen; it cannot "
                                       f"be deleted")
