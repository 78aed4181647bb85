"""A Telethon client that never connects: one channel of real `telethon.tl.types` messages.

    tg = FakeTelethon("dsns_telegram")
    first = tg.post("Харківщина: ракетний удар…", photos=2)      # an album: ids first, first+1
    tg.flood_next(30)                                            # the next call raises FloodWaitError(30)
    await tg.dispatch(UpdateEditChannelMessage(tg.edit(first, "…"), 0, 0))   # feed live handlers

It implements what `collectors.telegram_mtproto` calls: connect, is_user_authorized,
get_entity, iter_messages (min_id, max_id, limit, reverse), get_messages, download_media,
add/remove_event_handler, run_until_disconnected, disconnect; and records every call.
`dispatch` runs registered handlers the way Telethon does: builder.build → filter → callback.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from telethon import errors
from telethon.tl import types

from tests.fakes.tme import jpeg_bytes

__all__ = ["FakeTelethon", "START"]

START = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)


class FakeTelethon:
    """One broadcast channel; message ids count from 1 like Telegram's, albums take one id per item."""

    def __init__(self, username: str = "dsns_telegram", *, channel_id: int = 1_234_567, access_hash: int = 987_654_321) -> None:
        self.entity = types.Channel(
            id=channel_id, title="ДСНС України", photo=types.ChatPhotoEmpty(), date=START,
            broadcast=True, access_hash=access_hash, username=username,
        )
        self.messages: dict[int, types.Message] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.handlers: list[tuple[Any, Any]] = []
        self.authorized = True
        self.connected = False
        self._floods: list[int] = []
        self._next_id = 1
        self._next_group = 5_000_000
        self._disconnected = asyncio.Event()

    # --- building the channel -----------------------------------------------------------------

    def post(
        self,
        text: str = "",
        *,
        photos: int = 0,
        video: bool = False,
        date: datetime | None = None,
        views: int | None = None,
        fwd_from: types.MessageFwdHeader | None = None,
    ) -> int:
        """Publish a message (an album when `photos` > 1, caption on the first item); return its first id."""
        first = self._next_id
        date = date or START + timedelta(minutes=7 * first)
        count = max(1, photos)
        grouped = None
        if count > 1:
            grouped, self._next_group = self._next_group, self._next_group + 1
        for n in range(count):
            media = _photo(first + n) if photos else _video(first + n) if video else None
            self.messages[first + n] = self.message(
                first + n, text if n == 0 else "", date=date, media=media, grouped_id=grouped,
                views=views, fwd_from=fwd_from,
            )
        self._next_id += count
        return first

    def message(self, message_id: int, text: str = "", **fields: Any) -> types.Message:
        """A channel post as Telegram sends it (not stored)."""
        fields.setdefault("date", START + timedelta(minutes=7 * message_id))
        return types.Message(id=message_id, peer_id=types.PeerChannel(self.entity.id), message=text, post=True, **fields)

    def service(self, action: types.TypeMessageAction) -> int:
        message_id, self._next_id = self._next_id, self._next_id + 1
        self.messages[message_id] = types.MessageService(
            id=message_id, peer_id=types.PeerChannel(self.entity.id), date=START + timedelta(minutes=7 * message_id),
            action=action, post=True,
        )
        return message_id

    def edit(self, message_id: int, text: str) -> types.Message:
        """Change a message's text and set its edit_date; returns the new message."""
        old = self.messages[message_id]
        new = self.message(
            message_id, text, date=old.date, media=old.media, grouped_id=old.grouped_id, views=old.views,
            edit_date=old.date + timedelta(minutes=30),
        )
        self.messages[message_id] = new
        return new

    def flood_next(self, *seconds: int) -> None:
        """The next calls (one per value) raise FloodWaitError with these seconds."""
        self._floods.extend(seconds)

    # --- what the collector calls ---------------------------------------------------------------

    def _call(self, name: str, **kwargs: Any) -> None:
        self.calls.append((name, kwargs))
        if self._floods:
            raise errors.FloodWaitError(request=None, capture=self._floods.pop(0))

    def _check_peer(self, peer: Any) -> None:
        if not (isinstance(peer, types.InputPeerChannel) and peer.channel_id == self.entity.id
                and peer.access_hash == self.entity.access_hash):
            raise errors.ChannelInvalidError(request=None)

    async def connect(self) -> None:
        self.connected = True
        self._disconnected.clear()  # a reconnect runs until the next disconnect

    async def disconnect(self) -> None:
        self.connected = False
        self._disconnected.set()

    async def is_user_authorized(self) -> bool:
        return self.authorized

    async def get_entity(self, what: str) -> types.Channel:
        self._call("get_entity", what=what)
        if what.lower().removeprefix("@") == self.entity.username.lower():
            return self.entity
        raise ValueError(f'No user has "{what}" as username')

    def iter_messages(
        self, entity: Any, limit: int | None = None, *, min_id: int = 0, max_id: int = 0, reverse: bool = False
    ) -> AsyncIterator[types.Message]:
        async def generate() -> AsyncIterator[types.Message]:
            self._call("iter_messages", limit=limit, min_id=min_id, max_id=max_id, reverse=reverse)
            self._check_peer(entity)
            ids = sorted(i for i in self.messages if i > min_id and (not max_id or i < max_id))
            if not reverse:
                ids.reverse()
            for message_id in ids[:limit] if limit else ids:
                yield self.messages[message_id]

        return generate()

    async def get_messages(self, entity: Any, ids: int | list[int]) -> Any:
        self._call("get_messages", ids=ids)
        self._check_peer(entity)
        if isinstance(ids, int):
            return self.messages.get(ids)
        return [self.messages.get(i) for i in ids]

    async def download_media(self, message: Any, file: Any = None, thumb: Any = None) -> bytes:
        self._call("download_media", id=message.id, file=file, thumb=thumb)
        return jpeg_bytes(f"{self.entity.username}_{message.id}_{'thumb' if thumb is not None else 'photo'}")

    def add_event_handler(self, callback: Any, event: Any) -> None:
        self.handlers.append((callback, event))

    def remove_event_handler(self, callback: Any, event: Any = None) -> None:
        self.handlers = [(c, e) for c, e in self.handlers if not (c is callback and (event is None or e is event))]

    async def run_until_disconnected(self) -> None:
        await self._disconnected.wait()

    async def dispatch(self, update: Any) -> int:
        """Run the handlers whose builder accepts `update`, as Telethon's update loop does; count them."""
        ran = 0
        for callback, builder in list(self.handlers):
            await builder.resolve(self)
            event = builder.build(update, None, 1)
            if event is None or not builder.filter(event):
                continue
            event.original_update = update
            await callback(event)
            ran += 1
        return ran


def _photo(message_id: int) -> types.MessageMediaPhoto:
    return types.MessageMediaPhoto(photo=types.Photo(
        id=message_id, access_hash=1, file_reference=b"", date=START,
        sizes=[types.PhotoSize("y", 1280, 960, 120_000)], dc_id=2,
    ))


def _video(message_id: int) -> types.MessageMediaDocument:
    return types.MessageMediaDocument(document=types.Document(
        id=message_id, access_hash=1, file_reference=b"", date=START, mime_type="video/mp4", size=5_000_000,
        dc_id=2, attributes=[types.DocumentAttributeVideo(duration=42, w=640, h=360)],
        thumbs=[types.PhotoSize("m", 320, 180, 9_000)],
    ))
