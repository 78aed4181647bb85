"""The coverage commands: reparse, coverage."""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from dsns.errors import UsageError
from monitor.cli.options import EXIT_OK, add_config, iso_date
from storage.timeutil import utcnow

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Sequence

    from monitor.app import App
    from storage.coverage import CoverageDay

__all__ = ["add_parsers", "plot_coverage"]


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
    reparse.set_defaults(handler=_reparse, needs="app", exclusive=True)  # as backfill (monitor.cli.run)

    coverage = commands.add_parser(
        "coverage", help="per source per day: posts, edits, deletions, missing ids, fetches, polls, gaps, staleness",
        description="What the archive holds per source per UTC day: posts published, edits and deletions "
        "noticed, Telegram message ids missing between the day's posts (missed or never shown), pages "
        "or feed bodies fetched (kept ones, see [storage] payload_retention_days), polls and failed polls, "
        "minutes without a good poll (more than two poll intervals after the last good one) and hours the "
        "source was stale (silent for longer than /healthz allows). The poll log is kept as long as the "
        "payloads; days before it show no minutes.",
    )
    add_config(coverage)
    coverage.add_argument("--since", type=iso_date, metavar="DATE", help="only days from DATE on")
    coverage.add_argument("--format", choices=("table", "jsonl", "csv"), default="table", help="default: %(default)s")
    coverage.add_argument(
        "--plot", metavar="FILE.png",
        help="also write a heat map (sources x days: share of the day with a good poll, posts written in)",
    )
    coverage.add_argument(
        "--compare", action="store_true",
        help="instead of the days: posts of a channel read by both a telegram_web and a telegram_mtproto "
        "source that one of them read and the other did not",
    )
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
    from monitor.config import TelegramMTProtoSource, TelegramWebSource
    from storage.coverage import CoverageDay, Unmatched, coverage_days, unmatched_posts

    config = app.config
    pairs = [
        (m.stream, w.source_name, m.source_name) for m in config.sources if isinstance(m, TelegramMTProtoSource)
        for w in config.sources if isinstance(w, TelegramWebSource) and w.stream == m.stream
    ]
    if args.compare and not pairs:
        raise UsageError("--compare needs a channel read by both a telegram_web and a telegram_mtproto "
                         "source in the configuration")
    days = await coverage_days(
        app.db, since=args.since, stale_floor=config.health.stale_floor_hours * 3600,
        intervals={s.source_name: float(s.interval) for s in config.sources if s.enabled},
    )
    if args.plot and days:
        plot_coverage(days, args.plot)
        print(f"heat map written to {args.plot}", file=sys.stderr)
    elif args.plot:
        print(f"nothing to plot: {args.plot} not written", file=sys.stderr)
    if args.compare:
        await _write(await unmatched_posts(app.db, pairs, since=args.since), Unmatched, args.format)
    else:
        await _write(days, CoverageDay, args.format)
    return EXIT_OK


async def _write(rows: Sequence[Any], kind: type, fmt: str) -> None:
    """Dataclass rows as a table, JSON lines or CSV (the research commands' writer)."""
    keys = [f.name for f in dataclasses.fields(kind)]
    if fmt != "table":
        from research.commands import write_rows

        async def records() -> AsyncIterator[dict[str, Any]]:
            for row in rows:
                yield dataclasses.asdict(row)

        await write_rows(records(), keys, fmt, sys.stdout)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(*keys)
    for row in rows:
        table.add_row(*("–" if value is None else str(value) for value in dataclasses.astuple(row)))
    Console().print(table)


def plot_coverage(days: list[CoverageDay], path: str) -> None:
    """A heat map, sources x days: the share of each day with a good poll (grey where the poll
    log says nothing), the day's posts written in each cell; a gap shows as a red cell."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on a server
    import matplotlib.pyplot as plt

    today = utcnow().date()
    first = min((date.fromisoformat(d.day) for d in days), default=today)
    last = max([date.fromisoformat(d.day) for d in days] + [first])
    labels = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    sources = sorted({d.source for d in days})
    # NaN (no poll logged) is masked by imshow and drawn in the colour map's "bad" grey.
    share = [[math.nan] * len(labels) for _ in sources]
    posts = [[0] * len(labels) for _ in sources]
    column = {day: n for n, day in enumerate(labels)}
    now = utcnow()
    for d in days:
        row, col = sources.index(d.source), column[d.day]
        posts[row][col] = d.posts
        if d.minutes_without_good_poll is not None:
            elapsed = (now - now.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds() / 60
            minutes = elapsed if d.day == today.isoformat() else 1440.0
            share[row][col] = max(0.0, 1 - d.minutes_without_good_poll / max(minutes, 1.0))
    # At least 1200 px wide at 100 dpi, wider with many days so each cell keeps its number readable.
    fig, ax = plt.subplots(figsize=(max(12.0, 0.4 * len(labels) + 4), max(3.0, 0.5 * len(sources) + 2)), dpi=100)
    cmap = plt.get_cmap("RdYlGn").with_extremes(bad="#d0d0d0")
    image = ax.imshow(share, cmap=cmap, vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    for row in range(len(sources)):
        for col in range(len(labels)):
            if posts[row][col]:
                ax.text(col, row, str(posts[row][col]), ha="center", va="center", fontsize=7)
    ax.set_yticks(range(len(sources)), sources)
    step = max(1, len(labels) // 40)
    ax.set_xticks(range(0, len(labels), step), labels[::step], rotation=60, ha="right", fontsize=8)
    ax.set_title(f"Coverage per source per day, {labels[0]} to {labels[-1]} (UTC); numbers: posts; grey: no poll logged")
    fig.colorbar(image, ax=ax).set_label("share of the day with a good poll")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
