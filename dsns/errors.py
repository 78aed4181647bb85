"""The root of the project's own errors, importable by every package (it imports nothing).

An error of ours carries a message fit for the user; the command line prints it as one line
(`dsns-monitor: <label>: <message>`) and exits with its `exit_code` in one place, monitor/cli/main.py.
Anything else that escapes is a bug and shows a traceback.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DsnsError", "UsageError"]


class DsnsError(Exception):
    """An error the user can act on; the message names the file, source or key at fault."""

    label: str | None = None  # what failed, before the message: "archive error", "bad query"
    exit_code: int = 1

    def cli_line(self) -> str:
        """The one line the command prints for this error."""
        return f"dsns-monitor: {self.label}: {self}" if self.label else f"dsns-monitor: {self}"

    def __reduce__(self) -> tuple[Any, ...]:
        # These errors cross process boundaries (a page parsed in an analysis pool worker raises
        # SourceParseError there); pickle's default calls __init__ with `args` alone, which
        # subclasses taking a source and keyword extras refuse, and the pool then took the
        # unreadable answer for a dead worker. Rebuilt from their state instead.
        return (_restored, (type(self), self.args, self.__dict__))


def _restored(cls: type[DsnsError], args: tuple[Any, ...], state: dict[str, Any]) -> DsnsError:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class UsageError(DsnsError):
    """The command was asked for something it cannot do as given (a wrong option, a missing
    credential); exit code 2, like argparse's own usage errors."""

    exit_code = 2
