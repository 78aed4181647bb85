"""`dsns-monitor serve`: the archive in Datasette on 127.0.0.1, read-only.

Two databases are served: the archive itself (opened by Datasette with `mode=ro`, so it never
writes and still shows what the running daemon adds), and `research`, a snapshot built at start
with the ACLED-shaped `events` (latitude/longitude for datasette-cluster-map) and flat `stories`,
which need the gazetteer (Python) and so cannot be SQL views.

The bot's tables (chat ids, the towns subscribers watch) are in the same file, so hiding them
in Datasette's pages is not enough: every connection Datasette opens gets a SQLite authorizer
that refuses to read them, which stops custom SQL too while keeping it for everything else,
and the archive stays live (a copy without those tables would cost a full read of the file at
every start and go stale). Requests naming any host but localhost are refused, so a web page
the researcher visits cannot reach the server through a rebound DNS name. Datasette runs in
this process under uvicorn, so nothing outlives a killed `serve`; SIGINT/SIGTERM stop it and
remove the snapshot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import socket
import sqlite3
import sys
import tempfile
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import uvicorn
from datasette import hookimpl
from datasette.app import Datasette
from datasette.database import Database as DatasetteDatabase
from datasette.plugins import pm
from datasette.utils import escape_fts

from dsns.errors import DsnsError
from monitor.app import App
from monitor.cli_support import EXIT_OK
from storage.database import Database
from storage.research import EVENT_KEYS, STORY_KEYS, iter_events, iter_stories
from storage.search import QuerySyntaxError, fts_expression

__all__ = ["build_research_db", "build_metadata", "run_serve", "PRIVATE_TABLES", "local_hosts_only", "authorize"]

# Subscribers' chat ids and the alert queue are nobody's research material.
PRIVATE_TABLES = ("chats", "subscriptions", "outbox", "bot_state")
# What no query may read: the private tables, and the virtual tables that show the file's pages.
_UNREADABLE = frozenset({*PRIVATE_TABLES, "dbstat", "sqlite_dbpage"})
_LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")
_PLUGIN_NAME = "dsns-monitor-private"
_REPO_NOTICE = Path(__file__).resolve().parent.parent / "NOTICE"
_JSON_COLUMNS = ("oblasts", "places", "weapons", "sources", "post_urls")


def _cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    return value


async def build_research_db(db: Database, path: Path) -> tuple[int, int]:
    """Write the `events` and `stories` tables to a new SQLite file; returns their row counts."""
    conn = sqlite3.connect(path)
    try:
        event_cols = (*EVENT_KEYS, "oblast")
        conn.execute(f"CREATE TABLE events ({', '.join(event_cols)}, PRIMARY KEY (story_id))")
        conn.execute(f"CREATE TABLE stories ({', '.join(STORY_KEYS)}, PRIMARY KEY (id))")
        events = 0
        async for event in iter_events(db):
            # The ISO code alongside ACLED's English admin1, for the region canned query.
            row = [_cell(event[k]) for k in EVENT_KEYS] + [event["oblast"]]
            conn.execute(f"INSERT INTO events VALUES ({', '.join('?' * len(row))})", row)
            events += 1
        stories = 0
        async for story in iter_stories(db):
            row = [_cell(story[k]) for k in STORY_KEYS]
            conn.execute(f"INSERT INTO stories VALUES ({', '.join('?' * len(row))})", row)
            stories += 1
        conn.execute("CREATE INDEX events_date ON events (event_date)")
        conn.commit()
    finally:
        conn.close()
    return events, stories


def _attribution() -> str:
    try:
        return _REPO_NOTICE.read_text(encoding="utf-8").strip()
    except OSError:
        return "Gazetteer: КАТОТТГ (Мінрозвитку); © OpenStreetMap contributors, ODbL 1.0; OCHA COD-AB, CC BY-IGO 3.0."


def build_metadata(archive_name: str) -> dict[str, Any]:
    """Datasette metadata: titles, sources, licences, FTS, facets and canned queries."""
    hidden = {t: {"hidden": True, "allow": False} for t in PRIVATE_TABLES}
    return {
        "title": "DSNS strike archive",
        "description": "Posts of Ukraine's State Emergency Service (ДСНС) on Telegram and news feeds, "
                       "archived by dsns-monitor, with detected Russian strikes grouped into stories.",
        "source": "ДСНС України (Telegram channels) and configured news feeds",
        "source_url": "https://t.me/s/dsns_telegram",
        "license": "Posts: © their publishers, quoted for research. Gazetteer: ODbL 1.0 / CC BY-IGO 3.0 (see about)",
        "license_url": "https://opendatacommons.org/licenses/odbl/1-0/",
        "about": "Attribution (NOTICE)",
        "about_url": "https://www.openstreetmap.org/copyright",
        "description_html": "<pre style='white-space:pre-wrap'>" + _html(_attribution()) + "</pre>",
        "plugins": {"datasette-cluster-map": {"latitude_column": "latitude", "longitude_column": "longitude"}},
        "databases": {
            archive_name: {
                "description": "The live archive, read-only. The posts search box finds every form of a "
                               "word, as `dsns-monitor search` does: 'Балаклія' finds 'по Балаклії'; "
                               '"quoted words" are adjacent, -word excludes, OR, word* is a prefix.',
                "tables": {
                    "posts": {
                        "description": "One row per post (latest text); earlier wording in post_versions.",
                        "fts_table": "posts_words", "fts_pk": "search_key", "sort_desc": "published_at",
                        "facets": ["stream", "edited"],
                    },
                    "analyses": {"description": "Detection per post: strike or not, weapons, places (JSON).",
                                 "facets": [{"array": "oblasts"}, {"array": "weapons"}, "is_strike"]},
                    "stories": {"description": "One real event across posts, with its best figures.",
                                "facets": [{"array": "oblasts"}, {"array": "weapons"}, "is_strike"]},
                    "stories_view": {"description": "Stories with their first post's source, URL and text.",
                                     "facets": [{"array": "oblasts"}, {"array": "weapons"}, "is_strike"]},
                    "media": {"description": "Photos, stored once by SHA-256."},
                    **hidden,
                },
            },
            "research": {
                "description": "A snapshot built when `serve` started: ACLED-shaped events and flat stories.",
                "tables": {
                    "events": {
                        "description": "One row per strike story in ACLED's columns; coordinates from the gazetteer.",
                        "facets": ["admin1", "sub_event_type", {"array": "weapons"}, "geo_precision"],
                        "sort_desc": "event_date",
                    },
                    "stories": {"facets": [{"array": "oblasts"}, {"array": "weapons"}, "is_strike"]},
                },
                "queries": {
                    "strikes_in_region": {
                        "title": "Strikes in a region",
                        "description": "Strike events whose oblast (UA-63 or Kharkiv), raion, hromada or place matches.",
                        "sql": "SELECT event_date, admin1, admin2, admin3, location, sub_event_type, fatalities, "
                               "injured, notes, post_urls FROM events WHERE :region <> '' AND ("
                               "oblast = upper(:region) OR admin1 LIKE :region OR admin2 LIKE :region "
                               "OR admin3 LIKE :region OR location LIKE :region) ORDER BY event_date DESC",
                    },
                    "casualties_by_month": {
                        "title": "Casualties by month",
                        "sql": "SELECT substr(event_date, 1, 7) AS month, count(*) AS strikes, "
                               "sum(fatalities) AS killed, sum(injured) AS injured, "
                               "sum(children_killed) AS children_killed, sum(children_injured) AS children_injured "
                               "FROM events GROUP BY month ORDER BY month",
                    },
                },
            },
        },
    }


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def authorize(action: int, name: str | None, _column: str | None, _db: str | None, _trigger: str | None) -> int:
    """SQLite authorizer: no statement reads a private table (directly, through a view or by
    count(*), which SQLite reports as a read of the table) or attaches another file."""
    if action == sqlite3.SQLITE_READ and name is not None and name.lower() in _UNREADABLE:
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_ATTACH:
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def local_hosts_only(app: ASGIApp, port: int) -> ASGIApp:
    """Answer only requests whose Host is this server by a loopback name (DNS rebinding guard)."""
    allowed = {f"{name}:{port}".encode() for name in _LOCAL_NAMES}
    if port == 80:
        allowed |= {name.encode() for name in _LOCAL_NAMES}

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = next((value for key, value in scope["headers"] if key == b"host"), b"")
            if host.lower() not in allowed:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                body = b"This server answers only to http://127.0.0.1 or http://localhost.\n"
                await send({"type": "http.response.start", "status": 421, "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                ]})
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return guarded


class _PublicArchive(DatasetteDatabase):
    """The archive as Datasette sees it: without the bot's tables. The authorizer refuses their
    rows to any query; this keeps Datasette from counting them for its pages or linking a post
    or story to the alerts about it (which would fail)."""

    async def table_names(self) -> list[str]:
        return [name for name in await super().table_names() if name not in PRIVATE_TABLES]

    async def get_all_foreign_keys(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        keys: dict[str, dict[str, list[dict[str, Any]]]] = await super().get_all_foreign_keys()
        return {
            table: {way: [fk for fk in fks if fk["other_table"] not in PRIVATE_TABLES] for way, fks in links.items()}
            for table, links in keys.items() if table not in PRIVATE_TABLES
        }


def _search_expression(text: str) -> str:
    """The `posts_words` MATCH expression for a search box text, expanded to word forms as the
    CLI does; a text the query language rejects is searched as plain quoted words."""
    try:
        return fts_expression(text)
    except QuerySyntaxError:
        return escape_fts(text)


class _Guard:
    """The Datasette plugin that keeps the bot's data in: the authorizer and the Host check."""

    __name__ = _PLUGIN_NAME  # Datasette lists plugins by module name; this one lives in code

    def __init__(self, port: int) -> None:
        self.port = port

    @hookimpl(trylast=True)  # after Datasette's own, so its `escape_fts` is replaced by ours
    def prepare_connection(self, conn: sqlite3.Connection) -> None:
        conn.set_authorizer(authorize)
        # The search box sends its text through escape_fts: make it the CLI's query language.
        conn.create_function("escape_fts", 1, _search_expression, deterministic=True)

    @hookimpl
    def asgi_wrapper(self) -> Callable[[ASGIApp], ASGIApp]:
        return lambda app: local_hosts_only(app, self.port)


