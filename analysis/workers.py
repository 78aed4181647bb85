"""Analysis in worker processes, written once for both pools that run it: `analyze_stream`'s
forked workers (below) and the batch commands' `monitor.analysis_pool`. Both start their workers
with the analyser's data loaded (`load`), and send a worker chunks of jobs it answers with
`analysed`, which the parent turns back into readings with `readings`."""

from __future__ import annotations

import atexit
import gc
import multiprocessing
import os
import pickle
import signal
from collections import deque
from collections.abc import Iterator, Sequence
from multiprocessing.connection import wait
from typing import Any

from analysis.analyze import analyze_or_error
from analysis.gazetteer import get_gazetteer
from analysis.model import Analysis, Casualties, EventDate, Place
from analysis.morph import morph

__all__ = ["Job", "Reading", "Sent", "analysed", "close_workers", "in_workers", "load", "readings", "uninterrupted"]

# What one analysis reads: a text, its channel and maybe an oblast hint (`analyze_or_error`'s arguments).
Job = tuple[str, str | None] | tuple[str, str | None, str | None]
# A post's analysis: the result, or what the analyser raised on it.
Reading = Analysis | Exception
# A reading as a worker sends it back: an analysis `packed`, an exception that pickles.
Sent = tuple[Any, ...] | Exception


def load() -> None:
    """The gazetteer and the morphology loaded: before workers fork, they share this process's
    copy instead of each spending most of a second of CPU loading its own."""
    get_gazetteer()
    morph()


def uninterrupted() -> None:
    """Ctrl-C reaches the whole process group: the parent stops its workers, which end quietly
    instead of each printing a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def analysed(jobs: Sequence[Job]) -> list[Sent]:
    """A worker's answer to a chunk of `jobs`: their readings, each `sendable`."""
    return [sendable(analyze_or_error(*job)) for job in jobs]


def readings(part: list[Sent], shared: dict[tuple[Any, ...], Any]) -> list[Reading]:
    """The readings a worker sent as `part` (`analysed`), with `unpacked`'s `shared` records."""
    return [unpacked(sent, shared) if isinstance(sent, tuple) else sent for sent in part]


def sendable(result: Reading) -> Sent:
    """`result` as a worker process sends it back: an analysis `packed`, an exception as itself
    when it makes the round trip, else as a RuntimeError naming it."""
    if not isinstance(result, Exception):
        return packed(result)
    try:
        # Loaded back too: an exception whose __init__ wants more than its args pickles but fails
        # to unpickle in the parent, which would take that for a dead worker.
        pickle.loads(pickle.dumps(result))
    except Exception:  # noqa: BLE001 - any exception may fail to pickle
        return RuntimeError(f"{type(result).__name__}: {result}")
    return result


# Analyses go back as plain tuples: pickling the frozen dataclasses themselves cost the parent and
# workers ~40 µs a post, a quarter of that as tuples.
def packed(a: Analysis) -> tuple[Any, ...]:
    c, e = a.casualties, a.event_date
    return (a.is_strike, a.weapons, tuple((p.code, p.name, p.level, p.oblast) for p in a.places), a.oblasts,
            (c.killed, c.injured, c.children_killed, c.children_injured), a.version,
            None if e is None else (e.month, e.day, e.days_ago, e.weekday))


def unpacked(t: tuple[Any, ...], shared: dict[tuple[Any, ...], Any]) -> Analysis:
    """The analysis a worker `packed`. Equal places, casualties and dates are made once and kept in
    `shared` (a dict kept over one batch), the records being immutable: a batch names the same
    towns and figures again and again, and making them costs the parent most of its time."""
    is_strike, weapons, places, oblasts, casualties, version, event_date = t
    made = []
    for p in places:
        place = shared.get(p)
        if place is None:
            place = shared[p] = Place(*p)
        made.append(place)
    cas = shared.get(casualties)
    if cas is None:
        cas = shared[casualties] = Casualties(*casualties)
    if event_date is not None:
        key = ("date", *event_date)  # not a casualties' tuple of the same numbers
        date = shared.get(key)
        if date is None:
            date = shared[key] = EventDate(*event_date)
        event_date = date
    return Analysis(is_strike, weapons, tuple(made), oblasts, cas, version, event_date)


