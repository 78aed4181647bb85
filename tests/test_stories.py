"""One story per real event, across sources, edits and deletions; one alert per story."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from analysis.analyze import analyze
from analysis.event_date import resolve
from analysis.stories import StoryIndex
from bench.story_groups import load as load_story_bench
from bench.story_groups import naive_groups, project_groups, score
from collectors.base import RawPost
from monitor.app import open_app
from monitor.config import load_config
from monitor.daemon import poll_all_once
from monitor.planner import StoryPlanner
from storage.canonical import canonical_url
from storage.database import Database
from storage.posts import upsert_posts
from storage.sources import ensure_source
from storage.subscriptions import (
    deactivate_chat,
    mute,
    subscribe,
    unsubscribe,
    upsert_chat,
    watchers_by_region,
)
from tests.fakes.feeds import FakeFeeds
from tests.fakes.tme import FakeTelegram

UK = (
    "Харківщина: внаслідок ракетного удару по Балаклії зруйновано приватний будинок. "
    "Загинула 1 людина, ще 8 — травмовані. Рятувальники ліквідували пожежу."
)


def rss(items: list[tuple[str, str, str, datetime]]) -> bytes:
    body = "".join(
        f"<item><title>{title}</title><description>{text}</description><link>{link}</link>"
        f"<pubDate>{when.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate></item>"
        for title, text, link, when in items
    )
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'.encode()


async def _watchers(app, region: str = "UA-63") -> None:  # type: ignore[no-untyped-def]
    async with app.db.write() as conn:
        await upsert_chat(conn, 111, "uk")
        await subscribe(conn, 111, region, "Харківська область", "oblast")


async def test_channel_and_english_feed_make_one_story_and_one_alert(tme: FakeTelegram, feeds: FakeFeeds, config_file: Path) -> None:
    now = datetime.now(UTC)
    tme.post("dsns_telegram", UK, date=now - timedelta(minutes=30))
    feeds.set_body("news_uk.xml", rss([(
        "Russian missile strike on Balakliia kills one, injures eight",
        "A Russian missile hit a residential house in Balakliia, Kharkiv region, overnight.",
        "https://wire.example.org/balakliia", now - timedelta(minutes=10),
    )]))
    async with open_app(load_config(config_file)) as app:
        await _watchers(app)
        await poll_all_once(app)
        rows = await app.db.fetchall(
            "SELECT stream, story_id FROM posts WHERE stream IN ('dsns_telegram', 'news_uk') ORDER BY stream"
        )
        assert len(rows) == 2 and rows[0]["story_id"] == rows[1]["story_id"]
        outbox = await app.db.fetchall("SELECT chat_id, story_id FROM outbox")
        assert [(r[0], r[1]) for r in outbox] == [(111, rows[0]["story_id"])]


async def test_edit_with_higher_figures_revises_the_story_and_requeues(tme: FakeTelegram, config_file: Path) -> None:
    post = tme.post("dsns_telegram", UK, date=datetime.now(UTC))
    async with open_app(load_config(config_file)) as app:
        await _watchers(app)
        await poll_all_once(app)
        async with app.db.write() as conn:
            await conn.execute("UPDATE outbox SET status = 'sent', sent_revision = revision, message_id = 5")
        tme.edit("dsns_telegram", post, UK.replace("Загинула 1 людина, ще 8", "Загинули 3 людини, ще 13"))
        await poll_all_once(app)
        # The feeds' posts (from 2024) have stories of their own, maybe stored first.
        story = await app.db.fetchone(
            "SELECT s.id, s.killed, s.injured, s.revision FROM stories s JOIN posts p ON p.story_id = s.id "
            "WHERE p.stream = 'dsns_telegram'")
        assert (story["killed"], story["injured"], story["revision"]) == (3, 13, 2)
        revisions = await app.db.fetchall("SELECT revision, killed FROM story_revisions WHERE story_id = ? ORDER BY revision", (story["id"],))
        assert [(r[0], r[1]) for r in revisions] == [(1, 1), (2, 3)]
        row = await app.db.fetchone("SELECT status, revision, sent_revision, message_id FROM outbox")
        assert (row[0], row[1], row[2], row[3]) == ("pending", 2, 1, 5)  # to be edited, not resent


async def test_two_towns_an_hour_apart_and_one_town_a_week_apart_are_separate(tme: FakeTelegram, config_file: Path) -> None:
    start = datetime.now(UTC) - timedelta(days=8)
    tme.post("dsns_telegram", UK, date=start)
    tme.post("dsns_telegram", "Харківщина: внаслідок ракетного удару по Ізюму зруйновано будинок. Загинула 1 людина, ще 8 травмовані.", date=start + timedelta(hours=1))
    tme.post("dsns_telegram", UK, date=start + timedelta(days=7))
    tme.post("dsns_telegram", "Уточнення: внаслідок ракетного удару по Балаклії загинула 1 людина, 8 травмовані.", date=start + timedelta(days=7, hours=2))
    async with open_app(load_config(config_file)) as app:
        await poll_all_once(app)
        stories = [r[0] for r in await app.db.fetchall("SELECT story_id FROM posts WHERE stream = 'dsns_telegram' ORDER BY id")]
    assert len(set(stories[:3])) == 3  # Balakliia, Izium an hour later, Balakliia a week later
    assert stories[3] == stories[2]  # the update two hours later joins the latest


async def test_deleted_post_is_marked_not_removed(tme: FakeTelegram, config_file: Path) -> None:
    ids = tme.fill("dsns_telegram", 10)
    async with open_app(load_config(config_file)) as app:
        await poll_all_once(app)
        tme.delete("dsns_telegram", ids[4])
        await poll_all_once(app)
        rows = await app.db.fetchall("SELECT external_id, deleted_at FROM posts WHERE stream = 'dsns_telegram' AND deleted_at IS NOT NULL")
        assert [r[0] for r in rows] == [str(ids[4])]
        assert (await app.db.fetchone("SELECT count(*) FROM posts WHERE stream = 'dsns_telegram'"))[0] == 10
        assert (await app.db.fetchone("SELECT sum(deleted_posts) FROM stories"))[0] == 1


async def test_same_article_in_two_feeds_is_one_post(feeds: FakeFeeds, config_file: Path) -> None:
    when = datetime.now(UTC)
    feeds.set_body("news_uk.xml", rss([("Удар по Нікополю", "Артилерія, поранено двох.", "https://news.example.org/a/1?utm_source=rss", when)]))
    feeds.set_body("news_ru_cp1251.xml", rss([("Удар по Нікополю", "Артилерія, поранено двох.", "https://www.news.example.org/a/1/#top", when)]))
    async with open_app(load_config(config_file)) as app:
        await poll_all_once(app)
        await poll_all_once(app)
        posts = await app.db.fetchall("SELECT stream FROM posts WHERE stream IN ('news_uk', 'news_ru')")
        aliases = await app.db.fetchall("SELECT stream, post_id FROM post_aliases")
    assert len(posts) == 1 and len(aliases) == 1
    assert aliases[0]["stream"] != posts[0]["stream"]


def test_canonical_url() -> None:
    assert canonical_url("HTTP://WWW.Example.org/a/b/?utm_source=x&id=3&fbclid=9#frag") == "https://example.org/a/b?id=3"
    assert canonical_url("mailto:x@example.org") is None


async def test_story_bench_of_our_own_reports_keeps_every_event_whole_and_no_lookalike(tmp_path: Path) -> None:
    # Ten strikes in uk/en/ru from three outlets with differing figures, follow-ups a day later,
    # eight look-alikes (bench/story_groups.py prints the same figures beside a naive grouping).
    rows = load_story_bench()
    analyses = [analyze(r["text"]) for r in rows]
    scores = score(rows, await project_groups(rows, analyses, tmp_path / "stories.db"))
    assert (scores.split, scores.merged) == ((), ())
    assert scores.f1 >= 0.95
    naive = score(rows, naive_groups(rows, analyses))
    assert scores.f1 > naive.f1 and naive.merged  # the set is hard enough for the naive grouping to fail


def test_event_date_is_read_from_the_text_and_resolved_against_publication() -> None:
    published = datetime(2026, 6, 5, 6, 0, tzinfo=UTC)  # a Friday, 09:00 in Kyiv
    cases = {
        "У ніч на 14 травня ворог атакував Харків дронами.": date(2026, 5, 14),
        "On the night of 3–4 June Russian drones hit Odesa.": date(2026, 6, 4),
        "В ночь на 5 июня беспилотники атаковали Сумы.": date(2026, 6, 5),
        "Вчора ввечері росіяни обстріляли Херсон.": date(2026, 6, 4),
        "Overnight on Tuesday, missiles hit Dnipro.": date(2026, 6, 2),
        "Цієї ночі ворог атакував Запоріжжя.": date(2026, 6, 5),
        "28 December Russian missiles hit Kyiv.": date(2025, 12, 28),
    }
    for text, expected in cases.items():
        stated = analyze(text).event_date
        assert stated is not None and resolve(stated, published) == expected, text
    assert analyze("У Харкові внаслідок удару пошкоджено будинок.").event_date is None


def test_exact_matching_rules() -> None:
    at = datetime(2026, 5, 12, 6, 0, tzinfo=UTC)

    def post(*tokens: str) -> frozenset[str]:
        return frozenset(("S:strike", "O:UA-63", *tokens))

    index = StoryIndex(timedelta(hours=12))
    index.reset(at)
    index.add(1, at, post("P:kharkiv", "W:drone", "D:2026-05-12"))
    # Figures differ and a weapon is missing: still the event, 30 h later when the date agrees.
    assert index.match(at + timedelta(hours=30), post("P:kharkiv", "D:2026-05-12")) == 1
    # Another stated date: never, even an hour later.
    assert index.match(at + timedelta(hours=1), post("P:kharkiv", "W:drone", "D:2026-05-11")) is None
    # Past the window without a date: a new story.
    assert index.match(at + timedelta(hours=13), post("P:kharkiv", "W:drone")) is None
    # Only the oblast named: joins with the weapon or the date, not on the oblast alone.
    assert index.match(at + timedelta(hours=1), post("W:drone")) == 1
    assert index.match(at + timedelta(hours=1), post("W:artillery")) is None
    # A fire in the same town is not the strike.
    assert index.match(at + timedelta(hours=1), frozenset({"S:other", "O:UA-63", "P:kharkiv"})) is None



def test_a_probe_matched_again_answers_as_a_fresh_match_whatever_changed_between() -> None:
    """The planner matches each post of a batch twice and the second reuses the first: however
    the stories change between (grown, re-dated, new, the index moved), the answer is a fresh one's."""
    rng = random.Random(7)
    at = datetime(2026, 5, 12, 6, 0, tzinfo=UTC)

    def features() -> frozenset[str]:
        tokens = {rng.choice(["S:strike", "S:other"]), f"O:UA-{rng.choice([63, 46])}"}
        tokens.update(f"P:p{rng.randrange(4)}" for _ in range(rng.randrange(3)))
        tokens.update(f"W:w{rng.randrange(2)}" for _ in range(rng.randrange(2)))
        tokens.update(f"D:2026-05-1{rng.randrange(2, 4)}" for _ in range(rng.randrange(2)))
        return frozenset(tokens)

    def when() -> datetime:
        return at + timedelta(hours=rng.uniform(-40, 40))

    index = StoryIndex(timedelta(hours=12))
    index.reset(at)
    for story_id in range(1, 30):
        index.add(story_id, when(), features())
    probes = [index.probe(when(), features()) for _ in range(60)]
    for probe in probes:
        index.find(probe)
    reused = 0
    for step in range(1000):
        if step % 97 == 96:
            index.reset(at)  # moved: every probe's answer is stale
        index.add(rng.randrange(1, 40), when(), features())
        probe = rng.choice(probes)
        reused += probe.seen is not None and probe.seen[1] < index._tick
        assert index.find(probe) == index.match(probe.at, probe.parts.features)
    assert reused  # the comparison covered answers kept from before the change

