"""Search latency at 10^4, 10^5 and 10^6 posts through the word-form index.

Builds (once; cached in /tmp/dsns-bench) archives of realistic posts: ~800 characters of
DSNS-style Ukrainian written from templates, with gazetteer place names in inflected forms,
published at random moments of a year (so id order is not date order, as after a backfill),
each with an analysis row (oblasts, places) for `--region`. A larger archive starts from the
largest one already built (100,000 or 10,000 generated posts) and repeats its posts at other
moments of the year by SQL (generating costs ~2 ms a post; word frequencies stay the same). The archive is created by
storage's migrations (Database.open); rows go in by executemany into `posts` and `analyses`,
and the schema's triggers fill the word index (posts_words) as they do for the daemon's writes.

Then it times `search_posts` (first page of 50, as `dsns-monitor search` runs it) for each
query kind of issue 19. Prints p50/p95 per kind and size, the archive size per 100,000 posts
and the cost of the migration's backfill of the word index. (The old implementation, the
trigram index + a word check in Python, was timed here against the same archives until m011
dropped its index: 15 s to over 120 s a query, see issue 19.)

    python bench/search.py [--sizes 10000,100000,1000000] [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import sqlite3
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.gazetteer import get_gazetteer  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.schema import SCHEMA_VERSION  # noqa: E402
from research.query import parse_query, region_filter, search_posts, word_forms  # noqa: E402

CACHE = Path(os.environ.get("DSNS_BENCH_DIR", "/tmp/dsns-bench"))
RARE_VILLAGE = "UA63040010010039074"  # Балаклія stands in for a village: its posts are placed, not drawn
RARE_EVERY = 20_000
GENERATED = 100_000  # texts written from templates; larger archives repeat them (see _copy_posts)
SEED = 19

# (kind, queries, region): a kind's p95 is over all its queries and runs.
KINDS: list[tuple[str, list[str], str | None]] = [
    ("common word", ["Харків", "Одеса", "Дніпро"], None),
    ("two words", ["Харків пожежа", "Одеса пожежа", "Дніпро пожежа"], None),
    ("word + --region UA-63", ["пожежа", "обстріл"], "UA-63"),
    ("word in most posts", ["рятувальники"], None),
    ("quoted phrase", ['"ракетного удару"', '"ударних безпілотників"'], None),
    ("rare village", ["Балаклія"], None),
    ("inflected town", ["Харкові", "Одесі"], None),
]

OPENINGS = [
    "{place_nom}: внаслідок ракетного удару пошкоджено {object}.",
    "{place_nom}: ліквідовано пожежу, що виникла внаслідок атаки ударних безпілотників.",
    "{place_nom}: рятувальники ліквідували пожежу в {object_loc}.",
    "{place_nom}: внаслідок обстрілу виникла пожежа на території {object_gen}.",
    "{place_nom}: вогнеборці загасили пожежу в сухостої на площі {area} га.",
    "{place_nom}: під час повітряної тривоги уламки збитого дрона впали на {object}.",
]
SENTENCES = [
    "Вчора о {hh}:{mm} до Служби порятунку надійшло повідомлення про пожежу у {place_loc}.",
    "На місце події оперативно прибули рятувальники {n} пожежно-рятувальної частини.",
    "Внаслідок ракетного удару по {place_dat} зруйновано {object} та пошкоджено {n} автомобілів.",
    "Рятувальники ліквідували пожежу на площі {area} кв. м, загорання не допустили поширення на сусідні будівлі.",
    "Вогнеборці деблокували з-під завалів {n} людей, надано домедичну допомогу.",
    "Піротехніки ДСНС обстежили територію та знешкодили {n} вибухонебезпечних предметів.",
    "До ліквідації наслідків залучалися {n} одиниць техніки та {people} рятувальників.",
    "Поблизу {place_gen} ворог атакував ударними безпілотниками об'єкт критичної інфраструктури.",
    "Психологи ДСНС надали допомогу {n} постраждалим мешканцям {place_gen}.",
    "Загинула {n} людина, ще {people} травмовано, серед них дитина.",
    "Пожежа виникла внаслідок обстрілу з артилерії, вогонь охопив {object}.",
    "Роботи на місці події тривали {n} години, пошуково-рятувальна операція завершена.",
    "Мешканців {place_gen} закликають не наближатися до уламків та повідомляти за номером 101.",
    "Станом на ранок у {place_loc} тривають аварійно-рятувальні роботи, працюють кінологи.",
]
OBJECTS = [("приватний будинок", "приватному будинку", "приватного будинку"),
           ("складське приміщення", "складському приміщенні", "складського приміщення"),
           ("багатоповерхівку", "багатоповерхівці", "багатоповерхівки"),
           ("адмінбудівлю", "адмінбудівлі", "адмінбудівлі"),
           ("автомобіль", "автомобілі", "автомобіля"),
           ("господарчу споруду", "господарчій споруді", "господарчої споруди")]


class Places:
    """Single-word settlement names with their forms; oblast centres weighted up, as in the news."""

    def __init__(self, rng: random.Random) -> None:
        g = get_gazetteer()
        self.rng = rng
        self.units = [u for u in g.units.values() if u.level in ("settlement", "city")
                      and u.name_uk.isalpha() and u.code != RARE_VILLAGE]
        self.centres = [g.units[o.centre] for o in g.oblasts() if o.centre in g.units]
        self.rare = g.units[RARE_VILLAGE]
        self._forms: dict[str, list[str]] = {}

    def pick(self, index: int) -> object:
        if index % RARE_EVERY == 7:
            return self.rare
        return self.rng.choice(self.centres) if self.rng.random() < 0.35 else self.rng.choice(self.units)

    def form(self, name: str) -> str:
        forms = self._forms.get(name)
        if forms is None:
            forms = self._forms[name] = sorted(word_forms(name.lower()))
        return self.rng.choice(forms).capitalize()


def make_post(index: int, places: Places, start: datetime) -> tuple[tuple, tuple]:
    rng = places.rng
    unit = places.pick(index)
    name = unit.name_uk  # type: ignore[attr-defined]
    obj = rng.choice(OBJECTS)

    def fill(template: str) -> str:
        return template.format(
            place_nom=name, place_loc=places.form(name), place_dat=places.form(name),
            place_gen=places.form(name), object=obj[0], object_loc=obj[1], object_gen=obj[2],
            hh=f"{rng.randrange(24):02}", mm=f"{rng.randrange(60):02}", n=rng.randrange(1, 30),
            people=rng.randrange(2, 60), area=rng.randrange(10, 900),
        )

    parts = [fill(rng.choice(OPENINGS))]
    while sum(map(len, parts)) < 760:
        parts.append(fill(rng.choice(SENTENCES)))
    text = " ".join(parts)
    published = start + timedelta(seconds=rng.randrange(365 * 86400))
    stream = f"dsns_{unit.oblast.lower().replace('-', '_')}"  # type: ignore[attr-defined]
    seen = published.strftime("%Y-%m-%dT%H:%M:%SZ")
    post = (stream, str(index), f"https://t.me/{stream}/{index}", seen, text,
            hashlib.sha256(text.encode()).hexdigest(), seen, seen)
    place = {"code": unit.code, "name": name, "level": unit.level}  # type: ignore[attr-defined]
    analysis = (index + 1, "bench", int("удар" in text), "[]", json.dumps([unit.oblast]),  # type: ignore[attr-defined]
                json.dumps([place], ensure_ascii=False), seen)
    return post, analysis


def _copy_posts(conn: sqlite3.Connection, first: int, n: int, generated: int) -> None:
    """Posts first..first+n as copies of generated ones at other moments of the year: the same
    words in the same proportions, written by SQL (generating every text costs ~2 ms a post)."""
    offset = first // generated * generated
    conn.execute(
        """INSERT INTO posts (id, stream, external_id, url, published_at, text, text_hash, first_seen_at, updated_at)
           SELECT id + :offset, stream, CAST(id + :offset - 1 AS TEXT), url || '?c=' || :offset, t, text, text_hash, t, t
           FROM (SELECT id, stream, url, text, text_hash,
                        strftime('%Y-%m-%dT%H:%M:%SZ', '2025-01-01', '+' || (abs(random()) % 31536000) || ' seconds') AS t
                 FROM posts WHERE id > :lo AND id <= :hi)""",
        {"offset": offset, "lo": first - offset, "hi": first - offset + n})
    conn.execute(
        """INSERT INTO analyses (post_id, version, is_strike, weapons, oblasts, places, analyzed_at)
           SELECT post_id + :offset, version, is_strike, weapons, oblasts, places, analyzed_at
           FROM analyses WHERE post_id > :lo AND post_id <= :hi""",
        {"offset": offset, "lo": first - offset, "hi": first - offset + n})


async def _migrate(path: Path) -> None:
    db = await Database.open(path)
    await db.close()


def _path(count: int) -> Path:
    return CACHE / f"search-v{SCHEMA_VERSION}-{count}.db"


def migrated_copy(kind: str, count: int, partial: Path) -> bool:
    """Copy the newest cached `kind` archive ("search", "research") of `count` posts of an older
    schema to `partial` and bring it up to date by the migrations it lacks (a copy: seconds,
    where building one of 10^6 takes many minutes); False when there is none or they do not
    apply (then it is built anew)."""
    older = next((p for v in range(SCHEMA_VERSION - 1, 0, -1)
                  if (p := CACHE / f"{kind}-v{v}-{count}.db").exists()), None)
    if older is None:
        return False
    print(f"  migrating {older.name} to schema {SCHEMA_VERSION}", file=sys.stderr, flush=True)
    shutil.copyfile(older, partial)
    try:
        asyncio.run(_migrate(partial))
    except Exception as exc:  # noqa: BLE001 - then built anew
        print(f"  cannot ({exc}): building anew", file=sys.stderr, flush=True)
        partial.unlink(missing_ok=True)
        return False
    return True


def build(count: int) -> Path:
    """The cached archive of `count` posts, built if missing."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = _path(count)
    if path.exists():
        return path
    if migrated_copy("search", count, path.with_suffix(".partial")):
        return path.with_suffix(".partial").rename(path)
    partial = path.with_suffix(".partial")
    for leftover in CACHE.glob(partial.name + "*"):
        leftover.unlink()
    # The largest archive already built of generated posts is the start of this one.
    done = next((n for n in (GENERATED, 10_000) if count > n and _path(n).exists()), 0)
    if done:
        shutil.copyfile(_path(done), partial)
    else:
        asyncio.run(_migrate(partial))
    places = Places(random.Random(SEED))
    start = datetime(2025, 1, 1, tzinfo=UTC)
    conn = sqlite3.connect(partial)
    conn.execute("PRAGMA synchronous = OFF")  # a bench file: durability costs time, not results
    began = time.perf_counter()
    chunk = 10_000
    for first in range(done, count, chunk):
        n = min(count, first + chunk) - first
        with conn:
            if not done and first < GENERATED:
                rows = [make_post(i, places, start) for i in range(first, first + n)]
                conn.executemany(
                    """INSERT INTO posts (stream, external_id, url, published_at, text, text_hash,
                       first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""", [r[0] for r in rows])
                conn.executemany(
                    """INSERT INTO analyses (post_id, version, is_strike, weapons, oblasts, places, analyzed_at)
                       VALUES (?, ?, ?, ?, ?, ?, ?)""", [r[1] for r in rows])
            else:
                _copy_posts(conn, first, n, done or GENERATED)
        print(f"  built {first + n:,}/{count:,} posts ({time.perf_counter() - began:.0f} s)",
              file=sys.stderr, flush=True)
    conn.execute("ANALYZE")
    conn.close()
    partial.rename(path)
    return path


