"""Bot chats and the regions they watch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiosqlite

from storage.database import Database
from storage.timeutil import to_db, utcnow

__all__ = [
    "Subscription", "MAX_SUBSCRIPTIONS", "upsert_chat", "subscribe", "unsubscribe",
    "list_subscriptions", "subscriptions_page", "mute", "deactivate_chat", "chats_watching",
    "chat_regions", "Pending", "get_pending", "set_pending", "watchers_by_region", "nearest_ranks",
    "WatcherCache",
]

Added = Literal["added", "already", "full"]

# Enough for a family spread over a few oblasts; a bound on what one chat can make the planner
# and `/list` carry (forged button data once added 5,000 watches to one chat).
MAX_SUBSCRIPTIONS = 50


@dataclass(frozen=True, slots=True)
class Subscription:
    region: str
    region_name: str
    level: str


async def upsert_chat(conn: aiosqlite.Connection, chat_id: int, language: str) -> None:
    """Remember a chat that talked to the bot; talking again re-activates a blocked one.

    Only what alerts need: no names (who watches which towns is sensitive enough).
    """
    await conn.execute(
        """INSERT INTO chats (chat_id, language, created_at) VALUES (?, ?, ?)
           ON CONFLICT (chat_id) DO UPDATE SET language = excluded.language, active = 1, deactivated_at = NULL""",
        (chat_id, language, to_db(utcnow())),
    )


async def subscribe(
    conn: aiosqlite.Connection, chat_id: int, region: str, name: str, level: str, *, limit: int = MAX_SUBSCRIPTIONS
) -> Added:
    """Add a watch unless the chat has it already or watches `limit` regions ("full")."""
    async with conn.execute(
        "SELECT count(*), coalesce(max(region = ?), 0) FROM subscriptions WHERE chat_id = ?", (region, chat_id)
    ) as cursor:
        row = await cursor.fetchone()
    count, has = (row[0], row[1]) if row else (0, 0)
    if has:
        return "already"
    if count >= limit:
        return "full"
    await conn.execute(
        """INSERT INTO subscriptions (chat_id, region, region_name, level, created_at)
           VALUES (?, ?, ?, ?, ?)""",
        (chat_id, region, name, level, to_db(utcnow())),
    )
    return "added"


async def unsubscribe(conn: aiosqlite.Connection, chat_id: int, region: str | None) -> int:
    """Remove one watch (or all with `region=None`); returns how many were removed."""
    if region is None:
        cursor = await conn.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
    else:
        cursor = await conn.execute("DELETE FROM subscriptions WHERE chat_id = ? AND region = ?", (chat_id, region))
    return cursor.rowcount


async def list_subscriptions(db: Database, chat_id: int) -> list[Subscription]:
    rows = await db.fetchall(
        "SELECT region, region_name, level FROM subscriptions WHERE chat_id = ? ORDER BY created_at, region", (chat_id,)
    )
    return [Subscription(r[0], r[1], r[2]) for r in rows]


async def subscriptions_page(
    conn: aiosqlite.Connection, chat_id: int, page: int, size: int
) -> tuple[list[Subscription], int]:
    """Page `page` (from 0) of a chat's watches, oldest first, and how many it has in all."""
    async with conn.execute("SELECT count(*) FROM subscriptions WHERE chat_id = ?", (chat_id,)) as cursor:
        row = await cursor.fetchone()
    total = row[0] if row else 0
    async with conn.execute(
        """SELECT region, region_name, level FROM subscriptions WHERE chat_id = ?
           ORDER BY created_at, region LIMIT ? OFFSET ?""",
        (chat_id, size, page * size),
    ) as cursor:
        rows = await cursor.fetchall()
    return [Subscription(r[0], r[1], r[2]) for r in rows], total


async def mute(conn: aiosqlite.Connection, chat_id: int, until: datetime | None) -> None:
    await conn.execute("UPDATE chats SET muted_until = ? WHERE chat_id = ?", (to_db(until), chat_id))


async def deactivate_chat(db: Database, chat_id: int) -> None:
    """The user blocked the bot or deleted the account: stop planning alerts for them."""
    async with db.write() as conn:
        await conn.execute(
            "UPDATE chats SET active = 0, deactivated_at = ? WHERE chat_id = ?", (to_db(utcnow()), chat_id)
        )


# region → its watches by active chats: (chat id, rank, muted until), as `_watches` reads them
Watches = dict[str, list[tuple[int, int, str | None]]]


