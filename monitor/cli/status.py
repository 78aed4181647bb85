"""`status`: what /healthz would say, read from the archive without the daemon's help."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from monitor.cli.options import EXIT_FAILURE, EXIT_OK, add_config
from storage.timeutil import from_db, to_db

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = ["add_parsers", "status_report"]

# Without a daemon start to count from, a source that never succeeded has failed since forever.
_NO_START = datetime(1970, 1, 1, tzinfo=UTC)
_STYLE = {"ok": "green", "failing": "yellow", "down": "bold red", "degraded": "yellow", "unhealthy": "bold red"}


def add_parsers(commands: argparse._SubParsersAction) -> None:
    status = commands.add_parser(
        "status", help="each source's state, last post, next poll and failures; the outbox's depth",
        description=(
            "Read the archive (read-only; the daemon may be running) and show what /healthz reports: each "
            "enabled source's state, newest post, next poll and consecutive failures, and the alerts waiting "
            "in the outbox. Exit 1 when every source is down. The daemon's own faults (archive, descriptors) "
            "are on its /healthz."
        ),
    )
    add_config(status)
    status.add_argument("--json", action="store_true", help="print the report as JSON (the shape of /healthz)")
    status.set_defaults(handler=_status, needs="config")


async def status_report(config: Config) -> tuple[bool, dict[str, Any]]:
    """(healthy, /healthz's report plus each source's `last_post`), from the archive alone."""
    from monitor.ops.health import health_report
    from storage.database import Database
    from storage.sources import last_posts

    db = await Database.open(config.storage.database, read_only=True)
    try:
        healthy, report = await health_report(db, config, started_at=_NO_START)
        newest = await last_posts(db)
    finally:
        await db.close()
    intervals = {s.source_name: s.interval for s in config.sources}
    for name, source in report["sources"].items():
        source["last_post"] = to_db(newest.get(name))
        # The archive holds a next check only while a source backs off; otherwise it is due an
        # interval after the last one (give or take the scheduler's jitter).
        if source["next_check"] is None and source["last_checked"]:
            due = from_db(source["last_checked"]) + timedelta(seconds=intervals[name])  # type: ignore[operator]
            source["next_check"] = to_db(due)
    # The daemon's own figures (its start, heartbeat, faults) live in its process: ask /healthz.
    del report["started"], report["heartbeat_age"], report["faults"]
    return healthy, report


async def _status(args: argparse.Namespace, config: Config) -> int:
    healthy, report = await status_report(config)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print(report)
    return EXIT_OK if healthy else EXIT_FAILURE


def _print(report: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    status = report["status"]
    table = Table(title=f"dsns-monitor: [{_STYLE[status]}]{status}[/] at {_when(report['time'])} (times in UTC)")
    for column in ("source", "state", "last post", "last success", "next poll", "failures"):
        table.add_column(column, no_wrap=True)
    table.add_column("last error", overflow="fold")
    for name, s in report["sources"].items():
        table.add_row(
            name, f"[{_STYLE[s['status']]}]{s['status']}[/]", _when(s["last_post"]), _when(s["last_success"]),
            _when(s["next_check"]), str(s["consecutive_failures"]), s["last_error"] or "",
        )
    console.print(table)
    outbox = report["outbox"]
    wait = f", the oldest waiting {outbox['oldest_pending_seconds']:.0f} s" if outbox["pending"] else ""
    console.print(f"outbox: {outbox['pending']} alert(s) pending{wait}")
    if not report["sources"]:
        console.print("no source is enabled in the configuration")


def _when(value: str | None) -> str:
    return value.replace("T", " ").removesuffix("Z") if value else "-"
