"""Secrets out of text before it is logged or stored: credentials in URLs (`user:password@`,
`?token=…`). The daemon's log lines add the values of the secrets it was configured with
(`monitor.logs`), the Bot API client its token (`bot.api`)."""

from __future__ import annotations

import re

__all__ = ["redact"]

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


def redact(text: str) -> str:
    """`text` (a URL, or a message holding URLs) with credentials replaced by ``***``:
    ``https://user:***@host/feed?token=***``."""
    if "@" in text:
        text = _USERINFO.sub(lambda m: f"//{m[1]}:***@" if m[2] is not None else "//***@", text)
    if "=" in text:
        text = _SECRET_PARAM.sub(r"\1***", text)
    return text
