"""Each way a source can misbehave: a clear log, the other sources unaffected, recovery after.

The faulty source is the t.me channel or a feed, served by a real server on 127.0.0.1 whose
route is wrapped by `Faulty`: while a fault is set, every request to that server gets it.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.app import open_app
from monitor.config import load_config
from monitor.daemon import poll_all_once
from storage.timeutil import utcnow
from tests.fakes.feeds import FakeFeeds
from tests.fakes.server import LocalServer, Reply, Request, Route, serve
from tests.fakes.tme import FakeTelegram

MAX_PAGE = 4 * 1024 * 1024


@dataclass
class Faulty:
    """Wraps a fake's route; `fault(request, normal_reply)` replaces the reply while set."""

    inner: Route
    fault: Callable[[Request, Reply], Reply] | None = None

    def route(self, request: Request) -> Reply:
        reply = self.inner(request)
        return self.fault(request, reply) if self.fault else reply


def _bytes(reply: Reply) -> bytes:
    return reply.body.encode() if isinstance(reply.body, str) else reply.body


def _invalid_utf8(request: Request, reply: Reply) -> Reply:
    # Bytes that are not UTF-8 in the middle of the text (and a lone continuation byte).
    body = _bytes(reply).replace("Харківщина".encode(), b"\xff\xfe\x80\xc3(".join([b"X", b"Y"]), 1)
    return Reply(reply.status, body + b"\x80", reply.headers, reply.content_type)


_BOMB = gzip.compress(b"\0" * (40 * 1024 * 1024), compresslevel=9)

