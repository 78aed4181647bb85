"""The Telethon client: built from the credentials, shared by every MTProto source (a session can
be open only once), and the cache of resolved channels beside the session."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from telethon import TelegramClient
from telethon.sessions import StringSession

from collectors.base import SourceNetworkError
from collectors.telegram_mtproto.credentials import (
    ENV_SESSION,
    CredentialsError,
    MTProtoCredentials,
    prepare_session_file,
)

__all__ = ["ClientFactory", "build_client", "SharedClient", "EntityCache"]

log = logging.getLogger("dsns_monitor.telegram_mtproto")

ClientFactory = Callable[[], Awaitable[TelegramClient]]


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
