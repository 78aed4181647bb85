"""Named migrations, applied in order, each in its own transaction with its version.

`PRAGMA user_version` holds the number of migrations applied; opening an archive written by a
newer dsns-monitor is refused rather than risk corrupting it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiosqlite

from analysis.gazetteer import ISO_NAMES_EN
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


async def m002_stories_and_alerts(conn: aiosqlite.Connection) -> None:
    await run_script(
        conn,
        """
        -- A story is one real event; every analysed post belongs to one. Its figures are the
        -- best current ones across its posts, and `revision` grows whenever they change, so
        -- alerts already sent can be edited to match.
        CREATE TABLE stories (
            id INTEGER PRIMARY KEY,
            is_strike INTEGER NOT NULL,
            oblasts TEXT NOT NULL,
            places TEXT NOT NULL,
            weapons TEXT NOT NULL,
            killed INTEGER,
            injured INTEGER,
            children_killed INTEGER,
            children_injured INTEGER,
            first_post_id INTEGER NOT NULL REFERENCES posts(id),
            first_seen_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            event_at TEXT,
            revision INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX stories_event ON stories (event_at);
        ALTER TABLE posts ADD COLUMN story_id INTEGER REFERENCES stories(id);
        CREATE INDEX posts_story ON posts (story_id);

        CREATE TABLE chats (
            chat_id INTEGER PRIMARY KEY,
            language TEXT NOT NULL DEFAULT 'uk',
            first_name TEXT,
            active INTEGER NOT NULL DEFAULT 1,
            muted_until TEXT,
            created_at TEXT NOT NULL,
            deactivated_at TEXT
        );

        -- region: an ISO 3166-2 code for an oblast (or Kyiv / Sevastopol city), else the
        -- KATOTTH code of a raion, hromada, settlement or city district.
        CREATE TABLE subscriptions (
            chat_id INTEGER NOT NULL REFERENCES chats(chat_id),
            region TEXT NOT NULL,
            region_name TEXT NOT NULL,
            level TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, region)
        );
        CREATE INDEX subscriptions_region ON subscriptions (region);

        -- One row per chat and story, written in the transaction that stores the post: a crash
        -- never loses an alert, the unique key never sends one twice. `revision` is the story
        -- revision wanted; `sent_revision` the one the chat has seen.
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL REFERENCES chats(chat_id),
            story_id INTEGER NOT NULL REFERENCES stories(id),
            post_id INTEGER NOT NULL REFERENCES posts(id),
            revision INTEGER NOT NULL,
            sent_revision INTEGER,
            status TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            last_error TEXT,
            message_id INTEGER,
            with_photo INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            UNIQUE (chat_id, story_id)
        );
        CREATE INDEX outbox_pending ON outbox (next_attempt_at, id) WHERE status = 'pending';

        CREATE TABLE bot_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """,
    )


async def m003_story_clustering(conn: aiosqlite.Connection) -> None:
    await run_script(
        conn,
        """
        -- The normalised features (places, oblasts, weapons, figures) a story was matched on,
        -- so the in-memory similarity index can be rebuilt after a restart.
        ALTER TABLE stories ADD COLUMN features TEXT NOT NULL DEFAULT '[]';
        ALTER TABLE stories ADD COLUMN deleted_posts INTEGER NOT NULL DEFAULT 0;

        -- Every change of a story's figures or places, for the record and for edited alerts.
        CREATE TABLE story_revisions (
            story_id INTEGER NOT NULL REFERENCES stories(id),
            revision INTEGER NOT NULL,
            post_id INTEGER NOT NULL REFERENCES posts(id),
            killed INTEGER,
            injured INTEGER,
            places TEXT NOT NULL,
            weapons TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            PRIMARY KEY (story_id, revision)
        );

        -- The same article under another feed: one post, several (stream, id) names for it.
        ALTER TABLE posts ADD COLUMN canonical_url TEXT;
        CREATE INDEX posts_canonical_url ON posts (canonical_url) WHERE canonical_url IS NOT NULL;
        CREATE TABLE post_aliases (
            stream TEXT NOT NULL,
            external_id TEXT NOT NULL,
            post_id INTEGER NOT NULL REFERENCES posts(id),
            source_id INTEGER REFERENCES sources(id),
            first_seen_at TEXT NOT NULL,
            PRIMARY KEY (stream, external_id)
        );
        """,
    )


_SEARCH_ROW = """SELECT p.id, p.title, p.text,
           (SELECT group_concat(v.text, char(10)) FROM post_versions v
            WHERE v.post_id = p.id AND v.text <> p.text) FROM posts p"""


async def m004_search_trigram(conn: aiosqlite.Connection) -> None:
    """Trigram full-text index for inflection-tolerant search (see storage/search.py).

    A regular (not external-content) FTS5 table, so one row can hold a post's current text and
    the wording of its earlier versions; pure-SQL triggers keep it in step with every writer
    (the daemon needs no Python hook). `stories_view` gives Datasette one readable row per story.
    """
    await run_script(
        conn,
        f"""
        CREATE VIRTUAL TABLE posts_search USING fts5(title, text, versions, tokenize='trigram');
        INSERT INTO posts_search (rowid, title, text, versions) {_SEARCH_ROW};
        CREATE TRIGGER posts_search_insert AFTER INSERT ON posts BEGIN
            INSERT INTO posts_search (rowid, title, text, versions) VALUES (new.id, new.title, new.text, NULL);
        END;
        CREATE TRIGGER posts_search_update AFTER UPDATE OF title, text ON posts BEGIN
            DELETE FROM posts_search WHERE rowid = old.id;
            INSERT INTO posts_search (rowid, title, text, versions) {_SEARCH_ROW} WHERE p.id = new.id;
        END;
        CREATE TRIGGER posts_search_delete AFTER DELETE ON posts BEGIN
            DELETE FROM posts_search WHERE rowid = old.id;
        END;
        CREATE TRIGGER posts_search_version AFTER INSERT ON post_versions BEGIN
            DELETE FROM posts_search WHERE rowid = new.post_id;
            INSERT INTO posts_search (rowid, title, text, versions) {_SEARCH_ROW} WHERE p.id = new.post_id;
        END;
        CREATE VIEW stories_view AS
            SELECT s.id, s.is_strike, COALESCE(s.event_at, fp.published_at, s.first_seen_at) AS happened_at,
                   s.oblasts, s.places, s.weapons, s.killed, s.injured, s.children_killed,
                   s.children_injured, s.first_seen_at, s.last_seen_at,
                   (SELECT count(*) FROM posts p WHERE p.story_id = s.id) AS post_count,
                   fp.stream AS first_source, fp.url AS first_url, fp.text AS first_text
            FROM stories s JOIN posts fp ON fp.id = s.first_post_id;
        """,
    )


async def m005_search_index_once_per_post(conn: aiosqlite.Connection) -> None:
    """A post's first version repeats its text, so re-indexing on it only doubled the cost of
    every new post; later versions (edits) still refresh the earlier wordings."""
    await run_script(
        conn,
        f"""
        DROP TRIGGER posts_search_version;
        CREATE TRIGGER posts_search_version AFTER INSERT ON post_versions WHEN new.version > 1 BEGIN
            DELETE FROM posts_search WHERE rowid = new.post_id;
            INSERT INTO posts_search (rowid, title, text, versions) {_SEARCH_ROW} WHERE p.id = new.post_id;
        END;
        """,
    )


async def m006_forget_names(conn: aiosqlite.Connection) -> None:
    """The bot no longer stores its users' first names: forget the ones stored before."""
    await conn.execute("UPDATE chats SET first_name = NULL WHERE first_name IS NOT NULL")


