"""The spine end to end: fake t.me and feeds over real HTTP into a real SQLite file."""

from __future__ import annotations

from pathlib import Path

from monitor.app import open_app
from monitor.config import load_config
from monitor.daemon import poll_all_once
from tests.fakes.feeds import FakeFeeds
from tests.fakes.tme import FakeTelegram


async def _count(app, sql: str, params: tuple = ()) -> int:  # type: ignore[no-untyped-def]
    row = await app.db.fetchone(sql, params)
    return int(row[0])


async def test_first_poll_stores_everything_and_second_nothing_new(tme: FakeTelegram, feeds: FakeFeeds, config_file: Path) -> None:
    tme.fill("dsns_telegram", 30)
    config = load_config(config_file)
    async with open_app(config) as app:
        first = {o.source: o for o in await poll_all_once(app)}
        assert first["dsns_telegram"].ok and first["dsns_telegram"].new == 30
        assert first["news_uk"].new == 3
        assert first["news_ru"].new == 2
        assert await _count(app, "SELECT count(*) FROM posts") == 35
        second = {o.source: o for o in await poll_all_once(app)}
        assert all(o.ok for o in second.values())
        assert sum(o.new + o.edited for o in second.values()) == 0
        assert await _count(app, "SELECT count(*) FROM posts") == 35
        assert await _count(app, "SELECT count(*) FROM post_versions") == 35
        # Every stored post has an analysis row made by the current analyzer.
        assert await _count(app, "SELECT count(*) FROM analyses") == 35


async def test_windows_1251_feed_decodes(config_file: Path) -> None:
    async with open_app(load_config(config_file)) as app:
        await poll_all_once(app)
        row = await app.db.fetchone("SELECT title, text FROM posts WHERE stream = 'news_ru' AND external_id = 'ru-2002'")
        assert row["title"] == "Запорожье: ракетный удар по предприятию, погибли двое"
        assert "ребёнок" in row["text"]


async def test_feed_second_poll_is_conditional_and_304(feed_server, config_file: Path) -> None:  # type: ignore[no-untyped-def]
    async with open_app(load_config(config_file)) as app:
        await poll_all_once(app)
        await poll_all_once(app)
    uk = [r for r in feed_server.requests if r.path == "/feeds/news_uk.xml"]
    assert len(uk) == 2
    assert "if-none-match" not in uk[0].headers
    assert uk[1].headers["if-none-match"].startswith('"')
    assert uk[1].headers["if-modified-since"]


async def test_edit_makes_a_version_and_updates_text(tme: FakeTelegram, config_file: Path) -> None:
    ids = tme.fill("dsns_telegram", 5)
    async with open_app(load_config(config_file)) as app:
        await poll_all_once(app)
        tme.edit("dsns_telegram", ids[-1], "Оновлено: загинули 3 людини, ще 13 травмовані.")
        outcomes = {o.source: o for o in await poll_all_once(app)}
        assert outcomes["dsns_telegram"].edited == 1
        post = await app.db.fetchone(
            "SELECT id, text, version, edited FROM posts WHERE stream='dsns_telegram' AND external_id=?", (str(ids[-1]),)
        )
        assert post["text"] == "Оновлено: загинули 3 людини, ще 13 травмовані."
        assert post["version"] == 2 and post["edited"] == 1
        versions = await app.db.fetchall("SELECT version, text FROM post_versions WHERE post_id=? ORDER BY version", (post["id"],))
        assert [v["version"] for v in versions] == [1, 2]
        assert versions[0]["text"] != versions[1]["text"]
        # The word index follows the edit.
        hits = await app.db.fetchall(
            "SELECT p.id FROM posts_words w JOIN posts p ON p.search_key = w.rowid WHERE posts_words MATCH 'Оновлено'"
        )
        assert [h[0] for h in hits] == [post["id"]]


async def test_restart_resumes_from_cursor(tme: FakeTelegram, tme_server, config_file: Path) -> None:  # type: ignore[no-untyped-def]
    tme.fill("dsns_telegram", 10)
    config = load_config(config_file)
    async with open_app(config) as app:
        await poll_all_once(app)
        cursor = (await app.db.fetchone("SELECT cursor FROM sources WHERE name='dsns_telegram'"))[0]
    assert cursor == "10"
    tme.fill("dsns_telegram", 45)  # more than two pages arrive while we are down
    before = len(tme_server.requests)
    async with open_app(config) as app:
        outcomes = {o.source: o for o in await poll_all_once(app)}
        assert outcomes["dsns_telegram"].new == 45
        assert await _count(app, "SELECT count(*) FROM posts WHERE stream='dsns_telegram'") == 55
        cursor = (await app.db.fetchone("SELECT cursor FROM sources WHERE name='dsns_telegram'"))[0]
    assert cursor == "55"
    pages = [r for r in tme_server.requests[before:] if r.path.startswith("/s/")]
    assert len(pages) == 3  # newest page, then back until the gap after id 10 is closed


