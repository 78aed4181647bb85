"""The one entry point of detection: text in, `Analysis` out."""

from __future__ import annotations

import atexit
import gc
import os
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice
from typing import Any

from analysis.casualties import extract_casualties
from analysis.event_date import stated_date
from analysis.gazetteer import get_gazetteer
from analysis.model import Analysis, Casualties, EventDate, Place
from analysis.morph import morph
from analysis.regions import find_places
from analysis.scope import scope
from analysis.strike import classify

__all__ = ["analyze", "analyze_or_error", "analyze_many", "analyze_stream", "ANALYZER_VERSION", "PARALLEL_MIN", "packed", "sendable", "unpacked"]

# Bump when detection changes so `dsns-monitor reanalyze` knows what is stale.
ANALYZER_VERSION = "0.3"


def analyze(text: str, channel: str | None = None, oblast_hint: str | None = None) -> Analysis:
    """Read a post: strike or not, weapons, places and their oblasts, casualties.

    Everything is read from the event part of the text (`analysis.scope`): a background paragraph
    about another attack adds no place, weapon or figure. `channel` is the Telegram channel or
    feed the text came from and `oblast_hint` the ISO code a source is configured with: a regional
    DSNS channel implies its oblast when a place name is ambiguous.
    """
    found: dict[str, list[Place]] = {}  # scope asks about the event text itself, mostly unchanged after

    def places_in(part: str) -> list[Place]:
        if part not in found:
            found[part] = find_places(part, channel=channel, oblast_hint=oblast_hint)
        return found[part]

    def oblasts_of(part: str) -> set[str]:
        return {p.oblast for p in places_in(part)}

    event = scope(text, oblasts_of).event
    places = places_in(event)
    reading = classify(event)
    return Analysis(
        is_strike=reading.is_strike,
        weapons=reading.weapons,
        places=tuple(places),
        oblasts=tuple(sorted({p.oblast for p in places})),
        casualties=extract_casualties(event),
        version=ANALYZER_VERSION,
        event_date=stated_date(event),
    )


def analyze_or_error(text: str, channel: str | None = None, oblast_hint: str | None = None) -> Analysis | Exception:
    """`analyze`, or the exception it raised: the analyser is meant never to raise, but if a
    text finds a bug, the post is archived with the error instead of holding back its page."""
    try:
        return analyze(text, channel=channel, oblast_hint=oblast_hint)
    except Exception as exc:  # noqa: BLE001 - any bug in detection costs one post, never the source
        return exc


# Below this many texts a second process costs more (its start, the results sent back) than the
# second core saves; above it, every core analyses a share.
PARALLEL_MIN = 1_000
# Posts a worker reads between sending results back: ~50 ms of work, against ~0.1 ms for the trip.
CHUNK = 48


