"""Photo downloads: size-capped, content-type checked, bytes returned to the caller to store.

Photo URLs come from what a channel or feed published, so they are untrusted: unlike a
source's own URL, even the first one must pass the `AddressPolicy` (default: public hosts
only), as must every redirect hop (see `collectors.http`).
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from collectors.base import SourceError
from collectors.http import AddressPolicy, fetch
from dsns.images import sniff_image

__all__ = ["Photo", "download_photo"]


@dataclass(frozen=True, slots=True)
class Photo:
    data: bytes
    mime: str


async def download_photo(
    client: httpx.AsyncClient, url: str, *, source: str, max_bytes: int, policy: AddressPolicy | None = None
) -> Photo:
    """Fetch one image; anything that is not an image, larger than `max_bytes`, or (under
    `policy`, default: public hosts only) on a non-public address at any redirect hop is refused."""
    response = await fetch(client, url, source=source, max_bytes=max_bytes, policy=policy or AddressPolicy())
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
