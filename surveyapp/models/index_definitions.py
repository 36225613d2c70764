"""Index definitions stored as data (issue 9): organisations' own index trees and band tables.

A ``custom_index`` is an organisation's user-defined index; its content lives in numbered,
never-changed ``custom_index_version`` rows (editing stores the next version, old versions
stay, and a scorecard run names the version it used). ``tree`` is the JSON tree
items → dimensions → overall (see ``services.custom_indices`` for its shape).

A ``band_table`` is a table of grade thresholds (e.g. Circular 01/2018 Art. 15: Xuất sắc ≥
15 … Yếu below 6). Rows without an organisation ship with the app (seeded by migration
0012); an organisation may add its own. ``spec`` has the shape of
``analysis.indices.BandTable.from_dict``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ._types import JSONType, TZDateTime, utcnow
from .organisations import Organisation
from .users import User

CUSTOM_PREFIX = "custom"


class CustomIndex(db.Model):
    """An organisation's user-defined index; its versions hold the trees."""

    __tablename__ = "custom_index"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()
    versions: Mapped[list[CustomIndexVersion]] = relationship(
        back_populates="index", order_by="CustomIndexVersion.number",
        cascade="all, delete-orphan", passive_deletes=True)

    @property
    def latest(self) -> CustomIndexVersion | None:
        return self.versions[-1] if self.versions else None


class CustomIndexVersion(db.Model):
    """One version (1, 2, …) of a custom index: its name and tree, never changed."""

    __tablename__ = "custom_index_version"
    __table_args__ = (
        UniqueConstraint("index_id", "number"),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    index_id: Mapped[int] = mapped_column(ForeignKey("custom_index.id", ondelete="CASCADE"),
                                          index=True)
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    tree: Mapped[dict] = mapped_column(JSONType, default=dict)
    # the frozen questionnaire the items were chosen from
    questionnaire_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("questionnaire_version.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)

    index: Mapped[CustomIndex] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship()

    @property
    def method_version(self) -> str:
        """What a scorecard run records: the index and this version."""
        return f"{CUSTOM_PREFIX}-{self.index_id}/v{self.number}"


class BandTable(db.Model):
    """Grade thresholds; ``organisation_id`` NULL: shipped with the app."""

    __tablename__ = "band_table"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    spec: Mapped[dict] = mapped_column(JSONType, default=dict)
    # the built-in index this table is the default of (shipped tables only), e.g. "tt01"
    default_for: Mapped[str | None] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
