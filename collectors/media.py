"""Photo downloads: size-capped, content-type checked, bytes returned to the caller to store."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from collectors.base import SourceError
from collectors.http import fetch

__all__ = ["Photo", "download_photo"]

_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF8", "image/gif"),
    (b"RIFF", "image/webp"),
)


@dataclass(frozen=True, slots=True)
class Photo:
    data: bytes
    mime: str


async def download_photo(client: httpx.AsyncClient, url: str, *, source: str, max_bytes: int) -> Photo:
    """Fetch one image; anything that is not an image, or larger than `max_bytes`, is refused."""
    if not url.startswith(("http://", "https://")):
        raise SourceError(source, f"refusing to download {url!r}: only http(s) URLs are fetched")
    response = await fetch(client, url, source=source, max_bytes=max_bytes)
    mime = response.content_type
    sniffed = next((kind for magic, kind in _MAGIC if response.content.startswith(magic)), None)
    if not mime.startswith("image/") and sniffed is None:
        raise SourceError(source, f"{url} is not an image (content-type {mime or 'missing'})")
    if not response.content:
        raise SourceError(source, f"{url} returned an empty image")
    return Photo(response.content, mime if mime.startswith("image/") else sniffed or "image/jpeg")
