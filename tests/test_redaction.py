"""Credentials in a source's URL never show: not in errors, logs, /healthz or the archive."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from dsns.redact import redact
from monitor.app import open_app
from monitor.config import load_config
from monitor.ops.health import health_report
from monitor.ops.logs import JSONFormatter, KeyValueFormatter
from storage.timeutil import utcnow
from tests.fakes.server import LocalServer

SECRETS = ("s3cr3t-pass", "tok-123456", "k-abcdef")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:s3cr3t@news.example.org/feed", "https://user:***@news.example.org/feed"),
        ("https://ghp_abc@news.example.org/feed", "https://***@news.example.org/feed"),
        ("https://h.example/rss?lang=uk&token=abc&api_key=def#x", "https://h.example/rss?lang=uk&token=***&api_key=***#x"),
        ("https://h.example/rss?KEY=abc", "https://h.example/rss?KEY=***"),
        ("https://h.example/rss?page=2", "https://h.example/rss?page=2"),
        ("write to a@b.example, not a URL", "write to a@b.example, not a URL"),
    ],
)
def test_redact(url: str, shown: str) -> None:
    assert redact(url) == shown
    assert redact(f"error: cannot reach {url}: refused") == f"error: cannot reach {shown}: refused"


async def test_feed_url_credentials_are_redacted_everywhere(
    tmp_path: Path, feed_server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    host = feed_server.url.removeprefix("http://")
    url = f"http://reader:{SECRETS[0]}@{host}/feeds/missing.xml?token={SECRETS[1]}&api_key={SECRETS[2]}"
    path = tmp_path / "config.toml"
    path.write_text(
        f'[storage]\ndatabase = "a.db"\n[http]\ntimeout = 3\n[[sources]]\ntype = "rss"\nname = "news"\nurl = "{url}"\n',
        encoding="utf-8",
    )
    caplog.set_level(logging.INFO)
    async with open_app(load_config(path)) as app:
        outcome = await app.pipeline.poll(app.config.source("news"), force=True)
        again = await app.pipeline.source_state(app.config.source("news"))
        row = await app.db.fetchone("SELECT url, last_error FROM sources WHERE name = 'news'")
        _, report = await health_report(app.db, app.config, started_at=utcnow())
    assert not outcome.ok and outcome.error is not None and "HTTP 404 from" in outcome.error
    assert row["url"] == f"http://reader:***@{host}/feeds/missing.xml?token=***&api_key=***"
    assert again.url == row["url"]  # the stored URL matches: no rewrite of the row on each poll
    shown = [
        outcome.error, row["url"], row["last_error"], json.dumps(report),
        *(KeyValueFormatter().format(r) for r in caplog.records),
        *(JSONFormatter().format(r) for r in caplog.records),
    ]
    assert any("reader:***@" in text for text in shown[3:])
    for text in shown:
        assert not any(secret in text for secret in SECRETS), text


def test_one_redaction_for_tokens_and_registered_secrets() -> None:
    # The log formatters, the Bot API client and stored errors all go through dsns.redact.
    from dsns.redact import REDACTED, register_secret

    register_secret("hunter2-api-hash")
    token = "123456789:" + "A" * 35
    text = f"hash hunter2-api-hash, token {token}, feed https://u:pw@h.example/x"
    assert redact(text) == f"hash {REDACTED}, token {REDACTED}, feed https://u:***@h.example/x"
    record = logging.makeLogRecord({"msg": "login with %s", "args": ("hunter2-api-hash",), "chat": token})
    assert "hunter2" not in KeyValueFormatter().format(record) and "AAAA" not in JSONFormatter().format(record)


def test_log_fields_are_keys_in_json_and_pairs_in_text() -> None:
    record = logging.makeLogRecord(
        {"msg": "poll failed", "levelname": "ERROR", "source": "news_uk", "error": "HTTP 503 from x", "retry_in": 120}
    )
    entry = json.loads(JSONFormatter().format(record))
    assert (entry["message"], entry["source"], entry["error"], entry["retry_in"]) == (
        "poll failed", "news_uk", "HTTP 503 from x", 120,
    )
    assert KeyValueFormatter().format(record).endswith("poll failed source=news_uk error='HTTP 503 from x' retry_in=120")
