"""systemd service notifications (sd_notify) in pure Python, and a progress-checked watchdog.

With `Type=notify` systemd waits for READY=1 before it calls the service started, and with
`WatchdogSec=` it kills and restarts the service when WATCHDOG=1 stops arriving. We send
WATCHDOG=1 only while the scheduler's heartbeat job keeps running and the archive answers, so
a wedged event loop, a dead scheduler or a stuck database all end in a restart.
Outside systemd ($NOTIFY_SOCKET unset) every call is a cheap no-op.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable

__all__ = ["notify", "watchdog_interval", "Heartbeat", "Watchdog"]

log = logging.getLogger("dsns_monitor.systemd")


def notify(message: str, *, environ: dict[str, str] | None = None) -> bool:
    """Send one sd_notify datagram ("READY=1", "WATCHDOG=1", "STOPPING=1", "STATUS=…").

    Returns False when not under systemd or when the socket is gone; never raises, because a
    lost notification must not take the monitor down.
    """
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):
        # Abstract-namespace socket: systemd writes "@", the kernel wants a leading NUL.
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
        return True
    except OSError as exc:
        log.warning("sd_notify failed", extra={"error": str(exc)})
        return False


def watchdog_interval(environ: dict[str, str] | None = None) -> float | None:
    """The watchdog timeout in seconds from $WATCHDOG_USEC, if it is meant for this process."""
    env = os.environ if environ is None else environ
    usec, pid = env.get("WATCHDOG_USEC", ""), env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid.isdigit() and int(pid) != os.getpid():
        return None
    return int(usec) / 1_000_000


class Heartbeat:
    """Proof of progress: `beat()` is called by a scheduler job; `age()` says how long ago."""

    def __init__(self, check: Callable[[], Awaitable[object]] | None = None) -> None:
        self._last = time.monotonic()
        self._check = check

    async def beat(self) -> None:
        """Run the optional liveness check (e.g. a read of the archive), then record progress."""
        if self._check is not None:
            await asyncio.wait_for(self._check(), timeout=30)
        self._last = time.monotonic()

    def age(self) -> float:
        return time.monotonic() - self._last


class Watchdog:
    """Sends WATCHDOG=1 every half timeout while the heartbeat is younger than the timeout."""

    def __init__(self, heartbeat: Heartbeat, timeout: float, send: Callable[[str], bool] = notify) -> None:
        self.heartbeat = heartbeat
        self.timeout = timeout
        self._send = send
        self._warned = False

    def tick(self) -> bool:
        """One check: ping when progress is recent; returns whether it pinged."""
        if self.heartbeat.age() < self.timeout:
            self._warned = False
            return self._send("WATCHDOG=1")
        if not self._warned:
            # Said once: systemd will restart us shortly, and the operator should see why.
            log.error("no progress for %.0fs: withholding the watchdog ping", self.heartbeat.age())
            self._warned = True
        return False

    async def run(self) -> None:
        """Tick until cancelled."""
        while True:
            self.tick()
            await asyncio.sleep(self.timeout / 2)
