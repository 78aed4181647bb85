"""The researchers' commands behind the CLI: search, export (posts, stories, events, photos), stats and plots."""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import date, datetime, timedelta
from json.encoder import encode_basestring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any, NoReturn, TextIO

from analysis.gazetteer import get_gazetteer
from analysis.places import find_places, labels, needs_choice, oblast_name
from dsns.errors import DsnsError, UsageError
from dsns.images import sniff_image
from research.events import (
    EVENT_KEYS,
    LineFormat,
    iter_event_lines,
    kyiv_date,
    oblast_label,
    strike_stats,
    strikes_per_day_by_oblast,
)
from research.query import QuerySyntaxError, parse_query, region_filter, search_posts
from storage.database import Database
from storage.export import POST_EXPORT_KEYS, iter_posts
from storage.media import photo_data
from storage.research import STORY_KEYS, iter_stories
from storage.timeutil import to_db

__all__ = [
    "run_search", "export_rows", "check_export", "run_stats", "write_rows", "csv_row", "csv_line", "csv_cell",
    "json_line", "line_format", "plot_strikes_per_day", "DELIMITERS",
]

log = logging.getLogger("dsns_monitor")


def namesake_list(query: str) -> str | None:
    """The places `query` may mean, one a line (label, oblast, code), when it names several
    and none clearly; None when it names one (or none)."""
    places = find_places(query)
    if not needs_choice(places):
        return None
    g = get_gazetteer()
    units = [g.unit(p.code) for p in places]
    return "\n".join(f"  {text} ({oblast_name(u.oblast, 'uk')})  {u.code}" for text, u in zip(labels(units), units, strict=True))


def _fail(message: str) -> NoReturn:
    raise UsageError(message)


