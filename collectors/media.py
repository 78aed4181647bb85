"""Photo downloads: size-capped, content-type checked, bytes returned to the caller to store.

Photo URLs come from what a channel or feed published, so they are untrusted: they are fetched
only over http(s), redirects are followed by hand (at most a few), and every hop's host must
resolve to public addresses only. Loopback, private, link-local (cloud metadata at
169.254.169.254), multicast and reserved addresses are refused, so a post cannot make the
monitor probe the machine or its LAN. Two exceptions, both in `MediaPolicy`: the host:port of a
configured source is trusted (the monitor already fetches it; this is what lets tests serve
photos from 127.0.0.1), and `allow_private` lifts the check for a deliberate LAN mirror.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from collectors.base import SourceError
from collectors.http import fetch

__all__ = ["Photo", "MediaPolicy", "download_photo", "is_public_address", "sniff_image"]

MAX_REDIRECTS = 5

_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF8", "image/gif"),
)


def sniff_image(data: bytes) -> str | None:
    """The image type the bytes themselves show, or None when they are none we know."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), None)


@dataclass(frozen=True, slots=True)
class Photo:
    data: bytes
    mime: str


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return (parts.hostname or "").lower(), port


@dataclass(frozen=True, slots=True)
class MediaPolicy:
    """Which hosts photos may come from besides public ones."""

    allow_private: bool = False
    trusted: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    @classmethod
    def trusting(cls, source_urls: list[str | None], *, allow_private: bool = False) -> MediaPolicy:
        """Trust the host:port of each configured source URL."""
        return cls(allow_private, frozenset(_host_port(u) for u in source_urls if u))


def is_public_address(address: str) -> bool:
    """True for globally routable unicast addresses only."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


async def _check_host(url: str, policy: MediaPolicy, source: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SourceError(source, f"refusing to download {url!r}: only http(s) URLs are fetched")
    if policy.allow_private or _host_port(url) in policy.trusted:
        return
    host, port = _host_port(url)
    try:
        infos = await asyncio.wait_for(
            asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=10
        )
    except (OSError, TimeoutError) as exc:
        raise SourceError(source, f"cannot resolve the host of {url}: {exc or 'timed out'}") from exc
    blocked = sorted({str(info[4][0]) for info in infos if not is_public_address(str(info[4][0]))})
    if blocked or not infos:
        raise SourceError(
            source,
            f"refusing to download {url}: {host} resolves to a non-public address "
            f"({', '.join(blocked) or 'none'}); set [storage] allow_private_media = true to allow it",
        )


async def download_photo(
    client: httpx.AsyncClient, url: str, *, source: str, max_bytes: int, policy: MediaPolicy | None = None
) -> Photo:
    """Fetch one image; anything that is not an image, larger than `max_bytes`, or (under
    `policy`, default: public hosts only) on a non-public address at any redirect hop is refused."""
    policy = policy or MediaPolicy()
    for _ in range(MAX_REDIRECTS + 1):
        await _check_host(url, policy, source)
        response = await fetch(client, url, source=source, max_bytes=max_bytes, follow_redirects=False)
        if response.status in (301, 302, 303, 307, 308) and response.location:
            url = urljoin(url, response.location)
            continue
        break
    else:
        raise SourceError(source, f"too many redirects downloading a photo (last: {url})")
    if response.status >= 300:
        raise SourceError(source, f"{url} answered HTTP {response.status} instead of an image")
    mime = response.content_type
    sniffed = sniff_image(response.content)
    if not mime.startswith("image/") and sniffed is None:
        raise SourceError(source, f"{url} is not an image (content-type {mime or 'missing'})")
    if not response.content:
        raise SourceError(source, f"{url} returned an empty image")
    # The bytes outrank the header: hosts label PNGs image/jpeg, and the upload must say what it is.
    return Photo(response.content, sniffed or mime)
