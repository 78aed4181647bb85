"""Telegram over MTProto inside the application: one client per process, live feeds supervised.

`MTProtoHub` owns what must exist once per process: the `SharedClient` (a session can be open
only once), the `EntityCache` (ResolveUsername is heavily rate-limited) and one collector per
`telegram_mtproto` source, kept for the life of the process because each caches its resolved
channel. Nothing is created, and Telethon never connects, until an MTProto source is used.

`LiveFeeds` runs `run_live` for every enabled source with `live = true`, restarting it with
backoff when Telegram drops the connection; the scheduled catch-up poll of the same source is
the safety net for whatever the live feed misses.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from collectors.base import FetchResult, RawPost, SourceError, SourceNetworkError
from collectors.media import Photo
from monitor.config import Config, TelegramMTProtoSource
from storage.posts import mark_deleted
from storage.stories import note_deletions

# Telethon (~40 MB resident) is imported when a telegram_mtproto source is first used, not by
# every daemon that reads only t.me pages and feeds: hence the imports inside the methods.
if TYPE_CHECKING:
    from telethon import TelegramClient

    from collectors.telegram_mtproto import EntityCache, SharedClient, TelegramMTProtoCollector

    from monitor.pipeline import Pipeline

__all__ = ["ClientFactory", "MTProtoHub", "LiveFeeds"]

log = logging.getLogger("dsns_monitor.mtproto")

# Builds a Telethon client that is not connected yet (tests pass one returning a fake).
ClientFactory = Callable[[], "TelegramClient"]


class MTProtoHub:
    """The process's MTProto client, entity cache and collectors, created on first use."""

    def __init__(self, config: Config, client_factory: ClientFactory | None = None) -> None:
        self.config = config
        self._factory = client_factory
        self._shared: SharedClient | None = None
        self._cache: EntityCache | None = None
        self._collectors: dict[str, TelegramMTProtoCollector] = {}

    @property
    def started(self) -> bool:
        """True once a client was asked for (so there may be a connection to close)."""
        return self._shared is not None

    def _default_factory(self) -> TelegramClient:
        # Read at connect time, not at start-up: a missing credential is then the failure of
        # the MTProto sources (logged, backed off), not of the whole process.
        from collectors.telegram_mtproto import MTProtoCredentials, build_client  # noqa: PLC0415

        return build_client(
            MTProtoCredentials.from_env(), self.config.telegram.session,
            flood_sleep_threshold=self.config.telegram.flood_sleep_threshold,
        )

    def _shared_client(self) -> SharedClient:
        if self._shared is None:
            from collectors.telegram_mtproto import SharedClient  # noqa: PLC0415

            self._shared = SharedClient(self._factory or self._default_factory)
        return self._shared

    def _entity_cache(self) -> EntityCache:
        if self._cache is None:
            from collectors.telegram_mtproto import ENV_SESSION, EntityCache  # noqa: PLC0415

            session = self.config.telegram.session
            # Access hashes belong to one account: keep them beside the session file they came
            # with, and only in memory when the session is a string from the environment.
            if session is not None and not os.environ.get(ENV_SESSION, "").strip():
                session.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # as the session file's would be
                self._cache = EntityCache.beside(session.with_name(session.name.removesuffix(".session") + ".session"))
            else:
                self._cache = EntityCache()
        return self._cache

    async def client(self) -> TelegramClient:
        """The shared client, connected and authorised (raises `SourceError`s otherwise)."""
        return await self._shared_client().get()

    def collector(self, source: TelegramMTProtoSource) -> TelegramMTProtoCollector:
        """The collector of one source, made once and then reused."""
        collector = self._collectors.get(source.source_name)
        if collector is None:
            from collectors.telegram_mtproto import TelegramMTProtoCollector  # noqa: PLC0415

            collector = TelegramMTProtoCollector(
                source.source_name, source.channel, self.client,
                flood_sleep_threshold=self.config.telegram.flood_sleep_threshold,
                catchup_limit=source.catchup_limit, first_limit=source.first_limit,
                reread=source.reread, entity_cache=self._entity_cache(),
            )
            self._collectors[source.source_name] = collector
        return collector

    async def poll(self, source: TelegramMTProtoSource, cursor: str | None) -> FetchResult:
        """One catch-up poll; a dead connection is dropped so the next poll reconnects."""
        try:
            return await self.collector(source).poll(cursor)
        except SourceNetworkError:
            await self.discard_if_disconnected()
            raise

    async def fetch_photo(self, url: str, *, max_bytes: int) -> Photo:
        """The bytes behind a ``tg://<channel>/<id>/photo`` URL, via that channel's source."""
        from collectors.telegram_mtproto import parse_photo_url  # noqa: PLC0415

        parsed = parse_photo_url(url)
        if parsed is None:
            raise SourceError("telegram", f"{url!r} is not a tg:// photo URL")
        for source in self.config.sources:
            if isinstance(source, TelegramMTProtoSource) and source.stream == parsed[0]:
                return await self.collector(source).fetch_photo(url, max_bytes=max_bytes)
        raise SourceError("telegram", f"{url}: no telegram_mtproto source reads @{parsed[0]} any more")

    async def discard_if_disconnected(self, client: Any = None) -> None:
        """Forget the shared client if it lost its connection (or is `client`, known dead)."""
        if self._shared is not None:
            await self._shared.discard_if_dead(client)

    async def close(self) -> None:
        """Disconnect at shutdown (nothing to do when MTProto was never used)."""
        if self._shared is not None:
            await self._shared.close()


