"""The bot under abuse and faults: floods, forged buttons, long lists, a refused token, names kept out."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from hypothesis import given, settings

from analysis.gazetteer import get_gazetteer
from bot.api import BotAPI
from bot.commands import update_origin
from bot.service import BotService
from monitor.app import open_app
from monitor.config import load_config
from monitor.ops import faults, metrics
from monitor.ops.health import HealthServer
from storage.schema import m006_forget_names
from storage.subscriptions import subscribe, upsert_chat
from tests.fakes.botapi import DEFAULT_TOKEN, FakeBotAPI
from tests.test_bot_e2e import running_bot, wait_for
from tests.test_fuzz import update

TOO_MANY = "Забагато запитів"
FULL = "щонайбільше за 50"


def raion_codes() -> list[tuple[str, str]]:
    """(code, title) of every raion: more real places than one chat may watch."""
    gazetteer = get_gazetteer()
    return [(u.code, u.title) for o in gazetteer.oblasts() for u in gazetteer.raions(o.oblast)]


async def test_a_flooding_chat_does_not_delay_another(botapi: FakeBotAPI, bot_config: Path) -> None:
    flooder, other = 111, 222
    # One send per 0.2 s a chat: before replies were queued, the other chat waited 120 × 0.2 s.
    async with running_bot(bot_config, per_chat_interval=0.2, command_burst=5) as app:
        for _ in range(120):
            botapi.user_says(flooder, "/help")
        asked = time.monotonic()
        botapi.user_says(other, "/help")
        await wait_for(lambda: len(botapi.sent_to(other)) == 1, timeout=5)
        answered = botapi.sent_to(other)[0]["at"] - asked
        assert answered < 1.5, f"the other chat waited {answered:.1f} s"
        # The flooder: its five commands answered in order, then one "too many", nothing more.
        await wait_for(lambda: len(botapi.sent_to(flooder)) >= 6, timeout=5)
        await wait_for(lambda: not botapi.pending_updates(), timeout=5)
        await asyncio.sleep(0.5)
        texts = [m["text"] for m in botapi.sent_to(flooder)]
        assert len(texts) == 6 and sum(TOO_MANY in t for t in texts) == 1 and TOO_MANY in texts[-1]
        # Every update is confirmed, refused ones too: a restart does not read the flood again.
        offset = await app.db.fetchone("SELECT value FROM bot_state WHERE key = 'getupdates_offset'")
        assert int(offset[0]) == 122
    assert metrics.REGISTRY.get_sample_value("dsns_bot_commands_refused_total") >= 115


async def test_forged_buttons_and_commands_cannot_pass_fifty_watches(botapi: FakeBotAPI, bot_config: Path) -> None:
    chat = 111
    places = raion_codes()[:53]
    async with running_bot(bot_config, per_chat_interval=0, global_rate=1000) as app:
        async with app.db.write() as conn:
            await upsert_chat(conn, chat, "uk")
            for code, title in places[:48]:
                await subscribe(conn, chat, code, title, "raion")
        # Button data is whatever a client sends: "sub:" presses on a message the bot never sent.
        for code, _ in places[48:]:
            botapi.user_clicks(chat, f"sub:{code}", message_id=999_999)
        await wait_for(lambda: len(botapi.answered) == 5 and len(botapi.sent_to(chat)) == 5)
        count = await app.db.fetchone("SELECT count(*) FROM subscriptions WHERE chat_id = ?", (chat,))
        assert count[0] == 50
        texts = [m["text"] for m in botapi.sent_to(chat)]
        assert [FULL in t for t in texts] == [False, False, True, True, True]
        botapi.user_says(chat, "/subscribe Харківщина")
        await wait_for(lambda: len(botapi.sent_to(chat)) == 6)
        assert FULL in botapi.sent_to(chat)[-1]["text"]
        # Dropping one makes room again.
        botapi.user_says(chat, f"/unsubscribe {places[0][0]}")
        botapi.user_says(chat, "/subscribe Харківщина")
        await wait_for(lambda: len(botapi.sent_to(chat)) == 8)
        assert "Харківська область" in botapi.sent_to(chat)[-1]["text"] and FULL not in botapi.sent_to(chat)[-1]["text"]


async def test_list_of_fifty_watches_arrives_in_full_page_by_page(botapi: FakeBotAPI, bot_config: Path) -> None:
    chat = 111
    places = raion_codes()[:50]
    async with running_bot(bot_config, per_chat_interval=0) as app:
        async with app.db.write() as conn:
            await upsert_chat(conn, chat, "uk")
            for code, title in places:
                assert await subscribe(conn, chat, code, title, "raion") == "added"
        botapi.user_says(chat, "/list")
        await wait_for(lambda: len(botapi.sent_to(chat)) == 1)
        first = botapi.sent_to(chat)[0]
        assert "сторінка 1 з 3" in first["text"]
        # A forged page number shows the last page; a malformed one is a stale button.
        botapi.user_clicks(chat, "list:999999", first["message_id"])
        botapi.user_clicks(chat, "list:-1", first["message_id"])
        await wait_for(lambda: len(botapi.answered) == 2)
        assert "сторінка 3 з 3" in botapi.sent_to(chat)[-1]["text"]
        assert "застаріла" in (botapi.answered[-1]["text"] or "")
        botapi.user_clicks(chat, "list:0", first["message_id"])
        await wait_for(lambda: len(botapi.sent_to(chat)) == 3)

        seen: list[str] = []
        for _ in range(10):
            message = botapi.sent_to(chat)[-1]
            assert len(message["text"]) <= 4096 and message["message_id"] == first["message_id"]
            seen += [line[2:] for line in message["text"].splitlines() if line.startswith("• ")]
            forward = [b for row in message["reply_markup"]["inline_keyboard"] for b in row if b["text"] == "▶"]
            if not forward:
                break
            sent = len(botapi.sent_to(chat))
            botapi.user_clicks(chat, forward[0]["callback_data"], message["message_id"])
            await wait_for(lambda: len(botapi.sent_to(chat)) == sent + 1)
        assert sorted(seen) == sorted(title for _, title in places)


async def test_no_first_name_is_stored_and_old_ones_are_forgotten(botapi: FakeBotAPI, bot_config: Path) -> None:
    name = "Ярослава"
    async with running_bot(bot_config) as app:
        botapi.user_says(111, "/start", first_name=name)
        botapi.user_clicks(111, "obl:UA-63", message_id=1, first_name=name)
        await wait_for(lambda: len(botapi.sent_to(111)) == 2)
        path = app.config.storage.database
    files = [p for p in path.parent.iterdir() if p.name.startswith(path.name)]
    assert files and not any(name.encode() in p.read_bytes() for p in files)

    # An archive written by an older version, with a name in it: the upgrade forgets it.
    async with open_app(load_config(bot_config)) as app:
        async with app.db.write() as conn:
            await conn.execute("UPDATE chats SET first_name = ?", (name,))
            await m006_forget_names(conn)
        assert [tuple(r) for r in await app.db.fetchall("SELECT first_name FROM chats")] == [(None,)]


async def test_rejected_token_is_a_bot_fault_and_the_bot_recovers(botapi: FakeBotAPI, bot_config: Path) -> None:
    config = load_config(bot_config)
    botapi.token = "987654321:AAAnotherTokenThatIsNotTheBotsOwn0000"  # Telegram now refuses ours: 401
    async with open_app(config) as app:
        health = HealthServer(app.db, config, heartbeat_age=lambda: 1.0)
        await health.start()
        api = BotAPI(DEFAULT_TOKEN, config.bot.api_url)
        service = BotService(app.db, api, admins=set(), poll_timeout=1, per_chat_interval=0, token_retry=0.2)
        stop = asyncio.Event()
        task = asyncio.create_task(service.run(app.pipeline.alerts_planned, stop))
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{health.port}") as client:

                async def bot_fault() -> dict[str, object] | None:
                    return (await client.get("/healthz")).json()["faults"].get("bot")

                for _ in range(100):
                    if await bot_fault():
                        break
                    await asyncio.sleep(0.05)
                fault = await bot_fault()
                assert fault and "401" in str(fault["message"]) and not fault["critical"]
                assert (await client.get("/healthz")).json()["status"] == "degraded"
                assert not task.done()  # still trying, not given up

                botapi.token = DEFAULT_TOKEN  # the operator fixed the token at BotFather's side
                botapi.user_says(111, "/help")
                await wait_for(lambda: len(botapi.sent_to(111)) == 1)
                assert await bot_fault() is None
                metrics_text = (await client.get("/metrics")).text
                assert 'dsns_component_fault{component="bot"} 0.0' in metrics_text
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await api.aclose()
            await health.close()


async def test_getme_and_getupdates_failures_are_retried_counted_reported_and_cleared(botapi: FakeBotAPI, bot_config: Path) -> None:
    before = metrics.REGISTRY.get_sample_value("dsns_bot_getupdates_failures_total") or 0.0
    botapi.fail_next(2, 503, method="getMe")  # retried with backoff, not given up
    botapi.fail_next(3, 502, method="getUpdates")
    botapi.fail_next(1, 502, method="getUpdates", delay=1.0)  # the fault stays visible a while
    # A fault once the Bot API has failed for longer than degraded_after (one blip is not worth a page).
    async with running_bot(bot_config, backoff=0.05, degraded_after=0.1):
        await wait_for(lambda: any(f.component == "bot" for f in faults.active()), timeout=5)
        (fault,) = faults.active()
        assert "getUpdates" in fault.message and "502" in fault.message
        botapi.user_says(111, "/help")
        await wait_for(lambda: len(botapi.sent_to(111)) == 1, timeout=10)
        assert faults.active() == []
        assert botapi.calls["getMe"] == 3
    after = metrics.REGISTRY.get_sample_value("dsns_bot_getupdates_failures_total")
    assert after is not None and after - before == 4


@settings(max_examples=100, deadline=None)
@given(update)
def test_any_update_has_a_chat_to_count_or_none(update: dict[str, object]) -> None:
    # The update loop counts each command against its chat before handling it: never a crash.
    origin = update_origin(update)
    if origin is not None:
        chat_id, lang = origin
        assert isinstance(chat_id, int) and not isinstance(chat_id, bool) and lang in ("uk", "en")
