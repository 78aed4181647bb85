"""`dsns-monitor reanalyze`: redo detection over the archive after an analyzer upgrade.

Posts are re-read in batches; each batch's analyses and the figures of the stories they
belong to are rewritten in one transaction, so an interrupted run keeps what it finished and
a rerun picks up the rest (only posts whose analysis is older than this analyzer, or that
the analyser failed on: those the daemon archived with an error in `analysis_errors`).
A post the analyser still fails on keeps its error (updated) and does not stop the run.
"""

from __future__ import annotations

import asyncio
import logging

import aiosqlite
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from analysis.analyze import ANALYZER_VERSION, analyze_or_error
from analysis.model import Analysis
from collectors.base import RawPost
from monitor.app import App
from monitor.ops.logs import quiet_during_progress
from storage.analyses import (
    Stale,
    count_stale,
    record_analysis_error,
    save_analysis,
    stale_posts,
)
from storage.posts import Change, stored_post
from storage.stories import refresh_story_figures

__all__ = ["reanalyze"]

log = logging.getLogger("dsns_monitor.reanalyze")

BATCH = 500


def _analyze_rows(rows: list[Stale]) -> list[tuple[int, Analysis | Exception]]:
    results: list[tuple[int, Analysis | Exception]] = []
    for row in rows:
        reading = analyze_or_error(f"{row.title}\n{row.text}" if row.title else row.text, channel=row.stream)
        if isinstance(reading, Exception):
            log.error("analysis failed", exc_info=reading, extra={"post": row.post_id})
        results.append((row.post_id, reading))
    return results


async def reanalyze(app: App, *, everything: bool = False) -> int:
    """Re-analyse stale posts (or all with `everything`); returns the number re-analysed."""
    version = None if everything else ANALYZER_VERSION
    total = await count_stale(app.db, version)
    done = failed = 0
    last_id = 0
    with quiet_during_progress(), Progress(TextColumn("[bold]reanalyze"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as progress:
        task = progress.add_task("posts", total=total)
        while True:
            rows = await stale_posts(app.db, version, last_id, BATCH)
            if not rows:
                break
            results = await asyncio.to_thread(_analyze_rows, rows)
            storyless = {r.post_id for r in rows if r.storyless}
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
                await refresh_story_figures(conn, [post_id for post_id, r in results if isinstance(r, Analysis)])
            failures = sum(isinstance(r, Exception) for _, r in results)
            done += len(rows) - failures
            failed += failures
            last_id = rows[-1].post_id
            progress.update(task, advance=len(rows))
    print(f"re-analysed {done} posts with analyzer {ANALYZER_VERSION}")
    if failed:
        print(f"the analyser failed on {failed} posts: their errors are in the analysis_errors table")
    return done


async def _attach(app: App, conn: aiosqlite.Connection, post_id: int, analysis: Analysis) -> None:
    post = await stored_post(conn, post_id)
    raw = RawPost(post.stream, post.external_id, post.url, post.published_at, post.text, title=post.title)
    await app.pipeline.stories.attach_and_plan(conn, Change("new", post, raw), analysis)
