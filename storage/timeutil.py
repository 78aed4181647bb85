"""Timestamps as the archive stores them: ISO 8601 UTC with a Z, which sort as text."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utcnow", "to_db", "from_db"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_db(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_db(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
