"""The optional parts of the install: a library of an extra imported where it is first needed.

The core install runs the daemon and the bot with telegram_web and rss sources. `research`
(Datasette, matplotlib, the static site's Jinja2 and Pillow) and `mtproto` (Telethon) are extras,
imported only by the commands and sources that use them, through `require`: without the
extra, the user reads one line naming it, never an ImportError's traceback.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from dsns.errors import UsageError

__all__ = ["MissingExtraError", "require"]


class MissingExtraError(UsageError):
    """A command or source needs a library of an extra that is not installed."""

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f"{what} needs the {extra} extra: pip install 'dsns-monitor[{extra}]'")
        self.extra = extra


def require(module: str, extra: str, what: str) -> ModuleType:
    """`module` imported, or `MissingExtraError` saying that `what` (a command, an option, a
    source) needs `extra`."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # also an extra installed half (one of its own dependencies gone)
        raise MissingExtraError(what, extra) from exc
