"""Handing the memory the daemon has freed back to the system.

A poll that stores posts makes and drops a few MB (pages, tokens, matches, story candidates,
SQLite's statements in its threads). glibc's malloc keeps the freed pages in its heaps for
reuse, and the daemon stays that much larger between polls: `malloc_trim(0)` returns every
arena's free pages (measured on bench/daemon_memory.py's day: ~2 MB less resident, at 0.15 ms
a call). Where the C library has no `malloc_trim` (musl, macOS) nothing is done.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

__all__ = ["release_freed_memory"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim  # the interpreter's own C library
    except (AttributeError, OSError):
        return None


def release_freed_memory() -> None:
    """Return the C heap's free pages to the system (after start-up, and after a poll or live posts stored some)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
