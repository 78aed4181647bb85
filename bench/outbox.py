"""The sender's outbox queries over a backlog of 100,000 pending alerts (an outage's aftermath).

Most rows wait for a retry, a tenth are due, a tenth are edits; one fresh strike is queued
last. Figures: `due_items` (one batch), `expire_stale` (nothing to expire, then a tenth),
`outbox_backlog`, and where the fresh strike comes in the send order. The baseline, in the same
run and archive, is the same `due_items` query without the `outbox_due` index (a sort of the
whole backlog per batch). Target (issue 18): a batch and the backlog figures in milliseconds,
the fresh strike first.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage.database import Database  # noqa: E402
from storage.outbox import due_items, expire_stale, outbox_backlog  # noqa: E402
from storage.timeutil import to_db, utcnow  # noqa: E402

N = 100_000


def fill(path: Path) -> None:
    now = utcnow()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = OFF")  # rows only: the stories and posts do not matter here
    conn.executemany(
        "INSERT INTO chats (chat_id, language, created_at) VALUES (?, 'uk', ?)", [(i, to_db(now)) for i in range(N + 1)]
    )
    rows = []
    for i in range(N):
        news = to_db(now - timedelta(minutes=20 + i % 100))  # an hour-long outage, all still fresh enough
        retry = None if i % 10 == 0 else to_db(now + timedelta(minutes=5))
        rows.append((i, i % 300, i % 300, 1, news, news, news, retry, 5 if i % 10 == 3 else None))
    rows.append((N, 999, 999, 1, to_db(now), to_db(now), to_db(now), None, None))  # the fresh strike, queued last
    conn.executemany(
        """INSERT INTO outbox (chat_id, story_id, post_id, revision, created_at, queued_at, news_at,
               next_attempt_at, message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        rows,
    )
    conn.commit()
    conn.close()


async def timed(fn: Callable[[], Awaitable[object]], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "archive.db"
        await (await Database.open(path)).close()
        fill(path)
        db = await Database.open(path)
        try:
            first = (await due_items(db, limit=1))[0]
            batch = await timed(lambda: due_items(db))
            backlog = await timed(lambda: outbox_backlog(db))
            nothing = await timed(lambda: expire_stale(db, 7200))
            started = time.perf_counter()
            expired = await expire_stale(db, 90 * 60)  # news from 90 to 119 minutes ago: 30 %
            some = (time.perf_counter() - started) * 1000
            async with db.write() as conn:
                await conn.execute("DROP INDEX outbox_due")
            baseline = await timed(lambda: due_items(db))
        finally:
            await db.close()
    print(f"outbox of {N:,} pending alerts (90 % waiting to retry, 10 % edits)")
    print(f"  fresh strike queued last comes first: {first.chat_id == N} (by id it was behind {N:,}: "
          f"~{N / 25 / 60:.0f} min at 25 sends/s)")
    print(f"  due_items (200):          {batch:8.1f} ms   baseline without outbox_due: {baseline:8.1f} ms "
          f"({baseline / batch:.0f}x)")
    print(f"  outbox_backlog:           {backlog:8.1f} ms")
    print(f"  expire_stale, none due:   {nothing:8.1f} ms")
    print(f"  expire_stale, {expired:,} rows: {some:8.1f} ms")


if __name__ == "__main__":
    asyncio.run(main())
