"""The archive's connections: one writer, separate readers, migrations on open.

Every write goes through `Database.write()`, which holds one lock around one connection and
opens `BEGIN IMMEDIATE` (nested calls become SAVEPOINTs), so writers never fight over the
SQLite write lock and a transaction either lands whole or not at all.

A write that fails because of the archive itself (disk full, I/O error, file gone) is told to
the `ArchiveWatcher` set with `watch()`, and the next commit that lands says it recovered: the
daemon turns both into its "archive" fault without storage knowing about health reporting.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import stat
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Protocol

import aiosqlite

from storage.errors import StorageError
from storage.schema import migrate

__all__ = ["Database", "ArchiveWatcher", "write_rows", "Statements", "write_batch", "insert_rows", "multi_row"]

BUSY_TIMEOUT_MS = 30_000
# Primary result codes that mean the archive's file or disk is at fault, not the statement:
# SQLITE_READONLY, SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_NOTADB.
_ARCHIVE_FAULT_CODES = frozenset({8, 10, 11, 13, 14, 26})

# Set while the current task holds the writer, so nested write() calls use SAVEPOINTs
# instead of deadlocking on the lock.
_write_depth: ContextVar[int] = ContextVar("_write_depth", default=0)


class ArchiveWatcher(Protocol):
    """Told when writes start failing because of the archive, and when they work again."""

    def write_failed(self, message: str) -> None: ...

    def write_recovered(self) -> None: ...


class Database:
    """An open archive. Use `await Database.open(path)` and `await db.close()`."""

    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self.path = path
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()
        self._watcher: ArchiveWatcher | None = None
        self._write_failing = False

    def watch(self, watcher: ArchiveWatcher | None) -> None:
        """Tell `watcher` about archive faults on write (None: stop telling)."""
        self._watcher = watcher

    @classmethod
    async def open(cls, path: str | Path, *, read_only: bool = False, create: bool = True) -> Database:
        """Open the archive at `path` and bring its schema up to date.

        A missing archive is created, unless `read_only` or not `create` (commands that only read
        it: a mistyped path must be an error, not a new empty archive).
        """
        path = Path(path)
        try:
            if not path.exists() and (read_only or not create):
                raise StorageError(f"{path}: no archive here (run `dsns-monitor run` first)")
            if not read_only:
                path.parent.mkdir(parents=True, exist_ok=True)
                if not path.exists():
                    # The archive holds subscribers' chat ids: owner-only from the start.
                    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            _owner_only(path)
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
                # After a full disk or an I/O error SQLite may have rolled back the whole
                # transaction, savepoint and all: the error to report is the one that did it.
                with contextlib.suppress(sqlite3.Error):
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
                self._note_failure(exc)
                raise StorageError(f"{self.path}: cannot start a write: {exc}") from exc
            try:
                yield self._writer
            except BaseException as exc:
                self._note_failure(exc)
                # Shielded so a cancelled task still leaves the connection clean; after a full
                # disk or I/O error SQLite may have rolled back already, so there may be no
                # transaction left to end.
                with contextlib.suppress(sqlite3.Error):
                    await asyncio.shield(self._writer.execute("ROLLBACK"))
                if isinstance(exc, sqlite3.Error):  # a statement of the transaction: mapped here, once
                    raise StorageError(f"{self.path}: write failed: {exc}") from exc
                raise
            else:
                try:
                    await asyncio.shield(self._writer.execute("COMMIT"))
                except sqlite3.Error as exc:
                    self._note_failure(exc)
                    with contextlib.suppress(sqlite3.Error):
                        await self._writer.execute("ROLLBACK")
                    raise StorageError(f"{self.path}: commit failed: {exc}") from exc
                if self._write_failing:
                    self._write_failing = False
                    if self._watcher is not None:
                        self._watcher.write_recovered()
            finally:
                _write_depth.reset(token)

    def _note_failure(self, exc: BaseException) -> None:
        """Tell the watcher when `exc` is the archive's fault rather than the statement's."""
        cause = exc if isinstance(exc, sqlite3.Error) else exc.__cause__
        if not isinstance(cause, sqlite3.Error):
            return
        code = getattr(cause, "sqlite_errorcode", None)
        if code is None or code & 0xFF not in _ARCHIVE_FAULT_CODES:
            return
        self._write_failing = True
        if self._watcher is not None:
            self._watcher.write_failed(f"{self.path}: write failed: {cause}")

    async def quick_check(self) -> list[str]:
        """SQLite's `PRAGMA quick_check`: [] when the file is sound, else what it found (at most 20).

        It reads the whole file (O(size)), so it runs on a connection of its own: the reader and
        the writer stay free meanwhile.
        """
        try:
            conn = await _connect(self.path, read_only=True)
        except sqlite3.Error as exc:
            return [str(exc)]
        try:
            async with conn.execute("PRAGMA quick_check(20)") as cursor:
                found = [str(row[0]) for row in await cursor.fetchall()]
        except sqlite3.Error as exc:
            return [str(exc)]
        except asyncio.CancelledError:
            # Shutting down: stop reading the file now, not when the whole check is done.
            await conn.interrupt()
            raise
        finally:
            await conn.close()
        return [] if found == ["ok"] else found

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


def _owner_only(path: Path) -> None:
    """Make the archive and its WAL files 0600: they hold subscribers' chat ids. A file made
    under a looser umask or by an older version is tightened on every open; a file that is not
    ours to change (a researcher reading the service's archive) is left as it is."""
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            if stat.S_IMODE(file.stat().st_mode) & 0o077:
                file.chmod(0o600)


async def _connect(path: Path, *, read_only: bool) -> aiosqlite.Connection:
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}"
    conn = await aiosqlite.connect(uri, uri=True, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA foreign_keys = ON")
        if not read_only:
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.execute("PRAGMA synchronous = NORMAL")
            # Inside a transaction each write statement copies every page of the file it changes to
            # a statement journal (to undo itself alone), which SQLite spills past 64 KiB to a temp
            # file: on the 10^6-post archive a page of 20 posts wrote ~5 MB there in ~1,300
            # pwrite calls when its outbox rows were a statement each, and with `multi_row` still
            # cost the writer ~0.065 ms of system CPU a post. In memory (~0.7 MB more resident in
            # the daemon), it is freed as each page's store ends. The writer only: the readers'
            # temp tables (a research query's sorts) stay on disk.
            await conn.execute("PRAGMA temp_store = MEMORY")
    except BaseException:
        # A file that is not a database fails here; its connection thread must not outlive us.
        await conn.close()
        raise
    return conn


async def write_rows(conn: aiosqlite.Connection, sql: str, rows: list[tuple]) -> None:
    """`executemany`, but nothing at all for no rows: each call is a trip to the writer's thread,
    and a page's batch has several kinds of rows that are most often none (edits, aliases, errors)."""
    if rows:
        await conn.executemany(sql, rows)


# (sql, rows) pairs: what `write_batch` runs, each as one executemany
Statements = list[tuple[str, Sequence[Sequence[object]]]]


async def write_batch(conn: aiosqlite.Connection, statements: Statements) -> list[int]:
    """Each (sql, rows) as an executemany, in order, in ONE trip to the writer's thread; how many
    rows each changed (0 for one with no rows). A trip costs about as much CPU as ten row upserts
    (~85 µs measured on a busy 2-core machine: the thread's wake-up and the event loop's), and a
    page's stories, links, revisions and alerts are several statements. aiosqlite has no public call for a function run in its
    thread: `_execute` is the one its own methods use (pinned by pyproject's aiosqlite range)."""
    if not any(rows for _, rows in statements):
        return [0] * len(statements)

    def run() -> list[int]:
        db = conn._conn  # in the connection's own thread
        changed: list[int] = []
        for sql, rows in statements:
            before = db.total_changes
            if rows:
                db.executemany(sql, rows)
            changed.append(db.total_changes - before)
        return changed

    return await conn._execute(run)


# Parameters per multi-row INSERT: SQLite's limit before 3.32, the lowest a build may still set
# (62 posts of 16 columns: a page of 20 is one statement, a reparse batch of 200 four).
_PARAMETERS_PER_INSERT = 999


async def insert_rows(conn: aiosqlite.Connection, sql: str, rows: list[tuple]) -> list[sqlite3.Row]:
    """`sql`, an INSERT whose `{values}` stands for its VALUES rows, run for all `rows` in a few
    multi-row statements; what its RETURNING clause returns, if any (in no particular order).

    Into a table with triggers, each statement of an `executemany` opens a statement savepoint,
    and FTS5 flushes its pending rows at every savepoint: inserting posts one statement a row
    wrote a segment of the word index per post, and merged them (measured: ~80 µs a post of
    ~800 characters, a third of the insert). In one statement the page's posts go in one segment.
    """
    found: list[sqlite3.Row] = []
    per = max(1, _PARAMETERS_PER_INSERT // len(rows[0])) if rows else 1
    for start in range(0, len(rows), per):
        chunk = rows[start : start + per]
        found += await conn.execute_fetchall(
            _with_rows(sql, len(chunk[0]), len(chunk)), [value for row in chunk for value in row]
        )
    return found


def _with_rows(sql: str, width: int, count: int) -> str:
    """`sql` with its `{values}` as `count` rows of `width` parameters."""
    return sql.format(values=", ".join(["(" + ", ".join("?" * width) + ")"] * count))


# Rows per statement of `multi_row`: a few statement texts whatever the number of rows.
_SIZES = (32, 16, 4, 1)


def multi_row(sql: str, rows: Sequence[Sequence[object]]) -> Statements:
    """`sql`, an INSERT whose `{values}` stands for its VALUES rows, for all `rows` in order, in
    statements of 32, 16, 4 and 1 row (for `write_batch`).

    Inside a transaction each statement copies every page it changes to its statement journal,
    to undo itself alone: one statement a row copied the same pages once a row (a page's outbox
    upserts, hundreds of rows on the table and four indexes: ~30 -> ~10 µs a row measured). The
    sizes are few because the sqlite3 module keeps each distinct statement text prepared (128 a
    connection), and a statement of 124 rows was ~80 KB of it.
    """
    statements: Statements = []
    start = 0
    for size in _SIZES:
        count = (len(rows) - start) // size
        if count:
            statements.append((
                _with_rows(sql, len(rows[0]), size),
                [[v for row in rows[at : at + size] for v in row] for at in range(start, start + count * size, size)],
            ))
            start += count * size
    return statements
