"""An alert is never lost with its photo: Telegram's photo rules, its refusals, the upload's type."""

from __future__ import annotations

import os
import struct
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.photos import Upload, photo_upload
from monitor.app import open_app
from monitor.config import load_config
from monitor.daemon import poll_all_once
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.tme import FakeTelegram, jpeg_bytes
from tests.test_bot_e2e import STRIKE, running_bot, settled_outbox, wait_for

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


async def _alert_with_photo(
    tme: FakeTelegram, botapi: FakeBotAPI, config_path: Path, photo: str, *, refuse: int | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A subscriber to Kharkiv oblast, then a strike there with `photo`: the alert they get and the
    outbox row. The post and its photo are stored before the bot runs, so nothing waits on timing."""
    # A 12 MB download on a busy test machine can outlast the 3 s reads (9 s in all) of the base config.
    config_path.write_text(config_path.read_text().replace("\ntimeout = 3\n", "\ntimeout = 20\n"))
    async with running_bot(config_path):
        botapi.user_says(KHARKIV, "/subscribe Харківщина")
        await wait_for(lambda: len(botapi.sent) >= 1)
    tme.post("dsns_telegram", STRIKE, date=datetime.now(UTC), photos=(photo,))
    async with open_app(load_config(config_path)) as app:
        await poll_all_once(app)
    if refuse is not None:
        botapi.refuse_photos(1, status=refuse)
    async with running_bot(config_path) as app:
        await wait_for(lambda: len(botapi.sent_to(KHARKIV)) >= 2)
        assert await settled_outbox(app) == {KHARKIV: "sent"}
        row = await app.db.fetchone("SELECT with_photo, last_error FROM outbox")
        # the strike's own photo: the running bot also polls the feeds, whose photos are stored too
        telegram = "JOIN posts p ON p.id = pm.post_id WHERE p.stream = 'dsns_telegram'"
        media = await app.db.fetchone(f"SELECT mime, size FROM media m JOIN post_media pm ON pm.sha256 = m.sha256 {telegram}")
        assert media is not None, await app.db.fetchone(f"SELECT last_error FROM post_media pm {telegram}")
    (alert,) = botapi.sent_to(KHARKIV)[1:]
    return alert, {**dict(row), **dict(media)}


@pytest.mark.parametrize("status", [400, 413])
async def test_a_refused_photo_is_delivered_as_text_once(
    tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path, status: int
) -> None:
    alert, row = await _alert_with_photo(tme, botapi, bot_config, "refused", refuse=status)
    assert botapi.calls["sendPhoto"] == 1  # tried once, refused, not tried again
    assert alert["method"] == "sendMessage"
    assert "Балаклія" in alert["text"] and "/dsns_telegram/" in alert["text"]  # the post's link: the photo
    assert row["with_photo"] == 0 and row["last_error"] is None


@pytest.mark.parametrize(
    "image",
    [png_bytes(2000, 2000, noise=True), png_bytes(30_000, 100)],
    ids=["12MB", "30000x100"],
)
async def test_a_photo_outside_telegrams_rules_goes_as_text_untried(
    tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path, image: bytes
) -> None:
    tme.images["outside"] = image
    alert, row = await _alert_with_photo(tme, botapi, bot_config, "outside")
    assert botapi.calls["sendPhoto"] == 0
    assert alert["method"] == "sendMessage" and "/dsns_telegram/" in alert["text"]
    assert row["size"] == len(image)  # the archive keeps it (media_max_bytes is 20 MB)


async def test_a_png_is_uploaded_as_image_png(tme: FakeTelegram, botapi: FakeBotAPI, bot_config: Path) -> None:
    # Served as image/jpeg (the URL says .jpg): the bytes decide what it is.
    tme.images["map"] = png_bytes(640, 480)
    alert, row = await _alert_with_photo(tme, botapi, bot_config, "map")
    assert row["mime"] == "image/png" and row["with_photo"] == 1
    assert alert["method"] == "sendPhoto"
    assert (alert["photo_type"], alert["photo_filename"]) == ("image/png", "photo.png")
    assert alert["photo"] == tme.images["map"]


GIF = b"GIF89a" + struct.pack("<HH", 300, 200) + b"\x00\x00\x00;"


@pytest.mark.parametrize(
    ("image", "refused"),
    [
        (jpeg_bytes("ok"), None),
        (png_bytes(5000, 5000), None),  # width + height exactly 10000
        (png_bytes(5000, 5001), "over 10000"),
        (png_bytes(2000, 100), None),  # exactly 20 to 1
        (png_bytes(100, 2001), "20 to 1"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "unreadable"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "not a JPEG"),
        (b"<html>not an image</html>", "not a JPEG"),
        (b"", "not a JPEG"),
    ],
)
def test_photo_rules_at_their_edges(image: bytes, refused: str | None) -> None:
    photo = photo_upload(image)
    if refused is None:
        assert isinstance(photo, Upload) and photo.data == image
    else:
        assert isinstance(photo, str) and refused in photo


def test_photo_over_ten_megabytes_is_refused_before_reading_it() -> None:
    assert "over the 10485760" in str(photo_upload(b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024)))


@pytest.mark.parametrize(
    ("image", "expected"),
    [(png_bytes(4, 4), ("image/png", "photo.png")), (jpeg_bytes(), ("image/jpeg", "photo.jpg")),
     (GIF, ("image/gif", "photo.gif"))],
)
def test_upload_is_labelled_by_its_bytes(image: bytes, expected: tuple[str, str]) -> None:
    photo = photo_upload(image)
    assert isinstance(photo, Upload) and (photo.content_type, photo.filename) == expected
