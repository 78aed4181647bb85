"""All configuration in one place: the TOML file's keys, their defaults and their validation.

Secrets never live in the file: a key ending in `_env` names the environment variable
that holds the secret.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from collectors.base import CHANNEL_NAME
from dsns.errors import DsnsError

__all__ = [
    "Config", "ConfigError", "load_config", "SourceConfig", "TelegramWebSource", "RSSSource",
    "TelegramMTProtoSource", "TelegramConfig", "SOURCE_TYPES", "BotChannelConfig", "SiteConfig",
]

_OBLAST = re.compile(r"UA-\d\d")
_TME_PREFIX = re.compile(r"^(?:https?://)?(?:www\.)?(?:t|telegram)\.me/(?:s/)?", re.IGNORECASE)


def _oblast(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().upper()
    if not _OBLAST.fullmatch(value):
        raise ValueError("oblast must be an ISO code such as UA-63 (Kharkiv) or UA-32 (Kyiv oblast)")
    return value


def _channel(value: object) -> object:
    """The username from "dsns_telegram", "@dsns_telegram" or a t.me link (https://t.me/s/dsns_telegram)."""
    if not isinstance(value, str):
        return value  # the field's own type check reports it
    name = _TME_PREFIX.sub("", value.strip()).split("?", 1)[0].strip("/").removeprefix("@")
    # t.me links and @names are reduced to the username before the check.
    if not CHANNEL_NAME.fullmatch(name):
        raise ValueError(
            "channel must be a channel's username (5 to 32 letters, digits or _, starting with a letter), "
            "as in dsns_telegram, @dsns_telegram or https://t.me/dsns_telegram"
        )
    return name


class ConfigError(DsnsError):
    """The configuration file is missing, unreadable or wrong; the message names the key and file."""

    label = "configuration error"
    exit_code = 2


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageConfig(_Section):
    database: Path = Path("dsns-monitor.db")
    media_max_bytes: int = Field(20 * 1024 * 1024, gt=0)
    # Photos, and redirects of feeds and pages, to loopback/private/link-local addresses are refused
    # (a post must not make us fetch the LAN); hosts of configured sources are trusted anyway.
    # True lifts the check entirely.
    allow_private_media: bool = False
    # Photos download in their own worker, a few at a time, each within a time budget, so a
    # slow photo host neither holds a channel's next poll nor a download slot for long.
    media_concurrency: int = Field(4, ge=1, le=64)
    media_timeout: float = Field(60.0, gt=0, le=3600)
    # Days fetched pages and feed bodies are kept for `reparse`; 0 keeps them forever.
    payload_retention_days: int = Field(30, ge=0)


class HTTPConfig(_Section):
    timeout: float = Field(20.0, gt=0)
    max_page_bytes: int = Field(10 * 1024 * 1024, gt=0)
    # A page or feed whose parsing outlasts this fails that source's poll (the daemon goes on).
    parse_timeout: float = Field(30.0, gt=0)
    max_entries: int = Field(500, ge=1)


class SchedulerConfig(_Section):
    jitter: int = Field(5, ge=0)
    max_backoff: int = Field(3600, gt=0)
    shutdown_timeout: float = Field(10.0, gt=0)


class HealthConfig(_Section):
    listen: str = "127.0.0.1:9464"
    unhealthy_after: int = Field(900, ge=1)
    # A source silent for longer than 4 × its usual gap between posts, and at least this, is "stale".
    stale_floor_hours: float = Field(6.0, gt=0)

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        value = value.strip()
        if value:
            listen_address(value)  # raises ValueError naming what is wrong
        return value


def listen_address(value: str) -> tuple[str, int]:
    """("host", port) from "host:port" or "[v6]:port"; port 0 picks a free one."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError('must be "host:port" (e.g. "127.0.0.1:9464"), or "" to disable')
    return host.strip("[]"), int(port)


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return value.rstrip("/")


class BotChannelConfig(_Section):
    """A broadcast channel the bot posts each story of `regions` to, once, and keeps up to date."""

    chat: str
    regions: list[str] = Field(min_length=1)
    language: Literal["uk", "en"] = "uk"

    @field_validator("chat")
    @classmethod
    def _chat(cls, value: str) -> str:
        return "@" + str(_channel(value))

    @field_validator("regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        return [str(_oblast(v)) for v in value]


class BotConfig(_Section):
    token_env: str = "DSNS_BOT_TOKEN"
    api_url: str = "https://api.telegram.org"
    admins: list[int] = Field(default_factory=list)
    alert_max_age: int = Field(7200, ge=0)
    global_rate: float = Field(30.0, gt=0, le=30)
    per_chat_interval: float = Field(1.0, ge=0)
    poll_timeout: int = Field(30, ge=0, le=50)
    # Abuse: a chat's commands beyond `command_burst` at once and `commands_per_minute` after
    # get one "too many requests" answer and are ignored; at most `max_subscriptions` watches.
    command_burst: int = Field(20, ge=1, le=1000)
    commands_per_minute: float = Field(20.0, gt=0, le=600)
    max_subscriptions: int = Field(50, ge=1, le=1000)
    update_ratio: float = Field(0.5, ge=0)
    update_min_increase: int = Field(3, ge=1)
    update_late_hours: float = Field(3.0, gt=0)
    degraded_after: int = Field(300, ge=0)
    channels: list[BotChannelConfig] = Field(default_factory=list)
    # Telegram's limit for one group or channel: messages a minute.
    group_per_minute: int = Field(20, ge=1)
    # Seconds between checks of a broadcast channel the bot may not post in (made admin later).
    channel_recheck: float = Field(600.0, gt=0)

    _url = field_validator("api_url")(_http_url)

    @property
    def token(self) -> str | None:
        """The bot token from the environment variable named by `token_env`, if set."""
        value = os.environ.get(self.token_env, "").strip()
        return value or None


class StoriesConfig(_Section):
    window_hours: float = Field(12.0, gt=0, le=24 * 7)


class TelegramConfig(_Section):
    """MTProto (Telethon) settings shared by every `telegram_mtproto` source.

    TELEGRAM_API_ID / TELEGRAM_API_HASH come from the environment only; a StringSession in
    TELEGRAM_SESSION wins over the `session` file.
    """

    session: Path | None = None
    flood_sleep_threshold: int = Field(60, ge=0, le=3600)


class _SourceBase(_Section):
    interval: int = Field(60, ge=5)
    enabled: bool = True
    oblast: str | None = None

    _oblast = field_validator("oblast")(_oblast)


class TelegramWebSource(_SourceBase):
    type: Literal["telegram_web"]
    channel: str
    name: str | None = None

    _channel = field_validator("channel", mode="before")(_channel)
    base_url: str = "https://t.me"
    first_pages: int = Field(3, ge=1, le=100)
    max_pages: int = Field(20, ge=1, le=1000)
    reread_pages: int = Field(3, ge=1, le=20)

    _url = field_validator("base_url")(_http_url)

    @property
    def source_name(self) -> str:
        return self.name or self.channel

    @property
    def stream(self) -> str:
        return self.channel.lower()

    @property
    def url(self) -> str:
        return f"{self.base_url}/s/{self.channel}"


class RSSSource(_SourceBase):
    type: Literal["rss"]
    name: str = Field(min_length=1)
    url: str
    interval: int = Field(300, ge=5)

    _url = field_validator("url")(_http_url)

    @property
    def source_name(self) -> str:
        return self.name

    @property
    def stream(self) -> str:
        return self.name


class TelegramMTProtoSource(_SourceBase):
    """A channel read over MTProto: live events plus a catch-up poll every `interval` seconds."""

    type: Literal["telegram_mtproto"]
    channel: str
    name: str | None = Field(None, min_length=1)
    interval: int = Field(120, ge=5)
    first_limit: int = Field(50, ge=1, le=10_000)
    catchup_limit: int = Field(500, ge=20, le=10_000)
    reread: int = Field(0, ge=0, le=10_000)
    live: bool = True

    _channel = field_validator("channel", mode="before")(_channel)

    @property
    def source_name(self) -> str:
        # Not the bare channel: a telegram_web source of the same channel is named that, and
        # each source needs its own row (cursor, failure state).
        return self.name or f"{self.channel}_mtproto"

    @property
    def stream(self) -> str:
        return self.channel.lower()  # the web collector's stream: one set of posts either way

    @property
    def url(self) -> str:
        return f"https://t.me/{self.channel}"


SOURCE_TYPES = ("telegram_web", "rss", "telegram_mtproto")
_SOURCE_MODELS: dict[str, type[BaseModel]] = {
    "telegram_web": TelegramWebSource, "rss": RSSSource, "telegram_mtproto": TelegramMTProtoSource,
}
AnySource = TelegramWebSource | RSSSource | TelegramMTProtoSource
SourceConfig = Annotated[AnySource, Field(discriminator="type")]


class SiteConfig(_Section):
    """`[site]`: the public static site (`dsns-monitor site`, and the daemon when `out` is set)."""

    # The folder the site is written to; relative to the config file. Unset: the daemon renders nothing.
    out: Path | None = None
    # Where the site is published ("https://example.org/strikes"): makes the Atom feeds' links absolute.
    base_url: str = ""
    # The map's tiles and their attribution (HTML, shown on every map).
    tile_url: str = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    attribution: str = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
    # The language the site's root page sends readers to; both are always rendered.
    language: Literal["uk", "en"] = "uk"
    # The licence the published data is offered under, named in every page and file.
    licence: str = "CC BY 4.0"
    # Seconds of quiet after a poll that changed stories before the daemon re-renders.
    debounce: float = Field(10.0, ge=0, le=3600)

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        return _http_url(value) if value else value


class Config(_Section):
    storage: StorageConfig = StorageConfig()
    http: HTTPConfig = HTTPConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    logging: LoggingConfig = LoggingConfig()
    bot: BotConfig = BotConfig()
    telegram: TelegramConfig = TelegramConfig()
    stories: StoriesConfig = StoriesConfig()
    health: HealthConfig = HealthConfig()
    site: SiteConfig = SiteConfig()
    sources: list[SourceConfig] = Field(default_factory=list)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[AnySource]) -> list[AnySource]:
        seen: set[str] = set()
        for source in sources:
            if source.source_name in seen:
                raise ValueError(f"two sources are named {source.source_name!r}; give one a `name`")
            seen.add(source.source_name)
        return sources

    def secret_env_names(self) -> list[str]:
        """The environment variables that hold secrets, so logs can redact their values."""
        return [self.bot.token_env, "TELEGRAM_API_HASH", "TELEGRAM_SESSION"]

    def source(self, name: str) -> AnySource:
        for source in self.sources:
            if source.source_name == name:
                return source
        names = ", ".join(s.source_name for s in self.sources) or "none configured"
        raise ConfigError(f"no source named {name!r} (sources: {names})")


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part + 1}]" if path == "sources" else f"[{part}]"
        elif part in SOURCE_TYPES and path.startswith("sources["):
            continue  # the discriminated union's tag adds nothing for the reader
        else:
            path += f".{part}" if path else str(part)
    return path


def _did_you_mean(loc: tuple[int | str, ...]) -> str:
    """' (did you mean `channel`?)' when the unknown key at `loc` is close to a known one."""
    model: type[BaseModel] = Config
    for part in loc[:-1]:
        if part in _SOURCE_MODELS:
            model = _SOURCE_MODELS[part]  # type: ignore[index]
        elif isinstance(part, str) and part in model.model_fields:
            annotation = model.model_fields[part].annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                model = annotation  # a section; `sources` is a list, and its tag names the model
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return f" (did you mean `{close[0]}`?)" if close else ""


def load_config(path: str | Path) -> Config:
    """Read and validate the TOML file; relative paths in it are taken from the file's folder."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        # An unknown key first: it is usually the misspelling of the key reported missing.
        error = min(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        key = _key_path(error["loc"]) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key" + _did_you_mean(error["loc"])
        elif error["type"] == "missing":
            message = "required key is missing"
        elif error["type"] == "union_tag_invalid":
            message = f"type must be one of: {', '.join(SOURCE_TYPES)}"
        elif error["type"] == "union_tag_not_found":
            message = f"each [[sources]] needs a `type` ({', '.join(SOURCE_TYPES)})"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{path}: {key}: {message}{more}") from None
    if not config.storage.database.is_absolute():
        storage = config.storage.model_copy(update={"database": path.parent / config.storage.database})
        config = config.model_copy(update={"storage": storage})
    session = config.telegram.session
    if session is not None:
        session = session.expanduser()
        telegram = config.telegram.model_copy(update={"session": session if session.is_absolute() else path.parent / session})
        config = config.model_copy(update={"telegram": telegram})
    out = config.site.out
    if out is not None and not out.expanduser().is_absolute():
        config = config.model_copy(update={"site": config.site.model_copy(update={"out": path.parent / out.expanduser()})})
    return config
