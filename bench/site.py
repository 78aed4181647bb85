"""Time to render the public site from an archive of 20,000 strike stories, whole and after a poll.

Builds (once, cached in /tmp) an archive of N strike stories over 200 days, each with one to
three posts of DSNS length, its places (a town and its oblast), weapons, figures and their
revisions, written with bulk inserts; then, on a copy:
- full: `Site.render_all()` into an empty folder (every story page in two languages, 27 oblast
  pages and feeds per language, the front pages, events.csv/.geojson, stories.json);
- after a poll: five new posts stored and clustered by the real story code (three new stories,
  two joining and raising an existing story's figures), then `Site.render_changes()`.
Beside them, as the baseline of the same run: reading every story (`iter_stories`) alone.
Aims: full < 60 s, after a poll < 2 s, largest page < 200 kB.

    python bench/site.py [--stories N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.analyze import analyze  # noqa: E402
from analysis.gazetteer import get_gazetteer  # noqa: E402
from collectors.base import RawPost  # noqa: E402
from monitor.config import Config, SiteConfig  # noqa: E402
from monitor.planner import StoryPlanner  # noqa: E402
from research.site import Site  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.posts import upsert_posts  # noqa: E402
from storage.research import iter_stories  # noqa: E402
from storage.sources import ensure_source  # noqa: E402
from storage.timeutil import to_db  # noqa: E402

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WEAPONS = ["missile", "drone", "artillery", "guided_bomb", "fpv", "mlrs"]
FILLER = ("Рятувальники ліквідували пожежу, на місці працюють усі екстрені служби. Пошкоджено житлові "
          "будинки, автомобілі та обʼєкти інфраструктури. Триває обстеження території. ") * 4


def towns(count: int) -> list[tuple[str, str, str]]:
    g = get_gazetteer()
    big = sorted((u for u in g.units.values() if u.level == "settlement" and u.population > 5_000 and u.lat),
                 key=lambda u: -u.population)
    return [(u.name_uk, u.code, u.oblast) for u in big[:count]]


async def fill(db: Database, stories: int) -> None:
    rng = random.Random(1)
    places = towns(400)
    g = get_gazetteer()
    source = await ensure_source(db, "dsns_telegram", "telegram_web", "https://t.me/s/dsns_telegram")
    post_id = 0
    async with db.write() as conn:
        # Posts name their stories and stories their first posts: checked at commit.
        await conn.execute("PRAGMA defer_foreign_keys = ON")
        for start in range(0, stories, 2_000):
            posts, rows, revisions = [], [], []
            for n in range(start, min(start + 2_000, stories)):
                at = NOW - timedelta(days=200) + timedelta(minutes=n * 200 * 1440 / stories)
                name, code, oblast = rng.choice(places)
                oblast_unit = g.oblast_unit(oblast)
                weapons = sorted(set(rng.sample(WEAPONS, rng.randint(1, 2))))
                killed, injured = rng.choice([None, 0, 1, 2, 5]), rng.choice([None, 1, 3, 8, 20])
                first = post_id + 1
                for k in range(rng.randint(1, 3)):
                    post_id += 1
                    when = to_db(at + timedelta(minutes=40 * k))
                    posts.append((f"m{post_id}", source.id, f"https://t.me/dsns_telegram/{post_id}", when,
                                  f"{name}: удар, загинули {killed}, травмовані {injured}. {FILLER}", when, when, n + 1))
                    revisions.append((n + 1, k + 1, post_id, killed if k else (killed and 1), injured, "[]", "[]", when))
                when = to_db(at)
                place_list = [
                    {"code": oblast_unit.code, "name": oblast_unit.title, "level": "oblast", "oblast": oblast},
                    {"code": code, "name": name, "level": "settlement", "oblast": oblast},
                ]
                rows.append((n + 1, json.dumps([oblast]), json.dumps(place_list, ensure_ascii=False),
                             json.dumps(weapons), killed, injured, first, when, to_db(at + timedelta(minutes=80)), when))
            await conn.executemany(
                """INSERT INTO posts (stream, external_id, source_id, url, published_at, text, text_hash,
                       first_seen_at, updated_at, story_id) VALUES ('dsns_telegram', ?, ?, ?, ?, ?, 'h', ?, ?, ?)""",
                posts,
            )
            await conn.executemany(
                """INSERT INTO stories (id, is_strike, oblasts, places, weapons, killed, injured, first_post_id,
                       first_seen_at, last_seen_at, event_at) VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                rows,
            )
            await conn.executemany(
                """INSERT INTO story_revisions (story_id, revision, post_id, killed, injured, places, weapons,
                       recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
                revisions,
            )


async def archive(stories: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"dsns-bench-site-{stories}.db"
    if not path.exists():
        started = time.perf_counter()
        partial = path.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        db = await Database.open(partial)
        await fill(db, stories)
        await db.close()
        partial.rename(path)
        print(f"archive built in {time.perf_counter() - started:.1f} s: {path}")
    return path


async def align(db: Database) -> None:
    """Move the stories' times so the newest change was an hour ago, whenever the cached archive
    was built: the week's map stays full, and the poll's changes are the newest."""
    row = await db.fetchone("SELECT unixepoch(max(last_seen_at)) FROM stories")
    shift = f"{int(time.time()) - 3600 - row[0]:+d} seconds"
    fmt = "strftime('%Y-%m-%dT%H:%M:%SZ', {}, ?)"
    async with db.write() as conn:
        await conn.execute(
            f"UPDATE stories SET event_at = {fmt.format('event_at')}, first_seen_at = {fmt.format('first_seen_at')}, "
            f"last_seen_at = {fmt.format('last_seen_at')}", (shift, shift, shift),
        )
        await conn.execute(f"UPDATE story_revisions SET recorded_at = {fmt.format('recorded_at')}", (shift,))


async def poll(db: Database) -> None:
    """What one busy poll brings: three new strikes and two updates of an existing one."""
    source = await ensure_source(db, "dsns_telegram", "telegram_web", "https://t.me/s/dsns_telegram")
    planner = StoryPlanner(window=timedelta(hours=12), alert_max_age=0)
    texts = [
        "Харківщина: внаслідок ракетного удару по Балаклії зруйновано будинок. Загинула 1 людина, ще 3 травмовані.",
        "Одещина: вночі ворог атакував ударними БпЛА портову інфраструктуру Ізмаїла. Травмовано 2 людей.",
        "Запорізька область: КАБи по Запоріжжю, поранено 5 людей.",
        "Балаклія: кількість загиблих внаслідок ракетного удару зросла до 3, травмовані — 8 людей.",
        "Балаклія: ще одна жертва ракетного удару, загиблих 4.",
    ]
    async with db.write() as conn:
        for n, text in enumerate(texts):
            post = RawPost(stream="dsns_telegram", external_id=f"new{n}", url=f"https://t.me/dsns_telegram/new{n}",
                           published_at=datetime.now(UTC) - timedelta(minutes=10 - n), text=text)
            (change,) = await upsert_posts(conn, source.id, [post])
            await planner.attach_and_plan(conn, change, analyze(text))


async def run(stories: int) -> None:
    cached = await archive(stories)
    get_gazetteer()
    analyze("Балаклія")  # load the morphology outside the timings
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "archive.db"
        shutil.copy(cached, path)
        db = await Database.open(path)
        await align(db)
        started = time.perf_counter()
        read = sum([1 async for _ in iter_stories(db, strikes_only=True)])
        baseline = time.perf_counter() - started
        site = Site(db, Config(site=SiteConfig()), Path(tmp) / "site")
        cpu = time.process_time()
        full = await site.render_all()
        full_cpu = time.process_time() - cpu
        await poll(db)
        cpu = time.process_time()
        after = await site.render_changes()
        after_cpu = time.process_time() - cpu
        pages = list((Path(tmp) / "site").rglob("*.html"))
        largest = max(pages, key=lambda p: p.stat().st_size)
        largest_kb, largest_name = largest.stat().st_size / 1000, largest.relative_to(Path(tmp) / "site")
        size = sum(p.stat().st_size for p in (Path(tmp) / "site").rglob("*") if p.is_file())
        await db.close()
    print(f"archive: {read} strike stories; site: {len(pages)} pages, {size / 1e6:.0f} MB")
    print(f"read every story (baseline): {baseline:6.2f} s")
    # CPU time (all threads) beside wall time: on a shared machine the wall time is mostly waiting.
    print(f"full render:                 {full.seconds:6.2f} s  (CPU {full_cpu:.2f} s; {full.written} files; aim < 60 s)")
    print(f"render after a poll:         {after.seconds:6.2f} s  (CPU {after_cpu:.2f} s; {after.stories} stories, "
          f"{after.written} files; aim < 2 s)")
    print(f"largest page:                {largest_kb:6.1f} kB ({largest_name}; aim < 200 kB)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=20_000)
    asyncio.run(run(parser.parse_args().stories))
