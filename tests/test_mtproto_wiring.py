"""telegram_mtproto sources in the application: config, polls, live feeds, photos, login command.

Telethon never connects: the app gets a `FakeTelethon` through `open_app(telegram_client_factory=…)`;
the archive is a real SQLite file and the web preview a real local HTTP server.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from telethon.tl import types

from monitor.app import App, open_app
from monitor.config import (
    ConfigError,
    TelegramMTProtoSource,
    TelegramWebSource,
    load_config,
)
from monitor.daemon import poll_all_once, run_forever
from monitor.live import LiveFeeds
from storage.sources import get_source
from tests.cli_run import dsns
from tests.fakes.server import LocalServer
from tests.fakes.telethon_fake import FakeTelethon
from tests.fakes.tme import FakeTelegram, jpeg_bytes

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(body, encoding="utf-8")
    return path


MTPROTO_CONFIG = """
[storage]
database = "archive.db"

[scheduler]
jitter = 0
max_backoff = 60

[health]
listen = ""

[telegram]
session = "secrets/dsns.session"

[[sources]]
type = "telegram_mtproto"
channel = "dsns_telegram"
first_limit = 20
"""


class Factory:
    """The client factory the app is given: counts how often a client had to be built."""

    def __init__(self, tg: FakeTelethon) -> None:
        self.tg = tg
        self.built = 0

    def __call__(self) -> FakeTelethon:
        self.built += 1
        return self.tg


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 5.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def scalar(app: App, sql: str, params: tuple[Any, ...] = ()) -> Any:
    row = await app.db.fetchone(sql, params)
    return row[0] if row else None


# --- config ---------------------------------------------------------------------------------------


def test_mtproto_source_defaults_and_session_path(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, MTPROTO_CONFIG))
    (source,) = config.sources
    assert isinstance(source, TelegramMTProtoSource)
    assert (source.channel, source.stream, source.source_name) == ("dsns_telegram", "dsns_telegram", "dsns_telegram_mtproto")
    assert (source.interval, source.first_limit, source.catchup_limit, source.reread, source.live) == (120, 20, 500, 0, True)
    assert config.telegram.session == tmp_path / "secrets" / "dsns.session"  # relative to the config file
    assert config.telegram.flood_sleep_threshold == 60


def test_web_and_mtproto_of_one_channel_get_distinct_names_and_one_stream(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, """
[[sources]]
type = "telegram_web"
channel = "DSNS_Telegram"