async def m007_outbox_priority(conn: aiosqlite.Connection) -> None:
    """After an outage the outbox holds a backlog: fresh news must go first and news older than
    `[bot] alert_max_age` must not go at all, so each alert carries the time of its news; and
    /healthz reports how long the oldest one has waited, so each carries when it was queued."""
    await run_script(
        conn,
        """
        -- When the news an alert carries was published (for an edit, the post that changed the
        -- story), never later than when it was queued. Set for every pending row.
        ALTER TABLE outbox ADD COLUMN news_at TEXT;
        -- When the alert's current revision was queued.
        ALTER TABLE outbox ADD COLUMN queued_at TEXT;
        UPDATE outbox SET queued_at = created_at,
            news_at = min(created_at, coalesce((SELECT published_at FROM posts WHERE posts.id = outbox.post_id), created_at))
        WHERE status = 'pending';
        -- The sender's order: first sends before edits, fresh news before older news; with
        -- next_attempt_at in it, rows waiting for a retry (all of them, in an outage) are
        -- skipped without reading the table.
        DROP INDEX outbox_pending;
        CREATE INDEX outbox_due ON outbox (message_id IS NOT NULL, news_at DESC, id, next_attempt_at)
            WHERE status = 'pending';
        -- The oldest wait without reading every pending row.
        CREATE INDEX outbox_waiting ON outbox (queued_at) WHERE status = 'pending';
        """,
    )


