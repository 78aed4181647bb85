"""One poll of one source, end to end: fetch → store → analyse → publish → wake the photo worker.

This is the only place that ties collectors, storage and analysis together, and the only
place that turns a source's failure into failure state on its row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

import aiosqlite
import httpx

from analysis.analyze import analyze
from analysis.model import Analysis
from collectors.base import FetchResult, RawPost, SourceError
from collectors.media import MediaPolicy, Photo, download_photo
from collectors.rss import RSSCollector
from collectors.telegram_mtproto import TelegramMTProtoCollector, parse_photo_url
from collectors.telegram_web import TelegramWebCollector
from monitor import metrics
from monitor.alerts import StoryPlanner
from monitor.config import Config, RSSSource, TelegramMTProtoSource, TelegramWebSource
from monitor.mtproto import ClientFactory, MTProtoHub
from monitor.photos import PhotoWorker
from monitor.sinks import AlertSink
from storage.analyses import save_analysis
from storage.database import Database
from storage.media import PendingMedia
from storage.posts import Change, is_unchanged, known_posts, mark_deleted, upsert_posts
from storage.stories import note_deletions
from storage.sources import SourceState, ensure_source, get_source, record_failure, record_success
from storage.timeutil import utcnow

__all__ = ["Pipeline", "PollOutcome", "collector_for"]

log = logging.getLogger("dsns_monitor.pipeline")


@dataclass(frozen=True, slots=True)
class PollOutcome:
    source: str
    ok: bool
    new: int = 0
    edited: int = 0
    skipped: bool = False
    error: str | None = None
    retry_in: float | None = None


def collector_for(
    source: TelegramWebSource | RSSSource | TelegramMTProtoSource, config: Config, mtproto: MTProtoHub | None = None
) -> TelegramWebCollector | RSSCollector | TelegramMTProtoCollector:
    """The collector of a source; MTProto ones come from the process's hub (they keep state)."""
    if isinstance(source, TelegramMTProtoSource):
        if mtproto is None:
            raise ValueError(f"{source.source_name}: a telegram_mtproto source needs the pipeline's MTProtoHub")
        return mtproto.collector(source)
    if isinstance(source, TelegramWebSource):
        return TelegramWebCollector(
            source.source_name, source.channel, source.base_url,
            first_pages=source.first_pages, max_pages=source.max_pages,
            reread_pages=source.reread_pages, max_bytes=config.http.max_page_bytes,
        )
    return RSSCollector(source.name, source.url, max_bytes=config.http.max_page_bytes)


