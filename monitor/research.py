"""The researchers' commands behind the CLI: search, export (posts, stories, events, photos), stats and plots."""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from collectors.media import sniff_image
from monitor.app import App
from monitor.cli_support import EXIT_OK, EXIT_USAGE
from storage.database import Database
from storage.export import POST_EXPORT_KEYS, iter_posts, photo_data
from storage.research import (
    EVENT_KEYS,
    STORY_KEYS,
    iter_events,
    iter_stories,
    oblast_label,
    strike_stats,
    strikes_per_day_by_oblast,
)
from storage.search import QuerySyntaxError, parse_query, region_filter, search_posts

__all__ = ["run_search", "export_rows", "check_export", "run_stats", "write_rows", "plot_strikes_per_day", "DELIMITERS"]

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


# Cells Excel would run as a formula: posts are other people's text (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t"}
# A photo's file extension from the type its bytes show (collectors.media.sniff_image).
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


def _csv_value(value: Any, excel: bool = False) -> Any:
    if isinstance(value, list):
        value = "; ".join(v["name"] if isinstance(v, dict) else str(v) for v in value)
    elif isinstance(value, bool):
        return str(value).lower()
    elif value is None:
        return ""
    if excel and isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


async def write_rows(
    rows: AsyncIterator[dict[str, Any]], keys: Sequence[str], fmt: str, out: TextIO,
    *, excel: bool = False, delimiter: str = ",",
) -> int:
    """Write dict rows as JSON lines or CSV (lists joined by "; "), each as it is read; returns
    how many. `excel`: CSV that Excel opens as it is (a UTF-8 byte order mark, which it needs to
    read Cyrillic; CRLF rows; cells starting like a formula prefixed with an apostrophe)."""
    writer = None
    if fmt == "csv":
        if excel:
            out.write("\ufeff")
        writer = csv.writer(out, delimiter=delimiter)
        writer.writerow(keys)
    count = 0
    async for row in rows:
        if writer:
            writer.writerow([_csv_value(row.get(k), excel) for k in keys])
        else:
            out.write(json.dumps({k: row.get(k) for k in keys}, ensure_ascii=False) + "\n")
        count += 1
    return count


class PhotoFiles:
    """Writes each photo a row shows once, as `<sha256>.<ext>` in a folder, and names the files
    for the row as the output sees them (relative to the output file's folder when there is one)."""

    def __init__(self, db: Database, folder: Path, output: str | None) -> None:
        self.db, self.folder = db, folder
        base = Path(output).resolve().parent if output else None
        self.prefix = Path(os.path.relpath(folder.resolve(), base)) if base else folder
        self._names: dict[str, str] = {}
        self.written = 0

    async def name(self, sha256: str) -> str | None:
        if sha256 not in self._names:
            found = await photo_data(self.db, sha256)
            if found is None:
                return None
            mime, data = found
            name = f"{sha256}.{_EXTENSIONS.get(sniff_image(data) or mime, 'bin')}"
            target = self.folder / name
            if not target.exists():  # content-addressed: a file already there is this photo
                partial = target.with_suffix(".partial")
                partial.write_bytes(data)
                partial.replace(target)
                self.written += 1
            self._names[sha256] = name
        return str(self.prefix / self._names[sha256])

    async def add(self, rows: AsyncIterator[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
        async for row in rows:
            names = [await self.name(sha) for sha in row["photos"]]
            yield {**row, "photo_files": [n for n in names if n is not None]}


async def export_rows(args: argparse.Namespace, db: Database, out: TextIO) -> int:
    """`dsns-monitor export` into `out`: posts, stories or events; returns the number of rows."""
    fmt = "csv" if args.excel else args.format
    delimiter = DELIMITERS[args.delimiter]
    if args.what == "posts":
        keys: Sequence[str] = POST_EXPORT_KEYS
        rows = iter_posts(db, since=args.since, until=args.until)
        if args.photos:
            photos = PhotoFiles(db, Path(args.photos), args.output)
            keys = (*keys, "photo_files")
            count = await write_rows(photos.add(rows), keys, fmt, out, excel=args.excel, delimiter=delimiter)
            print(f"{photos.written} photos written to {args.photos}", file=sys.stderr)
            return count
        return await write_rows(rows, keys, fmt, out, excel=args.excel, delimiter=delimiter)
    if args.what == "stories":
        rows, keys = iter_stories(db, since=args.since, until=args.until), STORY_KEYS
    else:
        rows, keys = iter_events(db, since=args.since, until=args.until), EVENT_KEYS
    return await write_rows(rows, keys, fmt, out, excel=args.excel, delimiter=delimiter)


def check_export(args: argparse.Namespace) -> str | None:
    """What is wrong with `export`'s options beyond argparse, as a one-line message, or None;
    makes the --photos folder (not its parents)."""
    if not args.photos:
        return None
    if args.what != "posts":
        return "--photos goes with --what posts"
    folder = Path(args.photos)
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        return f"{folder}: cannot make the photos folder: {exc.strerror}"
    if not os.access(folder, os.W_OK):
        return f"{folder}: not writable (for --photos)"
    return None


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
        days = await strikes_per_day_by_oblast(app.db, since=args.since, until=args.until)
        plot_strikes_per_day(days, args.plot)
        print(f"chart written to {args.plot}", file=sys.stderr)
    return EXIT_OK


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
