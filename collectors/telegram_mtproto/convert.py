"""Telethon messages → `RawPost`s (pure), with the web preview's identity, text and photo order."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC
from typing import Any

from telethon import utils
from telethon.tl import types

from collectors.base import RawPost
from collectors.telegram_mtproto.photo_urls import parse_photo_url, photo_url

__all__ = ["photo_url", "parse_photo_url", "media_kind", "group_to_raw", "message_to_raw", "group_messages"]


def _visible_text(raw: str | None) -> str:
    # The web preview collapses whitespace runs and strips lines; doing the same keeps the
    # text hash equal whichever backend saw the post, so storage records no phantom edits.
    lines = [re.sub(r"\s+", " ", line.replace("\xa0", " ")).strip() for line in (raw or "").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _service_text(message: Any) -> str:
    # Only the actions whose web-preview wording is known; others stay empty.
    if isinstance(getattr(message, "action", None), types.MessageActionChatEditPhoto):
        return "Channel photo updated"
    return ""


def media_kind(message: Any) -> str | None:
    media = getattr(message, "media", None)
    if isinstance(media, types.MessageMediaPhoto) and media.photo is not None:
        return "photo"
    if isinstance(media, types.MessageMediaDocument) and isinstance(media.document, types.Document):
        is_video = media.document.mime_type.startswith("video/") or any(
            isinstance(a, types.DocumentAttributeVideo) for a in media.document.attributes
        )
        if is_video and media.document.thumbs:
            return "thumb"
    return None


def _forwarded_from(message: Any) -> str | None:
    header = getattr(message, "fwd_from", None)
    if header is None:
        return None
    forward = getattr(message, "forward", None)  # filled by Telethon when the entities came along
    for entity in (getattr(forward, "chat", None), getattr(forward, "sender", None)):
        if entity is not None:
            name = getattr(entity, "title", None) or utils.get_display_name(entity)
            if name:
                return name
    if header.from_name:
        return header.from_name
    if isinstance(header.from_id, types.PeerChannel):
        return f"channel {header.from_id.channel_id}"
    if isinstance(header.from_id, types.PeerUser):
        return f"user {header.from_id.user_id}"
    return header.post_author


def group_to_raw(messages: Iterable[Any], channel: str) -> RawPost:
    """One post for one message or one album (messages sharing a grouped_id), as t.me/s shows it.

    The id is the smallest message id, the text the first caption, photos every member's
    photo then every video poster frame (the web preview's order).
    """
    group = sorted(messages, key=lambda m: m.id)
    head = group[0]
    service = isinstance(head, types.MessageService)
    text = next((t for t in (_visible_text(m.message) for m in group) if t), "")
    kinds = [(m.id, media_kind(m)) for m in group]
    photos = [photo_url(channel, i, k) for i, k in kinds if k == "photo"]
    photos += [photo_url(channel, i, k) for i, k in kinds if k == "thumb"]
    date = head.date
    if date is not None:
        date = (date.replace(tzinfo=UTC) if date.tzinfo is None else date).astimezone(UTC)
    views = [m.views for m in group if getattr(m, "views", None) is not None]
    webpage = getattr(getattr(head, "media", None), "webpage", None)
    return RawPost(
        stream=channel.lower(),
        external_id=str(head.id),
        url=f"https://t.me/{channel}/{head.id}",
        published_at=date,
        text=_service_text(head) if service else text,
        photos=tuple(photos),
        # edit_hide: an edit Telegram does not show as one (the web preview shows no "edited").
        edited=any(getattr(m, "edit_date", None) is not None and not getattr(m, "edit_hide", False) for m in group),
        kind="service" if service else "message",
        views=max(views) if views else None,
        forwarded_from=next((f for f in map(_forwarded_from, group) if f), None),
        link_preview=getattr(webpage, "url", None),
    )


def message_to_raw(message: Any, channel: str) -> RawPost:
    """One Telethon message as a `RawPost`, with the web collector's identity and url."""
    return group_to_raw([message], channel)


def group_messages(messages: Iterable[Any]) -> list[list[Any]]:
    """Split messages (any order) into single messages and albums, oldest first."""
    groups: dict[int | tuple[str, int], list[Any]] = {}
    for message in sorted(messages, key=lambda m: m.id):
        if isinstance(message, types.MessageEmpty):
            continue
        gid = getattr(message, "grouped_id", None)
        groups.setdefault(gid if gid is not None else ("single", message.id), []).append(message)
    return sorted(groups.values(), key=lambda g: g[0].id)