async def m008_analysis_errors(conn: aiosqlite.Connection) -> None:
    """A post the analyser failed on is archived without an analysis; the error is kept here
    until `dsns-monitor reanalyze` (or an edit of the post) analyses it."""
    await run_script(
        conn,
        """
        CREATE TABLE analysis_errors (
            post_id INTEGER PRIMARY KEY REFERENCES posts(id),
            version TEXT NOT NULL,
            error TEXT NOT NULL,
            failed_at TEXT NOT NULL
        );
        """,
    )


async def m009_payloads(conn: aiosqlite.Connection) -> None:
    """The bodies sources answered with, kept (compressed, each distinct body once) so that
    `dsns-monitor reparse` can read them again after a parser fix; and the kind of a source's
    last failure ("layout" when a body parsed unlike the source's earlier ones)."""
    await run_script(
        conn,
        """
        -- hash: SHA-256 of the uncompressed body; body: gzip of it.
        CREATE TABLE payload_bodies (
            hash TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            body BLOB NOT NULL
        );
        -- One row per fetch; url is redacted; parser names the parser version that read it.
        CREATE TABLE payloads (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES sources(id),
            url TEXT NOT NULL,
            fetched_at TEXT NOT NULL,
            status INTEGER NOT NULL,
            parser TEXT NOT NULL,
            body_hash TEXT NOT NULL REFERENCES payload_bodies(hash)
        );
        CREATE INDEX payloads_source ON payloads (source_id, fetched_at);
        CREATE INDEX payloads_fetched ON payloads (fetched_at);
        CREATE INDEX payloads_body ON payloads (body_hash);
        ALTER TABLE sources ADD COLUMN error_kind TEXT;
        """,
    )


# A post's place in the search order: its second (publication, else first sight) above its id,
# so the word index's rowid streams newest first and encodes the post id (ids stay < 2**31).
SEARCH_KEY = "unixepoch(coalesce({p}published_at, {p}first_seen_at)) * 2147483648 + {p}id"
_WORDS_ROW = f"""SELECT {SEARCH_KEY.format(p="p.")}, p.title, p.text,
           (SELECT group_concat(v.text, char(10)) FROM post_versions v
            WHERE v.post_id = p.id AND v.text <> p.text) FROM posts p"""


