"""What the public site reads besides the stories themselves (`storage.research.iter_stories`):
each story's posts and the history of its figures, photos' bytes, and the newest change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.database import Database
from storage.export import PHOTOS_SQL

__all__ = ["SitePost", "FigureRevision", "story_posts", "figure_history", "last_change"]

# Ids per IN (...) list: far below SQLite's limit on parameters, and a page of stories at a time.
_BATCH = 500


@dataclass(frozen=True, slots=True)
class SitePost:
    """One post of a story as the site shows it; `photos` are SHA-256 of stored photos, in order."""

    story_id: int
    stream: str
    source: str | None
    url: str | None
    published_at: str | None
    text: str
    deleted: bool
    photos: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FigureRevision:
    """A story's figures as of one revision; `at` is the publication time of the post that
    brought them (else when the archive recorded them), `recorded_at` when the archive did."""

    story_id: int
    revision: int
    killed: int | None
    injured: int | None
    at: str
    recorded_at: str


async def _batched(db: Database, sql: str, ids: Sequence[int]) -> list[Any]:
    rows: list[Any] = []
    for start in range(0, len(ids), _BATCH):
        chunk = list(ids[start:start + _BATCH])
        rows += await db.fetchall(sql.format(ids=",".join("?" * len(chunk))), tuple(chunk))
    return rows


async def story_posts(db: Database, story_ids: Sequence[int]) -> dict[int, list[SitePost]]:
    """The posts of each story, oldest first (deleted ones too, marked)."""
    rows = await _batched(
        db,
        f"""SELECT p.story_id, p.stream, s.name AS source, p.url, p.published_at, p.title, p.text,
                   p.deleted_at, {PHOTOS_SQL}
            FROM posts p LEFT JOIN sources s ON s.id = p.source_id
            WHERE p.story_id IN ({{ids}}) ORDER BY p.story_id, p.published_at, p.id""",
        story_ids,
    )
    out: dict[int, list[SitePost]] = {}
    for row in rows:
        text = row["text"]
        if row["title"]:
            text = f"{row['title']}\n\n{text}" if text else row["title"]
        out.setdefault(row["story_id"], []).append(SitePost(
            story_id=row["story_id"], stream=row["stream"], source=row["source"], url=row["url"],
            published_at=row["published_at"], text=text, deleted=row["deleted_at"] is not None,
            photos=tuple(row["photos"].split()) if row["photos"] else (),
        ))
    return out


async def figure_history(db: Database, story_ids: Sequence[int]) -> dict[int, list[FigureRevision]]:
    """Each story's recorded revisions, oldest first."""
    rows = await _batched(
        db,
        """SELECT r.story_id, r.revision, r.killed, r.injured, r.recorded_at,
                  coalesce(p.published_at, r.recorded_at) AS at
           FROM story_revisions r LEFT JOIN posts p ON p.id = r.post_id
           WHERE r.story_id IN ({ids}) ORDER BY r.story_id, r.revision""",
        story_ids,
    )
    out: dict[int, list[FigureRevision]] = {}
    for row in rows:
        out.setdefault(row["story_id"], []).append(FigureRevision(
            row["story_id"], row["revision"], row["killed"], row["injured"], row["at"], row["recorded_at"],
        ))
    return out


async def last_change(db: Database) -> str | None:
    """The newest `last_seen_at` of any story: a site rendered up to it shows every change before it."""
    row = await db.fetchone("SELECT max(last_seen_at) FROM stories")
    return row[0] if row else None
