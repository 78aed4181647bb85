"""The bot's loose ends, over the fake Bot API: /help naming every command, every text valid
Telegram HTML in both languages, a group's per-minute allowance kept end to end, a channel
whose admins add the bot after the start, and a change that matters waiting for the digest."""

from __future__ import annotations

import asyncio
import itertools
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.fanout import max_in_window
from bot import settings as settings_texts
from bot import texts
from bot.api import BotAPI, RetryAfter
from bot.commands import CommandContext, Reply, handle_update
from bot.digest import digest_text
from bot.format import AlertContent
from bot.policy import kyiv_minute
from bot.ratelimit import SendLimiter
from bot.service import BotService
from monitor.app import App
from monitor.config import BotChannelConfig, load_config
from monitor.daemon import bot_settings
from monitor.ops import faults
from monitor.ops.health import health_report
from storage.chat_settings import get_settings
from storage.database import Database
from storage.subscriptions import subscribe, upsert_chat
from storage.timeutil import to_db, utcnow
from tests.fakes.botapi import FakeBotAPI, check_html
from tests.fakes.server import LocalServer
from tests.fakes.tme import FakeTelegram
from tests.test_bot_e2e import running_bot, settled_outbox, wait_for
from tests.test_bot_ratelimit import VirtualClock

GROUP = -1002000000001


async def _watch_oblast(app: App, chat_id: int) -> None:
    async with app.db.write() as conn:
        await upsert_chat(conn, chat_id, "uk")
        await subscribe(conn, chat_id, "UA-63", "Харківська область", "oblast")


async def _strikes(app: App, tme: FakeTelegram, *posts: str) -> None:
    for text in posts:
        tme.post("dsns_telegram", text, date=datetime.now(UTC))
    await app.pipeline.poll(app.config.source("dsns_telegram"), force=True)


# --- texts --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["uk", "en"])
def test_help_names_every_command_and_the_location_tip(lang: str) -> None:
    help_text = texts.t(lang, "help")
    missing = [name for name, _ in texts.COMMANDS[lang] if name != "start" and f"/{name}" not in help_text]
    assert missing == []
    assert ("Геопозиція" if lang == "uk" else "Location") in help_text
    assert "/quiet 23-07" in help_text and "/digest 08:00" in help_text


def _filled(template: str) -> str:
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    return template.format(**dict.fromkeys(fields, "1"))


def test_every_reply_is_valid_telegram_html_in_both_languages() -> None:
    tables = [(texts._UK, texts._EN), (settings_texts._TEXTS["uk"], settings_texts._TEXTS["en"])]
    for uk, en in tables:
        assert uk.keys() == en.keys()
        for key in uk:
            for table in (uk, en):
                error, _ = check_html(_filled(table[key]))
                assert error is None, (key, error)


# --- a group's allowance ------------------------------------------------------------------------


async def test_group_sends_wait_until_the_ones_under_way_have_arrived() -> None:
    # Telegram counts a group's message when it arrives: a send still on its way when the window
    # would let the next one go must hold it back, or bunched arrivals break the allowance.
    clock = VirtualClock()
    limiter = SendLimiter(global_rate=30, per_chat_interval=0, group_per_minute=2, group_window=1.0,
                          clock=clock, sleep=clock.sleep)
    delays = itertools.cycle([0.3, 0.0, 0.2, 0.05])
    arrivals: list[float] = []

    async def send() -> None:
        async with limiter.slot(GROUP):
            await clock.sleep(next(delays))
            arrivals.append(clock())

    await clock.run(*(send() for _ in range(9)))
    assert len(arrivals) == 9 and max_in_window(sorted(arrivals), 1.0) <= 2