async def test_a_follow_up_after_a_restart_joins_through_the_dates_kept_in_the_archive(tmp_path: Path) -> None:
    first = datetime(2026, 5, 12, 4, 0, tzinfo=UTC)
    texts = [
        (first, "Вночі ворог атакував Харків ударними безпілотниками: пошкоджено будинок, поранено трьох людей."),
        (first + timedelta(hours=30), "Кількість постраждалих внаслідок атаки на Харків у ніч на 12 травня зросла до 7."),
        (first + timedelta(hours=31), "У ніч на 13 травня ворог знову атакував Харків дронами, пошкоджено склад."),
    ]
    db = await Database.open(tmp_path / "archive.db")
    try:
        source = await ensure_source(db, "feed", "rss", None)
        stories = []
        for n, (at, text) in enumerate(texts):
            planner = StoryPlanner(window=timedelta(hours=12), alert_max_age=0)  # a fresh process each time
            post = RawPost(stream="feed", external_id=str(n), url=None, published_at=at, text=text, kind="article")
            async with db.write() as conn:
                (change,) = await upsert_posts(conn, source.id, [post])
                story, _ = await planner.attach_and_plan(conn, change, analyze(text))
            stories.append(story.id)
    finally:
        await db.close()
    assert stories[1] == stories[0]  # 30 h later, the same night: the same story
    assert stories[2] != stories[0]  # the next night in the same town: another