async def run_serve(args: argparse.Namespace, app: App) -> int:
    """Build the snapshot, serve Datasette on 127.0.0.1 in this process until SIGINT/SIGTERM."""
    archive = Path(app.config.storage.database)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", args.port))
    except OSError as exc:
        listener.close()
        raise DsnsError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror}") from exc
    loop = asyncio.get_running_loop()
    # uvicorn stops on SIGINT/SIGTERM, then raises the signal again for the handler that was
    # there before it: ours, which only makes sure the process then exits with our status.
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: None)
    pm.register(_Guard(args.port), name=_PLUGIN_NAME)
    try:
        with tempfile.TemporaryDirectory(prefix="dsns-serve-") as tmp:
            research = Path(tmp) / "research.db"
            events, stories = await build_research_db(app.db, research)
            datasette = Datasette(
                immutables=[str(research)], metadata=build_metadata(archive.stem),
                settings={"sql_time_limit_ms": 5000, "facet_time_limit_ms": 1000},
            )
            datasette.add_database(_PublicArchive(datasette, path=str(archive)), name=archive.stem)
            server = uvicorn.Server(uvicorn.Config(
                datasette.app(), lifespan="on", log_config=None, access_log=False, log_level="warning",
            ))
            print(f"serving {archive.name} ({events} events, {stories} stories) on http://127.0.0.1:{args.port}/ "
                  "- Ctrl-C stops", file=sys.stderr, flush=True)
            await server.serve(sockets=[listener])
            return EXIT_OK
    finally:
        pm.unregister(name=_PLUGIN_NAME)
        listener.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
