"""Coverage you can trust: fetched bodies kept and re-read, the layout canary, silent sources."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.api import BotAPI
from bot.service import BotService
from collectors import telegram_web
from monitor import metrics
from monitor.app import open_app
from monitor.cli import main
from monitor.config import load_config
from monitor.health import health_report
from monitor.ops import prune_old_payloads
from monitor.reparse import reparse
from monitor.watch import SourceWatch
from storage.payloads import iter_payloads
from storage.subscriptions import subscribe, upsert_chat
from storage.timeutil import to_db, utcnow
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feeds import FakeFeeds
from tests.fakes.server import serve
from tests.fakes.tme import FakeTelegram

# Written for these tests; a Kharkiv strike, so a Kharkiv subscriber would be alerted to it.
KHARKIV = (
    "Харківщина: ворог завдав ракетного удару по Чугуєву, пошкоджено житловий будинок. "
    "Загинула 1 людина, ще 3 травмовані."
)


def rss(items: list[tuple[str, str | None, datetime]]) -> bytes:
    """A feed of (guid, link or None, date) items."""
    body = "".join(
        f'<item><title>Новина {guid}</title><description>Текст новини {guid}</description>'
        f'<guid isPermaLink="false">{guid}</guid>{f"<link>{link}</link>" if link else ""}'
        f"<pubDate>{when.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
        for guid, link, when in items
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'.encode()


async def _count(app, sql: str, params: tuple = ()) -> int:  # type: ignore[no-untyped-def]
    row = await app.db.fetchone(sql, params)
    return int(row[0])


async def _health(app) -> dict:  # type: ignore[no-untyped-def]
    _, report = await health_report(app.db, app.config, started_at=utcnow())
    return report["sources"]


async def test_layout_change_fires_the_canary_and_reparse_recovers_every_post(
    tme: FakeTelegram, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    tme.fill("dsns_telegram", 25, start=now - timedelta(days=1), step=timedelta(minutes=20))
    config = load_config(config_file)
    source = config.source("dsns_telegram")
    async with open_app(config) as app:
        async with app.db.write() as conn:
            await upsert_chat(conn, 111, "uk")
            await subscribe(conn, 111, "UA-63", "Харківська область", "oblast")
        assert (await app.pipeline.poll(source, force=True)).new == 25

        # t.me renames the message text; five strikes are posted (older than alert_max_age).
        tme.rename_class("tgme_widget_message_text", "tgme_widget_message_body")
        for minutes in (200, 190, 180, 170, 160):
            tme.post("dsns_telegram", KHARKIV, date=now - timedelta(minutes=minutes))
        outcome = await app.pipeline.poll(source, force=True)
        assert not outcome.ok and "layout changed?" in (outcome.error or "")
        assert await _count(app, "SELECT count(*) FROM posts") == 25  # nothing stored with an empty text
        health = (await _health(app))["dsns_telegram"]
        assert health["status"] == "failing" and health["kind"] == "layout"
        kept = [p async for p in iter_payloads(app.db, sources=["dsns_telegram"])]
        assert any(b"tgme_widget_message_body" in p.body for p in kept)
        assert all(p.status == 200 and p.parser == telegram_web.PARSER_VERSION for p in kept)

        # Before the fix, reparse sets the broken pages aside instead of emptying stored posts.
        before_fix = await reparse(app, source="dsns_telegram")
        assert before_fix.unreadable >= 1 and before_fix.new == before_fix.changed == 0

        # The parser learns the new layout (as a code fix would).
        monkeypatch.setattr(telegram_web, "_TEXT", ".tgme_widget_message_text, .tgme_widget_message_body")
        summary = await reparse(app, source="dsns_telegram")
        assert summary.payloads == len(kept)
        assert (summary.new, summary.changed, summary.unchanged) == (5, 0, 25)
        assert await _count(app, "SELECT count(*) FROM posts") == 30
        assert await _count(app, "SELECT count(*) FROM post_versions") == 30  # no edit invented
        assert await _count(app, "SELECT count(*) FROM posts WHERE text = ?", (KHARKIV,)) == 5
        assert await _count(app, "SELECT count(*) FROM analyses") == 30
        assert await _count(app, "SELECT count(*) FROM outbox") == 0  # older than alert_max_age

        again = await reparse(app, source="dsns_telegram")
        assert (again.new, again.changed) == (0, 0)
        assert (await app.pipeline.poll(source, force=True)).ok
        health = (await _health(app))["dsns_telegram"]
        assert health["status"] == "ok" and health["kind"] is None


async def test_a_page_without_telegram_markup_is_a_layout_failure_and_is_kept(
    tme: FakeTelegram, config_file: Path
) -> None:
    tme.fill("dsns_telegram", 3)
    config = load_config(config_file)
    async with open_app(config) as app:
        tme.fail_next(garbage=True)
        outcome = await app.pipeline.poll(config.source("dsns_telegram"), force=True)
        assert not outcome.ok
        assert (await _health(app))["dsns_telegram"]["kind"] == "layout"
        kept = [p async for p in iter_payloads(app.db)]
        assert len(kept) == 1 and b"Checking your browser" in kept[0].body


async def test_feed_canary_no_entries_or_entries_without_links(feeds: FakeFeeds, config_file: Path) -> None:
    now = datetime.now(UTC)
    feeds.set_body("news_uk.xml", rss([(f"g{n}", f"https://news.example.org/{n}", now - timedelta(hours=n)) for n in range(1, 4)]))
    config = load_config(config_file)
    source = config.source("news_uk")
    async with open_app(config) as app:
        assert (await app.pipeline.poll(source, force=True)).new == 3
        feeds.set_body("news_uk.xml", rss([]))
        outcome = await app.pipeline.poll(source, force=True)
        assert not outcome.ok and "no posts" in (outcome.error or "")
        assert (await _health(app))["news_uk"]["kind"] == "layout"

        feeds.set_body("news_uk.xml", rss([(f"g{n}", None, now - timedelta(minutes=n)) for n in range(4, 6)]))
        outcome = await app.pipeline.poll(source, force=True)
        assert not outcome.ok and "without a link" in (outcome.error or "")
        assert await _count(app, "SELECT count(*) FROM posts WHERE stream = 'news_uk'") == 3
        # Both bodies are kept for reparse, each once.
        assert await _count(app, "SELECT count(*) FROM payloads p JOIN sources s ON s.id = p.source_id "
                                 "WHERE s.name = 'news_uk'") == 3

        feeds.set_body("news_uk.xml", rss([(f"g{n}", f"https://news.example.org/{n}", now) for n in range(6, 8)]))
        assert (await app.pipeline.poll(source, force=True)).ok
        assert (await _health(app))["news_uk"]["status"] == "ok"


async def test_silent_channel_turns_stale_and_recovers_a_slow_feed_does_not(
    tme: FakeTelegram, feeds: FakeFeeds, config_file: Path
) -> None:
    now = datetime.now(UTC)
    # Every 20 minutes for ten hours, then seven hours of silence (longer than 4 gaps and the 6-hour floor).
    tme.fill("dsns_telegram", 30, start=now - timedelta(hours=17), step=timedelta(minutes=20))
    # Twice a week; the last two days ago.
    feeds.set_body("news_uk.xml", rss([
        (f"g{n}", f"https://news.example.org/{n}", now - timedelta(days=2 + 3.5 * n)) for n in range(4)
    ]))
    config = load_config(config_file)
    async with open_app(config) as app:
        for name in ("dsns_telegram", "news_uk"):
            assert (await app.pipeline.poll(config.source(name), force=True)).ok
        sources = await _health(app)
        assert sources["dsns_telegram"]["status"] == "stale"
        assert sources["dsns_telegram"]["usual_gap_seconds"] == pytest.approx(1200, abs=1)
        assert sources["news_uk"]["status"] == "ok"
        assert sources["news_uk"]["usual_gap_seconds"] == pytest.approx(3.5 * 86400, abs=1)
        await metrics.refresh_from_archive(app.db, ["dsns_telegram", "news_uk"])
        text = metrics.render().decode()
        assert 'dsns_source_stale{source="dsns_telegram"} 1.0' in text
        assert 'dsns_source_stale{source="news_uk"} 0.0' in text

        tme.post("dsns_telegram", "Київщина: пожежу в складському приміщенні ліквідовано.", date=now)
        assert (await app.pipeline.poll(config.source("dsns_telegram"), force=True)).new == 1
        assert (await _health(app))["dsns_telegram"]["status"] == "ok"
        await metrics.refresh_from_archive(app.db, ["dsns_telegram"])
        assert 'dsns_source_stale{source="dsns_telegram"} 0.0' in metrics.render().decode()


async def test_identical_bodies_stored_once_and_pruned_by_retention(tme: FakeTelegram, config_file: Path) -> None:
    tme.fill("dsns_telegram", 30)
    config = load_config(config_file)
    source = config.source("dsns_telegram")
    async with open_app(config) as app:
        await app.pipeline.poll(source, force=True)
        first = await _count(app, "SELECT count(*) FROM payloads")
        await app.pipeline.poll(source, force=True)
        fetches = await _count(app, "SELECT count(*) FROM payloads")
        assert first == 2 and fetches == 4  # two pages a poll
        assert await _count(app, "SELECT count(*) FROM payload_bodies") == 2

        old = to_db(utcnow() - timedelta(days=31))
        async with app.db.write() as conn:
            await conn.execute("UPDATE payloads SET fetched_at = ? WHERE id <= ?", (old, first))
        assert await prune_old_payloads(app) == 2
        assert await _count(app, "SELECT count(*) FROM payloads") == 2
        assert await _count(app, "SELECT count(*) FROM payload_bodies") == 2  # still used by the second poll

        async with app.db.write() as conn:
            await conn.execute("UPDATE payloads SET fetched_at = ?", (old,))
        app.config = config.model_copy(update={"storage": config.storage.model_copy(update={"payload_retention_days": 0})})
        assert await prune_old_payloads(app) == 0  # 0 keeps them forever
        app.config = config
        assert await prune_old_payloads(app) == 2
        assert await _count(app, "SELECT count(*) FROM payload_bodies") == 0


def test_reparse_command_prints_its_summary(tme: FakeTelegram, config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tme.fill("dsns_telegram", 4)
    assert main(["run", "--once", "--config", str(config_file)]) == 0
    capsys.readouterr()
    assert main(["reparse", "--config", str(config_file), "--source", "dsns_telegram"]) == 0
    assert "1 payloads read (0 still unreadable): posts 0 new, 0 changed, 4 unchanged" in capsys.readouterr().out


async def test_admins_are_told_once_when_the_canary_fires_and_once_when_it_recovers(
    tme: FakeTelegram, config_file: Path
) -> None:
    tme.fill("dsns_telegram", 10)
    config = load_config(config_file)
    source = config.source("dsns_telegram")
    told: list[str] = []

    async def send(text: str) -> None:
        told.append(text)

    async with open_app(config) as app:
        watch = SourceWatch(app.db, config, send)
        assert (await app.pipeline.poll(source, force=True)).ok
        assert await watch.check() == 0
        tme.rename_class("tgme_widget_message_text", "tgme_widget_message_body")
        for _ in range(2):
            assert not (await app.pipeline.poll(source, force=True)).ok
            await watch.check()
        assert len(told) == 1 and "dsns_telegram: the layout changed?" in told[0] and "reparse" in told[0]

        tme.rename_class("tgme_widget_message_text", "tgme_widget_message_text")
        assert (await app.pipeline.poll(source, force=True)).ok
        assert await watch.check() == 0  # told within the hour: the recovery waits
        # A restarted daemon knows what was told; an hour later the recovery goes out, once.
        later = SourceWatch(app.db, config, send, min_interval=0)
        assert await later.check() == 1 and await later.check() == 0
        assert told[1] == "✅ dsns_telegram is back to normal."


async def test_the_bot_sends_the_watch_notice_to_every_admin(tme: FakeTelegram, config_file: Path) -> None:
    botapi = FakeBotAPI()
    tme.fill("dsns_telegram", 5)
    with serve(botapi.route) as server:
        config = load_config(config_file)
        async with open_app(config) as app:
            await app.pipeline.poll(config.source("dsns_telegram"), force=True)
            tme.fail_next(garbage=True)
            await app.pipeline.poll(config.source("dsns_telegram"), force=True)
            api = BotAPI(botapi.token, server.url)
            service = BotService(app.db, api, admins={900, 901}, poll_timeout=1, per_chat_interval=0.05)
            service.watchers.append(SourceWatch(app.db, config, service.notify_admins).run)
            stop = asyncio.Event()
            task = asyncio.create_task(service.run(app.pipeline.alerts_planned, stop))
            deadline = asyncio.get_running_loop().time() + 8
            while len(botapi.sent) < 2 and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
            stop.set()
            await asyncio.wait_for(task, 10)
            await api.aclose()
    botapi.close()
    assert sorted(m["chat_id"] for m in botapi.sent) == [900, 901]
    assert all("layout changed?" in m["text"] for m in botapi.sent)


def test_coverage_report_against_a_known_history(
    tme: FakeTelegram, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day1, day2 = today - timedelta(days=2), today - timedelta(days=1)
    tme.fill("dsns_telegram", 4, start=day1 + timedelta(hours=8), step=timedelta(hours=1))  # ids 1-4
    tme.post("dsns_telegram", "Альбом з місця пожежі.", photos=("a", "b", "c"), date=day2 + timedelta(hours=8))  # 5-7
    tme.post("dsns_telegram", "Пожежу ліквідовано.", date=day2 + timedelta(hours=9), message_id=9)  # 8 never shown
    assert main(["run", "--once", "--config", str(config_file)]) == 0
    tme.edit("dsns_telegram", 2, "Оновлено: постраждалих немає.")
    tme.delete("dsns_telegram", 3)
    assert main(["run", "--once", "--config", str(config_file)]) == 0
    capsys.readouterr()
    assert main(["coverage", "--config", str(config_file), "--since", day1.date().isoformat(), "--format", "jsonl"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    mine = {r["day"]: r for r in rows if r["source"] == "dsns_telegram"}
    figures = ("posts", "edits", "deletions", "missing_ids", "fetches")
    assert {day: tuple(r[k] for k in figures) for day, r in mine.items()} == {
        day1.date().isoformat(): (4, 0, 0, 0, 0),
        day2.date().isoformat(): (2, 0, 0, 1, 0),
        today.date().isoformat(): (0, 1, 1, 0, 2),
    }
    assert all(r["missing_ids"] is None for r in rows if r["source"] != "dsns_telegram")
