"""Stopping and backlogs: SIGTERM stops in time whatever the outbox holds, a poll in flight
finishes its transaction, fresh news goes ahead of a backlog and old news expires unsent,
and a second daemon on one archive is refused."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.api import BotAPI
from bot.ratelimit import SendLimiter
from bot.sender import AlertSender
from monitor.app import App, open_app
from monitor.config import load_config
from monitor.daemon import poll_all_once, run_forever
from monitor.ops import faults
from monitor.ops.health import health_report
from monitor.ops.metrics import REGISTRY, refresh_from_archive
from storage.outbox import due_items, plan_alerts
from storage.timeutil import to_db, utcnow
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.server import LocalServer, serve
from tests.fakes.tme import FakeTelegram

STRIKES = {
    "Балаклія": "Харківщина: внаслідок ракетного удару по Балаклії зруйновано приватний будинок. Травмовано 3 людей.",
    "Нікополь": "Дніпропетровщина: внаслідок артилерійського обстрілу Нікополя пошкоджено будинок. Травмовано 2 людей.",
    "Дарниця": "Київ, Дарницький район: внаслідок атаки ударних БпЛА пошкоджено житловий будинок. Травмовано 1 людину.",
}


def _config(tmp_path: Path, tme_url: str, *, bot_url: str = "http://127.0.0.1:9", shutdown_timeout: float = 2) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[storage]
database = "archive.db"
[http]
timeout = 5
[scheduler]
jitter = 0
shutdown_timeout = {shutdown_timeout}
[health]
listen = ""
[bot]
api_url = "{bot_url}"
poll_timeout = 1
[[sources]]
type = "telegram_web"
channel = "dsns_telegram"
interval = 3600
first_pages = 1
base_url = "{tme_url}"
"""
    )
    return path


async def _stories(app: App, tme: FakeTelegram, ages: dict[str, timedelta]) -> dict[str, tuple[int, int]]:
    """One strike story per place, its post published `age` ago: place → (story id, post id)."""
    now = datetime.now(UTC)
    for place, age in sorted(ages.items(), key=lambda item: -item[1]):
        tme.post("dsns_telegram", STRIKES[place], date=now - age)
    assert all(o.ok for o in await poll_all_once(app))
    rows = await app.db.fetchall("SELECT text, story_id, id FROM posts WHERE story_id IS NOT NULL")
    found = {place: (row[1], row[2]) for place in ages for row in rows if STRIKES[place][:40] in row[0]}
    assert len(set(found.values())) == len(ages), found
    return found


async def _chats(app: App, ids: range) -> None:
    # Thousands of subscribers at once: executemany, not one command per chat.
    async with app.db.write() as conn:
        await conn.executemany(
            "INSERT INTO chats (chat_id, language, created_at) VALUES (?, 'uk', ?)",
            [(chat_id, to_db(utcnow())) for chat_id in ids],
        )


async def _plan(app: App, story: tuple[int, int], ids: range) -> None:
    async with app.db.write() as conn:
        assert await plan_alerts(conn, list(ids), story[0], story[1], 1) == len(ids)


@asynccontextmanager
async def _sending(app: App, fake: FakeBotAPI, server: LocalServer) -> AsyncIterator[None]:
    """The alert sender running for the block; it must stop within 3 s whatever is queued."""
    api = BotAPI(fake.token, server.url, limiter=SendLimiter(global_rate=50, per_chat_interval=0))
    sender = AlertSender(app.db, api, max_age=app.config.bot.alert_max_age)
    stop = asyncio.Event()
    run = asyncio.create_task(sender.run(asyncio.Event(), stop, idle=0.05))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(run, 3)
        await api.aclose()


async def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def _status(app: App) -> dict[str, int]:
    return {r[0]: r[1] for r in await app.db.fetchall("SELECT status, count(*) FROM outbox GROUP BY status")}


async def test_fresh_news_goes_ahead_of_a_backlog_and_old_news_expires(
    tme: FakeTelegram, tme_server: LocalServer, botapi: FakeBotAPI, bot_server: LocalServer, tmp_path: Path
) -> None:
    fake = botapi
    config = load_config(_config(tmp_path, tme_server.url))
    async with open_app(config) as app:
        stories = await _stories(app, tme, {
            "Нікополь": timedelta(days=30), "Дарниця": timedelta(hours=1), "Балаклія": timedelta(0),
        })
        await _chats(app, range(1, 12_003))
        await _plan(app, stories["Нікополь"], range(1, 2_001))  # months-old news: never to be sent
        await _plan(app, stories["Дарниця"], range(2_001, 12_001))  # a backlog of 10,000
        await _plan(app, stories["Балаклія"], range(12_001, 12_003))  # a fresh strike, queued last
        async with app.db.write() as conn:  # chat 12002 already has it: an edit, fresh too
            await conn.execute("UPDATE outbox SET message_id = 7, sent_revision = 1 WHERE chat_id = 12002")
        expired_before = REGISTRY.get_sample_value("dsns_alerts_expired_total") or 0.0

        async with _sending(app, botapi, bot_server):  # which stops in time, a backlog of 10,000 or not
            assert await asyncio.to_thread(fake.wait_sent, 5, 10)

        sent = fake.sent
        assert sent[0]["chat_id"] == 12_001 and sent[0]["method"] == "sendMessage"
        assert all(2_001 <= m["chat_id"] <= 12_001 for m in sent), "an expired or edit alert went before the backlog"
        status = await _status(app)
        assert status["expired"] == 2_000
        assert status["sent"] == len(sent)  # every send Telegram accepted is recorded: no resend later
        assert (REGISTRY.get_sample_value("dsns_alerts_expired_total") or 0.0) - expired_before == 2_000
        # What is left: first sends of the backlog, then the edit.
        due = await due_items(app.db, limit=20_000)
        assert len(due) == 10_001 - len(sent) + 1
        assert due[-1].chat_id == 12_002 and due[-1].message_id == 7
        assert all(item.message_id is None for item in due[:-1])


