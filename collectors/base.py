"""Records and errors shared by every collector.

Collectors fetch and parse only: they return `RawPost` records and a new cursor, and
know nothing of the database, the analysis or the bot.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dsns.errors import DsnsError

__all__ = [
    "RawPost",
    "Rejected",
    "Payload",
    "FetchResult",
    "SourceError",
    "SourceHTTPError",
    "SourceNetworkError",
    "SourceParseError",
    "SourceLayoutError",
    "SourceRateLimited",
    "PreviewDisabledError",
    "message_id_cursor",
    "message_id",
    "valid_posts",
    "CHANNEL_NAME",
]

# A Telegram channel's username, the one rule for the config and both Telegram collectors:
# letters, digits and _, starting with a letter, at most 32 long.
CHANNEL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")

# Telegram message ids are 32-bit in its API; anything larger is not a message of a channel.
MAX_MESSAGE_ID = 2**31 - 1
# The largest INTEGER SQLite stores.
_MAX_SQLITE_INT = 2**63 - 1
# No DSNS post or news article is older than this, and a date beyond the far bound is no date
# (nearer future dates are clamped when stored, see storage.posts).
_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)
# A feed GUID is a URL or a tag URI; longer is junk that would bloat the unique index.
_MAX_ID_CHARS = 2048


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


@dataclass(frozen=True, slots=True)
class Rejected:
    """A post a source showed that cannot be archived (an impossible id or date, text SQLite
    refuses): skipped and recorded, while the rest of its page is stored and the cursor moves."""

    stream: str
    external_id: str
    reason: str

    @property
    def label(self) -> str:
        """stream/id for logs, the id shortened (a hostile one may be thousands of characters)."""
        shown = self.external_id if len(self.external_id) <= 40 else self.external_id[:40] + "…"
        return f"{self.stream}/{shown}"


@dataclass(frozen=True, slots=True)
class Payload:
    """One body a source answered with, as fetched, so a later parser can read it again.

    `url` is already redacted (`dsns.redact.redact`); `parser` names the parser and its
    version that read `body` when it was fetched.
    """

    url: str
    status: int
    body: bytes
    fetched_at: datetime
    parser: str


@dataclass(slots=True)
class FetchResult:
    """What one poll of one source brought back.

    `not_modified` is true for an HTTP 304: the posts list is empty and the cursor unchanged.
    `covered` is the (lowest, highest) message id of a contiguous window the source showed in
    full, so a stored post inside it that is missing from `posts` was deleted; None when the
    collector cannot vouch for any range (feeds, an empty page). `rejected` lists the posts
    the collector saw but could not read (the valid ones of the page are in `posts`).
    `payloads` are the bodies the posts were parsed from, for the archive to keep.
    """

    posts: list[RawPost] = field(default_factory=list)
    cursor: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False
    covered: tuple[int, int] | None = None
    rejected: list[Rejected] = field(default_factory=list)
    payloads: list[Payload] = field(default_factory=list)

    def message_ids(self) -> tuple[int, ...]:
        """The Telegram message ids this poll read (feeds' GUIDs are not ids: none)."""
        return tuple(sorted({i for i in (message_id(p.external_id) for p in self.posts if p.kind != "article") if i}))


class SourceError(DsnsError):
    """A source could not be fetched or parsed; the message names the source and the fix."""

    label = "source error"
    kind = "source"  # what failed, for the poll log: each subclass names itself

    def __init__(self, source: str, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"{source}: {message}")
        self.source = source
        self.retry_after = retry_after
        # The bodies fetched before the failure (the one that could not be parsed among them):
        # kept by the archive so `reparse` can read them once the parser is fixed.
        self.payloads: list[Payload] = []


class SourceNetworkError(SourceError):
    """Connection refused, DNS failure, timeout: the network, not the source, is at fault."""

    kind = "network"


class SourceHTTPError(SourceError):
    """The server answered with an error status."""

    kind = "http"

    def __init__(self, source: str, message: str, *, status: int, retry_after: float | None = None) -> None:
        super().__init__(source, message, retry_after=retry_after)
        self.status = status


class SourceRateLimited(SourceHTTPError):
    """429 or 503 with Retry-After: wait at least `retry_after` seconds."""

    kind = "rate_limited"


class SourceParseError(SourceError):
    """The body was fetched but could not be read (changed layout, malformed XML)."""

    kind = "parse"


class SourceLayoutError(SourceParseError):
    """The body parsed, but not as this source's bodies did before (no posts, posts without a
    date or content, entries without links): the source probably changed its layout."""

    kind = "layout"


class PreviewDisabledError(SourceError):
    """t.me/s/<channel> redirected to t.me/<channel>: the channel's web preview is off."""

    kind = "preview_disabled"


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
        logging.getLogger("dsns_monitor.collectors").warning("cursor ignored", extra={"source": source, "cursor": cursor})
        return None


def message_id(raw: str) -> int | None:
    """A Telegram message id written as text, or None for anything that cannot be one
    ("²", "٣", thousands of digits, 2^63)."""
    if not (raw.isascii() and raw.isdecimal()) or len(raw) > len(str(MAX_MESSAGE_ID)):
        return None
    value = int(raw)
    return value if 0 < value <= MAX_MESSAGE_ID else None


def valid_posts(posts: list[RawPost]) -> tuple[list[RawPost], list[Rejected]]:
    """The posts the archive can hold, and the others with the reason.

    The one check every collector's output passes before it is stored, so an odd value from
    any parser costs that post only. A view counter out of range is dropped rather than the post.
    """
    kept: list[RawPost] = []
    rejected: list[Rejected] = []
    for post in posts:
        reason = _unarchivable(post)
        if reason is not None:
            rejected.append(Rejected(post.stream, post.external_id, reason))
            continue
        if post.published_at is not None and post.published_at.tzinfo is None:
            post = dataclasses.replace(post, published_at=post.published_at.replace(tzinfo=UTC))
        if post.views is not None and not 0 <= post.views <= _MAX_SQLITE_INT:
            post = dataclasses.replace(post, views=None)
        kept.append(post)
    return kept, rejected


def _unarchivable(post: RawPost) -> str | None:
    if not post.external_id or len(post.external_id) > _MAX_ID_CHARS:
        return f"an id of {len(post.external_id)} characters"
    if post.kind != "article" and message_id(post.external_id) is None:
        return "not a Telegram message id"
    when = post.published_at
    if when is not None:
        aware = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
        if not _EARLIEST <= aware < _LATEST:
            return f"impossible date {when.isoformat()}"
    for value in (post.stream, post.external_id, post.url, post.text, post.title, post.forwarded_from,
                  post.link_preview, *post.photos):
        if value is not None and not _encodable(value):
            return "text that is not valid Unicode (a lone surrogate)"
    return None


def _encodable(value: str) -> bool:
    try:
        value.encode()
    except UnicodeEncodeError:
        return False
    return True
