"""Which sentences of a post report its event, and which are background.

Real posts carry more than the event: an "as reported earlier" paragraph about another attack, a
bullet list of last week's strikes, "the region is shelled daily", "besides X, where …". Places,
weapons, figures and the strike verdict must come from the event alone, or a background paragraph
puts a second oblast on the alert and its toll in the figures.

    from analysis.scope import scope
    s = scope(text)                  # or scope(text, oblasts_of) - see rule 2 and 6
    s.event          # the text with background blanked out (same length, offsets kept)
    s.sentences      # (Sentence(start, end, background), ...) in text order
    s.background     # True when anything was set aside

`event` keeps every character position of `text` (background characters become spaces, a line
break stays a line break), so a reader can map a position in `event` back to `text`. When every
sentence would be background the whole text is the event: a post is about something.
`sentence_spans(text)` is the sentence cutter alone ((start, end, paragraph) triples).
`oblasts_of` (text -> ISO codes of the places it names; `analyze` passes one over
`regions.find_places`) lets places decide what dates cannot.

Rules, in order (one pass over the sentences, linear in the text):

1. A sentence opening with a background marker ("Нагадаємо", "Як повідомлялося", "Раніше …",
   "Напомним", "Как сообщалось", "Ранее …", "As reported", "Earlier", "Previously", "Recall" …)
   starts background that runs to the end of its paragraph when it opens the paragraph, and over
   the sentences that go on with it ("Тоді …") when it stands inside one (a one-paragraph post
   goes back to its event: "Раніше повідомлялося про трьох. Станом на 14:00 – п'ятеро"); a marker
   standing alone on a line ("Recall", "Нагадаємо:") makes the next paragraph background.
   "Раніше сьогодні / Earlier today" is the same day's event, not background.
2. Such a block retells the event, and stays event, when it names no other day and no "the day
   before / first / another attack", and every place it names lies in an oblast the event names
   ("Як повідомлялося, 23 січня у Запоріжжі …" in a post about that attack). Without `oblasts_of`
   a date shared with the event decides.
3. Outside those blocks, a sentence that names dates, none of them the event's, and either says
   "earlier / then / last …" or is a bullet line, is about another day, and so is the rest of its
   paragraph.
4. A sentence about what happens habitually ("регулярно", "щодня", "regularly", "almost daily",
   "since the start of the full-scale invasion") is context, not the event; so is one that only
   says explosions were heard somewhere ("Explosions were also reported in X and Y"), with no
   damage, fire or casualty of its own.
5. A wire dateline opening a paragraph ("КИЇВ. 19 липня. УНН.") names the desk, not the event.
6. With places to compare (`oblasts_of`), a bullet item that says "also / також / также" about
   places only in other oblasts than the event's is another item of news.
7. Inside a sentence, "Окрім/Крім/Кроме/Помимо/Besides/Apart from X, де/где/where …" up to the next
   comma is another place's story.

The event's dates are those of the first three sentences outside background blocks and bullet lists.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from functools import wraps
from itertools import chain
from typing import Callable, TypeVar

from analysis._lexicon import alternation
from analysis._regex import compiled

__all__ = ["Scope", "Sentence", "scope", "event_text", "sentence_spans"]

_MONTHS = {
    **dict.fromkeys(("січня", "січень", "января", "январь", "january", "jan"), 1),
    **dict.fromkeys(("лютого", "лютий", "февраля", "февраль", "february", "feb"), 2),
    **dict.fromkeys(("березня", "березень", "марта", "март", "march", "mar"), 3),
    **dict.fromkeys(("квітня", "квітень", "апреля", "апрель", "april", "apr"), 4),
    **dict.fromkeys(("травня", "травень", "мая", "май", "may"), 5),
    **dict.fromkeys(("червня", "червень", "июня", "июнь", "june", "jun"), 6),
    **dict.fromkeys(("липня", "липень", "июля", "июль", "july", "jul"), 7),
    **dict.fromkeys(("серпня", "серпень", "августа", "август", "august", "aug"), 8),
    **dict.fromkeys(("вересня", "вересень", "сентября", "сентябрь", "september", "sept", "sep"), 9),
    **dict.fromkeys(("жовтня", "жовтень", "октября", "октябрь", "october", "oct"), 10),
    **dict.fromkeys(("листопада", "листопад", "ноября", "ноябрь", "november", "nov"), 11),
    **dict.fromkeys(("грудня", "грудень", "декабря", "декабрь", "december", "dec"), 12),
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
# "5 червня", "3–4 June", "June 5", "June 3-4" (the last day of a night counts). Found from the
# month names (fewer than numbers), on lower-case text: case-insensitive Cyrillic alternations are
# what makes a scan slow.
_MONTH_RX = compiled(rf"\b(?:{alternation(sorted(_MONTHS, key=len, reverse=True))})\b")
# The same month names after the character before them (`\W`, which `\b` asks for): a pattern
# opening with a class lets the engine skip in C to the next non-word character, where `\b` is
# tried at every position. A month at the very start of a span is `_MONTH_RX`'s to find.
_MONTH_AFTER = compiled(rf"\W(?:{alternation(sorted(_MONTHS, key=len, reverse=True))})\b")
_DAY_BEFORE = compiled(r"(?<![\d.:,])(\d{1,2})(?:\s*[-–—]\s*(\d{1,2}))?(?:-?го)?\s+$")
_DAY_AFTER = compiled(r"\.?\s+(\d{1,2})(?:\s*[-–—]\s*(\d{1,2}))?(?:st|nd|rd|th)?(?![\d:.,]?\d)")
# A sentence ends at . ! ? … followed by space and something that can open a sentence; not after
# an abbreviation ("м. Харків", "с. Лапаївка", "вул. Шевченка", "кв. м") or an initial. One
# pattern per mark, each opening with its literal: the engine skips to the next one in C, where a
# pattern opening with a class of the four tests every character against it (~20 times slower).
_SENT_MARKS = ".!?…"
_SENT_ENDS = tuple(
    compiled(re.escape(mark) + r"[\"»”’)]*[ \t]+(?=[\"«“„(\-–—•]*[ \t]*[A-ZА-ЯІЇЄҐ0-9])") for mark in _SENT_MARKS
)
_ABBREV = frozenset(
    "м с смт сел пгт г гор ул вул просп пров пл обл р н кв км тис млн млрд грн ст св ім им буд д "
    "mr mrs ms dr st gen col lt sgt no vol pp".split()
)
_LAST_WORD = compiled(r"[\w-]+")  # matched on the text before a dot, reversed
# A dot after this many letters follows no abbreviation (nor an initial): the commonest case, told
# without reading the word.
_LONGER = max(map(len, _ABBREV)) + 1

_MARKER = compiled(
    r"[\s\"«“„(\-–—•*]*(?:"
    r"нагада(?:ємо|ю|ли)|нагадуємо|як (?:раніше |вже )?повідомлял\w*|"
    r"як (?:раніше |вже )?(?:писал\w*|писав|інформувал\w*)|як відомо,? раніше|"
    r"раніше(?!\s+(?:сьогодні|цього дня|вранці сьогодні|цієї ночі))|"
    r"напомн\w*|напоминаем|как (?:ранее |уже )?(?:сообщал\w*|писал\w*|информировал\w*)|"
    r"ранее(?!\s+(?:сегодня|этим утром|этой ночью))|"
    r"recall\b|(?:we (?:would like to )?|let us |let's )remind|as (?:previously |earlier |already |we (?:have |had )?)reported|"
    r"as reported(?! by)|as \w+ (?:wrote|reported) (?:earlier|previously|before)|earlier(?!\s+(?:today|this (?:morning|evening|week)|on the same day))|"
    r"previously\b|it was (?:earlier|previously) reported"
    r")"
)
# A marker that is the whole line ("Recall", "Нагадаємо:"): the next paragraph is the background.
_MARKER_LINE = compiled(
    r"[\s\"«“„(\-–—•*]*(?:нагадаємо|нагадуємо|напомним|напоминаем|recall|let us remind(?: you)?|"
    r"довідково|справка|background)"
    r"[\s:.!—–-]*$"
)
_PAST = compiled(
    r"(?<!\w)(?:раніше|ранее|earlier|previously|тоді|тогда|минулого|прошлого|last (?:week|month|year)|торік|"
    r"в прошлом|у минулому|before that|до цього|до этого)"
)
# A sentence that goes on telling the background ("Тоді загинули троє").
_GOES_ON = compiled(r"[\s\"«“„(\-–—]*(?:тоді|тогда|того дня|в тот день|then\b|at the time|back then|at that time)")
_BULLET = compiled(r"\s*[-–—•*]\s")
_BULLET_LINE = compiled(r"^[ \t]*[-–—•*][ \t]", re.MULTILINE)
# The same after a line break, found by the break: see `_line_patterns`.
_BULLET_NL = compiled(r"\n[ \t]*[-–—•*][ \t]")
_PAST_WORDS = ("раніше", "ранее", "earlier", "previously", "тоді", "тогда", "минулого", "прошлого", "last ",
               "торік", "минулому", "прошлом", "before that", "до цього", "до этого")
_HABITUAL_WORDS = ("регулярн", "щодня", "щоденно", "систематич", "ежедневно", "постоянно", "regular", "daily",
                   "every day", "constantly", "з початку", "с начала", "since ")
_BESIDES_WORDS = ("окрім", "крім", "кроме", "помимо", "besides", "apart from")
# Explosions heard, and what would make the sentence a report of a hit after all.
_HEARD_WORDS = ("вибух", "взрыв", "explosion")
_HEARD = compiled(
    r"вибух\w* (?:\w+ ){0,2}?(?:пролунал|лунал|лунають|було чути|чути|чулис)|(?:пролунал\w*|лунал\w*|лунають|чути) "
    r"(?:\w+ ){0,2}?вибух|взрыв\w* (?:\w+ ){0,2}?(?:прогремел|слышн|раздавал|раздал|прозвучал)|"
    r"(?:прогремел\w*|раздал\w*|прозвучал\w*|слышн\w*) (?:\w+ ){0,2}?взрыв|"
    r"explosions? (?:\w+ ){0,3}?(?:heard|reported|rang out|thundered)|heard (?:\w+ ){0,2}?explosions?"
)
_HAPPENED = compiled(
    r"(?<!\w)(?:пошкодж|зруйн|влуч|загин|поранен|постражд|пожеж|загор|поврежд|разруш|попад|погиб|ранен|пострада|"
    r"пожар|возгор|уламк|обломк|damag|destroy|kill|injur|wound|fire|hit\b|struck|debris)"
)
# "Russia also attacked Odesa" in a bullet list: another item of news.
_ALSO_WORDS = ("also", "також", "также", "тоже", "так само")
_ALSO = compiled(r"(?<!\w)(?:also|також|также|тоже|так само)(?!\w)")
_MARKER_WORDS = ("нагада", "нагадуємо", "повідомлял", "писал", "писав", "інформувал", "раніше", "напомн", "напомина",
                 "сообщал", "информировал", "ранее", "recall", "remind", "reported", "wrote", "earlier",
                 "previously", "довідково", "справка", "background")


def _fewest(words: tuple[str, ...]) -> tuple[str, ...]:
    """`words` in order, each once, without those holding another: the same `_has`, fewer scans."""
    return tuple(w for w in dict.fromkeys(words) if not any(v != w and v in w for v in words))


def _by_script(words: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`words` for `_has`: the Latin ones apart, not looked for in a text without an "a" or an "e"
    (a Ukrainian or Russian post: two scans in C for a single character instead of one per word)."""
    latin = tuple(w for w in words if w.isascii())
    if not all("a" in w or "e" in w for w in latin):
        raise ValueError(f"a Latin word without an 'a' or an 'e' in {latin}: `_has` would miss it")
    return tuple(w for w in words if not w.isascii()), latin


