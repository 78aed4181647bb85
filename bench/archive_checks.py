"""What whole-archive work costs on a large archive: `PRAGMA quick_check` (run by the daemon at
start and daily) and a `VACUUM INTO` copy (what `serve` would pay at every start to publish a
copy without the bot's tables; it uses a SQLite authorizer instead, which costs nothing at start).

Builds an archive of N posts (a transaction per 20, as polls store them) with M stored photos,
then times, in the same run and on the same (warm) file:
  1. reading the file's bytes start to end (the floor for anything O(size)),
  2. PRAGMA quick_check on a connection of its own, as `Database.quick_check` runs it,
  3. VACUUM INTO a new file.

    python bench/archive_checks.py [--posts N] [--photos M] [--photo-kb K]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from collectors.base import RawPost  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.media import pending_media, store_media  # noqa: E402
from storage.posts import upsert_posts  # noqa: E402
from storage.sources import ensure_source  # noqa: E402

PLACES = ("Харківщина", "Дніпропетровщина", "Запоріжжя", "Одещина", "Сумщина", "Київ", "Херсонщина")
EVENTS = ("ракетного удару", "атаки ударних БпЛА", "артилерійського обстрілу", "падіння уламків")


def post(number: int, photos: bool, start: datetime) -> RawPost:
    rng = random.Random(number)
    text = (
        f"{rng.choice(PLACES)}: внаслідок {rng.choice(EVENTS)} пошкоджено {rng.randint(1, 40)} будинків "
        f"та об'єкт інфраструктури. Загинули {rng.randint(0, 5)} людини, ще {rng.randint(0, 30)} травмовані. "
        "Рятувальники ліквідували пожежу на площі " + str(rng.randint(10, 3000)) + " кв. м. "
        "Тривають аварійно-рятувальні роботи, на місці працюють психологи ДСНС. " * rng.randint(1, 4)
    )
    return RawPost(
        stream="dsns_telegram", external_id=str(number), url=f"https://t.me/dsns_telegram/{number}",
        published_at=start + timedelta(minutes=17 * number), text=text,
        photos=(f"https://cdn.example/{number}.jpg",) if photos else (), views=rng.randint(100, 90_000),
    )


async def build(path: Path, posts: int, photos: int, photo_kb: int) -> None:
    db = await Database.open(path)
    try:
        source = await ensure_source(db, "dsns_telegram", "telegram_web", None)
        start = datetime(2023, 1, 1, tzinfo=UTC)
        every = max(1, posts // photos) if photos else posts + 1
        for first in range(1, posts + 1, 20):
            batch = [post(n, n % every == 0, start) for n in range(first, min(first + 20, posts + 1))]
            async with db.write() as conn:
                await upsert_posts(conn, source.id, batch)
        while items := await pending_media(db, limit=500):
            for item in items:
                await store_media(db, item, os.urandom(photo_kb * 1024), "image/jpeg")
    finally:
        await db.close()


def read_all(path: Path) -> float:
    started = time.perf_counter()
    with path.open("rb") as file:
        while file.read(1 << 20):
            pass
    return time.perf_counter() - started


async def quick_check(path: Path) -> tuple[float, list[str]]:
    db = await Database.open(path, read_only=True)
    try:
        started = time.perf_counter()
        problems = await db.quick_check()
        return time.perf_counter() - started, problems
    finally:
        await db.close()


def vacuum_into(path: Path, target: Path) -> float:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        started = time.perf_counter()
        conn.execute("VACUUM INTO ?", (str(target),))
        return time.perf_counter() - started
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--photos", type=int, default=3_000)
    parser.add_argument("--photo-kb", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "archive.db"
        started = time.perf_counter()
        asyncio.run(build(path, args.posts, args.photos, args.photo_kb))
        built = time.perf_counter() - started
        size = path.stat().st_size + Path(f"{path}-wal").stat().st_size if Path(f"{path}-wal").exists() else path.stat().st_size
        floor = read_all(path)
        check, problems = asyncio.run(quick_check(path))
        copy = vacuum_into(path, Path(tmp) / "copy.db")
    mb = size / 1e6
    print(f"archive: {args.posts} posts, {args.photos} photos of {args.photo_kb} KB: {mb:.0f} MB (built in {built:.0f} s)")
    print(f"read the file (floor):  {floor:6.2f} s  {mb / floor:8.0f} MB/s")
    print(f"PRAGMA quick_check:     {check:6.2f} s  {mb / check:8.0f} MB/s  ({'ok' if not problems else problems[:2]})")
    print(f"VACUUM INTO a copy:     {copy:6.2f} s  {mb / copy:8.0f} MB/s")
    print(f"ratio quick_check/floor: {check / floor:.1f}   VACUUM INTO/floor: {copy / floor:.1f}")


if __name__ == "__main__":
    main()