async def test_same_photo_in_two_posts_is_stored_once(tme: FakeTelegram, config_file: Path) -> None:
    tme.post("dsns_telegram", "Харківщина: наслідки удару.", photos=("same",))
    tme.post("dsns_telegram", "Харківщина: ще одне фото з місця удару.", photos=("same",))
    tme.post("dsns_telegram", "Альбом із трьох фото.", photos=("a1", "a2", "same"))
    async with open_app(load_config(config_file)) as app:
        await poll_all_once(app)
        tg_media = "FROM post_media pm JOIN posts p ON p.id = pm.post_id WHERE p.stream = 'dsns_telegram'"
        assert await _count(app, f"SELECT count(*) {tg_media} AND pm.sha256 IS NOT NULL") == 5
        assert await _count(app, f"SELECT count(DISTINCT pm.sha256) {tg_media}") == 3
        # The feeds' two photos are different images: 3 + 2 rows in all.
        assert await _count(app, "SELECT count(*) FROM media") == 5
        row = await app.db.fetchone("SELECT mime, size FROM media LIMIT 1")
        assert row["mime"] == "image/jpeg" and row["size"] > 100


async def test_failed_photo_download_is_retried_later(tme: FakeTelegram, config_file: Path) -> None:
    tme.post("dsns_telegram", "Сумщина: наслідки обстрілу.", photos=("late",))
    async with open_app(load_config(config_file)) as app:
        tme.fail_next(1, status=500, path_prefix="/img/")
        await poll_all_once(app)
        assert await _count(app, "SELECT count(*) FROM posts WHERE stream='dsns_telegram'") == 1
        slot = await app.db.fetchone("SELECT sha256, attempts, last_error FROM post_media")
        assert slot["sha256"] is None and slot["attempts"] == 1 and "500" in slot["last_error"]
        await poll_all_once(app)
        slot = await app.db.fetchone("SELECT sha256, last_error FROM post_media")
        assert slot["sha256"] is not None and slot["last_error"] is None


async def test_one_failing_source_leaves_the_others_working(tme: FakeTelegram, feeds: FakeFeeds, config_file: Path) -> None:
    tme.fill("dsns_telegram", 3)
    feeds.fail_next(500)
    async with open_app(load_config(config_file)) as app:
        outcomes = {o.source: o for o in await poll_all_once(app)}
        failed = [o for o in outcomes.values() if not o.ok]
        assert len(failed) == 1 and "HTTP 500" in (failed[0].error or "")
        assert outcomes["dsns_telegram"].new == 3
        state = await app.db.fetchone(f"SELECT error_count, last_error, next_check_at FROM sources WHERE name='{failed[0].source}'")
        assert state["error_count"] == 1 and "500" in state["last_error"] and state["next_check_at"]
        # Not due yet: a scheduled poll skips it; a forced one recovers and clears the failure state.
        skipped = await app.pipeline.poll(load_config(config_file).source(failed[0].source))
        assert skipped.skipped
        recovered = await app.pipeline.poll(load_config(config_file).source(failed[0].source), force=True)
        assert recovered.ok and recovered.new > 0
        state = await app.db.fetchone(f"SELECT error_count, last_error FROM sources WHERE name='{failed[0].source}'")
        assert state["error_count"] == 0 and state["last_error"] is None


async def test_timeout_and_429_are_errors_with_backoff(tme: FakeTelegram, feeds: FakeFeeds, config_file: Path) -> None:
    tme.fill("dsns_telegram", 2)
    tme.fail_next(1, status=200, delay=5)  # longer than the 3 s timeout
    feeds.fail_next(429, retry_after=900)
    async with open_app(load_config(config_file)) as app:
        outcomes = {o.source: o for o in await poll_all_once(app)}
        assert not outcomes["dsns_telegram"].ok and "timed out" in (outcomes["dsns_telegram"].error or "")
        limited = [o for o in outcomes.values() if o.error and "429" in o.error]
        # Retry-After beats the feed's 300 s interval and the 60 s backoff cap (retry_in is counted
        # from when the poll ended: a loaded machine takes a few seconds off the 900).
        assert len(limited) == 1 and limited[0].retry_in is not None and limited[0].retry_in >= 880
        assert outcomes["news_uk"].ok != outcomes["news_ru"].ok


async def test_malformed_feed_and_html_are_clear_errors(tme: FakeTelegram, feeds: FakeFeeds, config_file: Path) -> None:
    feeds.set_body("news_uk.xml", b"<html><body><h1>502 Bad Gateway</h1></body></html>")
    tme.fill("dsns_telegram", 2)
    tme.fail_next(1, garbage=True)
    async with open_app(load_config(config_file)) as app:
        outcomes = {o.source: o for o in await poll_all_once(app)}
    assert not outcomes["news_uk"].ok and "feed" in (outcomes["news_uk"].error or "").lower()
    assert not outcomes["dsns_telegram"].ok
    assert outcomes["news_ru"].ok