# Whether any rule has something to act on. The markers first (a post with background names one
# of the first few), then explosions, the commonest cue of strike reports: a post naming "вибух"
# is told so after 22 tests, not 58.
_CUE_WORDS = _by_script(_fewest(_MARKER_WORDS + _HEARD_WORDS + _PAST_WORDS + _HABITUAL_WORDS + _BESIDES_WORDS))
_HAS_PAST, _HAS_HABITUAL, _HAS_BESIDES, _HAS_ALSO = map(_by_script, (_PAST_WORDS, _HABITUAL_WORDS, _BESIDES_WORDS, _ALSO_WORDS))
_HABITUAL = compiled(
    r"(?<!\w)(?:регулярно|регулярн\w+ (?:обстріл|обстрел|удар|атак)\w*|щодня|щоденно|систематично|систематически|ежедневно|постоянно|"
    r"regularly|(?:under )?regular (?:\w+ )?(?:shelling|attacks?|strikes?|fire)|almost daily|every day|daily basis|constantly|systematically|"
    r"з початку (?:повномасштабно\w*|війни|вторгнення)|с начала (?:полномасштабно\w*|войны|вторжения)|"
    r"since the (?:start|beginning) of the (?:full-scale|war|invasion)|since (?:february )?2022)"
)
# A wire dateline opening a paragraph ("КИЇВ. 19 липня. УНН.", "MOSCOW, June 3. /TASS/."): the
# outlet's desk, not the event's place.
_DATELINE_BODY = (
    rf"[ \t]*[A-ZА-ЯІЇЄҐ'’ -]{{3,}}[.,][ \t]+(?i:\d{{1,2}}[ \t]+(?:{_MONTH})|(?:{_MONTH})[ \t]+\d{{1,2}})[.,]?"
    r"(?:[ \t]+/?[\w.-]+/?\.)?"
)
_DATELINE = compiled("^" + _DATELINE_BODY, re.MULTILINE)
_DATELINE_NL = compiled("\n" + _DATELINE_BODY)
# In a marker block: it is about another time or another attack than the event.
_OTHER_TIME = compiled(
    r"(?<!\w)(?:напередодні|накануне|the (?:day|night) before|вчора|учора|вчера|yesterday|позавчора|позавчера|"
    r"минулого|прошлого|last (?:week|month|year)|торік|тоді|тогда|"
    r"(?:перш|перв|інш|друг)\w* (?:\w+ )?(?:обстр|удар|атак|прил)\w*|ще (?:одн|один)\w* (?:\w+ )?(?:удар|атак|обстр)\w*|"
    r"ещ[её] (?:одн|один)\w* (?:\w+ )?(?:удар|атак|обстр)\w*|(?:another|first|other|previous) (?:\w+ ){0,2}(?:attack|strike|shelling)s?)"
)
# "Окрім Харкова, де …," – another place's story inside the sentence.
_BESIDES = compiled(
    r"(?<!\w)(?:окрім|крім|кроме|помимо|besides|apart from)\s+(?!того\b|цього\b|этого\b|that\b|this\b)"
    r"[^,.;]{1,60},\s*(?:де|где|where)\b[^,.;]*[,.;]?"
)


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    background: bool


