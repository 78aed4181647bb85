"""What the daemon runs for its operator: health server, heartbeat, systemd notifications.

`OpsServices.start()` is called once storage is open and the scheduler runs; `stopping()` at
the start of shutdown; `close()` at its end. Kept out of daemon.py so the scheduler code stays
about scheduling.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.app import App
from monitor.config import ConfigError
from monitor.health import HealthServer
from monitor.systemd import Heartbeat, Watchdog, notify, watchdog_interval

__all__ = ["OpsServices", "HEARTBEAT_JOB"]

log = logging.getLogger("dsns_monitor.ops")

HEARTBEAT_JOB = "_heartbeat"
HEARTBEAT_EVERY = 10.0


class OpsServices:
    """Health/metrics HTTP server, scheduler heartbeat and sd_notify for one daemon run."""

    def __init__(self, app: App, scheduler: AsyncIOScheduler) -> None:
        self.app = app
        self.scheduler = scheduler
        # The beat reads the archive too: a wedged database connection stops the pings.
        self.heartbeat = Heartbeat(lambda: app.db.fetchone("SELECT 1"))
        self.health: HealthServer | None = None
        self._watchdog_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Make sure every source has its row, start serving, beat, then tell systemd READY=1."""
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
        sources = sum(s.enabled for s in self.app.config.sources)
        notify(f"READY=1\nSTATUS=polling {sources} source(s)")

    def stopping(self) -> None:
        """Tell systemd we are on our way out, so it waits instead of pinging the watchdog."""
        notify("STOPPING=1\nSTATUS=stopping")

    async def close(self) -> None:
        if self._watchdog_task is not None:
            self._watchdog_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog_task
        if self.health is not None:
            await self.health.close()
