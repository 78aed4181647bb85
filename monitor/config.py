"""All configuration in one place: the TOML file's keys, their defaults and their validation.

Secrets never live in the file: a key ending in `_env` names the environment variable
that holds the secret.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = ["Config", "ConfigError", "load_config", "SourceConfig", "TelegramWebSource", "RSSSource"]

ISO_OBLAST_PATTERN = r"^UA-\d\d$"


class ConfigError(Exception):
    """The configuration file is missing, unreadable or wrong; the message names the key and file."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StorageConfig(_Section):
    database: Path = Path("dsns-monitor.db")
    media_max_bytes: int = Field(20 * 1024 * 1024, gt=0)


class HTTPConfig(_Section):
    timeout: float = Field(20.0, gt=0)
    max_page_bytes: int = Field(10 * 1024 * 1024, gt=0)


class SchedulerConfig(_Section):
    jitter: int = Field(5, ge=0)
    max_backoff: int = Field(3600, gt=0)
    shutdown_timeout: float = Field(10.0, gt=0)


class LoggingConfig(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must be an http:// or https:// URL")
    return value.rstrip("/")


class BotConfig(_Section):
    token_env: str = "DSNS_BOT_TOKEN"
    api_url: str = "https://api.telegram.org"
    admins: list[int] = Field(default_factory=list)
    alert_max_age: int = Field(7200, ge=0)
    global_rate: float = Field(25.0, gt=0, le=30)
    per_chat_interval: float = Field(1.0, ge=0)
    poll_timeout: int = Field(30, ge=0, le=50)

    _url = field_validator("api_url")(_http_url)

    @property
    def token(self) -> str | None:
        """The bot token from the environment variable named by `token_env`, if set."""
        value = os.environ.get(self.token_env, "").strip()
        return value or None


class _SourceBase(_Section):
    interval: int = Field(60, ge=5)
    enabled: bool = True
    oblast: str | None = Field(None, pattern=ISO_OBLAST_PATTERN)


class TelegramWebSource(_SourceBase):
    type: Literal["telegram_web"]
    channel: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
    name: str | None = None
    base_url: str = "https://t.me"
    first_pages: int = Field(3, ge=1, le=100)
    max_pages: int = Field(20, ge=1, le=1000)
    reread_pages: int = Field(1, ge=1, le=20)

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


SourceConfig = Annotated[TelegramWebSource | RSSSource, Field(discriminator="type")]


class Config(_Section):
    storage: StorageConfig = StorageConfig()
    http: HTTPConfig = HTTPConfig()
    scheduler: SchedulerConfig = SchedulerConfig()
    logging: LoggingConfig = LoggingConfig()
    bot: BotConfig = BotConfig()
    sources: list[SourceConfig] = Field(default_factory=list)

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, sources: list[TelegramWebSource | RSSSource]) -> list[TelegramWebSource | RSSSource]:
        seen: set[str] = set()
        for source in sources:
            if source.source_name in seen:
                raise ValueError(f"two sources are named {source.source_name!r}; give one a `name`")
            seen.add(source.source_name)
        return sources

    def secret_env_names(self) -> list[str]:
        """The environment variables that hold secrets, so logs can redact their values."""
        return [self.bot.token_env, "TELEGRAM_API_HASH", "TELEGRAM_SESSION"]

    def source(self, name: str) -> TelegramWebSource | RSSSource:
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
        elif part in ("telegram_web", "rss") and path.startswith("sources["):
            continue  # the discriminated union's tag adds nothing for the reader
        else:
            path += f".{part}" if path else str(part)
    return path


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
        error = exc.errors()[0]
        key = _key_path(error["loc"]) or "(top level)"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif error["type"] == "union_tag_invalid":
            message = "type must be one of: telegram_web, rss"
        elif error["type"] == "union_tag_not_found":
            message = "each [[sources]] needs a `type` (telegram_web or rss)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{path}: {key}: {message}{more}") from None
    if not config.storage.database.is_absolute():
        storage = config.storage.model_copy(update={"database": path.parent / config.storage.database})
        config = config.model_copy(update={"storage": storage})
    return config
