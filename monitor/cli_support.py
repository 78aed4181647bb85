"""What every command module shares: exit codes, the --config option, date arguments."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

__all__ = ["EXIT_OK", "EXIT_FAILURE", "EXIT_USAGE", "add_config", "iso_date"]

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


def iso_date(value: str) -> datetime:
    """A date or date-time in ISO 8601; without a zone it is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date: {value!r} (e.g. 2025-07-01 or 2025-07-01T06:00)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", "-c", default="config.toml", metavar="PATH",
        help="TOML configuration file (default: %(default)s)",
    )
