"""The coverage commands: reparse, coverage."""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import sys
from typing import TYPE_CHECKING

from monitor.cli_support import EXIT_OK, add_config, iso_date

if TYPE_CHECKING:
    from monitor.app import App

__all__ = ["add_parsers"]


def add_parsers(commands: argparse._SubParsersAction) -> None:
    reparse = commands.add_parser(
        "reparse", help="read the stored pages and feeds again with today's parser",
        description="Parse the t.me pages and feed bodies the daemon kept (see [storage] payload_retention_days) "
        "with this version's parsers and store what they hold: new posts, edits as versions, analyses and stories "
        "refreshed. No alert is sent for a post older than [bot] alert_max_age.",
    )
    add_config(reparse)
    reparse.add_argument("--source", metavar="NAME", help="only this source's payloads")
    reparse.add_argument("--since", type=iso_date, metavar="DATE", help="only payloads fetched at or after DATE")
    reparse.add_argument("--until", type=iso_date, metavar="DATE", help="only payloads fetched before DATE")
    reparse.set_defaults(handler=_reparse, needs="app")

    coverage = commands.add_parser(
        "coverage", help="per source per day: posts, edits, deletions, missing ids, fetches",
        description="What the archive holds per source per UTC day: posts published, edits and deletions "
        "noticed, Telegram message ids missing between the day's posts (missed or never shown), and pages "
        "or feed bodies fetched (kept ones, see [storage] payload_retention_days).",
    )
    add_config(coverage)
    coverage.add_argument("--since", type=iso_date, metavar="DATE", help="only days from DATE on")
    coverage.add_argument("--format", choices=("table", "jsonl", "csv"), default="table", help="default: %(default)s")
    coverage.set_defaults(handler=_coverage, needs="app", reads_only=True)


async def _reparse(args: argparse.Namespace, app: App) -> int:
    from monitor.reparse import reparse

    summary = await reparse(app, source=args.source, since=args.since, until=args.until)
    print(
        f"{summary.payloads} payloads read ({summary.unreadable} still unreadable): posts {summary.new} new, "
        f"{summary.changed} changed, {summary.unchanged} unchanged"
    )
    return EXIT_OK


async def _coverage(args: argparse.Namespace, app: App) -> int:
    from storage.coverage import CoverageDay, coverage_days

    days = await coverage_days(app.db, since=args.since)
    keys = [f.name for f in dataclasses.fields(CoverageDay)]
    if args.format == "jsonl":
        for day in days:
            print(json.dumps(dataclasses.asdict(day), ensure_ascii=False))
    elif args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=keys)
        writer.writeheader()
        writer.writerows(dataclasses.asdict(day) for day in days)
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(*keys)
        for day in days:
            table.add_row(*("–" if value is None else str(value) for value in dataclasses.astuple(day)))
        Console().print(table)
    return EXIT_OK
