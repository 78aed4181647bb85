"""One bad post costs that post only (issue 18, finding 1).

A post the analyser or the archive cannot handle, or one with an impossible id or date, must not
hold back the rest of its page, the cursor or the channel; the failure is recorded, counted and
shown on /healthz. Failures are provoked with real inputs or real SQLite refusals (a trigger
that aborts), never by replacing our own code.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.app import App, open_app
from monitor.config import load_config
from monitor.ops import faults, metrics
from monitor.ops.health import health_report
from monitor.reanalyze import reanalyze
from storage.posts import FUTURE_SLACK
from storage.subscriptions import subscribe, upsert_chat
from storage.timeutil import from_db
from tests.fakes.feeds import FakeFeeds
from tests.fakes.tme import FakeTelegram

# Written for these tests; the last characters are a superscript two, a digit `int()` cannot read.
POISON = "Київщина: у Броварах горів склад. Постраждалих немає, пожежу ліквідовано на площі 100 м ²"
STRIKES = (
    "Харківщина: внаслідок ракетного удару по Балаклії загинули 2 людини.",
    "Одещина: унаслідок атаки ударних БпЛА на Ізмаїл загинули 2 людини.",
    "Дніпропетровщина: через обстріл Нікополя з артилерії загинули 2 людини.",
)
CHAT = 111
SOURCE = "dsns_telegram"


async def _watch_everything(app: App) -> None:
    async with app.db.write() as conn:
        await upsert_chat(conn, CHAT, "uk")
        for region, name in (("UA-63", "Харківська область"), ("UA-51", "Одеська область"), ("UA-12", "Дніпропетровська область")):
            await subscribe(conn, CHAT, region, name, "oblast")


async def _value(app: App, sql: str, params: tuple = ()) -> object:
    row = await app.db.fetchone(sql, params)
    return row[0] if row else None


async def _refuse(app: App, when: str) -> None:
    """A trigger that makes SQLite refuse a write `when` (as it refuses a value it cannot hold)."""
    async with app.db.write() as conn:
        await conn.execute(f"CREATE TRIGGER refuse {when} BEGIN SELECT RAISE(ABORT, 'refused for the test'); END")


async def _cursor(app: App) -> object:
    return await _value(app, "SELECT cursor FROM sources WHERE name = ?", (SOURCE,))


def _metric(name: str, source: str = SOURCE) -> float:
    return metrics.REGISTRY.get_sample_value(name, {"source": source}) or 0.0


async def _strike_page(tme: FakeTelegram, app: App, *, first: str) -> list[int]:
    now = datetime.now(UTC) - timedelta(minutes=10)
    ids = [tme.post(SOURCE, first, date=now)]
    ids += [tme.post(SOURCE, text, date=now + timedelta(minutes=i + 1)) for i, text in enumerate(STRIKES)]
    await _watch_everything(app)
    return ids


async def test_poison_post_then_three_strikes_all_archived_and_alerted(tme: FakeTelegram, config_file: Path) -> None:
    async with open_app(load_config(config_file)) as app:
        ids = await _strike_page(tme, app, first=POISON)
        outcome = await app.pipeline.poll(app.config.source(SOURCE), force=True)
        assert outcome.ok and outcome.new == 4
        assert await _value(app, "SELECT count(*) FROM analyses a JOIN posts p ON p.id = a.post_id WHERE p.stream = ?", (SOURCE,)) == 4
        assert await _value(app, "SELECT count(*) FROM outbox WHERE chat_id = ?", (CHAT,)) == 3
        killed = await app.db.fetchall("SELECT s.killed FROM outbox o JOIN stories s ON s.id = o.story_id")
        assert [r[0] for r in killed] == [2, 2, 2]
        assert await _cursor(app) == str(ids[-1])
        assert await _value(app, "SELECT count(*) FROM analysis_errors") == 0
        assert faults.active() == []


async def test_a_post_whose_analysis_cannot_be_stored_is_kept_with_the_error_and_reanalysed(
    tme: FakeTelegram, config_file: Path
) -> None:
    async with open_app(load_config(config_file)) as app:
        # SQLite refuses the analysis of one post: what a bug in the analysis or stories would do.
        # SQLite refuses the analysis of one post: what a bug in the analysis or stories would do.
        await _refuse(app, "BEFORE INSERT ON analyses WHEN new.oblasts LIKE '%UA-32%'")
        failures = _metric("dsns_analysis_failures_total")
        ids = await _strike_page(tme, app, first=POISON)
        outcome = await app.pipeline.poll(app.config.source(SOURCE), force=True)
        assert outcome.ok and outcome.new == 4
        poison = await app.db.fetchone("SELECT id, text FROM posts WHERE stream = ? AND external_id = ?", (SOURCE, str(ids[0])))
        assert poison["text"] == POISON
        error = await app.db.fetchone("SELECT post_id, error FROM analysis_errors")
        assert error["post_id"] == poison["id"] and "refused for the test" in error["error"]
        assert await _value(app, "SELECT count(*) FROM outbox WHERE chat_id = ?", (CHAT,)) == 3
        assert await _cursor(app) == str(ids[-1])
        assert _metric("dsns_analysis_failures_total") == failures + 1
        healthy, report = await health_report(app.db, app.config, started_at=datetime.now(UTC))
        assert healthy and report["status"] == "degraded"
        assert "refused for the test" in report["faults"]["analysis"]["message"]
        assert report["sources"][SOURCE]["status"] == "ok"

        # Fixed (the trigger goes): `reanalyze` retries the post, a clean batch clears the fault.
        async with app.db.write() as conn:
            await conn.execute("DROP TRIGGER refuse")
        assert await reanalyze(app) == 1
        assert await _value(app, "SELECT count(*) FROM analysis_errors") == 0
        assert await _value(app, "SELECT count(*) FROM analyses WHERE post_id = ?", (poison["id"],)) == 1
        assert await _value(app, "SELECT story_id FROM posts WHERE id = ?", (poison["id"],)) is not None
        tme.post(SOURCE, STRIKES[0].replace("Балаклії", "Ізюму"), date=datetime.now(UTC))
        await app.pipeline.poll(app.config.source(SOURCE), force=True)
        assert "analysis" not in faults.as_json()


async def test_a_post_the_archive_refuses_is_skipped_and_the_rest_kept(tme: FakeTelegram, config_file: Path) -> None:
    async with open_app(load_config(config_file)) as app:
        await _refuse(app, "BEFORE INSERT ON posts WHEN new.text LIKE '%Бровар%'")
        rejected = _metric("dsns_posts_rejected_total")
        ids = await _strike_page(tme, app, first=POISON)
        outcome = await app.pipeline.poll(app.config.source(SOURCE), force=True)
        assert outcome.ok and outcome.new == 3
        assert await _value(app, "SELECT count(*) FROM posts WHERE stream = ? AND external_id = ?", (SOURCE, str(ids[0]))) == 0
        assert await _value(app, "SELECT count(*) FROM outbox WHERE chat_id = ?", (CHAT,)) == 3
        assert await _cursor(app) == str(ids[-1])
        assert _metric("dsns_posts_rejected_total") == rejected + 1
        assert "refused for the test" in faults.as_json()["ingest"]["message"]


async def test_impossible_ids_and_dates_cost_their_post_only(tme: FakeTelegram, config_file: Path) -> None:
    now = datetime.now(UTC) - timedelta(minutes=30)
    async with open_app(load_config(config_file)) as app:
        await _watch_everything(app)
        first = tme.post(SOURCE, STRIKES[0], date=now)
        tme.post(SOURCE, "Старий рік: дата, якої не буває.", date=datetime(1, 1, 1, tzinfo=UTC))
        tme.post(SOURCE, "Дата з далекого майбутнього.", date=datetime(9999, 12, 31, tzinfo=UTC))
        future = tme.post(SOURCE, STRIKES[1], date=datetime(2099, 1, 1, tzinfo=UTC))
        last = tme.post(SOURCE, STRIKES[2], date=now + timedelta(minutes=2))
        tme.post(SOURCE, "Повідомлення з неможливим номером.", date=now, message_id=2**63)
        rejected = _metric("dsns_posts_rejected_total")
        outcome = await app.pipeline.poll(app.config.source(SOURCE), force=True)
        assert outcome.ok and outcome.new == 3
        stored = await app.db.fetchall("SELECT external_id, published_at FROM posts WHERE stream = ? ORDER BY id", (SOURCE,))
        assert [r[0] for r in stored] == [str(first), str(future), str(last)]
        # Dated 2099: kept, but no later than an hour after it was first seen.
        published = from_db(stored[1][1])
        assert published is not None and published <= datetime.now(UTC) + FUTURE_SLACK
        assert await _value(app, "SELECT count(*) FROM outbox WHERE chat_id = ?", (CHAT,)) == 3
        # The impossible id is not the cursor: the channel's real newest message is.
        assert await _cursor(app) == str(last)
        assert _metric("dsns_posts_rejected_total") == rejected + 3
        message = faults.as_json()["ingest"]["message"]
        assert "3 post(s) skipped" in message
        # The next poll stores a new post as usual.
        newer = tme.post(SOURCE, "Сумщина: пожежу ліквідовано.", date=now + timedelta(minutes=5))
        again = await app.pipeline.poll(app.config.source(SOURCE), force=True)
        assert again.ok and again.new == 1
        assert await _cursor(app) == str(newer)


async def test_an_unexpected_error_in_a_poll_is_failure_state_with_backoff(tme: FakeTelegram, config_file: Path) -> None:
    tme.fill(SOURCE, 3)
    async with open_app(load_config(config_file)) as app:
        # The archive refuses to move this source's cursor: an error no collector raises.
        await _refuse(app, "BEFORE UPDATE OF cursor ON sources WHEN new.cursor IS NOT old.cursor")
        errors = _metric("dsns_poll_errors_total")
        outcome = await app.pipeline.poll(app.config.source(SOURCE), force=True)
        assert not outcome.ok and outcome.retry_in and "refused for the test" in (outcome.error or "")
        state = await app.db.fetchone("SELECT error_count, last_error, next_check_at, cursor FROM sources WHERE name = ?", (SOURCE,))
        assert state["error_count"] == 1 and "internal error" in state["last_error"] and state["next_check_at"]
        assert state["cursor"] is None
        assert await _value(app, "SELECT count(*) FROM posts WHERE stream = ?", (SOURCE,)) == 0
        assert _metric("dsns_poll_errors_total") == errors + 1
        _, report = await health_report(app.db, app.config, started_at=datetime.now(UTC))
        assert report["status"] == "degraded" and report["sources"][SOURCE]["status"] == "failing"


async def test_a_feed_entry_with_an_impossible_date_or_id_costs_that_entry_only(feeds: FakeFeeds, config_file: Path) -> None:
    item = "<item><title>{title}</title><guid>{guid}</guid><pubDate>{date}</pubDate><description>Текст.</description></item>"
    entries = [
        ("Ракетний удар по Балаклії", "ok-1", "Wed, 01 May 2024 07:40:00 +0300"),
        ("Дата першого року", "bad-1", "Mon, 01 Jan 0001 00:00:00 +0000"),
        ("Ідентифікатор на три тисячі знаків", "x" * 3000, "Wed, 01 May 2024 07:50:00 +0300"),
        ("Новина з 2099 року", "ok-2", "Thu, 01 Jan 2099 00:00:00 +0000"),
    ]
    feeds.set_body("news_uk.xml", (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Новини</title>'
        + "".join(item.format(title=t, guid=g, date=d) for t, g, d in entries) + "</channel></rss>"
    ).encode())
    rejected = _metric("dsns_posts_rejected_total", "news_uk")
    async with open_app(load_config(config_file)) as app:
        outcome = await app.pipeline.poll(app.config.source("news_uk"), force=True)
        assert outcome.ok and outcome.new == 2
        stored = await app.db.fetchall("SELECT external_id, published_at FROM posts WHERE stream = 'news_uk' ORDER BY external_id")
        assert [r[0] for r in stored] == ["ok-1", "ok-2"]
        published = from_db(stored[1][1])
        assert published is not None and published <= datetime.now(UTC) + FUTURE_SLACK
        assert _metric("dsns_posts_rejected_total", "news_uk") == rejected + 2
        assert "news_uk" in faults.as_json()["ingest"]["message"]
