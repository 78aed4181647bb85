"""Research at scale: `export --what events` and `stats` at 10^5 and 10^6 posts, new beside old.

Builds (once; cached in /tmp/dsns-bench) archives through storage's migrations (Database.open)
with realistic rows: DSNS-style posts of ~800 characters written by bench/search.py's
generator (a pool of 2,000, reused), each with an analysis naming a gazetteer settlement and
its oblast, grouped into stories of 1-5 posts (a third of posts open one), 40 % of stories
strikes with weapons and, for some, killed and injured, published at random moments of a year
(so id order is not date order, as after a backfill). The search indexes' triggers are
dropped before the rows go in: neither command reads them, and filling them is most of the
build time (bench/search.py measures them).

Each measurement runs in its own child process (so its peak RSS is its own): the command's
work from an open archive to the last row written (events as CSV to /dev/null, stats for
--by oblast, day and weapon), with the implementation of this tree ("new") and of OLD_COMMIT
("old", the modules loaded from git) in the same run. Prints wall and CPU time and peak RSS, and
checks that old and new give the same output (SHA-256 of the CSV, of the stats tables).
The gazetteer is loaded before the clock starts (a fixed cost of any command naming places).
Note: the pool of 2,000 texts repeats their place lists, so the new events' cache of resolved
places hits more often here than on a real archive (where the big towns still repeat daily).
On a shared machine read the CPU column: the wall time follows the neighbours' load.

    python bench/research_scale.py [--sizes 100000,1000000] [--old-timeout 300]
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
OLD_COMMIT = "217654a"  # main before the streaming events and the SQL stats
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


def build(count: int) -> Path:
    """The cached archive of `count` posts with analyses and stories, built if missing."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"research-v{SCHEMA_VERSION}-{count}.db"
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
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


def _implementation(which: str) -> tuple[object, object]:
    """(research.events, research.commands) of this tree, or (storage.research, research.commands)
    of OLD_COMMIT loaded from git."""
    if which == "new":
        import research.commands
        import research.events

        return research.events, research.commands
    folder = Path(tempfile.mkdtemp(prefix="dsns-old-"))
    try:
        modules = []
        for name in ("storage/research.py", "research/commands.py"):
            source = subprocess.run(["git", "-C", str(ROOT), "show", f"{OLD_COMMIT}:{name}"],
                                    check=True, capture_output=True, text=True).stdout
            file = folder / name.replace("/", "_")
            file.write_text(source, encoding="utf-8")
            modules.append(_load(f"old_{file.stem}", file))
        return modules[0], modules[1]
    finally:
        shutil.rmtree(folder)


class _Digest:
    """A text output that keeps only the SHA-256 of what is written (old and new must match)."""

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


async def _child(which: str, task: str, path: Path, result: Path) -> None:
    from analysis.gazetteer import get_gazetteer
    from storage.database import Database

    storage_research, monitor_research = _implementation(which)
    get_gazetteer()  # a fixed cost of any command that names places, not one that grows with the archive
    db = await Database.open(path, read_only=True, create=False)
    try:
        cpu = _cpu()
        began = time.perf_counter()
        if task == "events":
            out = _Digest()
            rows = await monitor_research.write_rows(  # type: ignore[attr-defined]
                storage_research.iter_events(db), storage_research.EVENT_KEYS, "csv", out)  # type: ignore[attr-defined]
            digest = out.sha.hexdigest()
        else:
            tables = {by: await storage_research.strike_stats(db, by) for by in ("oblast", "day", "weapon")}  # type: ignore[attr-defined]
            rows = sum(map(len, tables.values()))
            digest = hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()
        elapsed = time.perf_counter() - began
        cpu = _cpu() - cpu
    finally:
        await db.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result.write_text(json.dumps({"seconds": elapsed, "cpu": cpu, "peak_mb": peak, "rows": rows, "digest": digest}))


def measure(which: str, task: str, path: Path, timeout: float) -> dict | None:
    with tempfile.NamedTemporaryFile(suffix=".json") as result:
        try:
            subprocess.run([sys.executable, __file__, "--child", which, task, str(path), result.name],
                           check=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return json.loads(Path(result.name).read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--old-timeout", type=float, default=300.0)
    parser.add_argument("--child", nargs=4, metavar=("WHICH", "TASK", "ARCHIVE", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        which, task, path, result = args.child
        asyncio.run(_child(which, task, Path(path), Path(result)))
        return
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'posts':>9} {'task':<7} {'impl':<4} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'rows':>8}  same as old")
    for size in (int(s) for s in args.sizes.split(",")):
        path = build(size)
        for task in ("events", "stats"):
            found = {which: measure(which, task, path, args.old_timeout if which == "old" else 600.0)
                     for which in ("old", "new")}
            for which, figures in found.items():
                if figures is None:
                    print(f"{size:>9,} {task:<7} {which:<4} {'>' + format(args.old_timeout, '.0f'):>8}")
                    continue
                same = ""
                if which == "new" and found["old"]:
                    old = found["old"]
                    same = "yes" if (old["rows"], old["digest"]) == (figures["rows"], figures["digest"]) else "NO"
                print(f"{size:>9,} {task:<7} {which:<4} {figures['seconds']:>8.2f} {figures['cpu']:>8.2f} {figures['peak_mb']:>8.0f} "
                      f"{figures['rows']:>8,}  {same}", flush=True)


if __name__ == "__main__":
    main()
