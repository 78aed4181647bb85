"""The poll log: every poll's outcome, kept as long as the payloads (`[storage] payload_retention_days`).

`coverage` reads it for what the posts alone cannot say: polls that failed, stretches of time
with no good poll (the daemon down, a source backing off), and, for a channel read both over
the web preview and MTProto, which message ids each of them read. A good poll's row is written
in the transaction that stores its posts, so the log never claims posts the archive lacks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from dsns.redact import redact
from storage.database import Database
from storage.timeutil import from_db, to_db, utcnow

__all__ = [
    "PollRecord", "record_poll", "id_ranges", "parse_id_ranges",
    "poll_spans", "good_poll_gaps", "ids_seen", "prune_polls",
]

# An error text is for a person reading `coverage`; a hostile server's answer can be long.
_MAX_ERROR = 500


@dataclass(frozen=True, slots=True)
class PollRecord:
    """One poll as it ended. `kind` says what failed ("layout", "network", "http", "rate_limited",
    "preview_disabled", "parse", "source", "internal"); `seen` the Telegram message ids read."""

    started_at: datetime
    ok: bool
    kind: str | None = None
    new: int = 0
    changed: int = 0
    error: str | None = None
    seen: tuple[int, ...] = ()


def id_ranges(ids: Iterable[int]) -> str:
    """Sorted ids as "1-25,27,30-31": a page of consecutive ids costs a few characters."""
    parts: list[str] = []
    ordered = sorted(set(ids))
    start = prev = None
    for value in [*ordered, None]:
        if prev is not None and value == prev + 1:
            prev = value
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = value
    return ",".join(parts)


def parse_id_ranges(text: str | None) -> Iterator[int]:
    for part in (text or "").split(","):
        if part:
            low, _, high = part.partition("-")
            yield from range(int(low), int(high or low) + 1)


async def record_poll(conn: aiosqlite.Connection, source_id: int, record: PollRecord) -> None:
    """Log a poll that ends now (inside the caller's transaction); the error is redacted."""
    error = redact(record.error)[:_MAX_ERROR] if record.error else None
    await conn.execute(
        """INSERT INTO polls (source_id, started_at, finished_at, ok, kind, new, changed, error, seen)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (source_id, to_db(record.started_at), to_db(utcnow()), int(record.ok), record.kind, record.new,
         record.changed, error, id_ranges(record.seen) if record.seen else None),
    )


async def poll_spans(db: Database) -> dict[str, tuple[datetime, datetime | None]]:
    """Per source with a logged poll: when its first logged poll ended (whatever its outcome),
    and its last good one (None without one); each an index lookup."""
    rows = await db.fetchall(
        """SELECT s.name, (SELECT min(finished_at) FROM polls p WHERE p.source_id = s.id),
                  (SELECT max(finished_at) FROM polls p WHERE p.source_id = s.id AND p.ok = 1)
           FROM sources s"""
    )
    return {name: (from_db(first), from_db(last)) for name, first, last in rows if first}  # type: ignore[misc]


async def good_poll_gaps(
    db: Database, graces: dict[str, float], *, since: datetime | None = None
) -> list[tuple[str, datetime | None, datetime]]:
    """(source, previous good poll, good poll) for each two consecutive good polls of a source
    ended more than its `graces` seconds apart, and for its first good poll from `since` on
    (previous None); found in SQL, so a healthy month of polls costs no Python objects."""
    if not graces:
        return []
    values = ", ".join("(?, ?)" for _ in graces)
    rows = await db.fetchall(
        f"""WITH g(name, grace) AS (VALUES {values}),
               good AS (
                   SELECT source_id, finished_at,
                          lag(finished_at) OVER (PARTITION BY source_id ORDER BY finished_at) AS prev
                   FROM polls WHERE ok = 1 AND finished_at >= ?
               )
            SELECT g.name, good.prev, good.finished_at
            FROM good JOIN sources s ON s.id = good.source_id JOIN g ON g.name = s.name
            WHERE good.prev IS NULL OR (julianday(good.finished_at) - julianday(good.prev)) * 86400 > g.grace
            ORDER BY g.name, good.finished_at""",
        (*(v for item in graces.items() for v in item), to_db(since) if since else ""),
    )
    return [(name, from_db(prev), from_db(end)) for name, prev, end in rows]  # type: ignore[misc]


async def ids_seen(db: Database, source: str) -> set[int]:
    """The Telegram message ids the source's good logged polls read (a page re-read unchanged
    logs the same ranges, read once here)."""
    rows = await db.fetchall(
        """SELECT DISTINCT p.seen FROM polls p JOIN sources s ON s.id = p.source_id
           WHERE s.name = ? AND p.ok = 1 AND p.seen IS NOT NULL""",
        (source,),
    )
    return {number for (ranges,) in rows for number in parse_id_ranges(ranges)}


async def prune_polls(conn: aiosqlite.Connection, older_than: datetime) -> int:
    """Forget polls finished before `older_than` (inside the caller's transaction)."""
    cursor = await conn.execute("DELETE FROM polls WHERE finished_at < ?", (to_db(older_than),))
    return cursor.rowcount
