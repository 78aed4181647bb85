"""What every command module shares: exit codes, the --config option, date arguments."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "add_config", "iso_date", "check_args"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def iso_date(value: str) -> datetime:
    """A date or date-time in ISO 8601; without a zone it is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date: {value!r} (e.g. 2025-07-01 or 2025-07-01T06:00)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def check_args(args: argparse.Namespace) -> tuple[int, str] | None:
    """Mistakes argparse cannot see option by option, found before any work is done: a date range
    that holds nothing (exit 2), an output file (`--output`, `--plot`) in a missing folder (exit 1).
    Returns the exit code and a one-line message, or None."""
    since, until = getattr(args, "since", None), getattr(args, "until", None)
    if since and until and since >= until:
        return EXIT_USAGE, f"--since {since.isoformat()} is not before --until {until.isoformat()} (--until is exclusive)"
    for name in ("output", "plot"):
        if (value := getattr(args, name, None)) and not (folder := Path(value).parent).is_dir():
            return EXIT_FAILURE, f"{folder}: no such folder (for {value})"
    return None


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", "-c", default="config.toml", metavar="PATH",
        help="TOML configuration file (default: %(default)s)",
    )