async def test_a_poll_in_flight_at_stop_finishes_its_transaction(tme: FakeTelegram, tmp_path: Path) -> None:
    tme.post("dsns_telegram", STRIKES["Балаклія"], date=datetime.now(UTC))
    with serve(tme.route) as server:
        tme.fail_next(1, status=200, delay=1.0)  # the page comes late: the poll is in flight at stop
        config = load_config(_config(tmp_path, server.url, shutdown_timeout=10))
        async with open_app(config) as app:
            stop = asyncio.Event()
            daemon = asyncio.create_task(run_forever(app, stop))
            await _until(lambda: bool(server.requests), 10)
            stop.set()
            await asyncio.wait_for(daemon, 12)
            posts = await app.db.fetchall("SELECT story_id FROM posts WHERE stream = 'dsns_telegram'")
            source = await app.db.fetchone("SELECT cursor, error_count FROM sources WHERE name = 'dsns_telegram'")
    assert len(posts) == 1 and posts[0][0] is not None  # stored and analysed in one transaction
    assert source is not None and source[0] and source[1] == 0  # and the cursor moved with them


async def test_an_outbox_that_stalls_is_a_fault_in_healthz(
    tme: FakeTelegram, tme_server: LocalServer, botapi: FakeBotAPI, bot_server: LocalServer, tmp_path: Path
) -> None:
    fake = botapi
    config = load_config(_config(tmp_path, tme_server.url))
    async with open_app(config) as app:
        stories = await _stories(app, tme, {"Балаклія": timedelta(0)})
        await _chats(app, range(1, 4))
        await _plan(app, stories["Балаклія"], range(1, 4))
        # Telegram unreachable for a quarter of an hour: the alerts wait for their next retry.
        async with app.db.write() as conn:
            await conn.execute(
                "UPDATE outbox SET queued_at = ?, next_attempt_at = ?",
                (to_db(utcnow() - timedelta(minutes=15)), to_db(utcnow() + timedelta(minutes=5))),
            )
        async with _sending(app, botapi, bot_server):
            await _until(lambda: "outbox" in faults.as_json())
            _, report = await health_report(app.db, config, started_at=utcnow())
            assert report["status"] == "degraded" and "outbox" in report["faults"]
            assert report["outbox"]["pending"] == 3 and report["outbox"]["oldest_pending_seconds"] >= 15 * 60
            await refresh_from_archive(app.db)
            assert REGISTRY.get_sample_value("dsns_outbox_depth") == 3
            assert (REGISTRY.get_sample_value("dsns_outbox_oldest_pending_seconds") or 0) >= 15 * 60

            async with app.db.write() as conn:  # Telegram is back
                await conn.execute("UPDATE outbox SET next_attempt_at = NULL")
            assert await asyncio.to_thread(fake.wait_sent, 3, 5)
            await _until(lambda: "outbox" not in faults.as_json())
        _, report = await health_report(app.db, config, started_at=utcnow())
    assert "outbox" not in report["faults"] and report["outbox"] == {"pending": 0, "oldest_pending_seconds": 0.0}


def test_sigterm_with_5000_queued_alerts_stops_in_time_and_a_second_daemon_is_refused(
    tme: FakeTelegram, tme_server: LocalServer, botapi: FakeBotAPI, bot_server: LocalServer, tmp_path: Path
) -> None:
    fake = botapi
    config_path = _config(tmp_path, tme_server.url, bot_url=bot_server.url, shutdown_timeout=2)
    config = load_config(config_path)

    async def queue() -> None:
        async with open_app(config) as app:
            stories = await _stories(app, tme, {"Балаклія": timedelta(0)})
            await _chats(app, range(1, 5_001))
            await _plan(app, stories["Балаклія"], range(1, 5_001))

    async def read_posts() -> int:
        async with open_app(config) as app:
            row = await app.db.fetchone("SELECT count(*) FROM posts")
        return int(row[0]) if row else 0

    asyncio.run(queue())
    env = {**os.environ, "DSNS_BOT_TOKEN": fake.token}
    env.pop("NOTIFY_SOCKET", None)
    cli = [sys.executable, "-m", "monitor.cli.main", "run", "--config", str(config_path)]
    daemon = subprocess.Popen(cli, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert fake.wait_sent(5, timeout=30), "the daemon never started sending"
        second = subprocess.run(cli, capture_output=True, text=True, env=env, timeout=30)
        assert second.returncode == 1
        message = second.stderr.strip()
        assert "\n" not in message and "archive.db is in use" in message and f"pid {daemon.pid}" in message
        # Readers (search, export, serve) open the archive as before while the daemon holds it.
        assert asyncio.run(read_posts()) == 1

        started = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        _, stderr = daemon.communicate(timeout=30)
        took = time.monotonic() - started
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    assert daemon.returncode == 0, stderr
    # shutdown_timeout (2 s) plus the interpreter's own exit, with room for a busy CI machine;
    # draining 5,000 at 25/s would take minutes.
    assert took < 2 + 6, f"took {took:.1f}s to stop"
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        status = dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
    assert status["pending"] > 4_000
    assert status["sent"] == len(fake.sent)  # sends in flight finished and were recorded
