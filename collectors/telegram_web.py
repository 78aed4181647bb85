"""The public web preview of a Telegram channel, ``t.me/s/<channel>``: no credentials, no database.

A page lists about 20 messages, oldest first; ``?before=ID`` gives the page of messages older
than ID. The parser reads the same markup t.me serves (``tgme_widget_message`` widgets);
the collector pages back until it reaches the last message it already had.

Two quirks of the real site shape the code:
- a channel whose preview is disabled (or that does not exist) answers ``/s/<name>`` with a
  redirect to ``/<name>``, so redirects are never followed blindly;
- t.me sometimes serves a "No posts found" page to clients that ask too often, which is
  indistinguishable from the end of the channel; paging stops there and the next poll retries.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from selectolax.lexbor import LexborHTMLParser, LexborNode

from collectors.base import (
    CHANNEL_NAME,
    FetchResult,
    Payload,
    PreviewDisabledError,
    RawPost,
    Rejected,
    SourceError,
    SourceHTTPError,
    SourceLayoutError,
    SourceParseError,
    message_id,
    message_id_cursor,
)
from collectors.budget import DEFAULT_PARSE_TIMEOUT, MAX_TEXT_BYTES, parse_in_thread, trimmed
from collectors.html import parse_html
from collectors.http import DEFAULT_MAX_BYTES, AddressPolicy, fetch, redirect_target
from dsns.redact import redact

__all__ = ["LinkPreview", "WebPost", "parse_page", "parse_body", "parse_views", "TelegramWebCollector", "PARSER_VERSION"]

log = logging.getLogger("dsns_monitor.telegram_web")

_MAX_REDIRECTS = 3
# The URL stops at the next quote, bracket or blank and is never rescanned (possessive), so a
# style of many unclosed "url(" costs one pass.
_BACKGROUND_RE = re.compile(r"background-image\s*:\s*url\(\s*['\"]?([^'\"()\s]++)['\"]?\s*\)", re.I)
_VIEWS_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMB]?)$", re.I)
_VIEW_UNITS = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}
_EDITED_RE = re.compile(r"\bedited\b", re.I)
_BLANK_LINES_RE = re.compile(r"\n{3,}")
_MESSAGE = ".tgme_widget_message[data-post]"
_TEXT = ".tgme_widget_message_text"
_PARTS = ".tgme_widget_message_text, .tgme_widget_message_photo_wrap, .tgme_widget_message_video_thumb"
# Far above any real page (about 20 messages with up to 10 photos each), far below a costly one.
_MAX_MESSAGES = 200
_MAX_PARTS = 4000
_MAX_TEXT_NODES = 100_000
# Runs a picklable function with its arguments and gives its result (`AnalysisPool.run`).
Runner = Callable[..., Awaitable[Any]]
# Stored with every page kept for `reparse`; bump it when `parse_page` reads pages differently.
PARSER_VERSION = "telegram_web/1"


@dataclass(frozen=True, slots=True)
class LinkPreview:
    """The card t.me draws under a message that links somewhere."""

    url: str | None
    site: str | None
    title: str | None
    description: str | None


@dataclass(frozen=True, slots=True)
class WebPost:
    """One message as the web preview shows it.

    `published_at` is an aware UTC datetime (None only if t.me ever omits the date).
    `photos` holds every photo of the message, album items included, in page order;
    `video_thumbs` the poster frames of its videos.
    """

    id: int
    channel: str
    published_at: datetime | None
    text: str
    url: str
    edited: bool = False
    views: int | None = None
    photos: tuple[str, ...] = ()
    video_thumbs: tuple[str, ...] = ()
    kind: str = "message"
    forwarded_from: str | None = None
    link_preview: LinkPreview | None = None

    def to_raw(self) -> RawPost:
        """The collector-neutral record: stream is the lower-cased channel, id the message id;
        within `collectors.budget`'s caps."""
        return trimmed(RawPost(
            stream=self.channel.lower(),
            external_id=str(self.id),
            url=self.url,
            published_at=self.published_at,
            text=self.text,
            photos=self.photos + self.video_thumbs,
            edited=self.edited,
            kind=self.kind,
            views=self.views,
            forwarded_from=self.forwarded_from,
            link_preview=self.link_preview.url if self.link_preview else None,
        ))


