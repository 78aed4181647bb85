"""Stories: one row per real event, carrying the best current figures of its posts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from analysis.model import Analysis
from storage.database import Database
from storage.timeutil import from_db, to_db, utcnow

__all__ = [
    "Story", "story_of_post", "open_story", "merge_into_story", "get_story", "latest_strikes",
    "record_revision", "note_deletions", "refresh_story_figures", "stories_between",
]


@dataclass(frozen=True, slots=True)
class Story:
    id: int
    is_strike: bool
    oblasts: tuple[str, ...]
    places: tuple[dict, ...]
    weapons: tuple[str, ...]
    killed: int | None
    injured: int | None
    children_killed: int | None
    children_injured: int | None
    first_post_id: int
    revision: int
    event_at: str | None
    features: frozenset[str] = frozenset()  # what the story is matched on (`analysis.stories`)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _story(row: aiosqlite.Row) -> Story:
    return Story(
        id=row["id"], is_strike=bool(row["is_strike"]), oblasts=tuple(json.loads(row["oblasts"])),
        places=tuple(json.loads(row["places"])), weapons=tuple(json.loads(row["weapons"])),
        killed=row["killed"], injured=row["injured"], children_killed=row["children_killed"],
        children_injured=row["children_injured"], first_post_id=row["first_post_id"],
        revision=row["revision"], event_at=row["event_at"], features=frozenset(json.loads(row["features"])),
    )


async def get_story(conn: aiosqlite.Connection, story_id: int) -> Story:
    async with conn.execute("SELECT * FROM stories WHERE id = ?", (story_id,)) as cursor:
        row = await cursor.fetchone()
    if row is None:
        raise KeyError(story_id)
    return _story(row)


async def story_of_post(conn: aiosqlite.Connection, post_id: int) -> Story | None:
    async with conn.execute(
        "SELECT s.* FROM stories s JOIN posts p ON p.story_id = s.id WHERE p.id = ?", (post_id,)
    ) as cursor:
        row = await cursor.fetchone()
    return _story(row) if row else None


async def open_story(
    conn: aiosqlite.Connection, post_id: int, analysis: Analysis, event_at: str | None,
    features: frozenset[str] = frozenset(),
) -> Story:
    """A new story whose only post is `post_id`, matched on `features` (`analysis.stories`)."""
    now = to_db(utcnow())
    c = analysis.casualties
    inserted = await conn.execute_insert(
        """INSERT INTO stories (is_strike, oblasts, places, weapons, killed, injured,
               children_killed, children_injured, first_post_id, first_seen_at, last_seen_at, event_at, features)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            int(analysis.is_strike), _dumps(list(analysis.oblasts)),
            _dumps([p.to_json() for p in analysis.places]), _dumps(list(analysis.weapons)),
            c.killed, c.injured, c.children_killed, c.children_injured, post_id, now, now, event_at,
            _dumps(sorted(features)),
        ),
    )
    assert inserted is not None
    await conn.execute("UPDATE posts SET story_id = ? WHERE id = ?", (inserted[0], post_id))
    return await get_story(conn, int(inserted[0]))


def _higher(current: int | None, new: int | None) -> int | None:
    # Figures only rise as reports update; a later post that omits them keeps the known ones.
    if new is None:
        return current
    return new if current is None else max(current, new)


@dataclass(frozen=True, slots=True)
class _Figures:
    """What a story shows, folded from its posts' analyses: a strike if any post says so, the
    union of oblasts and weapons, the first place seen per code, the highest of each figure."""

    is_strike: bool = False
    oblasts: tuple[str, ...] = ()
    weapons: tuple[str, ...] = ()
    places: tuple[dict, ...] = ()
    casualties: tuple[int | None, ...] = (None, None, None, None)  # killed, injured, children k./i.

    def fold(
        self, is_strike: bool, oblasts: Iterable[str], weapons: Iterable[str], places: Iterable[dict],
        casualties: Iterable[int | None],
    ) -> _Figures:
        by_code = {p["code"]: p for p in self.places}
        for place in places:
            by_code.setdefault(place["code"], place)
        return _Figures(
            self.is_strike or bool(is_strike), tuple(sorted(set(self.oblasts) | set(oblasts))),
            tuple(sorted(set(self.weapons) | set(weapons))), tuple(by_code.values()),
            tuple(_higher(a, b) for a, b in zip(self.casualties, casualties, strict=True)),
        )


