"""Pacing of the Bot API: outgoing sends (a global rate, a per-chat interval, a per-group
window, a global pause) and incoming commands (a token bucket per chat).

Telegram allows about 30 messages a second overall and about one a second per chat; above
that it answers 429 with `retry_after`, and the polite answer is to stop *all* sends.

    limiter = SendLimiter(global_rate=29, per_chat_interval=1.0)
    api = BotAPI(token, limiter=limiter)    # every send of `api` waits its turn, and a 429
    await api.send_message(chat_id, text)   # pauses them all and slows the rate a little

A 429 means the rate was too high for Telegram just now: besides pausing, the rate drops by a
tenth and climbs back to `global_rate` over the next few hundred sends.

Every operation is O(1) amortised, whatever the number of chats: the global queue is an
`asyncio.Lock` (FIFO, so senders are served in arrival order), and per-chat state lives in
an `OrderedDict` kept in expiry order so stale chats are dropped from its front.

    commands = CommandLimiter(burst=20, per_minute=20)
    verdict = commands.take(chat_id)        # "ok", "warn" (first refusal of a flood) or "drop"
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Literal

__all__ = ["SendLimiter", "SendCancelled", "STOP_SENDS", "CommandLimiter", "Verdict"]

Verdict = Literal["ok", "warn", "drop"]


# After a 429 the rate drops to this share of itself, never below `_FLOOR` of `global_rate`,
# and each send afterwards takes back this share of the way to `global_rate`.
_BACKOFF = 0.9
_FLOOR = 0.5
_RECOVERY = 0.005


class SendCancelled(Exception):
    """`STOP_SENDS` was set while a send waited for its turn: it was not started."""


# Set by a sender (the alert sender) for the sends of its tasks: once the event is set, a send
# still waiting for its turn (a 429 pause may last minutes) is not started. A context variable,
# so the replies sharing the limiter keep their own grace at shutdown.
STOP_SENDS: ContextVar[asyncio.Event | None] = ContextVar("STOP_SENDS", default=None)


# Telegram's limit for one group: about 20 messages a minute. Group (and channel) ids are negative.
GROUP_PER_MINUTE = 20
GROUP_WINDOW = 60.0


class _Chat:
    __slots__ = ("lock", "next_at", "users", "recent", "sending", "ended")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.next_at = 0.0
        self.users = 0
        # a group's last sends (when they ended), those under way, and a signal when one ends
        self.recent: deque[float] | None = None
        self.sending = 0
        self.ended: asyncio.Event | None = None


def _free_at(ended: deque[float], under_way: int, limit: int, window: float) -> float | None:
    """When one more send fits into any `window` seconds holding at most `limit`: sends under way
    count as sent now, and so do those that ended less than `window` ago (`ended`: the last
    `limit` of them, oldest first). None while the sends under way alone fill it."""
    room = limit - under_way - 1  # ended sends the window may still hold
    if room < 0:
        return None
    return ended[len(ended) - room - 1] + window if len(ended) > room else float("-inf")


class SendLimiter:
    """At most `global_rate` sends a second overall and one per `per_chat_interval` per chat;
    a group (negative chat id) also at most `group_per_minute` in any `group_window` seconds.

    `clock` and `sleep` are injectable for tests (a monotonic clock in seconds and a
    coroutine that waits that long).
    """

    def __init__(
        self,
        global_rate: float = 25.0,
        per_chat_interval: float = 1.0,
        *,
        group_per_minute: int = GROUP_PER_MINUTE,
        group_window: float = GROUP_WINDOW,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if global_rate <= 0:
            raise ValueError("global_rate must be positive")
        if per_chat_interval < 0:
            raise ValueError("per_chat_interval must not be negative")
        if group_per_minute < 1 or group_window <= 0:
            raise ValueError("group_per_minute and group_window must be positive")
        self.global_rate = global_rate
        self.per_chat_interval = per_chat_interval
        self.group_per_minute = group_per_minute
        self.group_window = group_window
        self._interval = 1.0 / global_rate
        self._clock = clock
        self._sleep = sleep
        self._global = asyncio.Lock()
        self._next_global = float("-inf")
        self._paused_until = float("-inf")
        self._chats: OrderedDict[Hashable, _Chat] = OrderedDict()
        # when the last `global_rate` sends ended (or were granted), and how many are under way
        self._recent: deque[float] = deque(maxlen=max(1, int(global_rate)))
        self._in_flight = 0
        self._ended = asyncio.Event()

    @property
    def rate(self) -> float:
        """The current rate (below `global_rate` for a while after a 429)."""
        return 1.0 / self._interval

    @property
    def paused_for(self) -> float:
        """Seconds left of the current pause (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock())

    @property
    def tracked_chats(self) -> int:
        """How many chats still have per-chat state (bounded by recent activity, not history)."""
        return len(self._chats)

    def pause(self, seconds: float) -> None:
        """Hold every send, queued or future, for `seconds` from now (a 429's retry_after)."""
        self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))
        self._interval = min(self._interval / _BACKOFF, 1.0 / (self.global_rate * _FLOOR))

    async def acquire(self, chat_id: Hashable) -> None:
        """Wait until a message to `chat_id` may be sent, then count it as sent; `SendCancelled`
        when the caller's `STOP_SENDS` is set first."""
        await self._turn(chat_id, in_flight=False)

    @asynccontextmanager
    async def slot(self, chat_id: Hashable) -> AsyncIterator[None]:
        """`acquire`, for a send made inside the block: until it has ended it counts as sent
        *now*, since Telegram may count it at any moment until then. So however requests are
        delayed on their way, no second ever holds more than `global_rate` of them."""
        group = await self._turn(chat_id, in_flight=True)
        try:
            yield
        finally:
            self._in_flight -= 1
            now = self._clock()
            self._recent.append(now)
            self._ended.set()
            if group is not None:
                assert group.recent is not None and group.ended is not None
                group.sending -= 1
                group.recent.append(now)
                group.ended.set()

    async def _turn(self, chat_id: Hashable, *, in_flight: bool) -> _Chat | None:
        """Wait for the turn; returns the group's state when the send counts as under way in it."""
        stop = STOP_SENDS.get()
        if stop is None:
            return await self._acquire(chat_id, in_flight)
        if stop.is_set():
            raise SendCancelled
        turn = asyncio.ensure_future(self._acquire(chat_id, in_flight))
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait((turn, stopper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            if not turn.done():
                turn.cancel()
        if not turn.done() or turn.cancelled():
            raise SendCancelled
        return turn.result()

    async def _acquire(self, chat_id: Hashable, in_flight: bool) -> _Chat | None:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat()
        chat.users += 1
        try:
            # Wait for the chat's own turn *before* queueing globally, so a busy chat never
            # holds the global queue while others could go.
            async with chat.lock:
                await self._wait_until(lambda: chat.next_at)
                group = isinstance(chat_id, int) and chat_id < 0
                if group:
                    await self._group_turn(chat)
                await self._take_global_slot(in_flight)
                chat.next_at = self._clock() + self.per_chat_interval
                if not group:
                    return None
                assert chat.recent is not None
                if in_flight:
                    chat.sending += 1  # counted in the window until it ends (`slot`)
                    return chat
                chat.recent.append(self._clock())
                return None
        finally:
            chat.users -= 1
            if chat_id in self._chats:
                # next_at only grows with the clock, so moving the chat to the end keeps the
                # dict sorted by expiry and pruning needs to look at the front only.
                self._chats.move_to_end(chat_id)
            self._prune()

    def _window_free_at(self) -> float | None:
        """When one more send fits into the last second (Telegram counts sends in any one
        second, so a catch-up after a late wake-up must not crowd one): sends in flight count,
        and so do those that ended (or were granted, for `acquire`) less than a second ago.
        None while the sends in flight alone fill it."""
        assert self._recent.maxlen is not None
        return _free_at(self._recent, self._in_flight, self._recent.maxlen, 1.0)

    async def _group_turn(self, chat: _Chat) -> None:
        """Wait until the group may get one more message: Telegram counts a send when it
        arrives, so one under way counts until it has ended, and one that ended counts for
        `group_window` seconds after. Holding the chat's lock, no other send of the group
        starts meanwhile, so the time found only comes sooner as sends end."""
        if chat.recent is None:
            chat.recent = deque(maxlen=self.group_per_minute)
            chat.ended = asyncio.Event()
        assert chat.ended is not None
        while (free := self._group_free_at(chat)) is None:
            chat.ended.clear()
            await chat.ended.wait()

        def deadline() -> float:
            at = self._group_free_at(chat)
            return free if at is None else at

        await self._wait_until(deadline)

    def _group_free_at(self, chat: _Chat) -> float | None:
        assert chat.recent is not None
        return _free_at(chat.recent, chat.sending, self.group_per_minute, self.group_window)

    async def _take_global_slot(self, in_flight: bool) -> None:
        async with self._global:
            while (free := self._window_free_at()) is None:
                self._ended.clear()
                await self._ended.wait()
            now = await self._wait_until(lambda: max(self._next_global, self._paused_until, free))
            base = max(self._next_global, self._paused_until)
            # Catch up by at most half an interval when a sleep overslept, so the long-run
            # rate matches the setting without letting an idle spell build up a burst.
            self._next_global = max(base, now - self._interval / 2) + self._interval
            if in_flight:
                self._in_flight += 1
            else:
                self._recent.append(now)
            target = 1.0 / self.global_rate
            self._interval -= (self._interval - target) * _RECOVERY

    async def _wait_until(self, deadline: Callable[[], float]) -> float:
        # the deadline is re-read after each sleep: a pause may have extended it meanwhile
        while True:
            now = self._clock()
            remaining = deadline() - now
            if remaining <= 0:
                return now
            await self._sleep(remaining)

    def _prune(self) -> None:
        now = self._clock()
        chats = self._chats
        while chats:
            chat_id, chat = next(iter(chats.items()))
            # a group's window outlives its per-chat interval: kept until it has passed
            if (chat.users or chat.sending or chat.next_at > now
                    or (chat.recent and chat.recent[-1] + self.group_window > now)):
                break
            chats.popitem(last=False)


class _Bucket:
    __slots__ = ("tokens", "at", "flooding")

    def __init__(self, tokens: float, at: float) -> None:
        self.tokens = tokens
        self.at = at
        self.flooding = False


class CommandLimiter:
    """A token bucket per chat on incoming commands: `burst` at once, then `per_minute`.

    A refused command is "warn" the first time in a flood and "drop" after that, so a chat
    gets one "too many requests" answer however many commands it sends. The flood ends when
    the bucket has filled up again (the chat was quiet long enough). A full bucket is the same
    as a new one, so full buckets are forgotten: state is bounded by recent activity.
    """

    def __init__(self, burst: int = 20, per_minute: float = 20.0, *, clock: Callable[[], float] = time.monotonic) -> None:
        if burst < 1 or per_minute <= 0:
            raise ValueError("burst and per_minute must be positive")
        self.burst = float(burst)
        self._rate = per_minute / 60.0
        self._clock = clock
        # least recently used first; `at` grows along the dict, so full buckets gather at the front
        self._chats: OrderedDict[Hashable, _Bucket] = OrderedDict()

    @property
    def tracked_chats(self) -> int:
        return len(self._chats)

    def take(self, chat_id: Hashable) -> Verdict:
        """Count one command of `chat_id`: "ok" to handle it, "warn" or "drop" to refuse it."""
        now = self._clock()
        self._prune(now)
        bucket = self._chats.pop(chat_id, None)
        if bucket is None:
            bucket = _Bucket(self.burst, now)
        else:
            bucket.tokens = self._level(bucket, now)
            bucket.at = now
            if bucket.tokens >= self.burst:
                bucket.flooding = False
        self._chats[chat_id] = bucket
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return "ok"
        if bucket.flooding:
            return "drop"
        bucket.flooding = True
        return "warn"

    def _level(self, bucket: _Bucket, now: float) -> float:
        return min(self.burst, bucket.tokens + (now - bucket.at) * self._rate)

    def _prune(self, now: float) -> None:
        chats = self._chats
        while chats:
            bucket = next(iter(chats.values()))
            if self._level(bucket, now) < self.burst:
                break
            chats.popitem(last=False)
