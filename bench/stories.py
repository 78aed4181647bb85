"""Story assignment time per post with 100,000 posts already archived.

Fills an archive with 100,000 posts and their stories (each about one of 300 towns, with its
oblast, weapon and date as features) spread over 200 days, then stores 1,000
new posts (uk/en reports of strikes in random towns, a third of them repeats of an earlier
event) and times, per post, (a) storing the post and (b) assigning it to a story, in the same
run. Prints milliseconds per post for both and their ratio. Aim: assignment < 2 ms per post.

    python bench/stories.py [--archived N] [--new N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.analyze import analyze  # noqa: E402
from analysis.gazetteer import get_gazetteer  # noqa: E402
from analysis.stories import Probe  # noqa: E402
from collectors.base import RawPost  # noqa: E402
from monitor.planner import StoryPlanner  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.posts import upsert_posts  # noqa: E402
from storage.sources import ensure_source  # noqa: E402
from storage.timeutil import to_db  # noqa: E402

NOW = datetime.now(UTC)


def towns(count: int) -> list[tuple[str, str, str]]:
    """(name, KATOTTH code, oblast) of the `count` most populous towns."""
    g = get_gazetteer()
    big = sorted((u for u in g.units.values() if u.level == "settlement" and u.population > 20_000), key=lambda u: -u.population)
    return [(u.name_uk, u.code, u.oblast) for u in big[:count]]


async def fill(db: Database, archived: int) -> None:
    """`archived` posts over 200 days, each its own story about a random town (as the daemon
    would have clustered them), so that a new post has real competitors in its oblast."""
    rng = random.Random(1)
    places = towns(300)
    weapons = ["missile", "drone", "artillery", "guided_bomb"]
    async with db.write() as conn:
        for start in range(0, archived, 5_000):
            posts, stories = [], []
            for n in range(start, min(start + 5_000, archived)):
                at = NOW - timedelta(days=200) + timedelta(minutes=n * 2.88)
                when = to_db(at)
                _, code, oblast = rng.choice(places)
                features = sorted({"S:strike", f"O:{oblast}", f"P:{code}", f"W:{rng.choice(weapons)}",
                                   f"D:{at.date().isoformat()}"})
                posts.append((f"old{n}", when, f"архівний допис {n}", when, when))
                stories.append((n + 1, json.dumps([oblast]), n + 1, when, when, when, json.dumps(features)))
            await conn.executemany(
                """INSERT INTO posts (stream, external_id, source_id, published_at, text, text_hash,
                       first_seen_at, updated_at) VALUES ('archive', ?, 1, ?, ?, 'h', ?, ?)""",
                posts,
            )
            # In an empty archive post n is row n: story n is post n's.
            await conn.executemany(
                """INSERT INTO stories (id, is_strike, oblasts, places, weapons, first_post_id, first_seen_at,
                       last_seen_at, event_at, features)
                   VALUES (?, 1, ?, '[]', '[]', ?, ?, ?, ?, ?)""",
                stories,
            )
        await conn.execute("UPDATE posts SET story_id = id")


async def run(archived: int, new: int) -> None:
    names = [name for name, _, _ in towns(300)]
    rng = random.Random(2)
    texts = []
    for n in range(new):
        town = rng.choice(names)
        killed, injured = rng.randint(0, 4), rng.randint(1, 15)
        if n % 2:
            texts.append(f"Внаслідок ракетного удару по місту {town} загинули {killed} людини, ще {injured} травмовані.")
        else:
            texts.append(f"Russian drones attacked {town}: {injured} people injured, emergency services said.")
    analyses = [analyze(t) for t in texts]
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.db")
        source = await ensure_source(db, "bench", "rss", None)
        await fill(db, archived)
        planner = StoryPlanner(window=timedelta(hours=12), alert_max_age=0)
        store_s = assign_s = search_s = 0.0
        probe, search = planner.index.probe, planner.index.find

        def timed_probe(at: datetime, features: frozenset[str]) -> Probe:
            nonlocal search_s
            started = time.perf_counter()
            made = probe(at, features)
            search_s += time.perf_counter() - started
            return made

        def timed_search(made: Probe) -> int | None:
            nonlocal search_s
            started = time.perf_counter()
            found = search(made)
            search_s += time.perf_counter() - started
            return found

        planner.index.probe = timed_probe  # type: ignore[method-assign]
        planner.index.find = timed_search  # type: ignore[method-assign]
        for n, (text, analysis) in enumerate(zip(texts, analyses)):
            post = RawPost(stream="bench", external_id=str(n), url=None,
                           published_at=NOW - timedelta(minutes=(new - n) * 0.5), text=text, kind="article")
            async with db.write() as conn:
                started = time.perf_counter()
                (change,) = await upsert_posts(conn, source.id, [post])
                stored = time.perf_counter()
                await planner.attach_and_plan(conn, change, analysis)
                assign_s += time.perf_counter() - stored
                store_s += stored - started
        stories = (await db.fetchone("SELECT count(DISTINCT story_id) FROM posts WHERE stream = 'bench'"))[0]
        total = (await db.fetchone("SELECT count(*) FROM posts"))[0]
        await db.close()
    print(f"archive: {total} posts; new posts: {new} → {stories} stories ({len(planner.index)} in the similarity index)")
    print(f"store post (upsert):   {store_s / new * 1000:7.3f} ms/post")
    print(f"story assignment:      {assign_s / new * 1000:7.3f} ms/post  (aim < 2 ms)")
    print(f"  of which the exact similarity search: {search_s / new * 1000:7.3f} ms/post")
    print(f"ratio assignment/store: {assign_s / store_s:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archived", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=1_000)
    args = parser.parse_args()
    asyncio.run(run(args.archived, args.new))


if __name__ == "__main__":
    main()
