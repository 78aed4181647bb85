"""Running the `dsns-monitor` command in a test: in-process by default (the same `main(argv)` the
entry point calls, with stdin/stdout/stderr swapped for strings), as a real process only where the
process boundary is what a test checks (signals, kill -9, the entry point's exit code)."""

from __future__ import annotations

import io
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

from monitor.cli.main import main

__all__ = ["CliResult", "dsns", "dsns_process"]


@dataclass(frozen=True)
class CliResult:
    """What a finished command left: the fields of `subprocess.CompletedProcess` the tests read."""

    returncode: int
    stdout: str
    stderr: str


def dsns(*args: str, input: str | None = None, timeout: float | None = None) -> CliResult:
    """`dsns-monitor ARGS` in this process. `timeout` is accepted for call sites shared with
    `dsns_process`; an in-process command is bounded by the test's own timeout."""
    out, err = io.StringIO(), io.StringIO()
    stdin, sys.stdin = sys.stdin, io.StringIO(input or "")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exit_:  # argparse: --help, --version, a usage error
                code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        sys.stdin = stdin
    return CliResult(code, out.getvalue(), err.getvalue())


def dsns_process(*args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`dsns-monitor ARGS` as a real process, as a user or systemd starts it."""
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli.main", *args], capture_output=True, text=True, input=input, timeout=timeout,
    )
