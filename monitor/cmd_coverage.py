"""The coverage commands: reparse."""

from __future__ import annotations

import argparse

from monitor.app import App
from monitor.cli_support import EXIT_OK, add_config, iso_date

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


async def _reparse(args: argparse.Namespace, app: App) -> int:
    from monitor.reparse import reparse

    summary = await reparse(app, source=args.source, since=args.since, until=args.until)
    print(
        f"{summary.payloads} payloads read ({summary.unreadable} still unreadable): posts {summary.new} new, "
        f"{summary.changed} changed, {summary.unchanged} unchanged"
    )
    return EXIT_OK
