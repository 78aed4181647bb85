"""Conditions of the process that are not a source's fetch error, for /healthz and /metrics.

Any part of the daemon that notices something wrong beyond one poll (the archive refusing
writes, descriptors running out, the bot's token refused, posts failing analysis) reports it
here under a component name and clears it when it recovers. /healthz lists every component
that has a fault and turns "degraded" (HTTP 200) or, for a fault that stops the service's
purpose, "unhealthy" (HTTP 503); /metrics has one 0/1 series per known component, so an
alert rule has a series to watch before the first fault ever happens.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from datetime import datetime

from bot import reporting
from monitor.ops import metrics
from storage.timeutil import to_db, utcnow

__all__ = ["COMPONENTS", "Fault", "report", "clear", "active", "as_json", "reset", "beat", "last_beat"]

# Components with a series from the start. A component outside this list may still report;
# it gets its series on its first report.
COMPONENTS: tuple[str, ...] = ("archive", "analysis", "bot", "descriptors", "ingest", "outbox", "scheduler")


@dataclass(frozen=True, slots=True)
class Fault:
    component: str
    message: str
    critical: bool
    since: datetime
    count: int


_lock = threading.Lock()  # reports come from worker threads too (analysis runs off the loop)
_faults: dict[str, Fault] = {}
_beats: dict[str, datetime] = {}


def report(component: str, message: str, *, critical: bool = False) -> None:
    """Note a fault of `component`; repeated reports keep the first `since` and count up."""
    with _lock:
        earlier = _faults.get(component)
        _faults[component] = Fault(
            component, message, critical or (earlier.critical if earlier else False),
            earlier.since if earlier else utcnow(), (earlier.count if earlier else 0) + 1,
        )
    metrics.component_fault(component, True)


def clear(component: str) -> None:
    """`component` works again."""
    with _lock:
        _faults.pop(component, None)
    metrics.component_fault(component, False)


def active() -> list[Fault]:
    with _lock:
        return sorted(_faults.values(), key=lambda f: f.component)


def as_json() -> dict[str, dict[str, object]]:
    """The faults as /healthz shows them."""
    return {
        f.component: {"message": f.message, "critical": f.critical, "since": to_db(f.since), "count": f.count}
        for f in active()
    }


def beat(name: str) -> None:
    """`name` (as "bot_getupdates") just worked: /healthz shows when it last did."""
    with _lock:
        _beats[name] = utcnow()


def last_beat(name: str) -> datetime | None:
    with _lock:
        return _beats.get(name)


def reset() -> None:
    """Forget every fault and beat (a new daemon in the same process, as tests start them)."""
    with _lock:
        names = list(_faults)
        _faults.clear()
        _beats.clear()
    for name in names:
        metrics.component_fault(name, False)


for _component in COMPONENTS:
    metrics.component_fault(_component, False)


# The bot reports its token refused, getUpdates failing, a stalled outbox here (bot/ does not import monitor/).
reporting.plug_faults(sys.modules[__name__])
