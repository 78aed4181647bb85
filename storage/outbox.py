"""The alert outbox: rows planned with the post, drained by the bot's sender."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import aiosqlite

from storage.database import Database
from storage.timeutil import to_db, utcnow

__all__ = ["OutboxItem", "plan_alerts", "due_items", "mark_sent", "mark_retry", "mark_dropped", "outbox_depth"]


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    chat_id: int
    story_id: int
    post_id: int
    revision: int
    sent_revision: int | None
    message_id: int | None
    with_photo: bool
    attempts: int
    language: str


async def plan_alerts(conn: aiosqlite.Connection, chat_ids: list[int], story_id: int, post_id: int, revision: int) -> int:
    """Queue the story for each chat, once per (chat, story); a new revision re-queues a sent alert for editing.

    Runs inside the transaction that stored the post. Returns the number of rows queued.
    """
    now = to_db(utcnow())
    before = conn.total_changes
    await conn.executemany(
        """INSERT INTO outbox (chat_id, story_id, post_id, revision, created_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (chat_id, story_id) DO UPDATE SET revision = excluded.revision,
               status = 'pending', attempts = 0, next_attempt_at = NULL
           WHERE excluded.revision > outbox.revision""",
        [(chat_id, story_id, post_id, revision, now) for chat_id in chat_ids],
    )
    return conn.total_changes - before


async def due_items(db: Database, limit: int = 200) -> list[OutboxItem]:
    rows = await db.fetchall(
        """SELECT o.id, o.chat_id, o.story_id, o.post_id, o.revision, o.sent_revision, o.message_id,
                  o.with_photo, o.attempts, c.language
           FROM outbox o JOIN chats c ON c.chat_id = o.chat_id
           WHERE o.status = 'pending' AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= ?)
           ORDER BY o.id LIMIT ?""",
        (to_db(utcnow()), limit),
    )
    return [
        OutboxItem(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8], r[9]) for r in rows
    ]


async def mark_sent(db: Database, item: OutboxItem, message_id: int | None, with_photo: bool) -> None:
    async with db.write() as conn:
        # A newer revision may have been planned while this one was in flight: stay pending then.
        await conn.execute(
            """UPDATE outbox SET sent_revision = ?, message_id = COALESCE(?, message_id),
                   with_photo = ?, sent_at = ?, last_error = NULL,
                   status = CASE WHEN revision > ? THEN 'pending' ELSE 'sent' END
               WHERE id = ?""",
            (item.revision, message_id, int(with_photo), to_db(utcnow()), item.revision, item.id),
        )


async def mark_retry(db: Database, item: OutboxItem, error: str, delay: float, *, count: bool = True) -> None:
    """Try again after `delay` seconds; `count=False` when nothing failed (just not ready)."""
    async with db.write() as conn:
        await conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
            (error if count else None, to_db(utcnow() + timedelta(seconds=delay)), item.id),
        )


async def mark_dropped(db: Database, item: OutboxItem, error: str) -> None:
    async with db.write() as conn:
        await conn.execute(
            "UPDATE outbox SET status = 'dropped', attempts = attempts + 1, last_error = ? WHERE id = ?",
            (error, item.id),
        )


async def outbox_depth(db: Database) -> int:
    row = await db.fetchone("SELECT count(*) FROM outbox WHERE status = 'pending'")
    return int(row[0]) if row else 0
