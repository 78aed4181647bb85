"""Table-driven tests of `parse_page` over hand-written t.me/s pages in tests/fixtures/tme/."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from collectors.base import RawPost, Rejected, SourceParseError
from collectors.telegram_web import LinkPreview, WebPost, _collapsed, parse_page, parse_views

FIXTURES = Path(__file__).parent / "fixtures" / "tme"
CDN = "https://cdn4.telesco.pe/file"


def page(name: str, base_url: str = "https://t.me") -> list[WebPost]:
    return parse_page((FIXTURES / name).read_text(encoding="utf-8"), base_url)


def post(name: str, message_id: int) -> WebPost:
    (found,) = [p for p in page(name) if p.id == message_id]
    return found


# (fixture, message id, field, expected value)
FIELD_CASES: list[tuple[str, int, str, Any]] = [
    ("text_posts.html", 10401, "channel", "dsns_telegram"),
    ("text_posts.html", 10401, "url", "https://t.me/dsns_telegram/10401"),
    ("text_posts.html", 10401, "published_at", datetime(2024, 5, 10, 5, 12, 40, tzinfo=UTC)),
    (
        "text_posts.html",
        10401,
        "text",
        "❗️Харківщина: наслідки ракетного удару по Балаклії\n\n"
        "Внаслідок удару зруйновано приватний будинок. Загинула 1 людина, ще 8 — травмовані.\n"
        "Рятувальники ліквідували пожежу.\n\n#Харківщина",
    ),
    ("text_posts.html", 10401, "views", 987),
    ("text_posts.html", 10401, "edited", False),
    ("text_posts.html", 10401, "kind", "message"),
    ("text_posts.html", 10401, "photos", ()),
    ("text_posts.html", 10401, "forwarded_from", None),
    ("text_posts.html", 10401, "link_preview", None),
    # A reply quotes the earlier post with the same class names: only the reply's own text counts.
    ("text_posts.html", 10402, "text", "Оновлення: кількість травмованих зросла до 9.\nДеталі — на сайті ДСНС."),
    ("text_posts.html", 10402, "views", 1200),
    ("text_posts.html", 10403, "views", 436600),
    ("text_posts.html", 10403, "text", "Одещина: вночі ворог атакував ударними БпЛА портову інфраструктуру. "
     "Виникла пожежа на площі 300 м². Постраждалих немає."),
    (
        "album.html",
        10410,
        "photos",
        (f"{CDN}/album-one.jpg", f"{CDN}/album-two.jpg", f"{CDN}/album-three.jpg"),
    ),
    ("album.html", 10410, "text", "Запоріжжя: ракетний удар по промисловому підприємству. "
     "Триває пошуково-рятувальна операція."),
    ("album.html", 10410, "views", 25000),
    ("album.html", 10413, "photos", (f"{CDN}/single-photo.jpg",)),
    ("album.html", 10413, "text", ""),
    ("album.html", 10413, "views", 12000),
    # The duration <time> comes first in the markup and has no datetime: it must not be the date.
    ("video.html", 10420, "published_at", datetime(2024, 5, 12, 3, 58, tzinfo=UTC)),
    ("video.html", 10420, "video_thumbs", (f"{CDN}/video-thumb.jpg",)),
    ("video.html", 10420, "photos", ()),
    ("video.html", 10420, "views", 88100),
    ("video.html", 10420, "text", "Київ: рятувальники розбирають завали після нічної атаки. Відео з місця події."),
    ("forwarded.html", 10430, "forwarded_from", "ДСНС Харківщини"),
    ("forwarded.html", 10430, "views", 3400),
    ("forwarded.html", 10431, "forwarded_from", "Прихований користувач"),
    ("forwarded.html", 10431, "views", None),
    (
        "link_preview.html",
        10440,
        "link_preview",
        LinkPreview(
            url="https://dsns.gov.ua/news/pidsumky",
            site="ДСНС України",
            title="Оперативна інформація за добу",
            description="Рятувальники ліквідували 112 пожеж, піротехніки знешкодили 42 боєприпаси.",
        ),
    ),
    ("link_preview.html", 10440, "text", "Підсумки роботи за добу: dsns.gov.ua/news/pidsumky"),
    # The card's image is the linked site's, not a photo of the post.
    ("link_preview.html", 10440, "photos", ()),
    ("edited.html", 10450, "edited", True),
    ("edited.html", 10450, "views", 1_500_000),
    ("edited.html", 10450, "published_at", datetime(2024, 5, 15, 8, 15, 32, tzinfo=UTC)),
    ("edited.html", 10451, "edited", False),
    ("edited.html", 10451, "views", 2_000_000),
    ("service.html", 10460, "kind", "service"),
    ("service.html", 10460, "text", "Channel photo updated"),
    ("service.html", 10461, "kind", "service"),
    ("service.html", 10461, "text", "ДСНС України pinned «Правила поведінки під час повітряної тривоги»"),
]


@pytest.mark.parametrize(("fixture", "message_id", "field", "expected"), FIELD_CASES)
def test_field(fixture: str, message_id: int, field: str, expected: Any) -> None:
    assert getattr(post(fixture, message_id), field) == expected


@pytest.mark.parametrize(
    ("fixture", "ids"),
    [
        ("text_posts.html", [10401, 10402, 10403]),
        ("album.html", [10410, 10413]),
        ("video.html", [10420]),
        ("forwarded.html", [10430, 10431]),
        ("link_preview.html", [10440]),
        ("edited.html", [10450, 10451]),
        ("service.html", [10460, 10461]),
        ("no_posts.html", []),
        ("empty_channel.html", []),
    ],
)
def test_page_ids_oldest_first(fixture: str, ids: list[int]) -> None:
    assert [p.id for p in page(fixture)] == ids


def test_every_date_is_aware_utc() -> None:
    for fixture in sorted(FIXTURES.glob("*.html")):
        if fixture.name == "garbage.html":
            continue
        for p in page(fixture.name):
            assert p.published_at is not None and p.published_at.utcoffset() == UTC.utcoffset(None)


def test_not_a_tme_page_is_a_parse_error() -> None:
    with pytest.raises(SourceParseError, match="not a t.me/s page") as info:
        parse_page((FIXTURES / "garbage.html").read_text(encoding="utf-8"), source="dsns")
    assert info.value.source == "dsns"


def test_a_bad_data_post_costs_that_message_only() -> None:
    good = '<div class="tgme_widget_message" data-post="dsns_telegram/7"><div class="tgme_widget_message_text">ok</div></div>'
    bad = ["abc", "²", "9" * 5000, str(2**63), "0"]
    html = "".join(f'<div class="tgme_widget_message" data-post="dsns_telegram/{b}"></div>' for b in bad) + good
    rejected: list[Rejected] = []
    assert [p.id for p in parse_page(html, rejected=rejected)] == [7]
    assert [r.external_id for r in rejected] == bad
    assert all("data-post" in r.reason and len(r.reason) < 200 for r in rejected)


def test_offset_dates_are_converted_to_utc() -> None:
    html = (FIXTURES / "edited.html").read_text(encoding="utf-8").replace(
        "2024-05-15T08:15:32+00:00", "2024-05-15T11:15:32+03:00"
    )
    first = parse_page(html)[0]
    assert first.published_at == datetime(2024, 5, 15, 8, 15, 32, tzinfo=UTC)
    assert first.published_at.tzinfo == UTC


def test_base_url_builds_post_urls_and_resolves_relative_images() -> None:
    html = (FIXTURES / "album.html").read_text(encoding="utf-8").replace(
        "https://cdn4.telesco.pe/file/single-photo.jpg", "/img/single.jpg"
    )
    single = [p for p in parse_page(html, "http://127.0.0.1:8080/") if p.id == 10413][0]
    assert single.url == "http://127.0.0.1:8080/dsns_telegram/10413"
    assert single.photos == ("http://127.0.0.1:8080/img/single.jpg",)


def test_to_raw_carries_identity_media_and_preview() -> None:
    video = post("video.html", 10420).to_raw()
    assert isinstance(video, RawPost)
    assert (video.stream, video.external_id) == ("dsns_telegram", "10420")
    assert video.photos == (f"{CDN}/video-thumb.jpg",)
    assert video.views == 88100
    preview = post("link_preview.html", 10440).to_raw()
    assert preview.link_preview == "https://dsns.gov.ua/news/pidsumky"
    service = post("service.html", 10460).to_raw()
    assert service.kind == "service"


def test_stream_is_lower_cased_but_url_keeps_the_channel_spelling() -> None:
    html = (FIXTURES / "edited.html").read_text(encoding="utf-8").replace("dsns_telegram/", "DSNS_Telegram/")
    raw = parse_page(html)[0].to_raw()
    assert raw.stream == "dsns_telegram"
    assert raw.url == "https://t.me/DSNS_Telegram/10450"


@pytest.mark.parametrize(
    ("shown", "views"),
    [("987", 987), ("1.2K", 1200), ("436.6K", 436600), ("1.5M", 1_500_000), ("12K", 12000),
     ("2M", 2_000_000), ("", None), (None, None), ("many", None)],
)
def test_parse_views(shown: str | None, views: int | None) -> None:
    assert parse_views(shown) == views


@pytest.mark.parametrize("text", ["", " ", "a b", " a  b\t\n c\xa0\xa0d ", "\u3000x\u2003\u2003y\n", "\n\n", "слово  \xa0 слово"])
def test_whitespace_collapses_as_a_browser_shows_it(text: str) -> None:
    assert _collapsed(text) == re.sub(r"\s+", " ", text)
