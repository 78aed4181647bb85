"""Telegram over MTProto inside the application: live feeds supervised, the extra checked.

The process's client, entity cache and collectors live in `collectors.telegram_mtproto.hub`
(the pipeline holds the one `MTProtoHub`); Telethon is not imported until an MTProto source is
used, so the daemon runs on the core install, without the mtproto extra, and `check_installed`
refuses at start a configuration whose telegram_mtproto sources would need it.

`LiveFeeds` runs `run_live` for every enabled source with `live = true`, restarting it with
backoff when Telegram drops the connection; the scheduled catch-up poll of the same source is
the safety net for whatever the live feed misses. What a feed brings reaches the archive only
through the pipeline: `Pipeline.ingest_live` for posts, `Pipeline.note_deleted` for deletions.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from collectors.base import RawPost, SourceError, SourceNetworkError
from dsns.backoff import Backoff
from dsns.extras import MissingExtraError, require
from monitor.config import Config, ConfigError, TelegramMTProtoSource
from monitor.ops.memory import release_freed_memory

if TYPE_CHECKING:
    from monitor.pipeline import Pipeline

__all__ = ["LiveFeeds", "check_installed"]

log = logging.getLogger("dsns_monitor.mtproto")


def check_installed(config: Config) -> None:
    """At start: telegram_mtproto sources (enabled or not: their photos are still fetched)
    without Telethon are a configuration error, not a failure of every poll once running."""
    names = [s.source_name for s in config.sources if isinstance(s, TelegramMTProtoSource)]
    if names:
        try:
            require("telethon", "mtproto", f"telegram_mtproto source `{names[0]}`")
        except MissingExtraError as exc:
            raise ConfigError(str(exc)) from exc


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
        backoff = Backoff(self.first_delay, self.max_delay)
        while True:
            started = time.monotonic()
            client = None
            try:
                await self.pipeline.source_state(source)  # the archive answers before Telegram is asked
                client = await hub.client()
                await collector.run_live(self._on_posts(source), self._on_deleted(source))
                raise SourceNetworkError(name, "live updates stopped")  # run_live only returns by raising
            except asyncio.CancelledError:
                raise
            except SourceError as exc:
                if isinstance(exc, SourceNetworkError):
                    await hub.discard_if_disconnected(client)
                failure: BaseException = exc
            except Exception as exc:
                failure = exc
            if time.monotonic() - started >= self.stable_after:
                backoff.reset()  # it ran fine for a while: this is a fresh failure
            wait = backoff.next()
            if isinstance(failure, SourceError):
                wait = max(wait, failure.retry_after or 0.0)
                log.warning("live feed stopped", extra={"source": name, "error": str(failure), "retry_in": round(wait)})
            else:
                log.error("live feed crashed", exc_info=failure, extra={"source": name, "retry_in": round(wait)})
            await asyncio.sleep(wait)

    def _on_posts(self, source: TelegramMTProtoSource) -> Callable[[list[RawPost]], Any]:
        async def on_posts(posts: list[RawPost]) -> None:
            changes = await self.pipeline.ingest_live(source, posts)
            if changes:
                release_freed_memory()  # as after a poll that stored posts
            log.info("live posts", extra={"source": source.source_name, "posts": len(posts), "changes": len(changes)})

        return on_posts

    def _on_deleted(self, source: TelegramMTProtoSource) -> Callable[[list[str]], Any]:
        async def on_deleted(ids: list[str]) -> None:
            marked = await self.pipeline.note_deleted(source, ids)
            log.info("live deletions", extra={"source": source.source_name, "posts": ",".join(ids), "marked": len(marked)})

        return on_deleted
