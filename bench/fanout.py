"""Alert fan-out: one alert to 10,000 subscribers of one oblast, through SendLimiter + BotAPI.

The fake Bot API (real HTTP on 127.0.0.1) answers 429 with retry_after above `--cap` sends in
any one-second window, as Telegram does above ~30 msg/s. Senders are `--workers` tasks taking
chats from a queue, each `await limiter.acquire(chat)` then sendMessage; a 429 pauses every
send for retry_after and the chat is retried.

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
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.api import BotAPI, BotAPIError, RetryAfter  # noqa: E402
from bot.format import AlertContent, format_alert  # noqa: E402
from bot.ratelimit import SendLimiter  # noqa: E402
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


async def run(
    subscribers: int, seconds: float, scale: float, workers: int, base_rate: float = 25.0
) -> dict[str, float]:
    """Send the alert to up to `subscribers` chats within `seconds`; return the measurements."""
    rate, cap = base_rate * scale, int(30 * scale)
    fake = FakeBotAPI()
    fake.max_per_second = cap
    text = format_alert(ALERT).text
    queue: asyncio.Queue[int] = asyncio.Queue()
    for chat in range(1, subscribers + 1):
        queue.put_nowait(1_000_000 + chat)
    limiter = SendLimiter(global_rate=rate, per_chat_interval=1.0)
    delivered = errors = 0

    with serve(fake.route) as server:
        limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            api = BotAPI(fake.token, api_url=server.url, client=client)
            deadline = time.monotonic() + seconds

            async def worker() -> None:
                nonlocal delivered, errors
                while time.monotonic() < deadline:
                    try:
                        chat = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        return
                    while True:
                        await limiter.acquire(chat)
                        try:
                            await api.send_message(chat, text)
                            delivered += 1
                        except RetryAfter as exc:
                            limiter.pause(exc.retry_after)
                            continue
                        except BotAPIError:
                            errors += 1
                        break

            started = time.monotonic()
            await asyncio.gather(*(worker() for _ in range(workers)))
            elapsed = time.monotonic() - started
        fake.close()

    stamps = sorted(m["at"] for m in fake.sent)
    span = (stamps[-1] - stamps[0]) if len(stamps) > 1 else elapsed
    return {
        "subscribers": subscribers,
        "delivered": delivered,
        "errors": errors,
        "elapsed": elapsed,
        "rate": (delivered - 1) / span if span > 0 else float(delivered),
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