def parse_views(value: str | None) -> int | None:
    """Turn t.me's view counter ("987", "1.2K", "436.6K", "1.5M") into an int; None if unreadable."""
    if not value:
        return None
    match = _VIEWS_RE.match(value.strip().replace(",", ""))
    if not match:
        return None
    try:
        # Decimal, not float: 436.6 * 1000 must be exactly 436600.
        return int(Decimal(match.group(1)) * _VIEW_UNITS[match.group(2).upper()])
    except InvalidOperation:
        return None


def parse_page(
    html: str, base_url: str = "https://t.me", *, source: str = "telegram_web", rejected: list[Rejected] | None = None
) -> list[WebPost]:
    """Parse a ``t.me/s/<channel>`` page into its messages, oldest first.

    A "No posts found" page and an empty channel give ``[]``. A page with none of t.me's
    message markup (a captcha, an error page, a changed layout) raises `SourceLayoutError`
    naming `source`, so a silent layout change cannot look like a quiet channel. A message
    that cannot be read (an impossible id or date) is left out and added to `rejected`
    (logged when no list is given): it must not cost the rest of the page. Time is linear in
    the page's size: nesting is capped (`collectors.html.shallow`) before lexbor.
    """
    tree = parse_html(html)
    nodes = tree.css(_MESSAGE)
    _check_shape(tree, len(nodes), source)
    if not nodes:
        if tree.css_first(".tme_no_messages_found") or tree.css_first(".tgme_channel_history"):
            return []
        raise SourceLayoutError(
            source,
            "the page has no Telegram message markup (no tgme_widget_message, tgme_channel_history "
            "or tme_no_messages_found): not a t.me/s page, or t.me changed its layout",
        )
    posts: dict[int, WebPost] = {}
    for node in nodes:
        try:
            post = _parse_message(node, base_url, source)
        except SourceParseError as exc:
            channel, _, raw_id = (node.attributes.get("data-post") or "").rpartition("/")
            _skipped([Rejected(channel.lower(), raw_id, str(exc))], source, rejected)
            continue
        posts[post.id] = post
    return [posts[key] for key in sorted(posts)]


def parse_body(html: str, base_url: str, source: str) -> tuple[list[WebPost], list[Rejected]]:
    """`parse_page`'s posts and the messages it left out, as values: what a worker process
    parsing the page sends back."""
    rejected: list[Rejected] = []
    return parse_page(html, base_url, source=source, rejected=rejected), rejected


def _skipped(skipped: list[Rejected], source: str, rejected: list[Rejected] | None) -> None:
    """Messages left out go to `rejected`, or to the log when the caller keeps no list."""
    if rejected is not None:
        rejected += skipped
        return
    for item in skipped:
        log.warning("t.me message skipped", extra={"source": source, "post": item.label, "error": item.reason})


def _check_shape(tree: LexborHTMLParser, messages: int, source: str) -> None:
    """Refuse markup no t.me page has, on which per-message work would multiply: each message
    searches its own subtree, so nested messages (or thousands of parts) cost their product."""
    if messages > _MAX_MESSAGES:
        raise SourceParseError(source, f"the page has {messages} messages (t.me shows about 20): refused")
    if tree.css_first(f"{_MESSAGE} {_MESSAGE}") is not None:
        raise SourceParseError(source, "the page has messages inside messages: not a t.me/s page, refused")
    parts = len(tree.css(_PARTS))
    if parts > _MAX_PARTS:
        raise SourceParseError(source, f"the page has {parts} message texts and photos (t.me: a few dozen): refused")


