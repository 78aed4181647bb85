"""Analysis in worker processes, for the batch commands (backfill, reparse, reanalyze), and the
parsing before it where the command reads pages it already holds (reparse).

The daemon analyses a few posts a minute in a thread and must stay small. A batch command
reads thousands, and the analyser is most of its CPU: in other processes the next pages are
analysed while the command stores the current one, so the analyser and SQLite use every core.

The workers start from a clean interpreter ("forkserver", else "spawn"), never by forking the
command itself: its SQLite connections run in threads, and a fork copies their locks mid-use.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import threading
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self, TypeVar

from analysis.analyze import PARALLEL_MIN
from analysis.workers import Job, Reading, Sent, analysed, load, readings, uninterrupted

__all__ = ["AnalysisPool", "Job", "Reading", "WorkerDiedError", "pool_for", "read_ahead"]

log = logging.getLogger("dsns_monitor.analysis_pool")

# How much lower the workers' CPU priority is than the command's (`os.nice`): at 5 (a third of
# the weight) the scheduler keeps the command alone on a core; at 10 the workers starved whenever
# other programs loaded the machine (measured: the command then waited for analyses 3/4 of the time).
WORKER_NICENESS = 5

T = TypeVar("T")
U = TypeVar("U")


async def read_ahead(
    items: AsyncIterable[T], prepare: Callable[[T], Awaitable[U]], ahead: int = 1
) -> AsyncIterator[tuple[T, U]]:
    """Each of `items` with what `prepare` made of it, in order. The items are taken in a task of
    their own, up to `ahead` beyond the one handed over, and each one's `prepare` started at once:
    taking the next items (a fetch, a parse in a worker) and preparing them (in a pool, a thread,
    or awaiting a server) runs while the caller stores this one. Use it in `contextlib.aclosing`:
    leaving early cancels the taking and the `prepare`s under way.
    """
    taken: asyncio.Queue[tuple[T, asyncio.Future[U]] | _End] = asyncio.Queue()
    slots = asyncio.Semaphore(ahead + 1)  # the item handed over and those taken beyond it
    futures: list[asyncio.Future[U]] = []

    async def take() -> None:
        source = aiter(items)
        try:
            while True:
                await slots.acquire()
                try:
                    item = await anext(source)
                except StopAsyncIteration:
                    taken.put_nowait(_End(None))
                    return
                future = asyncio.ensure_future(prepare(item))
                futures.append(future)
                taken.put_nowait((item, future))
        except BaseException as exc:  # handed over to the caller, raised there
            # The items' source failed (a fetch): what it gave before is handed over first,
            # as it would have been without reading ahead. The caller is never left waiting.
            taken.put_nowait(_End(exc))
            if not isinstance(exc, Exception):
                raise

    taker = asyncio.ensure_future(take())
    try:
        while not isinstance(got := await taken.get(), _End):
            item, future = got
            yield item, await future
            futures.remove(future)
            slots.release()
        if got.error is not None:
            raise got.error
    finally:
        taker.cancel()
        for future in futures:
            future.cancel()
        await asyncio.gather(taker, *futures, return_exceptions=True)


@dataclass(frozen=True, slots=True)
class _End:
    """The end of `read_ahead`'s items: their source ran out, or failed with `error`."""

    error: BaseException | None


def default_workers() -> int:
    """A worker per core, up to 4. The command itself (parsing, SQLite) keeps about one core
    busy, yet a worker per core still helps: the workers run while the command waits on SQLite or
    the network, and the analyser needs more CPU a post than the storing does. Beyond 4 the
    command's own pace is the limit."""
    return max(1, min(os.cpu_count() or 1, 4))


@asynccontextmanager
async def pool_for(posts: int) -> AsyncIterator[AnalysisPool | None]:
    """A pool for a command about to analyse about `posts` posts; None below `PARALLEL_MIN`,
    where starting a worker (a second or two) costs more than it saves."""
    if posts < PARALLEL_MIN:
        yield None
        return
    async with AnalysisPool() as pool:
        yield pool


class WorkerDiedError(RuntimeError):
    """A worker process ended (killed, out of memory, a crash in C code) running a call, twice."""


