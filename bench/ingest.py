"""Ingest throughput at 10^4 and 10^5 (and 10^6) archived posts: the full pipeline, parse + store,
and a bare executemany of the same rows, in the same run.

The archives are bench/search.py's (cached in /tmp/dsns-bench): realistic DSNS posts of ~800
characters across the 25 oblast channels, built through the archive's own migrations. Each size
is copied once per run, given 500 subscribed chats, and then takes, on one of its channels,
`--posts` new real-length posts (same generator, dated the last hours so alerts are planned)
rendered as t.me/s pages of 20 and read back by the t.me parser:

  full pipeline     parse_page + Pipeline.ingest per page, as a poll does it: store, analyse,
                    stories, outbox, the deleted-post check of the covered range
  overlapped        the same through Pipeline.ingest_pages, as backfill and reparse run it: each
                    page parsed and analysed in AnalysisPool workers while the page before it is
                    stored (the pool started and warm before the clock: a backfill's first second);
                    beside it the CPU milliseconds per post of the bench's process and of the
                    pool's workers, and the posts/s they allow on idle cores (the slowest of the
                    command's pace, the workers' and all the cores'): the figure to read when
                    other work shares the machine; and the milliseconds per post the command
                    waited between two transactions for the next page (its stages' timeline,
                    and the CPU of each of its threads, go to stderr)
  reparse           `reparse` of the same pages kept as the channel's bodies: parse, layout check
                    and the overlapped pipeline in batches of 200, the workers' start included;
                    beside it its own CPU per post and the pace on idle cores (its workers' CPU
                    taken from the overlapped run)
  without analysis  the same, the analyses computed beforehand (the storage side alone)
  parse + store     parse_page + upsert_posts, one write transaction per page
  bare executemany  sqlite3 executemany of the same rows into a table of the posts' shape

and the archive's size per 100,000 posts.

`--before COMMIT` runs this same bench on the code at COMMIT first (exported beside the cache;
its archives are built by its own migrations), so the table shows before and after in one run.

    python bench/ingest.py [--sizes 10000,100000] [--posts 2000] [--before 217654a]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing, contextmanager, redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search import CACHE, Places, build, make_post  # noqa: E402

from analysis.gazetteer import get_gazetteer  # noqa: E402
from collectors.base import FetchResult, Payload, RawPost  # noqa: E402
from collectors.telegram_web import parse_page  # noqa: E402
from monitor.app import open_app  # noqa: E402
from monitor.config import TelegramWebSource, load_config  # noqa: E402
from monitor.pipeline import Pipeline  # noqa: E402
from monitor.sinks import AlertSink  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.payloads import pack, store_payloads  # noqa: E402
from storage.posts import text_hash, upsert_posts  # noqa: E402
from storage.sources import ensure_source  # noqa: E402
from tests.fakes.tme import PAGE_SIZE, FakeTelegram  # noqa: E402

try:
    from monitor.analysis_pool import AnalysisPool, default_workers
    from monitor.reparse import reparse
except ImportError:  # `--before` a commit that has none: no overlapped row
    AnalysisPool = None  # type: ignore[assignment,misc]
try:
    from collectors.telegram_web import parse_body
except ImportError:  # `--before` a commit whose backfill parses in the command
    parse_body = None  # type: ignore[assignment]

BASE = "http://127.0.0.1:1"
CHANNEL = "dsns_ua_63"  # one of the archive's channels: the deleted-post check meets its posts
CHATS = 500
SEED = 20


class _Quiet(AlertSink):
    async def publish(self, change, analysis) -> None:  # type: ignore[no-untyped-def]
        return None


def render_pages(count: int, first_id: int, seed: int) -> list[str]:
    """`count` new posts of CHANNEL numbered from `first_id`, as t.me/s pages, oldest page first."""
    places = Places(random.Random(seed))
    fake = FakeTelegram()
    fake.add_channel(CHANNEL, "ДСНС Харківщини")
    start = datetime.now(UTC) - timedelta(hours=6)
    for n in range(count):
        post, _ = make_post(first_id + n, places, start)
        fake.post(CHANNEL, post[4], date=start + timedelta(seconds=10 * n), message_id=first_id + n)
    pages: list[str] = []
    before: int | None = None
    while True:
        html = fake._render(fake._channel(CHANNEL), before, BASE)  # noqa: SLF001
        posts = parse_page(html, BASE)
        if not posts:
            break
        pages.append(html)
        before = posts[0].id
    return pages[::-1]


def _config(folder: Path, database: Path) -> object:
    path = folder / "bench.toml"
    path.write_text(
        f'[storage]\ndatabase = "{database}"\n\n[[sources]]\ntype = "telegram_web"\nchannel = "{CHANNEL}"\n'
        f'base_url = "{BASE}"\n'
    )
    return load_config(path)


def subscribe(path: Path) -> None:
    """CHATS chats watching one to three oblasts each (the bot's tables, written directly)."""
    rng = random.Random(SEED)
    oblasts = [o.code for o in get_gazetteer().oblasts()]
    conn = sqlite3.connect(path)
    with conn:
        now = "2025-01-01T00:00:00Z"
        conn.executemany("INSERT OR IGNORE INTO chats (chat_id, created_at) VALUES (?, ?)",
                         [(chat, now) for chat in range(1, CHATS + 1)])
        conn.executemany(
            "INSERT OR IGNORE INTO subscriptions (chat_id, region, region_name, level, created_at) VALUES (?, ?, ?, 'oblast', ?)",
            [(chat, code, code, now) for chat in range(1, CHATS + 1) for code in rng.sample(oblasts, rng.randint(1, 3))],
        )
    conn.close()


async def pipeline_run(path: Path, pages: list[str], *, way: str) -> tuple[float, int]:
    """Seconds to parse and ingest `pages` through the pipeline. `way` "full": page by page as a
    poll; "overlapped": as a backfill; "stored": the analyses computed before the clock starts
    (the storage side alone)."""
    with tempfile.TemporaryDirectory() as tmp:
        config = _config(Path(tmp), path)
        db = await Database.open(path)
        pipeline = Pipeline(config, db, None, _Quiet())  # type: ignore[arg-type]
        try:
            return await _through(pipeline, config.sources[0], pages, way)  # type: ignore[attr-defined]
        finally:  # Ctrl-C included: the connections' threads would keep the process alive
            await pipeline.photos.close()
            await db.close()


async def _through(pipeline: Pipeline, source: TelegramWebSource, pages: list[str], way: str) -> tuple[float, int]:
    state = await pipeline.source_state(source)
    if way == "stored":
        posts = [p.to_raw() for html in pages for p in parse_page(html, BASE)]
        by_key = {(p.stream, p.external_id): r for p, r in zip(
            posts, pipeline._analyze_all(source, posts).values(), strict=True)}  # noqa: SLF001
        pipeline._analyze_all = lambda _source, batch: {  # type: ignore[method-assign]  # noqa: SLF001
            id(p): by_key[(p.stream, p.external_id)] for p in batch}

    timeline = Timeline()

    async def results(pool: AnalysisPool | None = None) -> AsyncIterator[FetchResult]:
        for html in pages:
            with timeline.stage("parse"):
                # As a backfill does: in the workers when it has a pool (and off the command's core).
                if pool is None or parse_body is None:
                    parsed = parse_page(html, BASE)
                else:
                    parsed, _ = await pool.run(parse_body, html, BASE, CHANNEL)
                ids = [p.id for p in parsed]
                result = FetchResult(posts=[p.to_raw() for p in parsed], covered=(min(ids), max(ids)))
            yield result

    stored = 0
    if way == "overlapped":
        async with AnalysisPool() as pool:
            await pool.analyse([("Харків", None, None)])  # the workers ready, as a backfill's are after its first page
            workers = list(pool._executor._processes)  # type: ignore[union-attr]  # noqa: SLF001
            timeline.watch(pipeline, pool)
            cpu = (time.process_time(), _cpu_seconds(workers), _thread_cpu())
            began = time.perf_counter()
            async with aclosing(pipeline.ingest_pages(source, state, results(pool), pool, touch_source=False)) as done:
                async for _, changes in done:
                    stored += len(changes)
            elapsed = time.perf_counter() - began
            CPU[way] = (time.process_time() - cpu[0], _cpu_seconds(workers) - cpu[1])
            WAITED[way] = timeline.report(began, elapsed, len(pages), stored, cpu[2])
    else:
        began = time.perf_counter()
        async for result in results():
            stored += len(await pipeline.ingest(source, state, result, touch_source=False))
        elapsed = time.perf_counter() - began
    return elapsed, stored


async def reparse_run(path: Path, pages: list[str]) -> tuple[float, int]:
    """Seconds for `dsns-monitor reparse` to read `pages`, stored as the channel's kept bodies,
    into the archive: the parse, its checks, and the overlapped pipeline, worker start included."""
    with tempfile.TemporaryDirectory() as tmp:
        config = _config(Path(tmp), path)
        async with open_app(config, _Quiet()) as app:  # type: ignore[arg-type]
            state = await app.pipeline.source_state(config.sources[0])  # type: ignore[attr-defined]
            fetched = datetime.now(UTC)
            bodies = [Payload(f"{BASE}/s/{CHANNEL}?n={n}", 200, html.encode(), fetched, "bench")
                      for n, html in enumerate(pages)]
            async with app.db.write() as conn:
                await store_payloads(conn, state.id, pack(bodies))
            began, cpu = time.perf_counter(), time.process_time()
            with redirect_stdout(sys.stderr):  # its progress bar: stdout is the table's
                summary = await reparse(app, source=CHANNEL, since=fetched)
            elapsed = time.perf_counter() - began
            CPU["reparse"] = (time.process_time() - cpu, 0.0)  # its workers come and go inside
    return elapsed, summary.new


class Timeline:
    """Where the overlapped run's wall time goes, page by page: the command's own stages (parse,
    the write transaction) against the ones it awaits (the _unseen read, the workers'
    analysis); printed to stderr as a few lines after the run."""

    def __init__(self) -> None:
        self.spans: dict[str, list[tuple[float, float]]] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.spans.setdefault(name, []).append((began, time.perf_counter()))

    def timed(self, name: str, function):  # type: ignore[no-untyped-def]
        async def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            with self.stage(name):
                return await function(*args, **kwargs)
        return run

    def watch(self, pipeline: Pipeline, pool: object) -> None:
        """Time the stages of `pipeline.ingest_pages` (instance attributes shadow the methods)."""
        pipeline._commit = self.timed("commit", pipeline._commit)  # type: ignore[method-assign]  # noqa: SLF001
        pipeline._unseen = self.timed("unseen", pipeline._unseen)  # type: ignore[method-assign]  # noqa: SLF001
        pool.analyse = self.timed("analyse", pool.analyse)  # type: ignore[attr-defined]
        pipeline._prepare = self.timed("prepare", pipeline._prepare)  # type: ignore[method-assign]  # noqa: SLF001

    def report(self, began: float, elapsed: float, pages: int, posts: int,
               threads_before: dict[int, tuple[str, float]]) -> float:
        """Print the summary; the seconds the command waited between its transactions."""
        total = {name: sum(end - start for start, end in spans) for name, spans in self.spans.items()}
        # The pages are stored one after the other; between two transactions the command waited
        # for the next page (its parse, its analysis) or ran the glue that hands it over.
        waited, last = 0.0, began
        for start, end in sorted(self.spans.get("commit", [])):
            waited, last = waited + start - last, end
        waited += began + elapsed - last
        per = {name: 1000 * seconds / posts for name, seconds in total.items()}
        print(f"  timeline ({pages} pages, ms/post of wall): " + ", ".join(
            f"{name} {per[name]:.2f}" for name in ("parse", "commit", "unseen", "analyse", "prepare") if name in per)
            + f"; command waiting {1000 * waited / posts:.2f} of {1000 * elapsed / posts:.2f}", file=sys.stderr)
        after = _thread_cpu()
        print("  CPU ms/post by thread: " + ", ".join(
            f"{name} {1000 * (cpu - threads_before.get(tid, (name, 0.0))[1]) / posts:.2f}"
            for tid, (name, cpu) in after.items()), file=sys.stderr, flush=True)
        return waited


def _thread_cpu() -> dict[int, tuple[str, float]]:
    """native thread id → (name, user + system CPU seconds) of this process's live threads."""
    ticks = os.sysconf("SC_CLK_TCK")
    out: dict[int, tuple[str, float]] = {}
    for thread in threading.enumerate():
        try:
            fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[thread.native_id] = (thread.name, (int(fields[11]) + int(fields[12])) / ticks)  # type: ignore[index]
    return out


# way → the seconds its command waited for the next page between two transactions (Timeline)
WAITED: dict[str, float] = {}

# way → CPU seconds of the bench's process (parsing, storing, SQLite) and of the pool's workers
CPU: dict[str, tuple[float, float]] = {}


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of the processes `pids` (Linux /proc)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


async def store_run(path: Path, pages: list[str]) -> tuple[float, int]:
    db = await Database.open(path)
    source = await ensure_source(db, CHANNEL, "telegram_web", None)
    stored = 0
    began = time.perf_counter()
    for html in pages:
        posts = [p.to_raw() for p in parse_page(html, BASE)]
        async with db.write() as conn:
            stored += len(await upsert_posts(conn, source.id, posts))
    elapsed = time.perf_counter() - began
    await db.close()
    return elapsed, stored


def bare_run(rows: list[RawPost], path: Path) -> float:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(
        """CREATE TABLE posts (id INTEGER PRIMARY KEY, stream TEXT, external_id TEXT, url TEXT,
           published_at TEXT, text TEXT, text_hash TEXT, views INTEGER, UNIQUE (stream, external_id))"""
    )
    began = time.perf_counter()
    with conn:
        conn.executemany(
            "INSERT INTO posts (stream, external_id, url, published_at, text, text_hash, views) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(p.stream, p.external_id, p.url, str(p.published_at), p.text, text_hash(p.title, p.text), p.views)
             for p in rows],
        )
    elapsed = time.perf_counter() - began
    conn.close()
    return elapsed


