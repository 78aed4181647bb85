"""`serve`'s Datasette in-process (its own ASGI client): what a researcher reads first, names
instead of codes, photos as thumbnails, and the bot's tables still out of reach."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from research.serve import build_datasette, build_research_db, guarded
from storage.database import Database
from storage.subscriptions import subscribe, upsert_chat
from tests.test_research_export import BALAKLIIA, KYIV, build_archive

SUBSCRIBER = 735_102_468


async def _prepare(archive: Path, research: Path) -> None:
    db = await Database.open(archive)
    try:
        async with db.write() as conn:
            await upsert_chat(conn, SUBSCRIBER, "uk")
            await subscribe(conn, SUBSCRIBER, "UA-63", "Балаклія", "settlement")
        await build_research_db(db, research)
    finally:
        await db.close()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    folder = tmp_path_factory.mktemp("datasette")
    archive = build_archive(folder)
    asyncio.run(_prepare(archive, folder / "research.db"))
    yield archive, folder / "research.db"


@pytest.fixture
async def client(files: tuple[Path, Path]) -> AsyncIterator[httpx.AsyncClient]:
    archive, research = files
    with guarded(80, archive):  # Datasette's client asks for http://localhost
        app = build_datasette(archive, research).app()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://localhost") as http:
            yield http


async def rows(client: httpx.AsyncClient, path: str) -> list[dict]:
    response = await client.get(path, params={"_shape": "array", "_size": "max"})
    assert response.status_code == 200, response.text
    return response.json()


async def test_home_page_opens_on_the_archive_and_links_the_licences(client: httpx.AsyncClient) -> None:
    home = (await client.get("/")).text
    assert home.index('href="/archive"') < home.index('href="/research"') and "_memory" not in home
    assert 'href="/-/licences"' in home
    assert "OpenStreetMap contributors" not in home  # the attribution is one click away, not the page
    licences = await client.get("/-/licences")
    assert licences.status_code == 200 and "OpenStreetMap" in licences.text


async def test_posts_lead_with_what_a_reader_needs(client: httpx.AsyncClient) -> None:
    table = (await client.get("/archive/posts.json", params={"_size": "1"})).json()
    assert table["columns"][:6] == ["id", "published_at", "stream", "title", "text", "url"]
    assert {"text_hash", "search_key"} <= set(table["columns"])  # the rest still there, after


async def test_names_instead_of_codes(client: httpx.AsyncClient) -> None:
    posts = {r["text"]: r for r in await rows(client, "/archive/posts_view.json")}
    strike = posts[BALAKLIIA]
    assert strike["oblast_names"] == "Kharkiv" and "Балаклія" in strike["place_names"].split(", ")
    assert strike["is_strike"] == 1 and strike["killed"] == 1 and strike["injured"] == 8
    stories = {r["first_text"]: r for r in await rows(client, "/archive/stories_view.json")}
    assert stories[KYIV]["oblast_names"] == "Kyiv" and stories[KYIV]["oblasts"] == '["UA-30"]'
    snapshot = await rows(client, "/research/stories.json")
    kharkiv = next(r for r in snapshot if r["oblasts"] == '["UA-63"]')
    assert kharkiv["oblast_names"] == "Kharkiv" and "Балаклія" in kharkiv["place_names"]
    events = await rows(client, "/research/events.json")
    assert {e["admin1"] for e in events} >= {"Kharkiv", "Kyiv City"}


async def test_photos_show_as_thumbnails(client: httpx.AsyncClient) -> None:
    kyiv = next(r for r in await rows(client, "/archive/posts_view.json") if r["text"] == KYIV)
    hashes = kyiv["photos"].split()
    assert len(hashes) == 2
    page = (await client.get("/archive/posts_view", params={"id": kyiv["id"]})).text
    media = (await client.get("/archive/media")).text
    for sha in hashes:
        assert f'<img src="/-/photo/{sha}"' in page and f'<img src="/-/photo/{sha}"' in media
        photo = await client.get(f"/-/photo/{sha}")
        assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
        assert hashlib.sha256(photo.content).hexdigest() == sha
    assert (await client.get("/-/photo/" + "0" * 64)).status_code == 404


async def test_the_bot_tables_stay_out_of_reach(client: httpx.AsyncClient) -> None:
    assert (await client.get("/archive/chats.json")).status_code in (403, 404)
    refused = await client.get("/archive.json", params={"sql": "select * from subscriptions", "_shape": "array"})
    assert refused.status_code in (400, 403) and str(SUBSCRIBER) not in refused.text
    rewritten = await client.get("/archive.json", params={"sql": "select * from posts_view where exists "
                                                          "(select 1 from chats)", "_shape": "array"})
    assert rewritten.status_code in (400, 403) and str(SUBSCRIBER) not in rewritten.text
    assert (await client.get("/archive/posts.json", headers={"host": "evil.example"})).status_code == 421