[[sources]]
type = "telegram_mtproto"
channel = "@DSNS_Telegram"
oblast = "UA-63"
live = false
"""))
    web, mt = config.sources
    assert isinstance(web, TelegramWebSource) and isinstance(mt, TelegramMTProtoSource)
    assert web.source_name == "DSNS_Telegram" and mt.source_name == "DSNS_Telegram_mtproto"
    assert web.stream == mt.stream == "dsns_telegram"
    assert config.source("DSNS_Telegram_mtproto") is mt and mt.oblast == "UA-63" and not mt.live


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[sources]]\ntype = "telegram_mtproto"\nchannel = "dsns_telegram"\ncatchup_limit = 10\n',
         "sources[1].catchup_limit: Input should be greater than or equal to 20"),
        ('[[sources]]\ntype = "telegram_mtproto"\nchannel = "dsns_telegram"\nfirst_limit = 0\n',
         "sources[1].first_limit: Input should be greater than or equal to 1"),
        ('[[sources]]\ntype = "telegram_mtproto"\nchannel = "dsns_telegram"\nreread = -1\n',
         "sources[1].reread: Input should be greater than or equal to 0"),
        ('[[sources]]\ntype = "telegram_mtproto"\nchannel = "https://t.me/+invite"\n', "sources[1].channel: channel must be a channel's username"),
        ('[[sources]]\ntype = "telegram_mtproto"\n', "sources[1].channel: required key is missing"),
        ('[[sources]]\ntype = "telegram_mtproto"\nchannel = "dsns_telegram"\napi_hash = "x"\n', "sources[1].api_hash: unknown key"),
        ('[[sources]]\ntype = "telegram"\nchannel = "dsns_telegram"\n', "sources[1]: type must be one of: telegram_web, rss, telegram_mtproto"),
        ('[[sources]]\nchannel = "dsns_telegram"\n', "needs a `type` (telegram_web, rss, telegram_mtproto)"),
        ('[[sources]]\ntype = "telegram_mtproto"\nchannel = "dsns_telegram"\n[[sources]]\ntype = "telegram_mtproto"\nchannel = "dsns_telegram"\n',
         "two sources are named 'dsns_telegram_mtproto'; give one a `name`"),
        ('[telegram]\nsesion = "x.session"\n', "telegram.sesion: unknown key"),
        ('[telegram]\nflood_sleep_threshold = -1\n', "telegram.flood_sleep_threshold: Input should be greater than or equal to 0"),
    ],
)
def test_mtproto_config_mistakes_name_the_key(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)


def test_commented_example_in_config_example_is_valid(tmp_path: Path) -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    # The example's MTProto part is commented out; uncommented it must load as documented.
    block = re.search(r"^# >>> telegram_mtproto\n(.*?)^# <<< telegram_mtproto\n", text, re.M | re.S)
    assert block, "config.example.toml lost its telegram_mtproto example"
    lines = [line.removeprefix("# ") for line in block.group(1).splitlines() if not line.startswith("## ")]
    config = load_config(write(tmp_path, "\n".join(lines) + "\n"))
    (source,) = config.sources
    assert isinstance(source, TelegramMTProtoSource) and source.source_name == "dsns_telegram_mtproto"
    assert (source.interval, source.first_limit, source.catchup_limit, source.reread) == (120, 50, 500, 0)
    assert config.telegram.session == tmp_path / "secrets" / "dsns.session"
    for key in ("channel", "name", "interval", "first_limit", "catchup_limit", "reread", "live", "oblast", "enabled",
                "session", "flood_sleep_threshold"):
        assert re.search(rf"^# (# )?{key} = ", block.group(1), re.M), f"{key} is not documented"


# --- polls ----------------------------------------------------------------------------------------


async def test_poll_stores_posts_reuses_one_client_and_disconnects_at_exit(tmp_path: Path) -> None:
    tg = FakeTelethon()
    for n in range(3):
        tg.post(f"Пожежа №{n} у Києві")
    album = tg.post("Харківщина: наслідки атаки", photos=2)
    factory = Factory(tg)
    async with open_app(load_config(write(tmp_path, MTPROTO_CONFIG)), telegram_client_factory=factory) as app:
        (first,) = await poll_all_once(app)
        assert first.ok and first.new == 4, first
        assert await scalar(app, "SELECT count(*) FROM posts WHERE stream = 'dsns_telegram'") == 4
        state = await get_source(app.db, "dsns_telegram_mtproto")
        assert state is not None and state.type == "telegram_mtproto" and state.cursor == str(album + 1)
        newer = tg.post("Одеса: пожежа ліквідована")
        (second,) = await poll_all_once(app)
        assert second.ok and second.new == 1
        catch_up = [kw for name, kw in tg.calls if name == "iter_messages"][-1]
        assert catch_up["min_id"] == album + 1 and catch_up["reverse"]
        assert (await get_source(app.db, "dsns_telegram_mtproto")).cursor == str(newer)  # type: ignore[union-attr]
        assert factory.built == 1 and tg.connected
        assert [name for name, _ in tg.calls].count("get_entity") == 1  # resolved once, then cached
    assert not tg.connected  # open_app closed the shared client
    cache = tmp_path / "secrets" / "dsns.entities.json"
    assert cache.exists() and str(tg.entity.access_hash) in cache.read_text()


async def test_missing_credentials_fail_the_mtproto_source_only(
    tmp_path: Path, tme: FakeTelegram, tme_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_SESSION"):
        monkeypatch.delenv(key, raising=False)
    tme.fill("dsns_telegram", 2)
    body = MTPROTO_CONFIG + f'\n[[sources]]\ntype = "telegram_web"\nchannel = "dsns_telegram"\nbase_url = "{tme_server.url}"\n'
    async with open_app(load_config(write(tmp_path, body))) as app:  # the real client factory
        mt, web = await poll_all_once(app)
        assert web.ok and web.new == 2
        assert not mt.ok and "TELEGRAM_API_ID and TELEGRAM_API_HASH not set" in (mt.error or "")
        state = await get_source(app.db, "dsns_telegram_mtproto")
        assert state is not None and state.error_count == 1 and state.next_check_at is not None


async def test_web_and_mtproto_of_one_channel_store_one_set_of_rows(
    tmp_path: Path, tme: FakeTelegram, tme_server: LocalServer
) -> None:
    tg = FakeTelethon()
    date = datetime(2024, 5, 2, 3, 14, tzinfo=UTC)
    texts = ["Одеса: внаслідок атаки БпЛА загинула 1 людина, поранено 3", "Київ: пожежу ліквідовано", "Суми: обстріл"]
    for n, text in enumerate(texts):
        photos = 2 if n == 1 else 0
        tme.post("dsns_telegram", text, date=date + timedelta(minutes=n), views=100,
                 photos=tuple(f"p{n}_{k}" for k in range(photos)))
        tg.post(text, date=date + timedelta(minutes=n), views=100, photos=photos)
    body = MTPROTO_CONFIG + f'\n[[sources]]\ntype = "telegram_web"\nchannel = "dsns_telegram"\nbase_url = "{tme_server.url}"\n'
    async with open_app(load_config(write(tmp_path, body)), telegram_client_factory=Factory(tg)) as app:
        outcomes = await poll_all_once(app)
        assert all(o.ok for o in outcomes), outcomes
        assert sum(o.new for o in outcomes) == 3 and sum(o.edited for o in outcomes) == 0
        outcomes = await poll_all_once(app)
        assert sum(o.new + o.edited for o in outcomes) == 0
        rows = await app.db.fetchall("SELECT stream, external_id FROM posts ORDER BY CAST(external_id AS INTEGER)")
        assert [tuple(r) for r in rows] == [("dsns_telegram", "1"), ("dsns_telegram", "2"), ("dsns_telegram", "4")]
        assert await scalar(app, "SELECT count(*) FROM post_versions") == 3
        assert await scalar(app, "SELECT count(*) FROM post_media") == 2  # the album's two photos, once


async def test_tg_photo_is_downloaded_over_mtproto_and_stored_by_sha256(tmp_path: Path) -> None:
    tg = FakeTelethon()
    first = tg.post("Дніпро: наслідки удару", photos=2)
    video = tg.post("Відео з місця", video=True)
    async with open_app(load_config(write(tmp_path, MTPROTO_CONFIG)), telegram_client_factory=Factory(tg)) as app:
        (outcome,) = await poll_all_once(app)
        assert outcome.ok
        rows = await app.db.fetchall("SELECT url, sha256, last_error FROM post_media ORDER BY url")
        expected = {
            f"tg://dsns_telegram/{first}/photo": jpeg_bytes(f"dsns_telegram_{first}_photo"),
            f"tg://dsns_telegram/{first + 1}/photo": jpeg_bytes(f"dsns_telegram_{first + 1}_photo"),
            f"tg://dsns_telegram/{video}/thumb": jpeg_bytes(f"dsns_telegram_{video}_thumb"),
        }
        assert {r["url"]: r["sha256"] for r in rows} == {u: hashlib.sha256(b).hexdigest() for u, b in expected.items()}
        for url, data in expected.items():
            stored = await app.db.fetchone(
                "SELECT m.data, m.mime FROM media m JOIN post_media pm ON pm.sha256 = m.sha256 WHERE pm.url = ?", (url,)
            )
            assert bytes(stored["data"]) == data and stored["mime"] == "image/jpeg"
    downloads = [kw for name, kw in tg.calls if name == "download_media"]
    assert sorted(d["id"] for d in downloads) == [first, first + 1, video] and all(d["file"] is bytes for d in downloads)


# --- live -----------------------------------------------------------------------------------------


async def test_live_posts_edits_and_deletions_keep_the_cursor_and_the_backoff(tmp_path: Path) -> None:
    tg = FakeTelethon()
    factory = Factory(tg)
    async with open_app(load_config(write(tmp_path, MTPROTO_CONFIG)), telegram_client_factory=factory) as app:
        (source,) = app.config.sources
        assert isinstance(source, TelegramMTProtoSource)
        tg.flood_next(600)  # the first catch-up meets a long flood wait: backed off 600 s
        (polled,) = await poll_all_once(app)
        assert not polled.ok and polled.retry_in is not None and polled.retry_in > 590
        backoff = await get_source(app.db, source.source_name)
        assert backoff is not None and backoff.error_count == 1

        live = LiveFeeds(app.pipeline, first_delay=0.01)
        live.start()
        try:
            await eventually(lambda: asyncio.sleep(0, len(tg.handlers) == 3))
            single = tg.post("Київ: пожежа після атаки, поранено 2 людини", photos=1)
            await tg.dispatch(types.UpdateNewChannelMessage(tg.messages[single], 1, 1))
            post = await eventually(lambda: app.db.fetchone(
                "SELECT id, text, version, deleted_at FROM posts WHERE stream='dsns_telegram' AND external_id=?", (str(single),)
            ))
            assert post["version"] == 1 and post["deleted_at"] is None
            # Its photo came over MTProto right away.
            await eventually(lambda: scalar(app, "SELECT sha256 FROM post_media WHERE post_id = ?", (post["id"],)))

            await tg.dispatch(types.UpdateEditChannelMessage(tg.edit(single, "Київ: загинула 1 людина"), 2, 1))
            await eventually(lambda: scalar(app, "SELECT version = 2 FROM posts WHERE id = ?", (post["id"],)))
            assert await scalar(app, "SELECT text FROM posts WHERE id = ?", (post["id"],)) == "Київ: загинула 1 людина"

            await tg.dispatch(types.UpdateDeleteChannelMessages(tg.entity.id, [single], 3, 1))
            await eventually(lambda: scalar(app, "SELECT deleted_at IS NOT NULL FROM posts WHERE id = ?", (post["id"],)))

            after = await get_source(app.db, source.source_name)
            assert after is not None and after.cursor is None  # live posts never move the catch-up cursor
            assert (after.error_count, after.next_check_at) == (1, backoff.next_check_at)  # nor clear the backoff
        finally:
            await live.stop()
        assert tg.handlers == [] and live.tasks == {}


async def test_live_feed_restarts_after_a_disconnect(tmp_path: Path) -> None:
    tg = FakeTelethon()
    factory = Factory(tg)
    async with open_app(load_config(write(tmp_path, MTPROTO_CONFIG)), telegram_client_factory=factory) as app:
        live = LiveFeeds(app.pipeline, first_delay=0.01)
        live.start()
        try:
            await eventually(lambda: asyncio.sleep(0, len(tg.handlers) == 3))
            await tg.disconnect()  # Telegram dropped us: the supervisor reconnects with a new client
            await eventually(lambda: asyncio.sleep(0, factory.built == 2 and len(tg.handlers) == 3))
            message = tg.post("Львів: після відновлення зв'язку")
            assert await tg.dispatch(types.UpdateNewChannelMessage(tg.messages[message], 1, 1)) == 1
            await eventually(lambda: scalar(app, "SELECT count(*) FROM posts WHERE external_id = ?", (str(message),)))
        finally:
            await live.stop()
        assert tg.handlers == []


async def test_daemon_runs_live_feeds_and_stops_them(tmp_path: Path) -> None:
    tg = FakeTelethon()
    tg.post("Перший пост до запуску")
    stop = asyncio.Event()
    async with open_app(load_config(write(tmp_path, MTPROTO_CONFIG)), telegram_client_factory=Factory(tg)) as app:
        daemon = asyncio.create_task(run_forever(app, stop))
        try:
            await eventually(lambda: asyncio.sleep(0, len(tg.handlers) == 3))
            message = tg.post("Черкаси: пожежа на складі")
            await tg.dispatch(types.UpdateNewChannelMessage(tg.messages[message], 1, 1))
            await eventually(lambda: scalar(app, "SELECT count(*) = 2 FROM posts"))  # live + the catch-up poll
        finally:
            stop.set()
            await asyncio.wait_for(daemon, 15)
        assert tg.handlers == []
    assert not tg.connected


# --- telegram login -------------------------------------------------------------------------------


def test_telegram_login_without_credentials_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path, MTPROTO_CONFIG)
    for name in [k for k in os.environ if k.startswith("TELEGRAM_")]:
        monkeypatch.delenv(name)
    result = dsns("telegram", "login", "--config", str(config), input="")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "dsns-monitor: telegram login: TELEGRAM_API_ID and TELEGRAM_API_HASH not set in the environment: "
        "get them at https://my.telegram.org (API development tools)"
    )
    assert result.stdout == "" and not (tmp_path / "secrets").exists()  # nothing asked, nothing written