@dataclass(frozen=True, slots=True)
class Scope:
    text: str
    event: str
    spans: tuple[tuple[int, int, int], ...] | None  # (start, end, paragraph) of each sentence; None: not cut
    background_ids: frozenset[int]                   # indexes into `spans`

    @property
    def sentences(self) -> tuple[Sentence, ...]:
        spans = self.spans if self.spans is not None else sentence_spans(self.text)
        return tuple(Sentence(a, b, i in self.background_ids) for i, (a, b, _) in enumerate(spans))

    @property
    def background(self) -> bool:
        return self.event != self.text


def _iter_dates(low: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, tuple[int, int]]]:
    """(position, (day, month)) of every date the lower-case text `low` names (those whose month
    stands between `start` and `end`, a span no word crosses), found as they are asked for."""
    if end is None:
        end = len(low)
    first = _MONTH_RX.match(low, start, end)
    found = chain(((first.start(), first),) if first else (), ((m.start() + 1, m) for m in _MONTH_AFTER.finditer(low, start, end)))
    for at, m in found:
        day = _DAY_BEFORE.search(low, max(0, at - 12), at) or _DAY_AFTER.match(low, m.end())
        if day:
            d = int(day.group(2) or day.group(1))
            if 1 <= d <= 31:
                yield at, (d, _MONTHS[low[at:m.end()]])


