"""The open resources one command needs: the archive, an HTTP client, the pipeline."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import TYPE_CHECKING

import httpx

from monitor.config import Config
from monitor.sinks import AlertSink, LogSink
from storage.database import Database
from storage.lock import exclusive_archive

if TYPE_CHECKING:
    from collectors.telegram_mtproto.hub import ClientFactory
    from monitor.pipeline import Pipeline

__all__ = ["App", "open_app"]


class App:
    """The archive, the HTTP client and the pipeline of one command.

    The pipeline (and with it Telethon and the story matcher's scipy) is built on first use:
    `search`, `export` and `stats` only read the archive and start without them. `tls` is the
    client's certificate store, for any other client the command makes (the bot's).
    """

    def __init__(
        self, config: Config, db: Database, client: httpx.AsyncClient, sink: AlertSink,
        telegram_client_factory: ClientFactory | None, tls: ssl.SSLContext,
    ) -> None:
        self.config, self.db, self.client, self.tls = config, db, client, tls
        self._sink, self._telegram_client_factory = sink, telegram_client_factory
        self._pipeline: Pipeline | None = None

    @property
    def pipeline(self) -> Pipeline:
        if self._pipeline is None:
            from monitor.pipeline import Pipeline

            self._pipeline = Pipeline(
                self.config, self.db, self.client, self._sink, telegram_client_factory=self._telegram_client_factory,
            )
        return self._pipeline

    async def _close(self) -> None:
        if self._pipeline is not None:
            await self._pipeline.photos.close()
            await self._pipeline.mtproto.close()


@asynccontextmanager
async def open_app(
    config: Config, sink: AlertSink | None = None, *, telegram_client_factory: ClientFactory | None = None,
    exclusive: bool = False, create: bool = True,
) -> AsyncIterator[App]:
    """Open the archive, the HTTP client and the pipeline; close them (and Telegram) on exit.

    `telegram_client_factory` builds the (unconnected) Telethon client; tests pass a fake.
    `exclusive` (the daemon) holds the archive's lock, taken before any migration, until exit:
    a second one fails with `ArchiveInUseError`. Without `create` a missing archive is a
    StorageError (the commands that only read it).
    """
    with exclusive_archive(config.storage.database) if exclusive else nullcontext():
        async with _open(config, sink, telegram_client_factory, create) as app:
            yield app


@asynccontextmanager
async def _open(
    config: Config, sink: AlertSink | None, telegram_client_factory: ClientFactory | None, create: bool,
) -> AsyncIterator[App]:
    db = await Database.open(config.storage.database, create=create)
    try:
        timeout = httpx.Timeout(config.http.timeout, connect=min(10.0, config.http.timeout))
        # One certificate store for the process: each SSL context parses the CA bundle again
        # (~0.8 MB resident a copy), and the bot's client would otherwise make its own.
        tls = httpx.create_ssl_context()
        async with httpx.AsyncClient(timeout=timeout, verify=tls) as client:
            app = App(config, db, client, sink or LogSink(), telegram_client_factory, tls)
            try:
                yield app
            finally:
                await app._close()
    finally:
        await db.close()