async def m010_search_lemmas(conn: aiosqlite.Connection) -> None:
    """Word-level index for inflection-aware search in milliseconds (see storage/search.py).

    `posts_words` tokenizes words (unicode61); a query word is expanded to its inflected forms,
    so SQLite alone finds "по Балаклії" for "Балаклія". Its rowid is the post's search key
    (date, then id): FTS5 streams it in that order, so a first page reads only its own rows
    whatever the archive's size. Plain-SQL triggers keep it current for every writer, with the
    earlier wordings of edited posts, like posts_search. `posts.search_key` (virtual, indexed)
    lets Datasette join its search box to posts. The backfill indexes every post once, in this
    migration's transaction: bench/search.py measured 20 s per 100,000 posts of DSNS length on
    the 2-core box (so ~3.5 min at 10^6; 94 s per 100,000 under a load of 8), and the index
    adds 0.31 GB per 100,000 posts (half of it its own copy of the text).
    """
    await run_script(
        conn,
        f"""
        ALTER TABLE posts ADD COLUMN search_key INTEGER AS ({SEARCH_KEY.format(p="")}) VIRTUAL;
        CREATE INDEX posts_search_key ON posts (search_key);
        CREATE VIRTUAL TABLE posts_words USING fts5(
            title, text, versions, tokenize='unicode61 remove_diacritics 0', columnsize=0
        );
        INSERT INTO posts_words (rowid, title, text, versions) {_WORDS_ROW};
        CREATE TRIGGER posts_words_insert AFTER INSERT ON posts BEGIN
            INSERT INTO posts_words (rowid, title, text, versions) VALUES (new.search_key, new.title, new.text, NULL);
        END;
        CREATE TRIGGER posts_words_update AFTER UPDATE OF title, text, published_at ON posts BEGIN
            DELETE FROM posts_words WHERE rowid = old.search_key;
            INSERT INTO posts_words (rowid, title, text, versions) {_WORDS_ROW} WHERE p.id = new.id;
        END;
        CREATE TRIGGER posts_words_delete AFTER DELETE ON posts BEGIN
            DELETE FROM posts_words WHERE rowid = old.search_key;
        END;
        CREATE TRIGGER posts_words_version AFTER INSERT ON post_versions WHEN new.version > 1 BEGIN
            DELETE FROM posts_words WHERE rowid = (SELECT search_key FROM posts WHERE id = new.post_id);
            INSERT INTO posts_words (rowid, title, text, versions) {_WORDS_ROW} WHERE p.id = new.post_id;
        END;
        """,
    )


async def m011_poll_log(conn: aiosqlite.Connection) -> None:
    """Every poll's outcome (storage/polls.py), for `coverage`: failed polls, time without a good
    poll, and which Telegram message ids each source read (`seen`, as ranges "1-25,27")."""
    await run_script(
        conn,
        """
        CREATE TABLE polls (
            id INTEGER PRIMARY KEY,
            source_id INTEGER NOT NULL REFERENCES sources(id),
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            ok INTEGER NOT NULL,
            kind TEXT,
            new INTEGER NOT NULL DEFAULT 0,
            changed INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            seen TEXT
        );
        CREATE INDEX polls_source ON polls (source_id, finished_at);
        CREATE INDEX polls_finished ON polls (finished_at);
        """,
    )


async def m012_delivery(conn: aiosqlite.Connection) -> None:
    """Updates that reach people, quiet nights and priority when the outbox is long."""
    await run_script(
        conn,
        """
        -- How specific the chat's subscription to the story is: 0 its settlement (or city),
        -- 1 its hromada, 2 its raion, 3 its oblast. The most specific go first, and a strike
        -- in one's own settlement or hromada breaks through a quiet night.
        ALTER TABLE outbox ADD COLUMN rank INTEGER NOT NULL DEFAULT 3;
        -- The first alert (later notifying updates reply to it) and when the chat was last
        -- notified with sound (a new post hours later is worth a new message).
        ALTER TABLE outbox ADD COLUMN first_message_id INTEGER;
        ALTER TABLE outbox ADD COLUMN alerted_at TEXT;
        UPDATE outbox SET first_message_id = message_id, alerted_at = sent_at WHERE message_id IS NOT NULL;
        DROP INDEX outbox_due;
        CREATE INDEX outbox_due ON outbox (message_id IS NOT NULL, rank, news_at DESC, id, next_attempt_at)
            WHERE status = 'pending';
        -- Alerts held for the chat's morning digest.
        CREATE INDEX outbox_held ON outbox (chat_id) WHERE status = 'held';

        -- A chat's quiet window and digest (minutes after midnight, Kyiv time) and what breaks
        -- through the window.
        CREATE TABLE chat_settings (
            chat_id INTEGER PRIMARY KEY REFERENCES chats(chat_id),
            quiet_from INTEGER,
            quiet_to INTEGER,
            digest_at INTEGER,
            break_local INTEGER NOT NULL DEFAULT 1,
            break_killed INTEGER NOT NULL DEFAULT 1
        );
        """,
    )


