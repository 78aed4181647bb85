"""The research snapshot: a new SQLite file of plain tables that Datasette serves read-only,
and the canned queries shown beside them (they read these tables, so they live with them)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

__all__ = ["Snapshot", "SNAPSHOT_QUERIES"]


class Snapshot:
    """Tables created and filled row by row; committed on a clean exit of the `with` block.

    Table and column names are the caller's constants, never input: they are written into the SQL.
    """

    def __init__(self, path: Path) -> None:
        self._conn = sqlite3.connect(path)

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if kind is None:
                self._conn.commit()
        finally:
            self._conn.close()

    def create(self, table: str, columns: Sequence[str], key: str) -> None:
        self._conn.execute(f"CREATE TABLE {table} ({', '.join(columns)}, PRIMARY KEY ({key}))")

    def add(self, table: str, row: Sequence[object]) -> None:
        self._conn.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", row)

    def index(self, table: str, column: str) -> None:
        self._conn.execute(f"CREATE INDEX {table}_{column} ON {table} ({column})")


# Datasette's canned queries over the snapshot's `events` table.
SNAPSHOT_QUERIES = {
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
}
