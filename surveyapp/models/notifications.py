"""In-app notifications: what happened that concerns a user, read or not yet read.

A notification stores a ``kind`` and its ``params`` rather than a sentence, so that it is
shown in the reader's language; ``package_version_id`` names the object it is about (the
page builds the link). ``emailed_at`` is set when it was also sent by e-mail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ._types import JSONType, TZDateTime, utcnow


class Notification(db.Model):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict] = mapped_column(JSONType, default=dict)
    package_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("package_version.id", ondelete="CASCADE"), index=True)
    actor_label: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
