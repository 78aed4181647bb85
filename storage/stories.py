"""Stories: one row per real event, carrying the best current figures of its posts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

import aiosqlite

from analysis.model import Analysis
from storage.database import Database, Statements, write_batch
from storage.timeutil import from_db, to_db, utcnow

__all__ = [
    "Story", "open_story", "get_story", "latest_strikes", "note_deletions", "refresh_story_figures",
    "stories_between", "get_stories", "stories_of_posts", "next_story_id", "new_story", "merged", "save_stories",
    "story_statements", "revision_statements", "stories_and_next_id",
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


# one encoder for every value: json.dumps with options builds a new one per call
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


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


async def open_story(
    conn: aiosqlite.Connection, post_id: int, analysis: Analysis, event_at: str | None,
    features: frozenset[str] = frozenset(),
) -> Story:
    """A new story whose only post is `post_id`, matched on `features` (`analysis.stories`)."""
    story = new_story(await next_story_id(conn), post_id, analysis, event_at, features)
    await save_stories(conn, opened=[story], updated=[], members=[(story.id, post_id)])
    return story


async def get_stories(conn: aiosqlite.Connection, story_ids: list[int]) -> dict[int, Story]:
    """The stories of `story_ids` the archive holds, by id."""
    found: dict[int, Story] = {}
    ids = sorted(set(story_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = await conn.execute_fetchall(f"SELECT * FROM stories WHERE id IN ({','.join('?' * len(chunk))})", chunk)
        found.update((row["id"], _story(row)) for row in rows)
    return found


async def stories_and_next_id(conn: aiosqlite.Connection, story_ids: list[int]) -> tuple[dict[int, Story], int]:
    """`get_stories` and `next_story_id` in one query (one trip to the writer's thread)."""
    ids = sorted(set(story_ids))
    if len(ids) > 500:
        return await get_stories(conn, ids), await next_story_id(conn)
    rows = await conn.execute_fetchall(
        f"""SELECT n.next_id, s.* FROM (SELECT coalesce(max(id), 0) + 1 AS next_id FROM stories) n
            LEFT JOIN stories s ON s.id IN ({','.join('?' * len(ids))})""",
        ids,
    )
    return {row["id"]: _story(row) for row in rows if row["id"] is not None}, int(rows[0]["next_id"])


async def stories_of_posts(conn: aiosqlite.Connection, post_ids: list[int]) -> dict[int, Story]:
    """post id → the story it belongs to, for those of `post_ids` in one."""
    found: dict[int, Story] = {}
    ids = sorted(set(post_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = await conn.execute_fetchall(
            f"SELECT p.id AS post_id, s.* FROM stories s JOIN posts p ON p.story_id = s.id "
            f"WHERE p.id IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        found.update((row["post_id"], _story(row)) for row in rows)
    return found


async def next_story_id(conn: aiosqlite.Connection) -> int:
    """The id the next story takes. Callers hold the write transaction, so the ids a batch
    gives its new stories from here on are theirs."""
    (row,) = await conn.execute_fetchall("SELECT coalesce(max(id), 0) + 1 FROM stories")
    return int(row[0])


def new_story(
    story_id: int, post_id: int, analysis: Analysis, event_at: str | None, features: frozenset[str] = frozenset(),
) -> Story:
    """Story `story_id` opened by one post (not stored yet: see `save_stories`)."""
    c = analysis.casualties
    return Story(
        id=story_id, is_strike=analysis.is_strike, oblasts=tuple(analysis.oblasts),
        places=tuple(p.to_json() for p in analysis.places), weapons=tuple(analysis.weapons),
        killed=c.killed, injured=c.injured, children_killed=c.children_killed, children_injured=c.children_injured,
        first_post_id=post_id, revision=1, event_at=event_at, features=frozenset(features),
    )


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


def merged(story: Story, analysis: Analysis, features: frozenset[str] = frozenset()) -> tuple[Story, bool]:
    """`story` with a post's (new or re-analysed) figures, places and matching `features` folded in.

    Returns the story and whether anything an alert shows changed (then its revision is bumped,
    so sent alerts get edited). Nothing is stored: see `save_stories`.
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
    return replace(
        story, is_strike=folded.is_strike, oblasts=folded.oblasts, places=folded.places, weapons=folded.weapons,
        killed=folded.casualties[0], injured=folded.casualties[1], children_killed=folded.casualties[2],
        children_injured=folded.casualties[3], revision=story.revision + int(changed),
        features=story.features | features,
    ), changed


def _row(story: Story, now: str) -> tuple:
    """The values of a stories UPDATE: the figures ... last_seen_at, revision, features, then the id."""
    return (
        int(story.is_strike), _dumps(list(story.oblasts)), _dumps(list(story.places)), _dumps(list(story.weapons)),
        story.killed, story.injured, story.children_killed, story.children_injured, now, story.revision,
        _dumps(sorted(story.features)), story.id,
    )


async def save_stories(
    conn: aiosqlite.Connection, *, opened: list[Story], updated: list[Story], members: list[tuple[int, int]],
) -> None:
    """Store the stories a batch `opened` and the current state of those it `updated`, and put
    each (story id, post id) of `members` in its story (inside the caller's transaction)."""
    await write_batch(conn, story_statements(opened=opened, updated=updated, members=members))


def story_statements(*, opened: list[Story], updated: list[Story], members: list[tuple[int, int]]) -> Statements:
    """The writes of `save_stories`, for a caller that sends them with others (`write_batch`)."""
    now = to_db(utcnow())
    return [
        (
            """INSERT INTO stories (is_strike, oblasts, places, weapons, killed, injured, children_killed,
                   children_injured, first_seen_at, last_seen_at, revision, features, id, first_post_id, event_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [(*row[:8], now, *row[8:], story.first_post_id, story.event_at)
             for story in opened for row in [_row(story, now)]],
        ),
        (
            """UPDATE stories SET is_strike = ?, oblasts = ?, places = ?, weapons = ?, killed = ?,
                   injured = ?, children_killed = ?, children_injured = ?, last_seen_at = ?, revision = ?, features = ?
               WHERE id = ?""",
            [_row(story, now) for story in updated],
        ),
        ("UPDATE posts SET story_id = ? WHERE id = ?", members),
    ]


async def refresh_story_figures(conn: aiosqlite.Connection, post_ids: list[int]) -> None:
    """Recompute each story the posts belong to from its posts' stored analyses, folded as
    `merged` folds them (membership, revision and features stay as they are)."""
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


def revision_statements(revisions: list[tuple[Story, int]]) -> Statements:
    """The writes that keep each story's figures and places as of its revision, brought by the
    post (story, post id): for the caller to send with its others (`write_batch`)."""
    now = to_db(utcnow())
    return [(
        """INSERT OR REPLACE INTO story_revisions (story_id, revision, post_id, killed, injured, places,
               weapons, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            (story.id, story.revision, post_id, story.killed, story.injured,
             _dumps([p["code"] for p in story.places]), _dumps(list(story.weapons)), now)
            for story, post_id in revisions
        ],
    )]


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