def _parse_message(node: LexborNode, base_url: str, source: str) -> WebPost:
    data_post = node.attributes.get("data-post") or ""
    channel, _, raw_id = data_post.rpartition("/")
    number = message_id(raw_id)
    if not channel or number is None:
        raise SourceParseError(source, f"unexpected data-post {data_post[:80]!r} on a t.me message")
    text_node = next((n for n in node.css(_TEXT) if _is_own(n, node)), None)
    meta = node.css_first(".tgme_widget_message_meta")
    views = node.css_first(".tgme_widget_message_views")
    return WebPost(
        id=number,
        channel=channel,
        published_at=_published_at(node, source, data_post),
        text=_text_of(text_node) if text_node else "",
        url=f"{base_url.rstrip('/')}/{channel}/{number}",
        edited=bool(meta and _EDITED_RE.search(meta.text(deep=True))),
        views=parse_views(views.text(deep=True)) if views else None,
        photos=_backgrounds(node, ".tgme_widget_message_photo_wrap", base_url),
        video_thumbs=_backgrounds(node, ".tgme_widget_message_video_thumb", base_url),
        kind="service" if _has_class(node, "service_message") else "message",
        forwarded_from=_forwarded_from(node),
        link_preview=_link_preview(node),
    )


def _published_at(node: LexborNode, source: str, data_post: str) -> datetime | None:
    # Only the date link's <time>: a video's duration is also a <time>, without datetime.
    time_node = node.css_first("a.tgme_widget_message_date time[datetime]")
    if time_node is None:
        log.warning("t.me message without a date", extra={"source": source, "post": data_post})
        return None
    value = time_node.attributes.get("datetime") or ""
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # OverflowError: year 1 or 9999 moved across midnight to UTC
        raise SourceParseError(source, f"unreadable date {value[:80]!r} on {data_post[:80]}") from exc


def _has_class(node: LexborNode, name: str) -> bool:
    return name in (node.attributes.get("class") or "").split()


def _is_own(node: LexborNode, message: LexborNode) -> bool:
    """False for parts of a quoted reply or a link preview, which carry the same class names."""
    current = node.parent
    while current is not None and current.mem_id != message.mem_id:
        if _has_class(current, "tgme_widget_message_reply") or _has_class(
            current, "tgme_widget_message_link_preview"
        ):
            return False
        current = current.parent
    return True


def _text_of(node: LexborNode) -> str:
    """Visible text with <br> as a line break; HTML source whitespace collapses as a browser would.

    Reading stops once there is more text than a post keeps (`MAX_TEXT_BYTES`) or after
    `_MAX_TEXT_NODES` nodes: a message of millions of tags costs no more than a long real one.
    """
    parts: list[str] = []
    size = 0
    for visited, child in enumerate(node.traverse(include_text=True)):
        if child.tag == "-text":
            parts.append(_collapsed(child.text_content or ""))
            size += len(parts[-1])
        elif child.tag == "br":
            parts.append("\n")
        if size > MAX_TEXT_BYTES or visited > _MAX_TEXT_NODES:
            break
    lines = [line.strip() for line in "".join(parts).split("\n")]
    text = "\n".join(lines)
    return (_BLANK_LINES_RE.sub("\n\n", text) if "\n\n\n" in text else text).strip()


def _collapsed(text: str) -> str:
    """`text` with each run of whitespace made one space, as a browser shows it: what
    `re.sub(r"\\s+", " ", text)` gives (str.split's whitespace is the same), in a third of its time."""
    words = text.split()
    if not words:
        return " " if text else ""
    return f"{' ' if text[0].isspace() else ''}{' '.join(words)}{' ' if text[-1].isspace() else ''}"


def _tidy(node: LexborNode | None) -> str | None:
    if node is None:
        return None
    return _text_of(node).replace("\n", " ") or None


def _backgrounds(node: LexborNode, selector: str, base_url: str) -> tuple[str, ...]:
    urls: dict[str, None] = {}
    for item in node.css(selector):
        match = _BACKGROUND_RE.search(item.attributes.get("style") or "")
        if match:
            urls.setdefault(urljoin(base_url + "/", match.group(1).strip()), None)
    return tuple(urls)


