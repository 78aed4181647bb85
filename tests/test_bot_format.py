"""Alert formatting: escaping, Telegram's limits, Kyiv time, Ukrainian and English labels."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.format import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    AlertContent,
    format_alert,
    kyiv_time,
    utf16_len,
    visible_len,
    weapon_label,
)
from tests.fakes.botapi import check_html

SAMPLE = (
    "Харківщина: внаслідок ракетного удару по Балаклії зруйновано приватний будинок. "
    "Загинула 1 людина, ще 8 — травмовані. Рятувальники ліквідували пожежу. "
)


def alert(**overrides: object) -> AlertContent:
    fields: dict[str, object] = dict(
        published_at=datetime(2024, 5, 1, 6, 40, tzinfo=UTC),
        source_url="https://t.me/dsns_telegram/123",
        source_name="ДСНС України",
        excerpt=SAMPLE,
        places=["Балаклія, Харківська обл."],
        oblasts=["Харківська обл."],
        weapons=["missile"],
        killed=1,
        injured=8,
    )
    fields.update(overrides)
    return AlertContent(**fields)  # type: ignore[arg-type]


def parsed(markup: str) -> str:
    error, text = check_html(markup)
    assert error is None, error
    return text


def test_uk_alert_has_every_part() -> None:
    out = format_alert(alert())
    text = parsed(out.text)
    assert "Удар: Харківська обл." in text
    assert "Балаклія, Харківська обл." in text
    assert "ракети" in text
    assert "Загинули: 1" in text and "Поранені: 8" in text
    assert "01.05.2024 09:40" in text  # 06:40 UTC is 09:40 in Kyiv in summer (UTC+3)
    assert "Рятувальники ліквідували пожежу" in text
    assert '<a href="https://t.me/dsns_telegram/123">ДСНС України</a>' in out.text
    assert out.caption is None  # no photo, no caption


def test_en_labels() -> None:
    text = parsed(format_alert(alert(weapons=["guided_bomb", "fpv"], children_killed=1), lang="en").text)
    assert "Strike: Харківська обл." in text
    assert "guided bombs, FPV drones" in text
    assert "Killed: 1 (children: 1)" in text and "Injured: 8" in text
    assert "Kyiv time" in text
    assert "Загинули" not in text


@pytest.mark.parametrize(
    ("code", "uk", "en"),
    [
        ("artillery", "артилерія", "artillery"),
        ("drone", "дрони", "drones"),
        ("fpv", "FPV-дрони", "FPV drones"),
        ("guided_bomb", "КАБи", "guided bombs"),
        ("missile", "ракети", "missiles"),
        ("mlrs", "РСЗВ", "MLRS"),
    ],
)
def test_weapon_labels(code: str, uk: str, en: str) -> None:
    assert weapon_label(code) == uk
    assert weapon_label(code, "uk") == uk
    assert weapon_label(code, "en") == en


def test_unknown_weapon_code_is_shown_not_crashed_on() -> None:
    assert weapon_label("glide<bomb>", "en") == "glide<bomb>"
    text = format_alert(alert(weapons=["glide<bomb>"])).text
    assert "glide&lt;bomb&gt;" in text


def test_casualty_lines_only_when_known() -> None:
    text = parsed(format_alert(alert(killed=None, injured=None)).text)
    assert "Загинули" not in text and "Поранені" not in text
    zero = parsed(format_alert(alert(killed=0, injured=None)).text)
    assert "Загинули: 0" in zero and "Поранені" not in zero
    kids = parsed(format_alert(alert(killed=None, injured=3, children_killed=2, children_injured=1)).text)
    assert "Загинули діти: 2" in kids and "Поранені: 3 (з них діти: 1)" in kids


def test_everything_from_the_post_is_escaped() -> None:
    nasty = alert(
        excerpt='Удар <b>по</b> "Нікополю" & <script>alert(1)</script> &amp; 5 > 3',
        places=["<i>Нікополь</i> & Co"],
        oblasts=["Дніпропетровська <обл.>"],
        source_name="ДСНС <script>",
        source_url='https://example.com/news?a=1&b="2"',
    )
    out = format_alert(nasty)
    text = parsed(out.text)  # the fake's Telegram HTML parser accepts it
    assert "<script>" not in out.text and "<i>" not in out.text
    assert 'Удар <b>по</b> "Нікополю" & <script>alert(1)</script> &amp; 5 > 3' in text
    assert "<i>Нікополь</i> & Co" in text
    assert "Дніпропетровська <обл.>" in text
    assert 'href="https://example.com/news?a=1&amp;b=&quot;2&quot;"' in out.text


def test_non_http_source_url_is_not_a_link() -> None:
    out = format_alert(alert(source_url="javascript:alert(1)", source_name="Хтось"))
    assert "<a " not in out.text and "javascript" not in out.text


def test_long_ukrainian_text_fits_the_message_limit() -> None:
    long = alert(excerpt=SAMPLE * 80, has_photo=True)  # ~12,000 characters
    out = format_alert(long)
    assert out.caption is not None
    assert utf16_len(parsed(out.text)) <= TEXT_LIMIT
    assert utf16_len(parsed(out.caption)) <= CAPTION_LIMIT
    assert visible_len(out.text) == utf16_len(parsed(out.text))
    # the room is used, not thrown away
    assert utf16_len(parsed(out.text)) > TEXT_LIMIT - 60
    assert utf16_len(parsed(out.caption)) > CAPTION_LIMIT - 60
    assert "…</blockquote>" in out.caption
    # the header and the source link survive truncation
    assert "Загинули: 1" in out.caption and "t.me/dsns_telegram/123" in out.caption


def test_truncation_never_cuts_an_entity() -> None:
    # every character escapes to an entity, so any byte-wise cut would land inside one
    out = format_alert(alert(excerpt="<&>\"'" * 1000, has_photo=True))
    for markup, limit in ((out.text, TEXT_LIMIT), (out.caption or "", CAPTION_LIMIT)):
        text = parsed(markup)
        assert utf16_len(text) <= limit
        body = markup.split("<blockquote>")[1].split("</blockquote>")[0]
        assert html.escape(html.unescape(body.removesuffix("…"))) == body.removesuffix("…")


def test_emoji_counted_as_two_utf16_units() -> None:
    out = format_alert(alert(excerpt="🔥" * 3000, has_photo=True))
    caption = parsed(out.caption or "")
    assert len(caption) < utf16_len(caption) <= CAPTION_LIMIT
    assert "\ud83d" not in out.caption  # no lone surrogate halves


def test_many_places_still_fit_a_caption() -> None:
    places = [f"Село-з-дуже-довгою-назвою-номер-{i}, Харківська обл." for i in range(300)]
    out = format_alert(alert(places=places, has_photo=True))
    caption = parsed(out.caption or "")
    assert utf16_len(caption) <= CAPTION_LIMIT
    assert "та ще" in caption  # the rest summarised, not dropped silently


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2024, 1, 15, 12, 0, tzinfo=UTC), "15.01.2024 14:00"),  # winter, UTC+2
        (datetime(2024, 7, 15, 12, 0, tzinfo=UTC), "15.07.2024 15:00"),  # summer, UTC+3
        (datetime(2024, 3, 31, 0, 59, tzinfo=UTC), "31.03.2024 02:59"),  # just before DST starts
        (datetime(2024, 3, 31, 1, 0, tzinfo=UTC), "31.03.2024 04:00"),  # the hour is skipped
        (datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "27.10.2024 03:30"),  # last summer minutes
        (datetime(2024, 10, 27, 1, 30, tzinfo=UTC), "27.10.2024 03:30"),  # the hour repeats
        (datetime(2024, 5, 1, 9, 40, tzinfo=timezone(timedelta(hours=3))), "01.05.2024 09:40"),
        (datetime(2024, 5, 1, 6, 40), "01.05.2024 09:40"),  # naive is taken as UTC
    ],
)
def test_kyiv_time(moment: datetime, expected: str) -> None:
    assert kyiv_time(moment) == expected
    assert expected in format_alert(alert(published_at=moment)).text


def test_many_oblasts_in_title_are_summarised() -> None:
    text = parsed(format_alert(alert(oblasts=["Харківська", "Сумська", "Полтавська", "Київська", "Одеська"])).text)
    assert "Удар: Харківська, Сумська, Полтавська +2" in text
