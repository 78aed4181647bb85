"""One poll of one source, end to end: fetch → store → analyse → publish → wake the photo worker.

This is the only place that ties collectors, storage and analysis together, and the only
place that turns a source's failure into failure state on its row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import aiosqlite
import httpx

from analysis.analyze import ANALYZER_VERSION, analyze_or_error
from analysis.model import Analysis
from collectors.base import (
    FetchResult,
    Payload,
    RawPost,
    Rejected,
    SourceError,
    SourceLayoutError,
    valid_posts,
)
from collectors.http import AddressPolicy, redact
from collectors.media import Photo, download_photo
from collectors.rss import RSSCollector
from collectors.telegram_mtproto.hub import ClientFactory, MTProtoHub
from collectors.telegram_mtproto.photo_urls import parse_photo_url
from collectors.telegram_web import TelegramWebCollector
from monitor.canary import layout_change
from monitor.config import Config, RSSSource, TelegramMTProtoSource, TelegramWebSource
from monitor.ops import faults, metrics, resources
from monitor.photos import PhotoWorker
from monitor.planner import StoryPlanner
from monitor.sinks import AlertSink
from storage.analyses import record_analysis_error, record_analysis_errors, save_analyses
from storage.database import Database
from storage.errors import StorageError
from storage.media import PendingMedia
from storage.payloads import PackedPayload, pack, store_payloads
from storage.polls import PollRecord, record_poll
from storage.posts import (
    Change,
    fault_of_post,
    is_unchanged,
    known_posts,
    mark_deleted,
    upsert_posts,
    vanished_posts,
)
from storage.sources import (
    SourceState,
    ensure_source,
    get_source,
    post_profile,
    record_failure,
    record_success,
)
from storage.stories import note_deletions
from storage.timeutil import utcnow

if TYPE_CHECKING:
    from collectors.telegram_mtproto.collector import TelegramMTProtoCollector
    from monitor.analysis_pool import AnalysisPool, Reading

__all__ = ["Pipeline", "PollOutcome", "collector_for", "address_policy"]

log = logging.getLogger("dsns_monitor.pipeline")

def _text(post: RawPost) -> str:
    """What the analyser reads of a post."""
    return f"{post.title}\n{post.text}" if post.title else post.text


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A fetch result's part of `Pipeline.ingest` done before the write lock: its valid posts,
    those refused, each fresh post's reading by `id(post)`, the packed bodies."""

    posts: list[RawPost]
    rejected: list[Rejected]
    readings: dict[int, Reading]
    packed: list[PackedPayload]


@dataclass(frozen=True, slots=True)
class PollOutcome:
    source: str
    ok: bool
    new: int = 0
    edited: int = 0
    skipped: bool = False
    error: str | None = None
    retry_in: float | None = None