def _forwarded_from(node: LexborNode) -> str | None:
    name = _tidy(node.css_first(".tgme_widget_message_forwarded_from_name"))
    if name:
        return name
    header = _tidy(node.css_first(".tgme_widget_message_forwarded_from"))
    if header:
        return re.sub(r"^forwarded from\s*", "", header, flags=re.I) or None
    return None


def _link_preview(node: LexborNode) -> LinkPreview | None:
    card = node.css_first(".tgme_widget_message_link_preview")
    if card is None:
        return None
    return LinkPreview(
        url=card.attributes.get("href"),
        site=_tidy(card.css_first(".link_preview_site_name")),
        title=_tidy(card.css_first(".link_preview_title")),
        description=_tidy(card.css_first(".link_preview_description")),
    )


class TelegramWebCollector:
    """Reads one channel through ``{base_url}/s/{channel}``, paging back with ``?before=``.

    `first_pages`: pages read on the very first poll. `reread_pages`: pages always read, so
    edits to recent posts are seen. `max_pages`: the most a poll reads to close a gap.
    """

    def __init__(
        self,
        name: str,
        channel: str,
        base_url: str = "https://t.me",
        *,
        first_pages: int = 3,
        max_pages: int = 20,
        reread_pages: int = 3,
        max_bytes: int = DEFAULT_MAX_BYTES,
        parse_timeout: float = DEFAULT_PARSE_TIMEOUT,
        policy: AddressPolicy | None = None,
    ) -> None:
        channel = channel.strip().removeprefix("@")
        if not CHANNEL_NAME.fullmatch(channel):
            raise ValueError(f"{name}: {channel!r} is not a Telegram channel username")
        if min(first_pages, max_pages, reread_pages) < 1:
            raise ValueError(f"{name}: first_pages, max_pages and reread_pages must be at least 1")
        self.name = name
        self.channel = channel
        self.base_url = base_url.rstrip("/")
        self.first_pages = first_pages
        self.max_pages = max_pages
        self.reread_pages = reread_pages
        self.max_bytes = max_bytes
        self.parse_timeout = parse_timeout
        self.policy = policy or AddressPolicy.trusting([self.base_url])

    def page_url(self, before: int | None = None) -> str:
        """The preview page of the newest messages, or of those older than `before`."""
        url = f"{self.base_url}/s/{self.channel}"
        return url if before is None else f"{url}?before={before}"

    async def fetch_page(
        self, client: httpx.AsyncClient, before: int | None = None, *, rejected: list[Rejected] | None = None,
        payloads: list[Payload] | None = None, run: Runner | None = None,
    ) -> list[WebPost]:
        """GET one preview page and parse it (off the event loop: in a thread, or through `run`);
        unreadable messages go to `rejected`, the page's body to `payloads` (before parsing, so a
        page that cannot be parsed is kept too).

        Raises `PreviewDisabledError` when t.me redirects away from the /s/ page, and the
        `SourceError`s of `collectors.http.fetch` for network and HTTP failures.
        """
        url = self.page_url(before)
        for _ in range(_MAX_REDIRECTS + 1):
            response = await fetch(
                client, url, source=self.name, follow_redirects=False, max_bytes=self.max_bytes, policy=self.policy
            )
            if not 300 <= response.status < 400:
                if payloads is not None:
                    payloads.append(Payload(redact(url), response.status, response.content, datetime.now(UTC), PARSER_VERSION))
                html = response.content.decode("utf-8", errors="replace")
                posts, skipped = await parse_in_thread(
                    parse_body, html, self.base_url, self.name, source=self.name, budget=self.parse_timeout, run=run
                )
                _skipped(skipped, self.name, rejected)
                return posts
            if not response.location:
                raise SourceHTTPError(
                    self.name, f"HTTP {response.status} without Location from {redact(url)}", status=response.status
                )
            target = redirect_target(url, response.location, self.name)
            if "/s/" not in urlsplit(target).path:
                raise PreviewDisabledError(
                    self.name,
                    f"{redact(url)} redirects to {redact(target)}: the web preview of @{self.channel} is disabled "
                    "(or the channel does not exist); read it with a telegram_mtproto source instead",
                )
            url = target
        raise SourceHTTPError(
            self.name, f"more than {_MAX_REDIRECTS} redirects from {redact(self.page_url(before))}",
            status=response.status,
        )

    async def poll(self, client: httpx.AsyncClient, cursor: str | None) -> FetchResult:
        """Fetch what is new since `cursor` (the highest message id already stored).

        Reads the newest page, then pages back: on a first poll `first_pages` pages; else until
        the page reaching ``cursor + 1`` is read (so nothing is skipped), at least `reread_pages`
        and at most `max_pages` pages. Returns every post seen, oldest first, and the new cursor.
        """
        payloads: list[Payload] = []
        try:
            return await self._poll(client, cursor, payloads)
        except SourceError as exc:
            exc.payloads = payloads
            raise

    async def _poll(self, client: httpx.AsyncClient, cursor: str | None, payloads: list[Payload]) -> FetchResult:
        last = message_id_cursor(cursor, self.name)
        seen: dict[int, WebPost] = {}
        rejected: list[Rejected] = []
        page = await self.fetch_page(client, rejected=rejected, payloads=payloads)
        pages = 1
        seen.update((post.id, post) for post in page)
        while seen and pages < self.max_pages:
            oldest = min(seen)
            wanted = self.first_pages if last is None else self.reread_pages
            if pages >= wanted and (last is None or oldest <= last + 1):
                break
            if oldest <= 1:
                break
            page = await self.fetch_page(client, before=oldest, rejected=rejected, payloads=payloads)
            pages += 1
            fresh = [post for post in page if post.id not in seen]
            if not fresh:
                break
            seen.update((post.id, post) for post in fresh)
        if last is not None and seen and min(seen) > last + 1 and pages >= self.max_pages:
            # Posts between the cursor and the oldest page read were never fetched.
            log.warning(
                "telegram_web gap not closed",
                extra={"source": self.name, "cursor": last, "oldest": min(seen), "pages": pages},
            )
        new_cursor = max([*seen, *([last] if last is not None else [])], default=None)
        log.info(
            "telegram_web poll",
            extra={"source": self.name, "pages": pages, "posts": len(seen), "cursor": new_cursor},
        )
        return FetchResult(
            posts=[seen[key].to_raw() for key in sorted(seen)],
            cursor=str(new_cursor) if new_cursor is not None else cursor,
            # Consecutive pages leave no holes, so every id between the oldest and newest
            # post read was shown if it still exists.
            covered=(min(seen), max(seen)) if seen else None,
            rejected=rejected,
            payloads=payloads,
        )

    async def backfill(
        self, client: httpx.AsyncClient, *, since: datetime | None = None, pages: int = 50,
        payloads: list[Payload] | None = None, run: Runner | None = None,
    ) -> AsyncIterator[list[RawPost]]:
        """Yield the channel's history page by page, newest page first (each page oldest first).

        Stops at the first post older than `since` (a naive datetime is taken as UTC), after
        `pages` pages, or at the start of the channel. Each page's body is appended to
        `payloads` before its posts are yielded. `run`: where the pages are parsed (the batch
        command's worker processes, `AnalysisPool.run`) rather than in a thread.
        """
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        seen: set[int] = set()
        before: int | None = None
        for _ in range(pages):
            page = await self.fetch_page(client, before=before, payloads=payloads, run=run)
            fresh = [post for post in page if post.id not in seen]
            if not fresh:
                return
            seen.update(post.id for post in fresh)
            keep = [
                post
                for post in fresh
                if since is None or post.published_at is None or post.published_at >= since
            ]
            if keep:
                yield [post.to_raw() for post in keep]
            before = min(post.id for post in fresh)
            if len(keep) < len(fresh) or before <= 1:
                return
