"""Operator commands: `backup`, a consistent copy of the archive while the daemon runs, and its rotation."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dsns.errors import UsageError
from monitor.cli.options import EXIT_OK, add_config
from storage.backup import copy_archive
from storage.errors import StorageError

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = ["add_parsers", "backup_archive", "prune_backups"]

log = logging.getLogger("dsns_monitor.backup")

# Only the copies `backup` names itself are ever rotated away, never other files in the folder.
DATED_BACKUP = re.compile(r"dsns-monitor-\d{8}T\d{6}Z\.db")


def add_parsers(commands: argparse._SubParsersAction) -> None:
    backup = commands.add_parser(
        "backup", help="copy the archive consistently, even while the daemon runs",
        description=(
            "Write a consistent snapshot of the archive (SQLite backup API, one read transaction) to DEST, "
            "created owner-only (0600). DEST may be a folder: the copy is then named "
            "dsns-monitor-<UTC time>.db inside it. The daemon keeps running and writing meanwhile."
        ),
    )
    add_config(backup)
    backup.add_argument("dest", metavar="DEST", help="file to write, or an existing folder")
    backup.add_argument("--force", action="store_true", help="replace DEST if it exists")
    backup.add_argument(
        "--keep", type=int, metavar="N",
        help="DEST being a folder: after the copy, delete all but the newest N dated copies in it",
    )
    backup.set_defaults(handler=_backup, needs="config")


def _backup(args: argparse.Namespace, config: Config) -> int:
    folder = Path(args.dest)
    if args.keep is not None and (args.keep < 1 or not folder.is_dir()):
        raise UsageError("--keep needs N >= 1 and DEST an existing folder")
    started = time.monotonic()
    dest = backup_archive(config.storage.database, folder, force=args.force)
    size = dest.stat().st_size
    print(f"backup written to {dest} ({size / 1e6:.1f} MB in {time.monotonic() - started:.1f}s)", file=sys.stderr)
    if args.keep is not None:
        for old in prune_backups(folder, args.keep):
            print(f"removed old backup {old}", file=sys.stderr)
    return EXIT_OK


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` dated copies (`dsns-monitor-<UTC time>.db`) in `folder`."""
    # The UTC time in the name sorts as text; file times can be changed by copying.
    dated = sorted(p for p in folder.iterdir() if DATED_BACKUP.fullmatch(p.name) and p.is_file())
    old = dated[:-keep]
    try:
        for path in old:
            path.unlink()
    except OSError as exc:
        raise StorageError(f"{folder}: cannot remove an old backup: {exc}") from exc
    return old


def backup_archive(source: Path, dest: Path, *, force: bool = False) -> Path:
    """Copy the archive at `source` to `dest` (a file, or a folder to put a dated file in).

    The copy is made into a temporary 0600 file next to `dest` and renamed into place only
    after an integrity check, so a crash or a full disk never leaves a half-written backup
    under the final name. Raises StorageError with a message that names the fix.
    """
    if not source.exists():
        raise StorageError(f"{source}: no archive here (run `dsns-monitor run` first)")
    if dest.is_dir():
        dest = dest / f"dsns-monitor-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.db"
    if dest.exists() and not force:
        raise StorageError(f"{dest}: already exists; choose another name or pass --force")
    if not dest.parent.is_dir():
        raise StorageError(f"{dest.parent}: no such folder")
    partial = dest.with_name(f".{dest.name}.partial-{os.getpid()}")
    try:
        # O_EXCL + 0600 before any byte is written: the archive holds subscribers' chat ids.
        os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        copy_archive(source, partial)
        os.replace(partial, dest)
    except OSError as exc:
        raise StorageError(f"{dest}: cannot write the backup: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return dest
