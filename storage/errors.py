"""The storage package's one exception: sqlite3/aiosqlite errors are translated here."""

from __future__ import annotations

from dsns.errors import DsnsError

__all__ = ["StorageError", "SchemaTooNewError"]


class StorageError(DsnsError):
    """The archive could not be opened, read or written; the message names the file."""

    label = "archive error"


class SchemaTooNewError(StorageError):
    """The database was written by a newer dsns-monitor than this one."""