async def _cluster(path: Path, posts: list[RawPost], *, batch: bool) -> tuple[list, list, list]:
    """Stories, revisions and alerts of `posts` stored in one batch or one at a time."""
    db = await Database.open(path)
    try:
        source = await ensure_source(db, "feed", "rss", None)
        planner = StoryPlanner(window=timedelta(hours=12), alert_max_age=86400)
        async with db.write() as conn:
            for chat, region in ((1, "UA-63"), (2, "UA-12"), (3, "UA-63")):
                await upsert_chat(conn, chat, "uk")
                await subscribe(conn, chat, region, region, "oblast")
            for group in [posts] if batch else [[p] for p in posts]:
                changes = await upsert_posts(conn, source.id, group)
                await planner.attach_all(conn, [(c, analyze(c.post.text)) for c in changes])
        stories = await db.fetchall(
            "SELECT id, is_strike, oblasts, places, weapons, killed, injured, first_post_id, event_at, revision, features "
            "FROM stories ORDER BY id")
        revisions = await db.fetchall("SELECT story_id, revision, post_id, killed, injured, places FROM story_revisions ORDER BY 1, 2")
        alerts = await db.fetchall("SELECT chat_id, story_id, post_id, revision FROM outbox ORDER BY 1, 2")
        return [tuple(r) for r in stories], [tuple(r) for r in revisions], [tuple(r) for r in alerts]
    finally:
        await db.close()


