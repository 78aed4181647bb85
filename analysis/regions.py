"""The region matcher: which places a text names, and which units a user's query means.

Finding names is `_match`; this module decides ambiguity. A name is accepted when it is
unambiguous, or when the text itself (an oblast, raion, hromada or city named elsewhere, a marker
like "м." / "с." / "village"), the source's oblast, or a large population settles it. An ambiguous
small village with nothing to decide it is left out: a wrong oblast alerts the wrong people.

A place named in a role other than where the event happened (the home of a unit sent elsewhere,
the hospital the injured were taken to, the office or outlet that published the report, an
official's title, a road or street, an alert list, where explosions were only heard, a list of
places left without power) is left out, unless the text names no other place. Russian spellings
of villages are guessed by their consonants (`_match.russian_mentions`) and kept only where the
text's oblast, raion or hromada, or a marker, backs them.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
from bisect import bisect_left

from analysis._lexicon import (
    ALERT_STEMS,
    CAPITAL_WORDS,
    CENTRE_WORDS,
    EXPLOSION_STEMS,
    FIRST_NAMES,
    FROM_WORDS,
    HEARD_STEMS,
    HIT_STEMS,
    HOSPITAL_WORDS,
    HROMADA_WORDS,
    NEAR_WORDS,
    OBLAST_WORDS,
    OBLASTS,
    OFFICE_WORDS,
    ORGANISATION_AFTER,
    OUTAGE_STEMS,
    OVER_WORDS,
    RAION_WORDS,
    REPORT_STEMS,
    ROAD_WORDS,
    STREET_AFTER,
    STREET_WORDS,
    TITLE_AFTER,
    TITLE_BEFORE,
    TRANSPORT_STEMS,
    UNIT_NOUNS,
    is_latin,
    latin_key,
    norm,
    shchyna_forms,
    words,
)
from analysis._match import (
    Mention,
    Tokens,
    find_mentions,
    lemmas,
    russian_candidates,
)
from analysis._regex import compiled
from analysis.gazetteer import Gazetteer, Unit, get_gazetteer
from analysis.model import Place
from analysis.morph import parse

__all__ = ["find_places", "resolve_region", "channel_oblast"]

BIG_CITY = 100_000       # wins over a namesake village even against context
DOMINANT_MIN = 2_000     # the most populous namesake must be at least this big...
DOMINANT_RATIO = 10      # ...and this many times the next one to win without context
COMMON_CITY = 50_000     # a name that is also a word needs context below this population
_ISO_RE = compiled(r"(?i)^\s*ua[-\s]?(\d\d)\s*$")


def find_places(text: str, channel: str | None = None, oblast_hint: str | None = None) -> list[Place]:
    """Every place `text` names, de-duplicated, in order of first appearance.

    `oblast_hint` (ISO code) is the oblast a source is known to cover; without it the oblast is
    guessed from a regional `channel` name (dsns_kharkiv). Either one decides ambiguous names.
    """
    if not text:
        return []
    g = get_gazetteer()
    hint = (oblast_hint or channel_oblast(channel) or "").upper() or None
    tk, mentions = find_mentions(text, g)
    mentions = [m for m in mentions if _plausible(m) and not _person(tk, m)]
    if not mentions:
        return []  # nothing below adds a place but to one of them
    found = _Sentences(text)
    outage = _outage_lists(text, tk, mentions, found)
    passing: dict[int, bool] = {}
    kept = [m for m in mentions if id(m) not in outage and not _role(text, tk, m, found, passing)]
    if any(m.kind != "R" for m in kept):
        mentions = kept  # a place named only in a role is still better than nothing
    for m in mentions:
        if m.marker:
            kept = _pool(m.candidates).marked(m.marker)
            if not kept and tk.russian:  # "с. Рубежное" is a village, not the Luhansk city
                kept = [u for u in russian_candidates(tk, m.first, m.last, g) if u.category in m.marker]
                if kept:
                    m.kind = "R"
            m.candidates = kept or m.candidates
    ctx_oblasts, ctx_units = _context([m for m in mentions if m.kind != "R"])
    named = {m.candidates[0].oblast for m in mentions if len(m.candidates) == 1 and m.candidates[0].level == "oblast"}
    mentions = [m for m in mentions if m.kind != "R" or _russian_backed(m, ctx_oblasts, ctx_units, hint)]
    if not CAPITAL_WORDS.isdisjoint(tk.words):
        ctx_units.add(g.oblast_unit("UA-30").code)
    # Two passes: what the first pass settles (Києва -> Kyiv by population) is context for the
    # rest (Шевченківський район Києва).
    positions = _positions(ctx_oblasts)
    answers = [_decide(m, g, positions, ctx_units, hint, named) for m in mentions]
    settled = False
    for m, u in zip(mentions, answers):
        if u is not None and len(m.candidates) > 1:
            ctx_oblasts.setdefault(u.oblast, []).append(m.start)
            ctx_units.add(u.code)
            settled = True
    if settled:  # else the context is what the first pass had, and so is every answer
        positions = _positions(ctx_oblasts)
        answers = [_decide(m, g, positions, ctx_units, hint, named) for m in mentions]
    decided: list[tuple[int, Unit]] = []
    for m, u in zip(mentions, answers):
        if u is None:
            continue
        prev = tk.words[m.first - 1] if m.first else ""
        if u.level in ("settlement", "city") and (prev in NEAR_WORDS or (
                prev == "на" and tk.words[m.first].endswith("і") and u.code in _colloquial_centres(g))):
            # "під Києвом" is around the city; "на Запоріжжі" is the region, "у Запоріжжі" the city.
            u = g.oblast_unit("UA-32" if u.oblast == "UA-30" else u.oblast)
        decided.append((m.first, u))
    if not CENTRE_WORDS.isdisjoint(tk.words):
        decided.extend(_raion_centres(tk, decided, g))
    places: list[Place] = []
    seen: set[str] = set()
    for _, u in sorted(decided, key=lambda e: e[0]):
        if u.code not in seen:
            seen.add(u.code)
            places.append(_place(u))
    return places


def _place(u: Unit) -> Place:
    """The unit's `Place`, one per unit: it is frozen, and making one costs more than finding it."""
    got = _PLACES.get(u.code)
    if got is None:
        got = _PLACES[u.code] = Place(u.code, u.title, u.level, u.oblast)
    return got