# name → (fault, what the log must say; None: the source copes and succeeds)
FAULTS: dict[str, tuple[Callable[[Request, Reply], Reply], str | None]] = {
    "http_500": (lambda q, r: Reply(500, "<html>Internal error</html>"), "HTTP 500 from"),
    "timeout": (lambda q, r: Reply(r.status, r.body, r.headers, r.content_type, delay=2.5), "timed out fetching"),
    "slow_trickle": (
        lambda q, r: Reply(r.status, _bytes(r) * 20, r.headers, r.content_type, trickle=0.4, chunk=64),
        "the server sends too slowly",
    ),
    "truncated": (
        lambda q, r: Reply(r.status, r.body, r.headers, r.content_type, truncate=len(_bytes(r)) // 2),
        "broke off mid-response",
    ),
    "429_retry_after": (
        lambda q, r: Reply(429, "slow down", {"Retry-After": "120"}, "text/plain"), "HTTP 429 from"
    ),
    "invalid_utf8": (_invalid_utf8, None),
    # 127.0.0.2 is loopback but no configured source: refused before a byte is sent its way.
    "redirect_to_loopback": (
        lambda q, r: Reply(302, b"", {"Location": "http://127.0.0.2:9/s/dsns_telegram"}, "text/plain"),
        "resolves to a non-public address",
    ),
    "gzip_bomb": (
        lambda q, r: Reply(200, _BOMB, {"Content-Encoding": "gzip"}, r.content_type), f"larger than {MAX_PAGE} bytes"
    ),
    "50mb_page": (
        lambda q, r: Reply(200, b"<p>" + b"x" * (1024 * 1024 - 3), {}, r.content_type, repeat=50),
        f"larger than {MAX_PAGE} bytes",
    ),
}


@pytest.fixture
def servers(tme: FakeTelegram, feeds: FakeFeeds) -> Iterator[dict[str, tuple[Faulty, LocalServer]]]:
    tme_fault, feed_fault = Faulty(tme.route), Faulty(feeds.route)
    with serve(tme_fault.route) as tme_server, serve(feed_fault.route) as feed_server:
        yield {"tme": (tme_fault, tme_server), "feed": (feed_fault, feed_server)}


def _config(tmp_path: Path, tme_url: str, feed_url: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[storage]
database = "archive.db"
[http]
timeout = 1
max_page_bytes = {MAX_PAGE}
[scheduler]
jitter = 0
max_backoff = 600
[[sources]]
type = "telegram_web"
channel = "dsns_telegram"
base_url = "{tme_url}"
[[sources]]
type = "rss"
name = "news_uk"
url = "{feed_url}/feeds/news_uk.xml"
[[sources]]
type = "rss"
name = "news_ru"
url = "{feed_url}/feeds/news_ru_cp1251.xml"
"""
    )
    return path


@pytest.mark.parametrize("faulty", ["tme", "feed"])
@pytest.mark.parametrize("fault_name", list(FAULTS))
async def test_source_fault_is_logged_isolated_and_recovered(
    tme: FakeTelegram, servers: dict[str, tuple[Faulty, LocalServer]], tmp_path: Path,
    caplog: pytest.LogCaptureFixture, faulty: str, fault_name: str,
) -> None:
    tme.fill("dsns_telegram", 4)
    config = load_config(_config(tmp_path, servers["tme"][1].url, servers["feed"][1].url))
    fault, expected = FAULTS[fault_name]
    # The feed server carries both feeds; only news_uk's requests get the fault.
    broken = "dsns_telegram" if faulty == "tme" else "news_uk"
    wrapper = servers[faulty][0]
    wrapper.fault = (lambda q, r: fault(q, r) if "news_ru" not in q.path else r) if faulty == "feed" else fault
    caplog.set_level(logging.INFO, logger="dsns_monitor")
    async with open_app(config) as app:
        started = utcnow()
        outcomes = {o.source: o for o in await poll_all_once(app)}
        for name, outcome in outcomes.items():
            if name != broken:
                assert outcome.ok and outcome.new > 0, (name, outcome)
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        if expected is None:
            assert outcomes[broken].ok, outcomes[broken]
            assert not errors
        else:
            assert not outcomes[broken].ok
            assert outcomes[broken].error and expected in outcomes[broken].error
            (record,) = errors  # the failure as fields (JSON logs show them as keys)
            assert record.source == broken and expected in record.error and record.retry_in >= 0
            row = await app.db.fetchone("SELECT error_count, next_check_at FROM sources WHERE name = ?", (broken,))
            assert row["error_count"] == 1
            if fault_name == "429_retry_after":
                assert row["next_check_at"] >= (started.replace(microsecond=0)).strftime("%Y-%m-%dT%H:%M:%SZ")
                assert outcomes[broken].retry_in and outcomes[broken].retry_in >= 115
                assert (await app.pipeline.poll(config.source(broken))).skipped  # honours Retry-After

        wrapper.fault = None  # the fault ends
        recovered = await app.pipeline.poll(config.source(broken), force=True)
        assert recovered.ok, recovered
        row = await app.db.fetchone("SELECT error_count, last_error FROM sources WHERE name = ?", (broken,))
        assert row["error_count"] == 0 and row["last_error"] is None
        count = await app.db.fetchone("SELECT count(*) FROM posts WHERE stream = ?", (config.source(broken).stream,))
        assert count[0] > 0


@pytest.mark.parametrize("lock", ["writer", "reader"])
async def test_archive_locked_for_seconds_writes_wait_and_succeed(
    tme: FakeTelegram, servers: dict[str, tuple[Faulty, LocalServer]], tmp_path: Path, lock: str
) -> None:
    tme.fill("dsns_telegram", 5)
    config = load_config(_config(tmp_path, servers["tme"][1].url, servers["feed"][1].url))
    async with open_app(config) as app:
        await poll_all_once(app)  # archive exists, every source has its row
        tme.fill("dsns_telegram", 3)
        held = threading.Event()
        hold = 2.0

        def other_process() -> None:  # e.g. a researcher's sqlite3 shell, or a backup tool
            conn = sqlite3.connect(config.storage.database, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE" if lock == "writer" else "BEGIN")
            conn.execute("SELECT count(*) FROM posts").fetchone()
            held.set()
            time.sleep(hold)
            conn.execute("ROLLBACK")
            conn.close()

        thread = threading.Thread(target=other_process)
        thread.start()
        await asyncio.to_thread(held.wait, 5)
        started = time.monotonic()
        outcome = await app.pipeline.poll(config.source("dsns_telegram"), force=True)
        waited = time.monotonic() - started
        await asyncio.to_thread(thread.join)
        assert outcome.ok and outcome.new == 3, outcome
        if lock == "writer":
            assert waited >= hold - 0.5  # it waited for the lock rather than failing
        count = await app.db.fetchone("SELECT count(*) FROM posts WHERE stream = 'dsns_telegram'")
        assert count[0] == 8
