"""Canonical article URLs, so the same article in two feeds is recognised as one post."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["canonical_url"]

# Parameters that say how a reader arrived, not what they read.
_TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "_ga", "yclid", "fbclid", "gclid", "ref", "from", "source")


def canonical_url(url: str | None) -> str | None:
    """The URL with scheme and host lower-cased, `www.` and tracking parameters removed,
    fragment and trailing slash dropped; None for anything that is not an http(s) URL."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not k.lower().startswith(_TRACKING_PREFIXES)]
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("https", host, path, urlencode(sorted(query)), ""))