async def run_search(args: argparse.Namespace, db: Database) -> None:
    """`dsns-monitor search`: matching posts as a rich table or JSON lines."""
    try:
        query = parse_query(args.query)
    except QuerySyntaxError as exc:
        _fail(f"bad query: {exc}")
    region = None
    if args.region:
        namesakes = namesake_list(args.region)
        if namesakes:
            _fail(f"{args.region!r} names several places; name one by its code or add its area "
                         f"(\"Іванівка, Чугуївський район\"):\n{namesakes}")
        found = region_filter(args.region)
        if found is None:
            _fail(f"unknown region {args.region!r} (try UA-63, Харківщина, Ізюмський район)")
        region, name = found
        print(f"region: {name} ({region.code})", file=sys.stderr)
    rows = search_posts(
        db, query, region=region, since=args.since, until=args.until,
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
        _fail(f"bad query: {exc}")
    if count == args.limit and last is not None:
        print(f"next page: --after {last}", file=sys.stderr)
    log.info("search found %d posts", count)


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
    from dsns.timezone import KYIV
    from storage.timeutil import from_db

    moment = from_db(value)
    return moment.astimezone(KYIV).strftime("%Y-%m-%d %H:%M") if moment else ""


# Cells Excel would run as a formula: posts are other people's text (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t"}
# A photo's file extension from the type its bytes show (collectors.media.sniff_image).
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp"}


def _csv_value(value: Any, excel: bool = False) -> Any:
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is list:
        value = "; ".join(v["name"] if isinstance(v, dict) else str(v) for v in value)
    elif kind is bool:
        return "true" if value else "false"
    elif value is None:
        return ""
    if excel and isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_row(row: dict[str, Any], keys: Sequence[str], excel: bool = False) -> list[Any]:
    """A row's CSV cells in `keys` order: lists joined by "; ", booleans as true/false, None as
    empty; with `excel`, text that would start a formula prefixed with an apostrophe."""
    return [_csv_value(row.get(k), excel) for k in keys]


def csv_line(row: dict[str, Any], keys: Sequence[str], excel: bool = False, delimiter: str = ",") -> str:
    """`csv_row` as one CSV line, exactly as `csv.writer` (the excel dialect, `delimiter`)
    writes it: a cell quoted when it holds the delimiter, a quote or a line break; CRLF.

    Several times faster than `csv.writer` on rows of long Cyrillic text (the writer copies each
    character in turn; this asks `str` whether the few that matter occur), which is most of an
    events export's time. tests/test_research_export.py checks it against `csv.writer`."""
    cell = csv_cell(excel, delimiter)
    line = delimiter.join([cell(row.get(k)) for k in keys])
    return f"{line}\r\n" if line or len(keys) != 1 else '""\r\n'  # the writer quotes a lone empty cell


@functools.cache
def csv_cell(excel: bool, delimiter: str) -> Callable[[Any], str]:
    """The text `csv_line` writes for a value (`_csv_value`, then quoted as the writer quotes)."""

    def cell(value: Any) -> str:
        kind = type(value)
        if kind is str:
            if excel and value.startswith(_FORMULA_START):
                value = "'" + value
        elif value is None:
            return ""
        elif kind is int:
            return str(value)
        else:
            if kind is not float:
                value = _csv_value(value, excel)
            if not isinstance(value, str):
                value = str(value)  # as the writer writes numbers and any other object
        if '"' in value:
            return '"' + value.replace('"', '""') + '"'
        if delimiter in value or "\n" in value or "\r" in value:
            return '"' + value + '"'
        return value

    return cell


# One encoder for every line: `json.dumps` with an option makes a new one per call.
_JSON = json.JSONEncoder(ensure_ascii=False)


def json_line(row: dict[str, Any], keys: Sequence[str]) -> str:
    """A row's `keys` as one JSON line (what `json.dumps(..., ensure_ascii=False)` writes)."""
    get = row.get
    return _JSON.encode({k: get(k) for k in keys}) + "\n"


def _json_column(key: str) -> Callable[[Any], str]:
    """The text `json_line` writes for a key and its value (`"key": value`)."""
    named = f"{encode_basestring(key)}: "

    def column(value: Any) -> str:
        kind = type(value)
        if kind is str:
            return named + encode_basestring(value)
        if kind is int:
            return named + int.__repr__(value)
        if kind is list and all(type(item) is str for item in value):
            return f"{named}[{', '.join(map(encode_basestring, value))}]"  # without making an encoder
        return named + ("null" if value is None else _JSON.encode(value))

    return column


def line_format(fmt: str, excel: bool = False, delimiter: str = ",") -> LineFormat:
    """Lines as `csv_line` or `json_line` writes them, for `research.events.iter_event_lines`."""
    if fmt == "csv":
        cell = csv_cell(excel, delimiter)
        return LineFormat(lambda _key: cell, delimiter, "", "\r\n")
    return LineFormat(_json_column, ", ", "{", "}\n")


def _csv_head(out: TextIO, keys: Sequence[str], excel: bool, delimiter: str) -> None:
    if excel:
        out.write("\ufeff")
    out.write(csv_line(dict(zip(keys, keys)), keys, delimiter=delimiter))


async def write_rows(
    rows: AsyncIterator[dict[str, Any]], keys: Sequence[str], fmt: str, out: TextIO,
    *, excel: bool = False, delimiter: str = ",",
) -> int:
    """Write dict rows as JSON lines or CSV (lists joined by "; "), each as it is read; returns
    how many. `excel`: CSV that Excel opens as it is (a UTF-8 byte order mark, which it needs to
    read Cyrillic; CRLF rows; cells starting like a formula prefixed with an apostrophe)."""
    write = out.write
    count = 0
    if fmt == "csv":
        _csv_head(out, keys, excel, delimiter)
        async for row in rows:
            write(csv_line(row, keys, excel, delimiter))
            count += 1
        return count
    async for row in rows:
        write(json_line(row, keys))
        count += 1
    return count


async def _write_event_lines(db: Database, args: argparse.Namespace, fmt: str, out: TextIO, delimiter: str) -> int:
    """The events as `write_rows` would write them, made a page of lines at a time by
    `iter_event_lines` (cheaper than making the rows and writing them)."""
    if fmt == "csv":
        _csv_head(out, EVENT_KEYS, args.excel, delimiter)
    count = 0
    pages = iter_event_lines(db, line_format(fmt, args.excel, delimiter), since=args.since, until=args.until)
    async for lines in pages:
        out.write("".join(lines))
        count += len(lines)
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
        return await _write_event_lines(db, args, fmt, out, delimiter)
    return await write_rows(rows, keys, fmt, out, excel=args.excel, delimiter=delimiter)


def check_export(args: argparse.Namespace) -> None:
    """Refuse what argparse cannot see in `export`'s options; makes the --photos folder (not
    its parents)."""
    if not args.photos:
        return
    if args.what != "posts":
        raise UsageError("--photos goes with --what posts")
    folder = Path(args.photos)
    try:
        folder.mkdir(exist_ok=True)
    except OSError as exc:
        raise DsnsError(f"{folder}: cannot make the photos folder: {exc.strerror}") from exc
    if not os.access(folder, os.W_OK):
        raise DsnsError(f"{folder}: not writable (for --photos)")


async def run_stats(args: argparse.Namespace, db: Database) -> None:
    """`dsns-monitor stats`: strike counts as a table, and optionally a chart."""
    from rich.console import Console
    from rich.table import Table

    rows = await strike_stats(db, args.by, since=args.since, until=args.until)
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
        days = await strikes_per_day_by_oblast(db, since=args.since, until=args.until)
        per_day = rows if args.by == "day" else await strike_stats(db, "day", since=args.since, until=args.until)
        totals = {k: sum(r[k] for r in per_day) for k in ("strikes", "killed", "injured")}
        plot_strikes_per_day(days, args.plot, size=args.size, totals=totals, since=args.since, until=args.until)
        print(f"chart written to {args.plot} ({args.size[0]}x{args.size[1]} px)", file=sys.stderr)


def _range_title(days: list[date], since: datetime | None, until: datetime | None) -> str:
    """The chart's Kyiv dates: the range asked for (--until is exclusive), else the data's."""
    first = date.fromisoformat(kyiv_date(to_db(since)) or "") if since else (days[0] if days else None)
    last = date.fromisoformat(kyiv_date(to_db(until - timedelta(seconds=1))) or "") if until else (days[-1] if days else None)
    if first is None or last is None:
        return "no strikes"
    return f"{first.isoformat()} – {last.isoformat()}" if first != last else first.isoformat()


def plot_strikes_per_day(
    days: dict[str, dict[str, int]], path: str, *, size: tuple[int, int] = (1600, 900),
    totals: dict[str, int] | None = None, since: datetime | None = None, until: datetime | None = None,
    top: int = 8,
) -> None:
    """A stacked bar chart of strike stories per Kyiv day, one colour per oblast (the `top`
    busiest; the rest grouped as "other" so the legend stays readable), `size` pixels, with
    the date range and totals in the title and the legend beside the plot, not over the bars."""
    import matplotlib

    matplotlib.use("Agg")  # headless: no display on a server
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    dated = {date.fromisoformat(d): per for d, per in days.items() if d != "?"}
    totals_by_oblast: dict[str, int] = {}
    for per in dated.values():
        for iso, n in per.items():
            totals_by_oblast[iso] = totals_by_oblast.get(iso, 0) + n
    leaders = sorted(totals_by_oblast, key=lambda iso: (-totals_by_oblast[iso], iso))[:top]
    series = leaders + (["other"] if len(totals_by_oblast) > top else [])
    labels = sorted(dated)
    dpi = 100
    fig, ax = plt.subplots(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi, layout="constrained")
    bottom = [0] * len(labels)
    for name in series:
        values = [
            sum(n for iso, n in dated[d].items() if iso not in leaders) if name == "other"
            else dated[d].get(name, 0) for d in labels
        ]
        label = f"{'other' if name == 'other' else oblast_label(name)} ({sum(values)})"
        ax.bar(labels, values, bottom=bottom, width=0.85, label=label)
        bottom = [b + v for b, v in zip(bottom, values)]
    title = f"Strikes per day by oblast (Kyiv days), {_range_title(labels, since, until)}"
    if totals is not None:
        title += (f"\n{totals['strikes']:,} strike stories, {totals['killed']:,} killed, "
                  f"{totals['injured']:,} injured (as DSNS and the configured feeds reported them)")
    ax.set_title(title)
    ax.set_ylabel("strike stories")
    ax.xaxis.set_major_locator(mdates.AutoDateLocator())
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.grid(axis="y", alpha=0.3)
    if series:
        fig.legend(loc="outside right upper", title="oblast (strikes)")
    fig.savefig(path, format="png", dpi=dpi)
    plt.close(fig)
