"""The MTProto account's credentials and session file: no Telethon here, so the `telegram`
command's help and the config's checks start without it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from collectors.base import SourceError

__all__ = ["ENV_API_ID", "ENV_API_HASH", "ENV_SESSION", "CredentialsError", "MTProtoCredentials", "prepare_session_file"]

ENV_API_ID, ENV_API_HASH, ENV_SESSION = "TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_SESSION"
_GET_KEYS = "get them at https://my.telegram.org (API development tools)"


class CredentialsError(SourceError):
    """TELEGRAM_API_ID / TELEGRAM_API_HASH / the session are missing or unusable."""

    def __init__(self, message: str) -> None:
        super().__init__("telegram", message)


class MTProtoCredentials:
    """The app's api_id/api_hash and an optional StringSession; `repr` never shows the secrets."""

    __slots__ = ("api_id", "api_hash", "session_string")

    def __init__(self, api_id: int, api_hash: str, session_string: str | None = None) -> None:
        self.api_id = api_id
        self.api_hash = api_hash
        self.session_string = session_string or None

    def __repr__(self) -> str:
        session = "set" if self.session_string else "none"
        return f"MTProtoCredentials(api_id={self.api_id}, api_hash=<redacted>, session_string=<{session}>)"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> MTProtoCredentials:
        """Read TELEGRAM_API_ID, TELEGRAM_API_HASH and optional TELEGRAM_SESSION; name what is missing."""
        env = os.environ if env is None else env
        missing = [key for key in (ENV_API_ID, ENV_API_HASH) if not env.get(key, "").strip()]
        if missing:
            raise CredentialsError(f"{' and '.join(missing)} not set in the environment: {_GET_KEYS}")
        raw_id = env[ENV_API_ID].strip()
        if not raw_id.isdigit():
            raise CredentialsError(f"{ENV_API_ID} must be the numeric api_id from https://my.telegram.org")
        return cls(int(raw_id), env[ENV_API_HASH].strip(), env.get(ENV_SESSION, "").strip() or None)


def prepare_session_file(path: str | Path) -> Path:
    """Create the SQLite session file (and its folder) readable by the owner only; return its path.

    Telethon appends ``.session`` to a name without it, so the suffix is added here too and
    the file made 0600 is the one Telethon opens (SQLite gives its journals the same mode).
    """
    path = Path(path).expanduser()
    if path.suffix != ".session":
        path = path.with_name(path.name + ".session")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)  # an existing file may have been created with a looser umask
    return path
