"""A fake t.me for tests: channels of messages rendered in the markup of real ``t.me/s`` pages.

Serve it with `tests.fakes.server.serve` and point a collector's base_url at the server::

    fake = FakeTelegram()
    fake.add_channel("dsns_telegram", "ДСНС України")
    fake.post("dsns_telegram", "Харківщина: внаслідок ракетного удару…", photos=("balakliia",))
    fake.fill("dsns_telegram", 45)                      # 45 more realistic DSNS-style posts
    with serve(fake.route) as server:
        collector = TelegramWebCollector("dsns", "dsns_telegram", base_url=server.url)
        ...
        fake.edit("dsns_telegram", 1, "…уточнено: загинули 2 людини")
        fake.fail_next(status=429, retry_after=30)

Routes: ``/s/<channel>[?before=N]`` (20 messages a page, oldest first, like t.me),
``/<channel>`` (the plain channel page a disabled preview redirects to) and
``/img/<name>.jpg`` (a real, tiny JPEG, different bytes for each name, or the bytes a test put in
`images[name]`, labelled image/jpeg whatever they are, as a CDN does by URL). Image URLs in the
pages are absolute, built from the request's Host header, so they point back at this server.
The fake is thread-safe: tests change it while the server thread renders it.
"""

from __future__ import annotations

import html as htmllib
import re
import struct
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.fakes.server import Reply, Request

__all__ = ["FakeMessage", "FakeTelegram", "SAMPLE_TEXTS", "jpeg_bytes", "format_views"]

PAGE_SIZE = 20
_START = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
_GARBAGE = "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><h1>Checking your browser</h1></body></html>"

# Written for these tests in the style of DSNS reports; not taken from any real post.
SAMPLE_TEXTS: tuple[str, ...] = (
    "Харківщина: внаслідок ракетного удару по Балаклії зруйновано приватний будинок. "
    "Загинула 1 людина, ще 8 — травмовані. Рятувальники ліквідували пожежу.",
    "Одещина: вночі ворог атакував ударними БпЛА портову інфраструктуру. Виникла пожежа "
    "на площі 300 м². Постраждалих немає.",
    "Дніпропетровщина: внаслідок обстрілу Нікополя з артилерії пошкоджено 5 житлових будинків "
    "та лінію електропередачі. Травмовано 2 людей.",
    "Запоріжжя: ракетний удар по промисловому підприємству. Під завалами можуть перебувати люди, "
    "триває пошуково-рятувальна операція.",
    "Сумщина: через обстріл громади з РСЗВ «Град» виникло загоряння господарчих будівель. "
    "Пожежу ліквідовано.",
    "Київ: уламки збитого дрона впали на територію Дарницького району. Загинули 2 людини, "
    "ще 11 — травмовані. Рятувальники врятували 6 людей.",
    "Херсонщина: унаслідок авіаудару КАБами по Бериславу зруйновано адмінбудівлю. "
    "Загинула 1 людина.",
    "Чернігівщина: піротехніки ДСНС знешкодили 42 вибухонебезпечні предмети за добу.",
)


def jpeg_bytes(name: str = "") -> bytes:
    """A valid 8×8 grey baseline JPEG; `name` goes into a COM segment so every name hashes apart."""

    def segment(marker: int, payload: bytes) -> bytes:
        return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload

    comment = segment(0xFE, name.encode()) if name else b""
    return (
        b"\xff\xd8"
        + segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + comment
        + segment(0xDB, b"\x00" + b"\x01" * 64)
        + segment(0xC0, b"\x08\x00\x08\x00\x08\x01\x01\x11\x00")
        # One-code Huffman tables: DC category 0 and AC end-of-block, both the 1-bit code "0".
        + segment(0xC4, b"\x00\x01" + b"\x00" * 15 + b"\x00")
        + segment(0xC4, b"\x10\x01" + b"\x00" * 15 + b"\x00")
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x3f\xff\xd9"
    )


def format_views(views: int) -> str:
    """t.me's counter: 987, 1.2K, 436.6K, 1.5M (one decimal, truncated, ".0" dropped)."""
    for unit, size in (("M", 1_000_000), ("K", 1_000)):
        if views >= size:
            tenths = views * 10 // size
            return f"{tenths // 10}{unit}" if tenths % 10 == 0 else f"{tenths // 10}.{tenths % 10}{unit}"
    return str(views)


