"""Photos download in their own worker: a stalling photo host never holds a source's next poll."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from monitor.app import open_app
from monitor.config import load_config
from monitor.ops import metrics
from tests.fakes.feeds import FakeFeeds


@dataclass
class Silent:
    """A host that accepts connections, reads the request and never answers."""

    url: str = ""
    open_now: int = 0
    most_open: int = 0
    accepted: int = 0
    writers: list[asyncio.StreamWriter] = field(default_factory=list)


@asynccontextmanager
async def silent_host() -> AsyncIterator[Silent]:
    silent = Silent()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        silent.accepted += 1
        silent.open_now += 1
        silent.most_open = max(silent.most_open, silent.open_now)
        silent.writers.append(writer)
        try:
            await reader.read()  # until the client gives up and hangs up
        finally:
            silent.open_now -= 1

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    silent.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        yield silent
    finally:
        server.close()
        for writer in silent.writers:
            writer.close()
        await server.wait_closed()


def feed(*entries: tuple[str, str | None]) -> bytes:
    items = "".join(
        f"<item><title>Обстріл {guid}</title><link>https://news.example.org/{guid}</link><guid>{guid}</guid>"
        + (f'<enclosure url="{photo}" type="image/jpeg"/>' if photo else "")
        + "</item>"
        for guid, photo in entries
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>n</title>{items}</channel></rss>'.encode()


async def until(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


async def test_a_stalling_photo_host_does_not_delay_the_next_poll(feeds: FakeFeeds, config_file: Path) -> None:
    budget = 1.0
    config_file.write_text(config_file.read_text().replace(
        'database = "archive.db"',
        f'database = "archive.db"\nallow_private_media = true\nmedia_concurrency = 2\nmedia_timeout = {budget}',
    ))
    failures_before = metrics.REGISTRY.get_sample_value("dsns_photo_errors_total") or 0.0
    async with silent_host() as silent, open_app(load_config(config_file)) as app:
        source = app.config.source("news_uk")
        stalled = [(f"g{n}", f"{silent.url}/p{n}.jpg") for n in range(3)]
        feeds.set_body("news_uk.xml", feed(*stalled))
        first = await app.pipeline.poll(source, force=True)
        assert first.ok and first.new == 3
        await until(lambda: silent.accepted == 2)  # two downloads hang: the worker's two slots

        feeds.set_body("news_uk.xml", feed(*stalled, ("g3", None)))
        second = await app.pipeline.poll(source, force=True)
        assert second.ok and second.new == 1  # stored on the next poll, the downloads still hanging
        assert app.pipeline.photos.downloading == 2
        untried = await app.db.fetchone("SELECT count(*) FROM post_media WHERE attempts = 0")
        assert untried[0] == 3

        await app.pipeline.photos.drain()  # what `run --once` does before it exits
        slots = await app.db.fetchall("SELECT sha256, attempts, last_error FROM post_media")
    assert len(slots) == 3
    assert all(s["sha256"] is None and s["attempts"] == 1 for s in slots)
    assert all(f"longer than {budget:g}s" in s["last_error"] for s in slots)
    assert (silent.accepted, silent.most_open) == (3, 2)  # the third waited for a free slot
    assert metrics.REGISTRY.get_sample_value("dsns_photo_errors_total") == failures_before + 3

