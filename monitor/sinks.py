"""Where new and edited posts go after they are stored and analysed.

The bot plugs in here later; until then (and when no token is set) the log is the sink.
"""

from __future__ import annotations

import logging
from typing import Protocol

from analysis.model import Analysis
from storage.posts import Change

__all__ = ["AlertSink", "LogSink"]

log = logging.getLogger("dsns_monitor.alerts")


class AlertSink(Protocol):
    async def publish(self, change: Change, analysis: Analysis) -> None: ...


class LogSink:
    """Logs one line per new or edited post."""

    async def publish(self, change: Change, analysis: Analysis) -> None:
        post = change.post
        first_line = (post.title or post.text).strip().splitlines()[0:1]
        log.info("%s post: %s", change.kind, first_line[0][:120] if first_line else "", extra={
            "post": f"{post.stream}/{post.external_id}", "strike": analysis.is_strike,
            "oblasts": ",".join(analysis.oblasts) or "-", "killed": analysis.killed, "injured": analysis.injured,
        })
