"""Admins are told when a source goes wrong, and when it is right again.

What a source's trouble is comes from `/healthz`'s own report (`monitor.ops.health.health_report`):
"layout" (the canary fired), "down" (failing for longer than `[health] unhealthy_after`) or
"stale" (silent for longer than its cadence allows). What the admins were last told is kept in
`bot_state`, so a restart neither repeats an alarm nor forgets a recovery. A source is told
about at most once per `min_interval` (an hour): a change within the hour waits, and is told
then if it still holds, so a flapping source costs one message an hour, never a flood.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from monitor.config import Config
from monitor.ops.health import health_report
from storage.bot_state import get_value, set_value
from storage.database import Database
from storage.timeutil import from_db, to_db, utcnow

__all__ = ["SourceWatch", "CHECK_EVERY"]

log = logging.getLogger("dsns_monitor.watch")

CHECK_EVERY = 60.0
_KEY = "watch:"


def _trouble(report: dict[str, Any]) -> str | None:
    """The source's trouble worth telling, "ok", or None while it is only briefly failing
    (no news either way)."""
    if report["kind"] == "layout":
        return "layout"
    if report["status"] in ("down", "stale", "ok"):
        return report["status"]
    return None


def _text(name: str, trouble: str, report: dict[str, Any]) -> str:
    shown = html.escape(name)
    error = html.escape((report.get("last_error") or "")[:300])
    if trouble == "layout":
        return (f"⚠️ {shown}: the layout changed? {error}\nIts pages are kept: after a parser fix, "
                "<code>dsns-monitor reparse</code> recovers the posts.")
    if trouble == "down":
        return f"⚠️ {shown} has been failing for {report['consecutive_failures']} polls: {error}"
    if trouble == "stale":
        gap = report.get("usual_gap_seconds") or 0
        return f"⚠️ {shown} is silent since {report['last_post']} (it usually posts every {gap / 60:.0f} min)."
    return f"✅ {shown} is back to normal."


class SourceWatch:
    """`check()` compares each source with what the admins were told and sends what changed."""

    def __init__(
        self, db: Database, config: Config, send: Callable[[str], Awaitable[None]], *,
        min_interval: float = 3600.0,
    ) -> None:
        self.db = db
        self.config = config
        self.send = send
        self.min_interval = timedelta(seconds=min_interval)
        self.started_at = utcnow()

    async def check(self) -> int:
        """Tell the admins of each source whose trouble changed; returns the messages sent."""
        _, report = await health_report(self.db, self.config, started_at=self.started_at)
        now = utcnow()
        sent = 0
        for name, source in report["sources"].items():
            trouble = _trouble(source)
            if trouble is None:
                continue
            stored = await get_value(self.db, _KEY + name)
            told = json.loads(stored) if stored else {"told": "ok", "at": None}
            if trouble == told["told"]:
                continue
            last = from_db(told["at"])
            if last is not None and now - last < self.min_interval:
                continue  # told within the hour: this change waits
            await self.send(_text(name, trouble, source))
            async with self.db.write() as conn:
                await set_value(conn, _KEY + name, json.dumps({"told": trouble, "at": to_db(now)}))
            log.info("admins told", extra={"source": name, "trouble": trouble})
            sent += 1
        return sent

    async def run(self, stop: asyncio.Event, every: float = CHECK_EVERY) -> None:
        while not stop.is_set():
            try:
                await self.check()
            except Exception:  # a failed check must not stop the bot; the next one retries
                log.exception("source watch failed")
            try:
                await asyncio.wait_for(stop.wait(), every)
            except TimeoutError:
                pass
