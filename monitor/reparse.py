"""`dsns-monitor reparse`: read the stored pages and feed bodies again with today's parser.

After a layout change and a parser fix, the posts of the broken days are in the bodies the
daemon kept (`storage.payloads`). Each source's payloads are parsed in the order they were
fetched; of a post seen in several of them only the latest reading counts (an older page
must not turn an edited post back into its first text). Those readings then go through the
daemon's own ingest, without touching the source's cursor or failure state: new posts are
stored, changed ones become new versions, analyses and stories are refreshed, and the story
planner sends no alert for a post older than `[bot] alert_max_age`. With many posts, a batch
is analysed in a worker process while the batch before it is stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)

from collectors.base import FetchResult, RawPost, Rejected, SourceError
from collectors.rss import parse_feed
from collectors.telegram_web import parse_page
from monitor.analysis_pool import AnalysisPool, WorkerDiedError, pool_for, read_ahead
from monitor.app import App
from monitor.backfill import PAGE_POSTS
from monitor.canary import layout_change
from monitor.config import AnySource, ConfigError, RSSSource, TelegramWebSource
from monitor.ops.logs import quiet_during_progress
from storage.payloads import StoredPayload, count_payloads, iter_payloads
from storage.sources import PostProfile, post_profile

__all__ = ["ReparseSummary", "reparse"]

log = logging.getLogger("dsns_monitor.reparse")

# Posts handed to one ingest (one transaction).
BATCH = 200


@dataclass(slots=True)
class ReparseSummary:
    payloads: int = 0
    unreadable: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0


# A body's readings: its posts, those refused, and why it is unreadable as a whole (or None).
Reading = tuple[list[RawPost], list[Rejected], str | None]


def _parse(source: AnySource, payload: StoredPayload, max_entries: int) -> tuple[list[RawPost], list[Rejected]]:
    rejected: list[Rejected] = []
    if isinstance(source, TelegramWebSource):
        html = payload.body.decode("utf-8", errors="replace")
        posts = [p.to_raw() for p in parse_page(html, source.base_url, source=source.source_name, rejected=rejected)]
        return posts, rejected
    assert isinstance(source, RSSSource)
    return parse_feed(payload.body, stream=source.source_name, max_entries=max_entries), rejected


def _read(source: AnySource, payload: StoredPayload, max_entries: int, profile: PostProfile) -> Reading:
    """`_parse` and the layout check: what a worker sends back (a `SourceError` does not pickle)."""
    try:
        posts, rejected = _parse(source, payload, max_entries)
    except SourceError as exc:
        return [], [], str(exc)
    problem = layout_change(FetchResult(posts=posts, rejected=rejected), profile)
    return (posts, rejected, None) if problem is None else ([], [], problem)


async def _reading(pool: AnalysisPool | None, source: AnySource, payload: StoredPayload, max_entries: int,
                   profile: PostProfile) -> Reading:
    """`_read` of one body: in a worker (the bodies are read side by side, off the command's
    core), else (no pool, or its workers still starting) in a thread; a worker dying on it makes
    the body unreadable, not the command."""
    if pool is None or not pool.started:
        return await asyncio.to_thread(_read, source, payload, max_entries, profile)
    try:
        return await pool.run(_read, source, payload, max_entries, profile)
    except WorkerDiedError as exc:
        return [], [], str(exc)


async def _batches(readings: list[RawPost], rejected: list[Rejected]) -> AsyncIterator[FetchResult]:
    """A source's readings in ingests of `BATCH` (the refused posts go with the first)."""
    for start in range(0, max(len(readings), 1), BATCH):
        yield FetchResult(posts=readings[start:start + BATCH], rejected=rejected if start == 0 else [])


async def reparse(
    app: App, *, source: str | None = None, since: datetime | None = None, until: datetime | None = None
) -> ReparseSummary:
    """Re-read the payloads fetched in [since, until) of `source` (or of every configured
    t.me web and feed source) and ingest what they hold."""
    sources = {
        s.source_name: s for s in app.config.sources
        if isinstance(s, TelegramWebSource | RSSSource) and (source is None or s.source_name == source)
    }
    if source is not None and source not in sources:
        app.config.source(source)  # raises ConfigError naming the configured sources
        raise ConfigError(f"{source}: only telegram_web and rss sources keep their pages for reparse")
    names = sorted(sources)
    # A body today's parser still reads unlike the source's posts (no posts, posts without a
    # date or text) is set aside like the daemon sets it aside: its readings would overwrite
    # good posts with empty ones.
    profiles: dict[str, PostProfile] = {}
    for name in names:
        state = await app.pipeline.source_state(sources[name])
        profiles[name] = await post_profile(app.db, state.id)
    summary = ReparseSummary()
    latest: dict[str, dict[tuple[str, str], RawPost]] = {name: {} for name in names}
    rejected: dict[str, list[Rejected]] = {name: [] for name in names}
    parsed: set[tuple[str, str]] = set()
    total = await count_payloads(app.db, sources=names, since=since, until=until)
    # Started first, the workers load while the bodies are parsed.
    async with pool_for(total * PAGE_POSTS) as pool:
        with quiet_during_progress(), Progress(
            TextColumn("[bold]reparse"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[posts]} posts"), TimeElapsedColumn(),
        ) as progress:
            task = progress.add_task("payloads", total=total, posts=0)

            async def bodies() -> AsyncIterator[StoredPayload]:
                async for payload in iter_payloads(app.db, sources=names, since=since, until=until):
                    summary.payloads += 1
                    progress.update(task, advance=1)
                    if (payload.source, payload.digest) in parsed:
                        continue  # the same body again: it holds the same readings
                    parsed.add((payload.source, payload.digest))
                    yield payload

            def read(payload: StoredPayload) -> Awaitable[Reading]:
                source = sources[payload.source]
                return _reading(pool, source, payload, app.config.http.max_entries, profiles[payload.source])

            # A few bodies are read ahead, so every worker has one while their readings are merged in order.
            ahead = 2 * pool.workers if pool is not None else 1
            async with aclosing(read_ahead(bodies(), read, ahead)) as read_bodies:
                async for payload, (posts, skipped, problem) in read_bodies:
                    if problem is not None:
                        summary.unreadable += 1
                        log.warning("payload %d of %s (%s) still unreadable: %s", payload.id, payload.source, payload.url, problem)
                        continue
                    # Payloads come in fetch order, so a later reading replaces an earlier one.
                    latest[payload.source].update(((p.stream, p.external_id), p) for p in posts)
                    rejected[payload.source] += skipped
                    progress.update(task, posts=sum(len(v) for v in latest.values()))
        for name in names:
            readings = list(latest[name].values())
            if not readings and not rejected[name]:
                continue
            state = await app.pipeline.source_state(sources[name])
            batches = _batches(readings, rejected[name])
            async with aclosing(app.pipeline.ingest_pages(sources[name], state, batches, pool, touch_source=False)) as stored:
                async for result, changes in stored:
                    new = sum(c.kind == "new" for c in changes)
                    summary.new += new
                    summary.changed += len(changes) - new
                    summary.unchanged += len(result.posts) - len(changes)
            app.pipeline.photos.wake(state.id, name, limit=10_000)
    await app.pipeline.photos.drain()
    return summary
