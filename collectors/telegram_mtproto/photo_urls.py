"""The ``tg://<channel>/<id>/photo`` pseudo-URLs MTProto posts carry for their photos. No
Telethon here: the pipeline and the photo worker tell them apart without the mtproto extra."""

from __future__ import annotations

import re

__all__ = ["photo_url", "parse_photo_url"]

_PHOTO_URL_RE = re.compile(r"^tg://([A-Za-z0-9_]+)/(\d+)/(photo|thumb)$")


def photo_url(channel: str, message_id: int, kind: str = "photo") -> str:
    """The pseudo-URL of a message's photo (`kind` "photo") or video poster frame ("thumb")."""
    return f"tg://{channel.lower()}/{message_id}/{kind}"


def parse_photo_url(url: str) -> tuple[str, int, str] | None:
    """(channel, message id, kind) of a ``tg://`` photo URL; None for any other URL."""
    match = _PHOTO_URL_RE.match(url)
    return (match.group(1), int(match.group(2)), match.group(3)) if match else None
