"""Redirects of feeds and t.me pages go only where the address policy allows, never https → http."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from collectors.base import SourceError
from collectors.http import AddressPolicy, fetch
from collectors.telegram_web import TelegramWebCollector
from monitor.app import open_app
from monitor.config import load_config
from tests.fakes.feeds import FIXTURES
from tests.fakes.server import LocalServer, Reply, Request, serve


@pytest.fixture
def internal() -> Iterator[LocalServer]:
    """A service on the machine that is no configured source (an admin panel, a metadata API)."""
    body = (FIXTURES / "news_uk.xml").read_bytes()
    with serve(lambda r: Reply(body=body, content_type="application/rss+xml")) as server:
        yield server


async def test_feed_redirected_to_a_local_service_fails_and_archives_nothing(
    tmp_path: Path, internal: LocalServer
) -> None:
    def route(request: Request) -> Reply:
        return Reply(302, b"", {"Location": f"{internal.url}/feeds/news_uk.xml"})

    with serve(route) as feed:
        path = tmp_path / "config.toml"
        path.write_text(
            f'[storage]\ndatabase = "a.db"\n[http]\ntimeout = 3\n'
            f'[[sources]]\ntype = "rss"\nname = "news"\nurl = "{feed.url}/feed.xml"\n',
            encoding="utf-8",
        )
        async with open_app(load_config(path)) as app:
            outcome = await app.pipeline.poll(app.config.source("news"), force=True)
            posts = await app.db.fetchone("SELECT count(*) FROM posts")
            row = await app.db.fetchone("SELECT error_count, last_error FROM sources WHERE name = 'news'")
    assert not outcome.ok and outcome.error is not None
    assert f"refusing to fetch {internal.url}/feeds/news_uk.xml" in outcome.error
    assert "not a configured source" in outcome.error
    assert posts[0] == 0 and row["error_count"] == 1 and "non-public" in row["last_error"]
    assert internal.requests == []


async def test_redirect_between_configured_hosts_is_followed(internal: LocalServer) -> None:
    with serve(lambda r: Reply(301, b"", {"Location": f"{internal.url}/moved.xml"})) as feed:
        policy = AddressPolicy.trusting([feed.url, internal.url])
        async with httpx.AsyncClient(timeout=3) as client:
            response = await fetch(client, f"{feed.url}/feed.xml", source="news", policy=policy)
    assert response.status == 200 and response.url == f"{internal.url}/moved.xml"


async def test_tme_page_redirected_to_another_local_host_is_refused(internal: LocalServer) -> None:
    with serve(lambda r: Reply(302, b"", {"Location": f"{internal.url}/s/dsns"})) as tme:
        collector = TelegramWebCollector("dsns", "dsns", tme.url)
        async with httpx.AsyncClient(timeout=3) as client:
            with pytest.raises(SourceError, match="non-public address"):
                await collector.fetch_page(client)
    assert internal.requests == []


@pytest.mark.parametrize("collector", ["feed", "tme"])
async def test_https_to_http_downgrade_is_refused(collector: str) -> None:
    # No TLS server here: httpx's transport stands in for the network (the code under test is ours).
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.scheme == "https":
            return httpx.Response(302, headers={"Location": f"http://news.example.org{request.url.path}"})
        return httpx.Response(200, text="<rss/>")

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer), timeout=3) as client:
        with pytest.raises(SourceError, match="a downgrade from https is refused"):
            if collector == "feed":
                await fetch(client, "https://news.example.org/s/feed.xml", source="news")
            else:
                await TelegramWebCollector("dsns", "dsns", "https://news.example.org").fetch_page(client)
