"""`dsns-monitor backfill`: a channel's history into the archive, page by page, with progress."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from datetime import datetime
from typing import Any, TypeVar

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from collectors.base import FetchResult, Payload, SourceParseError
from collectors.telegram_web import TelegramWebCollector
from monitor.analysis_pool import AnalysisPool, WorkerDiedError, pool_for
from monitor.app import App
from monitor.config import RSSSource, TelegramMTProtoSource, TelegramWebSource
from monitor.ops.logs import quiet_during_progress
from monitor.pipeline import collector_for

__all__ = ["backfill"]

log = logging.getLogger("dsns_monitor.backfill")

T = TypeVar("T")

# Posts on a t.me/s page.
PAGE_POSTS = 20


async def backfill(
    app: App, source: TelegramWebSource | RSSSource | TelegramMTProtoSource, *, since: datetime | None, pages: int
) -> int:
    """Store a source's history; the cursor of live polling is left where it was.

    Each page is stored in its own transaction, so an interrupted backfill keeps what it got
    and can simply be run again (posts already stored are skipped). In a long backfill a page
    is analysed in a worker process while the page before it is stored.
    """
    collector = collector_for(source, app.config, app.pipeline.mtproto)
    if not isinstance(collector, TelegramWebCollector):
        # A feed carries only its latest entries: one poll is its whole history. An MTProto
        # source's poll catches up from its cursor (up to catchup_limit messages).
        outcome = await app.pipeline.poll(source, force=True)
        if not outcome.ok:
            log.error("backfill failed", extra={"source": source.source_name, "error": outcome.error})
            return 1
        await app.pipeline.photos.drain()
        print(f"{source.source_name}: {outcome.new} new, {outcome.edited} edited")
        return 0
    state = await app.pipeline.source_state(source)
    new = edited = fetched = 0
    with quiet_during_progress(), Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("{task.fields[posts]} posts, {task.fields[new]} new"), TimeElapsedColumn(),
        transient=False,
    ) as progress:
        task = progress.add_task(source.source_name, total=pages, posts=0, new=0)

        async def results(pool: AnalysisPool | None) -> AsyncIterator[FetchResult]:
            bodies: list[Payload] = []  # each page's body, kept like a poll's for `reparse`
            run = _in_workers(pool, source.source_name) if pool is not None else None
            async for page in collector.backfill(app.client, since=since, pages=pages, payloads=bodies, run=run):
                kept = bodies[:]
                bodies.clear()
                yield FetchResult(posts=page, payloads=kept)

        async with (
            pool_for(pages * PAGE_POSTS) as pool,
            aclosing(app.pipeline.ingest_pages(source, state, results(pool), pool)) as stored,
        ):
            async for result, changes in stored:
                fetched += len(result.posts)
                new += sum(c.kind == "new" for c in changes)
                edited += sum(c.kind == "edited" for c in changes)
                progress.update(task, advance=1, posts=fetched, new=new)
        progress.update(task, total=progress.tasks[0].completed)
    app.pipeline.photos.wake(state.id, source.source_name, limit=10_000)
    await app.pipeline.photos.drain()
    print(f"{source.source_name}: {fetched} posts read, {new} new, {edited} edited")
    return 0


def _in_workers(pool: AnalysisPool, source: str) -> Callable[..., Awaitable[Any]]:
    """A runner for the collector's parse: the pages parsed in the pool's workers too, since the
    command's own core is the pace of a backfill. A worker dying on a page fails that page like
    one that cannot be parsed, which ends the backfill (the pages before it are stored)."""

    async def run(function: Callable[..., T], *args: object) -> T:
        try:
            return await pool.run(function, *args)
        except WorkerDiedError as exc:
            raise SourceParseError(source, str(exc)) from exc

    return run
