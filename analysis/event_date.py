"""The day of the reported event, as the post states it.

Reports of one strike published a day or two apart (a follow-up with a higher toll) name the same
night ("у ніч на 14 травня", "on the night of 3–4 June", "в ночь на 5 июня") or say "вчора" /
"yesterday" of it; a strike in the same town a day later names another. The stated form is read
from the event part of the text (`stated_date`); the calendar day needs the post's publication
time (`resolve`), which detection does not know.

A night counts as the day it ends on: "у ніч на 14 травня", "3–4 June", "цієї ночі" in a
morning post are all that morning's date. Days are Kyiv calendar days.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from analysis._lexicon import _has_latin, word_start_alternation
from analysis._regex import compiled
from analysis.model import EventDate
from analysis.scope import _MONTHS, _fewest, _iter_dates, _lower
from dsns.timezone import KYIV

__all__ = ["stated_date", "resolve"]


_WEEKDAYS = {
    **dict.fromkeys(("понеділок", "понеділка", "понедельник", "понедельника", "monday"), 0),
    **dict.fromkeys(("вівторок", "вівторка", "вторник", "вторника", "tuesday"), 1),
    # Only "у середу / в среду": "среды" is also "environment's".
    **dict.fromkeys(("середу", "среду", "wednesday"), 2),
    **dict.fromkeys(("четвер", "четверга", "четверг", "thursday"), 3),
    **dict.fromkeys(("п'ятницю", "п’ятницю", "п'ятниця", "п’ятниця", "пятницу", "пятница", "пятницы", "friday"), 4),
    **dict.fromkeys(("суботу", "субота", "суботи", "субботу", "суббота", "субботы", "saturday"), 5),
    **dict.fromkeys(("неділю", "неділя", "воскресенье", "воскресенья", "sunday"), 6),
}
_YESTERDAY = ("вчора", "учора", "вчера", "yesterday")
_TODAY = (
    "сьогодні", "сегодня", "today", "цієї ночі", "минулої ночі", "вночі", "уночі", "этой ночью", "прошлой ночью",
    "ночью", "last night", "overnight", "tonight", "this morning", "вранці", "уранці", "утром", "этим утром",
)
_RELATIVE_WORDS = (*_WEEKDAYS, *_YESTERDAY, *_TODAY)
_RELATIVE = compiled(
    "(?:" + word_start_alternation(sorted(_RELATIVE_WORDS, key=len, reverse=True), r"[\w'’]") + r")(?![\w'’])"
)
_WORD_REST = compiled(r"[\w'’]*")


class _Heads:
    """Substrings every one of some words holds (stems, and the words no stem is in), to find
    where a text can name those words: most posts name none, and substring tests cost a small
    part of a regex scan; a post that holds some heads is scanned only around them."""

    __slots__ = ("cyrillic", "latin", "reach")

    def __init__(self, words: Iterable[str], stems: tuple[str, ...]) -> None:
        words = tuple(words)
        heads = _fewest((*stems, *words))
        # The Latin heads looked for only in a text holding Latin letters: most posts hold none.
        self.cyrillic = tuple(h for h in heads if not h.isascii())
        self.latin = tuple(h for h in heads if h.isascii())
        self.reach = max(map(len, words))

    def around(self, low: str, latin: bool) -> tuple[int, int] | None:
        """The part of `low` (holding Latin letters or not) where one of the words can stand:
        from the first head to the last, widened by the longest word each way and to the end of a
        word, so a scan of it finds what a scan of the whole text finds (look-behinds and `\\b`
        see the characters before it). None when `low` holds no head."""
        found = [head for head in self.cyrillic if head in low]
        if latin:
            found += [head for head in self.latin if head in low]
        if not found:
            return None
        end = min(len(low), max(map(low.rfind, found)) + self.reach)
        return max(0, min(map(low.find, found)) - self.reach), _WORD_REST.match(low, end).end()


_MONTH_HEADS = _Heads(_MONTHS, (
    "січ", "лют", "берез", "квіт", "травн", "травен", "черв", "лип", "серп", "верес", "жовт", "листопад", "груд",
    "январ", "феврал", "март", "апрел", "июн", "июл", "август", "ябр", "декабр",
))
_RELATIVE_HEADS = _Heads(_RELATIVE_WORDS, (
    "day", "night", "ноч", "ранці", "утром", "чора", "неділ", "понедельн", "вівтор", "вторн", "четвер", "ятниц",
    "субот", "суббот", "воскресен",
))


def stated_date(event: str) -> EventDate | None:
    """The first date the event text names (a night as the day it ends on), else a weekday,
    else "yesterday" or "tonight / today"; None when it names none."""
    low = _lower(event)
    latin = _has_latin(low)
    span = _MONTH_HEADS.around(low, latin)
    found = next(_iter_dates(low, *span), None) if span else None
    if found:
        day, month = found[1]
        return EventDate(month=month, day=day)
    span = _RELATIVE_HEADS.around(low, latin)
    words = [m.group(0) for m in _RELATIVE.finditer(low, *span)] if span else None
    if not words:
        return None
    # "overnight on Tuesday", "вчора вночі": the weekday or "yesterday" is the more precise word.
    for word in words:
        if word in _WEEKDAYS:
            return EventDate(weekday=_WEEKDAYS[word])
    return EventDate(days_ago=1 if any(w in _YESTERDAY for w in words) else 0)


def resolve(stated: EventDate, published: datetime) -> date | None:
    """The calendar day `stated` means in a post published at `published` (a stated day of a
    month falls in the year that puts it nearest to publication)."""
    today = published.astimezone(KYIV).date()
    if stated.days_ago is not None:
        return today - timedelta(days=stated.days_ago)
    if stated.weekday is not None:
        return today - timedelta(days=(today.weekday() - stated.weekday) % 7)
    if stated.month is None or stated.day is None:
        return None
    best: date | None = None
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidate = date(year, stated.month, stated.day)
        except ValueError:  # 30 лютого
            continue
        if best is None or abs(candidate - today) < abs(best - today):
            best = candidate
    return best