async def test_a_group_gets_its_allowance_a_window_and_the_rest_after_none_lost(
    tme: FakeTelegram, botapi: FakeBotAPI, bot_server: LocalServer, bot_config: Path
) -> None:
    # Telegram's own limit, as the fake keeps it: a third message inside the window is a 429.
    window = 0.4
    botapi.group_per_window, botapi.group_window = 2, window
    async with BotAPI(botapi.token, bot_server.url) as raw:
        await raw.send_message(GROUP - 1, "1")
        await raw.send_message(GROUP - 1, "2")
        with pytest.raises(RetryAfter):
            await raw.send_message(GROUP - 1, "3")
    botapi.too_many = 0

    bot_config.write_text(bot_config.read_text() + "group_per_minute = 2\n")
    allowance = bot_settings(load_config(bot_config).bot)["group_per_minute"]
    assert allowance == 2
    async with running_bot(bot_config, group_per_minute=allowance, group_window=window) as app:
        await _watch_oblast(app, GROUP)
        await _strikes(
            app, tme,
            "Харківщина: внаслідок ракетного удару по Балаклії пошкоджено приватний будинок. Постраждалих немає.",
            "Харківщина: ударний дрон влучив в Ізюм, пошкоджено магазин. Постраждалих немає.",
            "Харківщина: через артилерійський обстріл Чугуєва пошкоджено школу. Постраждалих немає.",
            "Харківщина: ракетний удар по Лозовій, пошкоджено залізничну станцію. Постраждалих немає.",
        )
        stories = (await app.db.fetchone("SELECT count(*) FROM outbox WHERE chat_id = ?", (GROUP,)))[0]
        assert stories == 4
        await wait_for(lambda: len(botapi.sent_to(GROUP)) >= stories)
        assert await settled_outbox(app) == {GROUP: "sent"}
    arrivals = sorted(m["at"] for m in botapi.sent_to(GROUP))
    assert botapi.too_many == 0 and len(arrivals) == 4
    assert max_in_window(arrivals, window) <= 2
    assert arrivals[2] - arrivals[0] >= window  # the rest after


# --- a channel made admin after the start -------------------------------------------------------


async def test_a_channel_whose_admins_add_the_bot_later_gets_the_next_story(
    tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path
) -> None:
    channel, component = -1003, "channel:@dsns_alerts_kharkiv"
    botapi.add_channel("@dsns_alerts_kharkiv", channel, admin=False)
    faults.reset()
    config = [BotChannelConfig(chat="@dsns_alerts_kharkiv", regions=["UA-63"])]
    try:
        async with running_bot(bot_config, channels=config, channel_recheck=0.1) as app:
            await wait_for(lambda: any(f.component == component for f in faults.active()))
            checks = botapi.calls["getChatMember"]
            await wait_for(lambda: botapi.calls["getChatMember"] >= checks + 2)  # checked again, still no
            assert any(f.component == component for f in faults.active())
            botapi.set_channel_admin(channel, True)
            await wait_for(lambda: not any(f.component == component for f in faults.active()))
            _, report = await health_report(app.db, app.config, started_at=utcnow())
            assert "@dsns_alerts_kharkiv" not in report["bot"]["channels"]
            await _strikes(app, tme, "Харківщина: внаслідок ракетного удару по Балаклії травмовано 1 людину.")
            await wait_for(lambda: len(botapi.sent_to(channel)) >= 1)
            assert "Балаклія" in botapi.sent_to(channel)[0]["text"]
    finally:
        faults.reset()


# --- a change that matters, waiting for the digest ----------------------------------------------


async def test_a_change_that_matters_waiting_for_the_digest_is_edited_now_and_in_the_digest(
    tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path
) -> None:
    chat = 701
    async with running_bot(bot_config) as app:
        await _watch_oblast(app, chat)
        await _strikes(app, tme, "Харківщина: внаслідок ракетного удару по Балаклії травмовано 1 людину.")
        await wait_for(lambda: len(botapi.sent_to(chat)) >= 1)
        alert = botapi.sent_to(chat)[0]
        assert alert["method"] == "sendMessage" and not alert["silent"]  # before the night
        # the night begins: a quiet window now, its digest two hours on
        minute = kyiv_minute(utcnow())
        start, end, at = (minute - 60) % 1440, (minute + 180) % 1440, (minute + 120) % 1440
        botapi.user_says(chat, f"/quiet {start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}")
        botapi.user_says(chat, f"/digest {at // 60:02d}:{at % 60:02d}")
        await wait_for(lambda: len(botapi.sent_to(chat)) >= 3)

        async def status() -> str:
            return (await app.db.fetchone("SELECT status FROM outbox WHERE chat_id = ?", (chat,)))[0]

        # 1 → 6 injured matters: silent at night, so the message is edited and the digest will say so
        await _strikes(app, tme, "Балаклія: після ракетного удару травмовано 6 людей, пошкоджено будинок.")
        await wait_for(lambda: len(botapi.sent_to(chat)) >= 4)
        for _ in range(100):
            if await status() == "held":
                break
            await asyncio.sleep(0.05)
        assert await status() == "held"
        edit = botapi.sent_to(chat)[3]
        assert edit["method"] == "editMessageText" and edit["message_id"] == alert["message_id"]
        assert "поранені 6 (було 1)" in edit["text"]
        # a later change of the night is measured from what the chat was alerted of
        await _strikes(app, tme, "Балаклія: уточнено наслідки ракетного удару — травмовано 7 людей.")
        await wait_for(lambda: len(botapi.sent_to(chat)) >= 5)
        assert "поранені 7 (було 1)" in botapi.sent_to(chat)[4]["text"]
        for _ in range(100):
            if await status() == "held":
                break
            await asyncio.sleep(0.05)
        assert await status() == "held"
        assert [m["method"] for m in botapi.sent_to(chat)[3:]] == ["editMessageText"] * 2  # no sound

        # the morning: the digest lists the story with its latest figures and what changed
        async with app.db.write() as conn:
            await conn.execute("UPDATE outbox SET queued_at = ? WHERE chat_id = ?",
                               (to_db(utcnow() - timedelta(days=1)), chat))
        app.pipeline.alerts_planned.set()
        await wait_for(lambda: len(botapi.sent_to(chat)) >= 6)
        digest = botapi.sent_to(chat)[5]
        assert digest["method"] == "sendMessage" and "Зведення за ніч" in digest["text"]
        assert "поранені 7 (було 1)" in digest["text"]
        row = await app.db.fetchone("SELECT status, message_id FROM outbox WHERE chat_id = ?", (chat,))
        assert tuple(row) == ("sent", alert["message_id"])  # the message stays the one later changes edit