async def test_a_page_in_one_batch_makes_the_stories_and_alerts_of_one_post_at_a_time(tmp_path: Path) -> None:
    at = datetime.now(UTC) - timedelta(hours=3)
    texts = [
        UK,
        "Дніпропетровщина: ворог атакував Нікополь з артилерії, поранено двох людей.",
        "Балаклія: кількість загиблих внаслідок ракетного удару зросла до 2, травмовані 9 людей.",
        "Харківщина: рятувальники ліквідували пожежу в сухостої поблизу Балаклії.",
        "Нікополь: внаслідок артилерійського обстрілу поранено трьох людей.",
    ]
    posts = [RawPost(stream="feed", external_id=str(n), url=None, published_at=at + timedelta(minutes=5 * n), text=t)
             for n, t in enumerate(texts)]
    batched = await _cluster(tmp_path / "batch.db", posts, batch=True)
    assert batched == await _cluster(tmp_path / "one.db", posts, batch=False)
    stories, revisions, alerts = batched
    assert len(stories) < len(posts)  # follow-ups joined their stories inside the batch
    assert any(revision > 1 for _, revision, *_ in revisions)  # and raised their figures
    assert {chat for chat, *_ in alerts} == {1, 2, 3}
    assert len(alerts) == len(set((chat, story) for chat, story, *_ in alerts))


