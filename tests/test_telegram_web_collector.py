"""TelegramWebCollector over real HTTP against the fake t.me (tests/fakes/tme.py) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

import collectors.telegram_web as telegram_web
from collectors.base import (
    PreviewDisabledError,
    SourceHTTPError,
    SourceNetworkError,
    SourceParseError,
    SourceRateLimited,
)
from collectors.telegram_web import TelegramWebCollector
from tests.fakes.server import LocalServer, Reply, Request, serve
from tests.fakes.tme import FakeTelegram, jpeg_bytes

CHANNEL = "dsns_telegram"
START = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
STEP = timedelta(minutes=17)


@pytest.fixture
def fake() -> FakeTelegram:
    fake = FakeTelegram()
    fake.add_channel(CHANNEL, "ДСНС України")
    fake.fill(CHANNEL, 75, start=START, step=STEP)  # ids 1..75; pages: 56-75, 36-55, 16-35, 1-15
    return fake


@pytest.fixture
def server(fake: FakeTelegram) -> Iterator[LocalServer]:
    with serve(fake.route) as server:
        yield server


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


def collector(server: LocalServer, **options: int) -> TelegramWebCollector:
    return TelegramWebCollector("dsns", CHANNEL, base_url=server.url, **options)


def page_requests(server: LocalServer) -> list[str]:
    return [f"{r.path}?before={r.query['before']}" if "before" in r.query else r.path for r in server.requests]


def ids(posts: list) -> list[int]:
    return [int(p.external_id) for p in posts]


async def test_first_poll_reads_first_pages(server: LocalServer, client: httpx.AsyncClient) -> None:
    result = await collector(server, first_pages=3).poll(client, None)
    assert page_requests(server) == [f"/s/{CHANNEL}", f"/s/{CHANNEL}?before=56", f"/s/{CHANNEL}?before=36"]
    assert ids(result.posts) == list(range(16, 76))
    assert result.cursor == "75"
    assert result.posts[0].published_at == START + STEP * 15
    assert result.posts[0].stream == CHANNEL
    assert result.posts[0].url == f"{server.url}/{CHANNEL}/16"


async def test_poll_with_cursor_pages_back_until_the_gap_is_closed(
    server: LocalServer, client: httpx.AsyncClient
) -> None:
    result = await collector(server, first_pages=1).poll(client, "30")
    # 56-75 and 36-55 leave 31-35 unseen; the third page reaches 31.
    assert len(server.requests) == 3
    assert set(range(31, 76)) <= set(ids(result.posts))
    assert ids(result.posts) == sorted(set(ids(result.posts)))
    assert result.cursor == "75"


async def test_poll_at_the_cursor_rereads_recent_pages_and_sees_edits(
    fake: FakeTelegram, server: LocalServer, client: httpx.AsyncClient
) -> None:
    fake.edit(CHANNEL, 70, "Харківщина: уточнено — загинули 2 людини, ще 9 травмовані.")
    result = await collector(server, reread_pages=2).poll(client, "75")
    assert len(server.requests) == 2
    edited = [p for p in result.posts if p.external_id == "70"][0]
    assert edited.edited is True
    assert "загинули 2 людини" in edited.text
    assert result.cursor == "75"


async def test_poll_returns_new_posts_and_advances_the_cursor(
    fake: FakeTelegram, server: LocalServer, client: httpx.AsyncClient
) -> None:
    web = collector(server)
    first = await web.poll(client, None)
    fake.post(CHANNEL, "Одещина: нічна атака БпЛА, пошкоджено склад.", photos=("odesa_sklad",))
    fake.post(CHANNEL, "Сумщина: обстріл громади, постраждалих немає.")
    second = await web.poll(client, first.cursor)
    assert second.cursor == "77"
    assert ids(second.posts)[-2:] == [76, 77]
    assert second.posts[-2].photos == (f"{server.url}/img/odesa_sklad.jpg",)


async def test_poll_stops_at_max_pages(server: LocalServer, client: httpx.AsyncClient) -> None:
    result = await collector(server, max_pages=2).poll(client, "3")
    assert len(server.requests) == 2
    assert min(ids(result.posts)) == 36
    assert result.cursor == "75"


async def test_poll_stops_when_a_page_brings_nothing_new(
    fake: FakeTelegram, server: LocalServer, client: httpx.AsyncClient
) -> None:
    for message_id in range(1, 16):
        fake.delete(CHANNEL, message_id)
    result = await collector(server, first_pages=10).poll(client, None)
    # The fourth page (before=16) is "No posts found": paging ends there.
    assert len(server.requests) == 4
    assert ids(result.posts) == list(range(16, 76))


async def test_poll_does_not_page_past_the_first_message(
    fake: FakeTelegram, server: LocalServer, client: httpx.AsyncClient
) -> None:
    fake.add_channel("dsns_small")
    fake.fill("dsns_small", 12)
    result = await TelegramWebCollector("small", "dsns_small", base_url=server.url, first_pages=5).poll(client, None)
    assert ids(result.posts) == list(range(1, 13))
    assert len(server.requests) == 1


async def test_empty_channel_keeps_the_old_cursor(
    fake: FakeTelegram, server: LocalServer, client: httpx.AsyncClient
) -> None:
    fake.add_channel("dsns_empty")
    web = TelegramWebCollector("empty", "dsns_empty", base_url=server.url)
    result = await web.poll(client, "12")
    assert result.posts == []
    assert result.cursor == "12"
    assert len(server.requests) == 1


async def test_disabled_preview_raises_preview_disabled(
    fake: FakeTelegram, server: LocalServer, client: httpx.AsyncClient
) -> None:
    fake.disable_preview(CHANNEL)
    with pytest.raises(PreviewDisabledError) as info:
        await collector(server).poll(client, None)
    message = str(info.value)
    assert info.value.source == "dsns"
    assert f"@{CHANNEL}" in message and "disabled" in message and "telegram_mtproto" in message


async def test_unknown_channel_raises_preview_disabled(server: LocalServer, client: httpx.AsyncClient) -> None:
    with pytest.raises(PreviewDisabledError, match="dsns_nosuch"):
        await TelegramWebCollector("x", "dsns_nosuch", base_url=server.url).fetch_page(client)


async def test_redirect_to_another_preview_page_is_followed(fake: FakeTelegram, client: httpx.AsyncClient) -> None:
    def route(request: Request) -> Reply:
        if request.path == "/s/DSNS_Telegram":
            return Reply(301, b"", {"Location": f"/s/{CHANNEL}"})
        return fake.route(request)

    with serve(route) as server:
        posts = await TelegramWebCollector("dsns", "DSNS_Telegram", base_url=server.url).fetch_page(client)
    assert [p.id for p in posts] == list(range(56, 76))


async def test_redirect_loop_is_an_error(client: httpx.AsyncClient) -> None:
    with serve(lambda request: Reply(302, b"", {"Location": request.path})) as server:
        with pytest.raises(SourceHTTPError, match="redirects"):
            await collector(server).fetch_page(client)
        assert len(server.requests) == 4


async def test_server_error_raises_http_error(fake: FakeTelegram, server: LocalServer, client: httpx.AsyncClient) -> None:
    fake.fail_next(status=500)
    with pytest.raises(SourceHTTPError) as info:
        await collector(server).poll(client, None)
    assert info.value.status == 500
    assert not isinstance(info.value, SourceRateLimited)
    # The fault was used up: the next poll works.
    assert (await collector(server).poll(client, None)).cursor == "75"


async def test_rate_limit_carries_retry_after(fake: FakeTelegram, server: LocalServer, client: httpx.AsyncClient) -> None:
    fake.fail_next(status=429, retry_after=30)
    with pytest.raises(SourceRateLimited) as info:
        await collector(server).poll(client, None)
    assert info.value.retry_after == 30
    assert info.value.status == 429


async def test_garbage_html_raises_parse_error(fake: FakeTelegram, server: LocalServer, client: httpx.AsyncClient) -> None:
    fake.fail_next(garbage=True)
    with pytest.raises(SourceParseError, match="not a t.me/s page"):
        await collector(server).poll(client, None)


async def test_slow_reply_times_out_as_network_error(fake: FakeTelegram, server: LocalServer) -> None:
    fake.fail_next(status=200, delay=1.0)
    async with httpx.AsyncClient(timeout=0.2) as slow_client:
        with pytest.raises(SourceNetworkError, match="timed out"):
            await collector(server).fetch_page(slow_client)


async def test_backfill_stops_at_since(server: LocalServer, client: httpx.AsyncClient) -> None:
    since = START + STEP * 39  # the date of post 40
    pages = [page async for page in collector(server).backfill(client, since=since)]
    assert [ids(page) for page in pages] == [list(range(56, 76)), list(range(40, 56))]
    assert len(server.requests) == 2
    assert all(p.published_at is not None and p.published_at >= since for page in pages for p in page)


async def test_backfill_reaches_the_start_of_the_channel(server: LocalServer, client: httpx.AsyncClient) -> None:
    pages = [page async for page in collector(server).backfill(client)]
    assert sorted(i for page in pages for i in ids(page)) == list(range(1, 76))
    assert len(server.requests) == 4


async def test_backfill_parses_through_the_runner_it_is_given(server: LocalServer, client: httpx.AsyncClient) -> None:
    """A batch command's worker processes parse the pages (`AnalysisPool.run`): the same pages."""
    calls: list[str] = []

    async def run(function: Callable[..., Any], *args: object) -> Any:
        calls.append(function.__name__)
        return await asyncio.to_thread(function, *args)

    through = [page async for page in collector(server).backfill(client, run=run)]
    assert through == [page async for page in collector(server).backfill(client)]
    assert calls == ["parse_body"] * 4


