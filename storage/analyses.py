"""Detection results, one row per post, tagged with the analyzer version that made them."""

from __future__ import annotations

import json

import aiosqlite

from analysis.model import Analysis
from storage.timeutil import to_db, utcnow

__all__ = ["save_analysis"]


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
