"""What kind of image some bytes are, from the bytes themselves: the collectors store photos by it,
the bot labels its uploads by it."""

from __future__ import annotations

__all__ = ["sniff_image"]

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
