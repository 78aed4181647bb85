"""Feed parsing over saved samples written for these tests."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from collectors.base import SourceParseError
from collectors.rss import parse_feed

FEEDS = Path(__file__).parent / "fixtures" / "feeds"


def _read(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def test_rss_entries_keyed_by_guid_else_link_oldest_first() -> None:
    posts = parse_feed(_read("news_uk.xml"), stream="news")
    assert [p.external_id for p in posts] == [
        "news-1001",
        "https://news.example.org/2024/05/01/odesa-grass-fire",
        "https://news.example.org/2024/05/01/nikopol",
    ]
    first = posts[0]
    assert first.title == "Ракетний удар по Балаклії: загинула людина, восьмеро травмовані"
    assert first.text == "Уночі окупанти завдали ракетного удару по Балаклії на Харківщині.\nЗруйновано приватний будинок."
    assert first.published_at is not None and first.published_at.isoformat() == "2024-05-01T04:40:00+00:00"
    assert posts[1].kind == "article"


def test_images_from_enclosure_and_media_content() -> None:
    body = _read("news_uk.xml").replace(b"PHOTO_BASE", b"https://img.example.org")
    posts = parse_feed(body, stream="news")
    assert posts[0].photos == ("https://img.example.org/img/balakliia.jpg",)
    assert posts[1].photos == ("https://img.example.org/img/grass.jpg",)
    assert posts[2].photos == ()


def test_windows_1251_declaration_decodes() -> None:
    posts = parse_feed(_read("news_ru_cp1251.xml"), stream="ru")
    assert posts[0].title == "В Харькове после удара дронов загорелся склад"
    assert posts[1].text == "Ещё пятеро ранены, среди них ребёнок."


def test_atom() -> None:
    (post,) = parse_feed(_read("atom_en.xml"), stream="wire")
    assert post.external_id == "urn:test-wire:3001"
    assert post.url == "https://wire.example.org/3001"
    assert "Balakliia" in post.text


@pytest.mark.parametrize("body", [b"<html><body>Bad Gateway</body></html>", b"\xff\xfe\x00garbage", b""])
def test_not_a_feed_is_a_parse_error_naming_the_source(body: bytes) -> None:
    with pytest.raises(SourceParseError, match="^news: not a readable RSS/Atom feed"):
        parse_feed(body, stream="news")


def test_malformed_feed_keeps_what_it_can_and_warns(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        parse_feed(_read("malformed.xml"), stream="broken")
    assert any(getattr(r, "source", None) == "broken" and "malformed" in r.getMessage() for r in caplog.records)
