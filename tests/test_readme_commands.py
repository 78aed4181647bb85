"""The README's command table names every command `dsns-monitor --help` lists."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.cli.main import build_parser

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_command_is_in_the_readme_table() -> None:
    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    table = README.read_text(encoding="utf-8").split("## Commands", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| `")]
    named = {row.split("`")[1].split()[0] for row in rows}
    assert set(commands.choices) <= named, set(commands.choices) - named
    for name, sub in commands.choices.items():  # and the subcommands' own actions (telegram login)
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                for inner in action.choices:
                    assert any(row.startswith(f"| `{name} {inner}") for row in rows), (name, inner)
