"""The bot end to end: users subscribe over a fake Bot API, strikes arrive through the fake t.me."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.api import BotAPI
from bot.service import BotService
from monitor.app import App, open_app
from monitor.config import load_config
from monitor.ops.logs import JSONFormatter
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.tme import FakeTelegram

STRIKE = (
    "Харківщина: внаслідок ракетного удару по Балаклії зруйновано приватний будинок. "
    "Загинула 1 людина, ще 8 — травмовані. Рятувальники ліквідували пожежу."
)


@asynccontextmanager
async def running_bot(config_path: Path, **settings: Any) -> AsyncIterator[App]:
    """The bot service over the fake Bot API; `settings` override BotService's arguments."""
    config = load_config(config_path)
    async with open_app(config) as app:
        assert config.bot.token
        api = BotAPI(config.bot.token, config.bot.api_url)
        service = BotService(
            app.db, api, admins=set(config.bot.admins), **{"poll_timeout": 1, "per_chat_interval": 0.05, **settings}
        )
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(app.pipeline.alerts_planned, stop))
        try:
            yield app
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await api.aclose()


async def settled_outbox(app: App, timeout: float = 8.0) -> dict[int, str]:
    """chat → status once no row is pending (the fake sees a send just before we record it)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = {r[0]: r[1] for r in await app.db.fetchall("SELECT chat_id, status FROM outbox")}
        if "pending" not in rows.values() or asyncio.get_running_loop().time() > deadline:
            return rows
        await asyncio.sleep(0.05)


async def wait_for(predicate, timeout: float = 8.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.05)


async def test_subscriber_gets_one_alert_only_for_their_region_also_across_restart(
    tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path
) -> None:
    kharkiv, odesa, kyiv = 111, 222, 333
    async with running_bot(bot_config) as app:
        botapi.user_says(kharkiv, "/subscribe Харківщина")
        botapi.user_says(odesa, "/subscribe Одеська область")
        botapi.user_says(kyiv, "/start UA-30")
        await wait_for(lambda: len(botapi.sent) >= 4)
        assert "Харківська область" in botapi.sent_to(kharkiv)[-1]["text"]
        assert any("Київ" in m["text"] for m in botapi.sent_to(kyiv))
        assert botapi.commands("") and botapi.commands("en")  # setMyCommands at start

        now = datetime.now(UTC)
        tme.post("dsns_telegram", "Старий удар по Балаклії, ракета.", date=now - timedelta(days=2))
        tme.post("dsns_telegram", STRIKE, date=now - timedelta(minutes=3), photos=("balakliia",))
        tme.post("dsns_telegram", "Одещина: пожежа сухої трави на площі 2 га. Постраждалих немає.", date=now)
        before = len(botapi.sent)
        await app.pipeline.poll(app.config.source("dsns_telegram"), force=True)
        await wait_for(lambda: len(botapi.sent_to(kharkiv)) >= 2)
        await asyncio.sleep(0.5)
        alert = botapi.sent_to(kharkiv)[-1]
        assert alert["method"] == "sendPhoto"
        assert "Балаклія" in alert["caption"] and "1" in alert["caption"] and "8" in alert["caption"]
        assert "/dsns_telegram/" in alert["caption"]
        assert len(botapi.sent) == before + 1  # not Odesa (a grass fire), not Kyiv, not the old strike
        assert await settled_outbox(app) == {kharkiv: "sent"}

    # A restart re-reads the same posts: nothing is sent twice, no command handled twice.
    async with running_bot(bot_config) as app:
        await app.pipeline.poll(app.config.source("dsns_telegram"), force=True)
        await asyncio.sleep(1.5)
    assert len(botapi.sent_to(kharkiv)) == 2
    assert botapi.pending_updates() == []


async def test_updates_edit_with_what_changed_and_a_change_that_matters_is_a_reply(
    tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path
) -> None:
    async with running_bot(bot_config) as app:
        botapi.user_says(111, "/subscribe Балаклія")
        await wait_for(lambda: len(botapi.sent) >= 1)
        tme.post("dsns_telegram", STRIKE, date=datetime.now(UTC))
        await app.pipeline.poll(app.config.source("dsns_telegram"), force=True)
        await wait_for(lambda: len(botapi.sent_to(111)) >= 2)
        # A second post with a little more: a silent edit saying what changed, quoting that post.
        tme.post("dsns_telegram", "Харківщина: уточнені дані про ракетний удар по Балаклії. "
                 "Загинули 2 людини, ще 9 травмовані.", date=datetime.now(UTC))
        await app.pipeline.poll(app.config.source("dsns_telegram"), force=True)
        await wait_for(lambda: len(botapi.sent_to(111)) >= 3)
        first, edit = botapi.sent_to(111)[1:3]
        assert first["method"] == "sendMessage" and not first["silent"]
        assert edit["method"] == "editMessageText" and edit["message_id"] == first["message_id"]
        assert "Оновлено " in edit["text"] and "загинули 2 (було 1), поранені 9 (було 8)" in edit["text"]
        assert "уточнені дані" in edit["text"] and "Рятувальники" not in edit["text"]
        # Injured up by more than half and by 3 or more: a new message, a reply to the first, with sound.
        tme.post("dsns_telegram", "Харківщина: ракетний удар по Балаклії — загинули 2 людини, 20 людей травмовані.",
                 date=datetime.now(UTC))
        await app.pipeline.poll(app.config.source("dsns_telegram"), force=True)
        await wait_for(lambda: len(botapi.sent_to(111)) >= 4)
        reply = botapi.sent_to(111)[3]
        assert reply["method"] == "sendMessage" and reply["reply_to"] == first["message_id"] and not reply["silent"]
        assert "поранені 20 (було 9)" in reply["text"]
        assert await settled_outbox(app) == {111: "sent"}


async def test_blocked_user_is_marked_inactive_and_429_pauses(tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path) -> None:
    async with running_bot(bot_config) as app:
        for chat in (111, 222):
            botapi.user_says(chat, "/subscribe Харківщина")
        await wait_for(lambda: len(botapi.sent) >= 2)
        botapi.block(222)
        botapi.fail_next(1, 429, retry_after=1, method="sendMessage")
        tme.post("dsns_telegram", STRIKE, date=datetime.now(UTC))
        await app.pipeline.poll(app.config.source("dsns_telegram"), force=True)
        await wait_for(lambda: len(botapi.sent_to(111)) >= 2, timeout=10)
        assert await settled_outbox(app) == {111: "sent", 222: "dropped"}
        row = await app.db.fetchone("SELECT active FROM chats WHERE chat_id = 222")
        assert row[0] == 0


@pytest.mark.parametrize(
    ("command", "expect"),
    [
        ("/frobnicate", "Не знаю команди /frobnicate"),
        ("/subscribe", "Напишіть, за яким регіоном стежити"),
        ("/subscribe Ґґґґґ", "Не знайшов регіону"),
        ("/mute abc", "на скільки годин"),
        ("/mute 999", "на скільки годин"),
        ("/unsubscribe Одещина", "Ви не стежите"),
        ("/stats", "лише для адміністраторів"),
        ("привіт", "/subscribe привіт"),
        ("/subscribe <b>", "Не знайшов регіону «&lt;b&gt;»"),
    ],
)
async def test_bad_input_gets_a_helpful_answer(botapi: FakeBotAPI, bot_config: Path, command: str, expect: str) -> None:
    async with running_bot(bot_config):
        botapi.user_says(111, command)
        await wait_for(lambda: len(botapi.sent) >= 1)
    assert expect in botapi.sent[-1]["text"]


async def test_conversation_list_mute_unsubscribe_regions_and_english(botapi: FakeBotAPI, bot_config: Path) -> None:
    async with running_bot(bot_config) as app:
        botapi.user_says(111, "/subscribe Іванівка")
        await wait_for(lambda: len(botapi.sent) >= 1)
        choose = botapi.sent[-1]
        buttons = [b for row in choose["reply_markup"]["inline_keyboard"] for b in row]
        # a page of namesakes, then the ▶ to the next page
        assert len(buttons) == 9 and all(b["callback_data"].startswith("sub:UA") for b in buttons[:8])
        assert buttons[-1]["callback_data"].startswith("pg:")
        botapi.user_clicks(111, buttons[0]["callback_data"], choose["message_id"])
        await wait_for(lambda: len(botapi.sent) >= 2)
        assert "Іванівка" in botapi.sent[-1]["text"]

        botapi.user_says(111, "/regions")
        await wait_for(lambda: len(botapi.sent) >= 3)
        kb = botapi.sent[-1]["reply_markup"]["inline_keyboard"]
        assert sum(len(r) for r in kb) == 27
        botapi.user_clicks(111, "obl:UA-63", botapi.sent[-1]["message_id"])
        await wait_for(lambda: len(botapi.sent) >= 4)
        raions = [b["callback_data"] for row in botapi.sent[-1]["reply_markup"]["inline_keyboard"] for b in row]
        assert raions[0] == "sub:UA-63" and len(raions) == 8  # the oblast and its 7 raions
        botapi.user_clicks(111, "sub:UA-63", botapi.sent[-1]["message_id"])
        await wait_for(lambda: len(botapi.sent) >= 5)

        botapi.user_says(111, "/list")
        await wait_for(lambda: len(botapi.sent) >= 6)
        assert "Іванівка" in botapi.sent[-1]["text"] and "Харківська область" in botapi.sent[-1]["text"]
        botapi.user_says(111, "/mute 8")
        await wait_for(lambda: len(botapi.sent) >= 7)
        assert "вимкнено до" in botapi.sent[-1]["text"]
        assert (await app.db.fetchone("SELECT muted_until FROM chats WHERE chat_id = 111"))[0]
        botapi.user_says(111, "/unsubscribe all")
        await wait_for(lambda: len(botapi.sent) >= 8)
        assert "(2)" in botapi.sent[-1]["text"]

        botapi.user_says(555, "/start", language_code="en")
        await wait_for(lambda: len(botapi.sent) >= 9)
        assert botapi.sent[-1]["text"].startswith("Hello!")
        botapi.user_says(900, "/stats")
        await wait_for(lambda: len(botapi.sent) >= 10)
        stats = botapi.sent[-1]["text"]
        assert "Статистика" in stats and "Підписники: 3 (активні: 3)" in stats


async def test_server_error_is_retried_and_last_lists_recent_strikes(tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path) -> None:
    async with running_bot(bot_config) as app:
        botapi.user_says(111, "/subscribe Харківщина")
        await wait_for(lambda: len(botapi.sent) >= 1)
        botapi.fail_next(1, 500, method="sendMessage")
        tme.post("dsns_telegram", STRIKE, date=datetime.now(UTC))
        await app.pipeline.poll(app.config.source("dsns_telegram"), force=True)
        await wait_for(lambda: len(botapi.sent_to(111)) >= 2, timeout=10)
        assert await settled_outbox(app) == {111: "sent"}
        row = await app.db.fetchone("SELECT attempts FROM outbox")
        assert row[0] == 1  # one failed try counted, then delivered
        botapi.user_says(111, "/last")
        await wait_for(lambda: len(botapi.sent_to(111)) >= 3)
        assert "Балаклія" in botapi.sent_to(111)[-1]["text"]
        botapi.user_says(111, "/last Одещина")
        await wait_for(lambda: len(botapi.sent_to(111)) >= 4)
        assert "не зафіксовано" in botapi.sent_to(111)[-1]["text"]


async def test_settlement_watch_offers_its_oblast(botapi: FakeBotAPI, bot_config: Path) -> None:
    async with running_bot(bot_config) as app:
        botapi.user_says(111, "/subscribe Балаклія")
        await wait_for(lambda: len(botapi.sent) >= 1)
        reply = botapi.sent[-1]
        assert "Балаклія" in reply["text"]
        (button,) = [b for row in reply["reply_markup"]["inline_keyboard"] for b in row]
        assert button["callback_data"] == "sub:UA-63" and "Харківська область" in button["text"]
        botapi.user_clicks(111, button["callback_data"], reply["message_id"])
        await wait_for(lambda: len(botapi.sent) >= 2)
        regions = {r[0] for r in await app.db.fetchall("SELECT region FROM subscriptions WHERE chat_id = 111")}
    # the oblast includes the town: the list keeps the wider watch and says what it replaced
    assert regions == {"UA-63"}
    assert "Балаклія" in botapi.sent[-1]["text"] and "прибрав" in botapi.sent[-1]["text"]


async def test_bad_request_is_logged_and_dropped_others_still_sent(
    tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dsns_monitor")
    async with running_bot(bot_config) as app:
        for chat in (111, 222):
            botapi.user_says(chat, "/subscribe Харківщина")
        await wait_for(lambda: len(botapi.sent) >= 2)
        botapi.fail_next(1, 400, description="Bad Request: chat not found", method="sendMessage")
        tme.post("dsns_telegram", STRIKE, date=datetime.now(UTC))
        await app.pipeline.poll(app.config.source("dsns_telegram"), force=True)
        statuses = await settled_outbox(app)
        assert sorted(statuses.values()) == ["dropped", "sent"]
        dropped = await app.db.fetchone("SELECT chat_id, last_error FROM outbox WHERE status = 'dropped'")
        assert "chat not found" in dropped[1]
    # The chat is a field, so JSON logs carry it as a key.
    (record,) = [r for r in caplog.records if r.getMessage() == "alert rejected by Telegram"]
    entry = json.loads(JSONFormatter().format(record))
    assert entry["chat"] == dropped[0] and "chat not found" in entry["error"]
