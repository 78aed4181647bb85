"""The archive file: migrations, one writer, transactions that land whole or not at all."""

from __future__ import annotations

import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import aiosqlite
import pytest

from collectors.base import RawPost
from storage.database import Database, write_batch
from storage.errors import SchemaTooNewError, StorageError
from storage.posts import VANISHED_SQL, upsert_posts, vanished_posts
from storage.schema import MIGRATIONS, SCHEMA_VERSION, m015_ingest_indexes
from storage.sources import backoff_delay, ensure_source


def _post(external_id: str, text: str) -> RawPost:
    return RawPost(stream="dsns_telegram", external_id=external_id, url=None,
                   published_at=datetime(2024, 5, 1, tzinfo=UTC), text=text)


async def test_new_archive_is_migrated_wal_and_owner_only(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    try:
        assert (await db.fetchone("PRAGMA user_version"))[0] == SCHEMA_VERSION
        assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"sources", "posts", "post_versions", "media", "post_media", "analyses", "posts_words"} <= tables
        # Indexes nothing reads any more are not kept up on every insert.
        assert not {"posts_fts", "posts_search"} & tables
    finally:
        await db.close()
    assert stat.S_IMODE((tmp_path / "a.db").stat().st_mode) == 0o600


async def test_refuses_schema_newer_than_code(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaTooNewError, match="upgrade dsns-monitor"):
        await Database.open(path)


async def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    try:
        source = await ensure_source(db, "dsns_telegram", "telegram_web", None)
        with pytest.raises(RuntimeError):
            async with db.write() as conn:
                await upsert_posts(conn, source.id, [_post("1", "перший")])
                raise RuntimeError("crash mid-transaction")
        assert (await db.fetchone("SELECT count(*) FROM posts"))[0] == 0
        # A nested write that fails rolls back only its savepoint.
        async with db.write() as conn:
            await upsert_posts(conn, source.id, [_post("2", "другий")])
            with pytest.raises(RuntimeError):
                async with db.write() as inner:
                    await upsert_posts(inner, source.id, [_post("3", "третій")])
                    raise RuntimeError
        assert [r[0] for r in await db.fetchall("SELECT external_id FROM posts")] == ["2"]
    finally:
        await db.close()