def measure(size: int, count: int, only: set[str] | None = None) -> dict[str, float]:
    """posts/s of each way, and GB per 100,000 posts, on a copy of the archive of `size` posts."""
    cached = build(size)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        path = Path(tmp) / "archive.db"
        shutil.copyfile(cached, path)
        subscribe(path)
        out: dict[str, float] = {"GB per 100,000 posts": cached.stat().st_size * 100_000 / size / 1e9}
        # Each way takes its own new posts (numbered above the archive's), so none meets another's.
        ways = [("full pipeline", "full"), ("overlapped", "overlapped"), ("reparse", "reparse"),
                ("without analysis", "stored"), ("parse + store", "store")]
        if AnalysisPool is None:
            ways = [w for w in ways if w[1] not in ("overlapped", "reparse")]
        if only:
            ways = [w for w in ways if w[1] in only]
        for n, (label, way) in enumerate(ways):
            pages = render_pages(count, size + 1 + n * count, SEED + n)
            if way == "store":
                elapsed, stored = asyncio.run(store_run(path, pages))
            elif way == "reparse":
                elapsed, stored = asyncio.run(reparse_run(path, pages))
            else:
                elapsed, stored = asyncio.run(pipeline_run(path, pages, way=way))
            assert stored == count, (label, stored)
            out[label] = count / elapsed
            print(f"  {size:,}: {label} {count / elapsed:.0f} posts/s", file=sys.stderr, flush=True)
            if way == "overlapped":
                # What the run cost in CPU, whatever else the machine ran meanwhile: on two idle
                # cores the overlapped pipeline goes as fast as the busier of its two processes.
                main, analysis = (1000 * seconds / count for seconds in CPU[way])
                out["overlapped: command CPU ms/post"] = main
                out["overlapped: workers' CPU ms/post"] = analysis
                # Time the serial part stood idle: near 0 when the workers keep ahead of it.
                out["overlapped: command waiting ms/post"] = 1000 * WAITED[way] / count
                # The pace of the command (one thread at a time), of its workers, of all the cores.
                workers, cores = default_workers(), os.cpu_count() or 1
                out[f"overlapped on {cores} idle cores"] = 1000 / max(main, analysis / workers, (main + analysis) / cores)
            if way == "reparse":
                # Its workers analyse what the overlapped run's did: that run's figure stands in.
                main = 1000 * CPU[way][0] / count
                out["reparse: command CPU ms/post"] = main
                out[f"reparse on {cores} idle cores"] = 1000 / max(main, analysis / workers, (main + analysis) / cores)
        rows = [p.to_raw() for html in render_pages(count, 1, SEED) for p in parse_page(html, BASE)]
        out["bare executemany"] = count / bare_run(rows, Path(tmp) / "bare.db")
    return out


