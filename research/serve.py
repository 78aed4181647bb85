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

What a researcher reads first: the home page lists the archive (the licences are a link, to
/-/licences); the posts table leads with date, source, text and link; `posts_view` and
`stories_view` (storage/schema.py) name oblasts and places as text; photos show as thumbnails
served from the archive by hash at /-/photo/<sha256>, each fetched only when the browser shows
it (datasette-render-images would inline every photo's bytes into the page as a data URI, and
only for columns that hold the bytes, which the posts views do not).
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import sqlite3
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from datasette import hookimpl
from datasette.app import Datasette
from datasette.database import Database as DatasetteDatabase
from datasette.plugins import pm
from datasette.utils import escape_fts
from datasette.utils.asgi import Request, Response
from markupsafe import Markup, escape

from dsns.errors import DsnsError
from research.events import EVENT_KEYS, iter_events, oblast_label
from research.query import QuerySyntaxError, fts_expression
from storage.database import Database
from storage.media import photo
from storage.research import STORY_KEYS, iter_stories
from storage.snapshot import SNAPSHOT_QUERIES, Snapshot

__all__ = [
    "build_research_db", "build_metadata", "build_datasette", "guarded", "run_serve", "PRIVATE_TABLES",
    "local_hosts_only", "authorize",
]

# Subscribers' chat ids and the alert queue are nobody's research material.
PRIVATE_TABLES = ("chats", "subscriptions", "outbox", "bot_state")
# What no query may read: the private tables, and the virtual tables that show the file's pages.
_UNREADABLE = frozenset({*PRIVATE_TABLES, "dbstat", "sqlite_dbpage"})
_LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")
_PLUGIN_NAME = "dsns-monitor-private"
_REPO_NOTICE = Path(__file__).resolve().parent.parent / "NOTICE"
# The posts table's columns a reader wants first; the others follow in the table's order.
POSTS_FIRST = ("id", "published_at", "stream", "title", "text", "url", "story_id", "edited", "views")
# Columns holding photo hashes (space-separated in the views), shown as thumbnails.
_PHOTO_COLUMNS = {("posts_view", "photos"), ("post_media", "sha256")}
_SHA256 = re.compile(r"[0-9a-f]{64}")
# Only what the photo downloader stores (collectors.media.sniff_image): never served as HTML or SVG.
_PHOTO_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def _cell(value: Any) -> Any:
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    return value


# The snapshot's stories: oblasts and places as text right after the figures' key columns.
_SNAPSHOT_STORY_KEYS = (*STORY_KEYS[:5], "oblast_names", "place_names", *STORY_KEYS[5:])


async def build_research_db(db: Database, path: Path) -> tuple[int, int]:
    """Write the `events` and `stories` tables to a new SQLite file; returns their row counts."""
    event_cols = (*EVENT_KEYS, "oblast")
    events = stories = 0
    with Snapshot(path) as snapshot:
        snapshot.create("events", event_cols, key="story_id")
        snapshot.create("stories", _SNAPSHOT_STORY_KEYS, key="id")
        async for event in iter_events(db):
            # The ISO code alongside ACLED's English admin1, for the region canned query.
            snapshot.add("events", [_cell(event[k]) for k in EVENT_KEYS] + [event["oblast"]])
            events += 1
        async for story in iter_stories(db):
            named = {"oblast_names": ", ".join(map(oblast_label, story["oblasts"])) or None,
                     "place_names": ", ".join(p["name"] for p in story["places"]) or None}
            snapshot.add("stories", [_cell(story[k] if k in story else named[k]) for k in _SNAPSHOT_STORY_KEYS])
            stories += 1
        snapshot.index("events", "event_date")
    return events, stories


LICENCES_PATH = "/-/licences"


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
                       "archived by dsns-monitor, with detected Russian strikes grouped into stories. "
                       "Start with posts_view (each post with its analysis and photos) or stories_view.",
        "source": "ДСНС України (Telegram channels) and configured news feeds",
        "source_url": "https://t.me/s/dsns_telegram",
        "license": "Posts: © their publishers, quoted for research. Gazetteer: ODbL 1.0 / CC BY-IGO 3.0",
        "license_url": "https://opendatacommons.org/licenses/odbl/1-0/",
        "about": "Licences and attribution",
        "about_url": LICENCES_PATH,
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
                    "posts_view": {
                        "description": "Each post with its analysis (strike, oblasts and places by name, "
                                       "weapons, killed, injured), its story and its photos.",
                        "sort_desc": "published_at",
                    },
                    "analyses": {"description": "Detection per post: strike or not, weapons, places (JSON).",
                                 "facets": [{"array": "oblasts"}, {"array": "weapons"}, "is_strike"]},
                    "stories": {"description": "One real event across posts, with its best figures.",
                                "facets": [{"array": "oblasts"}, {"array": "weapons"}, "is_strike"]},
                    "stories_view": {"description": "Stories with oblasts and places by name, and their "
                                                    "first post's source, URL and text.",
                                     "facets": [{"array": "oblasts"}, {"array": "weapons"}, "is_strike"]},
                    "media": {"description": "Photos, stored once by SHA-256."},
                    "oblast_names": {"description": "ISO 3166-2 codes of Ukraine's oblasts and their names."},
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
                "queries": SNAPSHOT_QUERIES,
            },
        },
    }


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

    async def table_columns(self, table: str) -> list[str]:
        columns: list[str] = await super().table_columns(table)
        if table != "posts":
            return columns
        # Datasette selects (and shows) the columns in this order.
        first = [c for c in POSTS_FIRST if c in columns]
        return first + [c for c in columns if c not in first]

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