_PLACES: dict[str, Place] = {}  # at most one per gazetteer unit


@functools.lru_cache(maxsize=1)
def _colloquial_centres(g: Gazetteer) -> frozenset[str]:
    """Oblast centres named like their oblast's colloquial form (Запоріжжя, Запорізька)."""
    out = set()
    for o in g.oblasts():
        if o.centre and o.level == "oblast" and norm(g.units[o.centre].name_uk) in shchyna_forms(o.name_uk):
            out.add(o.centre)
    return frozenset(out)


def _raion_centres(tk: Tokens, decided: list[tuple[int, Unit]], g: Gazetteer) -> list[tuple[int, Unit]]:
    """"райцентр" is the centre of the raion named last before it ("Нікопольщина ... райцентр")."""
    raions = [(pos, u) for pos, u in decided if u.level == "raion" and u.centre]  # in the text's order
    out = []
    r, last = 0, None
    for k, word in enumerate(tk.words):
        if word in CENTRE_WORDS:
            while r < len(raions) and raions[r][0] < k:  # one walk: a scan per "райцентр" was quadratic
                last = raions[r][1]
                r += 1
            if last is not None:
                out.append((k, g.units[last.centre]))
    return out


def _russian_backed(m: Mention, ctx_oblasts: dict[str, list[int]], ctx_units: set[str], hint: str | None) -> bool:
    """A settlement guessed from its Russian spelling counts only inside an oblast, raion or
    hromada the text names (or the source covers), or after a marker ("с.", "пос.")."""
    backed = [u for u in m.candidates if u.oblast in ctx_oblasts or u.oblast == hint
              or u.raion_code in ctx_units or u.hromada_code in ctx_units]
    if not backed:
        return False
    m.candidates = backed
    return True