async def test_copies_of_an_article_in_one_batch_are_one_post(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "a.db")
    try:
        source = await ensure_source(db, "feeds", "rss", None)
        when = datetime(2024, 5, 1, tzinfo=UTC)
        page = [
            RawPost("news_uk", "a1", "https://news.example.org/a/1?utm_source=rss", when, "Удар по Нікополю", kind="article"),
            RawPost("news_ru", "b1", "https://www.news.example.org/a/1/#top", when, "Удар по Никополю", kind="article"),
            RawPost("news_uk", "a2", "https://news.example.org/a/2", when, "Пожежа", kind="article"),
        ]
        async with db.write() as conn:
            changes = await upsert_posts(conn, source.id, page)
            assert [c.raw.external_id for c in changes] == ["a1", "a2"]
            # Seen again with an edit of the second: the copy stays a copy, the edit is a version.
            again = await upsert_posts(conn, source.id, [page[1], RawPost("news_uk", "a2", page[2].url, when, "Пожежа ліквідована", kind="article")])
        assert [(c.kind, c.raw.external_id, c.post.version) for c in again] == [("edited", "a2", 2)]
        aliases = await db.fetchall("SELECT stream, external_id, post_id FROM post_aliases")
        assert [tuple(a) for a in aliases] == [("news_ru", "b1", changes[0].post.id)]
    finally:
        await db.close()


async def test_the_planners_kept_watchers_follow_every_change_of_who_watches(tmp_path: Path) -> None:
    """Watchers are kept between pages, never past a subscribe, unsubscribe, mute, block or
    reactivation, whichever connection (the bot's, another process's) made it."""
    path = tmp_path / "archive.db"
    db = await Database.open(path)
    try:
        source = await ensure_source(db, "feed", "rss", None)
        planner = StoryPlanner(window=timedelta(hours=12), alert_max_age=86400)
        cache = planner.watchers
        regions = {"UA-63", "UA-12"}
        at = datetime.now(UTC) - timedelta(hours=1)
        towns = iter(["Балаклії", "Ізюма", "Куп'янська", "Чугуєва", "Лозової", "Мерефи", "Богодухова"])

        async def kept_is_current() -> dict[str, dict[int, int]]:
            async with db.write() as conn:
                kept = await cache.watchers_by_region(conn, regions)
                assert kept == await watchers_by_region(conn, regions)
            return kept

        async def alerted() -> set[int]:
            """The chats the planner queues a new strike in the Kharkiv oblast for."""
            text = f"Харківщина: внаслідок ракетного удару по {next(towns)} зруйновано будинок, поранено 2 людей."
            post = RawPost(stream="feed", external_id=text, url=None, published_at=at, text=text)
            async with db.write() as conn:
                (change,) = await upsert_posts(conn, source.id, [post])
                story, _ = await planner.attach_and_plan(conn, change, analyze(text))
            return {r[0] for r in await db.fetchall("SELECT chat_id FROM outbox WHERE story_id = ?", (story.id,))}

        async with db.write() as conn:
            for chat in (1, 2, 3):
                await upsert_chat(conn, chat, "uk")
            await subscribe(conn, 1, "UA-63", "Харківська область", "oblast")
        assert await alerted() == {1}
        async with db.write() as conn:
            await subscribe(conn, 2, "UA-63", "Харківська область", "oblast")
            await upsert_chat(conn, 1, "en")  # talking to the bot changes nobody's watch
        assert await alerted() == {1, 2}
        assert await kept_is_current() == {"UA-63": {1: 3, 2: 3}}
        async with db.write() as conn:
            await unsubscribe(conn, 1, "UA-63")
        assert await alerted() == {2}
        async with db.write() as conn:
            await mute(conn, 2, datetime.now(UTC) + timedelta(hours=1))
        assert await alerted() == set()
        async with db.write() as conn:
            await mute(conn, 2, datetime.now(UTC) - timedelta(seconds=1))  # a mute that has run out
        await deactivate_chat(db, 2)
        assert await kept_is_current() == {}
        async with db.write() as conn:
            await upsert_chat(conn, 2, "uk")  # back: active again
        assert await alerted() == {2}
        # Another process (a backfill beside the daemon's bot) subscribes on its own connection.
        other = sqlite3.connect(path)
        with other:
            other.execute(
                "INSERT INTO subscriptions (chat_id, region, region_name, level, created_at) "
                "VALUES (3, 'UA-63', 'Харківська область', 'raion', '2026-01-01T00:00:00Z')"
            )
        other.close()
        assert await alerted() == {2, 3}
        assert (await kept_is_current())["UA-63"] == {2: 3, 3: 2}
    finally:
        await db.close()
