"""Alert fan-out: one alert to 10,000 subscribers of one oblast, through BotAPI and its SendLimiter.

The fake Bot API (real HTTP on 127.0.0.1) answers 429 with retry_after above 30 sends in any
one-second window, as Telegram does. The alert goes the production way: an archive with one
strike story and 10,000 queued outbox rows, drained by `bot.sender.AlertSender` (reading each
row's material, formatting, the limiter in BotAPI's send path, sendMessage, marking the row
sent) with `--workers` sends in flight.

Two runs: the baseline (the old fixed 25/s, for `--baseline-seconds`) and the configured rate
(`--rate`, `[bot] global_rate`'s default, adapting on 429). Printed: the sustained rate as a share of Telegram's
30/s, the 429 answers, and how long the last subscriber waited for the alert (measured when
all were reached within `--seconds`, else projected from the sustained rate). At the real
scale 10,000 messages take about 6 minutes: `--seconds 400` measures the whole fan-out;
`--scale K` multiplies rates and the cap by K.

    python bench/fanout.py [--subscribers 10000] [--seconds 30] [--scale 1] [--workers 32] [--rate 30]
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
    subscribers: int, seconds: float, scale: float, workers: int, base_rate: float = 30.0
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
            api = BotAPI(fake.token, api_url=server.url, client=client,
                         limiter=SendLimiter(global_rate=rate, per_chat_interval=1.0))
            sender = AlertSender(db, api, concurrency=workers)
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
    sustained = (len(stamps) - 1) / span if span > 0 else float(len(stamps))
    everyone = delivered == subscribers
    return {
        "subscribers": subscribers,
        "delivered": delivered,
        "errors": sender.failed,
        "elapsed": elapsed,
        "rate": sustained,
        "limit": rate,
        "cap": cap,
        "too_many": fake.too_many,
        "peak_window": max_in_window(stamps),
        # the last subscriber's wait from the start of the drain: measured, or projected
        "last_wait": (stamps[-1] - started) if everyone and stamps else subscribers / sustained,
        "measured": everyone,
    }


def _report(label: str, r: dict[str, float], scale: float, workers: int) -> None:
    complete = "all" if r["measured"] else f"{r['delivered']:,.0f} of"
    print(f"{label}: limiter {r['limit']:g}/s, fake API cap {r['cap']}/s (scale ×{scale:g}, {workers} workers)")
    print(f"  {complete} {r['subscribers']:,.0f} subscribers in {r['elapsed']:.1f} s; sustained {r['rate']:.1f} msg/s "
          f"= {100 * r['rate'] / r['cap']:.1f}% of {r['cap']}/s")
    print(f"  429 answers: {r['too_many']}; peak sends in any 1 s window: {r['peak_window']}; "
          f"other errors: {r['errors']}")
    how = "measured" if r["measured"] else "projected at the sustained rate"
    print(f"  the last subscriber waited {r['last_wait']:.0f} s ({how})")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=30.0, help="stop sending after this long")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply limiter rate and fake cap")
    parser.add_argument("--workers", type=int, default=32, help="concurrent senders")
    parser.add_argument("--rate", type=float, default=30.0, help="limiter global rate at scale 1 ([bot] global_rate)")
    parser.add_argument("--baseline-seconds", type=float, default=20.0, help="how long the baseline runs")
    args = parser.parse_args(argv)
    baseline = asyncio.run(run(args.subscribers, args.baseline_seconds, args.scale, args.workers, 25.0))
    _report("baseline (fixed 25/s, before)", baseline, args.scale, args.workers)
    r = asyncio.run(run(args.subscribers, args.seconds, args.scale, args.workers, args.rate))
    _report(f"now ({args.rate:g}/s, adapting on 429)", r, args.scale, args.workers)
    return 0 if r["too_many"] == 0 and r["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