async def test_same_post_twice_is_one_row_edit_is_a_version(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    try:
        source = await ensure_source(db, "dsns_telegram", "telegram_web", None)
        async with db.write() as conn:
            first = await upsert_posts(conn, source.id, [_post("7", "текст")])
            again = await upsert_posts(conn, source.id, [_post("7", "текст")])
            edited = await upsert_posts(conn, source.id, [_post("7", "текст, уточнено")])
        assert [c.kind for c in first] == ["new"] and again == [] and [c.kind for c in edited] == ["edited"]
        assert edited[0].post.version == 2
        assert (await db.fetchone("SELECT count(*) FROM posts"))[0] == 1
    finally:
        await db.close()


def test_backoff_doubles_is_capped_and_honours_retry_after() -> None:
    assert [backoff_delay(n, interval=60, retry_after=None, max_backoff=600) for n in (1, 2, 3, 4, 5)] == [60, 120, 240, 480, 600]
    assert backoff_delay(1, interval=60, retry_after=900, max_backoff=600) == 900
    assert backoff_delay(50, interval=60, retry_after=None, max_backoff=3600) == 3600


async def test_m015_drops_unread_indexes_and_numbers_posts_on_an_index(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    before = MIGRATIONS.index(m015_ingest_indexes)
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        for migration in MIGRATIONS[:before]:
            await migration(conn)
        await conn.execute(f"PRAGMA user_version = {before}")
        await conn.executemany(
            """INSERT INTO posts (stream, external_id, text, text_hash, first_seen_at, updated_at, deleted_at)
               VALUES (?, ?, 'x', 'h', '2024-05-01T00:00:00Z', '2024-05-01T00:00:00Z', ?)""",
            [("dsns_telegram", "9", None), ("dsns_telegram", "10", None), ("dsns_telegram", "11", "2024-05-02"),
             ("dsns_telegram", "12", None), ("dsns_telegram", "200", None), ("other", "10", None)],
        )
    db = await Database.open(path)
    try:
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
        assert not {"posts_fts", "posts_search", "posts_fts_insert", "posts_search_insert"} & tables
        async with db.write() as conn:
            # Posts archived before the migration are numbered too; deleted and seen ones are not gone.
            assert await vanished_posts(conn, "dsns_telegram", 10, 100, {"12"}) == ["10"]
        plan = " ".join(r[3] for r in await db.fetchall(f"EXPLAIN QUERY PLAN {VANISHED_SQL}", ("s", 1, 2)))
        assert "posts_external_num" in plan
    finally:
        await db.close()


async def test_word_index_reads_the_posts_text_and_follows_edits_exactly(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    try:
        source = await ensure_source(db, "dsns_telegram", "telegram_web", None)
        async with db.write() as conn:
            await upsert_posts(conn, source.id, [_post("1", "Пожежа в Ізюмі"), _post("2", "Обстріл Харкова")])
            await upsert_posts(conn, source.id, [_post("1", "Пожежу в Ізюмі ліквідовано")])
            await upsert_posts(conn, source.id, [_post("1", "Пожежу в Ізюмі ліквідовано, загиблих немає")])
            # A version with a wording the post does not hold (not what an upsert writes) is indexed too.
            await conn.execute(
                "INSERT INTO post_versions (post_id, version, text, text_hash, seen_at) "
                "SELECT id, 9, 'чернетка Балаклія', 'h', 'now' FROM posts WHERE external_id = '2'")
            await conn.execute("UPDATE posts SET published_at = '2024-05-02T00:00:00Z' WHERE external_id = '2'")

        async def found(word: str) -> list[str]:
            rows = await db.fetchall(
                "SELECT p.external_id FROM posts_words w JOIN posts p ON p.search_key = w.rowid "
                "WHERE posts_words MATCH ? ORDER BY 1", (word,))
            return [r[0] for r in rows]

        assert await found("ліквідовано") == ["1"]
        assert await found("Пожежа") == ["1"]  # the first wording, kept as an earlier version
        assert await found("немає") == ["1"] and await found("Балаклія") == ["2"] and await found("Харкова") == ["2"]
        # Every row the index holds is the one its content gives (no copy of the text is kept).
        async with db.write() as conn:
            await conn.execute("INSERT INTO posts_words (posts_words, rank) VALUES ('integrity-check', 1)")
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
        assert "posts_words_content" not in tables
    finally:
        await db.close()


async def test_write_batch_runs_in_order_counts_each_and_fails_whole(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    try:
        async with db.write() as conn:
            await conn.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
            changed = await write_batch(conn, [
                ("INSERT INTO t (k, v) VALUES (?, ?)", [(1, "a"), (2, "b")]),
                ("UPDATE t SET v = ? WHERE k = ?", []),  # no rows: nothing run, 0 changed
                ("UPDATE t SET v = v || ? WHERE k = ?", [("x", 1), ("y", 3)]),  # sees the insert; k 3 is none
            ])
        assert changed == [2, 0, 1]
        assert await write_batch(conn, [("DELETE FROM t WHERE k = ?", [])]) == [0]
        # A failing statement fails the write as any statement does, and it goes back whole.
        with pytest.raises(StorageError, match="UNIQUE"):
            async with db.write() as conn:
                await write_batch(conn, [
                    ("INSERT INTO t (k, v) VALUES (?, ?)", [(5, "e")]),
                    ("INSERT INTO t (k, v) VALUES (?, ?)", [(1, "dup")]),
                ])
        assert [tuple(r) for r in await db.fetchall("SELECT k, v FROM t ORDER BY k")] == [(1, "ax"), (2, "b")]
    finally:
        await db.close()


async def test_a_page_of_posts_is_one_segment_of_the_word_index(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    try:
        source = await ensure_source(db, "dsns_telegram", "telegram_web", None)
        async with db.write() as conn:
            changes = await upsert_posts(conn, source.id, [_post(str(n), f"Пожежа номер {n} в Ізюмі") for n in range(1, 31)])
        # Each post got its own id back from the multi-row insert.
        ids = {c.post.external_id: c.post.id for c in changes}
        rows = await db.fetchall("SELECT external_id, id FROM posts")
        assert ids == {r[0]: r[1] for r in rows} and len(ids) == 30
        # One segment for the page (a statement per post flushed one per post), merged 16 at a time.
        assert (await db.fetchone("SELECT count(DISTINCT segid) FROM posts_words_idx"))[0] == 1
        assert (await db.fetchone("SELECT v FROM posts_words_config WHERE k = 'automerge'"))[0] == 16
        found = await db.fetchall("SELECT rowid FROM posts_words WHERE posts_words MATCH 'Ізюмі'")
        assert len(found) == 30
        # A batch larger than one statement takes (a reparse's 200) gets its ids right across them.
        async with db.write() as conn:
            changes = await upsert_posts(conn, source.id, [_post(str(n), f"Обстріл {n}") for n in range(200, 0, -1)])
        rows = await db.fetchall("SELECT external_id, id, text FROM posts")
        assert {c.post.external_id: (c.post.id, c.raw.text) for c in changes} == {r[0]: (r[1], r[2]) for r in rows}
        assert len(changes) == 200 and [c.post.external_id for c in changes][:2] == ["200", "199"]
    finally:
        await db.close()
