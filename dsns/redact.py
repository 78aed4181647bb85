"""Secrets out of text before it is logged or stored, the project's one redaction: credentials
in URLs (`user:password@`, `?token=…`), anything shaped like a bot token, and every value
registered with `register_secret` (the daemon registers the secrets it was configured with,
`monitor.ops.logs`; a Bot API client its token, `bot.api`)."""

from __future__ import annotations

import re

__all__ = ["redact", "register_secret", "REDACTED"]

REDACTED = "[REDACTED]"

# `//user:password@` or `//token@` in a URL; the classes stop at "/" and blanks, so each
# character is scanned once whatever the text.
_USERINFO = re.compile(r"//([^/\s@:]*)(:[^/\s@]*)?@")
# A query parameter whose name says it is a secret (token=, key=, api_key=, access_token=, sig=…);
# its value ends at the next parameter, a blank or quote, or a ":" closing the URL in a message.
_SECRET_PARAM = re.compile(
    r"([?&;][\w.-]*(?:token|key|secret|password|passwd|pwd|auth|sig|signature|session)=)"
    r"[^&#\s'\"]*?(?=[&#\s'\"]|:\s|:?$)",
    re.I,
)
# A bot token in a URL or message: digits, a colon, 35 url-safe characters.
_BOT_TOKEN = re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b")
_secrets: set[str] = set()


def register_secret(value: str | None) -> None:
    """Never show `value` in what `redact` returns, from now on, in this process."""
    if value and len(value) >= 6:
        _secrets.add(value)


def redact(text: str) -> str:
    """`text` (a URL, or a message holding URLs) with credentials replaced by ``***``
    (``https://user:***@host/feed?token=***``), bot tokens and registered secrets by REDACTED."""
    if ":" in text:
        text = _BOT_TOKEN.sub(REDACTED, text)
    if "@" in text:
        text = _USERINFO.sub(lambda m: f"//{m[1]}:***@" if m[2] is not None else "//***@", text)
    if "=" in text:
        text = _SECRET_PARAM.sub(r"\1***", text)
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text
