"""Small persistent values of the bot (the getUpdates offset)."""

from __future__ import annotations

import aiosqlite

from storage.database import Database

__all__ = ["get_value", "set_value"]


async def get_value(db: Database, key: str) -> str | None:
    row = await db.fetchone("SELECT value FROM bot_state WHERE key = ?", (key,))
    return row[0] if row else None


async def set_value(conn: aiosqlite.Connection, key: str, value: str) -> None:
    await conn.execute(
        "INSERT INTO bot_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
