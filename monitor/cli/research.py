"""The researchers' commands: search, stats, serve, site (export --what lives with export in cmd_core)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from dsns.errors import DsnsError, UsageError
from dsns.extras import require
from monitor.cli.options import EXIT_OK, add_config, iso_date

if TYPE_CHECKING:
    from monitor.app import App

__all__ = ["add_parsers"]


def add_parsers(commands: argparse._SubParsersAction) -> None:
    """Register `search`, `stats`, `serve` and `site`."""
    search = commands.add_parser(
        "search", help="full-text search of the archive, across word forms",
        description="Find posts by words in any inflected form (Балаклія finds 'по Балаклії'). Words are "
                    'ANDed; OR separates alternatives; "quoted words" must be adjacent; -word excludes; '
                    "word* is a plain prefix.",
    )
    add_config(search, db=True)
    search.add_argument("query", metavar="QUERY", help='e.g. \'Балаклія пожежа\', \'"ракетний удар" -навчання\'')
    search.add_argument("--region", metavar="R", help="UA-63, Харківщина, kharkiv region, Ізюмський район, a settlement; includes places inside it")
    search.add_argument("--since", type=iso_date, metavar="DATE", help="only posts published at or after DATE")
    search.add_argument("--until", type=iso_date, metavar="DATE", help="only posts published before DATE")
    search.add_argument("--strikes", action="store_true", help="only posts detected as strike reports")
    search.add_argument("--format", choices=["table", "jsonl"], default="table", help="output (default: %(default)s)")
    search.add_argument("--limit", type=_positive, default=50, metavar="N", help="at most N posts, newest first (default: %(default)s)")
    page = search.add_mutually_exclusive_group()
    page.add_argument("--page", type=_positive, default=1, metavar="P", help="the P-th page of --limit posts (default: 1)")
    page.add_argument("--after", type=_cursor, metavar="CURSOR", help="the page after the post with this cursor "
                      "(printed after each page, and in each JSON line); stays right as new posts arrive")
    search.set_defaults(handler=_search, needs="app", reads_only=True)

    stats = commands.add_parser(
        "stats", help="strike counts by oblast, day or weapon",
        description="Count strike stories (with killed and injured) by oblast, Kyiv day or weapon; optionally chart strikes per day by oblast.",
    )
    add_config(stats, db=True)
    stats.add_argument("--since", type=iso_date, metavar="DATE", help="only strikes at or after DATE")
    stats.add_argument("--until", type=iso_date, metavar="DATE", help="only strikes before DATE")
    stats.add_argument("--by", choices=["oblast", "day", "weapon"], default="oblast", help="group by (default: %(default)s)")
    stats.add_argument("--plot", metavar="FILE.png", help="also write a PNG chart of strikes per day by oblast")
    stats.add_argument("--size", type=_plot_size, default=(1600, 900), metavar="WxH", help="the chart's size in pixels (default: 1600x900)")
    stats.set_defaults(handler=_stats, needs="app", reads_only=True)

    serve = commands.add_parser(
        "serve", help="browse the archive in Datasette on 127.0.0.1 (read-only)",
        description="Serve the archive read-only in Datasette with metadata, full-text search, facets, "
                    "canned queries and a map of strike events. Ctrl-C or SIGTERM stops it.",
    )
    add_config(serve, db=True)
    serve.add_argument("--port", type=_port, default=8001, metavar="N", help="port on 127.0.0.1 (default: %(default)s)")
    serve.set_defaults(handler=_serve, needs="app", reads_only=True)

    site = commands.add_parser(
        "site", help="render the public static site: map, oblast and story pages, Atom feeds, open data",
        description="Render the archive's strike stories as a static site (Ukrainian and English pages, a "
                    "map, Atom feeds, events.csv/.geojson, stories.json) into a folder any web server serves. "
                    "Files are replaced atomically and only when they change.",
    )
    add_config(site, db=True)
    site.add_argument("--out", metavar="DIR", type=Path, help="the folder to write (default: [site] out)")
    site.set_defaults(handler=_site, needs="app", reads_only=True)


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number: {value!r}")
    return number


def _cursor(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a search cursor: {value!r}") from None


def _plot_size(value: str) -> tuple[int, int]:
    width, _, height = value.lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {value!r} (e.g. 1600x900)") from None
    if not (400 <= size[0] <= 10_000 and 300 <= size[1] <= 10_000):
        raise argparse.ArgumentTypeError(f"{value}: width 400-10000 and height 300-10000 pixels")
    return size


def _port(value: str) -> int:
    number = _positive(value)
    if number > 65535:
        raise argparse.ArgumentTypeError(f"not a port: {value!r}")
    return number


async def _search(args: argparse.Namespace, app: App) -> int:
    from research.commands import run_search

    await run_search(args, app.db)
    return EXIT_OK


async def _stats(args: argparse.Namespace, app: App) -> int:
    from research.commands import run_stats

    await run_stats(args, app.db)
    return EXIT_OK


async def _site(args: argparse.Namespace, app: App) -> int:
    require("jinja2", "research", "`site`")
    from research.site import Site

    out = args.out or app.config.site.out
    if out is None:
        raise UsageError("name the folder to write: --out DIR, or [site] out in the config")
    if out.exists() and not out.is_dir():
        raise DsnsError(f"{out}: not a folder")
    report = await Site(app.db, app.config, out).render_all()
    print(
        f"site: {report.stories} strike stories, {report.written} files written, {report.unchanged} unchanged, "
        f"{report.without_coordinates} events without coordinates left out of events.geojson, "
        f"in {report.seconds:.1f} s -> {out}", file=sys.stderr,
    )
    return EXIT_OK


async def _serve(args: argparse.Namespace, app: App) -> int:
    from dsns.extras import require

    require("datasette", "research", "`serve`")
    from research.serve import run_serve

    await run_serve(app.db, Path(app.config.storage.database), args.port)
    return EXIT_OK
