"""Telegram channels over MTProto (Telethon): catch-up polls, live events, full-size photos.

Posts get the same identity as the web preview (`collectors.telegram_web`): stream is the
lower-cased channel username, external id the message id, and an album is ONE post whose id
is its smallest message id, as t.me/s shows it. So a channel read both ways is one set of rows.

Why the shape:
- Telethon's live updates are known to miss messages, so `run_live` is the fast path and
  `poll` (``iter_messages(min_id=cursor, reverse=True)``) stays the safety net.
- ResolveUsername is heavily rate-limited: a username is resolved once and its numeric id
  and access hash are kept in a JSON file next to the session.
- Photos are not URLs over MTProto: posts carry pseudo-URLs ``tg://<channel>/<id>/photo``
  (``/thumb`` for a video's poster frame) that `fetch_photo` turns into bytes.
- Telethon errors are translated to `SourceError`s in one place, `_call`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import UTC
from pathlib import Path
from typing import Any, TypeVar

from telethon import TelegramClient, errors, events, utils
from telethon.sessions import StringSession
from telethon.tl import types

from collectors.base import (
    FetchResult,
    RawPost,
    SourceError,
    SourceNetworkError,
    SourceRateLimited,
    message_id_cursor,
)
from collectors.media import Photo, sniff_image

__all__ = [
    "ENV_API_ID", "ENV_API_HASH", "ENV_SESSION", "CredentialsError", "MTProtoCredentials", "EntityCache",
    "SharedClient", "TelegramMTProtoCollector", "build_client", "prepare_session_file",
    "message_to_raw", "group_to_raw", "group_messages", "photo_url", "parse_photo_url",
]

log = logging.getLogger(__name__)

ENV_API_ID, ENV_API_HASH, ENV_SESSION = "TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_SESSION"
_GET_KEYS = "get them at https://my.telegram.org (API development tools)"
_ALBUM_MAX = 10  # Telegram's limit on items in one album
_PHOTO_URL_RE = re.compile(r"^tg://([A-Za-z0-9_]+)/(\d+)/(photo|thumb)$")
_T = TypeVar("_T")
ClientFactory = Callable[[], Awaitable[TelegramClient]]


class CredentialsError(SourceError):
    """TELEGRAM_API_ID / TELEGRAM_API_HASH / the session are missing or unusable."""

    def __init__(self, message: str) -> None:
        super().__init__("telegram", message)


class MTProtoCredentials:
    """The app's api_id/api_hash and an optional StringSession; `repr` never shows the secrets."""

    __slots__ = ("api_id", "api_hash", "session_string")

    def __init__(self, api_id: int, api_hash: str, session_string: str | None = None) -> None:
        self.api_id = api_id
        self.api_hash = api_hash
        self.session_string = session_string or None

    def __repr__(self) -> str:
        session = "set" if self.session_string else "none"
        return f"MTProtoCredentials(api_id={self.api_id}, api_hash=<redacted>, session_string=<{session}>)"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MTProtoCredentials:
        """Read TELEGRAM_API_ID, TELEGRAM_API_HASH and optional TELEGRAM_SESSION; name what is missing."""
        env = os.environ if env is None else env
        missing = [key for key in (ENV_API_ID, ENV_API_HASH) if not env.get(key, "").strip()]
        if missing:
            raise CredentialsError(f"{' and '.join(missing)} not set in the environment: {_GET_KEYS}")
        raw_id = env[ENV_API_ID].strip()
        if not raw_id.isdigit():
            raise CredentialsError(f"{ENV_API_ID} must be the numeric api_id from https://my.telegram.org")
        return cls(int(raw_id), env[ENV_API_HASH].strip(), env.get(ENV_SESSION, "").strip() or None)


def prepare_session_file(path: str | Path) -> Path:
    """Create the SQLite session file (and its folder) readable by the owner only; return its path.

    Telethon appends ``.session`` to a name without it, so the suffix is added here too and
    the file made 0600 is the one Telethon opens (SQLite gives its journals the same mode).
    """
    path = Path(path).expanduser()
    if path.suffix != ".session":
        path = path.with_name(path.name + ".session")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)  # an existing file may have been created with a looser umask
    return path


