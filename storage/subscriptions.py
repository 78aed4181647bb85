"""Bot chats and the regions they watch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import aiosqlite

from storage.database import Database
from storage.timeutil import from_db, to_db, utcnow

__all__ = [
    "Chat", "Subscription", "MAX_SUBSCRIPTIONS", "upsert_chat", "get_chat", "subscribe", "unsubscribe",
    "list_subscriptions", "subscriptions_page", "mute", "deactivate_chat", "chats_watching",
]

Added = Literal["added", "already", "full"]

# Enough for a family spread over a few oblasts; a bound on what one chat can make the planner
# and `/list` carry (forged button data once added 5,000 watches to one chat).
MAX_SUBSCRIPTIONS = 50


@dataclass(frozen=True, slots=True)
class Chat:
    chat_id: int
    language: str
    active: bool
    muted_until: datetime | None


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


async def get_chat(db: Database, chat_id: int) -> Chat | None:
    row = await db.fetchone("SELECT chat_id, language, active, muted_until FROM chats WHERE chat_id = ?", (chat_id,))
    if row is None:
        return None
    return Chat(row[0], row[1], bool(row[2]), from_db(row[3]))


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


async def chats_watching(conn: aiosqlite.Connection, regions: set[str]) -> dict[str, set[int]]:
    """region → the active, unmuted chats that watch it, for those of `regions` someone watches
    (one query for the regions of a whole page of stories)."""
    found: dict[str, set[int]] = {}
    ordered = sorted(regions)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        rows = await conn.execute_fetchall(
            f"""SELECT s.region, s.chat_id FROM subscriptions s JOIN chats c ON c.chat_id = s.chat_id
                WHERE s.region IN ({','.join('?' * len(chunk))}) AND c.active = 1
                  AND (c.muted_until IS NULL OR c.muted_until <= ?)""",
            (*chunk, to_db(utcnow())),
        )
        for region, chat_id in rows:
            found.setdefault(region, set()).add(chat_id)
    return found