_T = TypeVar("_T")


def _keep_last(read: Callable[[str], _T]) -> Callable[[str], _T]:
    """`read` answering again without work when asked of the very text (the same object) it was
    last asked of: `analyze` hands one post's text, and its event (mostly that text itself), to one
    reader after another. The object is compared, not its characters: no long text is hashed for
    a question seldom asked twice, and the one text held cannot be freed and its id reused."""
    last: list[tuple[str | None, _T | None]] = [(None, None)]

    @wraps(read)
    def kept(text: str) -> _T:
        seen, answer = last[0]  # (one pair, swapped whole: a thread reads the old or the new)
        if seen is not text:
            answer = read(text)
            last[0] = (text, answer)
        return answer  # type: ignore[return-value]

    return kept


# Lower-cased by `scope`, and the event by `event_date`.
_lower = _keep_last(str.lower)


# Cut by `scope`, and the event by the strike reader, twice.
@_keep_last
def sentence_spans(text: str) -> tuple[tuple[int, int, int], ...]:
    """(start, end, paragraph number) of every sentence; a line break ends a paragraph."""
    out: list[tuple[int, int, int]] = []
    para = 0
    pos = 0
    # One scan of the whole text: a sentence end never crosses a line break (`_SENT_ENDS` admit
    # none), so its matches are those of a scan per line.
    ends = [m.span() for m in _SENT_ENDS[0].finditer(text)]
    more = [m.span() for mark, rx in zip(_SENT_MARKS[1:], _SENT_ENDS[1:]) if mark in text for m in rx.finditer(text)]
    if more:  # a match holds one mark: those of the four patterns are those of one scan
        ends = sorted(ends + more)
    e, count = 0, len(ends)
    for line in text.split("\n"):
        end = pos + len(line)
        stripped = line.rstrip()
        if stripped:
            start = pos
            while e < count and ends[e][0] < end:
                at, after = ends[e]
                e += 1
                cut = at + 1
                if text[at] == "." and not (at - _LONGER >= start and text[at - _LONGER:at].isalpha()):
                    # The word before the dot, read backwards: an abbreviation?
                    last = _LAST_WORD.match(text[max(start, cut - 16):at][::-1])
                    if last and (len(last.group()) == 1 or last.group()[::-1].lower() in _ABBREV):
                        continue
                out.append((start, cut, para))
                start = after
            stop = pos + len(stripped)
            if stop > start:
                out.append((start, stop, para))
            para += 1
        pos = end + 1  # a blank line holds no sentence end: `e` needs no moving past it
    return tuple(out)