async def m013_chat_pending(conn: aiosqlite.Connection) -> None:
    """What a chat asked for and has yet to finish: the namesake list its ◀ ▶ buttons page
    through (a query too long for Telegram's 64-byte button data), and the radius its next
    shared location is for. The location itself is never stored."""
    await run_script(
        conn,
        """CREATE TABLE chat_pending (
            chat_id INTEGER PRIMARY KEY REFERENCES chats(chat_id),
            query TEXT,
            radius_km REAL,
            updated_at TEXT NOT NULL
        );""",
    )


async def m014_research_views(conn: aiosqlite.Connection) -> None:
    """Views a reader of the archive (Datasette, sqlite3) sees as text: oblast names beside the
    ISO codes, place names instead of JSON, each post with its analysis and photos, useful
    columns first. The names are written into the view (27 rows): the view needs no table."""
    names = ", ".join(f"('{iso}', '{name}')" for iso, name in sorted(ISO_NAMES_EN.items()))
    oblast_names = """(SELECT group_concat(coalesce((SELECT name FROM oblast_names o WHERE o.iso = j.value),
                       j.value), ', ') FROM json_each({0}) j)"""
    place_names = "(SELECT group_concat(json_extract(j.value, '$.name'), ', ') FROM json_each({0}) j)"
    await run_script(
        conn,
        f"""
        CREATE VIEW oblast_names (iso, name) AS VALUES {names};
        DROP VIEW stories_view;
        CREATE VIEW stories_view AS
            SELECT s.id, COALESCE(s.event_at, fp.published_at, s.first_seen_at) AS happened_at, s.is_strike,
                   {oblast_names.format("s.oblasts")} AS oblast_names, {place_names.format("s.places")} AS place_names,
                   s.weapons, s.killed, s.injured, s.children_killed, s.children_injured,
                   (SELECT count(*) FROM posts p WHERE p.story_id = s.id) AS post_count,
                   fp.stream AS first_source, fp.url AS first_url, fp.text AS first_text,
                   s.oblasts, s.places, s.first_seen_at, s.last_seen_at
            FROM stories s JOIN posts fp ON fp.id = s.first_post_id;
        CREATE VIEW posts_view AS
            SELECT p.id, p.published_at, p.stream, a.is_strike,
                   {oblast_names.format("a.oblasts")} AS oblast_names, {place_names.format("a.places")} AS place_names,
                   a.weapons, a.killed, a.injured, p.story_id, p.title, p.text, p.url,
                   (SELECT group_concat(sha256, ' ') FROM (SELECT sha256 FROM post_media pm
                     WHERE pm.post_id = p.id AND sha256 IS NOT NULL ORDER BY position)) AS photos,
                   p.edited, p.external_id, a.oblasts
            FROM posts p LEFT JOIN analyses a ON a.post_id = p.id;
        """,
    )


