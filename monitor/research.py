"""The researchers' commands behind the CLI: search, export of stories/events, stats and plots."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from typing import Any, TextIO

from monitor.app import App
from monitor.cli_support import EXIT_OK, EXIT_USAGE
from storage.database import Database
from storage.research import (
    EVENT_KEYS, STORY_KEYS, iter_events, iter_stories, kyiv_date, oblast_label, strike_stats,
)
from storage.search import QuerySyntaxError, parse_query, region_filter, search_posts

__all__ = ["run_search", "export_research", "run_stats", "write_rows", "csv_row", "plot_strikes_per_day"]

log = logging.getLogger("dsns_monitor")


def _fail(message: str) -> int:
    print(f"dsns-monitor: {message}", file=sys.stderr)
    return EXIT_USAGE


async def run_search(args: argparse.Namespace, app: App) -> int:
    """`dsns-monitor search`: matching posts as a rich table or JSON lines."""
    try:
        query = parse_query(args.query)
    except QuerySyntaxError as exc:
        return _fail(f"bad query: {exc}")
    region = None
    if args.region:
        found = region_filter(args.region)
        if found is None:
            return _fail(f"unknown region {args.region!r} (try UA-63, Харківщина, Ізюмський район)")
        region, name = found
        print(f"region: {name} ({region.code})", file=sys.stderr)
    rows = search_posts(
        app.db, query, region=region, since=args.since, until=args.until,
        strikes=args.strikes, limit=args.limit, after=args.after, skip=(args.page - 1) * args.limit,
    )
    last = None
    try:
        if args.format == "jsonl":
            count = 0
            async for row in rows:
                sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
                last = row["cursor"]
        else:
            found = [row async for row in rows]
            count = await _print_table(found)
            last = found[-1]["cursor"] if found else None
    except QuerySyntaxError as exc:
        return _fail(f"bad query: {exc}")
    if count == args.limit and last is not None:
        print(f"next page: --after {last}", file=sys.stderr)
    log.info("search found %d posts", count)
    return EXIT_OK


async def _print_table(rows: list[dict[str, Any]]) -> int:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(rows)} posts", show_lines=True)
    for column in ("published (Kyiv)", "source", "strike", "oblasts", "text", "url"):
        table.add_column(column, overflow="fold")
    for row in rows:
        text = " ".join(row["text"].split())
        table.add_row(
            _kyiv_time(row["published_at"]), row["source"],
            {True: "yes", False: "no", None: "?"}[row["is_strike"]],
            ", ".join(row["oblasts"]), text[:200] + ("…" if len(text) > 200 else ""), row["url"] or "",
        )
    Console(soft_wrap=False).print(table)
    return len(rows)


def _kyiv_time(value: str | None) -> str:
    from storage.research import KYIV
    from storage.timeutil import from_db

    moment = from_db(value)
    return moment.astimezone(KYIV).strftime("%Y-%m-%d %H:%M") if moment else ""


def _csv_value(value: Any) -> Any:
    if isinstance(value, list):
        return "; ".join(v["name"] if isinstance(v, dict) else str(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else value


def csv_row(row: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """A row's CSV cells: lists joined by "; ", booleans as true/false, None as empty."""
    return {k: _csv_value(row.get(k)) for k in keys}


async def write_rows(rows: AsyncIterator[dict[str, Any]], keys: Sequence[str], fmt: str, out: TextIO) -> int:
    """Write dict rows as JSON lines or CSV (lists joined by "; "); returns how many."""
    writer = csv.DictWriter(out, fieldnames=list(keys), extrasaction="ignore") if fmt == "csv" else None
    if writer:
        writer.writeheader()
    count = 0
    async for row in rows:
        if writer:
            writer.writerow(csv_row(row, keys))
        else:
            out.write(json.dumps({k: row.get(k) for k in keys}, ensure_ascii=False) + "\n")
        count += 1
    return count


async def export_research(args: argparse.Namespace, db: Database, out: TextIO) -> int:
    """`export --what stories|events` into `out`; returns the number of rows."""
    if args.what == "stories":
        return await write_rows(iter_stories(db, since=args.since, until=args.until), STORY_KEYS, args.format, out)
    return await write_rows(iter_events(db, since=args.since, until=args.until), EVENT_KEYS, args.format, out)


async def run_stats(args: argparse.Namespace, app: App) -> int:
    """`dsns-monitor stats`: strike counts as a table, and optionally a chart."""
    from rich.console import Console
    from rich.table import Table

    rows = await strike_stats(app.db, args.by, since=args.since, until=args.until)
    table = Table(title=f"Strike stories by {args.by}")
    for column in (args.by, "strikes", "killed", "injured"):
        table.add_column(column, justify="left" if column == args.by else "right")
    for row in rows:
        label = row[args.by]
        if args.by == "oblast":
            label = f"{oblast_label(label)} ({label})"
        table.add_row(label, str(row["strikes"]), str(row["killed"]), str(row["injured"]))
    Console().print(table)
    if args.plot:
        days = await _strikes_per_day_by_oblast(app.db, args)
        plot_strikes_per_day(days, args.plot)
        print(f"chart written to {args.plot}", file=sys.stderr)
    return EXIT_OK


async def _strikes_per_day_by_oblast(db: Database, args: argparse.Namespace) -> dict[str, dict[str, int]]:
    days: dict[str, dict[str, int]] = {}
    async for story in iter_stories(db, since=args.since, until=args.until, strikes_only=True):
        day = kyiv_date(story["event_at"]) or "?"
        for iso in story["oblasts"] or ["?"]:
            per = days.setdefault(day, {})
            per[iso] = per.get(iso, 0) + 1
    return days


def plot_strikes_per_day(days: dict[str, dict[str, int]], path: str, top: int = 8) -> None:
    """A stacked bar chart of strike stories per Kyiv day, one colour per oblast (the `top`
    busiest; the rest grouped as "other" so the legend stays readable)."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on a server
    import matplotlib.pyplot as plt

    totals: dict[str, int] = {}
    for per in days.values():
        for iso, n in per.items():
            totals[iso] = totals.get(iso, 0) + n
    leaders = sorted(totals, key=lambda iso: -totals[iso])[:top]
    series = leaders + (["other"] if len(totals) > top else [])
    labels = sorted(days)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.35 * len(labels) + 3), 4.5))
    bottom = [0] * len(labels)
    for name in series:
        values = [
            sum(n for iso, n in days[d].items() if iso not in leaders) if name == "other"
            else days[d].get(name, 0) for d in labels
        ]
        ax.bar(labels, values, bottom=bottom, label=oblast_label(name) if name != "other" else "other")
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_title("Strikes per day by oblast (DSNS reports)")
    ax.set_ylabel("strike stories")
    ax.tick_params(axis="x", labelrotation=60)
    if series:
        ax.legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