async def merge_into_story(
    conn: aiosqlite.Connection, story: Story, post_id: int, analysis: Analysis, features: frozenset[str] = frozenset(),
) -> tuple[Story, bool]:
    """Attach the post (new or re-analysed) to `story` and fold in its figures, places and
    matching `features`.

    Returns the updated story and whether anything an alert shows changed (then the
    revision is bumped so sent alerts get edited).
    """
    c = analysis.casualties
    known = (story.killed, story.injured, story.children_killed, story.children_injured)
    folded = _Figures(story.is_strike, story.oblasts, story.weapons, story.places, known).fold(
        analysis.is_strike, analysis.oblasts, analysis.weapons, (p.to_json() for p in analysis.places),
        (c.killed, c.injured, c.children_killed, c.children_injured),
    )
    changed = (
        folded.casualties != known
        or folded.oblasts != story.oblasts or folded.weapons != story.weapons
        or len(folded.places) != len(story.places) or folded.is_strike != story.is_strike
    )
    await conn.execute("UPDATE posts SET story_id = ? WHERE id = ?", (story.id, post_id))
    await conn.execute(
        """UPDATE stories SET is_strike = ?, oblasts = ?, places = ?, weapons = ?, killed = ?,
               injured = ?, children_killed = ?, children_injured = ?, last_seen_at = ?,
               revision = revision + ?, features = ?
           WHERE id = ?""",
        (
            int(folded.is_strike), _dumps(folded.oblasts), _dumps(folded.places), _dumps(folded.weapons),
            *folded.casualties, to_db(utcnow()), int(changed), _dumps(sorted(story.features | features)), story.id,
        ),
    )
    return await get_story(conn, story.id), changed


async def refresh_story_figures(conn: aiosqlite.Connection, post_ids: list[int]) -> None:
    """Recompute each story the posts belong to from its posts' stored analyses, folded as
    `merge_into_story` folds them (membership, revision and features stay as they are)."""
    marks = ",".join("?" * len(post_ids))
    async with conn.execute(
        f"SELECT DISTINCT story_id FROM posts WHERE id IN ({marks}) AND story_id IS NOT NULL", post_ids
    ) as cur:
        story_ids = [r[0] for r in await cur.fetchall()]
    for story_id in story_ids:
        async with conn.execute(
            """SELECT a.is_strike, a.weapons, a.oblasts, a.places, a.killed, a.injured, a.children_killed,
                      a.children_injured FROM analyses a JOIN posts p ON p.id = a.post_id WHERE p.story_id = ?""",
            (story_id,),
        ) as cur:
            members = await cur.fetchall()
        folded = _Figures()
        for m in members:
            folded = folded.fold(bool(m[0]), json.loads(m[2]), json.loads(m[1]), json.loads(m[3]), tuple(m[4:8]))
        await conn.execute(
            """UPDATE stories SET is_strike = ?, weapons = ?, oblasts = ?, places = ?, killed = ?, injured = ?,
                   children_killed = ?, children_injured = ? WHERE id = ?""",
            (
                int(folded.is_strike), _dumps(folded.weapons), _dumps(folded.oblasts), _dumps(folded.places),
                *folded.casualties, story_id,
            ),
        )


async def latest_strikes(db: Database, limit: int = 200) -> list[tuple[Story, str | None, str | None]]:
    """The newest strike stories with the URL and stream of their first post, newest first."""
    rows = await db.fetchall(
        """SELECT s.*, p.url AS post_url, p.stream AS post_stream FROM stories s
           JOIN posts p ON p.id = s.first_post_id
           WHERE s.is_strike = 1 ORDER BY COALESCE(s.event_at, s.first_seen_at) DESC LIMIT ?""",
        (limit,),
    )
    return [(_story(row), row["post_url"], row["post_stream"]) for row in rows]


async def record_revision(conn: aiosqlite.Connection, story: Story, post_id: int) -> None:
    """Keep the story's figures and places as of this revision."""
    await conn.execute(
        """INSERT OR REPLACE INTO story_revisions (story_id, revision, post_id, killed, injured, places,
               weapons, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            story.id, story.revision, post_id, story.killed, story.injured,
            _dumps([p["code"] for p in story.places]), _dumps(list(story.weapons)), to_db(utcnow()),
        ),
    )


async def note_deletions(conn: aiosqlite.Connection, post_ids: list[int]) -> None:
    """Count, on each story, the posts its sources have since deleted."""
    for post_id in post_ids:
        await conn.execute(
            "UPDATE stories SET deleted_posts = deleted_posts + 1 WHERE id = (SELECT story_id FROM posts WHERE id = ?)",
            (post_id,),
        )


async def stories_between(
    conn: aiosqlite.Connection, start: datetime, end: datetime
) -> list[tuple[int, datetime | None, frozenset[str]]]:
    """Each story whose event time falls in [start, end]: its id, event time and features."""
    async with conn.execute(
        "SELECT id, event_at, features FROM stories WHERE event_at BETWEEN ? AND ?", (to_db(start), to_db(end))
    ) as cursor:
        return [(r[0], from_db(r[1]), frozenset(json.loads(r[2]))) for r in await cursor.fetchall()]
