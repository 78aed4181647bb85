"""Delivery: quiet nights and what breaks through, the morning digest, /settings, priority when
the outbox is long, broadcast channels and the bot's health, over the fake Bot API."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.fanout import max_in_window
from bot.format import update_note
from bot.policy import (
    UpdateRules,
    delivery,
    digest_due,
    in_window,
    kyiv_minute,
    matters,
)
from bot.ratelimit import SendLimiter
from bot.settings import parse_range
from monitor.app import App, open_app
from monitor.config import BotChannelConfig, load_config
from monitor.ops import faults, metrics
from monitor.ops.health import health_report
from storage.chat_settings import ChatSettings
from storage.outbox import due_items, plan_alerts
from storage.subscriptions import chats_watching, subscribe, upsert_chat
from storage.timeutil import to_db, utcnow
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.tme import FakeTelegram
from tests.test_bot_e2e import running_bot, settled_outbox, wait_for
from tests.test_bot_ratelimit import VirtualClock

BALAKLIIA = "UA63040010010039074"
HROMADA, RAION = "UA63040010000010092", "UA63040000000023521"  # Балаклійська громада, Ізюмський район
NO_CASUALTIES = "Харківщина: внаслідок ракетного удару по Балаклії пошкоджено приватний будинок. Постраждалих немає."
KILLED = "Харківщина: внаслідок удару КАБами по Ізюму загинули 2 людини. Зруйновано магазин."


def _window_now() -> str:
    """A quiet window (Kyiv time) from an hour ago to an hour from now."""
    minute = kyiv_minute(utcnow())
    start, end = (minute - 60) % 1440, (minute + 60) % 1440
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


async def _watch(app: App, chat_id: int, region: str, name: str, level: str) -> None:
    async with app.db.write() as conn:
        await upsert_chat(conn, chat_id, "uk")
        await subscribe(conn, chat_id, region, name, level)


async def _strike(app: App, tme: FakeTelegram, text: str) -> None:
    tme.post("dsns_telegram", text, date=datetime.now(UTC))
    await app.pipeline.poll(app.config.source("dsns_telegram"), force=True)


# --- pure rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "now", "expected"),
    [
        ((0, 5), (1, 5), True),  # the first death
        ((None, 5), (1, 5), True),
        ((1, 8), (2, 9), False),  # small rises: a silent edit
        ((1, 8), (1, 13), True),  # +5 ≥ 3 and ≥ half of 8
        ((2, 10), (2, 14), False),  # +4 is not half of 10
        ((0, 1), (0, 3), False),  # +2 is less than 3
        ((4, 0), (6, 0), False),
        ((4, 0), (7, 0), True),
    ],
)
def test_a_change_that_matters(before: tuple[int, int], now: tuple[int, int], expected: bool) -> None:
    assert matters(UpdateRules(), before, now) is expected


def test_quiet_window_over_midnight_and_the_digest_horizon() -> None:
    assert in_window(23 * 60 + 30, 23 * 60, 7 * 60) and in_window(6 * 60, 23 * 60, 7 * 60)
    assert not in_window(7 * 60, 23 * 60, 7 * 60) and not in_window(12 * 60, 23 * 60, 7 * 60)
    night = datetime(2024, 5, 1, 21, 30, tzinfo=UTC)  # 00:30 in Kyiv (summer time)
    quiet = ChatSettings(quiet_from=23 * 60, quiet_to=7 * 60)
    assert delivery(quiet, rank=3, killed=0, now=night) == "quiet"
    assert delivery(quiet, rank=1, killed=0, now=night) == "loud"  # own hromada
    assert delivery(quiet, rank=3, killed=1, now=night) == "loud"
    assert delivery(ChatSettings(23 * 60, 7 * 60, break_local=False), rank=0, killed=0, now=night) == "quiet"
    digest = ChatSettings(quiet_from=23 * 60, quiet_to=9 * 60, digest_at=8 * 60)
    assert delivery(digest, rank=3, killed=0, now=night) == "hold"
    # 08:30 is still quiet but this morning's digest is gone: quietly now, not tomorrow
    assert delivery(digest, rank=3, killed=0, now=datetime(2024, 5, 1, 5, 30, tzinfo=UTC)) == "quiet"
    assert not digest_due(digest, night - timedelta(minutes=30), night)
    assert digest_due(digest, night, datetime(2024, 5, 2, 5, 1, tzinfo=UTC))  # 08:01 Kyiv


def test_update_note_says_what_changed_and_when_in_both_languages() -> None:
    at = datetime(2024, 5, 1, 8, 5, tzinfo=UTC)  # 11:05 in Kyiv
    assert update_note("uk", at, (1, None), (3, None)) == "Оновлено 11:05: загинули 3 (було 1)"
    assert update_note("en", at, (1, 8), (3, 10)) == "Updated 11:05: killed 3 (was 1), injured 10 (was 8)"
    assert update_note("en", at, (None, 2), (1, 2)) == "Updated 11:05: killed 1"
    assert update_note("uk", at, (1, 2), (1, 2)) == "Оновлено 11:05: нові подробиці"


@pytest.mark.parametrize("text", ["25-99", "23", "07-07", "abc", "23:60-07"])
def test_a_bad_window_is_refused(text: str) -> None:
    assert parse_range(text) is None


# --- quiet nights, digest, settings -------------------------------------------------------------


async def test_quiet_window_is_silent_except_own_place_and_deaths_and_settings_buttons(
    tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path
) -> None:
    oblast, own, no_killed_break = 301, 302, 303
    async with running_bot(bot_config) as app:
        await _watch(app, oblast, "UA-63", "Харківська область", "oblast")
        await _watch(app, own, BALAKLIIA, "Балаклія", "settlement")
        await _watch(app, no_killed_break, "UA-63", "Харківська область", "oblast")
        window = _window_now()
        for chat in (oblast, own, no_killed_break):
            botapi.user_says(chat, f"/quiet {window}")
        botapi.user_says(oblast, "/quiet 25-99")
        botapi.user_says(no_killed_break, "/settings")
        await wait_for(lambda: len(botapi.sent) >= 5)
        assert "/quiet 23-07" in botapi.sent_to(oblast)[-1]["text"]  # bad input: the usage, with an example
        panel = botapi.sent_to(no_killed_break)[-1]
        buttons = [b["callback_data"] for row in panel["reply_markup"]["inline_keyboard"] for b in row]
        assert "set:killed" in buttons and window.replace("-", "–") in panel["text"]
        botapi.user_clicks(no_killed_break, "set:killed", panel["message_id"])
        await wait_for(lambda: botapi.sent_to(no_killed_break)[-1]["method"] == "editMessageText")
        assert "зі звуком: ні" in botapi.sent_to(no_killed_break)[-1]["text"]

        quiet_before = metrics.REGISTRY.get_sample_value("dsns_bot_sends_total", {"outcome": "quiet"}) or 0
        latencies = metrics.REGISTRY.get_sample_value("dsns_alert_latency_seconds_count") or 0
        before = {chat: len(botapi.sent_to(chat)) for chat in (oblast, own, no_killed_break)}
        await _strike(app, tme, NO_CASUALTIES)
        await _strike(app, tme, KILLED)
        await wait_for(lambda: len(botapi.sent_to(oblast)) >= before[oblast] + 2)
        await wait_for(lambda: len(botapi.sent_to(no_killed_break)) >= before[no_killed_break] + 2)
        await wait_for(lambda: len(botapi.sent_to(own)) >= before[own] + 1)

        def silent(chat: int) -> dict[str, bool]:
            return {("Ізюм" if "Ізюм" in m["text"] else "Балаклія"): m["silent"] for m in botapi.sent_to(chat)[before[chat]:]}

        assert silent(oblast) == {"Балаклія": True, "Ізюм": False}  # someone killed breaks through
        assert silent(own) == {"Балаклія": False}  # a strike in one's own settlement breaks through
        assert silent(no_killed_break) == {"Балаклія": True, "Ізюм": True}
        # counted just after the fake has seen the send: waited for, not raced
        await wait_for(lambda: metrics.REGISTRY.get_sample_value("dsns_bot_sends_total", {"outcome": "quiet"})
                       == quiet_before + 3)
        await wait_for(lambda: metrics.REGISTRY.get_sample_value("dsns_alert_latency_seconds_count") == latencies + 5)


async def test_digest_holds_the_night_and_sends_one_message(tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path) -> None:
    chat = 401
    async with running_bot(bot_config) as app:
        await _watch(app, chat, "UA-63", "Харківська область", "oblast")
        botapi.user_says(chat, f"/quiet {_window_now()}")
        digest_at = (kyiv_minute(utcnow()) + 120) % 1440
        botapi.user_says(chat, f"/digest {digest_at // 60:02d}:{digest_at % 60:02d}")
        await wait_for(lambda: len(botapi.sent_to(chat)) >= 2)
        await _strike(app, tme, NO_CASUALTIES)
        await _strike(app, tme, KILLED.replace("загинули 2 людини", "травмовано 2 людей"))
        for _ in range(100):
            held = [r[0] for r in await app.db.fetchall("SELECT status FROM outbox WHERE chat_id = ?", (chat,))]
            if held == ["held", "held"]:
                break
            await asyncio.sleep(0.05)
        assert held == ["held", "held"] and len(botapi.sent_to(chat)) == 2
        # The morning comes: they were held before the last digest time.
        async with app.db.write() as conn:
            await conn.execute("UPDATE outbox SET queued_at = ? WHERE chat_id = ?",
                               (to_db(utcnow() - timedelta(days=1)), chat))
        app.pipeline.alerts_planned.set()
        await wait_for(lambda: len(botapi.sent_to(chat)) >= 3)
        digest = botapi.sent_to(chat)[2]["text"]
        assert "Зведення за ніч" in digest and "Балаклія" in digest and "Ізюм" in digest and "поранені 2" in digest
        assert await settled_outbox(app) == {chat: "sent"}
        assert len(botapi.sent_to(chat)) == 3


# --- fan-out priority ---------------------------------------------------------------------------


async def test_most_specific_subscriptions_and_newest_stories_go_first(tme: FakeTelegram, bot_config: Path) -> None:
    async with open_app(load_config(bot_config)) as app:
        levels = {501: ("UA-63", "oblast"), 502: (RAION, "raion"), 503: (HROMADA, "hromada"), 504: (BALAKLIIA, "settlement")}
        for chat, (region, level) in levels.items():
            await _watch(app, chat, region, region, level)
        await _watch(app, 504, "UA-63", "Харківська область", "oblast")  # the most specific counts
        await _strike(app, tme, NO_CASUALTIES)
        async with app.db.write() as conn:
            ranks = await chats_watching(conn, {"UA-63", RAION, HROMADA, BALAKLIIA})
        assert ranks == {501: 3, 502: 2, 503: 1, 504: 0}
        # The page's batch queued each chat with the rank of its most specific subscription.
        assert dict(await app.db.fetchall("SELECT chat_id, rank FROM outbox")) == ranks
        stories = [r[0] for r in await app.db.fetchall("SELECT id FROM stories ORDER BY id")]
        old_post = (await app.db.fetchone("SELECT id FROM posts ORDER BY id LIMIT 1"))[0]
        await _strike(app, tme, KILLED)
        new_story, new_post = await app.db.fetchone("SELECT story_id, id FROM posts ORDER BY id DESC LIMIT 1")
        async with app.db.write() as conn:
            await conn.execute("DELETE FROM outbox")
            await conn.execute("UPDATE posts SET published_at = ? WHERE id = ?", (to_db(utcnow() - timedelta(hours=1)), old_post))
            await plan_alerts(conn, ranks, stories[0], old_post, 1)
            await plan_alerts(conn, {501: 3, 504: 0}, new_story, new_post, 1)
        order = [(i.chat_id, i.story_id) for i in await due_items(app.db)]
        assert order == [(504, new_story), (504, stories[0]), (503, stories[0]), (502, stories[0]),
                         (501, new_story), (501, stories[0])]


# --- broadcast channels -------------------------------------------------------------------------


async def test_channel_gets_each_story_once_and_one_without_admin_rights_is_an_error(
    tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path
) -> None:
    botapi.add_channel("@dsns_alerts_kharkiv", -1001, admin=True)
    botapi.add_channel("@dsns_alerts_sumy", -1002, admin=False)
    channels = [BotChannelConfig(chat="@dsns_alerts_kharkiv", regions=["UA-63"]),
                BotChannelConfig(chat="https://t.me/dsns_alerts_sumy", regions=["ua-63"])]
    faults.reset()
    async with running_bot(bot_config, channels=channels) as app:
        await wait_for(lambda: any(f.component == "channel:@dsns_alerts_sumy" for f in faults.active()))
        _, report = await health_report(app.db, app.config, started_at=utcnow())
        assert report["status"] == "degraded"
        assert "not an administrator" in report["bot"]["channels"]["@dsns_alerts_sumy"]
        assert "@dsns_alerts_kharkiv" not in report["bot"]["channels"]
        await _strike(app, tme, "Харківщина: внаслідок ракетного удару по Балаклії травмовано 1 людину.")
        await wait_for(lambda: len(botapi.sent_to(-1001)) >= 1)
        await _strike(app, tme, "Балаклія: після ракетного удару травмовано 2 людей, пошкоджено будинок.")
        await wait_for(lambda: len(botapi.sent_to(-1001)) >= 2)
        post, edit = botapi.sent_to(-1001)
        assert post["method"] == "sendMessage" and edit["method"] == "editMessageText"
        assert edit["message_id"] == post["message_id"] and "поранені 2 (було 1)" in edit["text"]
        assert botapi.sent_to(-1002) == []
    faults.reset()


# --- health -------------------------------------------------------------------------------------


async def test_health_turns_degraded_when_the_bot_api_fails_longer_than_configured(
    botapi: FakeBotAPI, bot_config: Path
) -> None:
    faults.reset()
    async with running_bot(bot_config, backoff=0.05, degraded_after=60, poll_timeout=0) as app:
        await wait_for(lambda: faults.last_beat("bot_getupdates") is not None)
        _, report = await health_report(app.db, app.config, started_at=utcnow())
        assert report["status"] == "ok" and report["bot"]["last_getupdates_ok"] is not None
        assert report["bot"]["outbox_pending"] == 0 and report["bot"]["failing"] is None
    async with running_bot(bot_config, backoff=0.05, degraded_after=0.3, poll_timeout=0) as app:
        botapi.fail_next(100, 502, method="getUpdates")
        await asyncio.sleep(0.2)
        _, report = await health_report(app.db, app.config, started_at=utcnow())
        assert report["status"] == "ok"  # a short blip is not a fault
        await wait_for(lambda: any(f.component == "bot" for f in faults.active()), timeout=5)
        _, report = await health_report(app.db, app.config, started_at=utcnow())
        assert report["status"] == "degraded" and "getUpdates failing" in report["bot"]["failing"]
    faults.reset()


# --- pacing -------------------------------------------------------------------------------------


async def test_no_second_gets_more_than_the_rate_however_requests_are_delayed() -> None:
    # Telegram counts a send when it arrives, anywhere between our grant and its answer: the
    # limiter counts sends under way as sent now, so bunched arrivals never exceed the rate.
    clock = VirtualClock()
    limiter = SendLimiter(global_rate=10, per_chat_interval=0, clock=clock, sleep=clock.sleep)
    delays = itertools.cycle([0.08, 0.0, 0.05, 0.01, 0.1, 0.0, 0.02])
    arrivals: list[float] = []

    async def send(chat: int) -> None:
        async with limiter.slot(chat):
            on_the_way = next(delays)
            await clock.sleep(on_the_way)
            arrivals.append(clock())
            await clock.sleep(0.1 - on_the_way)

    await clock.run(*(send(chat) for chat in range(60)))
    arrivals.sort()
    assert max_in_window(arrivals) <= 10
    assert (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) >= 8.5  # and close to the rate


async def test_a_429_pauses_and_slows_then_the_rate_recovers() -> None:
    clock = VirtualClock()
    limiter = SendLimiter(global_rate=30, per_chat_interval=0, clock=clock, sleep=clock.sleep)
    limiter.pause(2.0)
    assert limiter.rate == pytest.approx(27.0) and limiter.paused_for == 2.0

    async def sends(n: int) -> None:
        for chat in range(n):
            await limiter.acquire(chat)

    await clock.run(sends(1))
    assert clock() >= 2.0  # nothing went during the pause
    await clock.run(sends(600))
    assert limiter.rate == pytest.approx(30.0, abs=0.2)


async def test_a_new_post_hours_after_the_last_alert_is_a_new_message(
    tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path
) -> None:
    chat = 601
    async with running_bot(bot_config) as app:
        await _watch(app, chat, "UA-63", "Харківська область", "oblast")
        await _strike(app, tme, NO_CASUALTIES)
        await wait_for(lambda: len(botapi.sent_to(chat)) >= 1)
        assert await settled_outbox(app) == {chat: "sent"}
        # A follow-up within the hours: nothing new to say, nothing sent.
        await _strike(app, tme, "Балаклія: рятувальники ДСНС розбирають завали після ракетного удару.")
        await asyncio.sleep(0.3)
        assert len(botapi.sent_to(chat)) == 1
        async with app.db.write() as conn:
            await conn.execute("UPDATE outbox SET alerted_at = ?", (to_db(utcnow() - timedelta(hours=4)),))
        await _strike(app, tme, "Балаклія: ліквідовано наслідки ракетного удару, рятувальники завершили роботу.")
        await wait_for(lambda: len(botapi.sent_to(chat)) >= 2)
        first, again = botapi.sent_to(chat)
        assert again["method"] == "sendMessage" and again["reply_to"] == first["message_id"] and not again["silent"]
        assert "Оновлено" in again["text"] and "нові подробиці" in again["text"]
