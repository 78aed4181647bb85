"""Per source per day: what the archive holds and what it may have missed (`dsns-monitor coverage`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.database import Database
from storage.timeutil import to_db

__all__ = ["CoverageDay", "coverage_days"]


@dataclass(frozen=True, slots=True)
class CoverageDay:
    """`missing_ids`: Telegram message ids between the day's lowest and highest post that no
    stored post has (an album's photos take one id each and are not counted missing);
    None for feeds. `fetches`: pages and feed bodies kept that day."""

    source: str
    day: str
    posts: int
    edits: int
    deletions: int
    missing_ids: int | None
    fetches: int


async def coverage_days(db: Database, *, since: datetime | None = None) -> list[CoverageDay]:
    """Days (UTC) with any post, edit, deletion or fetch, per source, oldest first."""
    start = to_db(since) if since else ""
    rows = await db.fetchall(
        """WITH p AS (
               SELECT po.source_id, substr(po.published_at, 1, 10) AS day, po.kind, po.external_id,
                      (SELECT count(*) FROM post_media m WHERE m.post_id = po.id) AS photos
               FROM posts po WHERE po.source_id IS NOT NULL AND po.published_at >= ?
           ),
           posts_day AS (
               SELECT source_id, day, count(*) AS posts,
                      CASE WHEN sum(kind = 'article') > 0 THEN NULL ELSE
                          max(CAST(external_id AS INTEGER)) - min(CAST(external_id AS INTEGER)) + 1
                          - count(*) - sum(max(photos - 1, 0)) END AS missing
               FROM p GROUP BY source_id, day
           ),
           edits AS (
               SELECT po.source_id, substr(v.seen_at, 1, 10) AS day, count(*) AS edits
               FROM post_versions v JOIN posts po ON po.id = v.post_id
               WHERE v.version > 1 AND v.seen_at >= ? GROUP BY 1, 2
           ),
           deletions AS (
               SELECT source_id, substr(deleted_at, 1, 10) AS day, count(*) AS deletions
               FROM posts WHERE deleted_at >= ? GROUP BY 1, 2
           ),
           fetches AS (
               SELECT source_id, substr(fetched_at, 1, 10) AS day, count(*) AS fetches
               FROM payloads WHERE fetched_at >= ? GROUP BY 1, 2
           ),
           days AS (
               SELECT source_id, day FROM posts_day UNION SELECT source_id, day FROM edits
               UNION SELECT source_id, day FROM deletions UNION SELECT source_id, day FROM fetches
           )
           SELECT s.name, d.day, coalesce(pd.posts, 0), coalesce(e.edits, 0), coalesce(x.deletions, 0),
                  CASE WHEN s.type = 'rss' THEN NULL ELSE max(coalesce(pd.missing, 0), 0) END,
                  coalesce(f.fetches, 0)
           FROM days d JOIN sources s ON s.id = d.source_id
           LEFT JOIN posts_day pd ON pd.source_id = d.source_id AND pd.day = d.day
           LEFT JOIN edits e ON e.source_id = d.source_id AND e.day = d.day
           LEFT JOIN deletions x ON x.source_id = d.source_id AND x.day = d.day
           LEFT JOIN fetches f ON f.source_id = d.source_id AND f.day = d.day
           ORDER BY d.day, s.name""",
        (start, start, start, start),
    )
    return [CoverageDay(*row) for row in rows]
