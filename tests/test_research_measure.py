"""The measurement behind research/query.py's choice, on a small labelled set: query words
expanded to their forms against a word index (chosen), a lemmatised FTS column, and trigram
substrings of the shared stem. Run with `-s` to see the figures. Also: the search's own SQL on a
real archive (the plan streams the index, no sort), paging, edits and the migration's backfill.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite

from research.query import (
    parse_query,
    region_filter,
    search_posts,
    search_sql,
    text_words,
    word_forms,
    word_lemmas,
)
from storage.database import Database
from storage.schema import MIGRATIONS, migrate

CORPUS = [
    "Харківщина: внаслідок ракетного удару по Балаклії зруйновано будинок.",          # 0
    "Балаклія: рятувальники ліквідували пожежу на складі.",                           # 1
    "У Балаклію прибули додаткові пожежно-рятувальні підрозділи.",                    # 2
    "Одещина: вночі ворог атакував ударними БпЛА порт. Виникла пожежа.",               # 3
    "Пожежно-рятувальні підрозділи провели навчання у Полтаві.",                       # 4
    "Київ: уламки дрона впали у Дарницькому районі.",                                  # 5
    "Через атаку на Київ у столиці пошкоджено будинки.",                               # 6
    "Рятувальники Києва ліквідували пожежі у трьох районах.",                          # 7
    "Пожежники гасили загоряння у Харкові після обстрілу.",                            # 8
    "Обстріли Харківщини: у Харкові загинула людина.",                                 # 9
    "Дніпропетровщина: внаслідок обстрілу Нікополя з артилерії пошкоджено будинки.",  # 10
    "Нікополь знову під вогнем: артилерійський обстріл.",                              # 11
    "Загинули 2 людини, ще 11 травмовані внаслідок удару дронів.",                     # 12
    "Ворожий дрон атакував автомобіль, водій загинув.",                               # 13
    "Ізюм: обстріл, пошкоджено школу.",                                                # 14
    "В Ізюмі відновили електропостачання.",                                            # 15
    "Херсонщина: авіаудар КАБами по Бериславу, загинула людина.",                      # 16
]
QUERIES: dict[str, set[int]] = {
    "Балаклія": {0, 1, 2},
    "пожежа": {1, 3, 7},
    "Київ": {5, 6, 7},
    "Харків": {8, 9},
    "обстріл": {8, 9, 10, 11, 14},
    "Нікополь": {10, 11},
    "дрон": {5, 12, 13},
    "загинути": {9, 12, 13, 16},
    "Ізюм": {14, 15},
    "удар": {0, 12},
    "рятувальники": {1, 7},
    "будинок": {0, 6, 10},
}


def _score(results: dict[str, set[int]]) -> tuple[float, float]:
    hits = sum(len(results[q] & want) for q, want in QUERIES.items())
    found = sum(len(results[q]) for q in QUERIES)
    wanted = sum(len(w) for w in QUERIES.values())
    return hits / wanted, hits / max(found, 1)


def _index_size(db: sqlite3.Connection, table: str) -> int:
    return sum(len(r[0]) for r in db.execute(f"SELECT block FROM {table}_data"))


def _lemma_column() -> tuple[dict[str, set[int]], int, float]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(lemmas, tokenize='unicode61 remove_diacritics 0')")
    started = time.perf_counter()
    for i, text in enumerate(CORPUS):
        lemmas = " ".join(lemma for w in text_words(text) for lemma in sorted(word_lemmas(w)))
        db.execute("INSERT INTO f (rowid, lemmas) VALUES (?, ?)", (i, lemmas))
    db.commit()  # FTS5 keeps pending terms in memory until the transaction ends
    build = time.perf_counter() - started
    results = {}
    for q in QUERIES:
        expr = " AND ".join("(" + " OR ".join(f'"{lm}"' for lm in word_lemmas(w)) + ")" for w in text_words(q))
        results[q] = {r[0] for r in db.execute("SELECT rowid FROM f WHERE f MATCH ?", (expr,))}
    return results, _index_size(db, "f"), build


def _word_forms() -> tuple[dict[str, set[int]], int]:
    """What search_posts does: the query's forms against a unicode61 word index, SQL only."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(text, tokenize='unicode61 remove_diacritics 0')")
    db.executemany("INSERT INTO f (rowid, text) VALUES (?, ?)", list(enumerate(CORPUS)))
    db.commit()
    results = {q: {r[0] for r in db.execute("SELECT rowid FROM f WHERE f MATCH ?", (parse_query(q).fts(),))}
               for q in QUERIES}
    return results, _index_size(db, "f")


