"""Photo downloads in their own worker, beside the polls.

A poll stores its posts and calls `wake(source)`; the worker then fetches the photos the archive
still lacks for that source, at most `concurrency` at once and each within `timeout` seconds. A
slow or silent photo host so holds one download slot for at most `timeout`, and never a channel's
next poll. A failure is recorded on the photo's slot (retried on a later pass, up to storage's
MAX_ATTEMPTS) and counted; nothing here raises into a poll.

The worker starts on its first `wake` (the daemon starts it up front and closes it on the way
out); `run --once` and `backfill` call `drain()` before they exit so they end with photos fetched.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable

from collectors.base import SourceError
from collectors.media import Photo
from monitor.ops import metrics
from storage.database import Database
from storage.media import PendingMedia, pending_media, record_media_failure, store_media

__all__ = ["PhotoWorker", "PhotoFetch"]

log = logging.getLogger("dsns_monitor.photos")

# Fetches one photo of a source (by the source's name, for messages); raises SourceError.
PhotoFetch = Callable[[PendingMedia, str], Awaitable[Photo]]


class PhotoWorker:
    """Downloads the photos the archive lacks, per source on request, with bounded concurrency."""

    def __init__(self, db: Database, fetch: PhotoFetch, *, concurrency: int = 4, timeout: float = 60.0) -> None:
        self.db = db
        self._fetch = fetch
        self.timeout = timeout
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._passing = False
        # source id -> (source name, how many photos a pass may take, when asked); one per source
        self._requests: dict[int | None, tuple[str, int, float]] = {}
        self._downloads: dict[tuple[int, int], asyncio.Task[None]] = {}
        # When each photo last failed: a pass retries only failures older than its request, so a
        # wake during a slow download does not retry that photo the moment it gives up.
        self._failed_at: dict[tuple[int, int], float] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run the worker in the current event loop (again, if it was closed); idempotent."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="photo-worker")

    def wake(self, source_id: int | None, source_name: str, *, limit: int = 50) -> None:
        """Ask for a pass over the source's missing photos (at most `limit`; None id: every source)."""
        earlier = self._requests.get(source_id, (source_name, 0, 0.0))[1]
        self._requests[source_id] = (source_name, max(limit, earlier), time.monotonic())
        self._idle.clear()
        self._wake.set()
        self.start()

    @property
    def downloading(self) -> int:
        """Downloads in flight now."""
        return len(self._downloads)

    async def drain(self) -> None:
        """Wait until every requested pass and each of its downloads has ended."""
        if self._idle.is_set():
            return
        self.start()
        assert self._task is not None
        idle = asyncio.ensure_future(self._idle.wait())
        try:
            await asyncio.wait({idle, self._task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            idle.cancel()

    async def close(self) -> None:
        """Stop the worker; downloads in flight are cancelled, their photos left for the next run."""
        tasks = [t for t in (self._task, *self._downloads.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        self._requests.clear()
        self._failed_at.clear()
        self._wake.clear()
        self._idle.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._passing = True
            try:
                while self._requests:
                    source_id = next(iter(self._requests))
                    name, limit, asked = self._requests.pop(source_id)
                    try:
                        await self._pass(source_id, name, limit, asked)
                    except Exception:
                        # The archive could not list the photos (locked, full…): the next wake retries.
                        log.exception("photo pass failed", extra={"source": name})
            finally:
                self._passing = False
            self._settle()

    async def _pass(self, source_id: int | None, name: str, limit: int, asked: float) -> None:
        for item in await pending_media(self.db, source_id, limit=limit):
            key = (item.post_id, item.position)
            if key in self._downloads or self._failed_at.get(key, asked) > asked:
                continue  # still downloading, or failed since this pass was asked for
            self._failed_at.pop(key, None)
            await self._slots.acquire()
            task = asyncio.create_task(self._download(item, name), name=f"photo-{item.post_id}-{item.position}")
            self._downloads[key] = task
            task.add_done_callback(functools.partial(self._finished, key))

    def _finished(self, key: tuple[int, int], _task: asyncio.Task[None]) -> None:
        self._downloads.pop(key, None)
        self._slots.release()
        self._settle()

    def _settle(self) -> None:
        if not (self._passing or self._requests or self._downloads or self._wake.is_set()):
            self._idle.set()

    async def _download(self, item: PendingMedia, name: str) -> None:
        try:
            try:
                async with asyncio.timeout(self.timeout):
                    photo = await self._fetch(item, name)
            except TimeoutError:
                error = f"photo download took longer than {self.timeout:g}s; gave up"
            except SourceError as exc:
                error = str(exc)
            else:
                await store_media(self.db, item, photo.data, photo.mime)
                metrics.photo_stored()
                return
            metrics.photo_failed()
            log.warning("photo failed", extra={"source": name, "url": item.url, "error": error})
            self._failed_at[(item.post_id, item.position)] = time.monotonic()
            await record_media_failure(self.db, item, error)
        except Exception:
            # A bug or an archive error: logged with its traceback; the slot stays for a later pass.
            metrics.photo_failed()
            log.exception("photo download crashed", extra={"source": name, "url": item.url})
