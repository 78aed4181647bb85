"""The archive and the process's descriptors as the daemon watches them: a corrupt file errors
out at once, damage in the middle is found by quick_check, a full disk and a lack of descriptors
show in /healthz and clear when they pass."""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from collectors.base import RawPost
from monitor.app import App, open_app
from monitor.config import load_config
from monitor.ops import faults
from monitor.ops.resources import runs_out_of_descriptors
from monitor.ops.services import OpsServices
from storage.database import Database
from storage.errors import StorageError
from storage.posts import upsert_posts
from storage.sources import ensure_source
from tests.cli_run import dsns_process
from tests.fakes.tme import FakeTelegram


@asynccontextmanager
async def daemon_ops(config_file: Path) -> AsyncIterator[tuple[App, OpsServices, str]]:
    """The daemon's operator services (health server, archive and descriptor checks) on an open app."""
    faults.reset()
    async with open_app(load_config(config_file)) as app:
        scheduler = AsyncIOScheduler(event_loop=asyncio.get_running_loop())
        scheduler.start()
        ops = OpsServices(app, scheduler)
        await ops.start()
        assert ops.health is not None and ops.health.port
        for _ in range(200):  # the start-up quick_check runs in the background
            if ops.archive.checked_at is not None:
                break
            await asyncio.sleep(0.02)
        try:
            yield app, ops, f"http://127.0.0.1:{ops.health.port}/healthz"
        finally:
            scheduler.shutdown(wait=False)
            await ops.close()


async def healthz(url: str) -> tuple[int, dict]:
    async with httpx.AsyncClient() as client:
        reply = await client.get(url)
    return reply.status_code, reply.json()


def _posts(count: int, start: int = 1) -> list[RawPost]:
    text = "Харківщина: внаслідок удару пошкоджено будинки, тривають аварійно-рятувальні роботи. " * 6
    return [RawPost("dsns_telegram", str(n), f"https://t.me/dsns_telegram/{n}", datetime(2024, 5, 1, tzinfo=UTC),
                    f"{n}: {text}") for n in range(start, start + count)]


def test_a_file_that_is_no_database_is_one_line_and_a_prompt_exit(config_file: Path) -> None:
    (config_file.parent / "archive.db").write_bytes(os.urandom(3) * 20_000)
    # It used to print the error and then hang for ever on the connection's thread; the timeout
    # leaves room for the imports of a loaded CI machine.
    result = dsns_process("run", "--once", "--config", str(config_file), timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"dsns-monitor: archive error: {config_file.parent / 'archive.db'}: cannot open the archive: file is not a database"
    ]


async def test_a_failing_open_leaves_no_connection_thread(tmp_path: Path) -> None:
    (tmp_path / "bad.db").write_bytes(b"\x01" * 8192)
    before = set(threading.enumerate())
    with pytest.raises(StorageError, match="file is not a database"):
        await Database.open(tmp_path / "bad.db")
    for _ in range(200):  # the closed connection's thread ends just after close() returns
        if set(threading.enumerate()) <= before:
            break
        await asyncio.sleep(0.01)
    assert set(threading.enumerate()) <= before


