"""`stated_date` finds a date or a relative day wherever it stands in a real-length text: it looks
only around the substrings (heads) the words hold, so every word must hold one."""

from __future__ import annotations

import pytest

from analysis.event_date import _WEEKDAYS, _YESTERDAY, stated_date
from analysis.model import EventDate
from analysis.scope import _MONTHS

# Written for this test: a filler with no date and no relative day in it.
FILLER = "Рятувальники ліквідували пожежу, пошкоджено будинок і авто. " * 6


@pytest.mark.parametrize("at", ["start", "middle", "end"])
def test_every_month_name_and_relative_word_is_read_wherever_it_stands(at: str) -> None:
    def placed(phrase: str) -> str:
        return {"start": f"{phrase.capitalize()} {FILLER}", "middle": f"{FILLER}{phrase} {FILLER}",
                "end": f"{FILLER}{phrase}"}[at]

    for month, number in _MONTHS.items():
        assert stated_date(placed(f"5 {month}")) == EventDate(month=number, day=5), month
    for word, weekday in _WEEKDAYS.items():
        assert stated_date(placed(word)) == EventDate(weekday=weekday), word
    for word in _YESTERDAY:
        assert stated_date(placed(f"{word} вночі")) == EventDate(days_ago=1), word
    for word in ("вночі", "this morning", "этой ночью", "last night", "сьогодні"):
        assert stated_date(placed(word)) == EventDate(days_ago=0), word


def test_the_first_weekday_counts_and_words_inside_others_do_not() -> None:
    text = f"У ніч на вівторок {FILLER} Удар у неділю. {FILLER}"
    assert stated_date(text) == EventDate(weekday=1)
    assert stated_date(f"{FILLER} Травмовано двох, майже {FILLER} Надвечір'я.") is None
    assert stated_date(f"{FILLER}вчорашній день, 5 травнями") is None
