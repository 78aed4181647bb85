"""SendLimiter: global rate, per-chat interval, pause, fairness and bounded state.
CommandLimiter: a token bucket per chat, one warning per flood, bounded state."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections import Counter

import pytest

from bot.ratelimit import CommandLimiter, SendLimiter


class VirtualClock:
    """Time that moves only when every task is waiting: sleeps resolve in deadline order."""

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + max(0.0, seconds), next(self._seq), future))
        await future

    async def run(self, *coros: object) -> list[object]:
        """Run `coros` to completion, advancing time whenever they are all asleep."""
        tasks = [asyncio.ensure_future(c) for c in coros]  # type: ignore[arg-type]
        while not all(t.done() for t in tasks):
            for _ in range(50):  # let woken tasks run until they block again
                await asyncio.sleep(0)
            if self._timers:
                when, _, future = heapq.heappop(self._timers)
                self.now = max(self.now, when)
                future.set_result(None)
        return [t.result() for t in tasks]


def per_second(times: list[float]) -> Counter[int]:
    return Counter(int(t) for t in times)


async def test_global_rate_is_respected() -> None:
    clock = VirtualClock()
    limiter = SendLimiter(global_rate=10, per_chat_interval=1.0, clock=clock, sleep=clock.sleep)
    times: list[float] = []

    async def send(chat: int) -> None:
        await limiter.acquire(chat)
        times.append(clock())

    await clock.run(*(send(chat) for chat in range(50)))
    assert len(times) == 50
    assert max(per_second(times).values()) <= 11  # 10/s, plus at most the catch-up slack
    assert 4.0 <= max(times) <= 5.1  # and not slower than the rate either


async def test_one_per_interval_per_chat_and_others_not_held_up() -> None:
    clock = VirtualClock()
    limiter = SendLimiter(global_rate=100, per_chat_interval=1.0, clock=clock, sleep=clock.sleep)
    times: dict[int, list[float]] = {1: [], 2: []}

    async def send(chat: int) -> None:
        await limiter.acquire(chat)
        times[chat].append(clock())

    await clock.run(*(send(1) for _ in range(4)), *(send(2) for _ in range(4)))
    for chat_times in times.values():
        gaps = [b - a for a, b in zip(chat_times, chat_times[1:])]
        assert len(chat_times) == 4 and min(gaps) >= 1.0 - 1e-9
    # chat 2's first message did not wait behind chat 1's queue
    assert times[2][0] < 0.1


async def test_pause_holds_every_send() -> None:
    clock = VirtualClock()
    limiter = SendLimiter(global_rate=100, per_chat_interval=0.0, clock=clock, sleep=clock.sleep)
    times: list[float] = []

    async def send(chat: int) -> None:
        await limiter.acquire(chat)
        times.append(clock())
        if chat == 2:
            limiter.pause(5.0)  # as on a 429 with retry_after=5

    await clock.run(*(send(chat) for chat in range(10)))
    assert len([t for t in times if t < 1]) == 3  # chats 0..2 went before the pause
    assert all(t >= 5.0 for t in times[3:])


async def test_pause_extended_while_waiting() -> None:
    clock = VirtualClock()
    limiter = SendLimiter(global_rate=100, per_chat_interval=0.0, clock=clock, sleep=clock.sleep)
    limiter.pause(2.0)
    assert limiter.paused_for == pytest.approx(2.0)

    async def extend() -> None:
        await clock.sleep(1.0)
        limiter.pause(3.0)  # now until t=4

    async def send() -> float:
        await limiter.acquire(1)
        return clock()

    _, sent_at = await clock.run(extend(), send())
    assert sent_at >= 4.0


async def test_fifo_order_across_chats() -> None:
    clock = VirtualClock()
    limiter = SendLimiter(global_rate=5, per_chat_interval=1.0, clock=clock, sleep=clock.sleep)
    order: list[int] = []

    async def send(chat: int) -> None:
        await limiter.acquire(chat)
        order.append(chat)

    await clock.run(*(send(chat) for chat in range(20)))
    assert order == list(range(20))  # first come, first served: nobody starves


async def test_state_stays_bounded_with_many_chats() -> None:
    limiter = SendLimiter(global_rate=1e9, per_chat_interval=0.001)
    started = time.perf_counter()
    for chat in range(10_000):
        await limiter.acquire(chat)
    elapsed = time.perf_counter() - started
    await asyncio.sleep(0.01)
    await limiter.acquire("last")
    # expired chats are pruned from the front: state tracks recent chats, not all 10,000
    assert limiter.tracked_chats < 100
    assert elapsed < 5.0  # O(1) per acquire; an O(n) scan would be ~50M steps


async def test_real_time_counts() -> None:
    limiter = SendLimiter(global_rate=50, per_chat_interval=0.2)
    stamps: list[float] = []

    async def send(chat: int) -> None:
        await limiter.acquire(chat)
        stamps.append(time.monotonic())

    start = time.monotonic()
    await asyncio.gather(*(send(chat % 5) for chat in range(25)))
    elapsed = time.monotonic() - start
    # 5 chats × 5 messages at one per 0.2 s each: at least 0.8 s, not far above
    assert 0.75 <= elapsed < 2.0
    window = [t for t in stamps if t - stamps[0] < 0.1]
    assert len(window) <= 6


def test_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        SendLimiter(global_rate=0)
    with pytest.raises(ValueError):
        SendLimiter(per_chat_interval=-1)


def test_command_bucket_allows_a_burst_then_warns_once_per_flood() -> None:
    clock = VirtualClock()
    commands = CommandLimiter(burst=5, per_minute=6, clock=clock)  # one more every 10 s
    verdicts = [commands.take(1) for _ in range(120)]
    assert verdicts[:5] == ["ok"] * 5 and verdicts[5] == "warn" and set(verdicts[6:]) == {"drop"}
    assert commands.take(2) == "ok"  # another chat has its own bucket

    # Flooding on at about the refill rate: a command now and then, never a second warning.
    seen = []
    for _ in range(30):
        clock.now += 3.0
        seen.append(commands.take(1))
    assert "warn" not in seen and 8 <= seen.count("ok") <= 10

    # Quiet long enough to fill the bucket: the flood is over, the next one is warned again.
    clock.now += 60.0
    assert [commands.take(1) for _ in range(7)] == ["ok"] * 5 + ["warn", "drop"]


def test_command_bucket_state_stays_bounded() -> None:
    clock = VirtualClock()
    commands = CommandLimiter(burst=3, per_minute=60, clock=clock)
    for chat in range(100_000):
        commands.take(chat)
        clock.now += 0.01
    # Buckets refill in 3 s: only chats seen in the last few seconds are remembered.
    assert commands.tracked_chats <= 400
    with pytest.raises(ValueError):
        CommandLimiter(burst=0)
