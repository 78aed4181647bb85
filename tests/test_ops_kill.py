"""kill -9 at random moments while posts arrive and alerts go out: nothing lost, nothing doubled.

A real daemon process polls a fake t.me where new strike reports keep appearing and alerts
subscribers through a fake Bot API. It is killed with SIGKILL several times, at random
moments, then run once more until the outbox is empty. Then every post is in the archive once
and every (chat, story) was sent once.

One duplicate is unavoidable by design and is told apart: Telegram has no idempotency key, so
if the process dies after Telegram accepted a message but before the archive recorded it, the
restart sends it again. The test allows a duplicate only when its first copy was accepted in
the last moments before a kill; any other duplicate fails the test.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.fakes.botapi import FakeBotAPI
from tests.fakes.server import LocalServer
from tests.fakes.tme import FakeTelegram

KILLS = 4
# Time between Telegram accepting a send and the archive recording it, with margin for a
# loaded CI machine: a kill inside this window may legitimately cause one resend.
SEND_WINDOW = 0.5
SEND_METHODS = {"sendMessage", "sendPhoto"}
CHATS = {101: "/subscribe Харківщина", 102: "/subscribe Київ", 103: "/subscribe Дніпропетровщина"}
# Distinct places make distinct stories (first alerts); a place coming round again updates
# its story (an edit of the alert). Grass fires are not strikes and alert nobody.
PLACES = (
    ("Харківщина", "Балаклія"), ("Київ", "Дарницький район"), ("Дніпропетровщина", "Нікополь"),
    ("Харківщина", "Ізюм"), ("Київ", "Оболонський район"), ("Дніпропетровщина", "Павлоград"),
    ("Харківщина", "Чугуїв"), ("Київ", "Деснянський район"), ("Дніпропетровщина", "Марганець"),
    ("Харківщина", "Лозова"), ("Дніпропетровщина", "Кривий Ріг"), ("Харківщина", "Вовчанськ"),
)
WEAPONS = ("ракетного удару", "атаки ударних БпЛА", "артилерійського обстрілу")


def report(n: int) -> str:
    """The n-th DSNS-style report: mostly strikes over PLACES, now and then a grass fire."""
    if n % 7 == 6:
        return f"Одещина: пожежа сухої трави на площі {n} га. Постраждалих немає."
    region, place = PLACES[n % len(PLACES)]
    return (
        f"{region}, {place}: внаслідок {WEAPONS[n % len(WEAPONS)]} пошкоджено житловий будинок. "
        f"Травмовано {1 + n // len(PLACES)} людей."
    )

pytestmark = pytest.mark.slow


def _config(path: Path, tme_url: str, bot_url: str) -> Path:
    path.write_text(
        f"""
[storage]
database = "archive.db"
[http]
timeout = 3
[scheduler]
jitter = 0
shutdown_timeout = 2
[health]
listen = ""
[bot]
api_url = "{bot_url}"
poll_timeout = 1
per_chat_interval = 0.05
[[sources]]
type = "telegram_web"
channel = "dsns_telegram"
interval = 5
first_pages = 5
base_url = "{tme_url}"
"""
    )
    return path


def _start(config: Path, token: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DSNS_BOT_TOKEN": token}
    env.pop("NOTIFY_SOCKET", None)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor.cli.main", "run", "--config", str(config)], stdout=out, stderr=out, env=env
        )


def _wait_until_running(log: Path, times: int) -> None:
    """Until the log says the monitor has started `times` times: a kill while the interpreter still
    imports tests nothing, and how long that takes depends on the machine's load."""
    deadline = time.monotonic() + 60
    while log.read_text(errors="replace").count("monitor running with") < times:
        assert time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.05)