def _trigram_stem() -> tuple[dict[str, set[int]], int]:
    """The shared beginning of a word's forms as a trigram substring (the previous index)."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(text, tokenize='trigram')")
    db.executemany("INSERT INTO f (rowid, text) VALUES (?, ?)", list(enumerate(CORPUS)))
    db.commit()
    results = {}
    for q in QUERIES:
        stems = []
        for w in text_words(q):
            forms = sorted(f for f in word_forms(w) if f[:2] == w[:2])
            stem = forms[0]
            for f in forms[1:]:
                while not f.startswith(stem):
                    stem = stem[:-1]
            stems.append(f'"{stem}"')
        results[q] = {r[0] for r in db.execute("SELECT rowid FROM f WHERE f MATCH ?", (" AND ".join(stems),))}
    return results, _index_size(db, "f")


def test_measure_word_forms_vs_lemma_column_vs_trigram() -> None:
    lemma, lemma_size, _ = _lemma_column()
    forms, forms_size = _word_forms()
    stem_only, tri_size = _trigram_stem()
    figures = {"word forms (chosen)": _score(forms), "lemma column": _score(lemma), "trigram + stem": _score(stem_only)}
    text_size = sum(len(t.encode()) for t in CORPUS)
    for name, (recall, precision) in figures.items():
        print(f"{name:30} recall {recall:.2f} precision {precision:.2f}")
    print(f"index bytes: word forms {forms_size}, lemma {lemma_size}, trigram {tri_size}, text {text_size}")
    recall, precision = figures["word forms (chosen)"]
    assert recall == 1.0 and precision == 1.0, forms
    assert figures["trigram + stem"][1] < 0.9  # stems overmatch (пожеж- in "пожежно-рятувальні")
    assert figures["lemma column"][0] >= 0.9
    assert forms_size < tri_size


# -- the search's SQL on a real archive ---------------------------------------------------------

_POSTS = [  # (published, text)
    ("2025-03-01T10:00:00Z", "Харківщина: рятувальники ліквідували пожежу по Балаклії."),
    ("2025-03-03T10:00:00Z", "Балаклія: внаслідок ракетного удару зруйновано склад."),
    ("2025-03-02T10:00:00Z", "Пожежно-рятувальні підрозділи Балаклії провели навчання."),
    ("2025-03-04T10:00:00Z", "Одещина: ракетний удар по порту, виникла пожежа."),
    ("2025-03-05T10:00:00Z", "Київ: удар ракетний, пошкоджено будинок."),
]


async def _fill(conn: aiosqlite.Connection) -> None:
    for i, (published, text) in enumerate(_POSTS, start=1):
        await conn.execute(
            """INSERT INTO posts (stream, external_id, published_at, text, text_hash, first_seen_at, updated_at)
               VALUES ('dsns', ?, ?, ?, ?, ?, ?)""", (str(i), published, text, str(i), published, published))
        oblast = "UA-51" if "Одещина" in text else "UA-63"
        await conn.execute(
            """INSERT INTO analyses (post_id, version, is_strike, weapons, oblasts, places, analyzed_at)
               VALUES (?, 't', 1, '[]', ?, '[]', ?)""", (i, f'["{oblast}"]', published))


async def _search(db: Database, text: str, **kwargs: object) -> list[dict]:
    return [r async for r in search_posts(db, parse_query(text), **kwargs)]  # type: ignore[arg-type]


async def test_search_sql_streams_the_word_index_newest_first(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    try:
        async with db.write() as conn:
            await _fill(conn)
        rows = await _search(db, "Балаклія")
        assert [r["external_id"] for r in rows] == ["2", "3", "1"]  # newest first, every form
        assert [r["external_id"] for r in await _search(db, "пожежа")] == ["4", "1"]  # not "пожежно-"
        assert [r["external_id"] for r in await _search(db, '"ракетний удар"')] == ["4", "2"]  # adjacent only
        assert [r["external_id"] for r in await _search(db, "удар -Київ")] == ["4", "2"]
        region = region_filter("UA-51")[0]  # type: ignore[index]
        assert [r["external_id"] for r in await _search(db, "пожежа", region=region)] == ["4"]
        since = datetime(2025, 3, 2, tzinfo=UTC)
        assert [r["external_id"] for r in await _search(db, "Балаклія", since=since)] == ["2", "3"]
        # Pages: by cursor and by count, each a slice of the one long list.
        first = await _search(db, "Балаклія", limit=2)
        assert [r["external_id"] for r in await _search(db, "Балаклія", after=first[-1]["cursor"])] == ["1"]
        assert [r["external_id"] for r in await _search(db, "Балаклія", limit=2, skip=2)] == ["1"]
        # An edit: the new wording and the earlier one both find the post.
        async with db.write() as conn:  # as storage/posts.py does: version 1 at arrival, then the edit
            await conn.execute("""INSERT INTO post_versions (post_id, version, text, text_hash, seen_at)
                                  SELECT id, 1, text, text_hash, 'then' FROM posts WHERE id = 5""")
            await conn.execute("UPDATE posts SET text = 'Київ: уламки дрона впали на дах.' WHERE id = 5")
            await conn.execute("""INSERT INTO post_versions (post_id, version, text, text_hash, seen_at)
                                  VALUES (5, 2, 'Київ: уламки дрона впали на дах.', 'x', 'now')""")
        assert [r["external_id"] for r in await _search(db, "дрон")] == ["5"]
        assert "5" in [r["external_id"] for r in await _search(db, "будинок")]
        # The plan: the FTS index delivers rows in order (no sort of every match), posts by rowid.
        sql, params = search_sql(parse_query("Балаклія пожежа"), region=region, strikes=True)
        plan = " | ".join(r[3] for r in await db.fetchall("EXPLAIN QUERY PLAN " + sql, (*params, 1 << 62, 50)))
        assert "VIRTUAL TABLE INDEX" in plan and "TEMP B-TREE" not in plan, plan
        assert plan.count("USING INTEGER PRIMARY KEY (rowid=?)") == 2, plan  # posts, analyses
    finally:
        await db.close()


async def test_migration_backfills_the_word_index(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    async with aiosqlite.connect(path) as conn:
        conn.row_factory = aiosqlite.Row
        before = next(i for i, m in enumerate(MIGRATIONS) if m.__name__.endswith("_search_lemmas"))
        for version, migration in enumerate(MIGRATIONS[:before], start=1):
            await conn.execute("BEGIN IMMEDIATE")
            await migration(conn)
            await conn.execute(f"PRAGMA user_version = {version}")
            await conn.execute("COMMIT")
        await conn.execute("BEGIN")
        await _fill(conn)
        await conn.execute("COMMIT")
        await migrate(conn, path)
    db = await Database.open(path)
    try:
        assert [r["external_id"] for r in await _search(db, "Балаклія")] == ["2", "3", "1"]
    finally:
        await db.close()