def scope(text: str, oblasts_of: Callable[[str], set[str]] | None = None) -> Scope:
    """Split `text` into sentences and set the background apart (rules in the module docstring).

    `oblasts_of` (text -> ISO codes of the places it names) lets a marker block that retells the
    event itself count as event: no other day, no "the day before / first / another attack", and
    every place it names in an oblast the event names. Without it, a shared date decides.
    """
    low = _lower(text)
    if len(low) != len(text):  # a letter whose lower case is longer: keep positions
        low = "".join(c.lower()[0] for c in text)
    # Line-start patterns: at the start, then after each line break (`_line_patterns`).
    bullets = bool(_BULLET_LINE.match(text) or _BULLET_NL.search(text))
    if not (_has(low, _CUE_WORDS) or bullets or _DATELINE.match(text) or _DATELINE_NL.search(text)):
        return Scope(text, text, None, frozenset())  # nothing any rule could act on
    spans = sentence_spans(text)
    if len(spans) < 2:
        return Scope(text, text, spans, frozenset())
    # Background blocks opened by a marker, each a list of sentence indexes.
    blocks: list[list[int]] = []
    whole = False
    block_para = carry_para = -1
    for i, (a, b, para) in enumerate(spans):
        if para == carry_para or (para == block_para and (whole or _GOES_ON.match(low, a, b))):
            blocks[-1].append(i)
            block_para = para
            continue
        block_para = -1
        line = _MARKER_LINE.match(low, a, b)
        if i > 0 and (line or _MARKER.match(low, a, b)):
            blocks.append([i])
            block_para = para
            carry_para = para + 1 if line else -1
            # Opening its paragraph, a marker takes the paragraph; inside one, only its sentence
            # and those that go on with it ("Тоді …").
            whole = i == 0 or spans[i - 1][2] != para
    in_block = {i for block in blocks for i in block}
    # Dates matter only to marker blocks, "earlier …" sentences and bullet lists, and are read
    # sentence by sentence as asked: a scan for month names costs per letter, and the sentences
    # after the lead are asked only when the lead names a date.
    with_dates = bool(blocks or _has(low, _HAS_PAST) or bullets)

    known: dict[int, set[tuple[int, int]]] = {}

    def dated(a: int, b: int) -> set[tuple[int, int]]:
        # A sentence is asked up to three times (the lead, the other-day rule, a block): read once.
        if not with_dates:
            return set()
        found = known.get(a)
        if found is None:
            found = known[a] = {d for _, d in _iter_dates(low, a, b)}
        return found

    event_dates: set[tuple[int, int]] = set()
    seen = 0
    for i, (a, b, _) in enumerate(spans):
        if i in in_block or (i > 1 and _BULLET.match(low, a, b)):
            continue
        event_dates |= dated(a, b)
        seen += 1
        if seen == 3:
            break
    background = {i for block in blocks for i in block}
    habitual = _has(low, _HAS_HABITUAL) and _HABITUAL.search(low) is not None
    # Where the words every `_HEARD` match holds stand: only sentences holding one are scanned.
    heard = sorted(i for w in _HEARD_WORDS for i in _find_all(low, w))
    # Likewise the words every `_PAST` match holds: a sentence without one needs neither that scan
    # nor its dates read.
    past = sorted(i for w in _PAST_WORDS for i in _find_all(low, w)) if event_dates else []
    other_day_para = -1
    for i, (a, b, para) in enumerate(spans):
        if i in in_block or i == 0:
            continue
        if para == other_day_para:
            background.add(i)
        elif (event_dates and (_BULLET.match(low, a, b) or ((k := bisect_left(past, a)) < len(past) and past[k] < b
                                                            and _PAST.search(low, a, b)))
              and (named := dated(a, b)) and not named & event_dates):
            background.add(i)
            other_day_para = para
        elif habitual and _HABITUAL.search(low, a, b):
            background.add(i)
        elif (heard and (k := bisect_left(heard, a)) < len(heard) and heard[k] < b
              and _HEARD.search(low, a, b) and not _HAPPENED.search(low, a, b)):
            background.add(i)
    if len(background) == len(spans):
        background.clear()
    asides = _asides(text, low)
    event = _blank(text, spans, background, asides)
    if blocks and background:
        event_oblasts: set[str] | None = None  # asked when a block names places
        retold = set()
        for block in blocks:
            body = " ".join(text[spans[i][0]:spans[i][1]] for i in block)
            # The cheaper questions first: the words, the dates, the places last (finding them
            # costs the most).
            if oblasts_of is None:
                same = bool(event_dates) and bool(_block_dates(block, spans, dated) & event_dates)
            elif _OTHER_TIME.search(body.lower()) or not _block_dates(block, spans, dated) <= event_dates:
                same = False
            else:
                block_oblasts = oblasts_of(body)
                if block_oblasts and event_oblasts is None:
                    event_oblasts = oblasts_of(event)
                same = bool(block_oblasts) and block_oblasts <= event_oblasts  # type: ignore[operator]
            if same:
                retold.update(block)
        if retold:
            background -= retold
            event = _blank(text, spans, background, asides)
    if oblasts_of is not None and bullets and _has(low, _HAS_ALSO):
        others = _other_places(text, low, spans, background, asides, oblasts_of)
        if others:
            background |= others
            event = _blank(text, spans, background, asides)
    return Scope(text, event, spans, frozenset(background))