class Pipeline:
    """Polls sources into the archive and hands what changed to the alert sink."""

    def __init__(
        self, config: Config, db: Database, client: httpx.AsyncClient, sink: AlertSink,
        *, telegram_client_factory: ClientFactory | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.client = client
        self.sink = sink
        # MTProto client, entity cache and collectors: one each per process, made on first use.
        self.mtproto = MTProtoHub(config, telegram_client_factory)
        # Set when posts were stored, so the alert sender wakes without polling the outbox.
        self.alerts_planned = asyncio.Event()
        self.photos = PhotoWorker(
            db, self._fetch_photo,
            concurrency=config.storage.media_concurrency, timeout=config.storage.media_timeout,
        )
        self.stories = StoryPlanner(
            window=timedelta(hours=config.stories.window_hours), alert_max_age=config.bot.alert_max_age
        )

    async def source_state(self, source: TelegramWebSource | RSSSource) -> SourceState:
        """The source's row, created (or its type and URL updated) only when needed: a poll
        should not take the write lock just to read its cursor."""
        state = await get_source(self.db, source.source_name)
        if state is not None and state.type == source.type and state.url == source.url:
            return state
        return await ensure_source(self.db, source.source_name, source.type, source.url)

    async def poll(self, source: TelegramWebSource | RSSSource, *, force: bool = False) -> PollOutcome:
        """Poll once. Never raises for a source's fault: the outcome and the source row say it."""
        name = source.source_name
        state = await self.source_state(source)
        if not force and state.next_check_at and state.next_check_at > utcnow():
            return PollOutcome(name, ok=True, skipped=True)
        started = time.monotonic()
        try:
            result = await self._fetch(source, state)
        except SourceError as exc:
            failed = await record_failure(
                self.db, state.id, str(exc), interval=source.interval,
                retry_after=exc.retry_after, max_backoff=self.config.scheduler.max_backoff,
            )
            retry_in = (failed.next_check_at - utcnow()).total_seconds() if failed.next_check_at else None
            metrics.poll_finished(name, time.monotonic() - started, ok=False, rate_limited=exc.retry_after is not None)
            log.error(
                "source=%s error=%r failures=%d retry_in=%.0fs",
                name, str(exc), failed.error_count, retry_in or 0,
            )
            return PollOutcome(name, ok=False, error=str(exc), retry_in=retry_in)
        changes = await self.ingest(source, state, result)
        new = sum(c.kind == "new" for c in changes)
        log.info(
            "source=%s fetched=%d new=%d edited=%d not_modified=%s duration=%.2fs",
            name, len(result.posts), new, len(changes) - new, result.not_modified,
            time.monotonic() - started,
        )
        metrics.poll_finished(name, time.monotonic() - started, ok=True)
        metrics.posts_ingested(name, new, len(changes) - new)
        self.photos.wake(state.id, name)  # photos download beside the polls, never inside one
        return PollOutcome(name, ok=True, new=new, edited=len(changes) - new)

    async def _fetch(self, source: TelegramWebSource | RSSSource | TelegramMTProtoSource, state: SourceState) -> FetchResult:
        if isinstance(source, TelegramMTProtoSource):
            return await self.mtproto.poll(source, state.cursor)
        collector = collector_for(source, self.config)
        if isinstance(collector, TelegramWebCollector):
            return await collector.poll(self.client, state.cursor)
        return await collector.poll(self.client, etag=state.etag, last_modified=state.last_modified)

    async def ingest(
        self, source: TelegramWebSource | RSSSource | TelegramMTProtoSource, state: SourceState,
        result: FetchResult, *, touch_source: bool = True,
    ) -> list[Change]:
        """Store, analyse and publish a fetch result; the cursor moves in the same transaction.

        `touch_source` False leaves the source row alone (cursor, failure state and backoff):
        for posts pushed by a live feed between polls.
        """
        # Analysis is CPU work: done off the event loop, before the write lock is taken, and
        # only for posts whose text the archive does not hold yet (re-read pages repeat most).
        fresh = await self._unseen(result.posts)
        analyses = await asyncio.to_thread(metrics.timed_analysis, self._analyze_all, source, fresh)
        try:
            async with self.db.write() as conn:
                changes = await upsert_posts(conn, state.id, result.posts)
                for change in changes:
                    if id(change.raw) not in analyses:
                        analyses.update(self._analyze_all(source, [change.raw]))
                    await save_analysis(conn, change.post.id, analyses[id(change.raw)])
                    await self.stories.attach_and_plan(conn, change, analyses[id(change.raw)])
                if result.covered is not None:
                    await self._mark_vanished(conn, source, result)
                if touch_source:
                    await record_success(
                        conn, state.id, cursor=result.cursor, etag=result.etag,
                        last_modified=result.last_modified,
                    )
        except BaseException:
            self.stories.forget()
            raise
        for change in changes:
            await self.sink.publish(change, analyses[id(change.raw)])
        if changes:
            self.alerts_planned.set()
        return changes

    async def _mark_vanished(self, conn: aiosqlite.Connection, source: TelegramWebSource | RSSSource, result: FetchResult) -> None:
        """Soft-delete posts inside the id range a re-read covered that the channel no longer shows."""
        assert result.covered is not None
        low, high = result.covered
        seen = {p.external_id for p in result.posts}
        async with conn.execute(
            """SELECT external_id FROM posts WHERE stream = ? AND deleted_at IS NULL
               AND CAST(external_id AS INTEGER) BETWEEN ? AND ?""",
            (source.stream, low, high),
        ) as cursor:
            gone = [row[0] for row in await cursor.fetchall() if row[0] not in seen]
        if gone:
            marked = await mark_deleted(conn, source.stream, gone)
            await note_deletions(conn, marked)
            log.info("source=%s deleted posts noticed: %s", source.source_name, ",".join(gone))

    async def _unseen(self, posts: list[RawPost]) -> list[RawPost]:
        known = await known_posts(self.db.reader, posts)
        return [p for p in posts if not is_unchanged(known.get((p.stream, p.external_id)), p)]

    def _analyze_all(self, source: TelegramWebSource | RSSSource, posts: list[RawPost]) -> dict[int, Analysis]:
        return {
            id(post): analyze(
                f"{post.title}\n{post.text}" if post.title else post.text,
                channel=source.stream, oblast_hint=source.oblast,
            )
            for post in posts
        }

    async def _fetch_photo(self, item: PendingMedia, source_name: str) -> Photo:
        """One photo's bytes (for the photo worker): from Telegram for MTProto photos, else over HTTP."""
        if parse_photo_url(item.url) is not None:
            return await self.mtproto.fetch_photo(item.url, max_bytes=self.config.storage.media_max_bytes)
        return await download_photo(
            self.client, item.url, source=source_name,
            max_bytes=self.config.storage.media_max_bytes, policy=self._media_policy(),
        )

    def _media_policy(self) -> MediaPolicy:
        # Photos from configured sources' hosts are trusted; other non-public hosts are refused.
        return MediaPolicy.trusting(
            [getattr(s, "url", None) for s in self.config.sources],
            allow_private=self.config.storage.allow_private_media,
        )
