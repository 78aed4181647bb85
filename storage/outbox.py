"""The alert outbox: rows planned with the post, drained by the bot's sender."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from storage.chat_settings import DEFAULT_SETTINGS, ChatSettings
from storage.database import Database, Statements, multi_row, write_batch
from storage.timeutil import from_db, to_db, utcnow

__all__ = [
    "OutboxItem", "Backlog", "AlertPlan", "plan_alerts", "queue_alerts", "due_items", "expire_stale", "mark_sent",
    "mark_retry", "mark_dropped", "mark_held", "mark_digested", "held_items", "outbox_backlog", "LATE_AFTER",
    "OBLAST_RANK", "alert_statements",
]

# A new post this many seconds after a chat's last notified alert of the story notifies again.
LATE_AFTER = 3 * 3600.0
# `outbox.rank` of a subscription to the whole oblast (the least specific).
OBLAST_RANK = 3


# not frozen: a drain builds hundreds at a time, and a frozen dataclass costs several times more to build
@dataclass(slots=True)
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
    rank: int = OBLAST_RANK
    first_message_id: int | None = None
    alerted_at: datetime | None = None
    news_at: datetime | None = None
    queued_at: datetime | None = None
    settings: ChatSettings = DEFAULT_SETTINGS


@dataclass(frozen=True, slots=True)
class AlertPlan:
    """A story's revision for some chats: `chats` maps chat → rank (how specific its subscription
    is, 0 settlement … `OBLAST_RANK`); `published` is when the post that brought it was published."""

    chats: Mapping[int, int]
    story_id: int
    post_id: int
    revision: int
    published: datetime | None


async def plan_alerts(
    conn: aiosqlite.Connection, chats: Mapping[int, int] | Sequence[int], story_id: int, post_id: int, revision: int,
    *, late_after: float = LATE_AFTER,
) -> int:
    """Queue the story for each chat (see `queue_alerts`); `chats`: chat → rank (`OBLAST_RANK`
    when a plain list). `post_id` is the post that brought this revision: its publication time is
    the news' time. Returns the number of rows queued."""
    ranks = chats if isinstance(chats, Mapping) else dict.fromkeys(chats, OBLAST_RANK)
    async with conn.execute("SELECT published_at FROM posts WHERE id = ?", (post_id,)) as cursor:
        row = await cursor.fetchone()
    return await queue_alerts(
        conn, [AlertPlan(ranks, story_id, post_id, revision, from_db(row[0]) if row else None)], late_after=late_after
    )


async def queue_alerts(
    conn: aiosqlite.Connection, plans: list[AlertPlan], *, late_after: float = LATE_AFTER,
    settled: Mapping[int, int] | None = None,
) -> int:
    """Queue each plan's story for its chats, once per (chat, story); a new revision re-queues a
    sent alert (to be edited, or followed by a new message), and so does a new post `late_after`
    seconds or more after the chat was last notified of the story. A chat keeps the rank of its
    most specific subscription. Plans apply in order, in one statement.

    `settled`: story id → a revision no outbox row of the story is above (the story's stored
    revision when the transaction began, 0 for a story it opened). A plan above it surely
    inserts or updates each chat's row, which is pending from then on, so what the story's
    later plans do to that row is known without reading it: they fold into it, one row per
    chat where a page's posts of a growing story would make several.

    Runs inside the transaction that stored the posts. Returns the number of rows queued.
    """
    statements, folded = alert_statements(plans, late_after=late_after, settled=settled)
    return sum(await write_batch(conn, statements)) + folded


def alert_statements(
    plans: list[AlertPlan], *, late_after: float = LATE_AFTER, settled: Mapping[int, int] | None = None,
) -> tuple[Statements, int]:
    """The writes of `queue_alerts` (for a caller that sends them with others: `write_batch`) and
    how many updates were folded into their rows; the rows they change plus those are what
    `queue_alerts` counts as queued."""
    now = utcnow()
    queued = to_db(now)  # once: a page's plans make tens of thousands of rows for a few hundred chats
    settled = settled or {}
    rows: list[Sequence[object]] = []
    pending: dict[int, dict[int, list[object]]] = {}  # story -> chat -> its row since a plan surely queued it
    folded = 0  # the updates folded into those rows
    for plan in plans:
        # A post dated in the future must not jump the queue for ever nor escape expiry: its
        # publication is the news' time, never later than now.
        news_at = to_db(min(plan.published, now) if plan.published else now)
        story_id, revision, post_id = plan.story_id, plan.revision, plan.post_id
        if revision <= settled.get(story_id, revision):
            # Maybe no change: only the upsert knows, each chat's row goes to it. (A row a sure
            # plan queued before is pending at a higher revision: the upsert leaves it.)
            rows += [(chat_id, story_id, post_id, revision, queued, queued, news_at, rank)
                     for chat_id, rank in plan.chats.items()]
            continue
        held = pending.setdefault(story_id, {})
        for chat_id, rank in plan.chats.items():
            row = held.get(chat_id)
            if row is None:
                held[chat_id] = row = [chat_id, story_id, post_id, revision, queued, queued, news_at, rank]
                rows.append(row)
            elif revision > row[3]:  # type: ignore[operator]
                # What the upsert does to a pending row; one of the same revision changes nothing.
                row[2], row[3], row[6], row[7] = post_id, revision, news_at, min(row[7], rank)  # type: ignore[type-var]
                folded += 1
    # Multi-row statements (`multi_row`), which apply their rows in order as one a row would.
    sql = f"""INSERT INTO outbox (chat_id, story_id, post_id, revision, created_at, queued_at, news_at, rank)
           VALUES {{values}}
           ON CONFLICT (chat_id, story_id) DO UPDATE SET revision = excluded.revision,
               post_id = excluded.post_id, status = 'pending', attempts = 0, next_attempt_at = NULL,
               queued_at = excluded.queued_at, news_at = excluded.news_at, rank = min(rank, excluded.rank)
           WHERE excluded.revision > outbox.revision
              OR (outbox.status = 'sent' AND excluded.news_at
                  >= strftime('%Y-%m-%dT%H:%M:%SZ', outbox.alerted_at, '+{float(late_after):.0f} seconds'))"""
    return multi_row(sql, rows), folded


