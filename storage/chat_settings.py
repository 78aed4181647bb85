"""A chat's delivery settings: quiet window, morning digest, what breaks through the window."""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

from storage.database import Database

__all__ = ["ChatSettings", "DEFAULT_SETTINGS", "get_settings", "save_settings"]


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """Times are minutes after midnight, Kyiv time; None: no quiet window / no digest.

    `break_local`: a strike in the chat's own settlement or hromada notifies inside the window;
    `break_killed`: so does one with someone killed.
    """

    quiet_from: int | None = None
    quiet_to: int | None = None
    digest_at: int | None = None
    break_local: bool = True
    break_killed: bool = True


DEFAULT_SETTINGS = ChatSettings()


async def get_settings(conn: aiosqlite.Connection | Database, chat_id: int) -> ChatSettings:
    """The chat's settings (the defaults when it never changed any)."""
    sql = """SELECT quiet_from, quiet_to, digest_at, break_local, break_killed
             FROM chat_settings WHERE chat_id = ?"""
    if isinstance(conn, Database):
        row = await conn.fetchone(sql, (chat_id,))
    else:
        async with conn.execute(sql, (chat_id,)) as cursor:
            row = await cursor.fetchone()
    if row is None:
        return DEFAULT_SETTINGS
    return ChatSettings(row[0], row[1], row[2], bool(row[3]), bool(row[4]))


async def save_settings(conn: aiosqlite.Connection, chat_id: int, settings: ChatSettings) -> None:
    await conn.execute(
        """INSERT INTO chat_settings (chat_id, quiet_from, quiet_to, digest_at, break_local, break_killed)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (chat_id) DO UPDATE SET quiet_from = excluded.quiet_from, quiet_to = excluded.quiet_to,
               digest_at = excluded.digest_at, break_local = excluded.break_local,
               break_killed = excluded.break_killed""",
        (chat_id, settings.quiet_from, settings.quiet_to, settings.digest_at, int(settings.break_local),
         int(settings.break_killed)),
    )

