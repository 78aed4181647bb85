"""Hypothesis fuzzing of what reads outside input: t.me pages, feeds, post texts, bot updates, the config.

Each must either work or fail with one of our error classes, never with a stray exception; the
analyser must never raise at all (a post it raised on once held back a whole channel).
"""

from __future__ import annotations

import asyncio
import json
import os
import string
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from analysis.analyze import analyze
from analysis.model import Analysis
from bot.commands import Answer, CommandContext, Reply, handle_update
from collectors.base import MAX_MESSAGE_ID, SourceParseError, valid_posts
from collectors.rss import parse_feed
from collectors.telegram_web import parse_page
from monitor.config import Config, ConfigError, load_config
from storage.database import Database
from storage.errors import StorageError
from tests.fakes.server import Request
from tests.fakes.tme import FakeTelegram

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)
markupish = st.text(alphabet=string.ascii_letters + string.digits + "<>/=\"' &;#:.-_?%\n\t", max_size=300)

# Post-like text with the Unicode that trips text code: digits of category Nd in other scripts and
# of category No (superscripts, circled), fractions, combining marks, right-to-left text and
# marks, zero-width characters, emoji sequences, letters without a Unicode name (Tangut), all
# inside and between the words and numbers of casualty, place and weapon phrases.
ODD_UNICODE = (
    "٣۴७௫๓０𝟗" "²³¹⁴①⑴⒈½⅓↉𐄇" "\u0301\u0300\u0306\u0308\u0483\u20dd"
    "\u200f\u202b\u202e\u2067\u061cאבעربي" "\u200b\u200c\u200d\u2060\ufeff\u00ad"
    "🔥🚀💥👶🏽🇺🇦❤️\ufe0f" "𗀀\U000e0001\U0010fffd"
)
PHRASES = (
    "загинули", "загинула жінка", "травмовано", "поранені", "ще", "з них", "серед них", "дітей", "людини",
    "загалом", "кількість загиблих зросла до", "постраждалих немає", "Харківщина", "Балаклії", "на Одещині",
    "у Києві", "Іванівка", "ракетний удар", "атака БпЛА", "шахедів", "на площі", "м", "м²", "км", "га",
    "2", "14", "100", "2024", "0", "killed", "injured", "people", "Kharkiv region", "погибли", "ранены",
)
# Each phrase, and each odd character standing alone as a word, is one private-use character.
PHRASE_CHARS = {0xE000 + i: f" {phrase} " for i, phrase in enumerate(PHRASES + tuple(ODD_UNICODE))}
_ALPHABET = ODD_UNICODE + ".,:;!?-–'’ \n0123456789ХаБкAz" + "".join(map(chr, PHRASE_CHARS))
post_like = st.text(_ALPHABET, max_size=60).map(lambda s: s.translate(PHRASE_CHARS))
# Arbitrary Unicode comes as a text of its own: in a union with st.characters() the alphabet
# would merge into all of Unicode, where the phrases would hardly ever be drawn.
noise = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
post_text = st.tuples(post_like, noise).map(lambda t: t[0] + t[1])

# Drawing a text costs Hypothesis far more than analysing it, so each example is analysed as
# four texts: the post-like one, the noise, and the noise after and inside the post. CI
# (CI=true) analyses 20,000 texts (5,000 examples, about 10 s of CPU), a local run a tenth.
ANALYSER_EXAMPLES = 5_000 if os.environ.get("CI") else 500


