"""Times read back from the application database: SQLite drops the time zone of a
``DateTime(timezone=True)`` column, PostgreSQL keeps it; every value stored is UTC."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TypeVar

T = TypeVar("T", datetime, None)


def as_utc(value: T) -> T:
    """``value`` as an aware UTC time (None stays None)."""
    return value if value is None or value.tzinfo else value.replace(tzinfo=timezone.utc)