def _person(tk: Tokens, m: Mention) -> bool:
    """"Володимир Зеленський", "Oleh Syniehubov": a first name before a surname is no place."""
    k = m.last
    words = tk.words
    if k - m.first != 1 or k >= len(words):  # `len(tk)` is a call into Python
        return False
    if not tk.cap(k) or tk.sents[k] or is_latin(words[k]) != is_latin(words[m.first]):
        return False
    return _first_name(words[m.first])


@functools.lru_cache(maxsize=20_000)
def _first_name(word: str) -> bool:
    if is_latin(word):
        return latin_key(word) in _LATIN_FIRST_NAMES
    if word in FIRST_NAMES or any(word[: -len(e)] in FIRST_NAMES for e in ("а", "у", "ом", "ем", "ові", "еві")
                                  if word.endswith(e)):
        return True
    return any("Name" in p.tag.grammemes and p.is_known and p.score > 0.3 for p in parse(word))


_TO = frozenset({"в", "у", "до", "во", "in", "to", "at", "into"})
_LATIN_FIRST_NAMES = frozenset(latin_key(n) for n in FIRST_NAMES if is_latin(n))


def _role(text: str, tk: Tokens, m: Mention, found: _Sentences, passing: dict[int, bool]) -> bool:
    """True when the mention names a place in a role other than where the event happened: the home
    of a unit sent elsewhere, the hospital the injured were taken to, the office that published
    the report, an official's title or an outlet, a road or street, an air-raid alert list."""
    i, j = m.first, m.last
    words = tk.words
    prev = words[i - 1] if i else ""
    nxt = words[j] if j < len(words) else ""
    if prev in STREET_WORDS or prev in OVER_WORDS or nxt in STREET_AFTER or nxt in ORGANISATION_AFTER:
        return True
    if m.kind != "A" and (nxt in TITLE_AFTER or prev in TITLE_BEFORE or (
            nxt == "city" and j + 1 < len(words) and words[j + 1] in TITLE_AFTER)):
        return True  # "Sumy Military Administration", "Kyiv City Council", "Kyiv Independent"
    if m.cap and _dateline(text, m):
        return True
    # Look back over the sentence, no further than six words.
    k, lo, sents = i, max(0, i - 6), tk.sents
    while k > lo and not sents[k]:
        k -= 1
    window = words[k:i]
    joined = " ".join(window)
    if _CUE_WORDS.isdisjoint(window) and not _HOSPITAL.search(joined):
        return _in_passing(text, tk, i, m.end, found, passing)
    for r in range(i - 1, max(0, i - 4) - 1, -1):  # "на трасі Харків – Охтирка"
        if words[r] in ROAD_WORDS:
            return True
        if not tk.cap(r):
            break
    for n, w in enumerate(window):
        if w in FROM_WORDS and any(x.startswith(UNIT_NOUNS) for x in window[max(0, n - 3):n]):
            return True  # "рятувальники з Полтавської області", "rescuers from Kyiv Oblast"
    if ((prev in _TO or prev.startswith(HOSPITAL_WORDS)) and _HOSPITAL.search(" ".join(window[-4:]))
            and _TRANSPORT.search(joined)):
        return True  # "доставили до лікарні в Харкові", "госпіталізовані в лікарні Донеччини"
    if _CUE_WORDS.intersection(window) & OFFICE_WORDS and found.reported(tk, i):
        return True  # "Про це повідомляє ГУ ДСНС у Полтавській області"
    return _in_passing(text, tk, i, m.end, found, passing)


def _stems(stems: tuple[str, ...]) -> re.Pattern[str]:
    return compiled("|".join(map(re.escape, stems)))  # over lower-case text: re.I is slow


_ALERT, _EXPLOSION, _HEARD, _HIT, _OUTAGE, _HOSPITAL = map(
    _stems, (ALERT_STEMS, EXPLOSION_STEMS, HEARD_STEMS, HIT_STEMS, OUTAGE_STEMS, HOSPITAL_WORDS))
