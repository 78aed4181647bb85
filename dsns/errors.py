"""The root of the project's own errors, importable by every package (it imports nothing).

An error of ours carries a message fit for the user; the command line prints it as one line
(`dsns-monitor: <label>: <message>`) and exits with its `exit_code` in one place, monitor/cli/main.py.
Anything else that escapes is a bug and shows a traceback.
"""

from __future__ import annotations

__all__ = ["DsnsError", "UsageError"]


class DsnsError(Exception):
    """An error the user can act on; the message names the file, source or key at fault."""

    label: str | None = None  # what failed, before the message: "archive error", "bad query"
    exit_code: int = 1

    def cli_line(self) -> str:
        """The one line the command prints for this error."""
        return f"dsns-monitor: {self.label}: {self}" if self.label else f"dsns-monitor: {self}"


class UsageError(DsnsError):
    """The command was asked for something it cannot do as given (a wrong option, a missing
    credential); exit code 2, like argparse's own usage errors."""

    exit_code = 2
