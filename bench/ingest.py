"""Ingest throughput: parse t.me/s pages + store through the archive, vs a bare executemany.

Generates 20,000 DSNS-style posts as real t.me/s pages (20 a page), then times
  1. parse_page + upsert_posts, one write transaction per page (what a poll does), and
  2. sqlite3 executemany of the same rows into a table of the same shape (the floor),
in the same run, and prints posts/s for both and their ratio.

    python bench/ingest.py [--posts N]
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collectors.base import RawPost  # noqa: E402
from collectors.telegram_web import parse_page  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.posts import text_hash, upsert_posts  # noqa: E402
from storage.sources import ensure_source  # noqa: E402
from tests.fakes.tme import PAGE_SIZE, FakeTelegram  # noqa: E402

BASE = "http://127.0.0.1:1"


def render_pages(count: int) -> list[str]:
    fake = FakeTelegram()
    fake.add_channel("dsns_telegram", "ДСНС України")
    fake.fill("dsns_telegram", count)
    pages: list[str] = []
    before: int | None = None
    while True:
        html = fake._render(fake._channel("dsns_telegram"), before, BASE)  # noqa: SLF001
        posts = parse_page(html, BASE)
        if not posts:
            return pages[::-1]
        pages.append(html)
        before = posts[0].id
        if before <= 1:
            return pages[::-1]


async def archive_run(pages: list[str], path: Path) -> tuple[float, int]:
    db = await Database.open(path)
    source = await ensure_source(db, "dsns_telegram", "telegram_web", None)
    stored = 0
    started = time.perf_counter()
    for html in pages:
        posts = [p.to_raw() for p in parse_page(html, BASE)]
        async with db.write() as conn:
            stored += len(await upsert_posts(conn, source.id, posts))
    elapsed = time.perf_counter() - started
    await db.close()
    return elapsed, stored


def baseline_run(rows: list[RawPost], path: Path) -> float:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        """CREATE TABLE posts (id INTEGER PRIMARY KEY, stream TEXT, external_id TEXT, url TEXT,
           published_at TEXT, text TEXT, text_hash TEXT, views INTEGER, UNIQUE (stream, external_id))"""
    )
    started = time.perf_counter()
    with conn:
        conn.executemany(
            "INSERT INTO posts (stream, external_id, url, published_at, text, text_hash, views) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(p.stream, p.external_id, p.url, str(p.published_at), p.text, text_hash(p.title, p.text), p.views) for p in rows],
        )
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20_000)
    args = parser.parse_args()
    pages = render_pages(args.posts)
    rows = [p.to_raw() for html in pages for p in parse_page(html, BASE)]
    with tempfile.TemporaryDirectory() as tmp:
        ours, stored = asyncio.run(archive_run(pages, Path(tmp) / "archive.db"))
        floor = baseline_run(rows, Path(tmp) / "bare.db")
    n = len(rows)
    print(f"posts: {n} in {len(pages)} pages of {PAGE_SIZE}; stored {stored}")
    print(f"parse + store (archive, a transaction per page): {n / ours:10.0f} posts/s  ({ours:.2f} s)")
    print(f"bare sqlite3 executemany, one transaction:        {n / floor:10.0f} posts/s  ({floor:.2f} s)")
    print(f"ratio archive/bare: {floor / ours:.3f}")


if __name__ == "__main__":
    main()