class LiveFeeds:
    """One supervised `run_live` task per enabled `telegram_mtproto` source with `live = true`."""

    def __init__(
        self, pipeline: Pipeline, *, first_delay: float = 1.0, max_delay: float | None = None,
        stable_after: float = 300.0,
    ) -> None:
        self.pipeline = pipeline
        self.first_delay = first_delay
        self.max_delay = max_delay if max_delay is not None else float(pipeline.config.scheduler.max_backoff)
        self.stable_after = stable_after
        self.tasks: dict[str, asyncio.Task[None]] = {}

    @property
    def sources(self) -> list[TelegramMTProtoSource]:
        return [
            s for s in self.pipeline.config.sources
            if isinstance(s, TelegramMTProtoSource) and s.enabled and s.live
        ]

    def start(self) -> None:
        for source in self.sources:
            if source.source_name not in self.tasks:
                self.tasks[source.source_name] = asyncio.create_task(
                    self._supervise(source), name=f"live:{source.source_name}"
                )

    async def stop(self) -> None:
        """Cancel every live feed and wait for them to unwind (handlers removed)."""
        tasks = list(self.tasks.values())
        self.tasks.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)

    async def _supervise(self, source: TelegramMTProtoSource) -> None:
        name = source.source_name
        hub = self.pipeline.mtproto
        collector = hub.collector(source)
        delay = self.first_delay
        while True:
            started = time.monotonic()
            client = None
            try:
                state = await self.pipeline.source_state(source)
                client = await hub.client()
                await collector.run_live(self._on_posts(source, state), self._on_deleted(name, collector.stream))
                raise SourceNetworkError(name, "live updates stopped")  # run_live only returns by raising
            except asyncio.CancelledError:
                raise
            except SourceError as exc:
                if isinstance(exc, SourceNetworkError):
                    await hub.discard_if_disconnected(client)
                wait = max(delay, exc.retry_after or 0.0)
                log.warning("source=%s live feed stopped: %s; restarting in %.0fs", name, exc, wait)
            except Exception:
                wait = delay
                log.exception("source=%s live feed crashed; restarting in %.0fs", name, wait)
            if time.monotonic() - started >= self.stable_after:
                delay = self.first_delay  # it ran fine for a while: this is a fresh failure
            await asyncio.sleep(wait)
            delay = min(delay * 2, self.max_delay)

    def _on_posts(self, source: TelegramMTProtoSource, state: Any) -> Callable[[list[RawPost]], Any]:
        async def on_posts(posts: list[RawPost]) -> None:
            # cursor None: live posts never move the catch-up cursor, so a gap before them is
            # still caught up; touch_source False: a flood-wait backoff on the row stays.
            changes = await self.pipeline.ingest(
                source, state, FetchResult(posts=posts, cursor=None), touch_source=False
            )
            log.info("source=%s live posts=%d changes=%d", source.source_name, len(posts), len(changes))
            if any(p.photos for p in posts):
                self.pipeline.photos.wake(state.id, source.source_name)

        return on_posts

    def _on_deleted(self, name: str, stream: str) -> Callable[[list[str]], Any]:
        async def on_deleted(ids: list[str]) -> None:
            async with self.pipeline.db.write() as conn:
                marked = await mark_deleted(conn, stream, ids)
                await note_deletions(conn, marked)  # as a re-read that no longer shows them would
            log.info("source=%s live deleted=%s marked=%d", name, ",".join(ids), len(marked))

        return on_deleted
