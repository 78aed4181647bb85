"""The configuration file: the documented keys work, every mistake names the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, RSSSource, TelegramWebSource, load_config

ROOT = Path(__file__).resolve().parent.parent


def test_example_config_loads_with_defaults() -> None:
    config = load_config(ROOT / "config.example.toml")
    tg, feed = config.sources
    assert isinstance(tg, TelegramWebSource) and tg.channel == "dsns_telegram" and tg.interval == 60
    assert tg.base_url == "https://t.me" and tg.source_name == "dsns_telegram"
    assert isinstance(feed, RSSSource) and feed.name == "ukrinform" and feed.interval == 300
    assert config.storage.database == ROOT / "dsns-monitor.db"
    assert config.storage.media_max_bytes == 20 * 1024 * 1024


def test_issue_example_minimal_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[storage]\ndatabase = "dsns-monitor.db"\n\n[[sources]]\ntype = "telegram_web"\nchannel = "dsns_telegram"\n'
        'interval = 60\nbase_url = "https://t.me"\n\n[[sources]]\ntype = "rss"\nname = "ukrinform"\n'
        'url = "https://www.ukrinform.ua/rss/block-lastnews"\ninterval = 300\n'
    )
    config = load_config(path)
    assert [s.source_name for s in config.sources] == ["dsns_telegram", "ukrinform"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[storage]\ndatabse = "x.db"\n', "storage.databse: unknown key"),
        ('[[sources]]\ntype = "rss"\nurl = "https://x.org/rss"\n', "sources[1].name: required key is missing"),
        ('[[sources]]\ntype = "rss"\nname = "a"\nurl = "https://x.org/a"\n[[sources]]\ntype = "telegram_web"\nchannel = "dsns_telegram"\ninterval = "often"\n', "sources[2].interval: Input should be a valid integer"),
        ('[[sources]]\ntype = "twitter"\nname = "x"\n', "sources[1]: type must be one of: telegram_web, rss"),
        ('[[sources]]\nname = "x"\n', "sources[1]: each [[sources]] needs a `type`"),
        ('[[sources]]\ntype = "rss"\nname = "x"\nurl = "ftp://x.org/rss"\n', "sources[1].url: must be an http:// or https:// URL"),
        ('[[sources]]\ntype = "telegram_web"\nchannel = "dsns_telegram"\ninterval = 1\n', "sources[1].interval: Input should be greater than or equal to 5"),
        ('[[sources]]\ntype = "telegram_web"\nchannel = "dsns_telegram"\noblast = "Kharkiv"\n', "sources[1].oblast: oblast must be an ISO code such as UA-63"),
        ('[[sources]]\ntype = "telegram_web"\nchanel = "dsns_telegram"\n', "sources[1].chanel: unknown key (did you mean `channel`?)"),
        ('[[sources]]\ntype = "rss"\nname = "x"\nulr = "https://x.org"\n', "sources[1].ulr: unknown key (did you mean `url`?)"),
        ('[stoarge]\ndatabase = "x.db"\n', "stoarge: unknown key (did you mean `storage`?)"),
        ('[health]\nlisten = "127.0.0.1:9464"\nunhealthy = 5\n', "health.unhealthy: unknown key (did you mean `unhealthy_after`?)"),
        ('[[sources]]\ntype = "telegram_web"\nchannel = "dsns telegram"\n', "sources[1].channel: channel must be a channel's username"),
        ('[[sources]]\ntype = "rss"\nname = "x"\nurl = "https://a.org"\n[[sources]]\ntype = "rss"\nname = "x"\nurl = "https://b.org"\n', "two sources are named 'x'"),
        ("[storage\n", "not valid TOML"),
    ],
)
def test_mistakes_name_key_and_file(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    "written", ["dsns_telegram", "@dsns_telegram", "https://t.me/dsns_telegram", "https://t.me/s/dsns_telegram/",
                "t.me/s/dsns_telegram", "http://telegram.me/dsns_telegram?before=100"],
)
def test_channel_links_and_at_names_are_normalised(tmp_path: Path, written: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        f'[logging]\nlevel = "warning"\n[[sources]]\ntype = "telegram_web"\nchannel = "{written}"\noblast = "ua-63"\n'
        f'[[sources]]\ntype = "telegram_mtproto"\nchannel = "{written}"\n'
    )
    config = load_config(path)
    assert [s.channel for s in config.sources] == ["dsns_telegram", "dsns_telegram"]  # type: ignore[union-attr]
    assert config.sources[0].url == "https://t.me/s/dsns_telegram"
    assert config.sources[0].oblast == "UA-63" and config.logging.level == "WARNING"


def test_no_message_shows_a_regular_expression(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    for body in ('channel = "x"\n', 'channel = "dsns_telegram"\noblast = "63"\n'):
        path.write_text(f'[[sources]]\ntype = "telegram_web"\n{body}')
        with pytest.raises(ConfigError) as info:
            load_config(path)
        assert not any(sign in str(info.value) for sign in ("^", "$", "\\d", "[A-Z"))
