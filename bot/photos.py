"""Which stored photos Telegram takes through sendPhoto, and how an upload is labelled.

Telegram's rules for a photo: at most 10 MB, width + height at most 10000, and the longer side
at most 20 times the shorter. A photo outside them is refused (400 or 413), so it is not tried:
the alert goes as text, whose source link leads to the photo. The archive keeps larger photos
(`[storage] media_max_bytes`); these limits are the Bot API's, not ours to configure.

Dimensions come from the image's header through `imagesize`, which reads only the few bytes
that hold them (no decoding, no decompression of the pixels, so no image bomb can cost memory).
"""

from __future__ import annotations

import io
import mimetypes
from dataclasses import dataclass

import imagesize

__all__ = ["PHOTO_MAX_BYTES", "PHOTO_MAX_SIDES", "PHOTO_MAX_RATIO", "Upload", "photo_refusal", "upload"]

PHOTO_MAX_BYTES = 10 * 1024 * 1024
PHOTO_MAX_SIDES = 10_000
PHOTO_MAX_RATIO = 20

# mimetypes answers ".jpe" for image/jpeg on some systems; these are the names people expect.
_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}


@dataclass(frozen=True, slots=True)
class Upload:
    """A photo as it goes to sendPhoto: bytes, their MIME type and a file name that agrees."""

    data: bytes
    content_type: str
    filename: str


def upload(data: bytes, mime: str | None) -> Upload:
    """Label `data` with its stored MIME type (set from the sniffed bytes at download)."""
    content_type = mime if mime and mime.startswith("image/") else "image/jpeg"
    extension = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type) or ".jpg"
    return Upload(data, content_type, "photo" + extension)


def photo_refusal(data: bytes) -> str | None:
    """Why Telegram would refuse `data` as a photo, or None when it is within the rules."""
    if len(data) > PHOTO_MAX_BYTES:
        return f"{len(data)} bytes, over the {PHOTO_MAX_BYTES} Telegram takes"
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
    return None