def in_workers(chunks: Iterator[list[Job]], count: int) -> Iterator[Reading]:
    """The readings of `chunks`, in order, from `count` processes forked from this one and kept
    for the next call (`analyze_many` says when that is safe)."""
    shared: dict[tuple[Any, ...], Any] = {}
    # In order, each chunk unpacked as it comes back: the parent's share of the work is done
    # while the workers go on, not after the last one ends.
    try:
        for part in _workers(count).map(chunks):
            yield from readings(part, shared)
    except BaseException:
        close_workers()  # chunks may be left in their pipes, or a worker died: the next call forks anew
        raise


class _Workers:
    """`count` processes forked from this one, each reading chunks of jobs from its own pipe and
    writing back their `analysed`. No thread in the parent (a Pool keeps three running, and its
    result thread fought the parent's own work for the GIL: ~35 µs a post): the parent sends and
    receives between unpacking results, in its main thread."""

    def __init__(self, count: int) -> None:
        ctx = multiprocessing.get_context("fork")
        self.pid = os.getpid()
        self.procs: list[Any] = []
        self.tasks: list[Any] = []  # the parent's ends of the pipes
        self.results: list[Any] = []
        for _ in range(count):
            task_out, task_in = ctx.Pipe(duplex=False)
            result_out, result_in = ctx.Pipe(duplex=False)
            _roomy(task_in)
            # The parent's ends of the pipes, the earlier workers' too, are no business of this one.
            inherited = self.tasks + self.results + [task_in, result_out]
            proc = ctx.Process(target=_serve, args=(task_out, result_in, inherited), daemon=True)
            proc.start()
            task_out.close()
            result_in.close()
            self.procs.append(proc)
            self.tasks.append(task_in)
            self.results.append(result_out)

    def map(self, chunks: Iterator[list[Job]]) -> Iterator[list[Sent]]:
        """`analysed` of each chunk, in order. Each worker has two chunks at a time, the next one
        waiting in its pipe while it reads the first, so it never waits for the parent."""
        pending: dict[Any, deque[int]] = {conn: deque() for conn in self.results}
        task_of = dict(zip(self.results, self.tasks))
        done: dict[int, list[Sent]] = {}
        sent = got = 0

        def send(conn: Any) -> None:
            nonlocal sent
            chunk = next(chunks, None)
            if chunk:
                task_of[conn].send(chunk)
                pending[conn].append(sent)
                sent += 1

        for _ in range(2):
            for conn in self.results:
                send(conn)
        while got < sent:
            if got not in done:
                for conn in wait([c for c, q in pending.items() if q]):
                    part = conn.recv()
                    send(conn)  # before unpacking anything: the worker is kept busy
                    done[pending[conn].popleft()] = part
                continue
            yield done.pop(got)
            got += 1

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()  # between calls a worker holds nothing: it waits for a chunk
        for proc, task, result in zip(self.procs, self.tasks, self.results):
            proc.join()
            task.close()
            result.close()


def _roomy(conn: Any) -> None:
    """Make `conn`'s pipe hold a whole chunk or two (~80 KB each; Linux gives 64 KB), so sending
    the next chunk never waits for a busy worker. Without it, sending only waits longer."""
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


def _serve(tasks: Any, results: Any, inherited: list[Any]) -> None:
    for conn in inherited:
        conn.close()
    uninterrupted()
    while True:
        try:
            jobs = tasks.recv()
        except EOFError:
            return
        results.send(analysed(jobs))


_WORKERS: _Workers | None = None


def _workers(count: int) -> _Workers:
    """The `count` workers, kept from one call to the next: a worker's caches (lemmas, parses,
    matches) stay warm, and the pages it copies from the parent (writing a shared object's
    reference count) are copied once per run, not once per batch."""
    global _WORKERS
    if (_WORKERS is not None and _WORKERS.pid == os.getpid() and len(_WORKERS.procs) == count
            and all(proc.is_alive() for proc in _WORKERS.procs)):
        return _WORKERS
    close_workers()
    load()
    gc.freeze()  # the workers' collections then never touch (and copy) the pages they share
    try:
        _WORKERS = _Workers(count)
    finally:
        gc.unfreeze()
    return _WORKERS


def close_workers() -> None:
    """Stop `in_workers`'s workers, if this process forked them."""
    global _WORKERS
    if _WORKERS is not None and _WORKERS.pid == os.getpid():
        _WORKERS.close()
    _WORKERS = None


atexit.register(close_workers)
