"""Counts over the archive for the bot's /stats and the daemon's /metrics."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from storage.database import Database

__all__ = ["ArchiveCounts", "archive_counts", "table_sizes", "ping"]


@dataclass(frozen=True, slots=True)
class ArchiveCounts:
    chats: int
    active_chats: int
    subscriptions: int
    posts: int
    strikes: int
    sent: int
    pending: int
    dropped: int


async def archive_counts(conn: aiosqlite.Connection) -> ArchiveCounts:
    """Chats, watches, posts, strike stories and alerts by outbox state, in one read."""
    async with conn.execute(
        """SELECT (SELECT count(*) FROM chats), (SELECT count(*) FROM chats WHERE active = 1),
                  (SELECT count(*) FROM subscriptions), (SELECT count(*) FROM posts),
                  (SELECT count(*) FROM stories WHERE is_strike = 1),
                  (SELECT count(*) FROM outbox WHERE status = 'sent'),
                  (SELECT count(*) FROM outbox WHERE status = 'pending'),
                  (SELECT count(*) FROM outbox WHERE status = 'dropped')"""
    ) as cursor:
        row = await cursor.fetchone()
    return ArchiveCounts(*(int(v or 0) for v in row)) if row else ArchiveCounts(0, 0, 0, 0, 0, 0, 0, 0)


# Tables whose size /metrics shows; a fixed set, so the names interpolated below are never input.
SIZED_TABLES = ("posts", "post_versions", "media", "stories")


async def table_sizes(db: Database) -> dict[str, int]:
    """Rows per table of SIZED_TABLES, as max(rowid) rather than count(*): O(1) on tables of
    millions of rows; deletions are rare."""
    sizes = {}
    for table in SIZED_TABLES:
        row = await db.fetchone(f"SELECT coalesce(max(rowid), 0) FROM {table}")
        sizes[table] = row[0] if row else 0
    return sizes


async def ping(db: Database) -> None:
    """The cheapest read: raises when the reader connection is wedged or the file gone."""
    await db.fetchone("SELECT 1")