def analyze_many(texts: Sequence[str], channels: Sequence[str | None] | None = None,
                 workers: int | None = None) -> list[Analysis | Exception]:
    """`analyze_or_error` over `texts` (with their `channels`), in order.

    A batch of `PARALLEL_MIN` texts or more is shared among `workers` processes (default: one
    per core) forked from this one after the gazetteer and pymorphy3 are loaded, so none loads
    them again and they share their memory. The workers are kept for the next batch (with
    their warm caches) until the process exits or a batch asks for another number of them.
    Call it only where forking is safe: from a process's main thread with no other threads
    running (a batch command, not the daemon). A worker's exception comes back as itself when
    it pickles, else as a RuntimeError naming it; a worker that dies fails the batch, and the
    next one forks new workers.
    """
    import multiprocessing  # here: a tenth of the analyser's import time, and most runs never fork

    chans = list(channels) if channels is not None else [None] * len(texts)
    if len(chans) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(chans)} channels")
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count < 2 or len(texts) < PARALLEL_MIN or "fork" not in multiprocessing.get_all_start_methods():
        return _analyze_chunk(list(zip(texts, chans)))
    pairs = list(zip(texts, chans))
    # Small chunks: the workers end together (a chunk of a quarter of a worker's share left one
    # idle for up to a second of a 10,000-post batch), and results come back while they work.
    size = max(1, min(CHUNK, -(-len(pairs) // (count * 4))))
    return list(_in_workers((pairs[k:k + size] for k in range(0, len(pairs), size)), count))


def analyze_stream(pairs: Iterable[tuple[str, str | None]], workers: int | None = None) -> Iterator[Analysis | Exception]:
    """`analyze_many` over (text, channel) `pairs` read as the workers need them, each result
    yielded, in order, as soon as it is done: a caller that reads its input and writes results
    (`dsns-monitor analyze`) does so while the workers go on, not while they wait for the next
    batch. The same rules: from a main thread with no other threads, forking once
    `PARALLEL_MIN` pairs are read."""
    import multiprocessing

    rest = iter(pairs)
    head = list(islice(rest, PARALLEL_MIN))
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count < 2 or len(head) < PARALLEL_MIN or "fork" not in multiprocessing.get_all_start_methods():
        yield from _analyze_chunk(head)
        yield from (analyze_or_error(text, channel=channel) for text, channel in rest)
        return
    rest = chain(head, rest)
    yield from _in_workers(iter(lambda: list(islice(rest, CHUNK)), []), count)


def _in_workers(chunks: Iterator[list[tuple[str, str | None]]], count: int) -> Iterator[Analysis | Exception]:
    shared: dict[tuple[Any, ...], Any] = {}
    # In order, each chunk unpacked as it comes back: the parent's share of the work is done
    # while the workers go on, not after the last one ends.
    try:
        for part in _workers(count).map(chunks):
            yield from (unpacked(r, shared) if type(r) is tuple else r for r in part)
    except BaseException:
        _close_workers()  # chunks may be left in their pipes, or a worker died: the next batch forks anew
        raise


class _Workers:
    """`count` processes forked from this one, each reading chunks of (text, channel) from its
    own pipe and writing back their `_analyze_chunk`. No thread in the parent (a Pool keeps three
    running, and its result thread fought the parent's own work for the GIL: ~35 µs a post):
    the parent sends and receives between unpacking results, in its main thread."""

    def __init__(self, count: int) -> None:
        import multiprocessing

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

    def map(self, chunks: Iterator[list[tuple[str, str | None]]]) -> Iterator[list[Any]]:
        """`_analyze_chunk` of each chunk, in order. Each worker has two chunks at a time, the
        next one waiting in its pipe while it reads the first, so it never waits for the parent."""
        from collections import deque
        from multiprocessing.connection import wait

        pending: dict[Any, deque[int]] = {conn: deque() for conn in self.results}
        task_of = dict(zip(self.results, self.tasks))
        done: dict[int, list[Any]] = {}
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
            proc.terminate()  # between batches a worker holds nothing: it waits for a chunk
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
    while True:
        try:
            pairs = tasks.recv()
        except EOFError:
            return
        results.send(_analyze_chunk(pairs))


_WORKERS: _Workers | None = None


def _workers(count: int) -> _Workers:
    """The `count` workers, kept from one `analyze_many` to the next: a worker's caches (lemmas,
    parses, matches) stay warm, and the pages it copies from the parent (writing a shared
    object's reference count) are copied once per run, not once per batch."""
    global _WORKERS
    if (_WORKERS is not None and _WORKERS.pid == os.getpid() and len(_WORKERS.procs) == count
            and all(proc.is_alive() for proc in _WORKERS.procs)):
        return _WORKERS
    _close_workers()
    get_gazetteer()
    morph()  # both loaded before the fork: no worker loads its own copy
    gc.freeze()  # the workers' collections then never touch (and copy) the pages they share
    try:
        _WORKERS = _Workers(count)
    finally:
        gc.unfreeze()
    return _WORKERS


def _close_workers() -> None:
    global _WORKERS
    if _WORKERS is not None and _WORKERS.pid == os.getpid():
        _WORKERS.close()
    _WORKERS = None


atexit.register(_close_workers)


def _analyze_chunk(pairs: list[tuple[str, str | None]]) -> list[Analysis | Exception | tuple[Any, ...]]:
    import multiprocessing

    worker = multiprocessing.parent_process() is not None
    return [sendable(result) if worker else result
            for result in (analyze_or_error(text, channel=channel) for text, channel in pairs)]


def sendable(result: Analysis | Exception) -> tuple[Any, ...] | Exception:
    """`result` as a worker process sends it back: an analysis `packed`, an exception as itself
    when it pickles, else as a RuntimeError naming it."""
    import pickle

    if not isinstance(result, Exception):
        return packed(result)
    try:
        pickle.dumps(result)
    except Exception:  # noqa: BLE001 - any exception may fail to pickle
        return RuntimeError(f"{type(result).__name__}: {result}")
    return result


# A worker (of `analyze_many` or monitor.analysis_pool) sends its analyses back as plain tuples:
# pickling the frozen dataclasses themselves cost the parent and workers ~40 µs a post, a quarter
# of that as tuples.
def packed(a: Analysis) -> tuple[Any, ...]:
    c, e = a.casualties, a.event_date
    return (a.is_strike, a.weapons, tuple((p.code, p.name, p.level, p.oblast) for p in a.places), a.oblasts,
            (c.killed, c.injured, c.children_killed, c.children_injured), a.version,
            None if e is None else (e.month, e.day, e.days_ago, e.weekday))


def unpacked(t: tuple[Any, ...], shared: dict[tuple[Any, ...], Any] | None = None) -> Analysis:
    """The analysis a worker `packed`. Given `shared` (a dict kept over one batch), equal places,
    casualties and dates are made once and shared, the records being immutable: a batch names
    the same towns and figures again and again, and making them costs the parent most of its time."""
    is_strike, weapons, places, oblasts, casualties, version, event_date = t
    if shared is None:
        shared = {}
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