@dataclass
class FakeMessage:
    """One message; `html` is the inner HTML of its text. Albums take one id per photo."""

    id: int
    date: datetime
    html: str = ""
    photos: tuple[str, ...] = ()
    album: bool = False
    video: str | None = None
    views: int | str | None = None
    edited: bool = False
    forwarded_from: str | None = None
    service: bool = False
    link_preview: dict[str, str] | None = None


@dataclass
class _Channel:
    name: str
    title: str
    preview: bool = True
    messages: dict[int, FakeMessage] = field(default_factory=dict)
    next_id: int = 1


@dataclass
class _Fault:
    status: int
    retry_after: int | None
    delay: float
    garbage: bool
    path_prefix: str


class FakeTelegram:
    """Channels → messages, served as t.me would serve them; see the module docstring."""

    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}
        self._faults: list[_Fault] = []
        self._renames: dict[str, str] = {}
        self._lock = threading.Lock()
        self.images: dict[str, bytes] = {}

    # --- building and changing channels -------------------------------------------------------

    def add_channel(self, name: str, title: str | None = None, *, preview: bool = True) -> None:
        """Create a channel; `preview=False` makes /s/<name> redirect (302) to /<name>."""
        with self._lock:
            self._channels[name.lower()] = _Channel(name, title or name, preview)

    def disable_preview(self, name: str) -> None:
        """Turn the channel's web preview off, as its owner can."""
        with self._lock:
            self._channel(name).preview = False

    def post(
        self,
        channel: str,
        text: str = "",
        *,
        html: str | None = None,
        date: datetime | None = None,
        photos: tuple[str, ...] = (),
        album: bool | None = None,
        video: str | None = None,
        views: int | str | None = None,
        forwarded_from: str | None = None,
        service: bool = False,
        link_preview: dict[str, str] | None = None,
        message_id: int | None = None,
    ) -> int:
        """Publish a message and return its id.

        `text` is plain (newlines become <br/>); `html` overrides it with raw inner HTML.
        `photos` and `video` are image names served at /img/<name>.jpg (`video` is the thumb).
        Several photos form an album unless `album=False`; an album uses one id per photo, as
        on Telegram. `date` defaults to 7 minutes after the previous message.
        `link_preview` keys: url, site, title, description. `message_id` forces the id (one
        Telegram would never give, say); the next message still takes the next regular id.
        """
        with self._lock:
            chan = self._channel(channel)
            last = max(chan.messages.values(), key=lambda m: m.id, default=None)
            grouped = len(photos) > 1 if album is None else album
            message = FakeMessage(
                id=chan.next_id if message_id is None else message_id,
                date=date or (last.date + timedelta(minutes=7) if last else _START),
                html=html if html is not None else _plain_to_html(text),
                photos=tuple(photos),
                album=grouped,
                video=video,
                views=views,
                forwarded_from=forwarded_from,
                service=service,
                link_preview=link_preview,
            )
            chan.messages[message.id] = message
            if message_id is None:
                chan.next_id += max(1, len(photos)) if grouped else 1
            return message.id

    def fill(self, channel: str, count: int, *, start: datetime | None = None, step: timedelta = timedelta(minutes=17)) -> list[int]:
        """Post `count` messages cycling through `SAMPLE_TEXTS`; every third has a photo.

        Photos are named ``<channel>_<message id>``; older posts have more views. Returns the new ids.
        """
        ids: list[int] = []
        for n in range(count):
            date = start + step * n if start else None
            with self._lock:
                next_id = self._channel(channel).next_id
            photos = (f"{channel.lower()}_{next_id}",) if n % 3 == 0 else ()
            ids.append(
                self.post(channel, SAMPLE_TEXTS[n % len(SAMPLE_TEXTS)], date=date, photos=photos, views=(count - n) * 1_130)
            )
        return ids

    def edit(self, channel: str, message_id: int, text: str | None = None, *, html: str | None = None) -> None:
        """Change a message's text; it is then rendered with "edited", as on t.me."""
        with self._lock:
            message = self._channel(channel).messages[message_id]
            message.html = html if html is not None else _plain_to_html(text or "")
            message.edited = True

    def delete(self, channel: str, message_id: int) -> None:
        """Remove a message; later pages simply no longer show it."""
        with self._lock:
            del self._channel(channel).messages[message_id]

    def message(self, channel: str, message_id: int) -> FakeMessage:
        """The stored message (for assertions); raises KeyError when absent."""
        with self._lock:
            return self._channel(channel).messages[message_id]

    def rename_class(self, old: str, new: str) -> None:
        """Change t.me's layout from now on: the class `old` is called `new` in every channel page."""
        with self._lock:
            self._renames[old] = new

    def fail_next(
        self,
        n: int = 1,
        *,
        status: int = 500,
        retry_after: int | None = None,
        delay: float = 0.0,
        garbage: bool = False,
        path_prefix: str = "/s/",
    ) -> None:
        """Make the next `n` requests whose path starts with `path_prefix` misbehave.

        `status` >= 400 answers with that status (and `Retry-After: retry_after` if given);
        `garbage=True` answers 200 with a page that is not t.me's; a 2xx `status` with a
        `delay` answers normally but late. `delay` applies to every kind of fault.
        """
        with self._lock:
            self._faults.extend(_Fault(status, retry_after, delay, garbage, path_prefix) for _ in range(n))

    # --- serving -------------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """The request handler to pass to `tests.fakes.server.serve`."""
        base = f"http://{request.headers.get('host', '127.0.0.1')}"
        with self._lock:
            fault = next((f for f in self._faults if request.path.startswith(f.path_prefix)), None)
            if fault is not None:
                self._faults.remove(fault)
            if fault is not None and (fault.garbage or fault.status >= 400):
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                body = _GARBAGE if fault.garbage else f"<html><body>Error {fault.status}</body></html>"
                return Reply(200 if fault.garbage else fault.status, body, headers, delay=fault.delay)
            reply = self._serve(request, base)
        if fault is not None:
            reply.delay = fault.delay
        return reply

    def _serve(self, request: Request, base: str) -> Reply:
        parts = [part for part in request.path.split("/") if part]
        if len(parts) == 2 and parts[0] == "img" and parts[1].endswith(".jpg"):
            name = parts[1][: -len(".jpg")]
            return Reply(200, self.images.get(name) or jpeg_bytes(name), content_type="image/jpeg")
        if len(parts) == 2 and parts[0] == "s":
            chan = self._channels.get(parts[1].lower())
            if chan is None or not chan.preview:
                # t.me sends both unknown channels and disabled previews to the plain page.
                return Reply(302, b"", {"Location": f"{base}/{parts[1]}"})
            before = request.query.get("before", "")
            page = self._render(chan, int(before) if before.isdigit() else None, base)
            for old, new in self._renames.items():
                page = re.sub(rf"\b{re.escape(old)}\b", new, page)
            return Reply(200, page)
        if len(parts) == 1:
            title = htmllib.escape(parts[0])
            return Reply(200, f'<html><body><div class="tgme_page"><div class="tgme_page_title">{title}</div></div></body></html>')
        return Reply(404, "<html><body>Not found</body></html>")

    def _channel(self, name: str) -> _Channel:
        return self._channels[name.lower()]

    def _render(self, chan: _Channel, before: int | None, base: str) -> str:
        visible = [chan.messages[key] for key in sorted(chan.messages) if before is None or key < before]
        page = visible[-PAGE_SIZE:]
        more = ""
        if page and len(visible) > len(page):
            more = (
                f'<div class="tgme_widget_message_centered js-messages_more_wrap"><a href="/s/{chan.name}?before={page[0].id}" '
                f'data-before="{page[0].id}" class="tme_messages_more js-messages_more"></a></div>'
            )
        body = "".join(_render_message(chan, m, base) for m in page) or (
            '<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message_centered">'
            '<div class="tme_no_messages_found">No posts found</div></div></div>'
        )
        title = htmllib.escape(chan.title)
        return (
            f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title} – Telegram</title>'
            f'<meta property="og:title" content="{title}"><link rel="canonical" href="{base}/s/{chan.name}"></head>'
            '<body class="widget_frame_base tgme_webpage"><main class="tgme_main"><div class="tgme_container">'
            '<section class="tgme_right_column"><div class="tgme_channel_info"><div class="tgme_channel_info_header">'
            f'<div class="tgme_channel_info_header_title"><span dir="auto">{title}</span></div>'
            f'<div class="tgme_channel_info_header_username"><a href="{base}/{chan.name}">@{chan.name}</a></div>'
            '</div></div></section><section class="tgme_channel_history js-message_history">'
            f"{more}{body}</section></div></main></body></html>"
        )