def _query(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_kill_9_loses_and_doubles_nothing(
    tme: FakeTelegram, tme_server: LocalServer, botapi: FakeBotAPI, bot_server: LocalServer, tmp_path: Path
) -> None:
    fake = botapi
    rng = random.Random(os.environ.get("KILL_SEED") or None)
    config = _config(tmp_path / "config.toml", tme_server.url, bot_server.url)
    db = tmp_path / "archive.db"
    log = tmp_path / "daemon.log"
    for chat, command in CHATS.items():
        fake.user_says(chat, command)

    posted: list[int] = []
    stop_posting = threading.Event()

    def reporter() -> None:  # DSNS keeps publishing while the monitor crashes and restarts
        n = 0
        while not stop_posting.wait(rng.uniform(0.2, 0.6)):
            text = report(n)
            photos = (f"k{n}",) if n % 4 == 0 else ()
            posted.append(tme.post("dsns_telegram", text, date=datetime.now(UTC), photos=photos))
            n += 1

    thread = threading.Thread(target=reporter, daemon=True)
    thread.start()
    kills: list[float] = []
    proc: subprocess.Popen[bytes] | None = None
    try:
        for started in range(1, KILLS + 1):
            proc = _start(config, fake.token, log)
            _wait_until_running(log, started)
            time.sleep(rng.uniform(0.3, 3.0))
            proc.send_signal(signal.SIGKILL)
            kills.append(time.monotonic())
            proc.wait(10)
        stop_posting.set()
        thread.join()
        proc = _start(config, fake.token, log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.5)
            try:
                stored = _query(db, "SELECT count(*) FROM posts WHERE stream = 'dsns_telegram'")[0][0]
                pending = _query(db, "SELECT count(*) FROM outbox WHERE status = 'pending'")[0][0]
            except sqlite3.OperationalError:
                continue
            if stored == len(posted) and pending == 0:
                time.sleep(1.0)  # let any late duplicate show itself
                break
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, log.read_text()[-3000:]
    finally:
        stop_posting.set()
        if proc is not None and proc.poll() is None:
            proc.kill()

    # Every post archived, once.
    ids = [int(r[0]) for r in _query(db, "SELECT external_id FROM posts WHERE stream = 'dsns_telegram'")]
    assert sorted(ids) == sorted(posted), log.read_text()[-3000:]
    assert _query(db, "SELECT count(*) FROM post_versions v JOIN posts p ON p.id = v.post_id WHERE p.version = 1 "
                      "GROUP BY v.post_id HAVING count(*) > 1") == []

    # Every planned alert delivered; each (chat, story) sent once.
    rows = _query(db, "SELECT chat_id, story_id, status, message_id, first_message_id FROM outbox")
    assert rows and all(status == "sent" for _, _, status, *_ in rows), rows
    assert {chat for chat, *_ in rows} == set(CHATS)
    # An alert whose figures rose enough was answered by a reply: the row keeps both messages.
    recorded = {(chat, m) for chat, _, _, *messages in rows for m in messages if m is not None}
    sends = [  # alerts link to their post; command replies (also resent after a crash) do not
        m for m in fake.sent
        if m["method"] in SEND_METHODS and "/dsns_telegram/" in (m.get("text") or m.get("caption") or "")
    ]
    assert Counter((m["chat_id"], m["message_id"]) for m in sends).most_common(1)[0][1] == 1
    assert recorded <= {(m["chat_id"], m["message_id"]) for m in sends}
    unrecorded = [m for m in sends if (m["chat_id"], m["message_id"]) not in recorded]
    for message in unrecorded:
        # Only the send-then-crash window may leave a message the archive does not know of.
        assert any(0 <= kill - message["at"] <= SEND_WINDOW for kill in kills), (message, kills)
    alerted = Counter(chat for chat, _ in recorded)
    for chat in CHATS:
        assert len([m for m in sends if m["chat_id"] == chat]) == alerted[chat] + sum(
            m["chat_id"] == chat for m in unrecorded
        )
    print(f"\nposts={len(posted)} alerts={len(rows)} resent_in_crash_window={len(unrecorded)} kills={len(kills)}")