def _thumbnails(hashes: str) -> Markup:
    """Thumbnails of the photos with these hashes, each a link to the full photo."""
    links = [
        f'<a href="/-/photo/{sha}"><img src="/-/photo/{sha}" loading="lazy" alt="photo {sha[:12]}" '
        'style="max-width:160px;max-height:120px;margin:2px"></a>'
        for sha in hashes.split() if _SHA256.fullmatch(sha)
    ]
    return Markup("".join(links))


class _Guard:
    """The Datasette plugin of `serve`: the authorizer and the Host check that keep the bot's data
    in, the licences page, and the photos served by hash and shown as thumbnails."""

    __name__ = _PLUGIN_NAME  # Datasette lists plugins by module name; this one lives in code

    def __init__(self, port: int, archive: str) -> None:
        self.port, self.archive = port, archive

    @hookimpl(trylast=True)  # after Datasette's own, so its `escape_fts` is replaced by ours
    def prepare_connection(self, conn: sqlite3.Connection) -> None:
        conn.set_authorizer(authorize)
        # The search box sends its text through escape_fts: make it the CLI's query language.
        conn.create_function("escape_fts", 1, _search_expression, deterministic=True)

    @hookimpl
    def asgi_wrapper(self) -> Callable[[ASGIApp], ASGIApp]:
        return lambda app: local_hosts_only(app, self.port)

    @hookimpl
    def register_routes(self) -> list[tuple[str, Callable[..., Awaitable[Response]]]]:
        return [(r"^/-/photo/(?P<sha256>[0-9a-f]{64})$", self._photo), (f"^{LICENCES_PATH}$", self._licences)]

    @hookimpl
    def render_cell(self, row: Any, value: Any, column: str, table: str | None, database: str) -> Markup | None:
        if database != self.archive:
            return None
        if (table, column) in _PHOTO_COLUMNS and isinstance(value, str) and value:
            return _thumbnails(value)
        if (table, column) == ("media", "data"):  # the bytes, shown (their hash is the row's key)
            return _thumbnails(row["sha256"])
        return None

    async def _photo(self, request: Request, datasette: Datasette) -> Response:
        sha256 = request.url_vars["sha256"]
        found = await datasette.get_database(self.archive).execute_fn(lambda conn: photo(conn, sha256))
        if found is None or found[0] not in _PHOTO_TYPES:
            return Response.text("no such photo\n", status=404)
        mime, data = found
        return Response(data, content_type=mime, headers={
            "Cache-Control": "public, max-age=31536000, immutable",  # named by its content
            "X-Content-Type-Options": "nosniff",
        })

    async def _licences(self, request: Request, datasette: Datasette) -> Response:
        return Response.html(
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Licences and attribution</title></head>"
            "<body><p><a href='/'>&larr; the archive</a></p><h1>Licences and attribution</h1>"
            f"<pre style='white-space:pre-wrap'>{escape(_attribution())}</pre></body></html>"
        )


def build_datasette(archive: Path, research: Path) -> Datasette:
    """Datasette over the live archive (read-only, listed first) and the research snapshot."""
    datasette = Datasette(
        metadata=build_metadata(archive.stem), settings={"sql_time_limit_ms": 5000, "facet_time_limit_ms": 1000},
    )
    datasette.remove_database("_memory")  # Datasette's scratch database, added when given no files
    datasette.add_database(_PublicArchive(datasette, path=str(archive)), name=archive.stem)
    datasette.add_database(DatasetteDatabase(datasette, path=str(research), is_mutable=False), name="research")
    return datasette


@contextmanager
def guarded(port: int, archive: Path) -> Iterator[None]:
    """The plugin of `serve` registered with Datasette for the time of the block."""
    pm.register(_Guard(port, archive.stem), name=_PLUGIN_NAME)
    try:
        yield
    finally:
        pm.unregister(name=_PLUGIN_NAME)


async def run_serve(db: Database, archive: Path, port: int) -> None:
    """Build the snapshot of `db` (the archive at `archive`), serve Datasette on 127.0.0.1:`port`
    in this process until SIGINT/SIGTERM."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
    except OSError as exc:
        listener.close()
        raise DsnsError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from exc
    loop = asyncio.get_running_loop()
    # uvicorn stops on SIGINT/SIGTERM, then raises the signal again for the handler that was
    # there before it: ours, which only makes sure the process then exits with our status.
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: None)
    try:
        with guarded(port, archive), tempfile.TemporaryDirectory(prefix="dsns-serve-") as tmp:
            research = Path(tmp) / "research.db"
            events, stories = await build_research_db(db, research)
            server = uvicorn.Server(uvicorn.Config(
                build_datasette(archive, research).app(), lifespan="on", log_config=None, access_log=False,
                log_level="warning",
            ))
            print(f"serving {archive.name} ({events} events, {stories} stories) on http://127.0.0.1:{port}/ "
                  "- Ctrl-C stops", file=sys.stderr, flush=True)
            await server.serve(sockets=[listener])
    finally:
        listener.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
