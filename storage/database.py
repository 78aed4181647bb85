"""The archive's connections: one writer, separate readers, migrations on open.

Every write goes through `Database.write()`, which holds one lock around one connection and
opens `BEGIN IMMEDIATE` (nested calls become SAVEPOINTs), so writers never fight over the
SQLite write lock and a transaction either lands whole or not at all.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path

import aiosqlite

from storage.errors import StorageError
from storage.schema import migrate

__all__ = ["Database"]

BUSY_TIMEOUT_MS = 30_000

# Set while the current task holds the writer, so nested write() calls use SAVEPOINTs
# instead of deadlocking on the lock.
_write_depth: ContextVar[int] = ContextVar("_write_depth", default=0)


class Database:
    """An open archive. Use `await Database.open(path)` and `await db.close()`."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, *, read_only: bool = False) -> Database:
        """Open (creating if needed) the archive at `path` and bring its schema up to date."""
        path = Path(path)
        try:
            if not read_only:
                path.parent.mkdir(parents=True, exist_ok=True)
                if not path.exists():
                    # The archive holds subscribers' chat ids: owner-only from the start.
                    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            elif not path.exists():
                raise StorageError(f"{path}: no archive here (run `dsns-monitor run` first)")
            writer = await _connect(path, read_only=read_only)
        except sqlite3.Error as exc:
            raise StorageError(f"{path}: cannot open the archive: {exc}") from exc
        try:
            if not read_only:
                await migrate(writer, path)
            reader = await _connect(path, read_only=True)
        except sqlite3.Error as exc:
            await writer.close()
            raise StorageError(f"{path}: cannot open the archive: {exc}") from exc
        except BaseException:
            # A refused schema must not leave the connection's thread running.
            await writer.close()
            raise
        return cls(path, writer, reader)

    async def close(self) -> None:
        async with self._lock:
            await self._reader.close()
            await self._writer.close()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction on the one writer connection; commits on exit, rolls back on error."""
        depth = _write_depth.get()
        if depth:
            name = f"sp{depth}"
            await self._writer.execute(f"SAVEPOINT {name}")
            token = _write_depth.set(depth + 1)
            try:
                yield self._writer
            except BaseException:
                await self._writer.execute(f"ROLLBACK TO {name}")
                await self._writer.execute(f"RELEASE {name}")
                raise
            else:
                await self._writer.execute(f"RELEASE {name}")
            finally:
                _write_depth.reset(token)
            return
        async with self._lock:
            token = _write_depth.set(1)
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                _write_depth.reset(token)
                raise StorageError(f"{self.path}: cannot start a write: {exc}") from exc
            try:
                yield self._writer
            except BaseException:
                # Shielded so a cancelled task still leaves the connection clean.
                await asyncio.shield(self._writer.execute("ROLLBACK"))
                raise
            else:
                try:
                    await asyncio.shield(self._writer.execute("COMMIT"))
                except sqlite3.Error as exc:
                    await self._writer.execute("ROLLBACK")
                    raise StorageError(f"{self.path}: commit failed: {exc}") from exc
            finally:
                _write_depth.reset(token)

    @property
    def reader(self) -> aiosqlite.Connection:
        """A connection for reads; it never holds the write lock."""
        return self._reader

    async def fetchall(self, sql: str, params: tuple | dict = ()) -> list[sqlite3.Row]:
        try:
            async with self._reader.execute(sql, params) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.Error as exc:
            raise StorageError(f"{self.path}: query failed: {exc}") from exc

    async def fetchone(self, sql: str, params: tuple | dict = ()) -> sqlite3.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None


async def _connect(path: Path, *, read_only: bool) -> aiosqlite.Connection:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    conn = await aiosqlite.connect(uri, uri=True, isolation_level=None)
    conn.row_factory = sqlite3.Row
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA foreign_keys = ON")
    if not read_only:
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
    return conn