_TRANSPORT = _stems(TRANSPORT_STEMS)
_ALERT_OR_EXPLOSION = _stems(ALERT_STEMS + EXPLOSION_STEMS)
_CUE_WORDS = ROAD_WORDS | FROM_WORDS | OFFICE_WORDS


def _in_passing(text: str, tk: Tokens, i: int, end: int, found: _Sentences, cache: dict[int, bool]) -> bool:
    """The sentence names places only as an alert list or where explosions were heard."""
    start = tk.sentence_start(i)
    got = cache.get(start)
    if got is None:
        low, at = found.lowered(tk.starts[start], end)
        if not at:
            got = bool(_ALERT_OR_EXPLOSION.search(low) and (  # most sentences have neither: one scan
                _ALERT.search(low) or (_EXPLOSION.search(low) and _HEARD.search(low)))
                       and not _HIT.search(low))
        else:
            got = ((found.last(_ALERT) >= at or (found.last(_EXPLOSION) >= at and found.last(_HEARD) >= at))
                   and found.last(_HIT) < at)
        cache[start] = got
    return got


def _outage_lists(text: str, tk: Tokens, mentions: list[Mention], found: _Sentences) -> set[int]:
    """Mentions listed (three or more in a sentence) as places left without power or water."""
    listed = [m for m in mentions if m.kind != "A"]
    out: set[int] = set()
    if len(listed) < 3:
        return out  # no sentence can list three
    by_sentence: dict[int, list[Mention]] = {}
    for m in listed:
        by_sentence.setdefault(tk.sentence_start(m.first), []).append(m)
    for start, ms in by_sentence.items():
        if len(ms) >= 3:
            low, at = found.lowered(tk.starts[start], ms[-1].end)
            if _OUTAGE.search(low) if not at else found.last(_OUTAGE) >= at:
                out.update(id(m) for m in ms)
    return out


class _Sentences:
    """What `_role` asks of a mention's sentence: where it ends, whether it holds a stem, whether
    the words before the mention report. Slicing, lower-casing and searching each sentence (or
    joining its words), and searching for its end, was quadratic in a hostile text with no
    sentence end: every sentence ran to the text's end. Sentences are asked in the order of the
    text, so the last search for an end answers until the next one, and a sentence ending where
    the last one did is the end of its slice: of that slice, where each list's stems start last
    tells whether they start after a point."""

    __slots__ = ("text", "_asked", "_end", "_from", "_to", "_low", "_last", "_reported")

    def __init__(self, text: str) -> None:
        self.text = text
        self._asked = self._end = -1  # the last search for a sentence end: no end lies between
        self._from = self._to = -1    # what `_low` is the lower-cased slice of
        self._low = ""
        self._last: dict[int, int] = {}  # id of a pattern (which hashes its whole code) -> `last`
        self._reported: dict[int, tuple[int, bool]] = {}  # sentence start -> `reported` asked last

    def lowered(self, start: int, pos: int) -> tuple[str, int]:
        """The lower-cased sentence from `start` to the end of the one holding `pos`, as a slice
        and where in it the sentence starts: 0, unless it ends where the last one asked did.

        A longer slice answers for a later start: `str.lower` maps each character alone but
        "Σ" (which no stem holds) and "İ", the one character it makes two of (made a character
        no stem holds first: its "i̇" is none and ends none)."""
        if not self._asked <= pos <= self._end:
            found = _SENTENCE_END.search(self.text, pos)
            self._asked, self._end = pos, found.start() if found else len(self.text)
        end = self._end
        if end != self._to or start < self._from:
            piece = self.text[start:end]
            low = piece.lower()
            self._low = low if len(low) == len(piece) else piece.replace("İ", "\x00").lower()
            self._from, self._to = start, end
            if self._last:
                self._last.clear()
        return self._low, start - self._from

    def last(self, stems: re.Pattern[str]) -> int:
        """Where the last of `stems` starts in the last slice, -1 when none does."""
        got = self._last.get(id(stems))
        if got is None:
            got = -1
            low, search = self._low, stems.search
            hit = search(low)
            while hit is not None:  # from every start: stems may overlap
                got = hit.start()
                hit = search(low, got + 1)
            self._last[id(stems)] = got
        return got

    def reported(self, tk: Tokens, i: int) -> bool:
        """Whether the words of word i's sentence before it, joined by spaces, hold a report stem.
        Asked of a sentence again for a later word, only the words since are joined (with the
        one before them: a stem holds at most one space), not the whole sentence each time."""
        start = tk.sentence_start(i)
        asked, got = self._reported.get(start, (start, False))  # what the words before `asked` hold
        if i < asked:
            return got and _reports(tk.words[start:i])
        if not got:
            got = _reports(tk.words[max(start, asked - 1):i])
            self._reported[start] = i, got
        return got


