"""Column helpers shared by the model modules."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime
from sqlalchemy.dialects.postgresql import JSONB

# Every primary key is a PostgreSQL ``integer``: a larger number names nothing, and passed to
# a query it makes the driver raise. URLs, API payloads and the API description bound ids by it.
MAX_ID = 2**31 - 1

# JSONB on PostgreSQL (indexable, compact), plain JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")

# Always timezone-aware in Python; SQLite hands back naive values, see as_utc().
TZDateTime = DateTime(timezone=True)


def utcnow() -> datetime:
    """Callable default for timestamps (never a value frozen at import)."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """Treat a naive timestamp read back from SQLite as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
