"""Posts and their versions: store what a collector saw, report what is new or edited."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import aiosqlite

from storage.canonical import canonical_url
from storage.database import insert_rows, multi_row, write_batch, write_rows
from storage.errors import StorageError
from storage.timeutil import from_db, to_db, utcnow

__all__ = [
    "StoredPost", "Change", "upsert_posts", "text_hash", "mark_deleted", "known_posts", "is_unchanged",
    "fault_of_post", "stored_post", "VANISHED_SQL", "vanished_posts",
]


class RawPost(Protocol):
    """A post as a source showed it, as the archive stores it (`collectors.base.RawPost` is one;
    storage does not import the collectors)."""

    @property
    def stream(self) -> str: ...
    @property
    def external_id(self) -> str: ...
    @property
    def url(self) -> str | None: ...
    @property
    def published_at(self) -> datetime | None: ...
    @property
    def text(self) -> str: ...
    @property
    def photos(self) -> tuple[str, ...]: ...
    @property
    def edited(self) -> bool: ...
    @property
    def kind(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def views(self) -> int | None: ...
    @property
    def forwarded_from(self) -> str | None: ...
    @property
    def link_preview(self) -> str | None: ...


_ALIAS = "alias"
# How far ahead of the time it is first seen a post may be dated: clocks and time zones drift a
# little; a post dated next year is a typo or a trick, and must not top every "latest" list.
FUTURE_SLACK = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class StoredPost:
    """A post as the archive holds it after an upsert."""

    id: int
    stream: str
    external_id: str
    url: str | None
    published_at: datetime | None
    title: str | None
    text: str
    version: int


@dataclass(frozen=True, slots=True)
class Change:
    """What an upsert did to one post: `kind` is "new" or "edited"."""

    kind: str
    post: StoredPost
    raw: RawPost


def text_hash(title: str | None, text: str) -> str:
    return hashlib.sha256(f"{title or ''}\x00{text}".encode()).hexdigest()


async def upsert_posts(
    conn: aiosqlite.Connection, source_id: int, posts: list[RawPost]
) -> list[Change]:
    """Insert new posts, record a version for each changed text, and return the changes.

    Runs inside the caller's write transaction. A post seen again with the same text changes
    nothing but its view count; a post whose text changed gets a new `post_versions` row and
    keeps its latest text, so the word index always searches the current wording. Each kind of
    row goes in by one executemany for the whole batch: a page costs a handful of statements,
    not a few per post.
    """
    seen_at = utcnow()
    now = to_db(seen_at)
    # One row per identity: a batch that repeats a post keeps its last (newest) copy.
    posts = list({(p.stream, p.external_id): p for p in posts}.values())
    known = await known_posts(conn, posts)
    digests = {id(p): text_hash(p.title, p.text) for p in posts}  # once each: ~1.6 KB of SHA-256 a post
    canonicals = {id(p): canonical_url(p.url) if p.kind == "article" else None for p in posts}
    archived = await _posts_by_canonical(
        conn, [c for p in posts if (c := canonicals[id(p)]) and (p.stream, p.external_id) not in known]
    )
    inserts: list[RawPost] = []
    aliases: list[tuple[RawPost, str]] = []  # (post, canonical URL of the post it copies)
    touched: list[tuple[int | None, int, int]] = []
    edits: list[tuple] = []
    edited: list[tuple[RawPost, int, int]] = []
    for raw in posts:
        row = known.get((raw.stream, raw.external_id))
        canonical = canonicals[id(raw)]
        if row is None:
            if canonical is not None and canonical in archived:
                aliases.append((raw, canonical))  # the same article, already archived from another feed
            else:
                inserts.append(raw)
                if canonical is not None:
                    archived[canonical] = None  # a later copy in this batch is an alias of this one
            continue
        post_id, _, version = row
        if is_unchanged(row, raw, digests[id(raw)]):
            if raw.views is not None or raw.edited:
                touched.append((raw.views, int(raw.edited), post_id))
            continue
        edits.append((raw.title, raw.text, digests[id(raw)], version + 1, raw.views, now, raw.url, post_id))
        edited.append((raw, post_id, version + 1))
    inserted = await insert_rows(
        conn,
        """INSERT INTO posts (stream, external_id, source_id, url, published_at, title,
               text, text_hash, kind, edited, views, forwarded_from, link_preview,
               first_seen_at, updated_at, canonical_url)
           VALUES {values} RETURNING stream, external_id, id""",
        [
            (
                raw.stream, raw.external_id, source_id, raw.url, to_db(_clamped(raw.published_at, seen_at)),
                raw.title, raw.text, digests[id(raw)], raw.kind, int(raw.edited), raw.views,
                raw.forwarded_from, raw.link_preview, now, now, canonicals[id(raw)],
            )
            for raw in inserts
        ],
    )
    ids = {(row[0], row[1]): int(row[2]) for row in inserted}
    if aliases:
        archived.update(await _posts_by_canonical(conn, [c for _, c in aliases if archived[c] is None]))
        await write_rows(
            conn,
            """INSERT OR IGNORE INTO post_aliases (stream, external_id, post_id, source_id, first_seen_at)
               VALUES (?, ?, ?, ?, ?)""",
            [(raw.stream, raw.external_id, archived[c], source_id, now) for raw, c in aliases],
        )
    changes = [
        Change("new", _stored(ids[(raw.stream, raw.external_id)], raw, 1, _clamped(raw.published_at, seen_at)), raw)
        for raw in inserts
    ]
    changes += [Change("edited", _stored(post_id, raw, version, _clamped(raw.published_at, seen_at)), raw)
                for raw, post_id, version in edited]
    order = {id(raw): n for n, raw in enumerate(posts)}
    changes.sort(key=lambda change: order[id(change.raw)])
    # The rest in one trip to the writer's thread; an edit's update before its version (the
    # word index's trigger on versions reads the post's new text).
    await write_batch(conn, [
        ("UPDATE posts SET views = COALESCE(?, views), edited = MAX(edited, ?) WHERE id = ?", touched),
        (
            """UPDATE posts SET title = ?, text = ?, text_hash = ?, edited = 1, version = ?,
                   views = COALESCE(?, views), updated_at = ?, url = COALESCE(?, url)
               WHERE id = ?""",
            edits,
        ),
        *multi_row(
            "INSERT INTO post_versions (post_id, version, title, text, text_hash, seen_at) VALUES {values}",
            [(c.post.id, c.post.version, c.raw.title, c.raw.text, digests[id(c.raw)], now) for c in changes],
        ),
        # An edit may add photos; existing slots keep their downloaded bytes.
        (
            "INSERT OR IGNORE INTO post_media (post_id, position, url) VALUES (?, ?, ?)",
            [(c.post.id, position, url) for c in changes for position, url in enumerate(c.raw.photos)],
        ),
    ])
    return changes


def is_unchanged(known: tuple[int, str, int] | None, raw: RawPost, digest: str | None = None) -> bool:
    """Whether the archive already holds this post with this wording (or as another feed's copy);
    `digest`: the post's `text_hash`, when the caller has it already."""
    return known is not None and known[1] in (_ALIAS, digest or text_hash(raw.title, raw.text))


async def _posts_by_canonical(conn: aiosqlite.Connection, urls: list[str]) -> dict[str, int | None]:
    """Canonical URL → the first archived post with it, for those of `urls` the archive holds."""
    found: dict[str, int | None] = {}
    urls = sorted(set(urls))
    for start in range(0, len(urls), 500):
        chunk = urls[start : start + 500]
        rows = await conn.execute_fetchall(
            f"SELECT canonical_url, min(id) FROM posts WHERE canonical_url IN ({','.join('?' * len(chunk))}) "
            "GROUP BY canonical_url",
            chunk,
        )
        found.update((row[0], int(row[1])) for row in rows)
    return found


async def known_posts(
    conn: aiosqlite.Connection, posts: list[RawPost]
) -> dict[tuple[str, str], tuple[int, str, int]]:
    """(stream, external_id) → (id, text_hash, version) of the posts already archived."""
    known: dict[tuple[str, str], tuple[int, str, int]] = {}
    for stream in {p.stream for p in posts}:
        ids = [p.external_id for p in posts if p.stream == stream]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            # Another feed's copy of an archived article (an alias): its wording there never
            # overwrites the post, so it is treated as unchanged.
            rows = await conn.execute_fetchall(
                f"""SELECT external_id, id, text_hash, version FROM posts
                    WHERE stream = ? AND external_id IN ({marks})
                    UNION ALL
                    SELECT a.external_id, p.id, '{_ALIAS}', p.version FROM post_aliases a
                    JOIN posts p ON p.id = a.post_id WHERE a.stream = ? AND a.external_id IN ({marks})""",
                (stream, *chunk, stream, *chunk),
            )
            for row in rows:
                known[(stream, row[0])] = (int(row[1]), row[2], int(row[3]))
    return known


def _stored(post_id: int, raw: RawPost, version: int, published_at: datetime | None) -> StoredPost:
    return StoredPost(
        id=post_id, stream=raw.stream, external_id=raw.external_id, url=raw.url,
        published_at=published_at, title=raw.title, text=raw.text, version=version,
    )


async def stored_post(conn: aiosqlite.Connection, post_id: int) -> StoredPost:
    """The post as the archive holds it now."""
    async with conn.execute(
        "SELECT id, stream, external_id, url, published_at, title, text, version FROM posts WHERE id = ?", (post_id,)
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise KeyError(post_id)
    return StoredPost(
        id=row[0], stream=row[1], external_id=row[2], url=row[3], published_at=from_db(row[4]),
        title=row[5], text=row[6], version=row[7],
    )


def _clamped(published_at: datetime | None, seen_at: datetime) -> datetime | None:
    if published_at is None:
        return None
    if published_at.tzinfo is None:
        published_at = published_at.replace(tzinfo=UTC)
    return min(published_at, seen_at + FUTURE_SLACK)


def fault_of_post(exc: BaseException) -> bool:
    """Whether a write failed on one post (SQLite refused its values, or a bug met its content)
    rather than on the archive itself (disk full, I/O error, corruption, a lock).

    The first costs that post only; the second must fail the whole poll, so the cursor stays
    and nothing is skipped that a retry would have stored.
    """
    if isinstance(exc, StorageError | sqlite3.OperationalError | sqlite3.InternalError):
        return False
    return type(exc) is not sqlite3.DatabaseError and isinstance(exc, Exception)


async def mark_deleted(conn: aiosqlite.Connection, stream: str, external_ids: list[str]) -> list[int]:
    """Soft-delete posts the source no longer shows; returns the ids newly marked.

    Nothing is removed: researchers keep what was reported, with the time it vanished.
    """
    marked: list[int] = []
    now = to_db(utcnow())
    for start in range(0, len(external_ids), 500):
        chunk = external_ids[start : start + 500]
        async with conn.execute(
            f"""UPDATE posts SET deleted_at = ? WHERE stream = ? AND deleted_at IS NULL
                AND external_id IN ({','.join('?' * len(chunk))}) RETURNING id""",
            (now, stream, *chunk),
        ) as cursor:
            marked.extend(int(row[0]) for row in await cursor.fetchall())
    return marked


# On the `posts_external_num` index: a range of one channel's message numbers, whatever its size.
VANISHED_SQL = """SELECT external_id FROM posts WHERE stream = ? AND deleted_at IS NULL
                  AND external_num BETWEEN ? AND ?"""


async def vanished_posts(
    conn: aiosqlite.Connection, stream: str, low: int, high: int, seen: set[str]
) -> list[str]:
    """External ids of the stream's posts numbered low..high that are not deleted and not in `seen`."""
    return [row[0] for row in await conn.execute_fetchall(VANISHED_SQL, (stream, low, high)) if row[0] not in seen]
