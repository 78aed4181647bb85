"""The daemon's resident memory after a day's posts.

Imports what `dsns-monitor run` imports (the daemon, its ops services, the bot), opens the app on
a fresh archive with 26 t.me channels (the national one and 25 regional ones) and 500 subscribed
chats, then runs a simulated day through the pipeline: ~3,000 real-length DSNS posts (bench/
search.py's generator, ~800 characters, dated over a fixed day) parsed from t.me/s pages and
ingested poll by poll (store, analyse, stories, outbox), as the daemon's polls would.
The archive's clock stands at the day's end, so every run stores the same stories and alerts.
The texts are made in a child process: the generator's word forms are not the daemon's memory.
Prints the resident set (VmRSS, and its peak VmHWM) at each stage and, with `--trace`, the
largest Python allocations still held at the end (tracemalloc, grouped by file).

    python bench/daemon_memory.py [--posts 3000] [--trace]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import random
import sqlite3
import sys
import tempfile
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

GOAL_MB = 150
BASE = "http://127.0.0.1:1"
CHATS = 500
# The simulated day: its posts' dates, and the archive's clock (`storage.timeutil.utcnow`) held at
# its end. On the wall clock the posts' local hours, so their stories, and which of them are
# within alert_max_age moved from run to run (6,414-6,932 alerts seen).
DAY_END = datetime(2026, 3, 14, 18, 0, tzinfo=UTC)
DAY_START = DAY_END - timedelta(hours=24)


class DayEndClock(datetime):
    """`datetime` for `storage.timeutil`, whose `now` is the simulated day's end."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:
        return DAY_END.astimezone(tz)


def status() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB."""
    values = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def report(stage: str) -> float:
    rss, peak = status()
    print(f"{stage:<44} RSS {rss:6.1f} MB  (peak {peak:6.1f} MB)", flush=True)
    return rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--trace", action="store_true", help="list the largest allocations held (slower)")
    args = parser.parse_args()
    if args.trace:
        tracemalloc.start(1)
    report("interpreter")
    import monitor.cli.main  # noqa: F401, PLC0415 - the console script's module, imported first as `run` does
    import bot.api  # noqa: F401, PLC0415 - what `run` imports with a bot token set
    import bot.service  # noqa: F401, PLC0415
    import monitor.daemon  # noqa: F401, PLC0415
    import monitor.ops  # noqa: F401, PLC0415

    report("daemon imported")
    import storage.timeutil  # noqa: PLC0415

    # Not unittest.mock: its imports (~1 MB) would be counted as the daemon's.
    storage.timeutil.datetime = DayEndClock  # type: ignore[misc]
    asyncio.run(simulate(args.posts))
    gc.collect()
    rss = report(f"after a day ({args.posts:,} posts)")
    print(f"goal {GOAL_MB} MB: {'met' if rss <= GOAL_MB else 'NOT met'}")
    print("modules loaded:", ", ".join(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in (
        "telethon", "matplotlib", "scipy", "numpy", "datasketch", "datasette", "PIL", "rich", "pymorphy3")})))
    if args.trace:
        snapshot = tracemalloc.take_snapshot()
        stats = snapshot.statistics("filename")
        print(f"Python allocations held: {sum(s.size for s in stats) / 2**20:.1f} MB; largest by file:")
        for stat in stats[:15]:
            print(f"  {stat.size / 2**20:7.1f} MB  {stat.traceback[0].filename}")


def day_texts(count: int) -> list[str]:
    """The day's post texts, made in a fresh interpreter: the generator's word forms (research.query's
    caches, pymorphy3's readings of every place name) would stay in this one, ~7 MB the daemon never holds."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(make_texts, count).result()


def make_texts(count: int) -> list[str]:
    from search import Places, make_post  # noqa: PLC0415

    places = Places(random.Random(19))
    return [make_post(n, places, DAY_START)[0][4] for n in range(count)]


async def simulate(count: int) -> None:
    from analysis.gazetteer import get_gazetteer  # noqa: PLC0415
    from collectors.base import FetchResult  # noqa: PLC0415
    from collectors.telegram_web import parse_page  # noqa: PLC0415
    from monitor.app import open_app  # noqa: PLC0415
    from monitor.config import load_config  # noqa: PLC0415
    from monitor.ops.memory import release_freed_memory  # noqa: PLC0415
    from tests.fakes.tme import FakeTelegram  # noqa: PLC0415

    oblasts = sorted(get_gazetteer().oblasts(), key=lambda o: o.code)
    channels = ["dsns_telegram"] + [f"dsns_{o.code.lower().replace('-', '_')}" for o in oblasts][:25]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config_path = folder / "config.toml"
        config_path.write_text(f'[storage]\ndatabase = "{folder / "archive.db"}"\n\n' + "".join(
            f'[[sources]]\ntype = "telegram_web"\nchannel = "{c}"\nbase_url = "{BASE}"\n\n' for c in channels))
        config = load_config(config_path)
        async with open_app(config) as app:
            subscribe(folder / "archive.db", [o.code for o in oblasts])
            release_freed_memory()  # as the daemon does once started
            report("app open, archive migrated")
            texts = day_texts(count)
            sources = {s.source_name: s for s in config.sources}
            polls = 0
            # Each channel is read a page at a time, oldest first, as polls through the day would;
            # its pages are made just before (the fake t.me is not the daemon's memory).
            for index, channel in enumerate(channels):
                fake = FakeTelegram()
                fake.add_channel(channel)
                for n in range(index, count, len(channels)):
                    fake.post(channel, texts[n], date=DAY_START + timedelta(seconds=86400 * n // count))
                source = sources[channel]
                state = await app.pipeline.source_state(source)
                ids = sorted(fake._channel(channel).messages)  # noqa: SLF001
                for first in range(0, len(ids), 20):
                    before = ids[first + 20] if first + 20 < len(ids) else None
                    html = fake._render(fake._channel(channel), before, BASE)  # noqa: SLF001
                    page = [p for p in parse_page(html, BASE) if p.id >= ids[first]]
                    await app.pipeline.ingest(source, state, FetchResult(posts=[p.to_raw() for p in page]))
                    release_freed_memory()  # as the daemon's job does after a poll that stored posts
                    polls += 1
            del fake, texts
            stored = (await app.db.fetchone("SELECT count(*) FROM posts"))[0]
            stories = (await app.db.fetchone("SELECT count(*) FROM stories"))[0]
            queued = (await app.db.fetchone("SELECT count(*) FROM outbox"))[0]
            gc.collect()
            report(f"{polls} polls: {stored} posts, {stories} stories, {queued} alerts")


def subscribe(path: Path, oblasts: list[str]) -> None:
    rng = random.Random(20)
    conn = sqlite3.connect(path)
    with conn:
        now = "2025-01-01T00:00:00Z"
        conn.executemany("INSERT INTO chats (chat_id, created_at) VALUES (?, ?)", [(c, now) for c in range(1, CHATS + 1)])
        conn.executemany(
            "INSERT INTO subscriptions (chat_id, region, region_name, level, created_at) VALUES (?, ?, ?, 'oblast', ?)",
            [(c, o, o, now) for c in range(1, CHATS + 1) for o in rng.sample(oblasts, rng.randint(1, 3))],
        )
    conn.close()


if __name__ == "__main__":
    main()