def address_policy(config: Config) -> AddressPolicy:
    """Where fetches may go: configured sources' hosts, public ones, or anywhere if
    `[storage] allow_private_media`; checked at every redirect hop of pages, feeds and photos."""
    return AddressPolicy.trusting(
        [getattr(s, "url", None) for s in config.sources], allow_private=config.storage.allow_private_media
    )


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
            parse_timeout=config.http.parse_timeout, policy=address_policy(config),
        )
    return RSSCollector(
        source.name, source.url, max_bytes=config.http.max_page_bytes,
        max_entries=config.http.max_entries, parse_timeout=config.http.parse_timeout, policy=address_policy(config),
    )


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
        self.mtproto = MTProtoHub(
            config.telegram.session, flood_sleep_threshold=config.telegram.flood_sleep_threshold,
            client_factory=telegram_client_factory,
        )
        # Set when posts were stored, so the alert sender wakes without polling the outbox.
        self.alerts_planned = asyncio.Event()
        self.photos = PhotoWorker(
            db, self._fetch_photo,
            concurrency=config.storage.media_concurrency, timeout=config.storage.media_timeout,
        )
        self.stories = StoryPlanner(
            window=timedelta(hours=config.stories.window_hours), alert_max_age=config.bot.alert_max_age,
            late_after=config.bot.update_late_hours * 3600,
        )
        # component → source → what its last ingest went through: a fault stays reported while
        # any source's latest ingest had it ("analysis": posts the analyser raised on,
        # "ingest": posts skipped as unreadable or refused by the archive).
        self._troubles: dict[str, dict[str, str]] = {"analysis": {}, "ingest": {}}

    async def source_state(self, source: TelegramWebSource | RSSSource) -> SourceState:
        """The source's row, created (or its type and URL updated) only when needed: a poll
        should not take the write lock just to read its cursor."""
        state = await get_source(self.db, source.source_name)
        if state is not None and state.type == source.type and state.url == redact(source.url):
            return state
        return await ensure_source(self.db, source.source_name, source.type, source.url)

    async def poll(self, source: TelegramWebSource | RSSSource, *, force: bool = False) -> PollOutcome:
        """Poll once. Never raises for a source's fault: the outcome and the source row say it;
        nor for the archive's, when not even the source's row can be read or written."""
        started = time.monotonic()
        try:
            return await self._poll(source, force=force)
        except StorageError as exc:  # a full disk, a locked or damaged file: /healthz shows the archive fault
            resources.note_error(exc, f"poll of {source.source_name}")
            metrics.poll_finished(source.source_name, time.monotonic() - started, ok=False)
            log.error("poll failed: archive error", extra={"source": source.source_name, "error": str(exc)})
            return PollOutcome(source.source_name, ok=False, error=f"archive error: {exc}")

    async def _poll(self, source: TelegramWebSource | RSSSource, *, force: bool) -> PollOutcome:
        name = source.source_name
        state = await self.source_state(source)
        if not force and state.next_check_at and state.next_check_at > utcnow():
            return PollOutcome(name, ok=True, skipped=True)
        started, started_at = time.monotonic(), utcnow()
        try:
            result = await self._fetch(source, state)
            await self._check_layout(source, state, result)
            changes = await self.ingest(source, state, result, poll_started=started_at)
        except SourceError as exc:
            resources.note_error(exc, f"poll of {name}")
            await self._keep_payloads(state, exc.payloads)
            return await self._failed(source, state, started, PollRecord(started_at, ok=False, kind=exc.kind, error=str(exc)), exc.retry_after)
        except Exception as exc:
            # A bug or an archive fault: failure state and backoff on the source like any
            # other failure (so /healthz sees it), the traceback once in the log.
            resources.note_error(exc, f"poll of {name}")
            log.exception("poll failed unexpectedly", extra={"source": name})
            failure = PollRecord(started_at, ok=False, kind="internal", error=f"internal error: {type(exc).__name__}: {exc}")
            return await self._failed(source, state, started, failure, None)
        new = sum(c.kind == "new" for c in changes)
        log.info("poll done", extra={
            "source": name, "fetched": len(result.posts), "new": new, "edited": len(changes) - new,
            "not_modified": result.not_modified, "duration": round(time.monotonic() - started, 2),
        })
        metrics.poll_finished(name, time.monotonic() - started, ok=True)
        metrics.posts_ingested(name, new, len(changes) - new)
        self.photos.wake(state.id, name)  # photos download beside the polls, never inside one
        return PollOutcome(name, ok=True, new=new, edited=len(changes) - new)

    async def _failed(
        self, source: TelegramWebSource | RSSSource, state: SourceState, started: float, poll: PollRecord,
        retry_after: float | None,
    ) -> PollOutcome:
        name = source.source_name
        error = poll.error or ""
        async with self.db.write() as conn:
            failed = await record_failure(
                self.db, state.id, error, interval=source.interval, retry_after=retry_after,
                max_backoff=self.config.scheduler.max_backoff, kind="layout" if poll.kind == "layout" else None,
            )
            await record_poll(conn, state.id, poll)
        retry_in = (failed.next_check_at - utcnow()).total_seconds() if failed.next_check_at else None
        metrics.poll_finished(name, time.monotonic() - started, ok=False, rate_limited=retry_after is not None)
        log.error("poll failed", extra={
            "source": name, "error": error, "failures": failed.error_count, "retry_in": round(retry_in or 0),
        })
        return PollOutcome(name, ok=False, error=error, retry_in=retry_in)

    async def _check_layout(self, source: TelegramWebSource | RSSSource, state: SourceState, result: FetchResult) -> None:
        """Raise `SourceLayoutError` (with the bodies, for `reparse`) when the poll parsed unlike
        the source's earlier posts: a changed layout must not pass for a quiet source."""
        if not result.payloads:
            return
        problem = layout_change(result, await post_profile(self.db, state.id))
        if problem is not None:
            error = SourceLayoutError(
                source.source_name, f"layout changed? {problem}; the bodies are kept for `dsns-monitor reparse`"
            )
            error.payloads = result.payloads
            raise error

    async def _keep_payloads(self, state: SourceState, payloads: list[Payload]) -> None:
        """Store the bodies of a failed poll; losing them must not hide the failure itself."""
        if not payloads:
            return
        try:
            packed = await asyncio.to_thread(pack, payloads)
            async with self.db.write() as conn:
                await store_payloads(conn, state.id, packed)
        except Exception:
            log.exception("bodies of a failed poll not kept", extra={"source": state.name})

    async def _fetch(self, source: TelegramWebSource | RSSSource | TelegramMTProtoSource, state: SourceState) -> FetchResult:
        if isinstance(source, TelegramMTProtoSource):
            return await self.mtproto.poll(source, state.cursor)
        collector = collector_for(source, self.config)
        if isinstance(collector, TelegramWebCollector):
            return await collector.poll(self.client, state.cursor)
        return await collector.poll(self.client, etag=state.etag, last_modified=state.last_modified)

    async def ingest(
        self, source: TelegramWebSource | RSSSource | TelegramMTProtoSource, state: SourceState,
        result: FetchResult, *, touch_source: bool = True, poll_started: datetime | None = None,
    ) -> list[Change]:
        """Store, analyse and publish a fetch result; the cursor moves in the same transaction.

        One bad post costs that post only: one the analyser raises on is stored with the error
        (for `reanalyze`), one that cannot be read or stored is skipped; both are logged,
        counted and reported as faults while the rest of the page is stored.
        `touch_source` False leaves the source row alone (cursor, failure state and backoff):
        for posts pushed by a live feed between polls. `poll_started` logs the poll (storage.polls).
        """
        prepared = await self._prepare(source, result, None)
        return await self._commit(source, state, result, prepared, touch_source=touch_source, poll_started=poll_started)

    async def ingest_pages(
        self, source: TelegramWebSource | RSSSource | TelegramMTProtoSource, state: SourceState,
        results: AsyncIterable[FetchResult], pool: AnalysisPool | None, *, touch_source: bool = True,
    ) -> AsyncIterator[tuple[FetchResult, list[Change]]]:
        """`ingest` each of `results` in turn (each in its own transaction), yielding it with its
        changes, for the batch commands: a page's analysis runs (in `pool`, else in a thread) while
        the page before it is stored. Use it in `contextlib.aclosing`: leaving early cancels what
        is analysed ahead.
        """
        from monitor.analysis_pool import read_ahead  # here: the daemon never needs it

        def prepare(result: FetchResult) -> Awaitable[_Prepared]:
            return self._prepare(source, result, pool)

        async with aclosing(read_ahead(results, prepare, ahead=pool.workers if pool else 1)) as prepared:
            async for result, ready in prepared:
                yield result, await self._commit(source, state, result, ready, touch_source=touch_source)

    async def _prepare(
        self, source: TelegramWebSource | RSSSource | TelegramMTProtoSource, result: FetchResult,
        pool: AnalysisPool | None,
    ) -> _Prepared:
        """What `_commit` stores, read before the write lock is taken: the valid posts, their
        analyses (in a thread, or in `pool`) and the packed bodies."""
        posts, rejected = valid_posts(result.posts)
        rejected += result.rejected
        # Analysis is CPU work: done off the event loop, before the write lock is taken, and
        # only for posts whose text the archive does not hold yet (re-read pages repeat most).
        fresh = await self._unseen(posts)
        if pool is None:
            readings = await asyncio.to_thread(metrics.timed_analysis, self._analyze_all, source, fresh)
        else:  # a batch command: it serves no /metrics
            found = await pool.analyse([(_text(post), source.stream, source.oblast) for post in fresh])
            readings = self._readings(source, fresh, found)
        packed = await asyncio.to_thread(pack, result.payloads) if result.payloads else []
        return _Prepared(posts, rejected, readings, packed)

    async def _commit(
        self, source: TelegramWebSource | RSSSource | TelegramMTProtoSource, state: SourceState,
        result: FetchResult, prepared: _Prepared, *, touch_source: bool = True, poll_started: datetime | None = None,
    ) -> list[Change]:
        """The write transaction of `ingest`, then the troubles noted and the alerts published."""
        posts, rejected, readings = prepared.posts, prepared.rejected, prepared.readings
        try:
            async with self.db.write() as conn:
                await store_payloads(conn, state.id, prepared.packed)
                changes = await self._store(conn, source, state.id, posts, readings, rejected)
                if result.covered is not None:
                    await self._mark_vanished(conn, source, result)
                if touch_source:
                    await record_success(
                        conn, state.id, cursor=result.cursor, etag=result.etag,
                        last_modified=result.last_modified,
                    )
                if poll_started is not None:
                    new = sum(c.kind == "new" for c in changes)
                    record = PollRecord(poll_started, ok=True, new=new, changed=len(changes) - new, seen=result.message_ids())
                    await record_poll(conn, state.id, record)
        except BaseException:
            self.stories.forget()
            raise
        self._note_troubles(source.source_name, changes, readings, rejected)
        for change in changes:
            reading = readings[id(change.raw)]
            if isinstance(reading, Analysis):
                await self.sink.publish(change, reading)
        if changes:
            self.alerts_planned.set()
        return changes

    async def ingest_live(self, source: TelegramMTProtoSource, posts: list[RawPost]) -> list[Change]:
        """Store posts a live feed pushed between polls, and wake the photo worker for theirs."""
        state = await self.source_state(source)
        # cursor None: live posts never move the catch-up cursor, so a gap before them is
        # still caught up; touch_source False: a flood-wait backoff on the row stays.
        changes = await self.ingest(source, state, FetchResult(posts=posts, cursor=None), touch_source=False)
        if any(p.photos for p in posts):
            self.photos.wake(state.id, source.source_name)
        return changes

    async def note_deleted(
        self, source: TelegramWebSource | RSSSource | TelegramMTProtoSource, external_ids: list[str],
    ) -> list[int]:
        """Soft-delete posts a live feed reported deleted, as a re-read that no longer shows them
        would; the ids of the posts marked."""
        async with self.db.write() as conn:
            return await self._delete(conn, source.stream, external_ids)

    async def _store(
        self, conn: aiosqlite.Connection, source: TelegramWebSource | RSSSource | TelegramMTProtoSource,
        source_id: int, posts: list[RawPost], readings: dict[int, Reading], rejected: list[Rejected],
    ) -> list[Change]:
        """The posts with their analyses, stories and alerts: all at once, or, when one of them
        fails, post by post in savepoints so that one is set aside and the others kept."""
        try:
            async with self.db.write():
                return await self._store_posts(conn, source, source_id, posts, readings)
        except Exception as exc:
            if not fault_of_post(exc):
                raise
            self.stories.forget()  # it may name stories the savepoint rolled back
        changes: list[Change] = []
        for post in posts:
            try:
                async with self.db.write():
                    changes += await self._store_posts(conn, source, source_id, [post], readings)
                continue
            except Exception as exc:
                if not fault_of_post(exc):
                    raise
                self.stories.forget()
                log.error("post failed to store with its story", exc_info=exc, extra={
                    "source": source.source_name, "post": f"{post.stream}/{post.external_id[:40]}",
                })
                failure: Exception = exc
            try:
                # The post alone, with the error, so its text is archived and `reanalyze` retries it.
                async with self.db.write():
                    stored = await upsert_posts(conn, source_id, [post])
                    for change in stored:
                        await record_analysis_error(conn, change.post.id, ANALYZER_VERSION, failure)
                readings[id(post)] = failure
                changes += stored
            except Exception as exc:
                if not fault_of_post(exc):
                    raise
                rejected.append(Rejected(post.stream, post.external_id, f"the archive refused it: {type(exc).__name__}: {exc}"))
        return changes

    async def _store_posts(
        self, conn: aiosqlite.Connection, source: TelegramWebSource | RSSSource | TelegramMTProtoSource,
        source_id: int, posts: list[RawPost], readings: dict[int, Reading],
    ) -> list[Change]:
        changes = await upsert_posts(conn, source_id, posts)
        # Its text changed since it was analysed (an edit between the read and the write lock).
        readings.update(self._analyze_all(source, [c.raw for c in changes if id(c.raw) not in readings]))
        analysed = [(c, r) for c in changes if isinstance(r := readings[id(c.raw)], Analysis)]
        await save_analyses(conn, [(c.post.id, r) for c, r in analysed])
        await record_analysis_errors(
            conn, [(c.post.id, r) for c in changes if isinstance(r := readings[id(c.raw)], Exception)], ANALYZER_VERSION
        )
        await self.stories.attach_all(conn, analysed)
        return changes

    def _note_troubles(
        self, source: str, changes: list[Change], readings: dict[int, Reading], rejected: list[Rejected]
    ) -> None:
        """Log, count and report (or clear) the posts of one ingest that failed."""
        failed = [c for c in changes if isinstance(readings[id(c.raw)], Exception)]
        metrics.analysis_failed(source, len(failed))
        metrics.post_rejected(source, len(rejected))
        for item in rejected:
            log.warning("post skipped", extra={"source": source, "post": item.label, "error": item.reason})
        if failed:
            last = failed[-1]
            self._trouble("analysis", source, (
                f"{len(failed)} post(s) archived without analysis, last {last.post.stream}/{last.post.external_id}: "
                f"{readings[id(last.raw)]!r}; `dsns-monitor reanalyze` retries them"
            ))
        elif any(isinstance(readings[id(c.raw)], Analysis) for c in changes):
            self._trouble("analysis", source, None)
        self._trouble("ingest", source, (
            f"{len(rejected)} post(s) skipped, last {rejected[-1].label}: {rejected[-1].reason}" if rejected else None
        ))

    def _trouble(self, component: str, source: str, message: str | None) -> None:
        troubles = self._troubles[component]
        if message is not None:
            troubles[source] = message
            faults.report(component, "; ".join(f"{name}: {text}" for name, text in sorted(troubles.items())))
        elif troubles.pop(source, None) is not None and not troubles:
            faults.clear(component)

    async def _mark_vanished(self, conn: aiosqlite.Connection, source: TelegramWebSource | RSSSource, result: FetchResult) -> None:
        """Soft-delete posts inside the id range a re-read covered that the channel no longer shows."""
        assert result.covered is not None
        low, high = result.covered
        gone = await vanished_posts(conn, source.stream, low, high, {p.external_id for p in result.posts})
        if gone:
            await self._delete(conn, source.stream, gone)
            log.info("deleted posts noticed", extra={"source": source.source_name, "posts": ",".join(gone)})

    async def _delete(self, conn: aiosqlite.Connection, stream: str, external_ids: list[str]) -> list[int]:
        """The one deletion write: soft-delete the posts and let their stories take note."""
        marked = await mark_deleted(conn, stream, external_ids)
        await note_deletions(conn, marked)
        return marked

    async def _unseen(self, posts: list[RawPost]) -> list[RawPost]:
        known = await known_posts(self.db.reader, posts)
        return [p for p in posts if not is_unchanged(known.get((p.stream, p.external_id)), p)]

    def _analyze_all(self, source: TelegramWebSource | RSSSource, posts: list[RawPost]) -> dict[int, Reading]:
        found = [analyze_or_error(_text(post), channel=source.stream, oblast_hint=source.oblast) for post in posts]
        return self._readings(source, posts, found)

    def _readings(
        self, source: TelegramWebSource | RSSSource, posts: list[RawPost], found: list[Reading]
    ) -> dict[int, Reading]:
        """Each post's reading by `id(post)`; the analyser's failures logged."""
        readings: dict[int, Reading] = {}
        for post, reading in zip(posts, found, strict=True):
            if isinstance(reading, Exception):
                log.error("analysis failed", exc_info=reading, extra={
                    "source": source.source_name, "post": f"{post.stream}/{post.external_id}",
                })
            readings[id(post)] = reading
        return readings

    async def _fetch_photo(self, item: PendingMedia, source_name: str) -> Photo:
        """One photo's bytes (for the photo worker): from Telegram for MTProto photos, else over HTTP."""
        if parse_photo_url(item.url) is not None:
            sources = [s for s in self.config.sources if isinstance(s, TelegramMTProtoSource)]
            return await self.mtproto.fetch_photo(item.url, sources, max_bytes=self.config.storage.media_max_bytes)
        return await download_photo(
            self.client, item.url, source=source_name,
            max_bytes=self.config.storage.media_max_bytes, policy=address_policy(self.config),
        )