async def test_damage_in_the_middle_of_the_archive_is_found_at_start(config_file: Path) -> None:
    path = config_file.parent / "archive.db"
    db = await Database.open(path)
    source = await ensure_source(db, "dsns_telegram", "telegram_web", None)
    async with db.write() as conn:
        await upsert_posts(conn, source.id, _posts(400))
    await db.close()  # the last connection checkpoints the WAL into the file
    page_size = int.from_bytes(path.read_bytes()[16:18], "big")
    pages = path.stat().st_size // page_size
    assert pages > 50
    with path.open("r+b") as file:  # a few pages in the middle turn to noise; page 1 stays sound
        file.seek(pages // 2 * page_size)
        file.write(os.urandom(3 * page_size))
    async with daemon_ops(config_file) as (_app, _ops, url):
        status, body = await healthz(url)
    assert status == 503 and body["status"] == "unhealthy"
    assert body["faults"]["archive"]["critical"] is True
    assert "quick_check found damage" in body["faults"]["archive"]["message"]


async def test_a_full_disk_shows_in_healthz_and_clears_on_the_next_commit(config_file: Path) -> None:
    async with daemon_ops(config_file) as (app, _ops, url):
        assert faults.active() == []
        source = await ensure_source(app.db, "dsns_telegram", "telegram_web", None)
        async with app.db.write() as conn:
            # SQLite's own cap on the file's size, at its current size: the next page is a full disk.
            pages = (await (await conn.execute("PRAGMA page_count")).fetchone())[0]
            await conn.execute(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(Exception, match="database or disk is full"):
            async with app.db.write() as conn:
                await upsert_posts(conn, source.id, _posts(200))
        status, body = await healthz(url)
        assert status == 503 and "database or disk is full" in body["faults"]["archive"]["message"]
        async with app.db.write() as conn:
            await conn.execute("PRAGMA max_page_count = 1073741823")
        async with app.db.write() as conn:
            assert len(await upsert_posts(conn, source.id, _posts(200))) == 200
        status, body = await healthz(url)
        assert status == 200 and "archive" not in body["faults"]


async def test_running_out_of_descriptors_shows_in_healthz_and_clears(config_file: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    async with daemon_ops(config_file) as (_app, ops, url):
        client = socket.socket()  # made while there is room; connects when there is none
        with socket.socket() as probe:
            lowest_free = probe.fileno()  # every descriptor below it is in use
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free + 1, hard))
            ops.descriptors.check()  # ≥ 90 % of the limit in use
            assert "RLIMIT_NOFILE" in faults.as_json()["descriptors"]["message"]
            resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))
            with pytest.raises(OSError) as refused:
                socket.socket()
            assert runs_out_of_descriptors(refused.value)
            # The health server's accept() fails for want of a descriptor: the loop reports it.
            client.setblocking(False)
            try:
                client.connect(("127.0.0.1", int(url.split(":")[2].split("/")[0])))
            except BlockingIOError:
                pass
            for _ in range(100):
                if "out of file descriptors" in faults.as_json().get("descriptors", {}).get("message", ""):
                    break
                await asyncio.sleep(0.02)
            fault = faults.as_json()["descriptors"]
            assert "out of file descriptors" in fault["message"] and fault["critical"] is True
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
            client.close()
        status, body = await healthz(url)
        assert status == 503 and "descriptors" in body["faults"]
        async with httpx.AsyncClient() as client:
            metrics = (await client.get(url.replace("/healthz", "/metrics"))).text
        assert 'dsns_component_fault{component="descriptors"} 1.0' in metrics and "process_max_fds" in metrics
        ops.descriptors.check()  # room again, but EMFILE was seen since the last check: kept
        assert "descriptors" in faults.as_json()
        ops.descriptors.every = 0.0
        ops.descriptors.check()
        status, body = await healthz(url)
        assert status == 200 and "descriptors" not in body["faults"]


async def test_a_poll_that_runs_out_of_descriptors_reports_it(config_file: Path) -> None:
    faults.reset()
    async with open_app(load_config(config_file)) as app:
        source = next(s for s in app.config.sources if s.source_name == "dsns_telegram")
        await app.pipeline.source_state(source)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        with socket.socket() as probe:
            lowest_free = probe.fileno()
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))
            outcome = await app.pipeline.poll(source, force=True)  # no socket for the fetch
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert not outcome.ok
    fault = faults.as_json()["descriptors"]
    assert fault["critical"] is True and "poll of dsns_telegram" in fault["message"]


async def test_a_poll_on_a_broken_archive_is_a_failure_not_a_crash(tme: FakeTelegram, config_file: Path) -> None:
    for n in range(3):  # long enough to need pages the archive does not have (nor has free)
        tme.post("dsns_telegram", f"Повідомлення {n}: " + "рятувальники ДСНС працюють на місці. " * 400)
    async with open_app(load_config(config_file)) as app:
        web, feed = app.config.sources[0], app.config.sources[1]
        await ensure_source(app.db, web.source_name, web.type, web.url)
        async with app.db.write() as conn:  # the disk is full from the next page on
            pages = (await (await conn.execute("PRAGMA page_count")).fetchone())[0]
            await conn.execute(f"PRAGMA max_page_count = {pages}")
        full = await app.pipeline.poll(web, force=True)  # the source's row is there, its posts do not fit
        async with app.db.write() as conn:
            await conn.execute("PRAGMA max_page_count = 1073741823")
        assert (await app.pipeline.poll(web, force=True)).new == 3  # room again: the next poll stores
        async with app.db.write() as conn:  # as if the file turned read-only (for good: no write can undo it)
            await conn.execute("PRAGMA query_only = 1")
        read_only = await app.pipeline.poll(feed, force=True)  # not even its row can be created
    assert not full.ok and full.error is not None and "database or disk is full" in full.error
    assert not read_only.ok and read_only.error is not None and "readonly" in read_only.error
    assert read_only.error.startswith("archive error: ")  # not even the failure could be recorded
