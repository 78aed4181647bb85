"""Logging for the CLI and the daemon: readable lines by default, JSON for journald/Loki.

Fields passed with `extra={...}` are printed as stable `key=value` pairs (or JSON keys), and
anything that looks like a secret (bot token, API hash, session string) is redacted.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from dsns.redact import redact, register_secret

__all__ = ["setup_logging", "register_secret", "quiet_during_progress", "KeyValueFormatter", "JSONFormatter"]

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def _extras(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


def _shown(value: object) -> str:
    # Quoted when a value would run into the next pair (an error message, an empty string).
    text = str(value)
    return repr(text) if not text or any(c.isspace() or c == "=" for c in text) else text


class KeyValueFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = _extras(record)
        if extras:
            line += " " + " ".join(f"{k}={_shown(v)}" for k, v in extras.items())
        return redact(line)


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v if isinstance(v, (int, float, bool, type(None))) else str(v) for k, v in _extras(record).items()})
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False))


def setup_logging(level: str = "INFO", fmt: str = "text", secrets_env: Iterable[str] = ()) -> None:
    """Log to stderr at `level`, as text or JSON; redact the values of `secrets_env` variables."""
    for name in secrets_env:
        register_secret(os.environ.get(name))
    handler = _StderrHandler()
    handler.setFormatter(JSONFormatter() if fmt == "json" else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Per-request lines from httpx and job bookkeeping from APScheduler drown the useful ones.
    # pymorphy3 says "Loading dictionaries" each time an analyser is built; matplotlib lists its fonts.
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite", "telethon", "pymorphy3", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is at the time: while a rich progress bar is shown it is
    the bar's proxy, which prints the line above the bar instead of through it."""

    @property  # type: ignore[override]
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


@contextmanager
def quiet_during_progress() -> Iterator[None]:
    """While a progress bar counts the posts, the per-post INFO lines only drown it: keep warnings
    and errors (and everything when DEBUG was asked for)."""
    root = logging.getLogger()
    previous = root.level
    if previous == logging.INFO:
        root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.setLevel(previous)
