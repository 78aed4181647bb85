"""Replies to commands, queued per chat so the update loop never waits for a send.

A chat's replies go out in order, each after the chat's send interval; every chat has its own
drain task, so one chat waiting for its turn (or flooding the bot) never delays another's
answer. Queues are bounded per chat and in total: past the bound a reply is dropped with a
log line rather than memory growing without end.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence

from bot.api import BotAPIError
from bot.commands import Answer, Reply

__all__ = ["ReplyQueues"]

log = logging.getLogger("dsns_monitor.bot")

Action = Reply | Answer


class ReplyQueues:
    """`put(chat_id, actions)` returns at once; `send(action)` runs later in the chat's own task."""

    def __init__(
        self, send: Callable[[Action], Awaitable[None]], *, per_chat: int = 50, total: int = 10_000
    ) -> None:
        self._send = send
        self.per_chat = per_chat
        self.total = total
        self._queues: dict[int, deque[Action]] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._queued = 0

    @property
    def queued(self) -> int:
        """Replies waiting in every chat's queue."""
        return self._queued

    def put(self, chat_id: int, actions: Sequence[Action]) -> bool:
        """Queue `actions` for `chat_id` (all or none); False when a bound would be passed."""
        if not actions:
            return True
        queue = self._queues.get(chat_id)
        waiting = len(queue) if queue else 0
        if waiting + len(actions) > self.per_chat or self._queued + len(actions) > self.total:
            log.warning("reply queue full; replies dropped",
                        extra={"chat": chat_id, "count": len(actions), "queued": self._queued})
            return False
        if queue is None:
            queue = self._queues[chat_id] = deque()
        queue.extend(actions)
        self._queued += len(actions)
        if chat_id not in self._tasks:
            self._tasks[chat_id] = asyncio.create_task(self._drain(chat_id, queue))
        return True

    async def _drain(self, chat_id: int, queue: deque[Action]) -> None:
        try:
            while queue:
                action = queue.popleft()
                self._queued -= 1
                try:
                    await self._send(action)
                except BotAPIError as exc:
                    log.warning("reply not delivered", extra={"chat": chat_id, "error": str(exc)})
                except Exception:  # a bug in one reply must not stop the chat's later ones
                    log.exception("reply failed", extra={"chat": chat_id})
        finally:
            self._queued -= len(queue)
            queue.clear()
            self._queues.pop(chat_id, None)
            self._tasks.pop(chat_id, None)

    async def close(self, grace: float = 2.0) -> None:
        """Give queued replies up to `grace` seconds to go out, then drop the rest."""
        tasks = list(self._tasks.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
