"""The daemon's side of the site: re-render after polls that changed stories, debounced, one
render at a time; each render's outcome goes to `on_result` (the daemon makes a failure a "site"
fault in /healthz until one succeeds)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from research.site.build import RenderReport, Site

__all__ = ["SiteWorker"]

log = logging.getLogger("dsns_monitor.site")

# Also re-render this often without being told: posts pushed by a live feed, or re-analysed,
# change stories outside a scheduled poll. When nothing changed it costs one query.
SWEEP_SECONDS = 300.0


class SiteWorker:
    """`poke()` after a poll that changed stories; `run(stop)` renders everything once, then
    what changed, `debounce` seconds after the last poke of a burst. `on_result` hears of every
    render: a one-line error when it failed, None when it succeeded."""

    def __init__(
        self, site: Site, debounce: float, sweep: float = SWEEP_SECONDS,
        on_result: Callable[[str | None], None] = lambda _error: None,
    ) -> None:
        self.site = site
        self.debounce = debounce
        self.sweep = sweep
        self.on_result = on_result
        self._poked = asyncio.Event()

    def poke(self) -> None:
        self._poked.set()

    async def run(self, stop: asyncio.Event) -> None:
        await self._render(self.site.render_all)
        while not stop.is_set():
            await _first(self._poked.wait(), stop.wait(), timeout=self.sweep)
            # Polls of many sources finish close together: wait for a quiet moment, then render once.
            while self._poked.is_set() and not stop.is_set():
                self._poked.clear()
                await _first(self._poked.wait(), stop.wait(), timeout=self.debounce)
            if not stop.is_set():
                await self._render(self.site.render_changes)

    async def _render(self, how: Callable[[], Awaitable[RenderReport]]) -> RenderReport | None:
        try:
            report = await how()
        except Exception as exc:
            # The archive and the alerts go on; the site is retried at the next change or sweep.
            log.exception("site: render failed")
            self.on_result(f"site render failed ({type(exc).__name__}: {exc})")
            return None
        self.on_result(None)
        if report.stories or report.written:
            log.info(
                "site: %d stories rendered, %d files written in %.1f s", report.stories, report.written, report.seconds,
                extra={"stories": report.stories, "written": report.written},
            )
        return report


async def _first(*waits: Coroutine[Any, Any, Any], timeout: float) -> None:
    """Wait until the first of `waits` (coroutines) finishes, or `timeout` seconds."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
