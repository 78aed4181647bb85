"""Broadcast channels from `[[bot.channels]]`: a chat whose subscriptions the config owns."""

from __future__ import annotations

import aiosqlite

from storage.timeutil import to_db, utcnow

__all__ = ["sync_channel", "disable_channel"]


async def sync_channel(conn: aiosqlite.Connection, chat_id: int, language: str, regions: dict[str, str]) -> None:
    """Make the channel an active chat watching exactly `regions` (ISO code → name)."""
    now = to_db(utcnow())
    await conn.execute(
        """INSERT INTO chats (chat_id, language, created_at) VALUES (?, ?, ?)
           ON CONFLICT (chat_id) DO UPDATE SET language = excluded.language, active = 1, deactivated_at = NULL""",
        (chat_id, language, now),
    )
    marks = ",".join("?" * len(regions))
    await conn.execute(f"DELETE FROM subscriptions WHERE chat_id = ? AND region NOT IN ({marks})", (chat_id, *regions))
    await conn.executemany(
        """INSERT INTO subscriptions (chat_id, region, region_name, level, created_at) VALUES (?, ?, ?, 'oblast', ?)
           ON CONFLICT (chat_id, region) DO NOTHING""",
        [(chat_id, region, name, now) for region, name in regions.items()],
    )


async def disable_channel(conn: aiosqlite.Connection, chat_id: int) -> None:
    """The bot may not post there (any more): plan nothing for it until it may again."""
    await conn.execute(
        "UPDATE chats SET active = 0, deactivated_at = ? WHERE chat_id = ? AND active = 1", (to_db(utcnow()), chat_id)
    )
