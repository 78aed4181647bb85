"""Hostile pages and feeds parse in linear time and within the caps on what one post may hold."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from collectors.base import RawPost, SourceParseError
from collectors.budget import MAX_PHOTOS, MAX_TEXT_BYTES, MAX_TITLE_BYTES, parse_in_thread, trimmed
from collectors.html import MAX_DEPTH, html_to_text, shallow
from collectors.rss import LENIENT_MAX_BYTES, parse_feed
from collectors.telegram_web import parse_page

TME = Path(__file__).parent / "fixtures" / "tme"


def _rss(items: str) -> bytes:
    return f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def _message(inner: str, post_id: int = 5) -> str:
    return (
        '<div class="tgme_channel_history">'
        f'<div class="tgme_widget_message" data-post="chan/{post_id}">'
        f'<div class="tgme_widget_message_text">{inner}</div>'
        '<a class="tgme_widget_message_date"><time datetime="2024-05-01T10:00:00+00:00"></time></a>'
        "</div></div>"
    )


def test_html_to_text_keeps_breaks_entities_and_literal_angle_brackets() -> None:
    html = "<p>Вибух&nbsp;у <b>Харкові</b></p><p>двоє<br>поранених</p>a < b<script>x()</script><div>кінець</div>"
    assert html_to_text(html) == "Вибух у Харкові\nдвоє\nпоранених\na < b\nкінець"


def test_feed_of_angle_brackets_is_read_not_frozen_on() -> None:
    # 1.2 MB of `&lt;`: the old tag pattern backtracked over it for 95 s.
    body = _rss(f"<item><guid>g1</guid><title>t</title><description>{'&lt;' * 300_000}</description></item>")
    (post,) = parse_feed(body, stream="news")
    assert post.text.startswith("<<<") and len(post.text.encode()) <= MAX_TEXT_BYTES


def test_deeply_nested_page_is_parsed_with_its_text() -> None:
    # 100,000 nested <div> took 6 minutes in lexbor's tree builder (quadratic in depth).
    html = _message("<div>" * 100_000 + "Удар по Сумах" + "</div>" * 100_000)
    (post,) = parse_page(html, source="chan")
    assert post.id == 5 and post.text == "Удар по Сумах"
    assert post.published_at == datetime(2024, 5, 1, 10, tzinfo=UTC)


def test_shallow_caps_nesting_and_keeps_text() -> None:
    deep = "<div>" * (MAX_DEPTH + 50) + "x" + "</div>" * (MAX_DEPTH + 50)
    flat = shallow(deep)
    assert flat.count("<div>") == MAX_DEPTH and flat.count("</div>") == MAX_DEPTH and "x" in flat
    # Self-closing tags inside SVG, raw text and void elements do not nest.
    icons = "<svg>" + '<path d="M0"/>' * 400 + "</svg>" + "<script>" + "<b" * 400 + "</script>" + "<br>" * 400
    assert shallow(icons) == icons


@pytest.mark.parametrize("fixture", sorted(p.name for p in TME.glob("*.html")))
def test_shallow_changes_no_real_page(fixture: str) -> None:
    html = (TME / fixture).read_text(encoding="utf-8")
    assert shallow(html) == html


def test_long_fields_are_cut_and_the_post_kept() -> None:
    title = "Заголовок " * 500
    text = "Текст повідомлення. " * 10_000
    photos = "".join(f'<enclosure url="https://img.example.org/{n}.jpg" type="image/jpeg"/>' for n in range(30))
    body = _rss(f"<item><guid>g1</guid><title>{title}</title><description>{text}</description>{photos}</item>")
    (post,) = parse_feed(body, stream="news")
    assert post.title is not None and len(post.title.encode()) <= MAX_TITLE_BYTES and post.title.endswith("…")
    assert len(post.text.encode()) <= MAX_TEXT_BYTES and post.text.startswith("Текст повідомлення.")
    assert len(post.photos) == MAX_PHOTOS and post.photos[0] == "https://img.example.org/0.jpg"


def test_trimmed_leaves_a_small_post_alone() -> None:
    post = RawPost(stream="s", external_id="1", url=None, published_at=None, text="ok", title="t")
    assert trimmed(post) is post


def test_entries_per_poll_are_capped() -> None:
    items = "".join(f"<item><guid>g{n}</guid><title>n{n}</title></item>" for n in range(40))
    posts = parse_feed(_rss(items), stream="news", max_entries=25)
    assert len(posts) == 25 and {p.external_id for p in posts} == {f"g{n}" for n in range(25)}


async def test_parse_over_budget_is_the_sources_failure() -> None:
    started = time.monotonic()
    with pytest.raises(SourceParseError, match="^news: parse took longer than 0.05 s"):
        await parse_in_thread(time.sleep, 0.5, source="news", budget=0.05)
    assert time.monotonic() - started < 0.45  # the poll stopped waiting; the thread ran on


def test_a_large_feed_that_is_not_well_formed_is_refused_not_read_slowly() -> None:
    # feedparser's lenient pure-Python parser would spend minutes on this much broken markup.
    filler = "<div>" * (LENIENT_MAX_BYTES // 5)
    body = _rss(f"<item><guid>g1</guid><title>a & b</title><description>{filler}</description></item>")
    with pytest.raises(SourceParseError, match=r"^news: not well-formed XML .* only feeds under 2097152 bytes"):
        parse_feed(body, stream="news")
    small = _rss("<item><guid>g1</guid><title>a & b</title><description>ok</description></item>")
    assert [p.external_id for p in parse_feed(small, stream="news")] == ["g1"]


@pytest.mark.parametrize(
    ("html", "error"),
    [
        (_message('<div class="tgme_widget_message" data-post="chan/6">inner</div>'), "the page has messages inside messages"),
        ("".join(_message("x", n) for n in range(1, 300)), "the page has 299 messages"),
        (_message('<div class="tgme_widget_message_text">x</div>' * 5000), "the page has 5001 message texts and photos"),
    ],
)
def test_page_shapes_no_tme_page_has_are_refused(html: str, error: str) -> None:
    # Each message searches its own subtree: nested or countless parts would multiply the work.
    with pytest.raises(SourceParseError, match=f"^chan: {error}"):
        parse_page(html, source="chan")


def test_a_message_of_millions_of_tags_is_read_up_to_the_cap() -> None:
    (post,) = parse_page(_message("<b>слово</b> " * 400_000), source="chan")
    text = post.to_raw().text
    assert text.startswith("слово слово") and len(text.encode()) <= MAX_TEXT_BYTES
