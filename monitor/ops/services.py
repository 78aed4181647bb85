"""What the daemon runs for its operator: health server, heartbeat, event-loop lag, systemd
notifications, and the watch on the archive and descriptors (`monitor.ops.resources`).

`OpsServices.start()` is called once storage is open and the scheduler runs; `stopping()` at
the start of shutdown; `close()` at its end. Kept out of daemon.py so the scheduler code stays
about scheduling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.app import App
from monitor.config import ConfigError
from monitor.ops import metrics
from monitor.ops.health import HealthServer
from monitor.ops.resources import ArchiveHealth, Descriptors
from monitor.ops.systemd import Heartbeat, Watchdog, notify, watchdog_interval
from storage.errors import StorageError
from storage.payloads import prune_payloads
from storage.stats import ping
from storage.timeutil import utcnow

__all__ = [
    "OpsServices", "HEARTBEAT_JOB", "ARCHIVE_CHECK_JOB", "DESCRIPTORS_JOB", "PRUNE_PAYLOADS_JOB", "watch_loop_lag",
    "prune_old_payloads",
]

log = logging.getLogger("dsns_monitor.ops")

HEARTBEAT_JOB = "_heartbeat"
HEARTBEAT_EVERY = 10.0
ARCHIVE_CHECK_JOB = "_archive_check"
# quick_check reads the whole file: about 4 s per GB when cached (bench/archive_checks.py).
ARCHIVE_CHECK_EVERY = 24 * 3600.0
DESCRIPTORS_JOB = "_descriptors"
DESCRIPTORS_EVERY = 15.0
LAG_EVERY = 0.5
PRUNE_PAYLOADS_JOB = "_prune_payloads"
PRUNE_PAYLOADS_EVERY = 6 * 3600.0


async def prune_old_payloads(app: App) -> int:
    """Forget fetched bodies older than `[storage] payload_retention_days` (0: keep them all)."""
    days = app.config.storage.payload_retention_days
    if not days:
        return 0
    try:
        removed = await prune_payloads(app.db, utcnow() - timedelta(days=days))
    except StorageError as exc:
        log.error("old payloads not pruned: %s", exc)
        return 0
    if removed:
        log.info("pruned %d stored payload(s) older than %d days", removed, days)
    return removed


async def watch_loop_lag(every: float = LAG_EVERY) -> None:
    """Sleep `every` seconds, again and again, recording how late each wake-up comes: anything
    holding the event loop (CPU work that should be in a thread) shows as lag."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(every)
        metrics.loop_lag(max(0.0, loop.time() - started - every))


class OpsServices:
    """Health/metrics HTTP server, scheduler heartbeat and sd_notify for one daemon run."""

    def __init__(self, app: App, scheduler: AsyncIOScheduler) -> None:
        self.app = app
        self.scheduler = scheduler
        # The beat reads the archive too: a wedged database connection stops the pings.
        self.heartbeat = Heartbeat(lambda: ping(app.db))
        self.health: HealthServer | None = None
        self._watchdog_task: asyncio.Task[None] | None = None
        self.archive = ArchiveHealth(app.db)
        self.descriptors = Descriptors(DESCRIPTORS_EVERY)
        self._lag_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Make sure every source has its row, start serving, beat, then tell systemd READY=1."""
        self.app.db.watch(self.archive)
        for source in self.app.config.sources:
            if source.enabled:
                await self.app.pipeline.source_state(source)
        if self.app.config.health.listen:
            health = HealthServer(self.app.db, self.app.config, heartbeat_age=self.heartbeat.age)
            try:
                await health.start()
                self.health = health
            except ConfigError as exc:
                # Archiving and alerting matter more than the health page: keep running, loudly.
                log.error("health server not started: %s", exc)
        timeout = watchdog_interval()
        every = min(HEARTBEAT_EVERY, timeout / 4) if timeout else HEARTBEAT_EVERY
        self.scheduler.add_job(
            self.heartbeat.beat, "interval", seconds=every, id=HEARTBEAT_JOB, name=HEARTBEAT_JOB,
            max_instances=1, coalesce=True, misfire_grace_time=None,
        )
        if timeout:
            self._watchdog_task = asyncio.create_task(Watchdog(self.heartbeat, timeout).run())
        self.descriptors.install(asyncio.get_running_loop())
        # The first check runs now but in the background: it is O(size) and runs on a connection
        # of its own, so polls and the bot go on meanwhile.
        self.scheduler.add_job(
            self.archive.check_integrity, "interval", seconds=ARCHIVE_CHECK_EVERY, id=ARCHIVE_CHECK_JOB,
            name=ARCHIVE_CHECK_JOB, next_run_time=datetime.now().astimezone(), max_instances=1, coalesce=True,
            misfire_grace_time=None,
        )
        self.scheduler.add_job(
            self.descriptors.check, "interval", seconds=DESCRIPTORS_EVERY, id=DESCRIPTORS_JOB,
            name=DESCRIPTORS_JOB, next_run_time=datetime.now().astimezone(), max_instances=1, coalesce=True,
            misfire_grace_time=None,
        )
        self.scheduler.add_job(
            prune_old_payloads, "interval", args=[self.app], seconds=PRUNE_PAYLOADS_EVERY, id=PRUNE_PAYLOADS_JOB,
            name=PRUNE_PAYLOADS_JOB, next_run_time=datetime.now().astimezone(), max_instances=1, coalesce=True,
            misfire_grace_time=None,
        )
        self._lag_task = asyncio.create_task(watch_loop_lag())
        sources = sum(s.enabled for s in self.app.config.sources)
        notify(f"READY=1\nSTATUS=polling {sources} source(s)")

    def stopping(self) -> None:
        """Tell systemd we are on our way out, so it waits instead of pinging the watchdog."""
        notify("STOPPING=1\nSTATUS=stopping")

    async def close(self) -> None:
        self.app.db.watch(None)
        self.descriptors.uninstall(asyncio.get_running_loop())
        for task in (self._watchdog_task, self._lag_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.health is not None:
            await self.health.close()