async def m015_ingest_indexes(conn: aiosqlite.Connection) -> None:
    """Drop the indexes search no longer reads, and index the deleted-post check.

    `posts_fts` (words) and `posts_search` (trigrams) were written on every insert and edit but
    read by nothing since `posts_words` (m010): together 0.57 GB per 100,000 posts and most of
    the cost of an insert. The space is reused by later writes; `VACUUM` returns it to the disk.

    `external_num` is a Telegram post's message number: the check for posts a re-read page no
    longer shows reads a range of it per channel, where `CAST(external_id AS INTEGER)` walked
    every post of the channel on every poll. Virtual, so every writer fills it by itself.
    """
    await run_script(
        conn,
        """
        DROP TRIGGER posts_fts_insert;
        DROP TRIGGER posts_fts_delete;
        DROP TRIGGER posts_fts_update;
        DROP TABLE posts_fts;
        DROP TRIGGER posts_search_insert;
        DROP TRIGGER posts_search_update;
        DROP TRIGGER posts_search_delete;
        DROP TRIGGER posts_search_version;
        DROP TABLE posts_search;
        ALTER TABLE posts ADD COLUMN external_num INTEGER AS (CAST(external_id AS INTEGER)) VIRTUAL;
        CREATE INDEX posts_external_num ON posts (stream, external_num) WHERE deleted_at IS NULL;
        """,
    )


_OLD_VERSIONS = "(SELECT group_concat(v.text, char(10)) FROM post_versions v WHERE v.post_id = old.id AND v.text <> old.text)"


async def m016_words_external_content(conn: aiosqlite.Connection) -> None:
    """`posts_words` reads its text from `posts` instead of keeping a copy of it.

    The copy (`posts_words_content`) was 0.23 GB per 100,000 posts, more than `posts` itself,
    and half the cost of indexing a post. The index now reads title, text and the earlier
    wordings through the view `posts_words_source` (rowid = `posts.search_key`, an indexed
    lookup), so search and Datasette's search box read the same columns as before. An external-
    content FTS5 table forgets a row only when told the exact values it indexed: the triggers
    give the old ones (the earlier wordings as they were before the change); FTS5's
    'integrity-check' against the content is in tests/test_storage.py.
    """
    await run_script(
        conn,
        f"""
        DROP TRIGGER posts_words_insert;
        DROP TRIGGER posts_words_update;
        DROP TRIGGER posts_words_delete;
        DROP TRIGGER posts_words_version;
        DROP TABLE posts_words;
        CREATE VIEW posts_words_source AS
            SELECT p.search_key, p.title, p.text,
                   (SELECT group_concat(v.text, char(10)) FROM post_versions v
                    WHERE v.post_id = p.id AND v.text <> p.text) AS versions
            FROM posts p;
        CREATE VIRTUAL TABLE posts_words USING fts5(
            title, text, versions, content='posts_words_source', content_rowid='search_key',
            tokenize='unicode61 remove_diacritics 0', columnsize=0
        );
        INSERT INTO posts_words (posts_words) VALUES ('rebuild');
        CREATE TRIGGER posts_words_insert AFTER INSERT ON posts BEGIN
            INSERT INTO posts_words (rowid, title, text, versions) VALUES (new.search_key, new.title, new.text, NULL);
        END;
        CREATE TRIGGER posts_words_update AFTER UPDATE OF title, text, published_at ON posts BEGIN
            INSERT INTO posts_words (posts_words, rowid, title, text, versions)
            VALUES ('delete', old.search_key, old.title, old.text, {_OLD_VERSIONS});
            INSERT INTO posts_words (rowid, title, text, versions) {_WORDS_ROW} WHERE p.id = new.id;
        END;
        CREATE TRIGGER posts_words_delete AFTER DELETE ON posts BEGIN
            INSERT INTO posts_words (posts_words, rowid, title, text, versions)
            VALUES ('delete', old.search_key, old.title, old.text, {_OLD_VERSIONS});
        END;
        -- An edit stores its version after updating the post, with the post's new text, which
        -- the earlier wordings leave out: so the row indexed by the update stays exact, unless
        -- a version comes with another text; then the post is indexed again.
        CREATE TRIGGER posts_words_version AFTER INSERT ON post_versions
        WHEN new.version > 1 AND new.text <> (SELECT text FROM posts WHERE id = new.post_id) BEGIN
            INSERT INTO posts_words (posts_words, rowid, title, text, versions)
            SELECT 'delete', p.search_key, p.title, p.text,
                   (SELECT group_concat(v.text, char(10)) FROM post_versions v
                    WHERE v.post_id = p.id AND v.text <> p.text AND v.id <> new.id)
            FROM posts p WHERE p.id = new.post_id;
            INSERT INTO posts_words (rowid, title, text, versions) {_WORDS_ROW} WHERE p.id = new.post_id;
        END;
        """,
    )


