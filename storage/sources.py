"""Source rows: cursor, conditional-GET validators and failure state.

Failure state lives on the row (error_count, last_error, checked_at, next_check_at) so that
backoff survives a restart and the health endpoint can report it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from dsns.backoff import doubling_delay
from dsns.redact import redact
from storage.database import Database
from storage.timeutil import from_db, to_db, utcnow

__all__ = [
    "SourceState", "PostProfile", "Silence", "ensure_source", "get_source", "list_sources", "last_posts",
    "record_success", "record_failure", "post_profile", "silences",
]

# The recent posts a source's usual shape is learnt from.
PROFILE_POSTS = 50


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
    # What kind of failure the last one was: "layout" when a body parsed unlike the source's
    # earlier ones (`collectors.base.SourceLayoutError`), else None.
    error_kind: str | None = None


def _state(row: aiosqlite.Row) -> SourceState:
    return SourceState(
        id=row["id"], name=row["name"], type=row["type"], url=row["url"], cursor=row["cursor"],
        etag=row["etag"], last_modified=row["last_modified"], error_count=row["error_count"],
        last_error=row["last_error"], checked_at=from_db(row["checked_at"]),
        last_success_at=from_db(row["last_success_at"]), next_check_at=from_db(row["next_check_at"]),
        error_kind=row["error_kind"],
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
               error_kind = NULL, checked_at = ?, last_success_at = ?, next_check_at = NULL
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
    kind: str | None = None,
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
            """UPDATE sources SET error_count = ?, last_error = ?, error_kind = ?, checked_at = ?,
                   next_check_at = ? WHERE id = ?""",
            (errors, redact(error), kind, to_db(now), to_db(now + timedelta(seconds=delay)), source_id),
        )
        async with conn.execute("SELECT * FROM sources WHERE id = ?", (source_id,)) as cur:
            updated = await cur.fetchone()
    assert updated is not None
    return _state(updated)


def backoff_delay(errors: int, *, interval: float, retry_after: float | None, max_backoff: float) -> float:
    """Seconds until the next try after `errors` consecutive failures."""
    delay = doubling_delay(errors, interval, max_backoff)
    # A server's own Retry-After wins even over the cap, up to a day.
    return max(delay, min(retry_after or 0.0, 86_400.0))


@dataclass(frozen=True, slots=True)
class PostProfile:
    """How many of a source's last `PROFILE_POSTS` posts had a date, content (text or a
    photo) and a link: what a body that parses unlike them is measured against."""

    posts: int
    dated: int
    with_content: int
    linked: int


async def post_profile(db: Database, source_id: int) -> PostProfile:
    # Newest by date, not by id: the (source_id, published_at) index answers it without a sort,
    # which matters as it runs at every poll.
    row = await db.fetchone(
        """SELECT count(*), count(published_at),
                  coalesce(sum(text != '' OR EXISTS (SELECT 1 FROM post_media m WHERE m.post_id = r.id)), 0),
                  count(url)
           FROM (SELECT id, published_at, text, url FROM posts WHERE source_id = ?
                 ORDER BY published_at DESC LIMIT ?) r""",
        (source_id, PROFILE_POSTS),
    )
    assert row is not None
    return PostProfile(*row)


@dataclass(frozen=True, slots=True)
class Silence:
    """A source's newest post and its usual gap between posts (the median over the window;
    None with fewer than two posts in it)."""

    source: str
    last_post_at: datetime | None
    usual_gap: float | None

    def silent_for(self, now: datetime) -> float | None:
        return (now - self.last_post_at).total_seconds() if self.last_post_at else None

    def stale_after(self, floor: float) -> float | None:
        """Seconds of silence after which the source is stale: 4 usual gaps, at least `floor`;
        None when its cadence is unknown (fewer than two posts in the window)."""
        return None if self.usual_gap is None else max(4 * self.usual_gap, floor)

    def is_stale(self, now: datetime, floor: float) -> bool:
        """Silent for longer than `stale_after`; a source whose cadence is unknown is never stale."""
        silent, limit = self.silent_for(now), self.stale_after(floor)
        return silent is not None and limit is not None and silent > limit


async def silences(db: Database, *, window_days: int = 14) -> dict[str, Silence]:
    """Per source: its newest post and the median gap between its posts published in the
    last `window_days` days, in one pass over those posts (the (source_id, published_at) index)."""
    rows = await db.fetchall(
        """WITH recent AS (
               SELECT source_id, published_at,
                      (julianday(published_at) - julianday(lag(published_at) OVER w)) * 86400.0 AS gap
               FROM posts
               WHERE source_id IS NOT NULL AND published_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?)
               WINDOW w AS (PARTITION BY source_id ORDER BY published_at)
           ),
           ranked AS (
               SELECT source_id, gap,
                      row_number() OVER (PARTITION BY source_id ORDER BY gap) AS n,
                      count(*) OVER (PARTITION BY source_id) AS total
               FROM recent WHERE gap IS NOT NULL
           ),
           medians AS (
               SELECT source_id, avg(gap) AS gap FROM ranked
               WHERE n IN ((total + 1) / 2, (total + 2) / 2) GROUP BY source_id
           )
           SELECT s.name, (SELECT max(published_at) FROM posts p WHERE p.source_id = s.id), m.gap
           FROM sources s LEFT JOIN medians m ON m.source_id = s.id""",
        (f"-{int(window_days)} days",),
    )
    return {name: Silence(name, from_db(last), gap) for name, last, gap in rows}