def _block_dates(block: list[int], spans: tuple[tuple[int, int, int], ...],
                 dated: Callable[[int, int], set[tuple[int, int]]]) -> set[tuple[int, int]]:
    """The dates the sentences of a marker block name."""
    return set().union(*(dated(spans[i][0], spans[i][1]) for i in block))


def _other_places(text: str, low: str, spans: tuple[tuple[int, int, int], ...], background: set[int],
                  asides: list[tuple[int, int]], oblasts_of: Callable[[str], set[str]]) -> set[int]:
    """Bullet items that say "also" about places of other oblasts only: other news in a list."""
    items: dict[int, list[int]] = {}
    for i, (a, b, para) in enumerate(spans):
        if i not in background and para > 0 and (para in items or _BULLET.match(low, a, b)):
            items.setdefault(para, []).append(i)
    also = {para: ids for para, ids in items.items()
            if any(_ALSO.search(low, spans[i][0], spans[i][1]) for i in ids)}
    if not also:
        return set()
    core = oblasts_of(_blank(text, spans, background | {i for ids in also.values() for i in ids}, asides))
    out: set[int] = set()
    for ids in also.values():
        where = oblasts_of(" ".join(text[spans[i][0]:spans[i][1]] for i in ids))
        if where and core and not where & core:
            out.update(ids)
    return out


