"""The `dsns-monitor` command.

Each command lives in a module of `COMMAND_MODULES` with an `add_parsers(commands)` that sets
`handler` and `needs` ("none": no config; "config": the loaded Config; "app": an open archive,
HTTP client and pipeline, held exclusively when it sets `exclusive`, and never created when it sets
`reads_only`). Errors of our own (`dsns.errors.DsnsError`: bad config, unreadable archive, a
failing source, a bad query) become one line on stderr and an exit code, here and nowhere else;
only bugs show a traceback.

`--help` must answer at once: this module and every command module import only the standard
library and the small modules of the parser at the top; the engine (the pipeline, Telethon,
pydantic, httpx) is imported by the command that runs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from dsns.errors import DsnsError
from monitor.cli.options import EXIT_OK, check_args

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = ["main", "build_parser", "COMMAND_MODULES"]

COMMAND_MODULES = (
    "monitor.cli.run", "monitor.cli.config", "monitor.cli.telegram", "monitor.cli.archive", "monitor.cli.status",
    "monitor.cli.research", "monitor.cli.coverage",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dsns-monitor",
        description="Watch DSNS Telegram channels and news feeds for Russian strikes: archive, detect, alert.",
    )
    parser.add_argument("--version", action=_Version)
    parser.add_argument("--log-level", type=str.upper, choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="override [logging] level")
    parser.add_argument("--log-format", choices=["text", "json"], default="text", help="log lines as text (default) or JSON for journald/Loki")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parsers(commands)
    return parser


class _Version(argparse.Action):
    """argparse's "version" action, but the installed version is looked up (a scan of the
    installed packages) only when asked for, not for every command."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib import metadata

        try:
            version = metadata.version("dsns-monitor")
        except metadata.PackageNotFoundError:  # run from a source tree that was never installed
            version = "(not installed)"
        print(f"{parser.prog} {version}")
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_args(args)
        return _dispatch(args)
    except DsnsError as exc:
        print(exc.cli_line(), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def _dispatch(args: argparse.Namespace) -> int:
    from monitor.cli.options import command_config
    from monitor.ops.logs import setup_logging

    if args.needs == "none":
        setup_logging(args.log_level or "WARNING", args.log_format)
        return _finish(args.handler(args))
    config = command_config(args)
    setup_logging(args.log_level or config.logging.level, args.log_format, config.secret_env_names())
    if args.needs == "config":
        return _finish(args.handler(args, config))
    import asyncio

    return asyncio.run(_with_app(args, config))


def _finish(result: object) -> int:
    import asyncio
    import inspect

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
