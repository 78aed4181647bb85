"""Full-text search over the word index, in milliseconds at any archive size.

How: the `posts_words` FTS5 table (migration m008) indexes words (unicode61 tokenizer); the
search language (`research.query`) turns a query into a MATCH expression of every form of its
words. The index's rowid is the post's search key (publication second, then id), which FTS5
streams newest first: ordering, filters and LIMIT run inside SQLite and a first page reads only
its own rows, so it costs the same at 10^4 and 10^6 posts. Only what SQL cannot decide (a
phrase's word adjacency) is left to the caller's `check`, on the rows SQL already narrowed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any

from storage.database import Database
from storage.export import PHOTOS_SQL, post_row

__all__ = ["search_posts", "search_sql", "search_key", "ID_BITS"]

ID_BITS = 31  # posts_words.rowid = publication second << ID_BITS | post id (storage/schema.py)
_ID_MASK = (1 << ID_BITS) - 1


def search_key(moment: datetime) -> int:
    """The smallest search key of a post published at or after `moment`."""
    return int(moment.timestamp()) << ID_BITS


def search_sql(
    match: str,
    *,
    oblast: str | None = None,
    units: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    strikes: bool = False,
) -> tuple[str, list[Any]]:
    """The page query for a `posts_words` MATCH expression and its parameters, less the last
    two: the cursor (keys below it) and LIMIT. `oblast`: posts analysed as in that oblast;
    `units`: posts naming one of those gazetteer units."""
    where = ["posts_words MATCH ?"]
    params: list[Any] = [match]
    if since is not None:
        where.append("w.rowid >= ?")
        params.append(search_key(since))
    if until is not None:
        where.append("w.rowid < ?")
        params.append(search_key(until))
    if strikes:
        where.append("a.is_strike = 1")
    if oblast is not None:
        where.append("EXISTS (SELECT 1 FROM json_each(a.oblasts) WHERE value = ?)")
        params.append(oblast)
    if units is not None:
        where.append("EXISTS (SELECT 1 FROM json_each(a.places) WHERE json_extract(value, '$.code') "
                     "IN (SELECT value FROM json_each(?)))")
        params.append(json.dumps(list(units)))
    sql = f"""SELECT w.rowid AS cursor, w.versions, p.id, p.stream, p.external_id, p.url,
                     p.published_at, p.title, p.text, p.edited, p.deleted_at, a.is_strike,
                     a.oblasts, a.places, {PHOTOS_SQL}
              FROM posts_words w LEFT JOIN analyses a ON a.post_id = (w.rowid & {_ID_MASK})
              JOIN posts p ON p.id = (w.rowid & {_ID_MASK})
              WHERE {' AND '.join(where)} AND w.rowid < ?
              ORDER BY w.rowid DESC LIMIT ?"""
    return sql, params


async def search_posts(
    db: Database,
    match: str,
    *,
    check: Callable[[str], bool] | None = None,
    oblast: str | None = None,
    units: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    strikes: bool = False,
    limit: int = 50,
    after: int | None = None,
    skip: int = 0,
    batch: int = 200,
) -> AsyncIterator[dict[str, Any]]:
    """Posts matching `match`, newest first, as export rows plus is_strike/oblasts/places and
    `cursor` (pass the last one as `after` for the next page; `skip` pages by count).

    SQLite streams the word index in key order (published second, then id) with every filter
    applied, so LIMIT stops it after a page; only `check` (given a post's title, text and
    earlier wordings) runs in Python.
    """
    sql, params = search_sql(match, oblast=oblast, units=units, since=since, until=until, strikes=strikes)
    cursor = (1 << 63) - 1 if after is None else after
    found = 0
    while found < limit:
        # A checked match (a phrase): most rows holding both words hold them together, so ask for little more.
        want = min(batch, 2 * (limit - found + skip) + 10) if check else limit - found + skip
        rows = await db.fetchall(sql, (*params, cursor, want))
        for row in rows:
            cursor = row["cursor"]
            if check and not check("\n".join(x for x in (row["title"], row["text"], row["versions"]) if x)):
                continue
            if skip:
                skip -= 1
                continue
            places = json.loads(row["places"]) if row["places"] else []
            yield {
                **post_row(row),
                "is_strike": None if row["is_strike"] is None else bool(row["is_strike"]),
                "oblasts": json.loads(row["oblasts"]) if row["oblasts"] else [],
                "places": [p.get("name") for p in places],
                "deleted": row["deleted_at"] is not None, "cursor": row["cursor"],
            }
            found += 1
            if found >= limit:
                return
        if len(rows) < want:
            return
