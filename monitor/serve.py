"""`dsns-monitor serve`: the archive in Datasette on 127.0.0.1, read-only.

Two databases are served: the archive itself (opened by Datasette with `mode=ro`, so it never
writes and still shows what the running daemon adds), and `research`, a snapshot built at start
with the ACLED-shaped `events` (latitude/longitude for datasette-cluster-map) and flat `stories`,
which need the gazetteer (Python) and so cannot be SQL views. Datasette runs as a child process;
SIGINT/SIGTERM stop it and remove the snapshot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

from monitor.app import App
from monitor.cli_support import EXIT_FAILURE, EXIT_OK
from storage.database import Database
from storage.research import EVENT_KEYS, STORY_KEYS, iter_events, iter_stories

__all__ = ["build_research_db", "build_metadata", "run_serve", "PRIVATE_TABLES"]

# Subscribers' chat ids and the alert queue are nobody's research material.
PRIVATE_TABLES = ("chats", "subscriptions", "outbox", "bot_state")
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
                "description": "The live archive, read-only. Search posts by any part of a word "
                               "(trigram index): 'Балакл' finds Балаклія, Балаклії, Балаклію.",
                "tables": {
                    "posts": {
                        "description": "One row per post (latest text); earlier wording in post_versions.",
                        "fts_table": "posts_search", "fts_pk": "id", "sort_desc": "published_at",
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


async def run_serve(args: argparse.Namespace, app: App) -> int:
    """Build the snapshot, start Datasette on 127.0.0.1, stop it cleanly on a signal."""
    archive = Path(app.config.storage.database)
    with tempfile.TemporaryDirectory(prefix="dsns-serve-") as tmp:
        research = Path(tmp) / "research.db"
        events, stories = await build_research_db(app.db, research)
        metadata = Path(tmp) / "metadata.json"
        metadata.write_text(json.dumps(build_metadata(archive.stem), ensure_ascii=False), encoding="utf-8")
        cmd = [
            sys.executable, "-m", "datasette", "serve", str(archive), "-i", str(research),
            "-h", "127.0.0.1", "-p", str(args.port), "-m", str(metadata),
            "--setting", "sql_time_limit_ms", "5000", "--setting", "facet_time_limit_ms", "1000",
        ]
        child = await asyncio.create_subprocess_exec(*cmd)
        print(f"serving {archive.name} ({events} events, {stories} stories) on http://127.0.0.1:{args.port}/ "
              "- Ctrl-C stops", file=sys.stderr, flush=True)
        loop = asyncio.get_running_loop()
        stopping = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        try:
            waiter = asyncio.ensure_future(child.wait())
            stopper = asyncio.ensure_future(stopping.wait())
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if waiter.done():
                code = waiter.result()
                print(f"dsns-monitor: datasette exited with status {code}", file=sys.stderr)
                return EXIT_FAILURE
            if child.returncode is None:
                child.terminate()
            try:
                await asyncio.wait_for(waiter, timeout=10)
            except TimeoutError:
                child.kill()
                await waiter
            return EXIT_OK
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

