"""Photos stored once by SHA-256, linked to the posts that show them."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

from storage.database import Database
from storage.timeutil import to_db, utcnow

__all__ = ["PendingMedia", "pending_media", "store_media", "record_media_failure", "photo", "photo_data"]

MAX_ATTEMPTS = 20


@dataclass(frozen=True, slots=True)
class PendingMedia:
    post_id: int
    position: int
    url: str
    attempts: int


async def pending_media(db: Database, source_id: int | None = None, limit: int = 50) -> list[PendingMedia]:
    """Photo slots not downloaded yet, oldest first; gives up on a URL after many tries."""
    sql = """SELECT pm.post_id, pm.position, pm.url, pm.attempts FROM post_media pm
             JOIN posts p ON p.id = pm.post_id
             WHERE pm.sha256 IS NULL AND pm.attempts < ?"""
    params: tuple = (MAX_ATTEMPTS,)
    if source_id is not None:
        sql += " AND p.source_id = ?"
        params += (source_id,)
    sql += " ORDER BY pm.post_id, pm.position LIMIT ?"
    rows = await db.fetchall(sql, params + (limit,))
    return [PendingMedia(r[0], r[1], r[2], r[3]) for r in rows]


async def store_media(db: Database, item: PendingMedia, data: bytes, mime: str) -> str:
    """Store the bytes once (by SHA-256) and link them to the post's slot; returns the hash."""
    digest = hashlib.sha256(data).hexdigest()
    async with db.write() as conn:
        await conn.execute(
            """INSERT OR IGNORE INTO media (sha256, mime, size, data, first_seen_at)
               VALUES (?, ?, ?, ?, ?)""",
            (digest, mime, len(data), data, to_db(utcnow())),
        )
        await conn.execute(
            """UPDATE post_media SET sha256 = ?, attempts = attempts + 1, last_error = NULL
               WHERE post_id = ? AND position = ?""",
            (digest, item.post_id, item.position),
        )
    return digest


async def record_media_failure(db: Database, item: PendingMedia, error: str) -> None:
    async with db.write() as conn:
        await conn.execute(
            """UPDATE post_media SET attempts = attempts + 1, last_error = ?
               WHERE post_id = ? AND position = ?""",
            (error, item.post_id, item.position),
        )


# A stored photo's recorded type and bytes by its hash.
_PHOTO = "SELECT mime, data FROM media WHERE sha256 = ?"


async def photo_data(db: Database, sha256: str) -> tuple[str, bytes] | None:
    """A stored photo's recorded type and bytes, or None when the archive has no such photo."""
    row = await db.fetchone(_PHOTO, (sha256,))
    return (row["mime"], bytes(row["data"])) if row else None


def photo(conn: sqlite3.Connection, sha256: str) -> tuple[str, bytes] | None:
    """`photo_data` on a plain connection (Datasette's, in its thread)."""
    row = conn.execute(_PHOTO, (sha256,)).fetchone()
    return (row[0], bytes(row[1])) if row else None