def _plain_to_html(text: str) -> str:
    return htmllib.escape(text).replace("\n", "<br/>")


def _bg(url: str) -> str:
    return f"background-image:url('{url}')"


def _render_message(chan: _Channel, m: FakeMessage, base: str) -> str:
    link = f"{base}/{chan.name}/{m.id}"
    parts: list[str] = []
    if m.forwarded_from:
        parts.append(
            '<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from&nbsp;'
            # A <span>, not a link: how t.me shows a source it cannot link to.
            f'<span class="tgme_widget_message_forwarded_from_name">{htmllib.escape(m.forwarded_from)}</span></div>'
        )
    images = [f"{base}/img/{name}.jpg" for name in m.photos]
    if m.album and images:
        cells = "".join(
            f'<a class="tgme_widget_message_photo_wrap grouped_media_wrap blured js-message_photo" '
            f'style="left:0px;top:{i * 152}px;width:453px;height:150px;{_bg(url)}" data-ratio="3" '
            f'href="{base}/{chan.name}/{m.id + i}?single"></a>'
            for i, url in enumerate(images)
        )
        parts.append(
            '<div class="tgme_widget_message_grouped_wrap js-message_grouped_wrap" style="width:453px;">'
            '<div class="tgme_widget_message_grouped js-message_grouped"><div class="tgme_widget_message_grouped_layer '
            f'js-message_grouped_layer">{cells}</div></div></div>'
        )
    else:
        parts.extend(
            f'<a class="tgme_widget_message_photo_wrap" href="{link}" style="width:800px;{_bg(url)}">'
            '<div class="tgme_widget_message_photo" style="padding-top:75%"></div></a>'
            for url in images
        )
    if m.video:
        parts.append(
            f'<a class="tgme_widget_message_video_player js-message_video_player" href="{link}">'
            f'<i class="tgme_widget_message_video_thumb" style="{_bg(f"{base}/img/{m.video}.jpg")}"></i>'
            '<div class="tgme_widget_message_video_wrap"><video class="tgme_widget_message_video js-message_video" '
            'width="100%" height="100%"></video></div><div class="message_video_play"></div>'
            '<time class="message_video_duration js-message_video_duration">0:42</time></a>'
        )
    if m.html:
        parts.append(f'<div class="tgme_widget_message_text js-message_text" dir="auto">{m.html}</div>')
    if m.link_preview:
        lp = {key: htmllib.escape(value) for key, value in m.link_preview.items()}
        parts.append(
            f'<a class="tgme_widget_message_link_preview" href="{lp.get("url", "")}">'
            f'<div class="link_preview_site_name accent_color" dir="auto">{lp.get("site", "")}</div>'
            f'<div class="link_preview_title" dir="auto">{lp.get("title", "")}</div>'
            f'<div class="link_preview_description" dir="auto">{lp.get("description", "")}</div></a>'
        )
    views = ""
    if m.views is not None:
        shown = format_views(m.views) if isinstance(m.views, int) else m.views
        views = f'<span class="tgme_widget_message_views">{shown}</span><span class="copyonly">&nbsp;views</span>'
    edited = "edited&nbsp;" if m.edited else ""
    owner = (
        f'<div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" '
        f'href="{base}/{chan.name}"><span dir="auto">{htmllib.escape(chan.title)}</span></a></div>'
    )
    kind = " service_message" if m.service else ""
    return (
        '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
        f'<div class="tgme_widget_message text_not_supported_wrap js-widget_message{kind}" data-post="{chan.name}/{m.id}">'
        f'<div class="tgme_widget_message_bubble">{"" if m.service else owner}{"".join(parts)}'
        '<div class="tgme_widget_message_footer compact js-message_footer"><div class="tgme_widget_message_info short js-message_info">'
        f'{views}<span class="tgme_widget_message_meta">{edited}<a class="tgme_widget_message_date" href="{link}">'
        f'<time datetime="{m.date.astimezone(UTC).isoformat()}" class="time">{m.date:%H:%M}</time></a></span>'
        "</div></div></div></div></div>"
    )
