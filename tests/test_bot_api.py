"""BotAPI over real HTTP against the fake Bot API: each method, and every error mapped once."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from bot.api import (
    BadRequest,
    BotAPI,
    BotAPIError,
    Forbidden,
    NetworkError,
    RetryAfter,
    ServerError,
    TooLarge,
    Unauthorized,
)
from tests.fakes.botapi import FakeBotAPI, check_html
from tests.fakes.server import LocalServer, serve
from tests.fakes.tme import jpeg_bytes


@pytest.fixture
def fake() -> FakeBotAPI:
    return FakeBotAPI()


@pytest.fixture
def server(fake: FakeBotAPI) -> Iterator[LocalServer]:
    with serve(fake.route) as srv:
        yield srv
        fake.close()


@pytest.fixture
async def api(fake: FakeBotAPI, server: LocalServer) -> AsyncIterator[BotAPI]:
    async with BotAPI(fake.token, api_url=server.url) as client:
        yield client


async def test_get_me_returns_the_bot(api: BotAPI, fake: FakeBotAPI) -> None:
    me = await api.get_me()
    assert me["is_bot"] is True
    assert me["id"] == fake.bot_id
    assert me["username"] == "dsns_monitor_bot"


async def test_send_message_records_html_and_markup(api: BotAPI, fake: FakeBotAPI) -> None:
    markup = {"inline_keyboard": [[{"text": "Харківська", "callback_data": "sub:UA-63"}]]}
    first = await api.send_message(111, "<b>Удар</b> &amp; пожежа", reply_markup=markup)
    second = await api.send_message(222, "друге")
    assert first["text"] == "Удар & пожежа"  # Telegram returns the parsed text
    assert second["message_id"] > first["message_id"]
    sent = fake.sent
    assert [(m["chat_id"], m["method"]) for m in sent] == [(111, "sendMessage"), (222, "sendMessage")]
    assert sent[0]["text"] == "<b>Удар</b> &amp; пожежа"
    assert sent[0]["reply_markup"] == markup
    assert sent[0]["parse_mode"] == "HTML"


async def test_send_photo_uploads_bytes_as_multipart(api: BotAPI, fake: FakeBotAPI, server: LocalServer) -> None:
    photo = jpeg_bytes("balakliia")
    markup = {"inline_keyboard": [[{"text": "Джерело", "url": "https://t.me/dsns_telegram/1"}]]}
    result = await api.send_photo(111, photo, "Балаклія &lt;фото&gt;", reply_markup=markup)
    assert result["caption"] == "Балаклія <фото>"
    assert server.requests[-1].headers["content-type"].startswith("multipart/form-data")
    record = fake.sent[-1]
    assert record["method"] == "sendPhoto" and record["photo"] == photo
    assert record["reply_markup"] == markup  # a JSON field travelled as a multipart string


async def test_send_photo_upload_carries_its_type_and_refusals_are_mapped(api: BotAPI, fake: FakeBotAPI) -> None:
    assert (await api.send_photo(111, jpeg_bytes(), "підпис"))["caption"] == "підпис"
    assert (fake.sent[-1]["photo_type"], fake.sent[-1]["photo_filename"]) == ("image/jpeg", "photo.jpg")
    await api.send_photo(111, b"\x89PNG\r\n\x1a\n", content_type="image/png", filename="photo.png")
    assert (fake.sent[-1]["photo_type"], fake.sent[-1]["photo_filename"]) == ("image/png", "photo.png")
    fake.refuse_photos(1, status=400)
    with pytest.raises(BadRequest, match="PHOTO_INVALID_DIMENSIONS"):
        await api.send_photo(111, jpeg_bytes())
    fake.refuse_photos(1, status=413)
    with pytest.raises(TooLarge, match="Request Entity Too Large") as info:
        await api.send_photo(111, jpeg_bytes())
    assert info.value.error_code == 413
    with pytest.raises(TooLarge):  # the fake, like Telegram, takes at most 10 MB
        await api.send_photo(111, jpeg_bytes() + bytes(10 * 1024 * 1024))
    assert len(fake.sent) == 2


async def test_send_photo_by_file_id_is_json(api: BotAPI, fake: FakeBotAPI, server: LocalServer) -> None:
    await api.send_photo(111, "AgACAgIAAxkBAAI", caption="підпис")
    assert server.requests[-1].headers["content-type"] == "application/json"
    assert fake.sent[-1]["photo"] == "AgACAgIAAxkBAAI"


async def test_edits_and_not_modified(api: BotAPI, fake: FakeBotAPI) -> None:
    msg = await api.send_message(111, "Загинули: 1")
    edited = await api.edit_message_text(111, msg["message_id"], "Загинули: 2")
    assert edited["text"] == "Загинули: 2"
    with pytest.raises(BadRequest) as info:
        await api.edit_message_text(111, msg["message_id"], "Загинули: 2")
    assert info.value.not_modified
    assert info.value.error_code == 400 and info.value.method == "editMessageText"
    photo = await api.send_photo(111, jpeg_bytes(), "Поранені: 3")
    await api.edit_message_caption(111, photo["message_id"], "Поранені: 5")
    assert [m["method"] for m in fake.sent][-1] == "editMessageCaption"
    assert fake.sent[-1]["caption"] == "Поранені: 5"
    with pytest.raises(BadRequest) as other:
        await api.edit_message_text(111, 99999, "x")
    assert not other.value.not_modified  # a real failure is not the benign one


async def test_bad_html_is_a_bad_request(api: BotAPI) -> None:
    with pytest.raises(BadRequest, match="can't parse entities"):
        await api.send_message(111, "ракети <x> & дрони")


async def test_answer_callback_and_set_commands(api: BotAPI, fake: FakeBotAPI) -> None:
    msg = await api.send_message(111, "Оберіть область")
    query_id = fake.user_clicks(111, "oblast:UA-63", msg["message_id"])
    updates = await api.get_updates(offset=0, timeout=1)
    assert updates[0]["callback_query"]["data"] == "oblast:UA-63"
    assert updates[0]["callback_query"]["message"]["message_id"] == msg["message_id"]
    assert await api.answer_callback_query(query_id, "Підписано") is True
    assert fake.answered == [{"callback_query_id": query_id, "text": "Підписано", "show_alert": False}]
    with pytest.raises(BadRequest, match="query ID is invalid"):
        await api.answer_callback_query("no-such-query")
    assert await api.set_my_commands([("start", "Почати"), ("list", "Мої регіони")]) is True
    await api.set_my_commands([{"command": "start", "description": "Start"}], language_code="en")
    assert [c["command"] for c in fake.commands()] == ["start", "list"]
    assert fake.commands("en") == [{"command": "start", "description": "Start"}]


async def test_get_updates_long_polls_and_confirms(api: BotAPI, fake: FakeBotAPI) -> None:
    started = time.monotonic()
    assert await api.get_updates(offset=0, timeout=1) == []
    assert time.monotonic() - started >= 0.9  # the fake held the poll open

    async def say_later() -> None:
        await asyncio.sleep(0.3)
        fake.user_says(111, "/start UA-63", language_code="en", first_name="Ann")

    started = time.monotonic()
    task = asyncio.create_task(say_later())
    updates = await api.get_updates(offset=0, timeout=10)
    await task
    assert time.monotonic() - started < 5  # answered as soon as the message arrived
    message = updates[0]["message"]
    assert message["text"] == "/start UA-63"
    assert message["from"]["language_code"] == "en"
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]

    fake.user_says(222, "привіт")
    again = await api.get_updates(offset=0, timeout=0)
    assert [u["update_id"] for u in again] == [updates[0]["update_id"], updates[0]["update_id"] + 1]
    confirmed = await api.get_updates(offset=again[-1]["update_id"] + 1, timeout=0)
    assert confirmed == [] and fake.pending_updates() == []


async def test_allowed_updates_filters(api: BotAPI, fake: FakeBotAPI) -> None:
    fake.user_says(111, "текст")
    fake.user_clicks(111, "x", 1)
    updates = await api.get_updates(offset=0, timeout=0, allowed_updates=["callback_query"])
    assert [list(u)[1] for u in updates] == ["callback_query"]


async def test_long_poll_http_timeout_exceeds_poll(fake: FakeBotAPI, server: LocalServer) -> None:
    # a client whose default read timeout is shorter than the poll must not time out
    async with httpx.AsyncClient(timeout=0.5) as client:
        api = BotAPI(fake.token, api_url=server.url, client=client)
        assert await api.get_updates(offset=0, timeout=1) == []


async def test_429_maps_to_retry_after(api: BotAPI, fake: FakeBotAPI) -> None:
    fake.fail_next(1, 429, retry_after=5)
    with pytest.raises(RetryAfter) as info:
        await api.send_message(111, "x")
    assert info.value.retry_after == 5.0
    assert info.value.error_code == 429
    assert "retry after 5" in info.value.description


async def test_rate_cap_answers_429(api: BotAPI, fake: FakeBotAPI) -> None:
    fake.max_per_second = 3
    fake.retry_after = 2
    for chat in range(3):
        await api.send_message(chat, "ok")
    with pytest.raises(RetryAfter) as info:
        await api.send_message(99, "too fast")
    assert info.value.retry_after == 2.0
    assert fake.too_many == 1 and len(fake.sent) == 3


async def test_blocked_user_is_forbidden(api: BotAPI, fake: FakeBotAPI) -> None:
    fake.block(111)
    with pytest.raises(Forbidden, match="bot was blocked by the user") as info:
        await api.send_message(111, "x")
    assert info.value.error_code == 403
    fake.unblock(111)
    await api.send_message(111, "x")


async def test_server_errors_and_garbage(api: BotAPI, fake: FakeBotAPI) -> None:
    fake.fail_next(1, 500)
    with pytest.raises(ServerError) as info:
        await api.send_message(111, "x")
    assert info.value.error_code == 500
    fake.fail_next(1, 400, description="Bad Request: chat not found")
    with pytest.raises(BadRequest, match="chat not found"):
        await api.send_message(111, "x")


async def test_non_json_reply_is_a_server_error(fake: FakeBotAPI) -> None:
    from tests.fakes.server import Reply

    with serve(lambda r: Reply(502, "<html>Bad Gateway</html>")) as srv:
        async with BotAPI(fake.token, api_url=srv.url) as api:
            with pytest.raises(ServerError, match="not a Bot API reply"):
                await api.get_me()


async def test_wrong_token(server: LocalServer, fake: FakeBotAPI) -> None:
    for token in ("987654321:AAWrongTokenWrongTokenWrongToken-000", "not-a-token"):
        async with BotAPI(token, api_url=server.url) as api:
            with pytest.raises(Unauthorized) as info:
                await api.get_me()
            assert token not in str(info.value)
            assert "check the bot token" in str(info.value)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_network_error_hides_the_token(fake: FakeBotAPI) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    async with BotAPI(fake.token, api_url=url) as api:
        with pytest.raises(NetworkError) as info:
            await api.send_message(111, "x")
    err = info.value
    assert isinstance(err, BotAPIError) and err.error_code is None
    assert isinstance(err.__cause__, httpx.ConnectError)
    assert fake.token not in str(err)
    assert fake.token not in repr(err.__cause__)
    assert fake.token not in repr(api)


async def test_timeout_is_a_network_error(fake: FakeBotAPI) -> None:
    from tests.fakes.server import Reply

    with serve(lambda r: Reply(200, '{"ok":true,"result":{}}', delay=1.0)) as srv:
        async with httpx.AsyncClient(timeout=0.2) as client:
            api = BotAPI(fake.token, api_url=srv.url, client=client)
            with pytest.raises(NetworkError, match="timed out"):
                await api.get_me()


async def test_token_redacted_from_httpx_logs(
    api: BotAPI, fake: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="httpx"):
        await api.get_me()
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines, "httpx logs each request at INFO"
    assert all(fake.token not in line for line in lines)
    assert any("/bot[REDACTED]/getMe" in line for line in lines)


def test_fake_html_checker() -> None:
    assert check_html('<b>a</b> &lt; <a href="https://x">y</a>') == (None, "a < y")
    assert check_html("a < b")[0] is not None
    assert check_html("a & b")[0] is not None
    assert check_html("<b>unclosed")[0] is not None
    assert check_html("<div>x</div>")[0] is not None


async def test_429_without_json_uses_retry_after_header(fake: FakeBotAPI) -> None:
    from tests.fakes.server import Reply

    with serve(lambda r: Reply(429, "slow down", headers={"Retry-After": "7"})) as srv:
        async with BotAPI(fake.token, api_url=srv.url) as api:
            with pytest.raises(RetryAfter) as info:
                await api.send_message(1, "x")
    assert info.value.retry_after == 7.0
