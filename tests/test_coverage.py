"""Coverage you can trust: fetched bodies kept and re-read, the layout canary, silent sources."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.api import BotAPI
from bot.service import BotService
from collectors import telegram_web
from monitor.app import open_app
from monitor.backfill import backfill
from monitor.cli.main import main
from monitor.config import load_config
from monitor.ops import metrics
from monitor.ops.health import health_report
from monitor.ops.services import prune_old_payloads
from monitor.ops.watch import SourceWatch
from monitor.reparse import reparse
from storage.coverage import coverage_days
from storage.payloads import iter_payloads
from storage.polls import PollRecord, record_poll
from storage.subscriptions import subscribe, upsert_chat
from storage.timeutil import to_db, utcnow
from tests.fakes.botapi import FakeBotAPI
from tests.fakes.feeds import FakeFeeds
from tests.fakes.server import LocalServer, serve
from tests.fakes.telethon_fake import FakeTelethon
from tests.fakes.tme import FakeTelegram
from tests.test_mtproto_wiring import MTPROTO_CONFIG, Factory, write

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
            await conn.execute("UPDATE polls SET finished_at = ? WHERE id = 1", (old,))
        assert await _count(app, "SELECT count(*) FROM polls") == 2
        assert await prune_old_payloads(app) == 2
        assert await _count(app, "SELECT count(*) FROM payloads") == 2
        assert await _count(app, "SELECT count(*) FROM polls") == 1  # the poll log goes with them
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


# --- the poll log and what coverage reads from it ---------------------------------------------


async def test_polls_are_logged_with_their_outcome(tme: FakeTelegram, config_file: Path) -> None:
    tme.fill("dsns_telegram", 5)
    config = load_config(config_file)
    source = config.source("dsns_telegram")
    async with open_app(config) as app:
        assert (await app.pipeline.poll(source, force=True)).new == 5
        tme.fail_next(garbage=True)
        assert not (await app.pipeline.poll(source, force=True)).ok
        tme.fail_next(status=502)
        assert not (await app.pipeline.poll(source, force=True)).ok
        tme.edit("dsns_telegram", 2, "Оновлено: пожежу ліквідовано.")
        assert (await app.pipeline.poll(source, force=True)).edited == 1
        rows = await app.db.fetchall("SELECT ok, kind, new, changed, seen, error, started_at <= finished_at FROM polls ORDER BY id")
        async with app.db.write() as conn:
            error = "news: HTTP 500 from https://reader:hunter2@news.example.org/feed?token=s3cret"
            await record_poll(conn, 1, PollRecord(utcnow(), ok=False, kind="http", error=error))
        (stored,) = await app.db.fetchone("SELECT error FROM polls ORDER BY id DESC LIMIT 1")
    assert "hunter2" not in stored and "s3cret" not in stored and "news.example.org/feed" in stored
    assert [tuple(r[:5]) for r in rows] == [
        (1, None, 5, 0, "1-5"), (0, "layout", 0, 0, None), (0, "http", 0, 0, None), (1, None, 0, 1, "1-5"),
    ]
    assert rows[0]["error"] is None and "changed its layout" in rows[1]["error"] and "502" in rows[2]["error"]
    assert all(r[6] for r in rows)


async def _history(app, source: str, polls: list[tuple[datetime, bool]]) -> None:  # type: ignore[no-untyped-def]
    """Replace the source's poll log with `polls` (finish time, ok)."""
    async with app.db.write() as conn:
        row = await (await conn.execute("SELECT id FROM sources WHERE name = ?", (source,))).fetchone()
        await conn.execute("DELETE FROM polls")
        await conn.executemany(
            "INSERT INTO polls (source_id, started_at, finished_at, ok, kind) VALUES (?, ?, ?, ?, ?)",
            [(row[0], to_db(t), to_db(t), int(ok), None if ok else "network") for t, ok in polls],
        )


