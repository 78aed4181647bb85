"""One MTProto client per process: the shared client, the entity cache, a collector per source.

`MTProtoHub` owns what must exist once per process: the `SharedClient` (a session can be open
only once), the `EntityCache` (ResolveUsername is heavily rate-limited) and one collector per
`telegram_mtproto` source, kept for the life of the process because each caches its resolved
channel. Nothing is created, and Telethon is not even imported, until an MTProto source is
used: the daemon runs on the core install, without the mtproto extra.

The hub takes plain values (the session path, the flood-sleep threshold) and the source
objects it is handed, so it knows nothing of the application's configuration.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from collectors.base import FetchResult, SourceError, SourceNetworkError
from collectors.media import Photo
from collectors.telegram_mtproto.credentials import ENV_SESSION, MTProtoCredentials
from collectors.telegram_mtproto.photo_urls import parse_photo_url

if TYPE_CHECKING:
    from telethon import TelegramClient

    from collectors.telegram_mtproto.client import EntityCache, SharedClient
    from collectors.telegram_mtproto.collector import TelegramMTProtoCollector

__all__ = ["ChannelSource", "ClientFactory", "MTProtoHub"]

# Builds a Telethon client that is not connected yet (tests pass one returning a fake).
ClientFactory = Callable[[], "TelegramClient"]


class ChannelSource(Protocol):
    """What the hub reads of a `telegram_mtproto` source (the config's source model has it)."""

    @property
    def source_name(self) -> str: ...
    @property
    def stream(self) -> str: ...
    @property
    def channel(self) -> str: ...
    @property
    def catchup_limit(self) -> int: ...
    @property
    def first_limit(self) -> int: ...
    @property
    def reread(self) -> int: ...


class MTProtoHub:
    """The process's MTProto client, entity cache and collectors, created on first use."""

    def __init__(
        self, session: Path | None, *, flood_sleep_threshold: int, client_factory: ClientFactory | None = None,
    ) -> None:
        self.session = session
        self.flood_sleep_threshold = flood_sleep_threshold
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
        from collectors.telegram_mtproto.client import build_client

        return build_client(
            MTProtoCredentials.from_env(), self.session, flood_sleep_threshold=self.flood_sleep_threshold,
        )

    def _shared_client(self) -> SharedClient:
        if self._shared is None:
            from collectors.telegram_mtproto.client import SharedClient

            self._shared = SharedClient(self._factory or self._default_factory)
        return self._shared

    def _entity_cache(self) -> EntityCache:
        if self._cache is None:
            from collectors.telegram_mtproto.client import EntityCache

            session = self.session
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

    def collector(self, source: ChannelSource) -> TelegramMTProtoCollector:
        """The collector of one source, made once and then reused."""
        collector = self._collectors.get(source.source_name)
        if collector is None:
            from collectors.telegram_mtproto.collector import TelegramMTProtoCollector

            collector = TelegramMTProtoCollector(
                source.source_name, source.channel, self.client,
                flood_sleep_threshold=self.flood_sleep_threshold,
                catchup_limit=source.catchup_limit, first_limit=source.first_limit,
                reread=source.reread, entity_cache=self._entity_cache(),
            )
            self._collectors[source.source_name] = collector
        return collector

    async def poll(self, source: ChannelSource, cursor: str | None) -> FetchResult:
        """One catch-up poll; a dead connection is dropped so the next poll reconnects."""
        try:
            return await self.collector(source).poll(cursor)
        except SourceNetworkError:
            await self.discard_if_disconnected()
            raise

    async def fetch_photo(self, url: str, sources: Iterable[ChannelSource], *, max_bytes: int) -> Photo:
        """The bytes behind a ``tg://<channel>/<id>/photo`` URL, via the source (of `sources`)
        that reads that channel."""
        parsed = parse_photo_url(url)
        if parsed is None:
            raise SourceError("telegram", f"{url!r} is not a tg:// photo URL")
        for source in sources:
            if source.stream == parsed[0]:
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