async def _watches(conn: aiosqlite.Connection, regions: set[str]) -> Watches:
    """Each of `regions`' subscriptions of active chats, with their rank: 0 settlement (or city,
    city district), 1 hromada, 2 raion, 3 oblast; a region nobody watches maps to []."""
    found: Watches = {region: [] for region in regions}
    ordered = sorted(regions)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        rows = await conn.execute_fetchall(
            f"""SELECT s.region, s.chat_id,
                       CASE s.level WHEN 'hromada' THEN 1 WHEN 'raion' THEN 2 WHEN 'oblast' THEN 3 ELSE 0 END,
                       c.muted_until
                FROM subscriptions s JOIN chats c ON c.chat_id = s.chat_id
                WHERE s.region IN ({','.join('?' * len(chunk))}) AND c.active = 1""",
            chunk,
        )
        for region, chat_id, rank, muted_until in rows:
            found[region].append((chat_id, rank, muted_until))
    return found


def _unmuted(watches: Watches, regions: set[str]) -> dict[str, dict[int, int]]:
    """`watchers_by_region` of what `_watches` read: a mute ends with time, not with a write."""
    now = to_db(utcnow())
    found: dict[str, dict[int, int]] = {}
    for region in regions:
        for chat_id, rank, muted_until in watches[region]:
            if muted_until is None or muted_until <= now:
                chats = found.setdefault(region, {})
                chats[chat_id] = min(rank, chats.get(chat_id, rank))
    return found


async def watchers_by_region(conn: aiosqlite.Connection, regions: set[str]) -> dict[str, dict[int, int]]:
    """region → the active, unmuted chats that watch it, each with the rank of that subscription:
    0 settlement (or city, city district), 1 hromada, 2 raion, 3 oblast. Only the regions someone
    watches; one query for the regions of a whole page of stories."""
    return _unmuted(await _watches(conn, regions), regions)


class WatcherCache:
    """`watchers_by_region` for a caller that asks on every page (the story planner): each
    region's watches are read once, and read again only after `watch_version` moved (its
    triggers bump it on any subscribe, unsubscribe, block or mute, whatever process made it),
    so a page costs one row read instead of a join of subscriptions and chats per page."""

    def __init__(self) -> None:
        self._version: int | None = None
        self._watches: Watches = {}

    async def watchers_by_region(self, conn: aiosqlite.Connection, regions: set[str]) -> dict[str, dict[int, int]]:
        """As the function of that name, in the caller's transaction (which the version is read in)."""
        if not regions:
            return {}
        (row,) = await conn.execute_fetchall("SELECT version FROM watch_version")
        if row[0] != self._version:
            self._version, self._watches = row[0], {}
        if missing := regions - self._watches.keys():
            self._watches.update(await _watches(conn, missing))
        return _unmuted(self._watches, regions)


def nearest_ranks(watchers: dict[str, dict[int, int]], regions: set[str]) -> dict[int, int]:
    """The chats watching any of `regions` (of `watchers_by_region`), each with the rank of its most
    specific matching subscription, by chat id."""
    ranks: dict[int, int] = {}
    for region in regions:
        for chat_id, rank in watchers.get(region, {}).items():
            ranks[chat_id] = min(rank, ranks.get(chat_id, rank))
    return dict(sorted(ranks.items()))


async def chats_watching(conn: aiosqlite.Connection, regions: set[str]) -> dict[int, int]:
    """Active, unmuted chats that watch any of `regions`, each with the rank of its most specific
    matching subscription: 0 settlement (or city, city district), 1 hromada, 2 raion, 3 oblast."""
    return nearest_ranks(await watchers_by_region(conn, regions), regions)


async def chat_regions(conn: aiosqlite.Connection, chat_id: int) -> dict[str, str]:
    """A chat's watches, region key -> stored name, oldest first."""
    async with conn.execute(
        "SELECT region, region_name FROM subscriptions WHERE chat_id = ? ORDER BY created_at, region", (chat_id,)
    ) as cursor:
        return {r[0]: r[1] for r in await cursor.fetchall()}


@dataclass(frozen=True, slots=True)
class Pending:
    query: str | None
    radius_km: float | None


async def get_pending(conn: aiosqlite.Connection, chat_id: int) -> Pending:
    """The namesake query and the radius a chat has open (None for either when it has none)."""
    async with conn.execute("SELECT query, radius_km FROM chat_pending WHERE chat_id = ?", (chat_id,)) as cursor:
        row = await cursor.fetchone()
    return Pending(row[0], row[1]) if row else Pending(None, None)


async def set_pending(conn: aiosqlite.Connection, chat_id: int, field: Literal["query", "radius_km"], value: object) -> None:
    """Open (or with None, close) the chat's namesake query or radius, leaving the other as it is."""
    column = {"query": "query", "radius_km": "radius_km"}[field]  # never a caller's string in SQL
    await conn.execute(
        f"""INSERT INTO chat_pending (chat_id, {column}, updated_at) VALUES (?, ?, ?)
            ON CONFLICT (chat_id) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at""",
        (chat_id, value, to_db(utcnow())),
    )