def _has(low: str, words: tuple[tuple[str, ...], tuple[str, ...]]) -> bool:
    """Whether `low` holds one of `words` (`_by_script`)."""
    # Substring tests first: a scan with a word alternation costs many times more.
    cyrillic, latin = words
    for w in cyrillic:
        if w in low:
            return True
    if latin and ("a" in low or "e" in low):  # every Latin word holds one
        for w in latin:
            if w in low:
                return True
    return False


def _find_all(low: str, word: str) -> Iterator[int]:
    """Where `word` stands in `low`."""
    i = low.find(word)
    while i >= 0:
        yield i
        i = low.find(word, i + 1)


def _line_patterns(text: str, first: re.Pattern[str], after_break: re.Pattern[str]) -> list[tuple[int, int]]:
    """Spans where a `^` pattern that never crosses a line matches: `first` at the start, and
    `after_break`, the same pattern opening with a line break instead of `^`, for the others: the
    engine skips in C to each line break, where `^` is tried at every character."""
    at_start = first.match(text)
    return ([at_start.span()] if at_start else []) + [(m.start() + 1, m.end()) for m in after_break.finditer(text)]


def _asides(text: str, low: str) -> list[tuple[int, int]]:
    """Spans of the "besides X, where …" asides and the datelines, blanked whatever the sentences."""
    cuts = [m.span() for m in _BESIDES.finditer(low)] if _has(low, _HAS_BESIDES) else []
    return cuts + _line_patterns(text, _DATELINE, _DATELINE_NL)


def _blank(text: str, spans: tuple[tuple[int, int, int], ...], background: set[int], asides: list[tuple[int, int]]) -> str:
    """`text` with background sentences and the `asides` (`_asides`) as spaces."""
    cuts = [(spans[i][0], spans[i][1]) for i in background] + asides
    if not cuts:
        return text
    out: list[str] = []
    pos = 0
    for a, b in sorted(cuts):
        if b <= pos:
            continue
        a = max(a, pos)
        out.append(text[pos:a])
        out.append("\n".join(" " * len(line) for line in text[a:b].split("\n")))  # line breaks kept
        pos = b
    out.append(text[pos:])
    return "".join(out)


def event_text(text: str) -> str:
    """`scope(text).event`: the text with its background blanked out."""
    return scope(text).event
