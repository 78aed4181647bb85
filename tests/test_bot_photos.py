"""An alert is never lost with its photo: Telegram's photo rules, its refusals, the upload's type."""

from __future__ import annotations

import os
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.photos import photo_refusal, upload
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.tme import FakeTelegram, jpeg_bytes
from tests.test_bot_e2e import STRIKE, bot_config, bot_server, botapi, running_bot, settled_outbox, wait_for

__all__ = ["bot_config", "bot_server", "botapi"]  # fixtures shared with the bot's end-to-end tests

KHARKIV = 111


def png_bytes(width: int, height: int, *, noise: bool = False) -> bytes:
    """A valid 8-bit PNG (RGB random pixels when `noise`, which do not compress; else grey zeros)."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    channels, colour = (3, 2) if noise else (1, 0)
    row = width * channels
    if noise:
        pixels = b"".join(b"\x00" + os.urandom(row) for _ in range(height))
        data = zlib.compress(pixels, 0)
    else:
        data = zlib.compress(bytes((row + 1) * height), 9)
    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


async def _alert_with_photo(tme: FakeTelegram, botapi: FakeBotAPI, app, photo: str) -> dict:  # type: ignore[no-untyped-def]
    """Post a strike with `photo` to the subscriber's region; the one alert they get for it."""
    before = len(botapi.sent_to(KHARKIV))
    tme.post("dsns_telegram", STRIKE, date=datetime.now(UTC), photos=(photo,))
    await app.pipeline.poll(app.config.source("dsns_telegram"), force=True)
    await wait_for(lambda: len(botapi.sent_to(KHARKIV)) > before)
    assert await settled_outbox(app) == {KHARKIV: "sent"}
    (alert,) = botapi.sent_to(KHARKIV)[before:]
    return alert


@pytest.mark.parametrize("status", [400, 413])
async def test_a_refused_photo_is_delivered_as_text_once(
    tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path, status: int
) -> None:
    async with running_bot(bot_config) as app:
        botapi.user_says(KHARKIV, "/subscribe Харківщина")
        await wait_for(lambda: len(botapi.sent) >= 1)
        botapi.refuse_photos(1, status=status)
        alert = await _alert_with_photo(tme, botapi, app, "refused")
        assert botapi.calls["sendPhoto"] == 1  # tried once, refused, not tried again
        assert alert["method"] == "sendMessage"
        assert "Балаклія" in alert["text"] and "/dsns_telegram/" in alert["text"]  # the post's link: the photo
        row = await app.db.fetchone("SELECT with_photo, attempts, last_error FROM outbox")
        assert row["with_photo"] == 0 and row["last_error"] is None


@pytest.mark.parametrize(
    "image",
    [png_bytes(2048, 2048, noise=True), png_bytes(30_000, 100)],
    ids=["12MB", "30000x100"],
)
async def test_a_photo_outside_telegrams_rules_goes_as_text_untried(
    tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path, image: bytes
) -> None:
    tme.images["outside"] = image
    async with running_bot(bot_config) as app:
        botapi.user_says(KHARKIV, "/subscribe Харківщина")
        await wait_for(lambda: len(botapi.sent) >= 1)
        alert = await _alert_with_photo(tme, botapi, app, "outside")
        # The archive keeps the photo (media_max_bytes is 20 MB); only the alert goes without it.
        stored = await app.db.fetchone("SELECT size FROM media")
        assert stored["size"] == len(image)
    assert botapi.calls["sendPhoto"] == 0
    assert alert["method"] == "sendMessage" and "/dsns_telegram/" in alert["text"]


async def test_a_png_is_uploaded_as_image_png(tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path) -> None:
    # Served as image/jpeg (the URL says .jpg): the bytes decide what it is.
    tme.images["map"] = png_bytes(640, 480)
    async with running_bot(bot_config) as app:
        botapi.user_says(KHARKIV, "/subscribe Харківщина")
        await wait_for(lambda: len(botapi.sent) >= 1)
        alert = await _alert_with_photo(tme, botapi, app, "map")
        assert (await app.db.fetchone("SELECT mime FROM media"))[0] == "image/png"
    assert alert["method"] == "sendPhoto"
    assert (alert["photo_type"], alert["photo_filename"]) == ("image/png", "photo.png")
    assert alert["photo"] == tme.images["map"]


@pytest.mark.parametrize(
    ("image", "refused"),
    [
        (jpeg_bytes("ok"), None),
        (png_bytes(5000, 5000), None),  # width + height exactly 10000
        (png_bytes(5000, 5001), "over 10000"),
        (png_bytes(2000, 100), None),  # exactly 20 to 1
        (png_bytes(100, 2001), "20 to 1"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "unreadable"),
        (b"<html>not an image</html>", "unreadable"),
        (b"", "unreadable"),
    ],
)
def test_photo_rules_at_their_edges(image: bytes, refused: str | None) -> None:
    why = photo_refusal(image)
    assert why is None if refused is None else refused in (why or "")


def test_photo_over_ten_megabytes_is_refused_before_reading_it() -> None:
    assert "over the 10485760" in (photo_refusal(b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024)) or "")


@pytest.mark.parametrize(
    ("mime", "expected"),
    [("image/png", ("image/png", "photo.png")), ("image/webp", ("image/webp", "photo.webp")),
     ("image/jpeg", ("image/jpeg", "photo.jpg")), (None, ("image/jpeg", "photo.jpg")),
     ("text/html", ("image/jpeg", "photo.jpg"))],
)
def test_upload_is_labelled_with_the_stored_type(mime: str | None, expected: tuple[str, str]) -> None:
    labelled = upload(b"x", mime)
    assert (labelled.content_type, labelled.filename) == expected
