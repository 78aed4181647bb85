"""Research at scale: `export --what events` and `stats` at 10^4, 10^5 and 10^6 posts, now beside before.

Builds (once; cached in /tmp/dsns-bench) archives through storage's migrations (Database.open)
with realistic rows: DSNS-style posts of ~800 characters written by bench/search.py's
generator (a pool of 2,000, reused), each with an analysis naming a gazetteer settlement and
its oblast, grouped into stories of 1-5 posts (a third of posts open one), 40 % of stories
strikes with weapons and, for some, killed and injured, published at random moments of a year
(so id order is not date order, as after a backfill). The search indexes' triggers are
dropped before the rows go in: neither command reads them, and filling them is most of the
build time (bench/search.py measures them). An archive of an older schema in the cache is
copied and migrated rather than built again (and stays, for the code that knew that schema).

Each measurement runs in its own child process (so its peak RSS is its own): the command's
work from an open archive to the last row written (`export --what events` as CSV and as JSON
lines, the default, into a sink keeping only the SHA-256; `stats` for --by oblast, day and weapon), with this tree
("now") and with the code of commit BEFORE ("before", exported with `git archive` into the
cache, reading the cached archive of its own schema when there is one). Prints wall and CPU
time, peak RSS (it includes loading the gazetteer, before the clock starts: a fixed cost of any
command naming places, and ~40 MB of noise) and the resident memory when the command starts
and ends (flat when it streams), and checks that before and now give the same output (SHA-256
of the CSV, of the stats tables). The pool of 2,000 texts repeats their place lists, so the
cache of locations by the stories' JSON hits more often here than on a real archive (where
the big towns still repeat daily); each place code is resolved once either way. On a shared
machine read the CPU column: the wall time follows the neighbours' load.

    python bench/research_scale.py [--sizes 10000,100000,1000000] [--before COMMIT] [--before-timeout 300]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.util
import json
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.schema import SCHEMA_VERSION

CACHE = Path(os.environ.get("DSNS_BENCH_DIR", "/tmp/dsns-bench"))
BEFORE = "acb734d"  # main before the events export read its posts off one index and wrote CSV lines itself
POOL = 2_000
SEED = 16
WEAPONS = ("missile", "drone", "guided_bomb", "artillery", "fpv", "mlrs")
CHUNK = 20_000


def _load(name: str, path: Path) -> object:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _pool() -> list[tuple[str, str, str]]:
    """(text, oblasts JSON, places JSON) of POOL generated posts."""
    search = _load("bench_search", ROOT / "bench" / "search.py")
    places = search.Places(random.Random(SEED))  # type: ignore[attr-defined]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    out = []
    for i in range(POOL):
        post, analysis = search.make_post(i, places, start)  # type: ignore[attr-defined]
        out.append((post[4], analysis[4], analysis[5]))
    return out


async def _migrate(path: Path) -> None:
    from storage.database import Database

    db = await Database.open(path)
    await db.close()


def _archive(count: int, version: int = SCHEMA_VERSION) -> Path:
    return CACHE / f"research-v{version}-{count}.db"


def build(count: int) -> Path:
    """The cached archive of `count` posts with analyses and stories, built if missing."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = _archive(count)
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    for leftover in CACHE.glob(partial.name + "*"):
        leftover.unlink()
    if _load("bench_search", ROOT / "bench" / "search.py").migrated_copy("research", count, partial):  # type: ignore[attr-defined]
        partial.rename(path)
        return path
    for leftover in CACHE.glob(partial.name + "*"):
        leftover.unlink()
    asyncio.run(_migrate(partial))
    pool = _pool()
    rng = random.Random(SEED)
    conn = sqlite3.connect(partial)
    conn.execute("PRAGMA synchronous = OFF")  # a bench file: durability costs time, not results
    for (trigger,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {trigger}")
    start = datetime(2025, 1, 1, tzinfo=UTC)
    began = time.perf_counter()
    post_id = story_id = 0
    posts: list[tuple] = []
    analyses: list[tuple] = []
    stories: list[tuple] = []

    def flush() -> None:
        with conn:
            conn.executemany(
                """INSERT INTO stories (id, is_strike, oblasts, places, weapons, killed, injured,
                   children_killed, children_injured, first_post_id, first_seen_at, last_seen_at, event_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", stories)
            conn.executemany(
                """INSERT INTO posts (id, stream, external_id, url, published_at, text, text_hash,
                   first_seen_at, updated_at, story_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", posts)
            conn.executemany(
                """INSERT INTO analyses (post_id, version, is_strike, weapons, oblasts, places, killed,
                   injured, analyzed_at) VALUES (?, 'bench', ?, ?, ?, ?, ?, ?, ?)""", analyses)
        posts.clear(), analyses.clear(), stories.clear()

    while post_id < count:
        story_id += 1
        text, oblasts, places = pool[rng.randrange(POOL)]
        strike = rng.random() < 0.4
        weapons = json.dumps(sorted(rng.sample(WEAPONS, rng.choice((1, 1, 1, 2))))) if strike else "[]"
        killed = rng.randrange(1, 6) if strike and rng.random() < 0.3 else None
        injured = rng.randrange(1, 20) if strike and rng.random() < 0.5 else None
        at = start + timedelta(seconds=rng.randrange(365 * 86400))
        size = min(rng.randrange(1, 6), count - post_id)
        first = post_id + 1
        for k in range(size):
            post_id += 1
            body = text if k == 0 else f"{text} Оновлено {k}."
            stream = rng.choice(("dsns_telegram", "dsns_kharkiv", "dsns_odesa", "news_uk"))
            seen = (at + timedelta(minutes=7 * k)).strftime("%Y-%m-%dT%H:%M:%SZ")
            posts.append((post_id, stream, str(post_id), f"https://t.me/{stream}/{post_id}", seen, body,
                          hashlib.sha256(body.encode()).hexdigest(), seen, seen, story_id))
            analyses.append((post_id, int(strike), weapons, oblasts, places, killed, injured, seen))
        last = (at + timedelta(minutes=7 * (size - 1))).strftime("%Y-%m-%dT%H:%M:%SZ")
        moment = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        stories.append((story_id, int(strike), oblasts, places, weapons, killed, injured, None, None,
                        first, moment, last, moment if rng.random() < 0.8 else None))
        if len(posts) >= CHUNK:
            flush()
            print(f"  built {post_id:,}/{count:,} posts ({time.perf_counter() - began:.0f} s)",
                  file=sys.stderr, flush=True)
    flush()
    conn.execute("ANALYZE")
    conn.close()
    partial.rename(path)
    return path


# --- children: one measurement each --------------------------------------------------------


class _Digest:
    """A text output that keeps only the SHA-256 of what is written (before and now must match)."""

    def __init__(self) -> None:
        self.sha = hashlib.sha256()

    def write(self, text: str) -> int:
        self.sha.update(text.encode())
        return len(text)


def _cpu() -> float:
    """CPU seconds of this process, every thread (SQLite's included): on a shared machine the
    wall time follows the neighbours' load, this much less."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _child(task: str, count: int, fallback: Path, result: Path) -> None:
    """Measure `task` with the code of the tree this file is in, on the cached archive of its
    own schema when there is one, else on `fallback`."""
    from analysis.gazetteer import get_gazetteer
    from research.commands import export_rows
    from research.events import strike_stats
    from storage.database import Database

    path = _archive(count) if _archive(count).exists() else fallback
    get_gazetteer()  # a fixed cost of any command that names places, not one that grows with the archive
    db = await Database.open(path, read_only=True, create=False)
    start_mb = _rss_mb()
    try:
        cpu = _cpu()
        began = time.perf_counter()
        if task.startswith("events"):
            out = _Digest()
            export = argparse.Namespace(what="events", format=task.split("-")[1], excel=False, delimiter="comma",
                                        since=None, until=None, photos=None, output=None)  # `export --what events --format …`
            rows = await export_rows(export, db, out)  # type: ignore[arg-type]
            digest = out.sha.hexdigest()
        else:
            tables = {by: await strike_stats(db, by) for by in ("oblast", "day", "weapon")}
            rows = sum(map(len, tables.values()))
            digest = hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()
        elapsed = time.perf_counter() - began
        cpu = _cpu() - cpu
        end_mb = _rss_mb()
    finally:
        await db.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result.write_text(json.dumps({"seconds": elapsed, "cpu": cpu, "peak_mb": peak, "start_mb": start_mb,
                                  "end_mb": end_mb, "rows": rows, "digest": digest, "archive": path.name}))


def _rss_mb() -> float:
    """Resident memory now, in MB."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _tree(commit: str) -> Path:
    """This bench inside the code at `commit` (exported once into the cache)."""
    tree = CACHE / f"code-{commit}"
    if not tree.exists():
        partial = tree.with_name(tree.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(partial)], input=archive, check=True)
        partial.rename(tree)
    script = tree / "bench" / "research_scale_now.py"
    shutil.copyfile(__file__, script)
    return script


def measure(script: Path, task: str, count: int, archive: Path, timeout: float) -> dict | None:
    """One child's figures; None when it ran out of time."""
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        try:
            subprocess.run([sys.executable, str(script), "--child", task, str(count), str(archive), result.name],
                           cwd=script.parent.parent, check=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return json.loads(Path(result.name).read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--before", default=BEFORE, metavar="COMMIT", help="the code to measure beside this tree's")
    parser.add_argument("--before-timeout", type=float, default=300.0)
    parser.add_argument("--child", nargs=4, metavar=("TASK", "POSTS", "ARCHIVE", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        task, count, path, result = args.child
        asyncio.run(_child(task, int(count), Path(path), Path(result)))
        return
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; before = {args.before}")
    print(f"{'posts':>9} {'task':<12} {'code':<6} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'RSS MB':>11} {'rows':>8}"
          "  same  archive")
    ways = {"before": _tree(args.before), "now": Path(__file__).resolve()}
    for size in (int(s) for s in args.sizes.split(",")):
        path = build(size)
        for task in ("events-csv", "events-jsonl", "stats"):
            found = {way: measure(script, task, size, path, args.before_timeout if way == "before" else 600.0)
                     for way, script in ways.items()}
            for way, figures in found.items():
                if figures is None:
                    print(f"{size:>9,} {task:<12} {way:<6} {'>' + format(args.before_timeout, '.0f'):>8}")
                    continue
                same = ""
                if way == "now" and found["before"]:
                    before = found["before"]
                    same = "yes" if (before["rows"], before["digest"]) == (figures["rows"], figures["digest"]) else "NO"
                rss = f"{figures['start_mb']:.0f}->{figures['end_mb']:.0f}"
                print(f"{size:>9,} {task:<12} {way:<6} {figures['seconds']:>8.2f} {figures['cpu']:>8.2f} "
                      f"{figures['peak_mb']:>8.0f} {rss:>11} {figures['rows']:>8,}  {same:<4}  {figures['archive']}",
                      flush=True)


if __name__ == "__main__":
    main()