def _reports(words: list[str]) -> bool:
    sentence = " ".join(words)
    return any(r in sentence for r in REPORT_STEMS)


_SENTENCE_END = compiled(r"[.!?\n]")


def _dateline(text: str, m: Mention) -> bool:
    """"КИЇВ. 19 липня. УНН." opens a news item with the newsroom's city, not the event's."""
    name = text[m.start:m.end]
    if not (name.isupper() and len(name) > 2):
        return False
    rest = text[m.end:m.end + 4]
    return bool(rest) and rest[0] in ".,–—-" and any(c.isdigit() for c in rest)


def _plausible(m: Mention) -> bool:
    # Settlement names are proper nouns: "сума коштів", "мирне населення" are not places.
    if m.kind == "P" and not m.cap and any(u.level in ("settlement", "city") for u in m.candidates):
        return False
    return True


def _context(mentions: list[Mention]) -> tuple[dict[str, list[int]], set[str]]:
    """Oblasts (with positions) and units that the text names without ambiguity."""
    oblasts: dict[str, list[int]] = {}
    units: set[str] = set()
    for m in mentions:
        if len(m.candidates) != 1 or (m.common and not m.marker and m.kind == "P"):
            continue
        u = m.candidates[0]
        units.add(u.code)
        if u.level == "settlement" and u.population < 2_000:
            continue  # a hamlet is too easily a homonym (Карпати, Говерла) to vouch for an oblast
        oblasts.setdefault(u.oblast, []).append(m.start)
    return oblasts, units


_POPULATION = operator.attrgetter("population")  # a namesake list runs to hundreds of villages


def _positions(ctx_oblasts: dict[str, list[int]]) -> dict[str, list[int]]:
    """Each oblast's mention positions, sorted and once each: what `_decide` asks of them (is
    there one besides this mention's, and the nearest) costs a bisection, not a scan, so a text
    naming an oblast thousands of times stays linear."""
    return {k: sorted(set(v)) if len(v) > 1 else v for k, v in ctx_oblasts.items()}


def _nearest(positions: list[int], start: int) -> int:
    """The distance from `start` to the nearest of `positions` (sorted, unique) other than itself."""
    i = bisect_left(positions, start)
    return min(abs(positions[j] - start) for j in (i - 1, i, i + 1)
               if 0 <= j < len(positions) and positions[j] != start)


