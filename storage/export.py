"""Read the archive back out, one plain dict per post, for export and the CLI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from storage.database import Database
from storage.timeutil import to_db

__all__ = ["iter_posts", "POST_EXPORT_KEYS", "PHOTOS_SQL", "date_filter", "post_row"]

POST_EXPORT_KEYS = (
    "source", "external_id", "url", "published_at", "text", "edited", "photos",
    "is_strike", "oblasts", "places", "weapons", "killed", "injured", "children_killed",
    "children_injured", "story_id",
)
# Publication order, with the archive's own tiebreak: storage.schema.SEARCH_KEY, indexed.
_SECONDS = 2147483648

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


def _analysed(row: Any) -> dict[str, Any]:
    """The analysis columns of an export row; None throughout for a post not analysed yet."""
    done = row["is_strike"] is not None
    return {
        "is_strike": bool(row["is_strike"]) if done else None,
        "oblasts": json.loads(row["oblasts"]) if done else None,
        "places": json.loads(row["places"]) if done else None,
        "weapons": json.loads(row["weapons"]) if done else None,
        "killed": row["killed"], "injured": row["injured"],
        "children_killed": row["children_killed"], "children_injured": row["children_injured"],
        "story_id": row["story_id"],
    }


async def iter_posts(
    db: Database,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    batch: int = 500,
) -> AsyncIterator[dict[str, Any]]:
    """Every post (POST_EXPORT_KEYS) in publication order (a post without a date at the moment it
    was archived), with its analysis, story and the SHA-256 of its stored photos.

    Paged by the indexed search key, so a large archive streams in constant memory and each
    page starts where the last ended; a date range bounds that key too.
    """
    where, params = date_filter("p.published_at", since, until)
    if since is not None:
        where.append(f"p.search_key >= unixepoch(?) * {_SECONDS}")
        params.append(to_db(since))
    if until is not None:
        where.append(f"p.search_key < unixepoch(?) * {_SECONDS}")
        params.append(to_db(until))
    sql = f"""SELECT p.search_key, p.stream, p.external_id, p.url, p.published_at, p.title, p.text,
                     p.edited, p.story_id, a.is_strike, a.oblasts, a.places, a.weapons, a.killed,
                     a.injured, a.children_killed, a.children_injured, {PHOTOS_SQL}
              FROM posts p LEFT JOIN analyses a ON a.post_id = p.id
              WHERE {' AND '.join(["p.search_key > ?", *where])} ORDER BY p.search_key LIMIT ?"""
    last = -(2**63)
    while True:
        rows = await db.fetchall(sql, (last, *params, batch))
        if not rows:
            return
        for row in rows:
            yield {**post_row(row), **_analysed(row)}
        last = rows[-1]["search_key"]