async def m017_story_posts_index(conn: aiosqlite.Connection) -> None:
    """A story's posts in publication order with their stream and URL, off one index.

    An events or stories export lists each story's sources and post URLs in publication order:
    with `posts_story (story_id)` that was a lookup in the posts table per post (rows of ~2 KB
    of text) and a sort per story; this index holds the order and both columns, so SQLite reads
    them in sequence (bench/research_scale.py). It begins with `story_id`, so it serves every
    lookup `posts_story` served, which goes: a post's write still maintains one index for its story.
    """
    await run_script(
        conn,
        """
        CREATE INDEX posts_story_posts ON posts (story_id, published_at, id, stream, url);
        DROP INDEX posts_story;
        """,
    )


async def m018_words_merge_less(conn: aiosqlite.Connection) -> None:
    """`posts_words` merges its segments 16 at a time instead of 4.

    Every commit of a page of posts writes a small segment of the word index, and FTS5 merges a
    level once it holds 'automerge' segments: with 4, a post's index entry is rewritten once per
    level, about 8 times on its way to the bottom at 10^6 posts; with 16, about 4. Measured on
    a copy of the 10^6-post bench archive, a page's insert and commit: ~215 -> ~145 µs a post. A
    search reads at most 15 segments per level (crisis merges keep it so), a few dozen in all.
    """
    await conn.execute("INSERT INTO posts_words (posts_words, rank) VALUES ('automerge', 16)")


async def m019_watch_version(conn: aiosqlite.Connection) -> None:
    """A counter every change of who watches what bumps, in whatever process makes it.

    The story planner asks which chats watch a page's regions for every page it stores; with
    the counter it keeps each region's watchers between pages and reads one row instead of
    joining subscriptions and chats per page, and knows when a subscribe, an unsubscribe, a
    block or a mute (by the bot in the daemon, while a backfill runs in its own process) makes
    what it keeps stale. A `language` update of `upsert_chat` on every message is not a change.
    """
    await run_script(
        conn,
        """
        CREATE TABLE watch_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
        INSERT INTO watch_version (id, version) VALUES (1, 0);
        CREATE TRIGGER watch_subscribed AFTER INSERT ON subscriptions BEGIN
            UPDATE watch_version SET version = version + 1;
        END;
        CREATE TRIGGER watch_unsubscribed AFTER DELETE ON subscriptions BEGIN
            UPDATE watch_version SET version = version + 1;
        END;
        CREATE TRIGGER watch_resubscribed AFTER UPDATE ON subscriptions BEGIN
            UPDATE watch_version SET version = version + 1;
        END;
        CREATE TRIGGER watch_chat_gone AFTER DELETE ON chats BEGIN
            UPDATE watch_version SET version = version + 1;
        END;
        CREATE TRIGGER watch_chat_changed AFTER UPDATE OF active, muted_until ON chats
        WHEN old.active IS NOT new.active OR old.muted_until IS NOT new.muted_until BEGIN
            UPDATE watch_version SET version = version + 1;
        END;
        """,
    )


MIGRATIONS: list[Migration] = [
    m001_initial, m002_stories_and_alerts, m003_story_clustering, m004_search_trigram,
    m005_search_index_once_per_post, m006_forget_names, m007_outbox_priority, m008_analysis_errors,
    m009_payloads, m010_search_lemmas, m011_poll_log, m012_delivery, m013_chat_pending,
    m014_research_views, m015_ingest_indexes, m016_words_external_content, m017_story_posts_index,
    m018_words_merge_less, m019_watch_version,
]
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
