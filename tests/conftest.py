"""Shared fixtures: fake t.me and feed servers on 127.0.0.1, a config file, a temp archive."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# CI must be reproducible: the same examples every run there; locally, fresh ones each time.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

from monitor.ops import faults
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feeds import FakeFeeds
from tests.fakes.server import LocalServer, serve
from tests.fakes.tme import FakeTelegram


@pytest.fixture(autouse=True)
def root_logging_restored() -> Iterator[None]:
    """`monitor.cli.main` called in-process sets up logging to the test's (captured, later closed)
    stderr; the next test must not log into it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(autouse=True)
def no_faults_between_tests() -> Iterator[None]:
    """Faults are process-wide (as in the daemon); one test's must not show in the next."""
    faults.reset()
    yield
    faults.reset()


@pytest.fixture
def tme() -> FakeTelegram:
    fake = FakeTelegram()
    fake.add_channel("dsns_telegram", "ДСНС України")
    return fake


@pytest.fixture
def tme_server(tme: FakeTelegram) -> Iterator[LocalServer]:
    with serve(tme.route) as server:
        yield server


@pytest.fixture
def feeds() -> FakeFeeds:
    return FakeFeeds()


@pytest.fixture
def feed_server(feeds: FakeFeeds) -> Iterator[LocalServer]:
    with serve(feeds.route) as server:
        yield server


@pytest.fixture
def botapi() -> FakeBotAPI:
    return FakeBotAPI()


@pytest.fixture
def bot_server(botapi: FakeBotAPI) -> Iterator[LocalServer]:
    with serve(botapi.route) as server:
        yield server
        botapi.close()  # pending long polls let go before the server stops


@pytest.fixture
def bot_config(config_file: Path, bot_server: LocalServer, botapi: FakeBotAPI, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DSNS_BOT_TOKEN", botapi.token)
    text = config_file.read_text() + f'\n[bot]\napi_url = "{bot_server.url}"\nadmins = [900]\npoll_timeout = 1\nper_chat_interval = 0.05\n'
    config_file.write_text(text)
    return config_file


def write_config(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


@pytest.fixture
def config_file(tmp_path: Path, tme_server: LocalServer, feed_server: LocalServer) -> Path:
    """A config with the DSNS channel on the fake t.me and two feeds on the fake news site."""
    return fake_sources_config(tmp_path, tme_server.url, feed_server.url)


def fake_sources_config(folder: Path, tme_url: str, feeds_url: str) -> Path:
    """`folder/config.toml`: the DSNS channel on the fake t.me at `tme_url`, two feeds at `feeds_url`,
    the archive beside it."""
    return write_config(
        folder / "config.toml",
        f"""
[storage]
database = "archive.db"

[http]
timeout = 3

[scheduler]
jitter = 0
max_backoff = 60

[health]
# A free port per test: parallel runs on one machine must not fight over 9464.
listen = "127.0.0.1:0"

[[sources]]
type = "telegram_web"
channel = "dsns_telegram"
interval = 60
base_url = "{tme_url}"

[[sources]]
type = "rss"
name = "news_uk"
url = "{feeds_url}/feeds/news_uk.xml"
interval = 300

[[sources]]
type = "rss"
name = "news_ru"
url = "{feeds_url}/feeds/news_ru_cp1251.xml"
interval = 300
""",
    )
