"""Source rows: cursor, conditional-GET validators and failure state.

Failure state lives on the row (error_count, last_error, checked_at, next_check_at) so that
backoff survives a restart and the health endpoint can report it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from collectors.http import redact
from storage.database import Database
from storage.timeutil import from_db, to_db, utcnow

__all__ = [
    "SourceState", "ensure_source", "get_source", "list_sources", "last_posts", "record_success", "record_failure",
]


@dataclass(frozen=True, slots=True)
class SourceState:
    id: int
    name: str
    type: str
    url: str | None
    cursor: str | None
    etag: str | None
    last_modified: str | None
    error_count: int
    last_error: str | None
    checked_at: datetime | None
    last_success_at: datetime | None
    next_check_at: datetime | None


def _state(row: aiosqlite.Row) -> SourceState:
    return SourceState(
        id=row["id"], name=row["name"], type=row["type"], url=row["url"], cursor=row["cursor"],
        etag=row["etag"], last_modified=row["last_modified"], error_count=row["error_count"],
        last_error=row["last_error"], checked_at=from_db(row["checked_at"]),
        last_success_at=from_db(row["last_success_at"]), next_check_at=from_db(row["next_check_at"]),
    )


async def ensure_source(db: Database, name: str, type_: str, url: str | None) -> SourceState:
    """Create the source's row on first sight; keep its type and URL current (credentials in
    the URL are stored redacted: the archive is published by `serve`)."""
    async with db.write() as conn:
        await conn.execute(
            """INSERT INTO sources (name, type, url) VALUES (?, ?, ?)
               ON CONFLICT (name) DO UPDATE SET type = excluded.type, url = excluded.url""",
            (name, type_, redact(url) if url else url),
        )
        async with conn.execute("SELECT * FROM sources WHERE name = ?", (name,)) as cursor:
            row = await cursor.fetchone()
    assert row is not None
    return _state(row)


async def get_source(db: Database, name: str) -> SourceState | None:
    row = await db.fetchone("SELECT * FROM sources WHERE name = ?", (name,))
    return _state(row) if row else None


async def list_sources(db: Database) -> list[SourceState]:
    return [_state(row) for row in await db.fetchall("SELECT * FROM sources ORDER BY name")]


async def last_posts(db: Database) -> dict[str, datetime | None]:
    """Each source's newest publication time among the posts it stored."""
    # A subquery per source: max() over the (source_id, published_at) index is one lookup each.
    rows = await db.fetchall(
        "SELECT name, (SELECT max(published_at) FROM posts WHERE source_id = sources.id) FROM sources"
    )
    return {row[0]: from_db(row[1]) for row in rows}


async def record_success(
    conn: aiosqlite.Connection,
    source_id: int,
    *,
    cursor: str | None,
    etag: str | None,
    last_modified: str | None,
) -> None:
    """Save the cursor and validators and clear the failure state (inside the posts' transaction)."""
    now = to_db(utcnow())
    await conn.execute(
        """UPDATE sources SET cursor = COALESCE(?, cursor), etag = COALESCE(?, etag),
               last_modified = COALESCE(?, last_modified), error_count = 0, last_error = NULL,
               checked_at = ?, last_success_at = ?, next_check_at = NULL
           WHERE id = ?""",
        (cursor, etag, last_modified, now, now, source_id),
    )


async def record_failure(
    db: Database,
    source_id: int,
    error: str,
    *,
    interval: float,
    retry_after: float | None,
    max_backoff: float,
) -> SourceState:
    """Count one more failure and schedule the next check with exponential backoff.

    The delay doubles with each consecutive failure from the poll interval up to `max_backoff`,
    and is never shorter than the server's Retry-After; the source is never given up on.
    """
    async with db.write() as conn:
        async with conn.execute("SELECT error_count FROM sources WHERE id = ?", (source_id,)) as cur:
            row = await cur.fetchone()
        errors = (row[0] if row else 0) + 1
        delay = backoff_delay(errors, interval=interval, retry_after=retry_after, max_backoff=max_backoff)
        now = utcnow()
        await conn.execute(
            """UPDATE sources SET error_count = ?, last_error = ?, checked_at = ?, next_check_at = ?
               WHERE id = ?""",
            (errors, redact(error), to_db(now), to_db(now + timedelta(seconds=delay)), source_id),
        )
        async with conn.execute("SELECT * FROM sources WHERE id = ?", (source_id,)) as cur:
            updated = await cur.fetchone()
    assert updated is not None
    return _state(updated)


def backoff_delay(errors: int, *, interval: float, retry_after: float | None, max_backoff: float) -> float:
    """Seconds until the next try after `errors` consecutive failures."""
    delay = min(interval * 2 ** min(errors - 1, 16), max(max_backoff, interval))
    # A server's own Retry-After wins even over the cap, up to a day.
    return max(delay, min(retry_after or 0.0, 86_400.0))
