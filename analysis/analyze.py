"""The one entry point of detection: text in, `Analysis` out."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice

from analysis.casualties import extract_casualties
from analysis.event_date import stated_date
from analysis.model import Analysis, Place
from analysis.regions import find_places
from analysis.scope import scope
from analysis.strike import classify

__all__ = ["analyze", "analyze_or_error", "analyze_many", "analyze_stream", "ANALYZER_VERSION", "PARALLEL_MIN"]

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
    chans = list(channels) if channels is not None else [None] * len(texts)
    if len(chans) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(chans)} channels")
    return list(analyze_stream(zip(texts, chans), workers))


def analyze_stream(pairs: Iterable[tuple[str, str | None]], workers: int | None = None) -> Iterator[Analysis | Exception]:
    """`analyze_many` over (text, channel) `pairs` read as the workers need them, each result
    yielded, in order, as soon as it is done: a caller that reads its input and writes results
    (`dsns-monitor analyze`) does so while the workers go on, not while they wait for the next
    batch. The same rules: from a main thread with no other threads, forking once
    `PARALLEL_MIN` pairs are read."""
    import multiprocessing  # here: a tenth of the analyser's import time, and most runs never fork

    rest = iter(pairs)
    head = list(islice(rest, PARALLEL_MIN))
    count = workers if workers is not None else (os.cpu_count() or 1)
    if count < 2 or len(head) < PARALLEL_MIN or "fork" not in multiprocessing.get_all_start_methods():
        yield from (analyze_or_error(text, channel=channel) for text, channel in chain(head, rest))
        return
    from analysis.workers import in_workers  # here too: it imports this module

    rest = chain(head, rest)
    yield from in_workers(iter(lambda: list(islice(rest, CHUNK)), []), count)