async def test_coverage_time_figures_against_a_known_history(tme: FakeTelegram, config_file: Path) -> None:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    day1, day2, day3 = (today - timedelta(days=n) for n in (3, 2, 1))
    # Every 20 minutes from day 1 00:00 to 10:00, then one post at day 2 10:00: stale (beyond the
    # 6-hour floor, 4 gaps being 80 minutes) day 1 16:00-24:00, day 2 00:00-10:00 and from 16:00 on.
    tme.fill("dsns_telegram", 31, start=day1, step=timedelta(minutes=20))
    tme.post("dsns_telegram", "Київщина: пожежу в складському приміщенні ліквідовано.", date=day2 + timedelta(hours=10))
    config = load_config(config_file)
    minute = timedelta(minutes=1)
    polls = [(day1 + n * minute, True) for n in range(12 * 60 + 1)]  # good every minute to 12:00
    polls += [(day1 + timedelta(hours=12) + n * minute, False) for n in (1, 2, 3)]  # three failures
    polls += [(day1 + timedelta(hours=14) + n * minute, True) for n in range(10 * 60)]  # 14:00-23:59
    # The daemon is stopped from day 1 23:59 to day 2 06:00, then polls every minute.
    polls += [(day2 + timedelta(hours=6) + n * minute, True) for n in range(42 * 60)]
    async with open_app(config) as app:
        assert (await app.pipeline.poll(config.source("dsns_telegram"), force=True)).new == 32
        await _history(app, "dsns_telegram", polls)
        days = await coverage_days(
            app.db, since=day1, intervals={"dsns_telegram": 60.0}, stale_floor=6 * 3600, now=today,
        )
    mine = {d.day: d for d in days if d.source == "dsns_telegram" and d.day < today.date().isoformat()}
    figures = {day: (d.posts, d.polls, d.failed_polls, d.minutes_without_good_poll, d.stale_hours) for day, d in mine.items()}
    assert figures == {
        day1.date().isoformat(): (31, 12 * 60 + 1 + 3 + 10 * 60, 3, 118, 8.0),  # 12:02-14:00 without a good poll
        day2.date().isoformat(): (1, 18 * 60, 0, 359, 18.0),  # 00:01-06:00
        day3.date().isoformat(): (0, 24 * 60, 0, 0, 24.0),
    }


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_coverage_formats_and_heat_map(
    tme: FakeTelegram, config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = datetime.now(UTC)
    tme.fill("dsns_telegram", 6, start=now - timedelta(hours=2), step=timedelta(minutes=15))
    assert main(["run", "--once", "--config", str(config_file)]) == 0
    polled = datetime.now(UTC).date().isoformat()
    capsys.readouterr()
    since = ["--since", (now - timedelta(days=1)).date().isoformat()]
    assert main(["coverage", "--config", str(config_file), *since, "--format", "jsonl"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    plot = tmp_path / "coverage.png"
    assert main(["coverage", "--config", str(config_file), *since, "--format", "csv", "--plot", str(plot)]) == 0
    out = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out.out)))
    keys = ["source", "day", "posts", "edits", "deletions", "missing_ids", "fetches", "polls", "failed_polls",
            "minutes_without_good_poll", "stale_hours"]
    assert list(rows[0]) == keys and list(records[0]) == keys
    assert [{k: "" if v is None else str(v) for k, v in r.items()} for r in records] == rows
    mine = [r for r in records if r["source"] == "dsns_telegram"]
    assert sum(r["posts"] for r in mine) == 6 and sum(r["polls"] for r in mine) == 1
    assert all(r["failed_polls"] == 0 for r in records)
    # The poll log begins with this run: the day it polled is covered; a day before it (posts from
    # before midnight, when the test runs in the two hours after) is not known, which is None, not 0.
    assert all(r["minutes_without_good_poll"] == (0 if r["day"] == polled else None) for r in records)
    assert f"heat map written to {plot}" in out.err
    width, height = _png_size(plot)
    assert width == 1200 and height >= 300
    # No channel here is read both over the web and MTProto.
    assert main(["coverage", "--config", str(config_file), "--compare"]) == 2
    assert "needs a channel read by both a telegram_web and a telegram_mtproto" in capsys.readouterr().err


def test_web_and_mtproto_posts_seen_by_one_only_are_listed(
    tmp_path: Path, tme: FakeTelegram, tme_server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    tg = FakeTelethon()
    path = write(tmp_path, MTPROTO_CONFIG + f'\n[[sources]]\ntype = "telegram_web"\nchannel = "dsns_telegram"\nbase_url = "{tme_server.url}"\n')
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    tme.post("dsns_telegram", "Суми: обстріл", date=hour_ago)
    tg.post("Суми: обстріл", date=hour_ago)

    async def polls() -> None:
        config = load_config(path)
        async with open_app(config, telegram_client_factory=Factory(tg)) as app:
            for source in config.sources:
                assert (await app.pipeline.poll(source, force=True)).ok
            now = datetime.now(UTC)
            # The web shows 2, 4 and 5; MTProto reads 2, 3 and 4.
            for text, web_id in (("Київ: пожежу ліквідовано", 2), ("Одеса: атака БпЛА", None), ("Львів: ДТП", 4)):
                tg.post(text, date=now)
                if web_id:
                    tme.post("dsns_telegram", text, date=now, message_id=web_id)
            tme.post("dsns_telegram", "Дніпро: пожежа", date=now, message_id=5)
            for source in config.sources:
                assert (await app.pipeline.poll(source, force=True)).ok

    asyncio.run(polls())
    assert main(["coverage", "--config", str(path), "--compare", "--format", "jsonl"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["seen_by"], r["missed_by"]) for r in listed] == [
        (3, "dsns_telegram_mtproto", "dsns_telegram"), (5, "dsns_telegram", "dsns_telegram_mtproto"),
    ]
    assert all(r["channel"] == "dsns_telegram" and r["day"] == r["published_at"][:10] for r in listed)


async def test_backfill_keeps_its_pages_for_reparse(tme: FakeTelegram, config_file: Path) -> None:
    tme.fill("dsns_telegram", 45)
    config = load_config(config_file)
    source = config.source("dsns_telegram")
    async with open_app(config) as app:
        assert await backfill(app, source, since=None, pages=10) == 0
        kept = [p async for p in iter_payloads(app.db, sources=["dsns_telegram"])]
        assert [p.url.rsplit("/", 1)[-1] for p in kept] == ["dsns_telegram", "dsns_telegram?before=26", "dsns_telegram?before=6"]
        summary = await reparse(app, source="dsns_telegram")
    assert (summary.payloads, summary.unreadable, summary.new, summary.changed, summary.unchanged) == (3, 0, 0, 0, 45)
