"""Raw bodies of fetched pages and feeds, kept for `dsns-monitor reparse`.

A body is stored gzip-compressed (standard library: no dependency, and t.me pages and feeds,
being repetitive markup, shrink about tenfold) under its SHA-256, so the same page fetched
again costs one small row in `payloads` and no second copy of the body.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import aiosqlite

from storage.database import Database
from storage.export import date_filter
from storage.polls import prune_polls
from storage.timeutil import from_db, to_db

__all__ = [
    "PackedPayload", "StoredPayload", "pack", "store_payloads", "count_payloads", "iter_payloads",
    "prune_payloads",
]

class Payload(Protocol):
    """A body a source answered with, as the archive keeps it (`collectors.base.Payload` is one;
    storage does not import the collectors)."""

    @property
    def url(self) -> str: ...
    @property
    def status(self) -> int: ...
    @property
    def body(self) -> bytes: ...
    @property
    def fetched_at(self) -> datetime: ...
    @property
    def parser(self) -> str: ...


# Level 6 (gzip's default): within a few percent of level 9's size at a fraction of its time.
_LEVEL = 6
_BATCH = 50


@dataclass(frozen=True, slots=True)
class PackedPayload:
    """A payload ready to store: its body hashed and compressed (CPU work, done off the loop)."""

    payload: Payload
    digest: str
    compressed: bytes


@dataclass(frozen=True, slots=True)
class StoredPayload:
    id: int
    source: str
    url: str
    fetched_at: datetime
    status: int
    parser: str
    digest: str
    body: bytes


def pack(payloads: list[Payload]) -> list[PackedPayload]:
    return [
        PackedPayload(p, hashlib.sha256(p.body).hexdigest(), gzip.compress(p.body, _LEVEL, mtime=0))
        for p in payloads
    ]


async def store_payloads(conn: aiosqlite.Connection, source_id: int, packed: list[PackedPayload]) -> None:
    """Record each fetch, its body only if no identical body is stored (inside the caller's transaction)."""
    for item in packed:
        await conn.execute(
            "INSERT INTO payload_bodies (hash, size, body) VALUES (?, ?, ?) ON CONFLICT (hash) DO NOTHING",
            (item.digest, len(item.payload.body), item.compressed),
        )
        await conn.execute(
            """INSERT INTO payloads (source_id, url, fetched_at, status, parser, body_hash)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (source_id, item.payload.url, to_db(item.payload.fetched_at), item.payload.status,
             item.payload.parser, item.digest),
        )


def _filters(sources: list[str] | None, since: datetime | None, until: datetime | None) -> tuple[str, list]:
    where: list[str] = []
    params: list = []
    if sources is not None:
        where.append(f"s.name IN ({', '.join('?' * len(sources))})")
        params += sources
    dates, date_params = date_filter("p.fetched_at", since, until)
    return " AND ".join(where + dates) or "1", params + date_params


async def count_payloads(
    db: Database, *, sources: list[str] | None = None, since: datetime | None = None, until: datetime | None = None
) -> int:
    where, params = _filters(sources, since, until)
    row = await db.fetchone(
        f"SELECT count(*) FROM payloads p JOIN sources s ON s.id = p.source_id WHERE {where}", tuple(params)
    )
    return row[0] if row else 0


async def iter_payloads(
    db: Database, *, sources: list[str] | None = None, since: datetime | None = None, until: datetime | None = None
) -> AsyncIterator[StoredPayload]:
    """The stored fetches in the order they were made, bodies decompressed; read in small
    batches, so memory holds a few bodies whatever the archive's size."""
    where, params = _filters(sources, since, until)
    last = 0
    while True:
        rows = await db.fetchall(
            f"""SELECT p.id, s.name, p.url, p.fetched_at, p.status, p.parser, b.hash, b.body
                FROM payloads p JOIN sources s ON s.id = p.source_id JOIN payload_bodies b ON b.hash = p.body_hash
                WHERE {where} AND p.id > ? ORDER BY p.id LIMIT ?""",
            (*params, last, _BATCH),
        )
        for row in rows:
            fetched = from_db(row[3])
            assert fetched is not None
            yield StoredPayload(row[0], row[1], row[2], fetched, row[4], row[5], row[6], gzip.decompress(row[7]))
        if len(rows) < _BATCH:
            return
        last = rows[-1][0]


async def prune_payloads(db: Database, older_than: datetime) -> int:
    """Forget fetches made before `older_than`, the bodies no kept fetch refers to, and the
    polls logged before then (the log and the bodies cover the same days); returns the number
    of fetches forgotten."""
    async with db.write() as conn:
        cursor = await conn.execute("DELETE FROM payloads WHERE fetched_at < ?", (to_db(older_than),))
        removed = cursor.rowcount
        await prune_polls(conn, older_than)
        await conn.execute(
            "DELETE FROM payload_bodies WHERE NOT EXISTS (SELECT 1 FROM payloads p WHERE p.body_hash = payload_bodies.hash)"
        )
    return removed
