"""Security checks: admin-only commands, safe media downloads, escaped alerts, private files."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.commands import CommandContext, Reply, handle_update
from bot.format import AlertContent, format_alert
from collectors.base import SourceError
from collectors.http import AddressPolicy, is_public_address
from collectors.media import download_photo
from collectors.telegram_mtproto.credentials import prepare_session_file
from monitor.app import open_app
from monitor.config import load_config
from monitor.daemon import poll_all_once
from research.serve import authorize
from storage.database import Database
from tests.fakes.botapi import check_html
from tests.fakes.feeds import FakeFeeds
from tests.fakes.server import LocalServer, Request, serve
from tests.fakes.server import Reply as HTTPReply
from tests.fakes.tme import FakeTelegram, jpeg_bytes


async def _stats(conn: object, lang: str) -> str:
    return "STATS: secret figures"


async def test_admin_commands_only_for_configured_admins(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    ctx = CommandContext(admins={900}, stats_text=_stats)
    try:
        for chat, expect in ((111, "лише для адміністраторів"), (900, "STATS: secret figures")):
            update = {"update_id": 1, "message": {"message_id": 1, "text": "/stats", "chat": {"id": chat, "type": "private"},
                                                  "from": {"id": chat, "language_code": "uk"}}}
            async with db.write() as conn:
                (reply,) = await handle_update(conn, update, ctx)
            assert isinstance(reply, Reply) and expect in reply.text
        # An admin's id in a *group* chat does not show the figures to the group.
        group = {"update_id": 2, "message": {"message_id": 2, "text": "/stats", "chat": {"id": -100, "type": "group"},
                                             "from": {"id": 900}}}
        async with db.write() as conn:
            (reply,) = await handle_update(conn, group, ctx)
        assert isinstance(reply, Reply) and "secret" not in reply.text
    finally:
        await db.close()


@pytest.mark.parametrize(
    ("address", "public"),
    [("8.8.8.8", True), ("2a00:1450:4001::1", True), ("127.0.0.1", False), ("10.1.2.3", False),
     ("192.168.0.1", False), ("172.16.5.5", False), ("169.254.169.254", False), ("100.64.0.1", False),
     ("0.0.0.0", False), ("::1", False), ("fe80::1", False), ("fc00::1", False), ("::ffff:127.0.0.1", False),
     ("224.0.0.1", False)],
)
def test_public_address_classification(address: str, public: bool) -> None:
    assert is_public_address(address) is public


@pytest.fixture
def image_server() -> Iterator[LocalServer]:
    def route(request: Request) -> HTTPReply:
        if request.path == "/big.jpg":
            return HTTPReply(body=b"\xff\xd8\xff" + b"0" * 100_000, content_type="image/jpeg")
        return HTTPReply(body=jpeg_bytes(request.path), content_type="image/jpeg")

    with serve(route) as server:
        yield server


@pytest.fixture
def redirector(image_server: LocalServer) -> Iterator[LocalServer]:
    """A 'public' host (trusted in these tests) that redirects to another, untrusted one."""
    with serve(lambda r: HTTPReply(302, b"", {"Location": f"{image_server.url}/x.jpg"})) as server:
        yield server


async def test_media_refuses_non_http_and_non_public_hosts(image_server: LocalServer, redirector: LocalServer) -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        for url in ("file:///etc/passwd", "ftp://127.0.0.1/x.jpg", "gopher://x/", "http:///nohost"):
            with pytest.raises(SourceError, match="only http"):
                await download_photo(client, url, source="s", max_bytes=10_000)
        for url in (f"{image_server.url}/x.jpg", "http://169.254.169.254/latest/meta-data", "http://[::1]:1/x.jpg"):
            with pytest.raises(SourceError, match="non-public address.*allow_private_media"):
                await download_photo(client, url, source="s", max_bytes=10_000)
        # A trusted host may not bounce us to an untrusted private one.
        trusting_redirector = AddressPolicy.trusting([redirector.url])
        with pytest.raises(SourceError, match="non-public address"):
            await download_photo(client, f"{redirector.url}/a.jpg", source="s", max_bytes=10_000, policy=trusting_redirector)
        assert image_server.requests == []  # refused before any byte was sent its way
        # Trusting both, or allowing private addresses, fetches; the size cap still holds.
        both = AddressPolicy.trusting([redirector.url, image_server.url])
        photo = await download_photo(client, f"{redirector.url}/a.jpg", source="s", max_bytes=10_000, policy=both)
        assert photo.mime == "image/jpeg"
        allow = AddressPolicy(allow_private=True)
        with pytest.raises(SourceError, match="larger than 10000 bytes"):
            await download_photo(client, f"{image_server.url}/big.jpg", source="s", max_bytes=10_000, policy=allow)


async def test_pipeline_keeps_photos_of_configured_hosts_and_refuses_others(
    tme: FakeTelegram, feeds: FakeFeeds, config_file: Path, image_server: LocalServer
) -> None:
    # The fake t.me serves its own photos (its host is a configured source: trusted); a feed
    # entry pointing at another local server is refused and the refusal recorded for the operator.
    tme.post("dsns_telegram", "Сумщина: обстріл.", photos=("own",))
    feeds.set_body("news_uk.xml", (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>n</title>'
        '<item><title>Обстріл</title><link>https://news.example.org/1</link><guid>g1</guid>'
        f'<enclosure url="{image_server.url}/evil.jpg" type="image/jpeg"/></item></channel></rss>'
    ).encode())
    async with open_app(load_config(config_file)) as app:
        await poll_all_once(app)
        rows = await app.db.fetchall("SELECT url, sha256, last_error FROM post_media")
    own = [r for r in rows if "/img/own.jpg" in r["url"]]
    assert own and own[0]["sha256"] is not None
    evil = [r for r in rows if image_server.url in r["url"]]
    assert evil and all(r["sha256"] is None and "non-public" in r["last_error"] for r in evil)
    assert image_server.requests == []


def test_alert_html_is_escaped() -> None:
    hostile = '<script>alert(1)</script> & <b>bold</b> "quoted" <a href="javascript:x">'
    alert = AlertContent(
        published_at=datetime(2024, 5, 1, 6, 0, tzinfo=UTC), source_url='https://t.me/x/1"><b>', source_name="<i>dsns",
        excerpt=hostile, places=["<Балаклія>"], oblasts=["Харківська & область"], weapons=["missile"],
        killed=1, injured=2, children_killed=None, children_injured=None, has_photo=True,
    )
    for lang in ("uk", "en"):
        formatted = format_alert(alert, lang=lang)
        for markup in (formatted.text, formatted.caption or ""):
            error, visible = check_html(markup)
            assert error is None, (error, markup)
            assert "<script>" not in markup and "javascript:x" not in markup.replace("&quot;", '"').split('href="')[0]
        assert "<script>alert(1)</script>" in check_html(formatted.text)[1]  # shown as text, not markup


async def test_archive_and_session_files_are_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)  # a typical, permissive umask
    try:
        db = await Database.open(tmp_path / "data" / "archive.db")
        async with db.write() as conn:
            await conn.execute("INSERT INTO bot_state (key, value) VALUES ('k', 'v')")
        for name in ("archive.db", "archive.db-wal", "archive.db-shm"):
            path = tmp_path / "data" / name
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, (name, oct(path.stat().st_mode))
        await db.close()
        session = prepare_session_file(tmp_path / "tg" / "account")
        assert session.name == "account.session"
        assert stat.S_IMODE(session.stat().st_mode) == 0o600
        assert stat.S_IMODE(session.parent.stat().st_mode) == 0o700
    finally:
        os.umask(old)


async def test_an_existing_loose_archive_is_tightened_on_open(tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    db = await Database.open(path)
    async with db.write() as conn:
        await conn.execute("INSERT INTO bot_state (key, value) VALUES ('k', 'v')")
    # Copied in by hand, or made by an older version under a permissive umask.
    for name in ("archive.db", "archive.db-wal", "archive.db-shm"):
        (tmp_path / name).chmod(0o644)
    reopened = await Database.open(path, read_only=True)
    try:
        for name in ("archive.db", "archive.db-wal", "archive.db-shm"):
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
    finally:
        await reopened.close()
        await db.close()


async def test_served_sql_cannot_read_the_bot_tables(tmp_path: Path) -> None:
    # The authorizer `serve` gives every Datasette connection, on a real archive; the subprocess
    # test in test_research runs the same attacks over HTTP.
    db = await Database.open(tmp_path / "a.db")
    await db.close()
    conn = sqlite3.connect(f"file:{tmp_path / 'a.db'}?mode=ro", uri=True)
    conn.set_authorizer(authorize)
    try:
        assert conn.execute("SELECT count(*) FROM posts").fetchone() == (0,)
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'chats'").fetchone() == ("chats",)
        for sql in ("SELECT * FROM chats", "SELECT count(*) FROM Subscriptions", "SELECT 1 FROM main.outbox",
                    "SELECT value FROM bot_state", "SELECT * FROM posts WHERE id IN (SELECT chat_id FROM chats)",
                    "WITH c AS (SELECT * FROM chats) SELECT * FROM c", "SELECT * FROM dbstat",
                    f"ATTACH DATABASE '{tmp_path / 'a.db'}' AS other"):
            with pytest.raises(sqlite3.DatabaseError, match="not authorized|prohibited"):
                conn.execute(sql)
    finally:
        conn.close()


def test_a_killed_serve_leaves_nothing_listening(config_file: Path) -> None:
    async def create_archive() -> None:  # serve never creates one
        await (await Database.open(load_config(config_file).storage.database)).close()

    asyncio.run(create_archive())
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli.main", "serve", "--config", str(config_file), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=5).close()
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        # Datasette answers from inside `serve` itself: no child of it could be orphaned.
        children = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _parent_of(p) == proc.pid]
        assert children == []
    finally:
        proc.kill()
        proc.wait(timeout=10)
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def _parent_of(proc_dir: Path) -> int | None:
    try:
        stat_line = (proc_dir / "stat").read_text()
    except OSError:
        return None
    return int(stat_line.rsplit(")", 1)[1].split()[1])