def _decide(m: Mention, g: Gazetteer, ctx_oblasts: dict[str, list[int]], ctx_units: set[str],
            hint: str | None, named: set[str]) -> Unit | None:
    """`ctx_oblasts` as `_positions` gives them."""
    cands = m.candidates
    single = cands[0] if len(cands) == 1 else None
    if single is not None and not (single.level == "city_district" or (
            m.kind == "P" and single.level == "settlement" and single.population < 2_000 and not m.marker)) and (
            not m.common or m.kind == "A" or m.marker):
        others: dict[str, list[int]] = {}  # none of the questions below asks about other oblasts
    else:  # the oblasts named elsewhere in the text: at a position other than this mention's
        start = m.start
        others = {k: v for k, v in ctx_oblasts.items() if len(v) > 1 or v[0] != start}
    if single is not None:
        u = single
        if m.kind == "A" and u.level == "hromada" and named and u.oblast not in named and u.oblast != hint:
            return None  # a hromada outside every oblast the text names is a misspelt namesake
        if (u.level == "city_district" and others and u.oblast not in others and u.oblast != "UA-30"
                and u.parent not in ctx_units):
            return None  # "Киевский район" of Donetsk is not Kharkiv's, the one with a Russian name
        if (m.kind == "P" and u.level == "settlement" and u.population < 2_000 and not m.marker
                and others and u.oblast not in others and u.oblast != hint):
            return None  # a hamlet outside the oblast the text is about is a homonym (Говерла)
        if not m.common or m.kind == "A" or m.marker:
            return u
        if u.raion_code in ctx_units or u.hromada_code in ctx_units or u.oblast in others or u.oblast == hint:
            return u
        if u.population >= COMMON_CITY and (not m.sent_start or u.population >= BIG_CITY):
            return u
        if m.head and u.category in "MK":  # "Зміїв: ..." heads a post, the way DSNS names towns
            return u
        return None

    pool = _pool(cands)
    top = pool.top
    if m.common and m.sent_start and not m.marker and top.population < COMMON_CITY and ctx_units.isdisjoint(pool.areas):
        return None  # "Мирні жителі не постраждали": a word opening a sentence, not Мирне
    districts = [u for u in pool.districts if u.parent in ctx_units]
    if districts:
        return districts[0]
    if m.level_word == "raion" and pool.raions:
        return pool.raions[0]  # raion names are unique; a namesake city district needs its city named
    subset = pool.within(ctx_units)
    placed = bool(subset)  # by the raion or hromada the text names
    if not subset and others:
        # In the candidates' order: on a tie the first candidate's oblast wins, whatever the
        # process's hash seed (a set's order made results differ from run to run).
        in_text = [iso for iso in pool.oblasts if iso in others]
        if in_text:
            nearest = in_text[0] if len(in_text) == 1 else min(
                in_text, key=lambda iso: _nearest(others[iso], m.start))
            subset = pool.oblasts[nearest]
    if not subset and hint:
        subset = pool.oblasts.get(hint, [])
    if subset:
        best = max(subset, key=_POPULATION)
        # A million-city beats a hamlet in the hinted oblast: "Київ" in a Mykolaiv post is Kyiv.
        if top is not best and top.population >= BIG_CITY and top.population >= 50 * max(best.population, 1):
            return top
        rest = [u.population for u in subset if u is not best]
        if rest and not m.marker and best.population < BIG_CITY and best.population * 2 < 5 * max(rest) and not placed:
            return None  # namesakes in the oblast the text names, nothing tells them apart
        return best
    ranked = pool.ranked
    second = ranked[1].population
    only_city = top.category in "MK" and not any(u.category in "MK" for u in ranked[1:])
    if top.population >= DOMINANT_MIN and (top.population >= DOMINANT_RATIO * max(second, 1)
                                           or (only_city and top.population >= 5 * max(second, 1))):
        if m.common and (top.population < COMMON_CITY or (m.sent_start and top.population < BIG_CITY)):
            return None
        return top
    if len(pool.oblasts) == 1 and not m.common and (
            top.population >= DOMINANT_MIN or m.marker or top.oblast in others or top.oblast == hint):
        return top  # the oblast is certain even if the village is not
    return None


class _Pool:
    """What `_decide` asks of a list of namesakes, indexed once per list: a common name has
    hundreds of them ("Іванівка", "Степове"), and a text names only a few areas to look up."""

    __slots__ = ("_marked", "areas", "cands", "districts", "oblasts", "raions", "ranked", "top")

    def __init__(self, cands: list[Unit]) -> None:
        self.cands = cands
        self.ranked = sorted(cands, key=_POPULATION, reverse=True)
        self.top = self.ranked[0]  # the first of the most populous, as max() would give
        self.areas: dict[str, list[int]] = {}  # raion or hromada code -> candidate indexes
        self.oblasts: dict[str, list[Unit]] = {}  # in the order the candidates first name them
        for k, u in enumerate(cands):
            if u.raion_code:
                self.areas.setdefault(u.raion_code, []).append(k)
            if u.hromada_code:
                self.areas.setdefault(u.hromada_code, []).append(k)
            self.oblasts.setdefault(u.oblast, []).append(u)
        self.districts = [u for u in cands if u.level == "city_district"]
        self.raions = [u for u in cands if u.level == "raion"]
        self._marked: dict[frozenset[str], list[Unit]] = {}

    def within(self, codes: set[str]) -> list[Unit]:
        """The candidates in a raion or hromada among `codes`, in their order."""
        found = [k for code in codes if code in self.areas for k in self.areas[code]]
        return [self.cands[k] for k in sorted(set(found))]

    def marked(self, marker: frozenset[str]) -> list[Unit]:
        """The candidates of a category the marker admits ("с." a village)."""
        got = self._marked.get(marker)
        if got is None:
            got = self._marked[marker] = [u for u in self.cands if u.category in marker]
        return got


