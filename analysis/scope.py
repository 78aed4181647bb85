"""Which sentences of a post report its event, and which are background.

Real posts carry more than the event: an "as reported earlier" paragraph about another attack, a
bullet list of last week's strikes, "the region is shelled daily", "besides X, where …". Places,
weapons, figures and the strike verdict must come from the event alone, or a background paragraph
puts a second oblast on the alert and its toll in the figures.

    from analysis.scope import scope
    s = scope(text)
    s.event          # the text with background blanked out (same length, offsets kept)
    s.sentences      # [Sentence(start, end, background), …] in text order
    s.background     # True when anything was set aside

`event` keeps every character position of `text` (background characters become spaces, a line
break stays a line break), so a reader can map a position in `event` back to `text`. When every
sentence would be background the whole text is the event: a post is about something.

Rules, in order (one pass over the sentences, linear in the text):

1. A sentence opening with a background marker ("Нагадаємо", "Як повідомлялося", "Раніше …",
   "Напомним", "Как сообщалось", "Ранее …", "As reported", "Earlier", "Previously", "Recall" …)
   starts background that runs to the end of its paragraph; a marker standing alone on a line
   ("Recall", "Нагадаємо:") makes the next paragraph background. "Раніше сьогодні / Earlier today"
   is the same day's event, not background.
2. Such a block stays event when it names a date (day and month) that the event also names: "Як
   повідомлялося, 23 січня …" in a post about 23 January retells the same attack.
3. Outside those blocks, a sentence that names dates, none of them the event's, and either says
   "earlier / then / last …" or is a bullet line, is about another day.
4. A sentence about what happens habitually ("регулярно", "щодня", "regularly", "almost daily",
   "since the start of the full-scale invasion") is context, not the event.
5. A wire dateline opening a paragraph ("КИЇВ. 19 липня. УНН.") names the desk, not the event.
6. Inside a sentence, "Окрім/Крім/Кроме/Помимо/Besides/Apart from X, де/где/where …" up to the next
   comma is another place's story.

The event's dates are those of the first three sentences outside background blocks and bullet lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

__all__ = ["Scope", "Sentence", "scope", "event_text"]

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
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))  # for the dateline only
# "5 червня", "3–4 June", "June 5", "June 3-4" (the last day of a night counts). Found from the
# numbers outward: a month-name alternation tried at every word is the slow part of a scan.
_DAY = re.compile(r"(?<![\d.:,])(\d{1,2})(?:\s*[-–—]\s*(\d{1,2}))?(?![\d:.,]\d)")
_WORD_AFTER = re.compile(r"(?:-?го|st|nd|rd|th)?\s+([^\W\d_]+)")
_WORD_BEFORE = re.compile(r"([^\W\d_]+)\.?\s+$")
# A sentence ends at . ! ? … followed by space and something that can open a sentence; not after
# an abbreviation ("м. Харків", "с. Лапаївка", "вул. Шевченка", "кв. м") or an initial.
_SENT_END = re.compile(r"(?<=[.!?…])[\"»”’)]*\s+(?=[\"«“„(\-–—•]*\s*[A-ZА-ЯІЇЄҐ0-9])")
_ABBREV = frozenset(
    "м с смт сел пгт г гор ул вул просп пров пл обл р н кв км тис млн млрд грн ст св ім им буд д "
    "mr mrs ms dr st gen col lt sgt no vol pp".split()
)
_LAST_WORD = re.compile(r"([\w-]+)\.[\"»”’)]*$")

_MARKER = re.compile(
    r"^[\s\"«“„(\-–—•*]*(?:"
    r"нагада(?:ємо|ю|ли)|нагадуємо|як (?:раніше |вже )?повідомлял\w*|"
    r"як (?:раніше |вже )?(?:писал\w*|писав|інформувал\w*)|як відомо,? раніше|"
    r"раніше(?!\s+(?:сьогодні|цього дня|вранці сьогодні|цієї ночі))|"
    r"напомн\w*|напоминаем|как (?:ранее |уже )?(?:сообщал\w*|писал\w*|информировал\w*)|"
    r"ранее(?!\s+(?:сегодня|этим утром|этой ночью))|"
    r"recall\b|(?:we (?:would like to )?|let us |let's )remind|as (?:previously |earlier |already |we (?:have |had )?)reported|"
    r"as reported(?! by)|as \w+ (?:wrote|reported) (?:earlier|previously|before)|earlier(?!\s+(?:today|this (?:morning|evening|week)|on the same day))|"
    r"previously\b|it was (?:earlier|previously) reported"
    r")",
    re.IGNORECASE,
)
# A marker that is the whole line ("Recall", "Нагадаємо:"): the next paragraph is the background.
_MARKER_LINE = re.compile(
    r"^[\s\"«“„(\-–—•*]*(?:нагадаємо|нагадуємо|напомним|напоминаем|recall|let us remind(?: you)?|"
    r"довідково|справка|background)"
    r"[\s:.!—–-]*$",
    re.IGNORECASE,
)
_PAST = re.compile(
    r"(?<!\w)(?:раніше|ранее|earlier|previously|тоді|тогда|минулого|прошлого|last (?:week|month|year)|торік|"
    r"в прошлом|у минулому|before that|до цього|до этого)",
    re.IGNORECASE,
)
_BULLET = re.compile(r"^\s*[-–—•*]\s")
_HABITUAL = re.compile(
    r"(?<!\w)(?:регулярно|регулярн\w+ (?:обстріл|обстрел|удар|атак)\w*|щодня|щоденно|систематично|систематически|ежедневно|постоянно|"
    r"regularly|(?:under )?regular (?:\w+ )?(?:shelling|attacks?|strikes?|fire)|almost daily|every day|daily basis|constantly|systematically|"
    r"з початку (?:повномасштабно\w*|війни|вторгнення)|с начала (?:полномасштабно\w*|войны|вторжения)|"
    r"since the (?:start|beginning) of the (?:full-scale|war|invasion)|since (?:february )?2022)",
    re.IGNORECASE,
)
# A wire dateline opening a paragraph ("КИЇВ. 19 липня. УНН.", "MOSCOW, June 3. /TASS/."): the
# outlet's desk, not the event's place.
_DATELINE = re.compile(
    rf"^[ \t]*[A-ZА-ЯІЇЄҐ'’ -]{{3,}}[.,][ \t]+(?i:\d{{1,2}}[ \t]+(?:{_MONTH})|(?:{_MONTH})[ \t]+\d{{1,2}})[.,]?"
    r"(?:[ \t]+/?[\w.-]+/?\.)?",
    re.MULTILINE,
)
# In a marker block: it is about another time or another attack than the event.
_OTHER_TIME = re.compile(
    r"(?<!\w)(?:напередодні|накануне|the (?:day|night) before|вчора|учора|вчера|yesterday|позавчора|позавчера|"
    r"минулого|прошлого|last (?:week|month|year)|торік|тоді|тогда|"
    r"(?:перш|перв|інш|друг)\w* (?:\w+ )?(?:обстр|удар|атак|прил)\w*|ще (?:одн|один)\w* (?:\w+ )?(?:удар|атак|обстр)\w*|"
    r"ещ[её] (?:одн|один)\w* (?:\w+ )?(?:удар|атак|обстр)\w*|(?:another|first|other|previous) (?:\w+ ){0,2}(?:attack|strike|shelling)s?)",
    re.IGNORECASE,
)
# "Окрім Харкова, де …," – another place's story inside the sentence.
_BESIDES = re.compile(
    r"(?<!\w)(?:окрім|крім|кроме|помимо|besides|apart from)\s+(?!того\b|цього\b|этого\b|that\b|this\b)"
    r"[^,.;]{1,60},\s*(?:де|где|where)\b[^,.;]*[,.;]?",
    re.IGNORECASE,
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
    sentences: tuple[Sentence, ...]

    @property
    def background(self) -> bool:
        return self.event != self.text


def _dates(s: str) -> list[tuple[int, tuple[int, int]]]:
    """(position, (day, month)) of every date `s` names."""
    out: list[tuple[int, tuple[int, int]]] = []
    for m in _DAY.finditer(s):
        after = _WORD_AFTER.match(s, m.end())
        month = _MONTHS.get(after.group(1).lower()) if after else None
        if month is None:
            before = _WORD_BEFORE.search(s, max(0, m.start() - 12), m.start())
            month = _MONTHS.get(before.group(1).lower()) if before else None
        day = int(m.group(2) or m.group(1))
        if month is not None and 1 <= day <= 31:
            out.append((m.start(), (day, month)))
    return out


def _split(text: str) -> list[tuple[int, int, int]]:
    """(start, end, paragraph number) of every sentence; a line break ends a paragraph."""
    out: list[tuple[int, int, int]] = []
    para = 0
    pos = 0
    for line in text.split("\n"):
        end_line = pos + len(line)
        if line.strip():
            start = pos
            for m in _SENT_END.finditer(line):
                cut = pos + m.start()
                last = _LAST_WORD.search(text, max(start, cut - 16), cut)
                if last and (last.group(1).lower() in _ABBREV or len(last.group(1)) == 1):
                    continue
                out.append((start, cut, para))
                start = pos + m.end()
            out.append((start, end_line, para))
            para += 1
        pos = end_line + 1
    return out


def scope(text: str, oblasts_of: Callable[[str], set[str]] | None = None) -> Scope:
    """Split `text` into sentences and set the background apart (rules in the module docstring).

    `oblasts_of` (text -> ISO codes of the places it names) lets a marker block that retells the
    event itself count as event: no other day, no "the day before / first / another attack", and
    every place it names in an oblast the event names. Without it, a shared date decides.
    """
    spans = _split(text)
    if len(spans) < 2:
        return Scope(text, text, tuple(Sentence(a, b, False) for a, b, _ in spans))
    # Background blocks opened by a marker, each a list of sentence indexes.
    blocks: list[list[int]] = []
    block_para = carry_para = -1
    for i, (a, b, para) in enumerate(spans):
        s = text[a:b]
        if para in (block_para, carry_para):
            blocks[-1].append(i)
            block_para = para
            continue
        line = _MARKER_LINE.match(s)
        if i > 0 and (line or _MARKER.match(s)):
            blocks.append([i])
            block_para = para
            carry_para = para + 1 if line else -1
    in_block = {i for block in blocks for i in block}
    dates = _dates(text)

    def dated(a: int, b: int) -> set[tuple[int, int]]:
        return {d for pos, d in dates if a <= pos < b}

    event_dates: set[tuple[int, int]] = set()
    seen = 0
    for i, (a, b, _) in enumerate(spans):
        if i in in_block or (i > 1 and _BULLET.match(text[a:b])):
            continue
        event_dates |= dated(a, b)
        seen += 1
        if seen == 3:
            break
    background = {i for block in blocks for i in block}
    habitual = _HABITUAL.search(text) is not None
    for i, (a, b, _) in enumerate(spans):
        if i in in_block or i == 0:
            continue
        s = text[a:b]
        named = dated(a, b) if dates else set()
        if named and event_dates and not named & event_dates and (_PAST.search(s) or _BULLET.match(s)):
            background.add(i)
        elif habitual and _HABITUAL.search(s):
            background.add(i)
    if len(background) == len(spans):
        background.clear()
    event = _blank(text, spans, background)
    if blocks and background:
        event_oblasts = oblasts_of(event) if oblasts_of else set()
        retold = set()
        for block in blocks:
            body = " ".join(text[spans[i][0]:spans[i][1]] for i in block)
            named = set().union(*(dated(spans[i][0], spans[i][1]) for i in block))
            if oblasts_of is None:
                same = bool(named & event_dates)
            else:
                where = oblasts_of(body)
                same = (not _OTHER_TIME.search(body) and named <= event_dates and bool(where)
                        and where <= event_oblasts)
            if same:
                retold.update(block)
        if retold:
            background -= retold
            event = _blank(text, spans, background)
    return Scope(text, event, tuple(Sentence(a, b, i in background) for i, (a, b, _) in enumerate(spans)))


_NOT_NEWLINE = re.compile(r"[^\n]")


def _blank(text: str, spans: list[tuple[int, int, int]], background: set[int]) -> str:
    """`text` with background sentences, "besides X, where …" asides and datelines as spaces."""
    cuts = [(spans[i][0], spans[i][1]) for i in background]
    cuts += [m.span() for m in _BESIDES.finditer(text)]
    cuts += [m.span() for m in _DATELINE.finditer(text)]
    if not cuts:
        return text
    out: list[str] = []
    pos = 0
    for a, b in sorted(cuts):
        if b <= pos:
            continue
        a = max(a, pos)
        out.append(text[pos:a])
        out.append(_NOT_NEWLINE.sub(" ", text[a:b]))
        pos = b
    out.append(text[pos:])
    return "".join(out)


def event_text(text: str) -> str:
    """`scope(text).event`: the text with its background blanked out."""
    return scope(text).event
