"""What every command module shares: exit codes, the --config option, date arguments."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from dsns.errors import DsnsError, UsageError
from dsns.extras import require

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = ["EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "add_config", "command_config", "iso_date", "check_args"]

DEFAULT_CONFIG = "config.toml"

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def iso_date(value: str) -> datetime:
    """A date or date-time in ISO 8601; without a zone it is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date: {value!r} (e.g. 2025-07-01 or 2025-07-01T06:00)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def check_args(args: argparse.Namespace) -> None:
    """Mistakes argparse cannot see option by option, found before any work is done: a date range
    that holds nothing (a `UsageError`, exit 2), an output file (`--output`, `--plot`) in a missing
    or read-only folder, or that is a folder (a `DsnsError`, exit 1); `--plot` without matplotlib."""
    since, until = getattr(args, "since", None), getattr(args, "until", None)
    if since and until and since >= until:
        raise UsageError(f"--since {since.isoformat()} is not before --until {until.isoformat()} (--until is exclusive)")
    for name in ("output", "plot"):
        if not (value := getattr(args, name, None)):
            continue
        if not (folder := Path(value).parent).is_dir():
            raise DsnsError(f"{folder}: no such folder (for {value})")
        if Path(value).is_dir():
            raise DsnsError(f"{value}: is a folder; name a file in it")
        if not os.access(folder, os.W_OK):
            raise DsnsError(f"{folder}: not writable (for {value})")
    if getattr(args, "plot", None):  # matplotlib is the research extra's: say so before any work
        require("matplotlib", "research", f"`{args.command} --plot`")


def add_config(parser: argparse.ArgumentParser, *, db: bool = False) -> None:
    """`--config`; with `db`, also `--db FILE` for a command that only reads the archive."""
    if not db:
        parser.add_argument(
            "--config", "-c", default=DEFAULT_CONFIG, metavar="PATH",
            help="TOML configuration file (default: %(default)s)",
        )
        return
    # None tells "not given": with --db no configuration file is read unless one is named.
    parser.add_argument(
        "--config", "-c", metavar="PATH", help=f"TOML configuration file (default: {DEFAULT_CONFIG}, none with --db)",
    )
    parser.add_argument(
        "--db", metavar="FILE", type=Path,
        help="the archive file to read, for one handed just the file (overrides [storage] database)",
    )


def command_config(args: argparse.Namespace) -> Config:
    """The command's configuration: its file's, with `--db` (when the command has it) as the archive."""
    from monitor.config import Config, load_config

    db: Path | None = getattr(args, "db", None)
    if db is None:
        return load_config(args.config or DEFAULT_CONFIG)
    config = load_config(args.config) if args.config else Config()
    return config.model_copy(update={"storage": config.storage.model_copy(update={"database": db})})