# Pools by the id of their list, which each holds (so no other list takes the id while it is
# here); emptied when they hold too many candidates.
_POOLS: dict[int, _Pool] = {}
_POOLED = [0]  # candidates in _POOLS


def _pool(cands: list[Unit]) -> _Pool:
    got = _POOLS.get(id(cands))
    if got is None:
        if _POOLED[0] > 50_000:
            _POOLS.clear()
            _POOLED[0] = 0
        got = _POOLS[id(cands)] = _Pool(cands)
        _POOLED[0] += len(cands)
    return got


# A source's channel is asked about with every post it brings (~70 µs a call over every oblast's
# names): a few dozen channels in all.
@functools.lru_cache(maxsize=1_024)
def channel_oblast(channel: str | None) -> str | None:
    """The oblast a regional channel covers, from its name (dsns_kharkiv -> UA-63), else None."""
    if not channel:
        return None
    name = channel.lower()
    for iso, (_, _, _, en_names) in OBLASTS.items():
        for stem in en_names:
            if len(stem) >= 4 and stem.replace("-", "") in name.replace("-", ""):
                if iso == "UA-32" and not any(s in name for s in ("region", "obl", "oblast")):
                    return "UA-30"
                return iso
    return None


_LEVEL_OF_WORD = [(OBLAST_WORDS, ("oblast", "city")), (RAION_WORDS, ("raion", "city_district")),
                  (HROMADA_WORDS, ("hromada",))]
_RANK = {"oblast": 0, "city": 1, "raion": 2, "settlement": 3, "hromada": 4, "city_district": 5}


def resolve_region(query: str) -> list[Place]:
    """Units a user means by `query` (bot /subscribe, CLI --region), best first.

    Accepts an ISO code (UA-63), or a name of an oblast, raion, hromada or settlement in any
    case and in Ukrainian, Russian or English ("Харківщина", "kharkiv region", "Ізюмський район").
    Several candidates come back when a name is shared (Іванівка); [] when nothing matches.
    """
    g = get_gazetteer()
    iso = _ISO_RE.match(query)
    if iso:
        code = f"UA-{iso.group(1)}"
        try:
            u = g.oblast_unit(code)
        except KeyError:
            return []
        return [Place(u.code, u.title, u.level, u.oblast)]
    toks = words(query)
    levels: tuple[str, ...] = ()
    while toks:
        for level_words, lv in _LEVEL_OF_WORD:
            if toks[-1] in level_words:
                levels, toks = lv, toks[:-1]
                break
        else:
            break
    if not toks:
        return []
    found: list[tuple[Unit, str]] = []
    options = [lemmas(t) or (t,) for t in toks]
    for key in itertools.islice(itertools.product(*options), 200):
        found.extend(g.names.get(tuple(key), ()))
    if levels:
        found = [(u, k) for u, k in found if u.level in levels] or [
            (g.units[c], "A") for u, _ in found for c in g.centre_of.get(u.code, ()) if g.units[c].level in levels]
    found.sort(key=lambda e: (e[1] != "P" if not levels else 0, _RANK[e[0].level], -e[0].population))
    out: list[Place] = []
    seen: set[str] = set()
    for u, _ in found:
        if u.code not in seen:
            seen.add(u.code)
            out.append(Place(u.code, u.title, u.level, u.oblast))
    return out
