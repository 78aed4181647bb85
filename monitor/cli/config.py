"""Configuration commands: `init` writes a starter config, `check-config` shows what a config means."""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsns.errors import DsnsError
from monitor.cli.options import EXIT_OK, add_config

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = ["add_parsers", "starter_config", "render_config"]


def add_parsers(commands: argparse._SubParsersAction) -> None:
    init = commands.add_parser(
        "init", help="write a starter configuration file",
        description=(
            "Write a starter config: every key listed with its default (commented out), the national "
            "DSNS channel enabled, regional channels listed commented out. Never overwrites a file."
        ),
    )
    init.add_argument("path", nargs="?", default="config.toml", metavar="PATH", help="file to write (default: %(default)s)")
    init.set_defaults(handler=_init, needs="none")

    check = commands.add_parser(
        "check-config", help="validate a configuration and print its effective values",
        description=(
            "Validate the config (exit 2 with one line naming the key when it is wrong) and print every "
            "value in effect, defaults included, as TOML; secrets are shown only as set or not set."
        ),
    )
    add_config(check)
    check.set_defaults(handler=_check, needs="config")


def starter_config() -> str:
    return resources.files("monitor").joinpath("starter.toml").read_text(encoding="utf-8")


def _init(args: argparse.Namespace) -> int:
    path = Path(args.path)
    try:
        # O_EXCL: an existing config (perhaps hand-tuned) is never replaced, not even by a race.
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640)
    except FileExistsError:
        raise DsnsError(f"{path}: already exists; not overwritten") from None
    except OSError as exc:
        raise DsnsError(f"{path}: cannot write: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(starter_config())
    print(f"wrote {path}; check it with `dsns-monitor check-config --config {path}`", file=sys.stderr)
    return EXIT_OK


def _check(args: argparse.Namespace, config: Config) -> int:
    sys.stdout.write(render_config(config))
    print(f"{args.config}: ok ({sum(s.enabled for s in config.sources)} source(s) enabled)", file=sys.stderr)
    return EXIT_OK


def render_config(config: Config) -> str:
    """The effective configuration as TOML, then which secret variables are set (never their values)."""
    data = config.model_dump(mode="json")
    lines: list[str] = []
    for section, values in data.items():
        if section == "sources":
            continue
        lines += [f"[{section}]", *_keys(values), ""]
    for source in data["sources"]:
        lines += ["[[sources]]", *_keys(source), ""]
    lines.append("# Secrets, from the environment:")
    for name in config.secret_env_names():
        lines.append(f"#   {name}: {'set (********)' if os.environ.get(name, '').strip() else 'not set'}")
    return "\n".join(lines) + "\n"


def _keys(values: dict[str, Any]) -> list[str]:
    # JSON's strings, numbers, booleans and lists of them are valid TOML; TOML has no null.
    return [f"{key} = {json.dumps(value, ensure_ascii=False)}" if value is not None else f"# {key} is not set"
            for key, value in values.items()]
