"""Detection results, one row per post, tagged with the analyzer version that made them."""

from __future__ import annotations

import json
from dataclasses import dataclass

import aiosqlite

from analysis.model import Analysis
from storage.database import Database, write_batch, write_rows
from storage.timeutil import to_db, utcnow

__all__ = [
    "save_analysis", "save_analyses", "record_analysis_error", "record_analysis_errors", "Stale", "count_stale",
    "stale_posts",
]


# One encoder for every row: `json.dumps` with options builds a new one per call, which cost
# more than the encoding of an analysis's short lists (measured: about half of each call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _json(value: list) -> str:
    return _ENCODER.encode(value) if value else "[]"


async def save_analysis(conn: aiosqlite.Connection, post_id: int, analysis: Analysis) -> None:
    """Replace the post's analysis (inside the caller's transaction)."""
    await save_analyses(conn, [(post_id, analysis)])


async def save_analyses(conn: aiosqlite.Connection, readings: list[tuple[int, Analysis]]) -> None:
    """Replace each (post id, analysis)'s analysis, and forget its error (in the caller's transaction)."""
    now = to_db(utcnow())
    rows = [
        (
            post_id, a.version, int(a.is_strike), _json(list(a.weapons)), _json(list(a.oblasts)),
            _json([p.to_json() for p in a.places]), a.casualties.killed, a.casualties.injured,
            a.casualties.children_killed, a.casualties.children_injured, now,
        )
        for post_id, a in readings
    ]
    # Both in one trip to the writer's thread.
    await write_batch(conn, [
        (
            """INSERT INTO analyses (post_id, version, is_strike, weapons, oblasts, places, killed,
                   injured, children_killed, children_injured, analyzed_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (post_id) DO UPDATE SET version = excluded.version,
                   is_strike = excluded.is_strike, weapons = excluded.weapons,
                   oblasts = excluded.oblasts, places = excluded.places, killed = excluded.killed,
                   injured = excluded.injured, children_killed = excluded.children_killed,
                   children_injured = excluded.children_injured, analyzed_at = excluded.analyzed_at""",
            rows,
        ),
        ("DELETE FROM analysis_errors WHERE post_id = ?", [(post_id,) for post_id, _ in readings]),
    ])


async def record_analysis_error(conn: aiosqlite.Connection, post_id: int, version: str, error: BaseException) -> None:
    """Note that analyser `version` failed on the post (inside the caller's transaction)."""
    await record_analysis_errors(conn, [(post_id, error)], version)


async def record_analysis_errors(conn: aiosqlite.Connection, failures: list[tuple[int, BaseException]], version: str) -> None:
    """Note that analyser `version` failed on each (post id, error) (inside the caller's transaction).

    An earlier analysis of a post, if any, is kept: it is the best reading there is until
    `reanalyze` succeeds.
    """
    now = to_db(utcnow())
    await write_rows(
        conn,
        """INSERT INTO analysis_errors (post_id, version, error, failed_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (post_id) DO UPDATE SET version = excluded.version, error = excluded.error,
               failed_at = excluded.failed_at""",
        [(post_id, version, f"{type(error).__name__}: {error}"[:500], now) for post_id, error in failures],
    )


@dataclass(frozen=True, slots=True)
class Stale:
    """A post to analyse again; `storyless` when it was archived while the analyser failed on
    it, so it has yet to join a story."""

    post_id: int
    text: str
    title: str | None
    stream: str
    storyless: bool


def _stale_where(version: str | None) -> tuple[str, tuple]:
    # version None: every post is stale.
    if version is None:
        return "", ()
    return "WHERE (a.version IS NULL OR a.version != ? OR p.id IN (SELECT post_id FROM analysis_errors))", (version,)


async def count_stale(db: Database, version: str | None) -> int:
    """How many posts have no analysis by `version` or a failed one (every post with None)."""
    where, params = _stale_where(version)
    row = await db.fetchone(f"SELECT count(*) FROM posts p LEFT JOIN analyses a ON a.post_id = p.id {where}", params)
    return row[0] if row else 0


async def stale_posts(db: Database, version: str | None, after_id: int, limit: int) -> list[Stale]:
    """The next `limit` posts by id after `after_id` that `count_stale` counts."""
    where, params = _stale_where(version)
    where = f"{where} {'AND' if where else 'WHERE'} p.id > ?"
    rows = await db.fetchall(
        f"""SELECT p.id, p.text, p.title, p.stream, p.story_id IS NULL AND p.id IN
                (SELECT post_id FROM analysis_errors) AS storyless
            FROM posts p LEFT JOIN analyses a ON a.post_id = p.id {where} ORDER BY p.id LIMIT ?""",
        (*params, after_id, limit),
    )
    return [Stale(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]