def _before(commit: str, argv: list[str]) -> str:
    """This bench's table on the code at `commit` (exported once into the cache)."""
    tree = CACHE / f"code-{commit}"
    if not tree.exists():
        tree.parent.mkdir(parents=True, exist_ok=True)
        partial = tree.with_name(tree.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(partial)], input=archive, check=True)
        partial.rename(tree)
    shutil.copyfile(__file__, tree / "bench" / "ingest_now.py")
    done = subprocess.run([sys.executable, str(tree / "bench" / "ingest_now.py"), *argv], cwd=tree,
                          stdout=subprocess.PIPE, text=True, check=True)
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--posts", type=int, default=2000, help="new posts per way (a multiple of 20)")
    parser.add_argument("--before", metavar="COMMIT", help="first run this bench on the code at COMMIT")
    parser.add_argument("--ways", help="only these ways, e.g. overlapped,reparse (full, overlapped, reparse, "
                        "stored, store); the pool's figures need overlapped")
    args = parser.parse_args()
    began = time.perf_counter()
    sum(range(10**6))
    print(f"CPU check: sum(range(10**6)) {1000 * (time.perf_counter() - began):.0f} ms (~15 ms on an idle core); "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    if args.before:
        print(f"before ({args.before}):")
        ways = ["--ways", args.ways] if args.ways else []
        print(_before(args.before, ["--sizes", args.sizes, "--posts", str(args.posts), *ways]).split("\n", 1)[1], flush=True)
        print("after (this tree):")
    sizes = [int(s) for s in args.sizes.split(",")]
    only = set(args.ways.split(",")) if args.ways else None
    table = {size: measure(size, args.posts, only) for size in sizes}
    keys = list(next(iter(table.values())))
    print(f"{args.posts:,} new posts of ~800 characters in pages of {PAGE_SIZE}; posts/s unless said")
    print("| archive size | " + " | ".join(keys) + " |")
    print("|---|" + "---|" * len(keys))
    for size, row in table.items():
        print(f"| {size:,} | " + " | ".join(f"{row[k]:.2f}" if k.startswith("GB") or "ms/post" in k else f"{row[k]:,.0f}"
                                        for k in keys) + " |")


if __name__ == "__main__":
    main()
