"""Detection results, one row per post, tagged with the analyzer version that made them."""

from __future__ import annotations

import json

import aiosqlite

from analysis.model import Analysis
from storage.timeutil import to_db, utcnow

__all__ = ["save_analysis", "record_analysis_error"]


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


async def save_analysis(conn: aiosqlite.Connection, post_id: int, analysis: Analysis) -> None:
    """Replace the post's analysis (inside the caller's transaction)."""
    c = analysis.casualties
    await conn.execute(
        """INSERT INTO analyses (post_id, version, is_strike, weapons, oblasts, places, killed,
               injured, children_killed, children_injured, analyzed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (post_id) DO UPDATE SET version = excluded.version,
               is_strike = excluded.is_strike, weapons = excluded.weapons,
               oblasts = excluded.oblasts, places = excluded.places, killed = excluded.killed,
               injured = excluded.injured, children_killed = excluded.children_killed,
               children_injured = excluded.children_injured, analyzed_at = excluded.analyzed_at""",
        (
            post_id, analysis.version, int(analysis.is_strike), _json(list(analysis.weapons)),
            _json(list(analysis.oblasts)), _json([p.to_json() for p in analysis.places]),
            c.killed, c.injured, c.children_killed, c.children_injured, to_db(utcnow()),
        ),
    )
    await conn.execute("DELETE FROM analysis_errors WHERE post_id = ?", (post_id,))


async def record_analysis_error(conn: aiosqlite.Connection, post_id: int, version: str, error: BaseException) -> None:
    """Note that analyser `version` failed on the post (inside the caller's transaction).

    An earlier analysis of the post, if any, is kept: it is the best reading there is until
    `reanalyze` succeeds.
    """
    await conn.execute(
        """INSERT INTO analysis_errors (post_id, version, error, failed_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (post_id) DO UPDATE SET version = excluded.version, error = excluded.error,
               failed_at = excluded.failed_at""",
        (post_id, version, f"{type(error).__name__}: {error}"[:500], to_db(utcnow())),
    )
