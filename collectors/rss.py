"""RSS/Atom feeds over httpx with conditional GET, parsed by feedparser.

feedparser gets the raw bytes, so the XML declaration's charset decides the decoding
(windows-1251 Ukrainian feeds come out right).
"""

from __future__ import annotations

import calendar
import logging
import xml.sax
from datetime import UTC, datetime
from xml.parsers import expat

import feedparser
import feedparser.api
import httpx

from collectors.base import FetchResult, Payload, RawPost, SourceError, SourceParseError
from collectors.budget import (
    DEFAULT_MAX_ENTRIES,
    DEFAULT_PARSE_TIMEOUT,
    MAX_HTML_CHARS,
    parse_in_thread,
    trimmed,
)
from collectors.html import html_to_text
from collectors.http import AddressPolicy, fetch
from dsns.redact import redact

__all__ = ["RSSCollector", "parse_feed", "PARSER_VERSION"]

log = logging.getLogger("dsns_monitor.rss")

# Expat with buffered text first: see collectors._sax.
if "collectors._sax" not in feedparser.api.PREFERRED_XML_PARSERS:
    feedparser.api.PREFERRED_XML_PARSERS.insert(0, "collectors._sax")


def _plain(html: str) -> str:
    return html_to_text(html[:MAX_HTML_CHARS])

# Stored with every feed body kept for `reparse`; bump it when `parse_feed` reads feeds differently.
PARSER_VERSION = "rss/1"

# feedparser reads a feed that is not well-formed XML with its pure-Python lenient parser, at up
# to ~10 s per megabyte of markup; beyond this size such a feed is refused instead.
LENIENT_MAX_BYTES = 2 * 1024 * 1024


def _xml_error(content: bytes) -> str | None:
    """Why `content` is not well-formed XML (expat, in C: milliseconds per megabyte), or None."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    try:
        parser.Parse(content, True)
    except expat.ExpatError as exc:
        return str(exc)
    return None


def _published(entry: feedparser.FeedParserDict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get skips feedparser's deprecated published→updated key aliasing (and its warning).
        value = dict.get(entry, key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), UTC)
            except (ValueError, OverflowError, OSError):
                continue  # "year 0" and friends: an impossible date is no date
    return None


def _images(entry: feedparser.FeedParserDict) -> tuple[str, ...]:
    urls: list[str] = []
    for link in entry.get("links", []):
        if link.get("rel") == "enclosure" and str(link.get("type", "")).startswith("image/"):
            urls.append(link.get("href", ""))
    for media in entry.get("media_content", []) + entry.get("media_thumbnail", []):
        medium = media.get("medium")
        type_ = str(media.get("type", ""))
        if medium == "image" or type_.startswith("image/") or (not medium and not type_):
            urls.append(media.get("url", ""))
    seen: dict[str, None] = {}
    for url in urls:
        if url.startswith(("http://", "https://")):
            seen.setdefault(url, None)
    return tuple(seen)


def parse_feed(
    content: bytes, *, stream: str, source: str | None = None, max_entries: int = DEFAULT_MAX_ENTRIES
) -> list[RawPost]:
    """Entries of an RSS/Atom document as posts, oldest first, each within `collectors.budget`'s caps.

    An entry is keyed by its GUID, else its link; entries with neither are skipped. Only the
    first `max_entries` are read (feeds list the newest first). Raises
    `SourceParseError` when the bytes are not a feed at all; a feed with a recoverable
    error (feedparser's "bozo") is still read if under `LENIENT_MAX_BYTES`.
    """
    name = source or stream
    if len(content) > LENIENT_MAX_BYTES and (error := _xml_error(content)) is not None:
        raise SourceParseError(
            name,
            f"not well-formed XML ({error}) in {len(content)} bytes: only feeds under "
            f"{LENIENT_MAX_BYTES} bytes are read despite XML errors",
        )
    try:
        # Entries become plain text through lexbor, so feedparser's own pure-Python HTML
        # sanitizing and URI rewriting (seconds per megabyte of markup) would be wasted.
        parsed = feedparser.parse(content, sanitize_html=False, resolve_relative_uris=False)
    except (UnicodeError, ValueError) as exc:
        # feedparser trusts the XML declaration's bytes; garbage there escapes as these.
        raise SourceParseError(name, f"not a readable RSS/Atom feed: {exc}") from exc
    if not parsed.get("version"):
        reason = parsed.get("bozo_exception") or "no <rss>, <feed> or <rdf:RDF> root element"
        raise SourceParseError(name, f"not a readable RSS/Atom feed: {reason}")
    if parsed.bozo and isinstance(parsed.get("bozo_exception"), xml.sax.SAXException):
        # Real feeds are often slightly broken (a stray &); what the lenient parser recovers
        # is kept rather than losing the whole feed until its owner fixes it.
        log.warning("feed is malformed; kept what it could", extra={
            "source": name, "error": str(parsed.bozo_exception), "entries": len(parsed.entries),
        })
    posts: list[RawPost] = []
    if len(parsed.entries) > max_entries:
        log.warning("feed has too many entries; read the first ones", extra={
            "source": name, "entries": len(parsed.entries), "read": max_entries,
        })
    for entry in parsed.entries[:max_entries]:
        candidates = (entry.get("id"), entry.get("guid"), entry.get("link"))
        key = next((str(v).strip() for v in candidates if v and str(v).strip()), "")
        if not key:
            continue  # nothing to tell this entry apart from the next poll's copy of it
        title = _plain(entry.get("title", "")) or None
        summary = entry.get("summary") or ""
        content_list = entry.get("content") or []
        body = (content_list[0].get("value") or "") if content_list else ""
        text = _plain(body if len(body) > len(summary) else summary)
        posts.append(trimmed(
            RawPost(
                stream=stream,
                external_id=key,
                url=entry.get("link"),
                published_at=_published(entry),
                text=text,
                title=title,
                photos=_images(entry),
                kind="article",
            )
        ))
    posts.sort(key=lambda p: p.published_at or datetime.min.replace(tzinfo=UTC))
    return posts


class RSSCollector:
    """One feed. `poll` sends the stored ETag / Last-Modified and returns nothing on 304.

    Redirects are followed only where `policy` allows (default: the feed's own host and public
    ones), never from https to http.
    """

    def __init__(
        self, name: str, url: str, *, max_bytes: int = 10 * 1024 * 1024, max_entries: int = DEFAULT_MAX_ENTRIES,
        parse_timeout: float = DEFAULT_PARSE_TIMEOUT, policy: AddressPolicy | None = None,
    ) -> None:
        self.name = name
        self.url = url
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.parse_timeout = parse_timeout
        self.policy = policy

    async def poll(
        self, client: httpx.AsyncClient, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        headers = {"Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        response = await fetch(
            client, self.url, source=self.name, headers=headers, max_bytes=self.max_bytes, policy=self.policy
        )
        if response.not_modified:
            return FetchResult(not_modified=True)
        payload = Payload(redact(self.url), response.status, response.content, datetime.now(UTC), PARSER_VERSION)
        try:
            posts = await parse_in_thread(
                lambda: parse_feed(response.content, stream=self.name, max_entries=self.max_entries),
                source=self.name, budget=self.parse_timeout,
            )
        except SourceError as exc:
            exc.payloads = [payload]
            raise
        return FetchResult(posts=posts, etag=response.etag, last_modified=response.last_modified, payloads=[payload])
