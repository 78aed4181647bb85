"""What one post may hold, and parsing under a time budget.

A source is untrusted input: a title of megabytes, a text of hundreds of megabytes or a post
with 300 photos must not fill the archive or stall the daemon. Oversized fields are cut (the
post is kept: its start is what readers and the analysis need); parsing runs in a worker
thread so the event loop stays free, and a poll stops waiting for it after a budget.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import TypeVar

from collectors.base import RawPost, SourceParseError

__all__ = ["DEFAULT_PARSE_TIMEOUT", "DEFAULT_MAX_ENTRIES", "MAX_TITLE_BYTES", "MAX_TEXT_BYTES", "MAX_PHOTOS", "MAX_HTML_CHARS", "trimmed", "cut", "parse_in_thread"]

DEFAULT_PARSE_TIMEOUT = 30.0
DEFAULT_MAX_ENTRIES = 500
MAX_TITLE_BYTES = 1024
MAX_TEXT_BYTES = 64 * 1024
MAX_PHOTOS = 10
# HTML of one field read at most: its text is cut at 64 KB anyway, and markup rarely outweighs
# text 4:1 in a real article. lexbor holds the GIL while it parses, so this also bounds how long
# one field can keep the event loop waiting (tens of milliseconds).
MAX_HTML_CHARS = 256 * 1024

T = TypeVar("T")


def cut(text: str, max_bytes: int) -> str:
    """`text` cut to at most `max_bytes` of UTF-8, on a character boundary, marked with "…"."""
    if len(text) * 4 <= max_bytes or len(encoded := text.encode()) <= max_bytes:
        return text
    return encoded[: max_bytes - 3].decode(errors="ignore").rstrip() + "…"


def trimmed(post: RawPost) -> RawPost:
    """`post` within the caps on title, text and photos (the same object when it already is)."""
    title = cut(post.title, MAX_TITLE_BYTES) if post.title else post.title
    text = cut(post.text, MAX_TEXT_BYTES)
    photos = post.photos[:MAX_PHOTOS]
    if title is post.title and text is post.text and len(photos) == len(post.photos):
        return post
    return dataclasses.replace(post, title=title, text=text, photos=photos)


async def parse_in_thread(
    function: Callable[..., T], *args: object, source: str, budget: float,
    run: Callable[..., Awaitable[T]] | None = None,
) -> T:
    """`function(*args)` in a worker thread, or through `run` (a batch command's worker
    processes, `AnalysisPool.run`); a `SourceParseError` when it outlasts `budget` seconds.

    The thread cannot be killed and runs on, but the poll gives up waiting for it: that source
    fails this time while the rest of the daemon carries on.
    """
    try:
        work = asyncio.to_thread(function, *args) if run is None else run(function, *args)
        return await asyncio.wait_for(work, budget)
    except TimeoutError as exc:
        raise SourceParseError(source, f"parse took longer than {budget:g} s; the page is refused") from exc
