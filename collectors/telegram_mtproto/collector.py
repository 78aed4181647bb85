"""The collector of one channel over MTProto: catch-up polls from a cursor, live events, photos."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telethon import TelegramClient, errors, events, utils
from telethon.tl import types

from collectors.base import (
    CHANNEL_NAME,
    FetchResult,
    RawPost,
    SourceError,
    SourceNetworkError,
    SourceRateLimited,
    message_id_cursor,
)
from collectors.media import Photo
from collectors.telegram_mtproto.client import (
    ClientFactory,
    EntityCache,
    SharedClient,
    build_client,
)
from collectors.telegram_mtproto.convert import (
    group_messages,
    group_to_raw,
    media_kind,
    message_to_raw,
    parse_photo_url,
)
from collectors.telegram_mtproto.credentials import CredentialsError, MTProtoCredentials
from dsns.images import sniff_image

__all__ = ["TelegramMTProtoCollector", "OnPosts", "OnDeleted"]

log = logging.getLogger("dsns_monitor.telegram_mtproto")

_ALBUM_MAX = 10  # Telegram's limit on items in one album
_T = TypeVar("_T")


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
        if not CHANNEL_NAME.fullmatch(channel):
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
        if message is None or media_kind(message) != kind:
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
