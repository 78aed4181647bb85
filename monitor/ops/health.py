"""`GET /healthz` and `GET /metrics` on a tiny asyncio HTTP server inside the daemon.

No web framework: two read-only GET routes, `Connection: close`, bounded request size and
time, so a stray client (or a port scanner) costs nothing and cannot stall the monitor.

/healthz answers 200 with one JSON object per source, the outbox's depth and oldest wait, the bot's
state (last good getUpdates, unusable broadcast channels), and the process's faults (`monitor.ops.faults`):
status "ok", or "degraded" while a source fails or is stale (silent for longer than 4 times its
usual gap between posts, and `[health] stale_floor_hours`) or a component reports a fault; 503 "unhealthy"
when every enabled source has been failing for longer than `[health] unhealthy_after`, the
scheduler stopped beating, or a component reports a critical fault.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from dsns.redact import redact
from monitor.config import Config, ConfigError, listen_address
from monitor.ops import faults, metrics
from storage.database import Database
from storage.errors import StorageError
from storage.outbox import Backlog, outbox_backlog
from storage.sources import list_sources, silences
from storage.timeutil import to_db, utcnow

__all__ = ["HealthServer", "health_report"]

log = logging.getLogger("dsns_monitor.health")

MAX_REQUEST_BYTES = 8192
REQUEST_TIMEOUT = 5.0
# The heartbeat job runs every few seconds; minutes without one means the scheduler is dead.
HEARTBEAT_STALE = 120.0


async def health_report(
    db: Database, config: Config, *, started_at: datetime, heartbeat_age: float | None = None
) -> tuple[bool, dict[str, Any]]:
    """(healthy, report). A source is down when it failed its last poll and has had no success
    for `unhealthy_after` seconds (counted from the daemon's start when it never succeeded)."""
    now = utcnow()
    threshold = config.health.unhealthy_after
    enabled = [s.source_name for s in config.sources if s.enabled]
    rows = {s.name: s for s in await list_sources(db)}
    quiet = await silences(db)
    floor = config.health.stale_floor_hours * 3600
    sources: dict[str, Any] = {}
    down = 0
    for name in enabled:
        state = rows.get(name)
        last_ok = state.last_success_at if state else None
        since = max(last_ok, started_at) if last_ok else started_at
        failing_for = (now - since).total_seconds()
        failures = state.error_count if state else 0
        is_down = failures > 0 and failing_for > threshold
        down += is_down
        silence = quiet.get(name)
        stale = silence is not None and silence.is_stale(now, floor)
        sources[name] = {
            "status": "down" if is_down else ("failing" if failures else ("stale" if stale else "ok")),
            # "layout" when the last failure was a body that parsed unlike the source's posts.
            "kind": state.error_kind if state and failures else None,
            "last_success": to_db(last_ok),
            "last_error": redact(state.last_error) if state and state.last_error else None,
            "last_checked": to_db(state.checked_at) if state else None,
            "consecutive_failures": failures,
            "lag_seconds": round((now - last_ok).total_seconds(), 1) if last_ok else None,
            "next_check": to_db(state.next_check_at) if state else None,
            "last_post": to_db(silence.last_post_at) if silence else None,
            "usual_gap_seconds": round(silence.usual_gap, 1) if silence and silence.usual_gap is not None else None,
        }
    backlog = await outbox_backlog(db)
    stale = heartbeat_age is not None and heartbeat_age > HEARTBEAT_STALE
    problems = faults.active()
    healthy = not stale and not (enabled and down == len(enabled)) and not any(f.critical for f in problems)
    degraded = bool(problems) or any(s["status"] != "ok" for s in sources.values())
    report = {
        "status": ("degraded" if degraded else "ok") if healthy else "unhealthy",
        "time": to_db(now),
        "started": to_db(started_at),
        "unhealthy_after": threshold,
        "heartbeat_age": round(heartbeat_age, 1) if heartbeat_age is not None else None,
        "sources": sources,
        "outbox": {"pending": backlog.pending, "oldest_pending_seconds": round(backlog.oldest_wait(now), 1)},
        "bot": _bot_section(backlog, now, problems),
        "faults": faults.as_json(),
    }
    return healthy, report


def _bot_section(backlog: Backlog, now: datetime, problems: list[faults.Fault]) -> dict[str, Any]:
    """The bot's side: its last good getUpdates, the alerts waiting, and its faults ("bot" while
    the Bot API has failed for longer than `[bot] degraded_after`, "channel:@name" per unusable
    broadcast channel)."""
    polled = faults.last_beat("bot_getupdates")
    return {
        "last_getupdates_ok": to_db(polled),
        "outbox_pending": backlog.pending,
        "oldest_pending_alert_seconds": round(backlog.oldest_wait(now), 1),
        "failing": next((f.message for f in problems if f.component == "bot"), None),
        "channels": {f.component.removeprefix("channel:"): f.message for f in problems
                     if f.component.startswith("channel:")},
    }


class HealthServer:
    """Serves /healthz and /metrics on `[health] listen` until `close()`."""

    def __init__(
        self, db: Database, config: Config, *, heartbeat_age: Callable[[], float] | None = None
    ) -> None:
        self.db = db
        self.config = config
        self.started_at = utcnow()
        self._heartbeat_age = heartbeat_age
        self.request_timeout = REQUEST_TIMEOUT
        self._server: asyncio.AbstractServer | None = None
        self.port: int | None = None

    async def start(self) -> None:
        """Bind and listen; a busy or bad address is a ConfigError naming `[health] listen`."""
        host, port = listen_address(self.config.health.listen)
        try:
            self._server = await asyncio.start_server(self._client, host, port, limit=MAX_REQUEST_BYTES)
        except OSError as exc:
            raise ConfigError(f"[health] listen = {self.config.health.listen!r}: cannot listen: {exc}") from exc
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("health and metrics on http://%s:%d/healthz and /metrics", host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, ctype, body = await asyncio.wait_for(self._respond(reader), self.request_timeout)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, ConnectionError):
            status, ctype, body = 400, "text/plain; charset=utf-8", b"bad request\n"
        except Exception:  # a bug here must not kill the daemon, only this answer
            log.exception("health request failed")
            status, ctype, body = 500, "text/plain; charset=utf-8", b"internal error\n"
        reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
                  500: "Internal Server Error", 503: "Service Unavailable"}[status]
        head = (
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        )
        try:
            writer.write(head.encode() + body)
            await asyncio.wait_for(writer.drain(), self.request_timeout)
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _respond(self, reader: asyncio.StreamReader) -> tuple[int, str, bytes]:
        request_line = (await reader.readuntil(b"\r\n")).decode("latin-1").split()
        while (await reader.readuntil(b"\r\n")) != b"\r\n":
            pass  # headers are not needed; readuntil's limit bounds each line
        if len(request_line) != 3:
            raise ValueError("malformed request line")
        method, target = request_line[0], request_line[1].split("?", 1)[0]
        if method not in ("GET", "HEAD"):
            return 405, "text/plain; charset=utf-8", b"only GET\n"
        if target == "/healthz":
            try:
                healthy, report = await health_report(
                    self.db, self.config, started_at=self.started_at,
                    heartbeat_age=self._heartbeat_age() if self._heartbeat_age else None,
                )
            except StorageError as exc:
                healthy, report = False, {"status": "unhealthy", "error": str(exc)}
            body = json.dumps(report, ensure_ascii=False, indent=2).encode() + b"\n"
            return (200 if healthy else 503), "application/json", body
        if target == "/metrics":
            try:
                await metrics.refresh_from_archive(
                    self.db, [s.source_name for s in self.config.sources],
                    stale_floor=self.config.health.stale_floor_hours * 3600,
                )
            except StorageError as exc:
                log.warning("metrics: archive unreadable", extra={"error": str(exc)})
            return 200, "text/plain; version=0.0.4; charset=utf-8", metrics.render()
        return 404, "text/plain; charset=utf-8", b"try /healthz or /metrics\n"
