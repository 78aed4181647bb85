"""Records and errors shared by every collector.

Collectors fetch and parse only: they return `RawPost` records and a new cursor, and
know nothing of the database, the analysis or the bot.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

__all__ = [
    "RawPost",
    "FetchResult",
    "SourceError",
    "SourceHTTPError",
    "SourceNetworkError",
    "SourceParseError",
    "SourceRateLimited",
    "PreviewDisabledError",
    "message_id_cursor",
]


@dataclass(frozen=True, slots=True)
class RawPost:
    """One post as a collector saw it.

    `stream` + `external_id` is the post's identity: for Telegram the channel username and
    the message id (whichever backend saw it), for feeds the feed name and the entry GUID.
    """

    stream: str
    external_id: str
    url: str | None
    published_at: datetime | None
    text: str
    photos: tuple[str, ...] = ()
    edited: bool = False
    kind: str = "message"
    title: str | None = None
    views: int | None = None
    forwarded_from: str | None = None
    link_preview: str | None = None


@dataclass(slots=True)
class FetchResult:
    """What one poll of one source brought back.

    `not_modified` is true for an HTTP 304: the posts list is empty and the cursor unchanged.
    `covered` is the (lowest, highest) message id of a contiguous window the source showed in
    full, so a stored post inside it that is missing from `posts` was deleted; None when the
    collector cannot vouch for any range (feeds, an empty page).
    """

    posts: list[RawPost] = field(default_factory=list)
    cursor: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    covered: tuple[int, int] | None = None


class SourceError(Exception):
    """A source could not be fetched or parsed; the message names the source and the fix."""

    def __init__(self, source: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.retry_after = retry_after


class SourceNetworkError(SourceError):
    """Connection refused, DNS failure, timeout: the network, not the source, is at fault."""


class SourceHTTPError(SourceError):
    """The server answered with an error status."""

    def __init__(self, source: str, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(source, message, retry_after=retry_after)
        self.status = status


class SourceRateLimited(SourceHTTPError):
    """429 or 503 with Retry-After: wait at least `retry_after` seconds."""


class SourceParseError(SourceError):
    """The body was fetched but could not be read (changed layout, malformed XML)."""


class PreviewDisabledError(SourceError):
    """t.me/s/<channel> redirected to t.me/<channel>: the channel's web preview is off."""


def message_id_cursor(cursor: str | None, source: str) -> int | None:
    """A Telegram collector's cursor (the highest message id stored) as an int.

    An unreadable cursor must not wedge the source: it is logged and the next poll starts over
    as a first poll.
    """
    if cursor is None:
        return None
    try:
        return int(cursor)
    except ValueError:
        logging.getLogger("collectors").warning("cursor ignored", extra={"source": source, "cursor": cursor})
        return None
