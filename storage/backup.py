"""A consistent copy of the archive file, taken while the daemon may be writing."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from storage.errors import StorageError

__all__ = ["copy_archive"]

BUSY_TIMEOUT_MS = 30_000


def copy_archive(source: Path, target: Path) -> None:
    """Copy the archive at `source` into the new file `target` (made 0600), checked for integrity.

    Raises StorageError naming `source` when SQLite fails; OSError from the file system passes.
    """
    try:
        _copy(source, target)
    except sqlite3.Error as exc:
        raise StorageError(f"{source}: backup failed: {exc}") from exc


def _copy(source: Path, target: Path) -> None:
    # Read-only source: the backup must never take the daemon's write lock or run migrations.
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    dst = sqlite3.connect(target)
    try:
        src.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # pages=-1: the whole database in one step, i.e. one read snapshot. Stepwise copying
        # restarts whenever the daemon writes in between and might never finish.
        src.backup(dst, pages=-1)
        # A single self-contained file (no -wal beside it), readable by plain sqlite3.
        dst.execute("PRAGMA journal_mode = DELETE")
        result = dst.execute("PRAGMA quick_check").fetchone()[0]
        if result != "ok":
            raise sqlite3.DatabaseError(f"the copy failed its integrity check: {result}")
    finally:
        dst.close()
        src.close()
    os.chmod(target, 0o600)
