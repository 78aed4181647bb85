"""Subscribing to the right place, over the fake Bot API: namesakes paged and narrowed, a shared
location and /radius, a tidy list, Latin names in English, groups where only admins may change."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analysis.gazetteer import get_gazetteer
from analysis.places import distance_km, find_places
from bot.api import BotAPI
from bot.commands import Answer, CommandContext, Reply, handle_update
from bot.format import AlertContent, format_alert
from bot.ratelimit import SendLimiter
from bot.service import BotService
from monitor.config import load_config
from monitor.daemon import bot_settings
from storage.database import Database
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.tme import FakeTelegram
from tests.test_bot_e2e import STRIKE, running_bot, wait_for
from tests.test_bot_ratelimit import VirtualClock

GROUP = -1001234567890
CHUHUIV = (49.835, 36.686)


def _buttons(message: dict[str, Any]) -> list[dict[str, str]]:
    return [b for row in message["reply_markup"]["inline_keyboard"] for b in row]


def _codes(message: dict[str, Any]) -> list[str]:
    return [b["callback_data"][4:] for b in _buttons(message) if b["callback_data"].startswith("sub:UA")]


async def test_namesakes_paged_narrowed_and_earlier_oblasts_first(botapi: FakeBotAPI, bot_config: Path) -> None:
    everywhere = find_places("Іванівка")
    async with running_bot(bot_config) as app:
        botapi.user_says(111, "/subscribe Іванівка")
        await wait_for(lambda: len(botapi.sent) >= 1)
        first = botapi.sent[-1]
        assert f"{len(everywhere)} (сторінка 1 з {math.ceil(len(everywhere) / 8)})" in first["text"]
        page1 = _codes(first)
        assert len(page1) == 8 and [b["text"] for b in _buttons(first)[8:]] == ["▶"]
        assert all(" — " in b["text"] and "громада" in b["text"] for b in _buttons(first)[:8])

        botapi.user_clicks(111, _buttons(first)[-1]["callback_data"], first["message_id"])
        await wait_for(lambda: len(botapi.sent) >= 2)
        second = botapi.sent[-1]
        assert second["method"] == "editMessageText" and second["message_id"] == first["message_id"]
        assert "сторінка 2 з" in second["text"] and [b["text"] for b in _buttons(second)[8:]] == ["◀", "▶"]
        assert not set(_codes(second)) & set(page1)

        botapi.user_says(111, "/subscribe Іванівка, Чугуївський район")
        await wait_for(lambda: len(botapi.sent) >= 3)
        narrowed = botapi.sent[-1]
        assert [b["text"] for b in _buttons(narrowed)] == [
            "Іванівка — Чкаловська громада, Чугуївський р-н", "Іванівка — Вовчанська громада, Чугуївський р-н"]
        botapi.user_clicks(111, _buttons(narrowed)[0]["callback_data"], narrowed["message_id"])
        await wait_for(lambda: len(botapi.sent) >= 4)
        assert "Готово" in botapi.sent[-1]["text"]
        rows = await app.db.fetchall("SELECT region FROM subscriptions WHERE chat_id = 111")
        assert [r[0] for r in rows] == ["UA63140150050055542"]

        # the subscriber watches a place in Kharkiv oblast: its Іванівки come first
        botapi.user_says(111, "/subscribe Іванівка")
        await wait_for(lambda: len(botapi.sent) >= 5)
        g = get_gazetteer()
        assert {g.unit(c).oblast for c in _codes(botapi.sent[-1])} == {"UA-63"}

        # a page button under an older list is stale once another query was asked
        botapi.user_says(111, "/subscribe Іванівка Харківська")
        await wait_for(lambda: len(botapi.sent) >= 6)
        assert "Місць «Іванівка Харківська»: 12" in botapi.sent[-1]["text"]
        botapi.user_clicks(111, _buttons(first)[-1]["callback_data"], first["message_id"])
        await wait_for(lambda: len(botapi.answered) >= 3)
        assert "застаріла" in (botapi.answered[-1]["text"] or "") and len(botapi.sent) == 6


async def test_narrowing_in_english_and_russian(botapi: FakeBotAPI, bot_config: Path) -> None:
    async with running_bot(bot_config):
        botapi.user_says(555, "/subscribe Ivanivka Kharkiv", language_code="en")
        botapi.user_says(666, "/subscribe Ивановка Харьковская", language_code="ru")
        await wait_for(lambda: len(botapi.sent) >= 2)
    english, russian = botapi.sent_to(555)[-1], botapi.sent_to(666)[-1]
    assert "Places called “Ivanivka Kharkiv”: 12 (page 1 of 2)" in english["text"]
    assert "Ivanivka — Chkalovska hromada, Chuhuivskyi raion" in [b["text"] for b in _buttons(english)]
    assert "Місць «Ивановка Харьковская»: 12" in russian["text"]


async def test_location_subscribes_its_hromada_and_radius_every_place_near(botapi: FakeBotAPI, bot_config: Path) -> None:
    g = get_gazetteer()
    async with running_bot(bot_config) as app:
        botapi.user_shares_location(222, *CHUHUIV)
        await wait_for(lambda: len(botapi.sent) >= 1)
        assert "Чугуївська громада" in botapi.sent[-1]["text"] and "/radius 15" in botapi.sent[-1]["text"]
        hromada = [r[0] for r in await app.db.fetchall("SELECT region FROM subscriptions WHERE chat_id = 222")]
        assert [g.unit(c).title for c in hromada] == ["Чугуївська громада"]

        botapi.user_says(222, "/radius 99")
        botapi.user_says(222, "/radius 8")
        await wait_for(lambda: len(botapi.sent) >= 3)
        assert "(1–50)" in botapi.sent[-2]["text"] and "8 км" in botapi.sent[-1]["text"]
        botapi.user_shares_location(222, *CHUHUIV)
        await wait_for(lambda: len(botapi.sent) >= 4)
        assert "в радіусі 8 км" in botapi.sent[-1]["text"]
        regions = [r[0] for r in await app.db.fetchall("SELECT region FROM subscriptions WHERE chat_id = 222")]
        near = [g.unit(c) for c in regions if c not in hromada]
        assert near and all(
            distance_km(*CHUHUIV, u.lat, u.lon) <= 8 for u in near if u.level == "settlement")  # type: ignore[arg-type]
        # places inside the hromada already watched were not added twice
        assert not [u for u in near if u.hromada_code == hromada[0]]
        pending = await app.db.fetchone("SELECT radius_km FROM chat_pending WHERE chat_id = 222")
        assert pending[0] is None  # one radius, one location

        botapi.user_shares_location(222, 51.5, -0.12)  # London
        await wait_for(lambda: len(botapi.sent) >= 5)
        assert "Не знайшов населених пунктів" in botapi.sent[-1]["text"]


async def test_english_alert_and_list_name_places_in_latin(tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path) -> None:
    async with running_bot(bot_config) as app:
        botapi.user_says(555, "/subscribe Kharkiv region", language_code="en")
        await wait_for(lambda: len(botapi.sent) >= 1)
        tme.post("dsns_telegram", STRIKE, date=datetime.now(UTC))
        await app.pipeline.poll(app.config.source("dsns_telegram"), force=True)
        await wait_for(lambda: len(botapi.sent_to(555)) >= 2, timeout=10)
        alert = botapi.sent_to(555)[-1].get("text") or botapi.sent_to(555)[-1].get("caption")
        assert "Place: Balakliia" in alert and "Балаклія" not in alert.split("\n\n")[0]
        assert "Strike: Kharkiv oblast" in alert  # not a bare "Kharkiv", read as the city
    formatted = format_alert(AlertContent(published_at=datetime.now(UTC), source_url="", source_name="x",
                                          excerpt="", places=["Куп’янськ"]), lang="en")
    assert "Place: Kupiansk" in formatted.text


async def test_group_commands_only_from_admins(botapi: FakeBotAPI, bot_config: Path) -> None:
    botapi.set_member(GROUP, 7, "administrator")
    botapi.set_member(GROUP, 9, "creator")
    async with running_bot(bot_config) as app:
        botapi.group_says(GROUP, 8, "/subscribe@dsns_monitor_bot Балаклія")  # a member
        await wait_for(lambda: len(botapi.sent) >= 1)
        assert "лише його адміністратори" in botapi.sent[-1]["text"]

        botapi.group_says(GROUP, 8, "/subscribe@other_bot Харківщина")  # not ours: no answer
        botapi.group_says(GROUP, 8, "доброго ранку, сусіди")  # the group's talk: no answer
        botapi.group_says(GROUP, 7, "/subscribe@dsns_monitor_bot Балаклія")
        await wait_for(lambda: len(botapi.sent) >= 2)
        assert "Готово" in botapi.sent[-1]["text"]
        botapi.group_says(GROUP, 9, "/subscribe Харківщина", chat_type="group")
        await wait_for(lambda: len(botapi.sent) >= 3)
        assert "прибрав" in botapi.sent[-1]["text"]  # the oblast replaced the town

        message = botapi.sent[-1]
        botapi.user_clicks(GROUP, "sub:UA-53", message["message_id"], user_id=8)  # a member's press
        await wait_for(lambda: len(botapi.answered) >= 1)
        assert "адміністратори" in (botapi.answered[-1]["text"] or "")

        botapi.group_says(GROUP, 8, "/list")  # reading is for everyone
        await wait_for(lambda: len(botapi.sent) >= 4)
        assert "Харківська область" in botapi.sent[-1]["text"]
        botapi.group_says(GROUP, 0, "/unsubscribe all", anonymous=True)  # an anonymous admin
        await wait_for(lambda: len(botapi.sent) >= 5)
        assert "(1)" in botapi.sent[-1]["text"]
        botapi.group_says(GROUP, 7, "/mute 1")  # answered from the cache, no second question
        await wait_for(lambda: len(botapi.sent) >= 6)
        assert "вимкнено" in botapi.sent[-1]["text"]
        botapi.group_says(GROUP, 7, "/radius 5")
        await wait_for(lambda: len(botapi.sent) >= 7)
        assert "особистому чаті" in botapi.sent[-1]["text"]
        rows = await app.db.fetchall("SELECT region FROM subscriptions WHERE chat_id = ?", (GROUP,))
    assert rows == [] and all(m["chat_id"] == GROUP for m in botapi.sent) and len(botapi.sent) == 7
    assert botapi.calls["getChatMember"] == 3  # members 8, 7 and 9, each asked once (then remembered)


async def test_per_group_limit_of_twenty_a_minute() -> None:
    clock = VirtualClock()
    limiter = SendLimiter(global_rate=30, per_chat_interval=1.0, clock=clock, sleep=clock.sleep)
    times: dict[int, list[float]] = {GROUP: [], 111: []}

    async def send(chat: int) -> None:
        await limiter.acquire(chat)
        times[chat].append(clock())

    await clock.run(*(send(chat) for _ in range(45) for chat in (GROUP, 111)))
    group = times[GROUP]
    assert all(group[i + 20] - group[i] >= 60.0 for i in range(len(group) - 20))  # never 21 in a minute
    assert group[19] < 20 and group[20] >= 60.0
    assert times[111][-1] < 45  # a private chat keeps its one a second


def _settings_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text('[[sources]]\ntype = "telegram_web"\nchannel = "dsns_telegram"\n\n[bot]\n'
                    "command_burst = 3\ncommands_per_minute = 6\nmax_subscriptions = 2\n")
    return path


async def test_flood_and_watch_limits_come_from_config(tmp_path: Path) -> None:
    config = load_config(_settings_config(tmp_path))
    db = await Database.open(tmp_path / "a.db")
    try:
        # no call is made: the address is only for the limiter the service gives the client
        service = BotService(db, BotAPI("1:x", "http://127.0.0.1:9"), **bot_settings(config.bot))
        assert service.commands.burst == 3 and service.ctx.max_subscriptions == 2
        assert [service.commands.take(1) for _ in range(5)] == ["ok", "ok", "ok", "warn", "drop"]
        replies = [await _say(db, service.ctx, f"/subscribe {q}") for q in ("Балаклія", "Одеса", "Полтава")]
        assert "щонайбільше за 2" in replies[-1][0].text  # type: ignore[union-attr]
    finally:
        await db.close()
    defaults = load_config(_plain(tmp_path)).bot
    assert (defaults.command_burst, defaults.commands_per_minute, defaults.max_subscriptions) == (20, 20.0, 50)


def _plain(tmp_path: Path) -> Path:
    path = tmp_path / "plain.toml"
    path.write_text('[[sources]]\ntype = "telegram_web"\nchannel = "dsns_telegram"\n')
    return path


_ids = iter(range(1, 10**6))


async def _say(db: Database, ctx: CommandContext, text: str, chat: int = 111) -> list[Reply | Answer]:
    n = next(_ids)
    update = {"update_id": n, "message": {"message_id": n, "text": text, "chat": {"id": chat, "type": "private"},
                                          "from": {"id": chat, "language_code": "uk"}}}
    async with db.write() as conn:
        return await handle_update(conn, update, ctx)


async def test_a_covered_place_is_not_added_and_says_why(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    ctx = CommandContext()
    try:
        await _say(db, ctx, "/subscribe Харківщина")
        (reply,) = await _say(db, ctx, "/subscribe Балаклія")
        assert isinstance(reply, Reply)
        assert "Ви вже стежите за регіоном <b>Харківська область</b>, а він охоплює <b>Балаклія" in reply.text
        (reply,) = await _say(db, ctx, "/subscribe Ізюмський район")
        assert "охоплює" in reply.text  # type: ignore[union-attr]
        rows = await db.fetchall("SELECT region FROM subscriptions WHERE chat_id = 111")
        assert [r[0] for r in rows] == ["UA-63"]
        (reply,) = await _say(db, ctx, "/subscribe UA-43")
        assert "<b>Автономна Республіка Крим</b>" in reply.text  # type: ignore[union-attr]
    finally:
        await db.close()
