"""Read the archive back out, one plain dict per post, for export and the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from storage.database import Database
from storage.timeutil import to_db

__all__ = ["iter_posts", "POST_EXPORT_KEYS", "PHOTOS_SQL", "date_filter", "post_row"]

POST_EXPORT_KEYS = ("source", "external_id", "url", "published_at", "text", "edited", "photos")

# The SHA-256 of a post's stored photos, in order, space-separated (alias `p` for posts).
PHOTOS_SQL = """(SELECT group_concat(sha256, ' ') FROM
                   (SELECT sha256 FROM post_media pm WHERE pm.post_id = p.id
                    AND sha256 IS NOT NULL ORDER BY position)) AS photos"""


def date_filter(column: str, since: datetime | None, until: datetime | None) -> tuple[list[str], list[Any]]:
    """SQL conditions (and their parameters) for `since <= column < until`."""
    where: list[str] = []
    params: list[Any] = []
    if since is not None:
        where.append(f"{column} >= ?")
        params.append(to_db(since))
    if until is not None:
        where.append(f"{column} < ?")
        params.append(to_db(until))
    return where, params


def post_row(row: Any) -> dict[str, Any]:
    """A posts row (stream, external_id, url, published_at, title, text, edited, photos) in export shape."""
    text = row["text"]
    if row["title"]:
        text = f"{row['title']}\n\n{text}" if text else row["title"]
    return {
        "source": row["stream"],
        "external_id": row["external_id"],
        "url": row["url"],
        "published_at": row["published_at"],
        "text": text,
        "edited": bool(row["edited"]),
        "photos": row["photos"].split() if row["photos"] else [],
    }


async def iter_posts(
    db: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int = 500,
) -> AsyncIterator[dict[str, Any]]:
    """Every post in the order it was archived, with the SHA-256 of its stored photos.

    Paged by id so a large archive streams in constant memory.
    """
    where, params = date_filter("p.published_at", since, until)
    sql = f"""SELECT p.id, p.stream, p.external_id, p.url, p.published_at, p.title, p.text, p.edited,
                     {PHOTOS_SQL}
              FROM posts p WHERE {' AND '.join(["p.id > ?", *where])} ORDER BY p.id LIMIT ?"""
    last_id = 0
    while True:
        rows = await db.fetchall(sql, (last_id, *params, batch))
        if not rows:
            return
        for row in rows:
            yield post_row(row)
        last_id = rows[-1]["id"]
