"""Telegram over MTProto without Telegram: real Telethon types on a client that never connects."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telethon import errors
from telethon.crypto import AuthKey
from telethon.sessions import StringSession
from telethon.tl import types

from collectors.base import RawPost, SourceError, SourceRateLimited
from collectors.telegram_mtproto.client import EntityCache, SharedClient, build_client
from collectors.telegram_mtproto.collector import TelegramMTProtoCollector
from collectors.telegram_mtproto.convert import message_to_raw, parse_photo_url
from collectors.telegram_mtproto.credentials import (
    CredentialsError,
    MTProtoCredentials,
    prepare_session_file,
)
from collectors.telegram_mtproto.login import LoginError, login
from collectors.telegram_web import parse_page
from storage.database import Database
from storage.posts import upsert_posts
from storage.sources import ensure_source
from tests.fakes.server import Request
from tests.fakes.telethon_fake import FakeTelethon
from tests.fakes.tme import FakeTelegram

HASH = "0123456789abcdef0123456789abcdef"


def collector(tg: FakeTelethon, **kwargs: Any) -> tuple[TelegramMTProtoCollector, list[float]]:
    slept: list[float] = []

    async def factory() -> FakeTelethon:
        return tg

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    kwargs.setdefault("album_delay", 0.01)
    return TelegramMTProtoCollector("dsns", "dsns_telegram", factory, sleep=sleep, **kwargs), slept


def history_calls(tg: FakeTelethon) -> list[dict[str, Any]]:
    return [kw for name, kw in tg.calls if name == "iter_messages"]


# --- catch-up ----------------------------------------------------------------------------------


async def test_first_poll_reads_the_newest_messages_oldest_first() -> None:
    tg = FakeTelethon()
    for n in range(12):
        tg.post(f"Пожежа №{n}")
    result = (await collector(tg, first_limit=5)[0].poll(None))
    assert [p.external_id for p in result.posts] == ["8", "9", "10", "11", "12"]
    assert result.cursor == "12"


async def test_catch_up_after_downtime_honours_min_id_in_order() -> None:
    tg = FakeTelethon()
    for n in range(3):
        tg.post(f"ранок {n}")
    mt, _ = collector(tg)
    first = await mt.poll(None)
    new_ids = [tg.post(f"поки лежали {n}") for n in range(40)]
    result = await mt.poll(first.cursor)
    call = history_calls(tg)[-1]
    assert call["min_id"] == 3 and call["reverse"] is True
    assert [int(p.external_id) for p in result.posts] == new_ids
    assert result.cursor == str(new_ids[-1])
    quiet = await mt.poll(result.cursor)
    assert quiet.posts == [] and quiet.cursor == result.cursor


async def test_catch_up_limit_never_splits_an_album() -> None:
    tg = FakeTelethon()
    tg.post("старт")
    mt, _ = collector(tg, catchup_limit=20)
    cursor = (await mt.poll(None)).cursor
    for n in range(18):
        tg.post(f"допис {n}")
    album = tg.post("Наслідки удару", photos=4)  # ids 20..23: the 20-message window ends inside it
    first = await mt.poll(cursor)
    assert album not in {int(p.external_id) for p in first.posts}
    second = await mt.poll(first.cursor)
    assert [(p.external_id, len(p.photos)) for p in second.posts] == [(str(album), 4)]


# --- albums ------------------------------------------------------------------------------------


async def test_album_is_one_post_with_every_photo_and_the_caption() -> None:
    tg = FakeTelethon()
    album = tg.post("Харківщина: внаслідок обстрілу пошкоджено будинки", photos=3)
    tg.post("Окремий допис")
    posts = (await collector(tg)[0].poll(None)).posts
    assert [p.external_id for p in posts] == [str(album), str(album + 3)]
    assert posts[0].text.startswith("Харківщина")
    assert posts[0].photos == tuple(f"tg://dsns_telegram/{album + n}/photo" for n in range(3))


async def test_window_starting_inside_an_album_keeps_the_album_id() -> None:
    tg = FakeTelethon()
    album = tg.post("Альбом", photos=4)  # ids 1..4
    tg.post("після")
    posts = (await collector(tg, first_limit=3)[0].poll(None)).posts  # reads ids 5, 4, 3 only
    assert posts[0].external_id == str(album) and len(posts[0].photos) == 4
    assert posts[0].text == "Альбом"


# --- same identity as the web preview ---------------------------------------------------------


def web_posts(fake: FakeTelegram) -> dict[str, RawPost]:
    reply = fake.route(Request("GET", "/s/dsns_telegram", {}, {"host": "t.me"}, b""))
    return {p.to_raw().external_id: p.to_raw() for p in parse_page(str(reply.body), "https://t.me")}


async def test_same_message_gives_the_web_collectors_identity_and_text(tmp_path: Path) -> None:
    web, tg = FakeTelegram(), FakeTelethon()
    web.add_channel("dsns_telegram", "ДСНС України")
    date = datetime(2024, 5, 2, 3, 14, tzinfo=UTC)
    text = "Одеса:  внаслідок атаки БпЛА  \nзагинула 1 людина,\n\n\n\nпоранено 3"
    fwd = types.MessageFwdHeader(date=date, from_name="ДСНС Одещини")
    for kwargs in ({}, {"photos": 3}):
        web.post("dsns_telegram", text, date=date, views=987, forwarded_from="ДСНС Одещини",
                 photos=tuple(f"p{n}" for n in range(kwargs.get("photos", 0))))
        tg.post(text, date=date, views=987, fwd_from=fwd, **kwargs)
    mt_posts = (await collector(tg)[0].poll(None)).posts
    by_web = web_posts(web)
    assert [p.external_id for p in mt_posts] == sorted(by_web, key=int) == ["1", "2"]
    for mine in mt_posts:
        theirs = by_web[mine.external_id]
        for key in ("stream", "external_id", "url", "text", "published_at", "edited", "views", "kind", "forwarded_from"):
            assert getattr(mine, key) == getattr(theirs, key), key
        assert len(mine.photos) == len(theirs.photos)
    # In the archive both backends land on one row, and the second adds no version.
    db = await Database.open(tmp_path / "a.db")
    try:
        source = await ensure_source(db, "dsns", "telegram_web", None)
        async with db.write() as conn:
            assert len(await upsert_posts(conn, source.id, list(by_web.values()))) == 2
            assert await upsert_posts(conn, source.id, mt_posts) == []
        assert (await db.fetchone("SELECT COUNT(*) FROM posts"))[0] == 2
        assert (await db.fetchone("SELECT COUNT(*) FROM post_versions"))[0] == 2
    finally:
        await db.close()


def test_message_to_raw_fields() -> None:
    tg = FakeTelethon()
    message = tg.message(77, "текст", date=datetime(2024, 5, 1, 9, 0), edit_date=datetime(2024, 5, 1, 9, 5), views=5)
    raw = message_to_raw(message, "DSNS_Telegram")
    assert (raw.stream, raw.external_id, raw.url) == ("dsns_telegram", "77", "https://t.me/DSNS_Telegram/77")
    assert raw.published_at == datetime(2024, 5, 1, 9, 0, tzinfo=UTC) and raw.edited and raw.views == 5
    hidden = message_to_raw(tg.message(78, "x", edit_date=datetime(2024, 5, 1, tzinfo=UTC), edit_hide=True), "d")
    assert not hidden.edited
    service = message_to_raw(tg.messages[tg.service(types.MessageActionChatEditPhoto(types.PhotoEmpty(0)))], "d")
    assert (service.kind, service.text) == ("service", "Channel photo updated")


# --- live ----------------------------------------------------------------------------------------


class Live:
    def __init__(self) -> None:
        self.posts: list[RawPost] = []
        self.deleted: list[str] = []

    async def on_posts(self, posts: list[RawPost]) -> None:
        self.posts.extend(posts)

    async def on_deleted(self, ids: list[str]) -> None:
        self.deleted.extend(ids)


async def start_live(tg: FakeTelethon, mt: TelegramMTProtoCollector, live: Live) -> Any:
    task = asyncio.create_task(mt.run_live(live.on_posts, live.on_deleted))
    while len(tg.handlers) < 3:
        await asyncio.sleep(0)
    return task


async def test_live_new_album_edit_and_delete() -> None:
    tg, live = FakeTelethon(), Live()
    mt, _ = collector(tg)
    task = await start_live(tg, mt, live)
    single = tg.post("Київ: пожежа після атаки")
    assert await tg.dispatch(types.UpdateNewChannelMessage(tg.messages[single], 1, 1)) == 1
    album = tg.post("Наслідки", photos=3)
    for n in range(3):
        await tg.dispatch(types.UpdateNewChannelMessage(tg.messages[album + n], 2 + n, 1))
    await asyncio.sleep(0.05)
    assert [(p.external_id, len(p.photos)) for p in live.posts] == [(str(single), 0), (str(album), 3)]

    await tg.dispatch(types.UpdateEditChannelMessage(tg.edit(single, "Київ: загинули 2 людини"), 5, 1))
    await tg.dispatch(types.UpdateEditChannelMessage(tg.edit(album, "Наслідки: уточнено"), 6, 1))
    edited = live.posts[2:]
    assert [(p.external_id, p.edited, p.text) for p in edited] == [
        (str(single), True, "Київ: загинули 2 людини"), (str(album), True, "Наслідки: уточнено"),
    ]
    assert len(edited[1].photos) == 3

    await tg.dispatch(types.UpdateDeleteChannelMessages(tg.entity.id, [single, album + 1], 7, 2))
    await tg.dispatch(types.UpdateDeleteChannelMessages(tg.entity.id + 1, [99], 8, 1))  # another channel
    assert live.deleted == [str(single), str(album + 1)]

    await tg.disconnect()
    with pytest.raises(SourceError, match="disconnected"):
        await task
    assert tg.handlers == []


async def test_a_failing_callback_does_not_stop_the_live_feed(caplog: pytest.LogCaptureFixture) -> None:
    tg, live = FakeTelethon(), Live()
    calls: list[str] = []

    async def flaky(posts: list[RawPost]) -> None:
        calls.append(posts[0].external_id)
        if len(calls) == 1:
            raise RuntimeError("database is locked")

    mt, _ = collector(tg)
    live.on_posts = flaky  # type: ignore[method-assign]
    task = await start_live(tg, mt, live)
    for text in ("перший", "другий"):
        message_id = tg.post(text)
        await tg.dispatch(types.UpdateNewChannelMessage(tg.messages[message_id], message_id, 1))
    assert calls == ["1", "2"] and "telegram live update failed" in caplog.text
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert tg.handlers == []


# --- flood waits, resolution, errors --------------------------------------------------------------


async def test_short_flood_wait_is_slept_through() -> None:
    tg = FakeTelethon()
    tg.post("a")
    mt, slept = collector(tg, flood_sleep_threshold=60)
    tg.flood_next(7)
    result = await mt.poll(None)
    assert slept == [7] and [p.external_id for p in result.posts] == ["1"]


async def test_long_flood_wait_raises_rate_limited_with_retry_after() -> None:
    tg = FakeTelethon()
    mt, slept = collector(tg, flood_sleep_threshold=60)
    tg.flood_next(3600)
    with pytest.raises(SourceRateLimited) as caught:
        await mt.poll("5")
    assert caught.value.retry_after == 3600 and slept == []
    assert isinstance(caught.value.__cause__, errors.FloodWaitError)


async def test_username_resolved_once_and_cached_next_to_the_session(tmp_path: Path) -> None:
    tg = FakeTelethon()
    tg.post("a")
    cache = EntityCache.beside(tmp_path / "tg.session")
    mt, _ = collector(tg, entity_cache=cache)
    cursor = (await mt.poll(None)).cursor
    await mt.poll(cursor)
    await mt.poll(cursor)
    # A restart reads the file instead of asking Telegram again.
    again, _ = collector(tg, entity_cache=EntityCache.beside(tmp_path / "tg.session"))
    await again.poll(cursor)
    assert [name for name, _ in tg.calls].count("get_entity") == 1
    saved = json.loads((tmp_path / "tg.entities.json").read_text())
    assert saved["dsns_telegram"]["access_hash"] == tg.entity.access_hash
    assert stat.S_IMODE((tmp_path / "tg.entities.json").stat().st_mode) == 0o600


async def test_stale_cached_access_hash_is_forgotten_and_resolved_again() -> None:
    tg = FakeTelethon()
    tg.post("a")
    cache = EntityCache()
    cache.put("dsns_telegram", tg.entity.id, 111, "dsns_telegram")
    mt, _ = collector(tg, entity_cache=cache)
    with pytest.raises(SourceError, match="@dsns_telegram"):
        await mt.poll(None)
    assert [p.external_id for p in (await mt.poll(None)).posts] == ["1"]
    assert cache.get("dsns_telegram")["access_hash"] == tg.entity.access_hash


async def test_unknown_channel_is_a_source_error_naming_it() -> None:
    tg = FakeTelethon(username="someone_else")
    with pytest.raises(SourceError, match="@dsns_telegram cannot be read") as caught:
        await collector(tg)[0].poll(None)
    assert caught.value.source == "dsns"


async def test_fetch_photo_downloads_bytes_for_tg_urls() -> None:
    tg = FakeTelethon()
    first = tg.post("фото", photos=1)
    video = tg.post("відео", video=True)
    mt, _ = collector(tg)
    posts = (await mt.poll(None)).posts
    photo = await mt.fetch_photo(posts[0].photos[0])
    assert photo.mime == "image/jpeg" and photo.data.startswith(b"\xff\xd8")
    assert posts[1].photos == (f"tg://dsns_telegram/{video}/thumb",)
    await mt.fetch_photo(posts[1].photos[0])
    downloads = [kw for name, kw in tg.calls if name == "download_media"]
    assert downloads == [{"id": first, "file": bytes, "thumb": None}, {"id": video, "file": bytes, "thumb": -1}]
    assert parse_photo_url("https://t.me/img/x.jpg") is None
    with pytest.raises(SourceError, match="not a photo URL"):
        await mt.fetch_photo("tg://other_channel/1/photo")
    with pytest.raises(SourceError, match="cap"):
        await mt.fetch_photo(posts[0].photos[0], max_bytes=10)


# --- credentials, session, login ----------------------------------------------------------------


def test_missing_credentials_name_the_variable() -> None:
    with pytest.raises(CredentialsError, match="TELEGRAM_API_ID and TELEGRAM_API_HASH not set"):
        MTProtoCredentials.from_env({})
    with pytest.raises(CredentialsError, match="TELEGRAM_API_HASH not set"):
        MTProtoCredentials.from_env({"TELEGRAM_API_ID": "123"})
    with pytest.raises(CredentialsError, match="numeric"):
        MTProtoCredentials.from_env({"TELEGRAM_API_ID": "abc", "TELEGRAM_API_HASH": HASH})


async def test_session_file_is_owner_only(tmp_path: Path) -> None:
    path = prepare_session_file(tmp_path / "secret" / "tg")
    assert path == tmp_path / "secret" / "tg.session"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    client = build_client(MTProtoCredentials(1, HASH), path)  # Telethon writes its tables, offline
    client.session.close()
    assert path.stat().st_size > 0 and stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_secrets_never_in_repr_errors_or_logs(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_session = "1" + "A" * 200
    creds = MTProtoCredentials(123, HASH, secret_session)
    assert HASH not in repr(creds) and secret_session not in repr(creds) and "123" in repr(creds)
    monkeypatch.setenv("TELEGRAM_API_ID", "123")
    monkeypatch.setenv("TELEGRAM_API_HASH", HASH)
    monkeypatch.delenv("TELEGRAM_SESSION", raising=False)
    caplog.set_level(logging.DEBUG)
    mt = TelegramMTProtoCollector("dsns", "dsns_telegram")  # default factory: env, no session
    with pytest.raises(CredentialsError, match="telegram login") as caught:
        await mt.poll(None)
    assert HASH not in str(caught.value) and HASH not in caplog.text and HASH not in repr(mt)


class LoginClient:
    """Stands in for TelegramClient during login: a 2FA account that accepts code 12345 and password pw."""

    def __init__(self, session: Any) -> None:
        self.session = session if isinstance(session, StringSession) else StringSession()
        self.signed_in = False
        self.disconnected = False

    async def connect(self) -> None: ...

    async def disconnect(self) -> None:
        self.disconnected = True

    async def is_user_authorized(self) -> bool:
        return self.signed_in

    async def send_code_request(self, phone: str) -> types.auth.SentCode:
        assert phone == "+380501234567"
        return types.auth.SentCode(types.auth.SentCodeTypeApp(5), "hash1")

    async def sign_in(self, phone: str | None = None, code: str | None = None, *, password: str | None = None,
                      phone_code_hash: str | None = None) -> None:
        if password is None:
            if code != "12345":
                raise errors.PhoneCodeInvalidError(request=None)
            raise errors.SessionPasswordNeededError(request=None)
        if password != "pw":
            raise errors.PasswordHashInvalidError(request=None)
        self.session.set_dc(2, "149.154.167.51", 443)
        self.session.auth_key = AuthKey(b"\x07" * 256)
        self.signed_in = True


async def test_login_with_code_and_2fa_returns_a_string_session() -> None:
    codes = iter(["00000", "12345"])
    made: list[LoginClient] = []

    def factory(session: Any) -> LoginClient:
        made.append(LoginClient(session))
        return made[-1]

    result = await login(None, MTProtoCredentials(1, HASH), phone_input=lambda: "+380501234567",
                         code_input=lambda: next(codes), password_input=lambda: "pw", client_factory=factory)
    assert StringSession(result).dc_id == 2 and made[0].disconnected


async def test_login_to_a_file_and_failures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = await login(tmp_path / "s" / "tg", MTProtoCredentials(1, HASH), phone_input=lambda: "+380501234567",
                         code_input=lambda: "12345", password_input=lambda: "pw", client_factory=LoginClient)
    assert result == str(tmp_path / "s" / "tg.session")
    assert stat.S_IMODE(Path(result).stat().st_mode) == 0o600
    with pytest.raises(LoginError, match="wrong 2FA password 3 times"):
        await login(None, MTProtoCredentials(1, HASH), phone_input=lambda: "+380501234567",
                    code_input=lambda: "12345", password_input=lambda: "nope", client_factory=LoginClient)
    monkeypatch.delenv("TELEGRAM_API_ID", raising=False)
    with pytest.raises(LoginError, match="TELEGRAM_API_ID"):
        await login(None, None, phone_input=str, code_input=str, password_input=str, client_factory=LoginClient)


async def test_shared_client_refuses_a_session_that_is_not_logged_in() -> None:
    tg = FakeTelethon()
    tg.authorized = False
    with pytest.raises(CredentialsError, match="telegram login"):
        await SharedClient(lambda: tg).get()
    assert not tg.connected
