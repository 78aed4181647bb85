"""The daemon's watch on what it runs on: the archive file and the process's file descriptors.

"archive" (critical: nothing is archived or alerted while writes fail): a write refused by the
file or the disk (full, I/O error, file gone; storage tells `ArchiveHealth` through
`Database.watch`) until a commit lands again, and damage found by `PRAGMA quick_check`, run at
start and daily, until a check finds none.

"descriptors": the process's open descriptors at 90 % of RLIMIT_NOFILE or more (counted every
few seconds in /proc/self/fd), or EMFILE/ENFILE seen anywhere: in a poll's error chain or in
the event loop (a server's accept() that failed for want of a descriptor). It clears at the
first check with room to spare and no EMFILE since the previous one.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import resource
import time
from typing import Any

from monitor.ops import faults
from storage.database import Database

__all__ = ["ArchiveHealth", "Descriptors", "descriptor_use", "note_error", "runs_out_of_descriptors"]

log = logging.getLogger("dsns_monitor.resources")

DESCRIPTOR_SHARE = 0.9
_OUT_OF_DESCRIPTORS = (errno.EMFILE, errno.ENFILE)


class ArchiveHealth:
    """The "archive" fault: write failures (from storage) and quick_check findings."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._write_error: str | None = None
        self._damage: str | None = None
        self._reported = False
        self.checked_at: float | None = None  # time.monotonic() of the last quick_check's end

    def write_failed(self, message: str) -> None:
        if self._write_error is None:
            log.error("archive writes fail: %s", message)
        self._write_error = message
        self._publish()

    def write_recovered(self) -> None:
        log.warning("archive writes work again")
        self._write_error = None
        self._publish()

    async def check_integrity(self) -> bool:
        """Run quick_check (O(size): on its own connection, off the event loop); True when sound."""
        started = time.monotonic()
        problems = await self.db.quick_check()
        took = time.monotonic() - started
        if problems:
            self._damage = f"{self.db.path}: quick_check found damage: {'; '.join(problems[:3])}"
            log.critical("%s (restore from a backup)", self._damage, extra={"seconds": round(took, 1)})
        else:
            self._damage = None
            log.info("archive quick_check ok in %.1fs", took)
        self.checked_at = time.monotonic()
        self._publish()
        return not problems

    def _publish(self) -> None:
        problems = [p for p in (self._damage, self._write_error) if p]
        if problems:
            faults.report("archive", " | ".join(problems), critical=True)
            self._reported = True
        elif self._reported:
            faults.clear("archive")
            self._reported = False


def descriptor_use() -> tuple[int, int] | None:
    """(open, soft limit) for this process; None where /proc or a finite limit is missing."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        used = len(os.listdir("/proc/self/fd"))
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno in _OUT_OF_DESCRIPTORS:  # not even one left to list them with
            return soft, soft
        raise
    return used, soft


def runs_out_of_descriptors(exc: BaseException) -> bool:
    """Whether EMFILE/ENFILE is anywhere in `exc`'s chain (httpx and our errors wrap it)."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _OUT_OF_DESCRIPTORS:
            return True
        stack += [current.__cause__, current.__context__]
    return False


# When EMFILE was last seen (time.monotonic()): process-wide, as descriptors are.
_last_exhausted: float | None = None


def note_error(exc: BaseException, where: str) -> bool:
    """Report the "descriptors" fault if `exc` is a lack of descriptors; True when it was."""
    global _last_exhausted
    if not runs_out_of_descriptors(exc):
        return False
    _last_exhausted = time.monotonic()
    faults.report("descriptors", f"out of file descriptors ({where}): {exc}", critical=True)
    return True


class Descriptors:
    """The periodic side of the "descriptors" fault, and the event loop's hook into it."""

    def __init__(self, every: float, share: float = DESCRIPTOR_SHARE) -> None:
        self.every = every
        self.share = share
        self._previous_handler: Any = None

    def check(self) -> None:
        """Report when the open descriptors near the limit; clear once there is room again and
        no EMFILE was seen since the previous check."""
        use = descriptor_use()
        if use is not None and use[0] >= self.share * use[1]:
            faults.report("descriptors", f"{use[0]} of {use[1]} file descriptors open (RLIMIT_NOFILE)")
            return
        recent = _last_exhausted is not None and time.monotonic() - _last_exhausted < self.every
        if not recent and "descriptors" in faults.as_json():
            faults.clear("descriptors")

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """See EMFILE in errors the event loop handles itself (asyncio's accept loop)."""
        previous = self._previous_handler = loop.get_exception_handler()

        def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            exc = context.get("exception")
            if isinstance(exc, BaseException):
                note_error(exc, str(context.get("message", "event loop")))
            if previous is not None:
                previous(loop, context)
            else:
                loop.default_exception_handler(context)

        loop.set_exception_handler(handler)

    def uninstall(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.set_exception_handler(self._previous_handler)