_ITEM = """SELECT o.id, o.chat_id, o.story_id, o.post_id, o.revision, o.sent_revision, o.message_id,
                  o.with_photo, o.attempts, c.language, o.rank, o.first_message_id, o.alerted_at, o.news_at,
                  o.queued_at, s.quiet_from, s.quiet_to, s.digest_at, s.break_local, s.break_killed
           FROM outbox o JOIN chats c ON c.chat_id = o.chat_id LEFT JOIN chat_settings s ON s.chat_id = o.chat_id"""


def _item(r: aiosqlite.Row) -> OutboxItem:
    # no settings row (break_local is NOT NULL in one): the defaults
    settings = DEFAULT_SETTINGS if r[18] is None else ChatSettings(r[15], r[16], r[17], bool(r[18]), bool(r[19]))
    return OutboxItem(
        r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), r[8], r[9], r[10], r[11], from_db(r[12]),
        from_db(r[13]), from_db(r[14]), settings,
    )


async def due_items(db: Database, limit: int = 200) -> list[OutboxItem]:
    """Rows due now: first sends before edits (an edit changes a message already seen, silently),
    then the most specific subscriptions (settlement, hromada, raion, oblast), then the freshest
    news first, so a backlog never holds back a new strike. Read in the order of the `outbox_due`
    index: no sort, whatever the backlog."""
    rows = await db.fetchall(
        _ITEM + """ WHERE o.status = 'pending' AND (o.next_attempt_at IS NULL OR o.next_attempt_at <= ?)
           ORDER BY o.message_id IS NOT NULL, o.rank, o.news_at DESC, o.id LIMIT ?""",
        (to_db(utcnow()), limit),
    )
    return [_item(r) for r in rows]


async def held_items(db: Database) -> list[OutboxItem]:
    """Alerts held for morning digests, by chat, most specific and newest first."""
    rows = await db.fetchall(_ITEM + " WHERE o.status = 'held' ORDER BY o.chat_id, o.rank, o.news_at DESC")
    return [_item(r) for r in rows]


async def expire_stale(db: Database, max_age: float) -> int:
    """Mark `expired` every pending alert whose news is older than `max_age` seconds (a backlog
    after an outage: old news is not worth a notification). Returns how many."""
    async with db.write() as conn:
        cursor = await conn.execute(
            # The INs over the leading columns of `outbox_due` (first sends or edits, and the four
            # ranks) make this eight index range searches instead of a scan of the whole backlog
            # on every drain.
            """UPDATE outbox SET status = 'expired', last_error = ?
               WHERE status = 'pending' AND (message_id IS NOT NULL) IN (0, 1) AND rank IN (0, 1, 2, 3)
                 AND news_at < ?""",
            (f"not sent within alert_max_age ({max_age:g} s) of the news", to_db(utcnow() - timedelta(seconds=max_age))),
        )
        return cursor.rowcount


async def mark_sent(
    db: Database, item: OutboxItem, message_id: int | None, with_photo: bool, *, notified: bool = False
) -> None:
    """The row's revision reached the chat: in message `message_id` (None: the one it has), with
    sound when `notified` (a first alert, or a new message on a change that matters)."""
    async with db.write() as conn:
        # A newer revision may have been planned while this one was in flight: stay pending then.
        now = to_db(utcnow())
        await conn.execute(
            """UPDATE outbox SET sent_revision = ?, message_id = COALESCE(?, message_id),
                   first_message_id = COALESCE(first_message_id, ?), alerted_at = CASE WHEN ? THEN ? ELSE alerted_at END,
                   with_photo = ?, sent_at = ?, last_error = NULL,
                   status = CASE WHEN revision > ? THEN 'pending' ELSE 'sent' END
               WHERE id = ?""",
            (item.revision, message_id, message_id, int(notified), now, int(with_photo), now, item.revision, item.id),
        )


async def mark_held(db: Database, item: OutboxItem) -> None:
    """Keep the alert for the chat's morning digest (a newer revision makes it pending again)."""
    async with db.write() as conn:
        await conn.execute("UPDATE outbox SET status = 'held' WHERE id = ? AND revision = ?", (item.id, item.revision))


async def mark_digested(db: Database, items: Sequence[OutboxItem]) -> None:
    """The held alerts went out in a digest: as sent. A first alert held has no message, so a later
    change of the story comes as a new alert; a held update keeps its (already edited) message."""
    async with db.write() as conn:
        await conn.executemany(
            """UPDATE outbox SET status = 'sent', sent_revision = revision, sent_at = ?
               WHERE id = ? AND status = 'held'""",
            [(to_db(utcnow()), item.id) for item in items],
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