def build_client(
    credentials: MTProtoCredentials, session_path: str | Path | None = None, *, flood_sleep_threshold: int = 60
) -> TelegramClient:
    """A Telethon client (not connected): TELEGRAM_SESSION if set, else the session file."""
    if credentials.session_string:
        session: Any = StringSession(credentials.session_string)
    elif session_path is not None:
        session = str(prepare_session_file(session_path))
    else:
        raise CredentialsError(
            f"no Telegram session: set a session path in the config or {ENV_SESSION}, "
            "then run `dsns-monitor telegram login --config PATH`"
        )
    return TelegramClient(
        session, credentials.api_id, credentials.api_hash, flood_sleep_threshold=flood_sleep_threshold
    )


class SharedClient:
    """One connected, authorised client for every MTProto source: a session can be open only once."""

    def __init__(self, factory: Callable[[], TelegramClient]) -> None:
        self._factory = factory
        self._client: TelegramClient | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> TelegramClient:
        """Connect on first use; raises `CredentialsError` when the session is not logged in."""
        async with self._lock:
            if self._client is None:
                client = self._factory()
                try:
                    await client.connect()
                    authorised = await client.is_user_authorized()
                except (OSError, asyncio.TimeoutError) as exc:
                    raise SourceNetworkError("telegram", f"cannot connect to Telegram: {exc}") from exc
                if not authorised:
                    await client.disconnect()
                    raise CredentialsError("the Telegram session is not logged in: run `dsns-monitor telegram login`")
                self._client = client
            return self._client

    async def close(self) -> None:
        """Disconnect (the next `get` reconnects)."""
        async with self._lock:
            client, self._client = self._client, None
        if client is not None:
            await client.disconnect()

    async def discard_if_dead(self, known_dead: TelegramClient | None = None) -> None:
        """Drop the client if it lost its connection, or if it is `known_dead`.

        A client someone already replaced is left alone, so two failing polls do not close a
        fresh connection between them.
        """
        current = self._client
        if current is None or (known_dead is not None and current is not known_dead):
            return
        is_connected = getattr(current, "is_connected", None)
        if known_dead is None and callable(is_connected) and is_connected():
            return
        await self.close()


class EntityCache:
    """username → (channel id, access hash, canonical username), kept in a small JSON file."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._data: dict[str, dict[str, Any]] = {}
        if self.path is not None and self.path.exists():
            try:
                self._data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                log.warning("telegram entity cache unreadable, starting empty", extra={"path": str(self.path)})

    @classmethod
    def beside(cls, session_path: str | Path) -> EntityCache:
        """The cache file next to a session file: ``x.session`` → ``x.entities.json``."""
        path = Path(session_path)
        return cls(path.with_name(path.name.removesuffix(".session") + ".entities.json"))

    def get(self, username: str) -> dict[str, Any] | None:
        return self._data.get(username.lower())

    def put(self, username: str, channel_id: int, access_hash: int, canonical: str) -> None:
        self._data[username.lower()] = {"id": channel_id, "access_hash": access_hash, "username": canonical}
        self._save()

    def forget(self, username: str) -> None:
        if self._data.pop(username.lower(), None) is not None:
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self._data, fh, indent=1, sort_keys=True)
        os.replace(tmp, self.path)  # atomic: a crash never leaves half a file


# --- messages → RawPost (pure) ---------------------------------------------------------------


def photo_url(channel: str, message_id: int, kind: str = "photo") -> str:
    """The pseudo-URL of a message's photo (`kind` "photo") or video poster frame ("thumb")."""
    return f"tg://{channel.lower()}/{message_id}/{kind}"


def parse_photo_url(url: str) -> tuple[str, int, str] | None:
    """(channel, message id, kind) of a ``tg://`` photo URL; None for any other URL."""
    match = _PHOTO_URL_RE.match(url)
    return (match.group(1), int(match.group(2)), match.group(3)) if match else None


