"""Posts and their versions: store what a collector saw, report what is new or edited."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from collectors.base import RawPost
from storage.timeutil import to_db, utcnow

__all__ = ["StoredPost", "Change", "upsert_posts", "text_hash"]


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
    keeps its latest text, so the full-text index always searches the current wording.
    """
    now = to_db(utcnow())
    changes: list[Change] = []
    for raw in posts:
        digest = text_hash(raw.title, raw.text)
        async with conn.execute(
            "SELECT id, text_hash, version FROM posts WHERE stream = ? AND external_id = ?",
            (raw.stream, raw.external_id),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            cursor = await conn.execute(
                """INSERT INTO posts (stream, external_id, source_id, url, published_at, title,
                       text, text_hash, kind, edited, views, forwarded_from, link_preview,
                       first_seen_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (
                    raw.stream, raw.external_id, source_id, raw.url, to_db(raw.published_at),
                    raw.title, raw.text, digest, raw.kind, int(raw.edited), raw.views,
                    raw.forwarded_from, raw.link_preview, now, now,
                ),
            )
            post_id = int(cursor.lastrowid or 0)
            await _add_version(conn, post_id, 1, raw, digest, now)
            await _add_media_slots(conn, post_id, raw.photos)
            changes.append(Change("new", _stored(post_id, raw, 1), raw))
            continue
        post_id, old_hash, version = int(row[0]), row[1], int(row[2])
        if old_hash == digest:
            await conn.execute(
                "UPDATE posts SET views = COALESCE(?, views), edited = MAX(edited, ?) WHERE id = ?",
                (raw.views, int(raw.edited), post_id),
            )
            continue
        version += 1
        await conn.execute(
            """UPDATE posts SET title = ?, text = ?, text_hash = ?, edited = 1, version = ?,
                   views = COALESCE(?, views), updated_at = ?, url = COALESCE(?, url)
               WHERE id = ?""",
            (raw.title, raw.text, digest, version, raw.views, now, raw.url, post_id),
        )
        await _add_version(conn, post_id, version, raw, digest, now)
        await _add_media_slots(conn, post_id, raw.photos)
        changes.append(Change("edited", _stored(post_id, raw, version), raw))
    return changes


def _stored(post_id: int, raw: RawPost, version: int) -> StoredPost:
    return StoredPost(
        id=post_id, stream=raw.stream, external_id=raw.external_id, url=raw.url,
        published_at=raw.published_at, title=raw.title, text=raw.text, version=version,
    )


async def _add_version(
    conn: aiosqlite.Connection, post_id: int, version: int, raw: RawPost, digest: str, now: str | None
) -> None:
    await conn.execute(
        """INSERT INTO post_versions (post_id, version, title, text, text_hash, seen_at)
           VALUES (?, ?, ?, ?, ?, ?)""",
        (post_id, version, raw.title, raw.text, digest, now),
    )


async def _add_media_slots(conn: aiosqlite.Connection, post_id: int, photos: tuple[str, ...]) -> None:
    # An edit may add photos; existing slots keep their downloaded bytes.
    await conn.executemany(
        "INSERT OR IGNORE INTO post_media (post_id, position, url) VALUES (?, ?, ?)",
        [(post_id, position, url) for position, url in enumerate(photos)],
    )

