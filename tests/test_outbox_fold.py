"""A page's alert plans folded per chat leave the outbox as the plans applied one by one do."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from storage.database import Database
from storage.outbox import AlertPlan, queue_alerts
from storage.sources import ensure_source
from storage.timeutil import to_db, utcnow

CHATS = range(1, 6)
# Story 1 was stored at revision 3 (its sent and pending rows at most that); story 2 is opened by the page.
SETTLED = {1: 3, 2: 0}
_COLUMNS = "id, chat_id, story_id, post_id, revision, status, attempts, next_attempt_at, news_at, rank, sent_revision"


async def test_folded_plans_leave_the_rows_and_counts_that_plans_one_by_one_do(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "archive.db")
    try:
        source = await ensure_source(db, "bench", "rss", None)
        now = utcnow()
        rng = random.Random(5)
        async with db.write() as conn:
            await conn.executemany("INSERT INTO chats (chat_id, created_at) VALUES (?, ?)", [(c, to_db(now)) for c in CHATS])
            await conn.executemany(
                """INSERT INTO posts (stream, external_id, source_id, published_at, text, text_hash, first_seen_at, updated_at)
                   VALUES ('s', ?, ?, ?, 't', 'h', ?, ?)""",
                [(str(n), source.id, to_db(now), to_db(now), to_db(now)) for n in range(1, 9)],
            )
            await conn.executemany(
                """INSERT INTO stories (id, is_strike, oblasts, places, weapons, first_post_id, first_seen_at, last_seen_at,
                       revision, features) VALUES (?, 1, '[]', '[]', '[]', 1, ?, ?, ?, '[]')""",
                [(story, to_db(now), to_db(now), revision) for story, revision in SETTLED.items()],
            )
            for _ in range(150):
                await conn.execute("SAVEPOINT scenario")
                # What the bot left of story 1: pending or sent rows, notified long ago, lately or never.
                await conn.executemany(
                    """INSERT INTO outbox (chat_id, story_id, post_id, revision, status, created_at, queued_at, news_at,
                           alerted_at, rank) VALUES (?, 1, 1, ?, ?, ?, ?, ?, ?, ?)""",
                    [(chat, rng.randint(1, SETTLED[1]), rng.choice(["pending", "sent"]), to_db(now), to_db(now),
                      to_db(now - timedelta(hours=5)), rng.choice([None, to_db(now - timedelta(hours=rng.choice([1, 6])))]),
                      rng.randrange(4))
                     for chat in CHATS if rng.random() < 0.6],
                )
                revisions = dict(SETTLED)
                plans = []
                for _ in range(rng.randint(2, 8)):
                    story = rng.choice([1, 2])
                    if rng.random() < 0.5 or revisions[story] == 0:
                        revisions[story] += 1  # the post changed the story
                    chats = {c: rng.randrange(4) for c in CHATS if rng.random() < 0.7}
                    published = now - timedelta(hours=rng.choice([0, 2, 4]), minutes=rng.randrange(60))
                    plans.append(AlertPlan(chats, story, rng.randint(1, 8), revisions[story], published))
                await conn.execute("SAVEPOINT plans")
                queued = await queue_alerts(conn, plans, settled=SETTLED)
                folded = await conn.execute_fetchall(f"SELECT {_COLUMNS} FROM outbox ORDER BY id")
                await conn.execute("ROLLBACK TO plans")
                one_by_one = [await queue_alerts(conn, [plan]) for plan in plans]
                assert await conn.execute_fetchall(f"SELECT {_COLUMNS} FROM outbox ORDER BY id") == folded
                assert queued == sum(one_by_one)
                await conn.execute("ROLLBACK TO scenario")
                await conn.execute("RELEASE scenario")
    finally:
        await db.close()