def _visible_text(raw: str | None) -> str:
    # The web preview collapses whitespace runs and strips lines; doing the same keeps the
    # text hash equal whichever backend saw the post, so storage records no phantom edits.
    lines = [re.sub(r"\s+", " ", line.replace("\xa0", " ")).strip() for line in (raw or "").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _service_text(message: Any) -> str:
    # Only the actions whose web-preview wording is known; others stay empty.
    if isinstance(getattr(message, "action", None), types.MessageActionChatEditPhoto):
        return "Channel photo updated"
    return ""


def _media_kind(message: Any) -> str | None:
    media = getattr(message, "media", None)
    if isinstance(media, types.MessageMediaPhoto) and media.photo is not None:
        return "photo"
    if isinstance(media, types.MessageMediaDocument) and isinstance(media.document, types.Document):
        is_video = media.document.mime_type.startswith("video/") or any(
            isinstance(a, types.DocumentAttributeVideo) for a in media.document.attributes
        )
        if is_video and media.document.thumbs:
            return "thumb"
    return None


def _forwarded_from(message: Any) -> str | None:
    header = getattr(message, "fwd_from", None)
    if header is None:
        return None
    forward = getattr(message, "forward", None)  # filled by Telethon when the entities came along
    for entity in (getattr(forward, "chat", None), getattr(forward, "sender", None)):
        if entity is not None:
            name = getattr(entity, "title", None) or utils.get_display_name(entity)
            if name:
                return name
    if header.from_name:
        return header.from_name
    if isinstance(header.from_id, types.PeerChannel):
        return f"channel {header.from_id.channel_id}"
    if isinstance(header.from_id, types.PeerUser):
        return f"user {header.from_id.user_id}"
    return header.post_author


def group_to_raw(messages: Iterable[Any], channel: str) -> RawPost:
    """One post for one message or one album (messages sharing a grouped_id), as t.me/s shows it.

    The id is the smallest message id, the text the first caption, photos every member's
    photo then every video poster frame (the web preview's order).
    """
    group = sorted(messages, key=lambda m: m.id)
    head = group[0]
    service = isinstance(head, types.MessageService)
    text = next((t for t in (_visible_text(m.message) for m in group) if t), "")
    kinds = [(m.id, _media_kind(m)) for m in group]
    photos = [photo_url(channel, i, k) for i, k in kinds if k == "photo"]
    photos += [photo_url(channel, i, k) for i, k in kinds if k == "thumb"]
    date = head.date
    if date is not None:
        date = (date.replace(tzinfo=UTC) if date.tzinfo is None else date).astimezone(UTC)
    views = [m.views for m in group if getattr(m, "views", None) is not None]
    webpage = getattr(getattr(head, "media", None), "webpage", None)
    return RawPost(
        stream=channel.lower(),
        external_id=str(head.id),
        url=f"https://t.me/{channel}/{head.id}",
        published_at=date,
        text=_service_text(head) if service else text,
        photos=tuple(photos),
        # edit_hide: an edit Telegram does not show as one (the web preview shows no "edited").
        edited=any(getattr(m, "edit_date", None) is not None and not getattr(m, "edit_hide", False) for m in group),
        kind="service" if service else "message",
        views=max(views) if views else None,
        forwarded_from=next((f for f in map(_forwarded_from, group) if f), None),
        link_preview=getattr(webpage, "url", None),
    )


def message_to_raw(message: Any, channel: str) -> RawPost:
    """One Telethon message as a `RawPost`, with the web collector's identity and url."""
    return group_to_raw([message], channel)


def group_messages(messages: Iterable[Any]) -> list[list[Any]]:
    """Split messages (any order) into single messages and albums, oldest first."""
    groups: dict[int | tuple[str, int], list[Any]] = {}
    for message in sorted(messages, key=lambda m: m.id):
        if isinstance(message, types.MessageEmpty):
            continue
        gid = getattr(message, "grouped_id", None)
        groups.setdefault(gid if gid is not None else ("single", message.id), []).append(message)
    return sorted(groups.values(), key=lambda g: g[0].id)



# --- the collector -----------------------------------------------------------------------------

OnPosts = Callable[[list[RawPost]], Awaitable[None]]
OnDeleted = Callable[[list[str]], Awaitable[None]]


class TelegramMTProtoCollector:
    """Reads one channel over MTProto: `poll` catches up from a cursor, `run_live` pushes events.

    `client_factory` returns the connected client (share one `SharedClient.get` between all
    sources). `flood_sleep_threshold`: flood waits up to this many seconds are slept through,
    longer ones raise `SourceRateLimited`. `first_limit`: messages read on the very first poll;
    `catchup_limit`: the most one poll reads; `reread`: message ids below the cursor read again
    so edits the live feed missed are seen. `entity_cache` keeps the resolved channel.
    """

    def __init__(
        self,
        name: str,
        channel: str,
        client_factory: ClientFactory | None = None,
        *,
        flood_sleep_threshold: int = 60,
        catchup_limit: int = 500,
        first_limit: int = 50,
        reread: int = 0,
        entity_cache: EntityCache | None = None,
        album_delay: float = 1.5,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        channel = channel.strip().removeprefix("@")
        if not re.fullmatch(r"[A-Za-z0-9_]{3,64}", channel):
            raise ValueError(f"{name}: {channel!r} is not a Telegram channel username")
        if catchup_limit < 2 * _ALBUM_MAX or first_limit < 1 or reread < 0:
            raise ValueError(f"{name}: catchup_limit must be at least {2 * _ALBUM_MAX}, first_limit at least 1")
        self.name = name
        self.channel = channel
        self.stream = channel.lower()
        self.flood_sleep_threshold = flood_sleep_threshold
        self.catchup_limit = catchup_limit
        self.first_limit = first_limit
        self.reread = reread
        self.album_delay = album_delay
        self.entity_cache = entity_cache or EntityCache()
        self._sleep = sleep
        self._factory = client_factory or SharedClient(
            lambda: build_client(MTProtoCredentials.from_env(), flood_sleep_threshold=flood_sleep_threshold)
        ).get
        self._peer: types.InputPeerChannel | None = None
        self._peer_cached = False
        self._username = channel  # the channel's own spelling once resolved, as t.me URLs use it

    def __repr__(self) -> str:
        return f"TelegramMTProtoCollector(name={self.name!r}, channel={self.channel!r})"

    async def _call(self, what: str, op: Callable[[], Awaitable[_T]]) -> _T:
        """Run one Telethon call: sleep through short flood waits, translate every failure once."""
        slept = 0
        while True:
            try:
                return await op()
            except errors.FloodError as exc:
                seconds = int(getattr(exc, "seconds", 0) or 0)
                if seconds > self.flood_sleep_threshold or slept >= 3:
                    log.warning("telegram flood wait rescheduled", extra={"source": self.name, "seconds": seconds, "call": what})
                    raise SourceRateLimited(
                        self.name,
                        f"Telegram asks to wait {seconds}s before {what} (over flood_sleep_threshold "
                        f"{self.flood_sleep_threshold}s): rescheduled",
                        status=420, retry_after=float(seconds),
                    ) from exc
                log.warning("telegram flood wait", extra={"source": self.name, "seconds": seconds, "call": what})
                slept += 1
                await self._sleep(seconds)
            except (errors.RPCError, OSError, asyncio.TimeoutError, ValueError) as exc:
                raise self._translate(what, exc) from exc

    def _translate(self, what: str, exc: BaseException) -> SourceError:
        at = f"@{self.channel}"
        if isinstance(exc, (errors.ChannelInvalidError, errors.ChannelPrivateError)) and self._peer_cached:
            # A stale cached access hash looks like this too: resolve afresh next time.
            self.entity_cache.forget(self.channel)
            self._peer = None
        if isinstance(exc, errors.ChannelPrivateError):
            return SourceError(self.name, f"{at} is private or has banned this account; join it or remove the source")
        if isinstance(exc, (errors.UsernameInvalidError, errors.UsernameNotOccupiedError, errors.ChannelInvalidError, ValueError)):
            return SourceError(self.name, f"{at} cannot be read ({exc}); check the channel username")
        if isinstance(exc, errors.UnauthorizedError):
            return CredentialsError("the Telegram session is no longer authorised: run `dsns-monitor telegram login`")
        if isinstance(exc, errors.RPCError):
            return SourceError(self.name, f"Telegram refused {what}: {type(exc).__name__}: {exc.message}")
        return SourceNetworkError(self.name, f"network error while {what}: {exc!r}")

    async def _resolve(self, client: TelegramClient) -> types.InputPeerChannel:
        if self._peer is not None:
            return self._peer
        cached = self.entity_cache.get(self.channel)
        if cached:
            self._peer = types.InputPeerChannel(int(cached["id"]), int(cached["access_hash"]))
            self._username, self._peer_cached = cached.get("username") or self.channel, True
            return self._peer
        entity = await self._call(f"resolving @{self.channel}", lambda: client.get_entity(self.channel))
        if not isinstance(entity, types.Channel) or entity.access_hash is None:
            raise SourceError(self.name, f"@{self.channel} is not a channel this account can read")
        self._username = entity.username or self.channel
        self.entity_cache.put(self.channel, entity.id, entity.access_hash, self._username)
        self._peer, self._peer_cached = types.InputPeerChannel(entity.id, entity.access_hash), False
        log.info("telegram channel resolved", extra={"source": self.name, "channel_id": entity.id})
        return self._peer

    async def poll(self, cursor: str | None) -> FetchResult:
        """Fetch messages newer than `cursor` (the highest message id stored), oldest first.

        First poll (no cursor): the newest `first_limit` messages. Then at most `catchup_limit`
        a poll; the cursor moves to the highest id read, so the next poll continues the gap.
        Albums come back as one post each, never split across polls.
        """
        last = message_id_cursor(cursor, self.name)
        client = await self._factory()
        peer = await self._resolve(client)
        if last is None:
            batch = await self._call("reading history", lambda: _collect(client.iter_messages(peer, limit=self.first_limit)))
        else:
            min_id = max(0, last - self.reread)
            batch = await self._call(
                "catching up",
                lambda: _collect(client.iter_messages(peer, limit=self.catchup_limit, min_id=min_id, reverse=True)),
            )
            if len(batch) >= self.catchup_limit:
                batch = _drop_trailing_album(batch)  # the rest of it comes whole with the next poll
        batch = await self._complete_head(client, peer, batch)
        posts = [group_to_raw(group, self._username) for group in group_messages(batch)]
        new_cursor = max([m.id for m in batch] + ([last] if last is not None else []), default=None)
        log.info("telegram_mtproto poll", extra={"source": self.name, "posts": len(posts), "cursor": new_cursor})
        return FetchResult(posts=posts, cursor=str(new_cursor) if new_cursor is not None else cursor)

    async def _complete_head(self, client: TelegramClient, peer: Any, batch: list[Any]) -> list[Any]:
        # A read window can start inside an album; its first members decide the post's id.
        if not batch:
            return batch
        oldest = min(batch, key=lambda m: m.id)
        if getattr(oldest, "grouped_id", None) is None or oldest.id <= 1:
            return batch
        ids = list(range(max(1, oldest.id - _ALBUM_MAX + 1), oldest.id))
        found = await self._call("completing an album", lambda: client.get_messages(peer, ids=ids))
        return [m for m in found or () if m is not None and getattr(m, "grouped_id", None) == oldest.grouped_id] + batch

    async def _album_of(self, client: TelegramClient, peer: Any, message: Any) -> list[Any]:
        ids = list(range(max(1, message.id - _ALBUM_MAX + 1), message.id + _ALBUM_MAX))
        found = await self._call("reading an album", lambda: client.get_messages(peer, ids=ids))
        group = [m for m in found or () if m is not None and m.id != message.id and m.grouped_id == message.grouped_id]
        return group + [message]

    async def fetch_photo(self, url: str, *, max_bytes: int = 20 * 1024 * 1024) -> Photo:
        """Download the photo (or video poster frame) a ``tg://`` URL of this channel names."""
        parsed = parse_photo_url(url)
        if parsed is None or parsed[0] != self.stream:
            raise SourceError(self.name, f"{url!r} is not a photo URL of @{self.channel}")
        _, message_id, kind = parsed
        client = await self._factory()
        peer = await self._resolve(client)
        message = await self._call("reading a message", lambda: client.get_messages(peer, ids=message_id))
        if message is None or _media_kind(message) != kind:
            raise SourceError(self.name, f"{url}: the message is deleted or no longer has that photo")
        thumb = -1 if kind == "thumb" else None  # -1: the largest poster frame
        data = await self._call("downloading a photo", lambda: client.download_media(message, file=bytes, thumb=thumb))
        if not data:
            raise SourceError(self.name, f"{url}: Telegram returned no bytes")
        if len(data) > max_bytes:
            raise SourceError(self.name, f"{url}: photo of {len(data)} bytes is over the {max_bytes}-byte cap")
        return Photo(bytes(data), sniff_image(data) or "image/jpeg")  # Telegram's photos are JPEG

    async def run_live(self, on_posts: OnPosts, on_deleted: OnDeleted) -> None:
        """Push new and edited posts to `on_posts`, deleted message ids to `on_deleted`, until cancelled.

        Album members arrive as separate messages: they are held `album_delay` seconds and sent
        as one post. An edited album member is sent as its whole album. Raises
        `SourceNetworkError` if the client disconnects for good; keep polling regardless.
        """
        client = await self._factory()
        peer = await self._resolve(client)
        chat = utils.get_peer_id(types.PeerChannel(peer.channel_id))
        pending: dict[int, list[Any]] = {}
        timers: set[asyncio.Task[None]] = set()

        def guarded(handler: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Awaitable[None]]:
            async def run(event: Any) -> None:
                try:
                    await handler(event)
                except Exception:  # one bad update must not stop the live feed
                    log.exception("telegram live update failed", extra={"source": self.name})

            return run

        @guarded
        async def flush(gid: int) -> None:
            await asyncio.sleep(self.album_delay)
            await on_posts([group_to_raw(pending.pop(gid), self._username)])

        async def on_new(event: Any) -> None:
            message = event.message
            if message.grouped_id is None:
                await on_posts([message_to_raw(message, self._username)])
                return
            if message.grouped_id not in pending:
                pending[message.grouped_id] = []
                timer = asyncio.create_task(flush(message.grouped_id))
                timers.add(timer)
                timer.add_done_callback(timers.discard)
            pending[message.grouped_id].append(message)

        async def on_edit(event: Any) -> None:
            message = event.message
            group = [message] if message.grouped_id is None else await self._album_of(client, peer, message)
            await on_posts([group_to_raw(group, self._username)])

        async def on_delete(event: Any) -> None:
            await on_deleted([str(i) for i in event.deleted_ids])

        handlers = [
            (guarded(on_new), events.NewMessage(chats=[chat])),
            (guarded(on_edit), events.MessageEdited(chats=[chat])),
            (guarded(on_delete), events.MessageDeleted(chats=[chat])),
        ]
        for callback, builder in handlers:
            client.add_event_handler(callback, builder)
        log.info("telegram live started", extra={"source": self.name, "channel_id": peer.channel_id})
        try:
            result = client.run_until_disconnected()
            if inspect.isawaitable(result):
                await result
        finally:
            for callback, builder in handlers:
                client.remove_event_handler(callback, builder)
            for timer in list(timers):
                timer.cancel()
        raise SourceNetworkError(self.name, "disconnected from Telegram: live updates stopped, polling continues")


async def _collect(messages: Any) -> list[Any]:
    return [m async for m in messages if not isinstance(m, types.MessageEmpty)]


def _drop_trailing_album(batch: list[Any]) -> list[Any]:
    gid = getattr(batch[-1], "grouped_id", None)
    if gid is None:
        return batch
    kept = [m for m in batch if getattr(m, "grouped_id", None) != gid]
    return kept or batch
