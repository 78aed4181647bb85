"""The `dsns-monitor` command: run, backfill, export, analyze.

Errors of our own (bad config, unreadable archive, a failing source) become one line on
stderr and an exit code; only bugs show a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from collectors.base import SourceError
from monitor.config import Config, ConfigError, load_config
from monitor.logs import setup_logging
from storage.errors import StorageError

__all__ = ["main"]

log = logging.getLogger("dsns_monitor")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def _date(value: str) -> datetime:
    """A date or date-time in ISO 8601; without a zone it is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date: {value!r} (e.g. 2025-07-01 or 2025-07-01T06:00)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", "-c", default="config.toml", metavar="PATH",
        help="TOML configuration file (default: %(default)s)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dsns-monitor",
        description="Watch DSNS Telegram channels and news feeds for Russian strikes: archive, detect, alert.",
    )
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="override [logging] level")
    parser.add_argument("--log-format", choices=["text", "json"], default="text", help="log lines as text (default) or JSON for journald/Loki")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the monitor until SIGTERM/SIGINT", description="Poll every source on its schedule into the archive until stopped.")
    _add_config(run)
    run.add_argument("--once", action="store_true", help="poll every source once, then exit (non-zero if all failed)")

    backfill = commands.add_parser("backfill", help="fetch a source's history into the archive", description="Page back through a channel's history (a feed has none: it is polled once).")
    _add_config(backfill)
    backfill.add_argument("--source", required=True, metavar="NAME", help="source name (a channel, or a feed's name)")
    backfill.add_argument("--since", type=_date, metavar="DATE", help="stop at posts older than this date")
    backfill.add_argument("--pages", type=int, default=50, metavar="N", help="at most N pages of about 20 posts (default: %(default)s)")

    export = commands.add_parser("export", help="write archived posts as JSON lines or CSV", description="Export archived posts, one per line (jsonl) or row (csv), to stdout or a file.")
    _add_config(export)
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="output format (default: %(default)s)")
    export.add_argument("--since", type=_date, metavar="DATE", help="only posts published at or after DATE")
    export.add_argument("--until", type=_date, metavar="DATE", help="only posts published before DATE")
    export.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")

    commands.add_parser(
        "analyze", help="analyse JSON lines from stdin",
        description='Read {"id", "text", "channel"?} JSON lines on stdin and write one analysis JSON line per input, in order.',
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "analyze":
            setup_logging(args.log_level or "WARNING", args.log_format)
            return _analyze(sys.stdin, sys.stdout)
        config = load_config(args.config)
        setup_logging(args.log_level or config.logging.level, args.log_format, config.secret_env_names())
        return asyncio.run(_dispatch(args, config))
    except ConfigError as exc:
        print(f"dsns-monitor: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StorageError as exc:
        print(f"dsns-monitor: archive error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except SourceError as exc:
        print(f"dsns-monitor: source error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


async def _dispatch(args: argparse.Namespace, config: Config) -> int:
    from monitor.app import open_app

    async with open_app(config) as app:
        if args.command == "run":
            return await _run(app, once=args.once)
        if args.command == "backfill":
            from monitor.backfill import backfill

            return await backfill(app, config.source(args.source), since=args.since, pages=args.pages)
        if args.command == "export":
            return await _export(app, args)
    raise AssertionError(args.command)


async def _run(app: Any, *, once: bool) -> int:
    from monitor.daemon import poll_all_once, run_daemon

    if once:
        outcomes = await poll_all_once(app)
        for outcome in outcomes:
            status = "ok" if outcome.ok else f"FAILED: {outcome.error}"
            print(f"{outcome.source}: new={outcome.new} edited={outcome.edited} {status}", file=sys.stderr)
        return EXIT_FAILURE if outcomes and not any(o.ok for o in outcomes) else EXIT_OK
    await run_daemon(app)
    return EXIT_OK


async def _export(app: Any, args: argparse.Namespace) -> int:
    from storage.export import POST_EXPORT_KEYS, iter_posts

    out: TextIO = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout
    try:
        writer = csv.DictWriter(out, fieldnames=POST_EXPORT_KEYS) if args.format == "csv" else None
        if writer:
            writer.writeheader()
        count = 0
        async for row in iter_posts(app.db, since=args.since, until=args.until):
            if writer:
                writer.writerow({**row, "photos": " ".join(row["photos"]), "edited": str(row["edited"]).lower()})
            else:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    finally:
        if args.output:
            out.close()
    log.info("exported %d posts", count)
    return EXIT_OK


def _analyze(stdin: TextIO, stdout: TextIO) -> int:
    from analysis.analyze import analyze

    for number, line in enumerate(stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise ValueError('each line must be an object with a "text" string')
        except ValueError as exc:
            result: dict[str, Any] = {"id": None, "error": f"line {number}: {exc}"}
        else:
            channel = item.get("channel") if isinstance(item.get("channel"), str) else None
            result = {"id": item.get("id"), **analyze(item["text"], channel=channel).to_json()}
        stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    stdout.flush()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