def _index_bytes(path: Path) -> dict[str, int] | None:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.OperationalError:
        return None  # SQLite built without dbstat
    finally:
        conn.close()
    out: dict[str, int] = {}
    for name, size in rows:
        for prefix in ("posts_words",):
            if name.startswith(prefix):
                out[prefix] = out.get(prefix, 0) + size
    out["posts"] = dict(rows).get("posts", 0)
    return out


def backfill_seconds(path: Path) -> float:
    """What m008's backfill of the word index costs on this archive (rolled back)."""
    from storage.schema import _WORDS_ROW  # noqa: PLC0415 - the migration's own statement

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.execute("CREATE VIRTUAL TABLE bench_words USING fts5(title, text, versions, "
                     "tokenize='unicode61 remove_diacritics 0', columnsize=0)")
        began = time.perf_counter()
        conn.execute(f"INSERT INTO bench_words (rowid, title, text, versions) {_WORDS_ROW}")
        return time.perf_counter() - began
    finally:
        conn.execute("ROLLBACK")
        conn.close()


async def time_new(path: Path, runs: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per kind: the warm runs, and each query's first run (its word forms computed, its index
    pages read from disk: what one CLI call pays)."""
    db = await Database.open(path, read_only=True)
    word_forms("пожежа")  # loads the morphology and gazetteer: a CLI start, not the search
    out: dict[str, list[float]] = {}
    first: dict[str, list[float]] = {}
    try:
        for kind, queries, region_name in KINDS:
            region = region_filter(region_name)[0] if region_name else None
            for query in queries:
                for run in range(runs + 1):
                    began = time.perf_counter()
                    parsed = parse_query(query)
                    found = [r async for r in search_posts(db, parsed, region=region, limit=50)]
                    (out if run else first).setdefault(kind, []).append(time.perf_counter() - began)
                    assert found, (kind, query)
    finally:
        await db.close()
    return out, first


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    value = ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if len(ordered) > 1 else ordered[0]
    return f"{value * 1000:.1f} ms" if value < 10 else f"{value:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=5, help="runs of each query (new index)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    began = time.perf_counter()
    sum(range(10**6))
    print(f"CPU check: sum(range(10**6)) {1000 * (time.perf_counter() - began):.0f} ms (~15 ms on an idle core); "
          f"load average {os.getloadavg()[0]:.1f}", flush=True)
    table: dict[int, tuple[dict, dict]] = {}
    for size in sizes:
        print(f"archive of {size:,} posts", file=sys.stderr, flush=True)
        path = build(size)
        new, first = asyncio.run(time_new(path, args.runs))
        table[size] = (new, first)
        per_100k = path.stat().st_size * 100_000 / size / 1e9
        parts = _index_bytes(path) if size <= 100_000 else None
        detail = ""
        if parts:
            detail = " (" + ", ".join(f"{k} {v * 100_000 / size / 1e9:.2f}" for k, v in parts.items()) + ")"
        backfill = backfill_seconds(path) if size == 100_000 else None
        print(f"{size:>9,} posts: archive {per_100k:.2f} GB per 100,000 posts{detail}"
              + (f"; m008 backfill {backfill:.1f} s ({backfill * 10:.0f} s at 10^6)" if backfill else ""))
    print()
    print("| query kind | " + " | ".join(f"{s:,}: p50 / p95 [first run]" for s in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for kind, _, _ in KINDS:
        cells = []
        for size in sizes:
            new, first = table[size]
            cells.append(f"{_ms(new[kind], 0.5)} / {_ms(new[kind], 0.95)} [{_ms(first[kind], 1.0)}]")
        print(f"| {kind} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