class AnalysisPool:
    """`analyze_or_error` over batches of jobs in worker processes; `async with` it.

    An exception of the analyser comes back as the post's reading, like `analyze_or_error`'s.
    A worker that dies (killed, out of memory, a crash in C code) costs the posts it was
    reading, one by one: the pool restarts and reads their share again a post at a time, so only
    a post that kills a worker again gets an error reading.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        if "forkserver" in multiprocessing.get_all_start_methods():
            self._context = multiprocessing.get_context("forkserver")
            # The server imports the analyser and loads its data once; each worker (and a
            # restart) forks from it.
            self._context.set_forkserver_preload([__name__, "monitor.analysis_preload"])
        else:
            self._context = multiprocessing.get_context("spawn")
        self._executor: ProcessPoolExecutor | None = None
        self._retrying = asyncio.Lock()
        self._warming: list[Future[int]] = []

    async def __aenter__(self) -> Self:
        self._start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers: queued batches are dropped, the ones being read finish first."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def _start(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(self.workers, mp_context=self._context, initializer=_start_worker)
            # The fork server's start (the analyser's imports and data, a second or two): begun
            # now, it overlaps the command's first fetch or read.
            self._warming = [self._executor.submit(int) for _ in range(self.workers)]
        return self._executor

    @property
    def started(self) -> bool:
        """Whether a worker is up: until then work the command can do in its own thread is done
        sooner there."""
        return any(future.done() for future in self._warming)

    async def analyse(self, jobs: Sequence[Job]) -> list[Reading]:
        """The readings of `jobs`, in order; never raises for a post's fault."""
        jobs = list(jobs)
        size = max(1, -(-len(jobs) // self.workers))  # a share per worker
        shares = [jobs[k:k + size] for k in range(0, len(jobs), size)]
        parts = await asyncio.gather(*(self.run(analysed, share) for share in shares), return_exceptions=True)
        shared: dict[tuple[Any, ...], Any] = {}
        found: list[Reading] = []
        for share, part in zip(shares, parts, strict=True):
            if isinstance(part, WorkerDiedError):
                log.error("an analysis worker died; reading its share again post by post", extra={"posts": len(share)})
                part = [await self._alone(job) for job in share]
            elif isinstance(part, BaseException):
                raise part
            found += readings(part, shared)
        return found

    async def _alone(self, job: Job) -> Sent:
        """`job`'s reading in a worker of its own: an error reading if it kills that worker too."""
        try:
            (sent,) = await self.run(analysed, [job])
        except WorkerDiedError as exc:
            return RuntimeError(f"the analysis worker died reading this post: {exc}")
        return sent

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """`function(*args)` in a worker (both picklable, `function` at a module's top level):
        the CPU work a batch command does before the analysis, such as parsing the pages it
        reads. A worker that dies on it raises `WorkerDiedError`, for this call only: the others
        it was running are run again."""
        loop = asyncio.get_running_loop()
        executor = self._start()
        try:
            return await loop.run_in_executor(executor, function, *args)
        except BrokenProcessPool:
            pass
        # Again in a fresh pool, one call at a time, so the one that kills a worker again fails alone.
        async with self._retrying:
            executor = self._replace(executor)
            try:
                return await loop.run_in_executor(executor, function, *args)
            except BrokenProcessPool as exc:
                self._replace(executor)
                raise WorkerDiedError(f"the worker died running {function.__name__}: {exc}") from exc

    def _replace(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        """A working executor in place of `broken` (unless another batch replaced it already)."""
        if self._executor is broken:
            broken.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        return self._start()


def _start_worker() -> None:
    uninterrupted()
    # The command is the serial part (parse, then each page's write transaction, one after the
    # other) and the workers run ahead of it: at a lower priority they take the cores the command
    # leaves idle instead of a share of its own, so it never waits for a core (at equal priority
    # on 2 cores it got about two thirds of one).
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)
    threading.Thread(target=_exit_with_command, daemon=True, name="parent-watch").start()
    load()


def _exit_with_command() -> None:
    """Exit once the command is gone: killed (SIGTERM, -9), it cannot stop its pool, and a worker
    waiting for its next batch would wait for ever (the pool's queue never ends: every worker
    holds its write end too). A broken pool's workers are ended by the pool itself."""
    command = multiprocessing.parent_process()
    if command is not None:
        command.join()
        os._exit(1)

