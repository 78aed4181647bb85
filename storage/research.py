"""Stories and strike figures out of the archive, for researchers (`research.events` makes
ACLED-style events and statistics of them)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from storage.database import Database
from storage.export import date_filter

__all__ = ["STORY_KEYS", "iter_stories", "strike_story_pages", "strike_groups"]

STORY_KEYS = (
    "id", "first_seen_at", "last_seen_at", "event_at", "is_strike", "oblasts", "places", "weapons",
    "killed", "injured", "children_killed", "children_injured", "post_count", "sources", "post_urls",
)
# When a story happened (stories `s` joined to their first post `fp`): the time its text gives,
# else its first post's publication, else when the archive first saw it.
_WHEN = "COALESCE(s.event_at, fp.published_at, s.first_seen_at)"


async def iter_stories(
    db: Database, *, since: datetime | None = None, until: datetime | None = None,
    strikes_only: bool = False, batch: int = 500, changed_since: str | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """One dict per story (STORY_KEYS), oldest first, with its posts' sources and URLs;
    `changed_since` (an archive timestamp): only stories a post joined at or after it."""
    dates, params = date_filter(_WHEN, since, until)
    where = ["s.id > ?", *dates]
    if strikes_only:
        where.append("s.is_strike = 1")
    if changed_since is not None:
        where.append("s.last_seen_at >= ?")
        params.append(changed_since)
    sql = f"""SELECT s.id, s.first_seen_at, s.last_seen_at, {_WHEN} AS event_at, s.is_strike,
                     s.oblasts, s.places, s.weapons, s.killed, s.injured, s.children_killed,
                     s.children_injured, fp.text AS first_text,
                     (SELECT json_group_array(json_object('stream', p.stream, 'url', p.url))
                        FROM (SELECT stream, url FROM posts WHERE story_id = s.id
                              ORDER BY published_at, id) p) AS posts
              FROM stories s JOIN posts fp ON fp.id = s.first_post_id
              WHERE {' AND '.join(where)} ORDER BY s.id LIMIT ?"""
    last = 0
    while True:
        rows = await db.fetchall(sql, (last, *params, batch))
        if not rows:
            return
        for row in rows:
            posts = json.loads(row["posts"])
            yield {
                "id": row["id"], "first_seen_at": row["first_seen_at"],
                "last_seen_at": row["last_seen_at"], "event_at": row["event_at"],
                "is_strike": bool(row["is_strike"]), "oblasts": json.loads(row["oblasts"]),
                "places": json.loads(row["places"]), "weapons": json.loads(row["weapons"]),
                "killed": row["killed"], "injured": row["injured"],
                "children_killed": row["children_killed"], "children_injured": row["children_injured"],
                "post_count": len(posts),
                "sources": list(dict.fromkeys(p["stream"] for p in posts)),
                "post_urls": [p["url"] for p in posts if p["url"]],
                "first_text": row["first_text"],
            }
        last = rows[-1]["id"]


# A story's posts' column, in publication order, joined by the ASCII unit separator (no stream
# name or URL holds a control character): one row per story, read off an index in that order.
_SEPARATOR = "\x1f"
_POSTS_COLUMN = """(SELECT group_concat({0}, char(31)) FROM (SELECT {0} FROM posts
                     WHERE story_id = s.id ORDER BY published_at, id))"""


async def strike_story_pages(
    db: Database, *, since: datetime | None = None, until: datetime | None = None, batch: int = 1000,
) -> AsyncIterator[list[tuple[Any, ...]]]:
    """Strike stories a page at a time, oldest first, as tuples (id, event_at, oblasts, places,
    weapons, killed, injured, children_killed, children_injured, first_text, streams, urls):
    `streams` and `urls` those of its posts in publication order (a post without a URL left out).

    Streams by id, one statement per page (the posts gathered by SQLite, not per story in
    Python). The next page is read (in SQLite's thread) while the caller works on this one.
    """
    dates, params = date_filter(_WHEN, since, until)
    sql = f"""SELECT s.id, {_WHEN} AS event_at, s.oblasts, s.places, s.weapons, s.killed, s.injured,
                     s.children_killed, s.children_injured, fp.text AS first_text,
                     {_POSTS_COLUMN.format("stream")} AS streams, {_POSTS_COLUMN.format("url")} AS urls
              FROM stories s JOIN posts fp ON fp.id = s.first_post_id
              WHERE {' AND '.join(["s.id > ?", "s.is_strike = 1", *dates])} ORDER BY s.id LIMIT ?"""

    async def read(after: int) -> list[tuple[Any, ...]]:
        return [(*story, streams.split(_SEPARATOR) if streams else [],
                 list(filter(None, urls.split(_SEPARATOR))) if urls else [])
                for *story, streams, urls in await db.fetchall(sql, (after, *params, batch))]

    ahead = asyncio.ensure_future(read(0))
    try:
        while True:
            page = await ahead
            if not page:
                return
            ahead = asyncio.ensure_future(read(page[-1][0]))
            yield page
    finally:
        ahead.cancel()  # a reader that stops early leaves no query running


# A story's moment grouped by its UTC hour (whole hours decide the Kyiv date: Kyiv's offset has
# been whole hours since 1924); a timestamp not in the archive's own form is kept whole.
_HOUR = f"CASE WHEN length({_WHEN}) = 20 AND {_WHEN} LIKE '%Z' THEN substr({_WHEN}, 1, 13) ELSE {_WHEN} END"
_EACH = {"oblast": ("oblasts", "?"), "weapon": ("weapons", "unknown")}


async def strike_groups(
    db: Database, keys: list[str], since: datetime | None, until: datetime | None,
) -> list[Any]:
    """Strike stories counted, with killed and injured summed, in one GROUP BY over `keys`
    ("hour": the UTC hour, "oblast", "weapon"): a story naming two oblasts (or weapons) counts in each."""
    joins, columns = [], []
    for key in keys:
        if key == "hour":
            columns.append(f"{_HOUR} AS hour")
            continue
        column, none = _EACH[key]
        joins.append(f", json_each(CASE WHEN json_array_length(s.{column}) = 0 THEN '[\"{none}\"]' "
                     f"ELSE s.{column} END) AS {key}_each")
        columns.append(f"{key}_each.value AS {key}")
    dates, params = date_filter(_WHEN, since, until)
    sql = f"""SELECT {', '.join(columns)}, count(*) AS strikes, sum(coalesce(s.killed, 0)) AS killed,
                     sum(coalesce(s.injured, 0)) AS injured
              FROM stories s JOIN posts fp ON fp.id = s.first_post_id {''.join(joins)}
              WHERE {' AND '.join(["s.is_strike = 1", *dates])} GROUP BY {', '.join(keys)}"""
    return await db.fetchall(sql, tuple(params))
