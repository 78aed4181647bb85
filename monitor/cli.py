"""The `dsns-monitor` command.

Each command lives in a module of `COMMAND_MODULES` with an `add_parsers(commands)` that sets
`handler` and `needs` ("none": no config; "config": the loaded Config; "app": an open archive,
HTTP client and pipeline, held exclusively when it sets `exclusive`, and never created when it sets
`reads_only`). Errors of our own (bad config, unreadable archive, a failing source)
become one line on stderr and an exit code; only bugs show a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import sys
from collections.abc import Sequence
from importlib import metadata

from collectors.base import SourceError
from monitor.cli_support import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, check_args, command_config
from monitor.config import Config, ConfigError
from monitor.logs import setup_logging
from storage.errors import StorageError

__all__ = ["main", "build_parser", "COMMAND_MODULES"]

COMMAND_MODULES = (
    "monitor.cmd_core", "monitor.cmd_config", "monitor.cmd_telegram", "monitor.cmd_ops", "monitor.cmd_status",
    "monitor.cmd_research", "monitor.cmd_coverage",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dsns-monitor",
        description="Watch DSNS Telegram channels and news feeds for Russian strikes: archive, detect, alert.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    parser.add_argument("--log-level", type=str.upper, choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="override [logging] level")
    parser.add_argument("--log-format", choices=["text", "json"], default="text", help="log lines as text (default) or JSON for journald/Loki")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parsers(commands)
    return parser


def _version() -> str:
    try:
        return metadata.version("dsns-monitor")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "(not installed)"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if mistake := check_args(args):
        code, message = mistake
        print(f"dsns-monitor: {message}", file=sys.stderr)
        return code
    try:
        if args.needs == "none":
            setup_logging(args.log_level or "WARNING", args.log_format)
            return _finish(args.handler(args))
        config = command_config(args)
        setup_logging(args.log_level or config.logging.level, args.log_format, config.secret_env_names())
        if args.needs == "config":
            return _finish(args.handler(args, config))
        return asyncio.run(_with_app(args, config))
    except ConfigError as exc:
        print(f"dsns-monitor: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except StorageError as exc:
        print(f"dsns-monitor: archive error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except SourceError as exc:
        print(f"dsns-monitor: source error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def _finish(result: object) -> int:
    if inspect.isawaitable(result):
        result = asyncio.run(result)  # type: ignore[arg-type]
    return int(result)  # type: ignore[call-overload]


async def _with_app(args: argparse.Namespace, config: Config) -> int:
    from monitor.app import open_app

    async with open_app(
        config, exclusive=getattr(args, "exclusive", False), create=not getattr(args, "reads_only", False),
    ) as app:
        return int(await args.handler(args, app))


if __name__ == "__main__":
    sys.exit(main())
