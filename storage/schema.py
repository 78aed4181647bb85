"""Named migrations, applied in order, each in its own transaction with its version.

`PRAGMA user_version` holds the number of migrations applied; opening an archive written by a
newer dsns-monitor is refused rather than risk corrupting it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiosqlite

from storage.errors import SchemaTooNewError, StorageError

__all__ = ["migrate", "run_script", "MIGRATIONS", "SCHEMA_VERSION"]

Migration = Callable[[aiosqlite.Connection], Awaitable[None]]


async def run_script(conn: aiosqlite.Connection, script: str) -> None:
    """Run DDL statement by statement: `executescript` would COMMIT the migration's transaction."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            await conn.execute(statement)
            statement = ""
    if statement.strip():
        raise StorageError(f"incomplete SQL statement in migration: {statement.strip()[:80]}")


async def m001_initial(conn: aiosqlite.Connection) -> None:
    await run_script(
        conn,
        """
        CREATE TABLE sources (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            type TEXT NOT NULL,
            url TEXT,
            cursor TEXT,
            etag TEXT,
            last_modified TEXT,
            error_count INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            checked_at TEXT,
            last_success_at TEXT,
            next_check_at TEXT,
            created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        );

        -- stream: the Telegram channel username or the feed name. A channel read by the web
        -- preview and by MTProto is one stream, so its posts are one set of rows.
        CREATE TABLE posts (
            id INTEGER PRIMARY KEY,
            stream TEXT NOT NULL,
            external_id TEXT NOT NULL,
            source_id INTEGER REFERENCES sources(id),
            url TEXT,
            published_at TEXT,
            title TEXT,
            text TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            kind TEXT NOT NULL DEFAULT 'message',
            edited INTEGER NOT NULL DEFAULT 0,
            views INTEGER,
            forwarded_from TEXT,
            link_preview TEXT,
            version INTEGER NOT NULL DEFAULT 1,
            first_seen_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            deleted_at TEXT,
            UNIQUE (stream, external_id)
        );
        CREATE INDEX posts_published ON posts (published_at);
        CREATE INDEX posts_source ON posts (source_id, published_at);

        CREATE TABLE post_versions (
            id INTEGER PRIMARY KEY,
            post_id INTEGER NOT NULL REFERENCES posts(id),
            version INTEGER NOT NULL,
            title TEXT,
            text TEXT NOT NULL,
            text_hash TEXT NOT NULL,
            seen_at TEXT NOT NULL,
            UNIQUE (post_id, version)
        );

        CREATE TABLE media (
            sha256 TEXT PRIMARY KEY,
            mime TEXT NOT NULL,
            size INTEGER NOT NULL,
            data BLOB NOT NULL,
            first_seen_at TEXT NOT NULL
        );

        -- One row per photo slot of a post; sha256 stays NULL until the download succeeds,
        -- so failed downloads are retried on later polls without holding back the text.
        CREATE TABLE post_media (
            post_id INTEGER NOT NULL REFERENCES posts(id),
            position INTEGER NOT NULL,
            url TEXT NOT NULL,
            sha256 TEXT REFERENCES media(sha256),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            PRIMARY KEY (post_id, position)
        );
        CREATE INDEX post_media_pending ON post_media (sha256) WHERE sha256 IS NULL;

        CREATE TABLE analyses (
            post_id INTEGER PRIMARY KEY REFERENCES posts(id),
            version TEXT NOT NULL,
            is_strike INTEGER NOT NULL,
            weapons TEXT NOT NULL,
            oblasts TEXT NOT NULL,
            places TEXT NOT NULL,
            killed INTEGER,
            injured INTEGER,
            children_killed INTEGER,
            children_injured INTEGER,
            analyzed_at TEXT NOT NULL
        );

        CREATE VIRTUAL TABLE posts_fts USING fts5(
            title, text, content='posts', content_rowid='id',
            tokenize='unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN
            INSERT INTO posts_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
        END;
        CREATE TRIGGER posts_fts_delete AFTER DELETE ON posts BEGIN
            INSERT INTO posts_fts (posts_fts, rowid, title, text)
            VALUES ('delete', old.id, old.title, old.text);
        END;
        CREATE TRIGGER posts_fts_update AFTER UPDATE OF title, text ON posts BEGIN
            INSERT INTO posts_fts (posts_fts, rowid, title, text)
            VALUES ('delete', old.id, old.title, old.text);
            INSERT INTO posts_fts (rowid, title, text) VALUES (new.id, new.title, new.text);
        END;
        """
    )


MIGRATIONS: list[Migration] = [m001_initial]
SCHEMA_VERSION = len(MIGRATIONS)


async def migrate(conn: aiosqlite.Connection, path: Path) -> None:
    """Apply the migrations the archive lacks; refuse one newer than this code."""
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    current = int(row[0]) if row else 0
    if current > SCHEMA_VERSION:
        raise SchemaTooNewError(
            f"{path}: schema version {current} is newer than this dsns-monitor supports "
            f"({SCHEMA_VERSION}); upgrade dsns-monitor"
        )
    for version, migration in enumerate(MIGRATIONS[current:], start=current + 1):
        try:
            await conn.execute("BEGIN IMMEDIATE")
            await migration(conn)
            await conn.execute(f"PRAGMA user_version = {version}")
            await conn.execute("COMMIT")
        except sqlite3.Error as exc:
            await conn.execute("ROLLBACK")
            raise StorageError(f"{path}: migration {migration.__name__} failed: {exc}") from exc
