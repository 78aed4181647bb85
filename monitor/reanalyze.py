"""`dsns-monitor reanalyze`: redo detection over the archive after an analyzer upgrade.

Posts are re-read in batches; each batch's analyses and the figures of the stories they
belong to are rewritten in one transaction, so an interrupted run keeps what it finished and
a rerun picks up the rest (only posts whose analysis is older than this analyzer, or that
the analyser failed on: those the daemon archived with an error in `analysis_errors`).
A post the analyser still fails on keeps its error (updated) and does not stop the run.
With many posts, a batch is analysed in worker processes while the batch before it is stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing

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
from monitor.analysis_pool import Job, Reading, pool_for, read_ahead
from monitor.app import App
from monitor.ops.logs import quiet_during_progress
from storage.analyses import (
    Stale,
    count_stale,
    record_analysis_errors,
    save_analyses,
    stale_posts,
)
from storage.posts import Change, stored_post
from storage.stories import refresh_story_figures

__all__ = ["reanalyze"]

log = logging.getLogger("dsns_monitor.reanalyze")

BATCH = 500


def _job(row: Stale) -> Job:
    return (f"{row.title}\n{row.text}" if row.title else row.text, row.stream, None)


def _analyze_rows(rows: list[Stale]) -> list[Reading]:
    return [analyze_or_error(*_job(row)) for row in rows]


async def reanalyze(app: App, *, everything: bool = False) -> int:
    """Re-analyse stale posts (or all with `everything`); returns the number re-analysed."""
    version = None if everything else ANALYZER_VERSION
    total = await count_stale(app.db, version)
    done = failed = 0

    async def batches() -> AsyncIterator[list[Stale]]:
        last_id = 0
        # Keyed by id, so the next batch is read (and analysed) before this one is stored.
        while rows := await stale_posts(app.db, version, last_id, BATCH):
            last_id = rows[-1].post_id
            yield rows

    with quiet_during_progress(), Progress(TextColumn("[bold]reanalyze"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()) as progress:
        task = progress.add_task("posts", total=total)
        async with pool_for(total) as pool:

            async def analyse(rows: list[Stale]) -> list[Reading]:
                if pool is None:
                    return await asyncio.to_thread(_analyze_rows, rows)
                return await pool.analyse([_job(row) for row in rows])

            async with aclosing(read_ahead(batches(), analyse, ahead=pool.workers if pool else 1)) as analysed:
                async for rows, readings in analysed:
                    await _store(app, rows, readings)
                    failures = sum(isinstance(r, Exception) for r in readings)
                    done += len(rows) - failures
                    failed += failures
                    progress.update(task, advance=len(rows))
    print(f"re-analysed {done} posts with analyzer {ANALYZER_VERSION}")
    if failed:
        print(f"the analyser failed on {failed} posts: their errors are in the analysis_errors table")
    return done


async def _store(app: App, rows: list[Stale], readings: list[Reading]) -> None:
    """One batch's analyses and errors, and its stories' figures, in one transaction."""
    for row, reading in zip(rows, readings, strict=True):
        if isinstance(reading, Exception):
            log.error("analysis failed", exc_info=reading, extra={"post": row.post_id})
    analysed = [(row, r) for row, r in zip(rows, readings, strict=True) if isinstance(r, Analysis)]
    async with app.db.write() as conn:
        await save_analyses(conn, [(row.post_id, analysis) for row, analysis in analysed])
        await record_analysis_errors(
            conn, [(row.post_id, r) for row, r in zip(rows, readings, strict=True) if isinstance(r, Exception)],
            ANALYZER_VERSION,
        )
        for row, analysis in analysed:
            if row.storyless:
                # Archived by the daemon when the analyser failed on it: it joins its story now
                # (and alerts, if it is still fresh enough to).
                await _attach(app, conn, row.post_id, analysis)
        await refresh_story_figures(conn, [row.post_id for row, _ in analysed])


async def _attach(app: App, conn: aiosqlite.Connection, post_id: int, analysis: Analysis) -> None:
    post = await stored_post(conn, post_id)
    raw = RawPost(post.stream, post.external_id, post.url, post.published_at, post.text, title=post.title)
    await app.pipeline.stories.attach_and_plan(conn, Change("new", post, raw), analysis)
