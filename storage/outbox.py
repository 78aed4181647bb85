"""The alert outbox: rows planned with the post, drained by the bot's sender."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from storage.database import Database, write_rows
from storage.timeutil import from_db, to_db, utcnow

__all__ = [
    "OutboxItem", "Backlog", "AlertPlan", "plan_alerts", "queue_alerts", "due_items", "expire_stale", "mark_sent", "mark_retry", "mark_dropped",
    "outbox_backlog",
]


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


@dataclass(frozen=True, slots=True)
class AlertPlan:
    """A story's revision for some chats; `published` is when the post that brought it was published."""

    chat_ids: list[int]
    story_id: int
    post_id: int
    revision: int
    published: datetime | None


async def plan_alerts(conn: aiosqlite.Connection, chat_ids: list[int], story_id: int, post_id: int, revision: int) -> int:
    """Queue the story for each chat (see `queue_alerts`); `post_id` is the post that brought
    this revision. Returns the number of rows queued."""
    async with conn.execute("SELECT published_at FROM posts WHERE id = ?", (post_id,)) as cursor:
        row = await cursor.fetchone()
    return await queue_alerts(conn, [AlertPlan(chat_ids, story_id, post_id, revision, from_db(row[0]) if row else None)])


async def queue_alerts(conn: aiosqlite.Connection, plans: list[AlertPlan]) -> int:
    """Queue each plan's story for its chats, once per (chat, story); a new revision re-queues a
    sent alert for editing. Plans apply in order, in one statement.

    Runs inside the transaction that stored the posts. Returns the number of rows queued.
    """
    now = utcnow()
    before = conn.total_changes
    rows = []
    for plan in plans:
        # A post dated in the future must not jump the queue for ever nor escape expiry: its
        # publication is the news' time, never later than now.
        news_at = to_db(min(plan.published, now) if plan.published else now)
        rows += [(chat_id, plan.story_id, plan.post_id, plan.revision, to_db(now), to_db(now), news_at)
                 for chat_id in plan.chat_ids]
    await write_rows(
        conn,
        """INSERT INTO outbox (chat_id, story_id, post_id, revision, created_at, queued_at, news_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (chat_id, story_id) DO UPDATE SET revision = excluded.revision,
               status = 'pending', attempts = 0, next_attempt_at = NULL,
               queued_at = excluded.queued_at, news_at = excluded.news_at
           WHERE excluded.revision > outbox.revision""",
        rows,
    )
    return conn.total_changes - before


async def due_items(db: Database, limit: int = 200) -> list[OutboxItem]:
    """Rows due now: first sends before edits (an edit changes a message already seen, silently),
    then the freshest news first, so a backlog never holds back a new strike. Read in the order
    of the `outbox_due` index: no sort, whatever the backlog."""
    rows = await db.fetchall(
        """SELECT o.id, o.chat_id, o.story_id, o.post_id, o.revision, o.sent_revision, o.message_id,
                  o.with_photo, o.attempts, c.language
           FROM outbox o JOIN chats c ON c.chat_id = o.chat_id
           WHERE o.status = 'pending' AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= ?)
           ORDER BY o.message_id IS NOT NULL, o.news_at DESC, o.id LIMIT ?""",
        (to_db(utcnow()), limit),
    )
    return [
        OutboxItem(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8], r[9]) for r in rows
    ]


async def expire_stale(db: Database, max_age: float) -> int:
    """Mark `expired` every pending alert whose news is older than `max_age` seconds (a backlog
    after an outage: old news is not worth a notification). Returns how many."""
    async with db.write() as conn:
        cursor = await conn.execute(
            # The IN over both halves of `outbox_due` (first sends, edits) makes this two index
            # range searches instead of a scan of the whole backlog on every drain.
            """UPDATE outbox SET status = 'expired', last_error = ?
               WHERE status = 'pending' AND (message_id IS NOT NULL) IN (0, 1) AND news_at < ?""",
            (f"not sent within alert_max_age ({max_age:g} s) of the news", to_db(utcnow() - timedelta(seconds=max_age))),
        )
        return cursor.rowcount


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


@dataclass(frozen=True, slots=True)
class Backlog:
    pending: int
    oldest_queued_at: datetime | None

    def oldest_wait(self, now: datetime | None = None) -> float:
        """Seconds the oldest pending alert has waited (0 when none is pending)."""
        if self.oldest_queued_at is None:
            return 0.0
        return max(0.0, ((now or utcnow()) - self.oldest_queued_at).total_seconds())


async def outbox_backlog(db: Database) -> Backlog:
    """How many alerts are pending and since when the oldest waits."""
    # Two subqueries: min() alone is one index lookup, where with count(*) it reads every row.
    row = await db.fetchone(
        """SELECT (SELECT count(*) FROM outbox WHERE status = 'pending'),
                  (SELECT min(queued_at) FROM outbox WHERE status = 'pending')"""
    )
    return Backlog(int(row[0]), from_db(row[1])) if row else Backlog(0, None)
