"""`dsns-monitor reanalyze`: redo detection over the archive after an analyzer upgrade.

Posts are re-read in batches; each batch's analyses and the figures of the stories they
belong to are rewritten in one transaction, so an interrupted run keeps what it finished and
a rerun picks up the rest (only posts whose analysis is older than this analyzer, or that
the analyser failed on: those the daemon archived with an error in `analysis_errors`).
A post the analyser still fails on keeps its error (updated) and does not stop the run.
"""

from __future__ import annotations

import asyncio
import json
import logging

import aiosqlite
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from analysis.analyze import ANALYZER_VERSION, analyze_or_error
from analysis.model import Analysis
from collectors.base import RawPost
from monitor.app import App
from monitor.logs import quiet_during_progress
from storage.analyses import record_analysis_error, save_analysis
from storage.posts import Change, stored_post

__all__ = ["reanalyze"]

log = logging.getLogger("dsns_monitor.reanalyze")

BATCH = 500


def _analyze_rows(rows: list[tuple[int, str, str | None, str]]) -> list[tuple[int, Analysis | Exception]]:
    results: list[tuple[int, Analysis | Exception]] = []
    for post_id, text, title, stream in rows:
        reading = analyze_or_error(f"{title}\n{text}" if title else text, channel=stream)
        if isinstance(reading, Exception):
            log.error("post=%d analysis failed", post_id, exc_info=reading)
        results.append((post_id, reading))
    return results


async def reanalyze(app: App, *, everything: bool = False) -> int:
    """Re-analyse stale posts (or all with `everything`); returns the number re-analysed."""
    stale = "" if everything else (
        "WHERE (a.version IS NULL OR a.version != ? OR p.id IN (SELECT post_id FROM analysis_errors))"
    )
    params: tuple = () if everything else (ANALYZER_VERSION,)
    total = (await app.db.fetchone(f"SELECT count(*) FROM posts p LEFT JOIN analyses a ON a.post_id = p.id {stale}", params))[0]
    done = failed = 0
    last_id = 0
    with quiet_during_progress(), Progress(TextColumn("[bold]reanalyze"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as progress:
        task = progress.add_task("posts", total=total)
        while True:
            where = f"{stale} {'AND' if stale else 'WHERE'} p.id > ?"
            rows = await app.db.fetchall(
                f"""SELECT p.id, p.text, p.title, p.stream, p.story_id IS NULL AND p.id IN
                        (SELECT post_id FROM analysis_errors) AS storyless
                    FROM posts p LEFT JOIN analyses a ON a.post_id = p.id {where} ORDER BY p.id LIMIT ?""",
                (*params, last_id, BATCH),
            )
            if not rows:
                break
            results = await asyncio.to_thread(_analyze_rows, [tuple(r)[:4] for r in rows])
            storyless = {r["id"] for r in rows if r["storyless"]}
            async with app.db.write() as conn:
                for post_id, reading in results:
                    if isinstance(reading, Analysis):
                        await save_analysis(conn, post_id, reading)
                        if post_id in storyless:
                            # Archived by the daemon when the analyser failed on it: it joins its
                            # story now (and alerts, if it is still fresh enough to).
                            await _attach(app, conn, post_id, reading)
                    else:
                        await record_analysis_error(conn, post_id, ANALYZER_VERSION, reading)
                await _refresh_stories(conn, [post_id for post_id, r in results if isinstance(r, Analysis)])
            failures = sum(isinstance(r, Exception) for _, r in results)
            done += len(rows) - failures
            failed += failures
            last_id = rows[-1][0]
            progress.update(task, advance=len(rows))
    print(f"re-analysed {done} posts with analyzer {ANALYZER_VERSION}")
    if failed:
        print(f"the analyser failed on {failed} posts: their errors are in the analysis_errors table")
    return done


async def _attach(app: App, conn: aiosqlite.Connection, post_id: int, analysis: Analysis) -> None:
    post = await stored_post(conn, post_id)
    raw = RawPost(post.stream, post.external_id, post.url, post.published_at, post.text, title=post.title)
    await app.pipeline.stories.attach_and_plan(conn, Change("new", post, raw), analysis)


async def _refresh_stories(conn, post_ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    """Recompute each touched story from its posts' analyses (membership stays as it is)."""
    marks = ",".join("?" * len(post_ids))
    async with conn.execute(f"SELECT DISTINCT story_id FROM posts WHERE id IN ({marks}) AND story_id IS NOT NULL", post_ids) as cur:
        story_ids = [r[0] for r in await cur.fetchall()]
    for story_id in story_ids:
        async with conn.execute(
            """SELECT a.is_strike, a.weapons, a.oblasts, a.places, a.killed, a.injured, a.children_killed,
                      a.children_injured FROM analyses a JOIN posts p ON p.id = a.post_id WHERE p.story_id = ?""",
            (story_id,),
        ) as cur:
            members = await cur.fetchall()
        places: dict[str, dict] = {}
        for m in members:
            for place in json.loads(m[3]):
                places.setdefault(place["code"], place)

        def top(index: int) -> int | None:
            values = [m[index] for m in members if m[index] is not None]
            return max(values) if values else None

        await conn.execute(
            """UPDATE stories SET is_strike = ?, weapons = ?, oblasts = ?, places = ?, killed = ?, injured = ?,
                   children_killed = ?, children_injured = ? WHERE id = ?""",
            (
                int(any(m[0] for m in members)),
                json.dumps(sorted({w for m in members for w in json.loads(m[1])}), ensure_ascii=False),
                json.dumps(sorted({o for m in members for o in json.loads(m[2])}), ensure_ascii=False),
                json.dumps(list(places.values()), ensure_ascii=False),
                top(4), top(5), top(6), top(7), story_id,
            ),
        )
