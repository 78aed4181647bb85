"""Alert fan-out: one alert to 10,000 subscribers of one oblast, through SendLimiter + BotAPI.

The fake Bot API (real HTTP on 127.0.0.1) answers 429 with retry_after above 30 sends in any
one-second window, as Telegram does. The alert goes the production way: an archive with one
strike story and 10,000 queued outbox rows, drained by `bot.sender.AlertSender` (reading each
row's material, formatting, `SendLimiter`, sendMessage/sendPhoto, marking the row sent) with
`--workers` sends in flight.

At the real scale (25/s limiter, 30/s cap) 10,000 messages take 400 s, so by default the run
stops after `--seconds` and reports what was delivered in that window. `--scale K` multiplies
the limiter rate and the cap by K (e.g. 10: 250/s vs 300/s) to push every chat through in one
run; the figures printed say which scale was measured.

    python bench/fanout.py [--subscribers 10000] [--seconds 30] [--scale 1] [--workers 32] [--rate 25]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.analyze import analyze  # noqa: E402
from bot.api import BotAPI  # noqa: E402
from bot.format import AlertContent  # noqa: E402
from bot.ratelimit import SendLimiter  # noqa: E402
from bot.sender import AlertSender  # noqa: E402
from collectors.base import RawPost  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.outbox import plan_alerts  # noqa: E402
from storage.posts import upsert_posts  # noqa: E402
from storage.sources import ensure_source  # noqa: E402
from storage.stories import open_story  # noqa: E402
from tests.fakes.botapi import FakeBotAPI  # noqa: E402
from tests.fakes.server import serve  # noqa: E402

__all__ = ["run", "main"]

ALERT = AlertContent(
    published_at=datetime(2024, 5, 1, 6, 40, tzinfo=UTC),
    source_url="https://t.me/dsns_telegram/123",
    source_name="ДСНС України",
    excerpt="Харківщина: внаслідок ракетного удару по Балаклії зруйновано приватний будинок. "
    "Загинула 1 людина, ще 8 — травмовані. Рятувальники ліквідували пожежу.",
    places=["Балаклія, Харківська обл."],
    oblasts=["Харківська обл."],
    weapons=["missile"],
    killed=1,
    injured=8,
)


def max_in_window(stamps: list[float], window: float = 1.0) -> int:
    """The most events in any sliding window of `window` seconds (what the fake's cap sees)."""
    best, start = 0, 0
    for end, t in enumerate(stamps):
        while stamps[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def _archive_with_subscribers(path: Path, subscribers: int) -> Database:
    """An archive holding one strike story and `subscribers` chats watching its oblast, all queued."""
    db = await Database.open(path)
    source = await ensure_source(db, "dsns_telegram", "telegram_web", None)
    post = RawPost(
        stream="dsns_telegram", external_id="123", url=ALERT.source_url,
        published_at=datetime.now(UTC), text=ALERT.excerpt,
    )
    async with db.write() as conn:
        (change,) = await upsert_posts(conn, source.id, [post])
        story = await open_story(conn, change.post.id, analyze(post.text), None)
        chats = [1_000_000 + n for n in range(1, subscribers + 1)]
        await conn.executemany(
            "INSERT INTO chats (chat_id, language, created_at) VALUES (?, 'uk', '2024-05-01T00:00:00Z')",
            [(chat,) for chat in chats],
        )
        await conn.executemany(
            "INSERT INTO subscriptions (chat_id, region, region_name, level, created_at) "
            "VALUES (?, 'UA-63', 'Харківська область', 'oblast', '2024-05-01T00:00:00Z')",
            [(chat,) for chat in chats],
        )
        await plan_alerts(conn, chats, story.id, change.post.id, story.revision)
    return db


async def run(
    subscribers: int, seconds: float, scale: float, workers: int, base_rate: float = 25.0
) -> dict[str, float]:
    """Drain the outbox of one story for `subscribers` chats through the real `AlertSender`
    (archive reads, formatting, limiter, Bot API over HTTP, marking rows sent) for `seconds`."""
    rate, cap = base_rate * scale, int(30 * scale)
    fake = FakeBotAPI()
    fake.max_per_second = cap
    with tempfile.TemporaryDirectory() as tmp, serve(fake.route) as server:
        db = await _archive_with_subscribers(Path(tmp) / "fanout.db", subscribers)
        limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            api = BotAPI(fake.token, api_url=server.url, client=client)
            sender = AlertSender(db, api, SendLimiter(global_rate=rate, per_chat_interval=1.0), concurrency=workers)
            started = time.monotonic()
            try:
                await asyncio.wait_for(sender.drain(), timeout=seconds)
            except TimeoutError:
                pass
            elapsed = time.monotonic() - started
        delivered = (await db.fetchone("SELECT count(*) FROM outbox WHERE status = 'sent'"))[0]
        await db.close()
        fake.close()

    stamps = sorted(m["at"] for m in fake.sent)
    span = (stamps[-1] - stamps[0]) if len(stamps) > 1 else elapsed
    return {
        "subscribers": subscribers,
        "delivered": delivered,
        "errors": sender.failed,
        "elapsed": elapsed,
        "rate": (len(stamps) - 1) / span if span > 0 else float(len(stamps)),
        "limit": rate,
        "cap": cap,
        "too_many": fake.too_many,
        "peak_window": max_in_window(stamps),
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=30.0, help="stop sending after this long")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply limiter rate and fake cap")
    parser.add_argument("--workers", type=int, default=32, help="concurrent senders")
    parser.add_argument("--rate", type=float, default=25.0, help="limiter global rate at scale 1")
    args = parser.parse_args(argv)
    r = asyncio.run(run(args.subscribers, args.seconds, args.scale, args.workers, args.rate))
    complete = "all" if r["delivered"] == r["subscribers"] else f"{r['delivered']:,.0f} of"
    print(
        f"fan-out at scale ×{args.scale:g}: {complete} {r['subscribers']:,.0f} subscribers "
        f"in {r['elapsed']:.1f} s ({args.workers} workers, real HTTP on 127.0.0.1)"
    )
    print(
        f"delivered {r['rate']:.1f} msg/s vs limiter {r['limit']:g}/s "
        f"({100 * r['rate'] / r['limit']:.0f}% of the limit); fake API cap {r['cap']}/s"
    )
    print(
        f"429 answers: {r['too_many']}; peak sends in any 1 s window: {r['peak_window']}; "
        f"other errors: {r['errors']}"
    )
    if r["delivered"] < r["subscribers"]:
        print(f"projected full fan-out at this rate: {r['subscribers'] / r['rate']:.0f} s")
    return 0 if r["too_many"] == 0 and r["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
