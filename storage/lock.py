"""One daemon per archive: an exclusive lock on a file beside it, held for the process's life.

Two daemons on one archive would each send every alert (each has its own in-memory view of
what is in flight), so `run` takes `flock(LOCK_EX)` on `<archive>.lock` before opening the
archive. The OS releases it when the process ends, even by kill -9: no stale lock to clean up.
`backfill`, `reanalyze` and `reparse` take it too: the daemon's story index would not see the
stories they write. Readers (search, export, serve, backup) never take it. The holder's pid is written into the
file only to name it in the refusal.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from storage.errors import StorageError

__all__ = ["ArchiveInUseError", "exclusive_archive", "lock_path"]


class ArchiveInUseError(StorageError):
    """Another process holds the archive's lock."""


def lock_path(archive: str | Path) -> Path:
    archive = Path(archive)
    return archive.with_name(archive.name + ".lock")


@contextmanager
def exclusive_archive(archive: str | Path) -> Iterator[None]:
    """Hold the archive's lock for the `with` block; ArchiveInUseError if another process has it."""
    path = lock_path(archive)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise StorageError(f"{path}: cannot create the archive's lock file: {exc.strerror}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            by = f" (pid {holder})" if holder.isdecimal() else ""
            raise ArchiveInUseError(
                f"{archive} is in use by another dsns-monitor run{by}; stop it first"
            ) from None
        except OSError as exc:
            raise StorageError(f"{path}: cannot lock the archive: {exc.strerror}") from exc
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