async def test_group_allowance_and_channel_recheck_come_from_config(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    sources = '[[sources]]\ntype = "telegram_web"\nchannel = "dsns_telegram"\n'
    path.write_text(sources + "\n[bot]\ngroup_per_minute = 5\nchannel_recheck = 120\n")
    db = await Database.open(tmp_path / "a.db")
    try:
        # no call is made: the address is only for the limiter the service gives the client
        service = BotService(db, BotAPI("1:x", "http://127.0.0.1:9"), **bot_settings(load_config(path).bot))
        assert service.api.limiter is not None and service.api.limiter.group_per_minute == 5
        assert service.api.limiter.group_window == 60.0 and service.channel_recheck == 120
    finally:
        await db.close()
    path.write_text(sources)
    defaults = load_config(path).bot
    assert (defaults.group_per_minute, defaults.channel_recheck) == (20, 600)


# --- a new user's replies -----------------------------------------------------------------------

_ids = itertools.count(1)


async def _replies(db: Database, text: str, lang: str = "uk", chat: int = 801) -> str:
    n = next(_ids)
    update = {"update_id": n, "message": {"message_id": n, "text": text, "chat": {"id": chat, "type": "private"},
                                          "from": {"id": chat, "language_code": lang}}}
    async with db.write() as conn:
        replies = await handle_update(conn, update, CommandContext())
    return "\n".join(r.text for r in replies if isinstance(r, Reply))


async def test_morning_times_are_times_not_off_and_replies_say_what_happened(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    try:
        # "08:00" begins with "0", which alone means off: it must still set the digest
        assert "Ранкове зведення о 08:00" in await _replies(db, "/digest 08:00")
        assert "Тиша з 07:00 до 09:00" in await _replies(db, "/quiet 07-09")
        async with db.write() as conn:
            settings = await get_settings(conn, 801)
        assert (settings.quiet_from, settings.quiet_to, settings.digest_at) == (7 * 60, 9 * 60, 8 * 60)
        assert "зведення вимкнено" in await _replies(db, "/quiet вимкнути")
        assert "із загиблими" in await _replies(db, "/quiet 23-07")  # what still rings
        # nothing to drop: said so, not "unsubscribed from all regions (0)"
        assert "немає підписок" in await _replies(db, "/unsubscribe all")
        # English names an oblast as one, and a place with its oblast
        assert "<b>Kharkiv oblast</b>" in await _replies(db, "/subscribe Kharkiv region", "en", 802)
        assert "Balakliia (Kharkiv oblast)" in await _replies(db, "/subscribe Balakliia", "en", 802)
    finally:
        await db.close()


def test_the_english_digest_names_places_in_latin() -> None:
    alert = AlertContent(published_at=datetime(2024, 5, 1, 0, 10, tzinfo=UTC), source_url="", source_name="x",
                         excerpt="", places=["Куп’янськ"], oblasts=["Kharkiv"], injured=6,
                         update="Updated 03:10: injured 6 (was 1)")
    text = digest_text([alert], "en")
    assert "Kupiansk" in text and "Куп" not in text and "🔄 Updated 03:10: injured 6 (was 1)" in text
