"""The columns every numbered run of a campaign has (weighting, scorecard, annual report).

A run is never overwritten: computing it again gives the campaign's next ``number``
(unique per campaign, from 1), with who made it and when.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from ._types import TZDateTime, utcnow


class NumberedCampaignRun:
    """Mixin: ``campaign_id``, ``number``, ``created_by_id``, ``created_at`` and the two
    relationships. ``__extra_table_args__``: a model's own constraints."""

    __extra_table_args__: tuple = ()

    @declared_attr.directive
    def __table_args__(cls):
        return (UniqueConstraint("campaign_id", "number"),
                CheckConstraint("number >= 1", name="number_positive"),
                *cls.__extra_table_args__)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    number: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    @declared_attr
    def campaign(cls) -> Mapped[Campaign]:  # noqa: F821
        return relationship("Campaign")

    @declared_attr
    def created_by(cls) -> Mapped[User | None]:  # noqa: F821
        return relationship("User")