async def test_backfill_respects_the_page_limit(server: LocalServer, client: httpx.AsyncClient) -> None:
    pages = [page async for page in collector(server).backfill(client, pages=2)]
    assert len(pages) == 2 and len(server.requests) == 2


async def test_photos_are_served_as_jpeg(server: LocalServer, client: httpx.AsyncClient) -> None:
    posts = await collector(server).fetch_page(client)
    url = next(p.photos[0] for p in posts if p.photos)
    response = await client.get(url)
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content.startswith(b"\xff\xd8") and response.content.endswith(b"\xff\xd9")
    assert jpeg_bytes("a") != jpeg_bytes("b")


async def test_parsing_runs_off_the_event_loop(
    server: LocalServer, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[threading.Thread] = []
    real_parse = telegram_web.parse_page

    def spy(*args: object, **kwargs: object) -> list[telegram_web.WebPost]:
        threads.append(threading.current_thread())
        return real_parse(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(telegram_web, "parse_page", spy)
    await collector(server).fetch_page(client)
    assert threads and threads[0] is not threading.main_thread()


@pytest.mark.parametrize("bad", ["", "a b", "t.me/dsns", "x" * 70])
def test_bad_channel_name_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a Telegram channel username"):
        TelegramWebCollector("dsns", bad)


def test_at_sign_is_accepted_and_page_urls_are_built() -> None:
    web = TelegramWebCollector("dsns", "@dsns_telegram", base_url="https://t.me/")
    assert web.page_url() == "https://t.me/s/dsns_telegram"
    assert web.page_url(before=120) == "https://t.me/s/dsns_telegram?before=120"
