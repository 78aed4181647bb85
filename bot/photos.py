"""Which stored photos Telegram takes through sendPhoto, and how an upload is labelled.

Telegram's rules for a photo: at most 10 MB, width + height at most 10000, and the longer side
at most 20 times the shorter. A photo outside them is refused (400 or 413), so it is not tried:
the alert goes as text, whose source link leads to the photo. The archive keeps larger photos
(`[storage] media_max_bytes`); these limits are the Bot API's, not ours to configure.

The type comes from the bytes (the stored MIME type may be a host's guess); dimensions from the
image's header through `imagesize`, which reads only the few bytes that hold them: no decoding,
no decompression of pixels, so a crafted image costs neither memory nor time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import imagesize

from dsns.images import sniff_image

__all__ = ["PHOTO_MAX_BYTES", "PHOTO_MAX_SIDES", "PHOTO_MAX_RATIO", "Upload", "photo_upload"]

PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDES = 10_000
PHOTO_MAX_RATIO = 20

_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}


@dataclass(frozen=True, slots=True)
class Upload:
    """A photo as it goes to sendPhoto: bytes, their MIME type and a file name that agrees."""

    data: bytes
    content_type: str
    filename: str


def photo_upload(data: bytes) -> Upload | str:
    """`data` labelled for sendPhoto, or (a str) why Telegram's photo rules exclude it."""
    if len(data) > PHOTO_MAX_BYTES:
        return f"{len(data)} bytes, over the {PHOTO_MAX_BYTES} Telegram takes"
    kind = sniff_image(data)
    if kind is None:
        return "not a JPEG, PNG, GIF or WebP image"
    try:
        width, height = imagesize.get(io.BytesIO(data))
    except Exception as exc:  # a third-party parser on untrusted bytes: any failure means "unreadable"
        return f"unreadable image header ({type(exc).__name__})"
    if width <= 0 or height <= 0:
        return "unreadable image header"
    if width + height > PHOTO_MAX_SIDES:
        return f"{width}×{height}: width + height over {PHOTO_MAX_SIDES}"
    if max(width, height) > PHOTO_MAX_RATIO * min(width, height):
        return f"{width}×{height}: sides more than {PHOTO_MAX_RATIO} to 1"
    return Upload(data, kind, "photo" + _EXTENSIONS[kind])
