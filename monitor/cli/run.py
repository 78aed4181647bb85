"""The core commands: run, backfill, export, analyze."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from monitor.cli.options import EXIT_FAILURE, EXIT_OK, add_config, iso_date

if TYPE_CHECKING:
    from collections.abc import Iterator

    from monitor.app import App

__all__ = ["add_parsers"]

log = logging.getLogger("dsns_monitor")


def add_parsers(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser("run", help="run the monitor until SIGTERM/SIGINT", description="Poll every source on its schedule into the archive (and run the bot when its token is set) until stopped. SIGHUP re-reads the config's telegram_web and rss sources (added, removed, changed) without a restart.")
    add_config(run)
    run.add_argument("--once", action="store_true", help="poll every source once, then exit (non-zero if all failed)")
    run.set_defaults(handler=_run, needs="app", exclusive=True)  # one daemon per archive

    backfill = commands.add_parser("backfill", help="fetch a source's history into the archive", description="Page back through a channel's history (a feed has none: it is polled once).")
    add_config(backfill)
    backfill.add_argument("--source", required=True, metavar="NAME", help="source name (a channel, or a feed's name)")
    backfill.add_argument("--since", type=iso_date, metavar="DATE", help="stop at posts older than this date")
    backfill.add_argument("--pages", type=int, default=50, metavar="N", help="at most N pages of about 20 posts (default: %(default)s)")
    # Like `run`, the archive to itself: another writer's stories are unseen by the running
    # daemon's story index, so one strike would become two stories (and two alerts).
    backfill.set_defaults(handler=_backfill, needs="app", exclusive=True)

    export = commands.add_parser("export", help="write archived posts, stories or events as JSON lines or CSV", description="Export archived posts, stories (one row per event) or ACLED-shaped strike events, one per line (jsonl) or row (csv), to stdout or a file.")
    add_config(export, db=True)
    export.add_argument("--what", choices=["posts", "stories", "events"], default="posts", help="posts, stories, or strike events in ACLED's columns (default: %(default)s)")
    export.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="output format (default: %(default)s)")
    export.add_argument("--since", type=iso_date, metavar="DATE", help="only posts published at or after DATE")
    export.add_argument("--until", type=iso_date, metavar="DATE", help="only posts published before DATE")
    export.add_argument("--output", "-o", metavar="FILE", help="write here instead of stdout")
    export.add_argument("--excel", action="store_true", help="CSV that Excel opens as it is: UTF-8 with a byte order mark (implies --format csv)")
    export.add_argument("--delimiter", choices=["comma", "semicolon", "tab"], default="comma", help="CSV delimiter; Excel in a comma-decimal locale (Ukrainian, most of Europe) splits on semicolon (default: %(default)s)")
    export.add_argument("--photos", metavar="DIR", help="with --what posts: write each post's photos into DIR as <sha256>.<ext>, named in the rows' photo_files")
    export.set_defaults(handler=_export, needs="app", reads_only=True)

    reanalyze = commands.add_parser(
        "reanalyze", help="redo detection over the archive after an upgrade",
        description="Re-run detection on every post analysed by an older analyzer (or all with --all) and refresh the stories' figures. Alerts are not re-sent.",
    )
    add_config(reanalyze)
    reanalyze.add_argument("--all", action="store_true", help="re-analyse every post, not only stale ones")
    reanalyze.set_defaults(handler=_reanalyze, needs="app", exclusive=True)  # as backfill

    analyze = commands.add_parser(
        "analyze", help="analyse JSON lines from stdin",
        description='Read {"id", "text", "channel"?} JSON lines on stdin and write one analysis JSON line per input, in order.',
    )
    analyze.set_defaults(handler=lambda args: _analyze(sys.stdin, sys.stdout), needs="none")


async def _reanalyze(args: argparse.Namespace, app: App) -> int:
    from monitor.reanalyze import reanalyze

    await reanalyze(app, everything=args.all)
    return EXIT_OK


async def _backfill(args: argparse.Namespace, app: App) -> int:
    from monitor.backfill import backfill
    from monitor.live import check_installed

    check_installed(app.config)

    return await backfill(app, app.config.source(args.source), since=args.since, pages=args.pages)


async def _run(args: argparse.Namespace, app: App) -> int:
    from monitor.daemon import poll_all_once, run_daemon
    from monitor.live import check_installed

    check_installed(app.config)
    if args.once:
        outcomes = await poll_all_once(app)
        for outcome in outcomes:
            status = "ok" if outcome.ok else f"FAILED: {outcome.error}"
            print(f"{outcome.source}: new={outcome.new} edited={outcome.edited} {status}", file=sys.stderr)
        return EXIT_FAILURE if outcomes and not any(o.ok for o in outcomes) else EXIT_OK
    await run_daemon(app, config_path=Path(args.config))
    return EXIT_OK


async def _export(args: argparse.Namespace, app: App) -> int:
    from research.commands import check_export, export_rows

    check_export(args)
    out: TextIO = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout
    try:
        count = await export_rows(args, app.db, out)
    finally:
        if args.output:
            out.close()
    log.info("exported %d %s", count, args.what)
    return EXIT_OK


_ANALYZE_FLUSH = 1_000


def _analyze(stdin: TextIO, stdout: TextIO) -> int:
    from collections import deque

    from analysis.analyze import analyze_stream

    read: deque[tuple[int, Any]] = deque()  # lines read and not yet written, in order

    def posts() -> Iterator[tuple[str, str | None]]:
        for number, line in enumerate(stdin, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                    raise ValueError('each line must be an object with a "text" string')
            except ValueError as exc:
                read.append((number, exc))
            else:
                read.append((number, item))
                yield item["text"], item["channel"] if isinstance(item.get("channel"), str) else None

    def write_errors() -> None:
        while read and isinstance(read[0][1], ValueError):
            number, exc = read.popleft()
            stdout.write(json.dumps({"id": None, "error": f"line {number}: {exc}"}, ensure_ascii=False) + "\n")

    # A long input is shared among the cores (analyze_stream forks for 1,000 posts or more), its
    # lines read and written while the workers analyse; written in order, flushed as they go.
    for done, analysis in enumerate(analyze_stream(posts()), start=1):
        write_errors()
        number, item = read.popleft()
        if isinstance(analysis, Exception):
            out: dict[str, Any] = {"id": item.get("id"), "error": f"line {number}: analysis failed: {analysis}"}
        else:
            out = {"id": item.get("id"), **analysis.to_json()}
        stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        if done % _ANALYZE_FLUSH == 0:
            stdout.flush()
    write_errors()
    stdout.flush()
    return EXIT_OK
