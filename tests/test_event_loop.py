"""A hostile feed does not freeze the daemon: the bot answers while 10 MB of `&lt;` is parsed,
and the event loop's lag is measured for /metrics."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from analysis.gazetteer import get_gazetteer
from monitor.app import open_app
from monitor.config import load_config
from monitor.ops.metrics import REGISTRY
from monitor.ops.services import LAG_EVERY, OpsServices, watch_loop_lag
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feeds import FakeFeeds
from tests.test_bot_e2e import running_bot

USER = 111


@functools.cache
def hostile_feed() -> bytes:
    """10 MB, nearly all of it `&lt;` in one entry (a quadratic tag pattern froze on 1.2 MB for 95 s)."""
    head = '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>n</title><item><guid>h1</guid>'
    return f"{head}<title>x</title><description>{'&lt;' * 2_500_000}</description></item></channel></rss>".encode()


async def answered_in(botapi: FakeBotAPI, text: str, limit: float) -> None:  # noqa: F811
    """Send `text` as the user and wait for the bot's answer; fail after `limit` seconds."""
    loop = asyncio.get_running_loop()
    before, started = len(botapi.sent_to(USER)), loop.time()
    botapi.user_says(USER, text)
    while len(botapi.sent_to(USER)) == before:
        assert loop.time() - started < limit, f"no answer to {text} within {limit} s"
        await asyncio.sleep(0.01)


def _lag_samples(above: str = "+Inf") -> float:
    return REGISTRY.get_sample_value("dsns_event_loop_lag_seconds_bucket", {"le": above}) or 0.0


async def test_bot_answers_within_a_second_while_a_10mb_hostile_feed_is_polled(
    feeds: FakeFeeds, bot_config: Path, botapi: FakeBotAPI  # noqa: F811
) -> None:
    feeds.set_body("news_uk.xml", hostile_feed())
    async with running_bot(bot_config) as app:
        await answered_in(botapi, "/start", 5.0)  # the bot is up
        # Loaded once per process (with GC pauses of its own): not what this test measures.
        await asyncio.to_thread(get_gazetteer)
        lag = asyncio.create_task(watch_loop_lag(0.02))
        all_before, slow_before = _lag_samples(), _lag_samples() - _lag_samples("1.0")
        poll = asyncio.create_task(app.pipeline.poll(app.config.source("news_uk"), force=True))
        during = 0
        while not poll.done():
            # The answer's round trip also waits on the fake Bot API's threads, which share the
            # GIL with the parse: 1 s is the goal, 2 s keeps a loaded CI machine from failing it.
            # The event loop itself must never be a second late (the lag check below).
            await answered_in(botapi, "/help", 2.0)
            during += not poll.done()
        outcome = await asyncio.wait_for(poll, 60)
        lag.cancel()
        text = await app.db.fetchone("SELECT length(text) FROM posts WHERE stream = 'news_uk'")
    assert during >= 1  # at least one command was answered while the feed was being read
    assert outcome.ok and outcome.new == 1 and text[0] > 60_000  # kept, up to the 64 KB cap
    assert _lag_samples() > all_before  # the lag histogram was fed
    assert _lag_samples() - _lag_samples("1.0") == slow_before  # no wake-up came a second late


async def test_the_daemon_reports_event_loop_lag_on_metrics(config_file: Path) -> None:
    async with open_app(load_config(config_file)) as app:
        scheduler = AsyncIOScheduler()
        scheduler.start()
        ops = OpsServices(app, scheduler)
        await ops.start()
        try:
            before = _lag_samples()
            await asyncio.sleep(LAG_EVERY * 2.5)
            assert ops.health is not None
            async with httpx.AsyncClient(timeout=5) as client:
                text = (await client.get(f"http://127.0.0.1:{ops.health.port}/metrics")).text
        finally:
            await ops.close()
            scheduler.shutdown(wait=False)
    assert _lag_samples() >= before + 2
    assert 'dsns_event_loop_lag_seconds_bucket{le="0.1"}' in text