@settings(max_examples=ANALYSER_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(post_like, noise, st.sampled_from([(None, None), ("dsns_telegram", None), ("dsns_kharkiv", "UA-63")]))
# What it found: a superscript or circled digit next to a casualty word, a capitalised Latin
# word ending in a letter with no Unicode name, a number too long for int().
@example("Пожежу ліквідовано на площі 100 м ². Постраждалих немає", "поранено ①", (None, None))
@example(" загинули ", "ÀAA𗀀", (None, None))
@example("загинули " + "9" * 5000, "", (None, None))
def test_analyser_never_raises(post: str, odd: str, source: tuple[str | None, str | None]) -> None:
    middle = len(post) // 2
    for sample in (post, odd, post + odd, post[:middle] + odd + post[middle:]):
        analysis = analyze(sample, channel=source[0], oblast_hint=source[1])
        c = analysis.casualties
        # Whatever the digits, a figure is a count SQLite can store.
        assert all(n is None or 0 <= n < 2**31 for n in (c.killed, c.injured, c.children_killed, c.children_injured))


def _page(messages: list[dict[str, Any]]) -> str:
    fake = FakeTelegram()
    fake.add_channel("chan", "Канал")
    for m in messages:
        fake.post("chan", html=m["html"], photos=m["photos"], views=m["views"], forwarded_from=m["fwd"],
                  service=m["service"], date=datetime(2024, 5, 1, tzinfo=UTC) + m["offset"], message_id=m["id"])
    reply = fake.route(Request("GET", "/s/chan", {}, {"host": "127.0.0.1:1"}, b""))
    return reply.body if isinstance(reply.body, str) else reply.body.decode()


message = st.fixed_dictionaries({
    "html": st.one_of(text, markupish, post_text),
    "photos": st.lists(st.text(string.ascii_letters + "'\"()", max_size=8), max_size=3).map(tuple),
    "views": st.one_of(st.none(), st.integers(0, 10**9), markupish),
    "fwd": st.one_of(st.none(), text),
    "service": st.booleans(),
    "offset": st.timedeltas(min_value=datetime.min - datetime(2024, 5, 1), max_value=datetime(9000, 1, 1) - datetime(2024, 5, 1)),
    "id": st.one_of(st.none(), st.integers(-(2**70), 2**70)),
})


@FUZZ
@given(st.lists(message, max_size=5), st.integers(0, 10**6), st.integers(0, 40), st.one_of(text, markupish))
def test_tme_page_parser(messages: list[dict[str, Any]], cut: int, span: int, insert: str) -> None:
    page = _page(messages)
    # Damage the real markup somewhere: a cut, an insertion, as a broken proxy or layout change would.
    at = cut % (len(page) + 1)
    for damaged in (page, page[:at] + insert + page[at + span :], page[:at]):
        try:
            posts = parse_page(damaged, "http://127.0.0.1:1", source="fuzz", rejected=[])
        except SourceParseError:
            continue
        assert all(isinstance(p.id, int) and 0 < p.id <= MAX_MESSAGE_ID and isinstance(p.text, str) for p in posts)
        _archivable_and_readable([p.to_raw() for p in posts])


def _archivable_and_readable(raws: list[Any]) -> None:
    """What a parser returns goes through the pipeline's check and the analyser without raising."""
    kept, rejected = valid_posts(raws)
    assert len(kept) + len(rejected) == len(raws)
    for post in kept:
        assert isinstance(analyze(f"{post.title}\n{post.text}" if post.title else post.text), Analysis)


FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{title}</title>{items}</channel></rss>"""
ITEM = "<item><title>{title}</title><link>{link}</link><guid>{guid}</guid><pubDate>{date}</pubDate><description>{desc}</description>{extra}</item>"
ATOM = """<feed xmlns="http://www.w3.org/2005/Atom"><title>{title}</title>{items}</feed>"""
ENTRY = "<entry><id>{guid}</id><title type=\"html\">{title}</title><link href=\"{link}\"/><updated>{date}</updated><content type=\"html\">{desc}</content>{extra}</entry>"

field = st.one_of(
    text.map(lambda s: s.replace("<", "&lt;").replace("&", "&amp;")),
    post_text.map(lambda s: s.replace("<", "&lt;").replace("&", "&amp;")), markupish, st.just(""),
)
entry = st.fixed_dictionaries({
    "title": field, "link": field, "guid": field, "desc": field,
    "date": st.one_of(field, st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S +0000")), st.datetimes().map(lambda d: d.isoformat())),
    "extra": st.sampled_from(["", '<enclosure url="http://x/y.jpg" type="image/jpeg"/>', "<media:content url='//x'/>", "<category/>"]),
})


@FUZZ
@given(st.booleans(), field, st.lists(entry, max_size=4), st.binary(max_size=40), st.integers(0, 10**5))
def test_feed_parser(atom: bool, title: str, entries: list[dict[str, str]], noise: bytes, at: int) -> None:
    shell, item = (ATOM, ENTRY) if atom else (FEED, ITEM)
    document = shell.format(title=title, items="".join(item.format(**e) for e in entries)).encode()
    cut = at % (len(document) + 1)
    for content in (document, document[:cut] + noise + document[cut:], document[:cut], noise):
        try:
            posts = parse_feed(content, stream="fuzz")
        except SourceParseError:
            continue
        assert all(p.external_id for p in posts)
        _archivable_and_readable(posts)


json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
command_text = st.one_of(
    text,
    st.tuples(
        st.sampled_from(["/start", "/help", "/subscribe", "/unsubscribe", "/list", "/mute", "/unmute", "/last",
                         "/stats", "/regions", "/language", "/frob", "/subscribe@dsns_monitor_bot"]),
        st.one_of(text, st.sampled_from(["", "Харківщина", "all", "UA-63", "8", "-1", "99999999999", "en", "Іванівка"])),
    ).map(" ".join),
)
chat_id = st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from([1, 900, 111]), json_value)
update = st.one_of(
    st.fixed_dictionaries({
        "update_id": st.integers(0, 2**31),
        "message": st.fixed_dictionaries({
            "message_id": st.integers(0, 10**6), "text": st.one_of(command_text, json_value),
            "chat": st.fixed_dictionaries({"id": chat_id, "type": st.sampled_from(["private", "group", None])}),
            "from": st.one_of(st.fixed_dictionaries({"id": chat_id, "language_code": st.one_of(text, st.sampled_from(["uk", "en", "ru"]), json_value)}), json_value),
        }),
    }),
    st.fixed_dictionaries({
        "update_id": st.integers(0, 2**31),
        "callback_query": st.fixed_dictionaries({
            "id": st.one_of(text, json_value),
            "from": st.fixed_dictionaries({"id": chat_id}),
            "message": st.one_of(json_value, st.fixed_dictionaries({"message_id": st.one_of(st.integers(), json_value),
                                                                     "chat": st.fixed_dictionaries({"id": chat_id})})),
            "data": st.one_of(text, json_value, st.sampled_from(["sub:UA-63", "obl:UA-63", "unsub:UA-63", "sub:", "obl:", "lang:en", "x"])),
        }),
    }),
    st.dictionaries(st.sampled_from(["update_id", "message", "edited_message", "callback_query", "poll"]), json_value, max_size=3),
)


@pytest.fixture
def loop_and_db(tmp_path: Path) -> Iterator[tuple[asyncio.AbstractEventLoop, Database]]:
    loop = asyncio.new_event_loop()
    db = loop.run_until_complete(Database.open(tmp_path / "bot.db"))
    yield loop, db
    loop.run_until_complete(db.close())
    loop.close()


async def _text(*args: object) -> str:
    return "ok"


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(update, min_size=1, max_size=3))
def test_bot_commands_never_crash(loop_and_db: tuple[asyncio.AbstractEventLoop, Database], updates: list[dict[str, Any]]) -> None:
    loop, db = loop_and_db
    ctx = CommandContext(admins={900}, stats_text=_text, last_text=_text)

    async def run() -> None:
        for u in updates:
            try:
                async with db.write() as conn:
                    actions = await handle_update(conn, u, ctx)
            except StorageError:
                continue
            for action in actions:
                assert isinstance(action, (Reply, Answer))
                if isinstance(action, Reply):
                    assert isinstance(action.chat_id, int) and isinstance(action.text, str) and action.text

    loop.run_until_complete(run())


KEYS = {
    "storage": ["database", "media_max_bytes", "allow_private_media", "media_concurrency", "media_timeout"],
    "http": ["timeout", "max_page_bytes"],
    "scheduler": ["jitter", "max_backoff", "shutdown_timeout"],
    "logging": ["level"],
    "bot": ["token_env", "api_url", "admins", "alert_max_age", "global_rate", "per_chat_interval", "poll_timeout"],
    "health": ["listen", "unhealthy_after"],
}
SOURCE_KEYS = ["type", "channel", "name", "url", "base_url", "interval", "enabled", "oblast", "first_pages", "max_pages"]
scalar = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), text,
    st.sampled_from(["telegram_web", "rss", "https://x.org/rss", "http://127.0.0.1:1", "dsns_telegram", "UA-63", "127.0.0.1:0", "", "INFO"]),
)
value = st.one_of(scalar, st.lists(scalar, max_size=3))


def _toml(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(v), repr(v))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml(x) for x in v) + "]"
    return json.dumps(v, ensure_ascii=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.dictionaries(st.sampled_from([*KEYS, "bogus"]), st.dictionaries(st.sampled_from(sum(KEYS.values(), []) + ["x"]), value, max_size=4), max_size=4),
    st.lists(st.dictionaries(st.sampled_from(SOURCE_KEYS), value, max_size=6), max_size=3),
    st.one_of(st.just(""), text, markupish),
)
def test_config_loader(tmp_path_factory: pytest.TempPathFactory, sections: dict, sources: list, junk: str) -> None:
    lines = []
    for name, body in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {_toml(v)}" for k, v in body.items()]
    for source in sources:
        lines.append("[[sources]]")
        lines += [f"{k} = {_toml(v)}" for k, v in source.items()]
    path = tmp_path_factory.mktemp("cfg") / "c.toml"
    for document in ("\n".join(lines), "\n".join(lines) + "\n" + junk):
        path.write_text(document, encoding="utf-8")
        try:
            assert isinstance(load_config(path), Config)
        except ConfigError as exc:
            assert str(exc).startswith(str(path))
