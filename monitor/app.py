"""The open resources one command needs: the archive, an HTTP client, the pipeline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass

import httpx

from monitor.config import Config
from monitor.mtproto import ClientFactory
from monitor.pipeline import Pipeline
from monitor.sinks import AlertSink, LogSink
from storage.database import Database
from storage.lock import exclusive_archive

__all__ = ["App", "open_app"]


@dataclass
class App:
    config: Config
    db: Database
    client: httpx.AsyncClient
    pipeline: Pipeline


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
        async with httpx.AsyncClient(timeout=timeout) as client:
            pipeline = Pipeline(config, db, client, sink or LogSink(), telegram_client_factory=telegram_client_factory)
            try:
                yield App(config, db, client, pipeline)
            finally:
                await pipeline.photos.close()
                await pipeline.mtproto.close()
    finally:
        await db.close()
