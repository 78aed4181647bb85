"""Tokenising a text and finding every gazetteer name in it, before ambiguity is decided.

A token is lemmatised against the name words of the gazetteer (stem + ending paradigms built with
pymorphy3 at build time); a capitalised token the paradigms miss is given to pymorphy3 itself,
all parses considered. Names are then found as sequences of lemmas with a prefix index. In a
Russian text, capitalised words no name matched are looked up by their consonant skeleton, so
every settlement has a Russian spelling without one being stored.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from itertools import accumulate, chain, compress, repeat
from operator import is_

from analysis._lexicon import (
    CONJUNCTIONS,
    DOTTED_MARKERS,
    FILLER_WORDS,
    HROMADA_WORDS,
    LANDMARK_NOUNS,
    LIST_LEVELS,
    LIST_SKIP,
    MARKERS,
    OBLAST_WORDS,
    RAION_WORDS,
    RU_CASE_ENDINGS,
    WORD_RE,
    is_latin,
    latin_key,
    norm,
    ru_skeleton,
)
from analysis._regex import compiled
from analysis.gazetteer import Gazetteer, Unit, get_gazetteer
from analysis.morph import parse

RIVERS = frozenset({"дніпро", "десна", "дністер", "дунай", "буг", "донець", "прут", "сейм", "інгулець",
                    "оскіл", "ворскла", "псел", "сула", "тиса", "рось", "случ", "днепр", "dnipro"})
_BOUNDARY = set(".!?:;…\n|")


class Tokens:
    """The words of a text, normalised, and where each lies, as parallel lists: a text has a
    hundred words and the matcher asks about the few around a name, so only what every word
    needs is made up front (C builds lists many times faster than Python makes objects); the
    rest is read from the text when asked."""

    __slots__ = ("text", "low", "words", "starts", "stops", "sents", "heads", "russian", "_parens", "_openers")

    def __init__(self, text: str, low: str, words: list[str], starts: list[int], stops: list[int],
                 sents: list[bool]) -> None:
        self.text = text
        self.low = low        # `norm(text)`
        self.words = words    # normalised
        self.starts = starts
        self.stops = stops
        self.sents = sents    # first word of a sentence or line, where capitals prove nothing
        # Set by `find_mentions`: what each word begins (`_Heads`), whether the text is Russian.
        self.heads: list[_Head | tuple[()] | None] = []
        self.russian = False
        self._parens: list[bool] | None = None
        self._openers: list[int] | None = None

    def __len__(self) -> int:
        return len(self.words)

    def cap(self, k: int) -> bool:
        """Word k starts with a capital letter in the original."""
        return self.text[self.starts[k]].isupper()

    def dotted(self, k: int) -> bool:
        """Followed by "." (abbreviations: м., с., обл.)."""
        stop = self.stops[k]
        return self.text[stop:stop + 1] == "."

    def sentence_start(self, k: int) -> int:
        """The index of the word that opens word k's sentence (0 when none does): by bisection,
        since a hostile text with no sentence end made a walk back per mention quadratic."""
        openers = self._openers
        if openers is None:
            openers = self._openers = list(compress(range(len(self.sents)), self.sents))
        at = bisect_right(openers, k)
        return openers[at - 1] if at else 0

    def parens(self) -> list[bool]:
        """Whether each word is inside parentheses; a stray ")" closes nothing."""
        got = self._parens
        if got is None:
            got = self._parens = _in_parens(self.text, self.starts) if "(" in self.text else [False] * len(self.words)
        return got


@dataclass(slots=True)
class Mention:
    """A span naming one or more candidate units; `level_word` tells what an adjective named."""

    start: int
    end: int
    first: int                    # token index
    last: int                     # token index, exclusive
    key: tuple[str, ...]
    candidates: list[Unit]        # may be shared with other mentions: replaced, never changed
    kind: str                     # "P" stands alone, "A" adjective + level word, "R" a Russian
                                  # spelling of a settlement guessed by its consonants
    cap: bool
    sent_start: bool
    marker: frozenset[str] | None = None
    common: bool = False
    level_word: str = ""
    head: bool = False


# A word with the quotes, brackets, dashes and spaces right before it: the character before
# those says whether the word opens a sentence. The run of them starts after any other character
# and is taken whole (possessive): otherwise a run of blanks not followed by a word (background
# blanked out by `scope`) is rescanned from every position in it. `split` cuts a text into
# (other, gap, word) triples in C; the loop over words is then a few C-level maps.
_GAP_CHARS = " \t\r\"'«»“”„()[]-–—•*·>#"
_GAP = "[" + re.escape(_GAP_CHARS) + "]"
_GAP_WORD = compiled(rf"(?<!{_GAP})({_GAP}*+)(" + WORD_RE.pattern + ")")


def _letters_below(limit: int) -> str:
    """The letters of WORD_RE under code point `limit`, as a character class of ranges."""
    found = re.finditer(r"[^\W\d_]+", "".join(map(chr, range(limit))))
    return "[" + "".join(f"\\u{m.start():04x}-\\u{m.end() - 1:04x}" for m in found) + "]"


# The same words when every letter of the text is Latin, Greek or Cyrillic: a class of code
# point ranges is a table lookup per character, where [^\W\d_] asks the Unicode database
# (a third of the split's cost), and cutting words alone halves the strings `split` makes.
_FAST_LETTER = _letters_below(0x530)
_FAST_WORD = compiled("(" + WORD_RE.pattern.replace(r"[^\W\d_]", _FAST_LETTER) + ")")
# Cheaper still: a run of letters, apostrophes and hyphens ending in a letter, one repeat where
# the word's pattern nests one (a third fewer instructions, with `_DOUBLED` below). It cuts the
# same words wherever no two separators meet: then a separator inside a run has a letter after
# it, and one that has none ends the run and is given back to the gap ("Х-101", "Ізюмом-").
_FAST_RUN = compiled("(" + _FAST_LETTER + "[" + _FAST_LETTER[1:-1] + "'\\-]*(?<=" + _FAST_LETTER + "))")
_DOUBLED = ("''", "'-", "-'", "--")  # `in` scans: one regex search costs more than the four
_LETTER = compiled(r"[^\W\d_]")


def tokenize(text: str) -> Tokens:
    """The words of `text` with where each lies and whether it opens a sentence."""
    low = norm(text)
    if ("'" in low or "-" in low) and any(map(low.__contains__, _DOUBLED)):
        parts = _FAST_WORD.split(low)
    else:
        parts = _FAST_RUN.split(low)
    if len(parts) == 1:
        return Tokens(text, low, [], [], [], [])
    sents = list(map(_OPENS_AFTER.__getitem__, parts[0::2]))
    if None in sents or len(low) != len(text):  # another script, or stress marks dropped
        return _tokenize(text, low)
    sents.pop()  # what follows the last word
    if not parts[0].rstrip(_GAP_CHARS):
        sents[0] = True  # the first word, at the text's start
    ends = list(accumulate(map(len, parts)))
    words = parts[1::2]
    starts, stops = ends[0:-1:2], ends[1::2]
    if "'s" in low:
        words = [w[:-2] if w[-2:] == "'s" and is_latin(w) else w for w in words]  # "Sumy Oblast's"
    return Tokens(text, low, words, starts, stops, sents)


def _tokenize(text: str, low: str) -> Tokens:
    """`tokenize` for any text: a word's gap is cut with it, and the character before the gap
    read from `text` ("\n" stands for the text's start)."""
    parts = _GAP_WORD.split(low)
    ends = list(accumulate(map(len, parts)))
    words = parts[2::3]
    gaps, starts, stops = ends[0::3][: len(words)], ends[1::3], ends[2::3]
    if "'s" in low:
        words = [w[:-2] if w[-2:] == "'s" and is_latin(w) else w for w in words]
    if len(low) != len(text) or "\u0301" in text:
        # Positions in `low` are read against `text`: map them back. `source[p]` is the
        # character of `text` that made `low[p]`, `after[p]` the position just past the one
        # that made `low[p - 1]`. A word starts at its first letter's source and stops past its
        # last letter and any stress mark on it, never before it ends ("İ" makes "i" and a dot
        # that no word holds, so a word may stop between the two).
        source = _sources(text)
        after = [0, *map((1).__add__, source)]
        source.append(len(text))
        starts = list(map(source.__getitem__, starts))
        stops = list(map(max, map(source.__getitem__, stops), map(after.__getitem__, stops)))
        gaps = list(map(after.__getitem__, gaps))
    before = "\n" + text
    sents = list(map(_OPENS.__getitem__, map(before.__getitem__, gaps)))
    return Tokens(text, low, words, starts, stops, sents)


def _sources(text: str) -> list[int]:
    """For each character of `norm(text)`, the position of the character of `text` it comes
    from: `norm` drops stress marks, and `str.lower` maps each character alone, to one
    character but for "İ" (the final-sigma rule picks another single character)."""
    widths = list(map(len, map(str.lower, text)))
    for at in _STRESS.finditer(text):
        widths[at.start()] = 0
    return list(chain.from_iterable(map(repeat, range(len(text)), widths)))


_STRESS = compiled("\u0301")


def _in_parens(text: str, starts: list[int]) -> list[bool]:
    """Whether each word (by its start) is inside parentheses; a stray ")" closes nothing."""
    brackets = [m.start() for m in _BRACKET.finditer(text)]
    inside = [False]  # after each bracket, in order
    depth = 0
    for b in brackets:
        depth = depth + 1 if text[b] == "(" else max(0, depth - 1)
        inside.append(depth > 0)
    return list(map(inside.__getitem__, map(bisect_left, repeat(brackets), starts)))


_BRACKET = compiled(r"[()]")


class _Opens(dict):  # type: ignore[type-arg]
    """Whether a word after this character (and the gap before the word) opens a sentence."""

    def __missing__(self, before: str) -> bool:
        sent = before in _BOUNDARY or not (before.isalnum() or before == ",")
        if len(self) < 4096:  # bounded whatever the texts' alphabet
            self[before] = sent
        return sent


_OPENS = _Opens()


class _OpensAfter(dict):  # type: ignore[type-arg]
    """Whether a word after this stretch of `norm`ed text between two words opens a sentence:
    by the character before the gap that ends it, else by the word before (a letter: no). None
    when the stretch holds a letter, which the fast split left out of a word, or the dot above
    that "İ" leaves in `low` ("i\u0307"): with as many stress marks dropped, `low` is as long
    as `text` but its words are not where they are in `text`. Otherwise each normalised
    character is the original one's, opening a sentence exactly when it does."""

    def __missing__(self, other: str) -> bool | None:
        if _LETTER.search(other) or "\u0307" in other:
            return None
        head = other.rstrip(_GAP_CHARS)
        sent = bool(head) and _OPENS[head[-1]]
        if len(self) >= 50_000:  # numbers make many ("Близько 20:39 ворог")
            self.clear()
        self[other] = sent
        return sent


_OPENS_AFTER = _OpensAfter()


def lemmas(token: str) -> tuple[str, ...]:
    """Name words `token` may be a form of (itself included when it is one)."""
    return _LEMMAS[token]


@functools.lru_cache(maxsize=50_000)
def morph_lemmas(token: str) -> tuple[str, ...]:
    """Fallback for a capitalised word the paradigms miss: every pymorphy3 parse's normal form
    that is a name word (the first parse of "Харкові" is a surname, the third the city)."""
    g = get_gazetteer()
    return tuple(dict.fromkeys(p.normal_form for p in parse(token) if p.normal_form in g.lemma_set))


# Distinct words the two per-word caches hold before they are emptied: about a day of real posts.
# A word costs ~330 bytes in each, and the daemon lives for weeks (at 200,000 words the two held
# ~60 MB, past the daemon's 150 MB); 2,000 posts read right after emptying took no measurably longer.
_WORDS_HELD = 30_000


class _Lemmas(dict):  # type: ignore[type-arg]
    """`lemmas` of every word asked, a plain dict: the matcher asks for every word of a text, and
    a dict's lookup from C costs a fraction of an lru_cache call. Emptied when full."""

    def __missing__(self, token: str) -> tuple[str, ...]:
        if len(self) >= _WORDS_HELD:
            self.clear()
        if is_latin(token):
            found = (latin_key(token[:-2] if token.endswith("'s") else token),)
        else:
            found = get_gazetteer().lemmas(token)
        self[token] = found
        return found


_LEMMAS = _Lemmas()


# A level word -> its level (an oblast word first where the lists share one).
_LEVEL_OF = {**dict.fromkeys(HROMADA_WORDS, "hromada"), **dict.fromkeys(RAION_WORDS, "raion"),
             **dict.fromkeys(OBLAST_WORDS, "oblast")}


def _is_adjective(head: _Head | tuple[()] | None) -> bool:
    """A word that is a one-word name (by its `_Heads` entry): in a list of adjectives."""
    return bool(head) and bool(head[0])


def _level_after(tk: Tokens, j: int, strict: bool = False) -> str:
    """The level word closing an adjective phrase: "Харківська [та Сумська] області" -> oblast.

    `strict` admits only filler words in between ("Луцьку та Ковельському районі" does not make
    Луцьк a raion); otherwise lists of adjectives, conjunctions and parentheses are crossed.
    """
    words, parens = tk.words, tk.parens()
    inside = parens[j - 1] if j else False
    for k in range(j, min(j + 24, len(words))):
        word = words[k]
        level = _LEVEL_OF.get(word)
        if level:
            return level
        if word in FILLER_WORDS or (parens[k] and not inside):
            continue
        if strict:
            break
        if word in CONJUNCTIONS or _is_adjective(tk.heads[k]):
            continue  # another adjective of the same list
        break
    return ""


def _list_noun(tk: Tokens, j: int) -> str:
    """The word after an adjective and the adjectives listed with it."""
    words, parens = tk.words, tk.parens()
    for k in range(j, min(j + 24, len(words))):
        if not (words[k] in CONJUNCTIONS or parens[k] or _is_adjective(tk.heads[k])):
            return words[k]
    return ""


def _level_before(tk: Tokens, i: int) -> str:
    """A plural level word opening a list: "в областях: Житомирській, Вінницькій та Київській"."""
    words, parens = tk.words, tk.parens()
    for k in range(i - 1, max(i - 24, -1), -1):
        word = words[k]
        if word in LIST_LEVELS:
            return LIST_LEVELS[word]
        if word in LIST_SKIP or word in CONJUNCTIONS or parens[k] or _is_adjective(tk.heads[k]):
            continue
        break
    return ""


_LEVELS_FOR = {"oblast": ("oblast", "city"), "raion": ("raion", "city_district"), "hromada": ("hromada",)}


def find_mentions(text: str, g: Gazetteer) -> tuple[Tokens, list[Mention]]:
    """Every span of `text` that is a gazetteer name, longest first, with its candidates."""
    tk = tokenize(text)
    out: list[Mention] = []
    words = tk.words
    n = len(words)
    names, prefixes = g.names, g.prefixes
    if _OPENERS.g is not g:
        _OPENERS.clear()
        _HEADS.clear()
        _OPENERS.g = g
    heads = tk.heads = list(map(_HEADS.__getitem__, words))
    original, starts = tk.text, tk.starts
    morph: dict[int, tuple[str, ...]] = {}  # lemmas pymorphy3 gave a capitalised word
    for k in compress(range(n), map(is_, heads, repeat(_NO_LEMMAS))):
        if original[starts[k]].isupper():
            morph[k] = found = morph_lemmas(words[k])
            heads[k] = _OPENERS[found]
    resume = 0
    for i in compress(range(n), heads):  # most words open no name
        if i < resume:
            continue  # inside the name found before
        # Keep every key of the longest length: "кам'янське" is also a form of the hromada
        # adjective "кам'янська", and the level word decides between them later.
        found, partial, towns = heads[i]
        best = (i + 1, found) if found else None
        j = i + 1
        while partial and j < n:
            lems = morph[j] if j in morph else _LEMMAS[words[j]]
            partial = [k + (lem,) for k in partial for lem in lems]
            j += 1
            found = [key for key in partial if key in names]
            if found:
                best = (j, found)
            partial = [key for key in partial if key in prefixes]
        if best is None:
            continue
        end, keys = best
        if end == i + 1 and towns and not original[starts[i]].isupper():
            resume = end  # what `_mention` says of a settlement's name written lower-case
            continue
        m = _mention(tk, i, end, keys, g)
        if m is not None:
            out.append(m)
        resume = end
    tk.russian = is_russian(text, tk.low)
    if tk.russian:
        covered = {k for m in out for k in range(m.first, m.last)}
        ru = russian_mentions(tk, covered, g)
        # "Великой Александровки": the two words beat a Crimean "Александровка" read alone.
        taken = {k for m in ru for k in range(m.first, m.last)}
        out = sorted([m for m in out if m.first not in taken] + ru, key=lambda m: m.first)
    return tk, out


_Head = tuple[list[tuple[str, ...]], list[tuple[str, ...]], bool]


class _Openers(dict):  # type: ignore[type-arg]
    """A word's lemmas -> (the one-word names among them, the ones that begin longer names,
    whether those names are all of settlements and cities standing alone), or None when neither:
    the matcher's question about every word, answered once per lemma set. Many common words are
    also a village's name ("пожежу", "площі"): written lower-case, they name none."""

    g: Gazetteer | None = None

    def __missing__(self, lems: tuple[str, ...]) -> _Head | None:
        g = self.g
        assert g is not None
        keys = [(lem,) for lem in lems]
        found = [key for key in keys if key in g.names]
        partial = [key for key in keys if key in g.prefixes]
        towns = bool(found) and _named(found, g).towns_only
        head = (found, partial, towns) if found or partial else None
        if len(self) >= 50_000:
            self.clear()
        self[lems] = head
        return head


_OPENERS = _Openers()
_NO_LEMMAS: tuple[()] = ()


class _Heads(dict):  # type: ignore[type-arg]
    """A word -> its `_Openers` entry, or `_NO_LEMMAS` when it is no form of a name word but
    long enough for pymorphy3 to be asked, if capitalised (a Latin word always has its lemma):
    one lookup a word, emptied when full."""

    def __missing__(self, word: str) -> _Head | tuple[()] | None:
        lems = _LEMMAS[word]
        head = _OPENERS[lems] if lems else _NO_LEMMAS if len(word) > 3 else None
        if len(self) >= _WORDS_HELD:
            self.clear()
        self[word] = head
        return head


_HEADS = _Heads()


@dataclass(slots=True)
class _Named:
    """What a mention's name keys say whatever the words around them: computed once per keys,
    since a common name ("Степове", "Іванівка") has hundreds of namesakes to go over."""

    entries: list[tuple[Unit, str]]
    towns_only: bool                   # every entry a settlement or city standing alone
    adjective: bool                    # some entry an adjective ("A")
    oblast_adjective: bool
    by_level: dict[str, list[Unit]]    # adjective entries a level word admits
    standalone: list[Unit]             # "P" entries
    top_regional: list[Unit]           # the oblasts, else the raions, among `standalone`
    common: bool
    river: bool


def _named(keys: list[tuple[str, ...]], g: Gazetteer) -> _Named:
    if _NAMED.g is not g:
        _NAMED.clear()
        _NAMED.g = g
    got = _NAMED.get(tuple(keys))
    if got is not None:
        return got
    if len(keys) == 1:
        entries = list(g.names[keys[0]])  # one key's entries are distinct already
    else:
        entries = list({(id(u), k): (u, k) for key in keys for u, k in g.names[key]}.values())
    standalone = [u for u, k in entries if k == "P"]
    got = _Named(
        entries=entries,
        towns_only=all(k == "P" and u.level in _TOWNS for u, k in entries),
        adjective=any(k == "A" for _, k in entries),
        oblast_adjective=any(k == "A" and u.level == "oblast" for u, k in entries),
        by_level={level: [u for u, k in entries if k == "A" and u.level in levels]
                  for level, levels in _LEVELS_FOR.items()},
        standalone=standalone,
        top_regional=_top_regional(standalone),
        common=any(k in g.common for k in keys),
        river=any(k[-1] in RIVERS for k in keys),
    )
    if len(_NAMED) >= 20_000:
        _NAMED.clear()
    _NAMED[tuple(keys)] = got
    return got


class _NamedCache(dict):  # type: ignore[type-arg]
    g: Gazetteer | None = None


_NAMED = _NamedCache()


def _top_regional(cands: list[Unit]) -> list[Unit]:
    """A region's own name beats villages called the same (Буковина, Крим): the oblasts among
    `cands`, else the raions, else `cands` as they are."""
    regional = [u for u in cands if u.level in ("oblast", "raion")]
    if not regional:
        return cands
    top_level = "oblast" if any(u.level == "oblast" for u in regional) else "raion"
    return [u for u in regional if u.level == top_level]


def _mention(tk: Tokens, i: int, j: int, keys: list[tuple[str, ...]], g: Gazetteer) -> Mention | None:
    words = tk.words
    first = words[i]
    text = tk.text
    cap = text[tk.starts[i]].isupper()
    named_as = _named(keys, g)
    if not cap and named_as.towns_only:
        return None  # settlement names are proper nouns: "атака", "сума коштів" are no places
    key = keys[0]
    level = after = _level_after(tk, j)
    if not level and named_as.adjective:
        if _ADJECTIVE_END.search(words[j - 1]) and _list_noun(tk, j) in LANDMARK_NOUNS:
            return None  # "Харківського та Луганського гарнізонів"
        level = _level_before(tk, i)
        if not level and not is_latin(first) and named_as.oblast_adjective and not OBLAST_WORDS.isdisjoint(
                words[max(0, i - 40):i]):
            level = "oblast"  # "в Харківській області 487 разів, Київській – 261": the noun is elided
    cands: list[Unit] = []
    kind = "P"
    if level:
        cands = named_as.by_level[level]
        kind = "A"
    if not cands:
        kind = "P"
        cands = named_as.standalone
        latin = is_latin(first)
        # The strict walk is the start of the other one: it finds a level word only if that did.
        named = _level_after(tk, j, strict=True) if after else ""
        if not named and latin and j < len(words) and words[j] in CONJUNCTIONS:
            named = level  # "Shostka and Konotop districts" (but "Kramatorsk, Donetsk Oblast")
        if named and cands:  # "Izium district", "Kyiv region": a centre named with a level word
            levels = _LEVELS_FOR[named] + (("raion",) if latin and named == "oblast" else ())
            lifted = [g.units[c] for u in cands for c in g.centre_of.get(u.code, ())
                      if g.units[c].level in levels]
            if lifted:
                top = min(_LEVEL_RANK[u.level] for u in lifted)
                cands, kind = [u for u in lifted if _LEVEL_RANK[u.level] == top], "A"
            elif named == "hromada":
                return None  # "Druzhba community" names a community, not the village
    if not cands:
        return None
    if kind == "P":
        cands = named_as.top_regional if cands is named_as.standalone else _top_regional(cands)
    prev = words[i - 1] if i > 0 else None
    nxt = words[j] if j < len(words) else None
    if kind == "P" and named_as.river and (
            (prev is not None and prev in _RIVER_CONTEXT)
            or (nxt is not None and nxt in ("river", "річка", "река"))):
        return None  # the river, not the city
    if kind == "P" and nxt is not None and nxt in LANDMARK_NOUNS and _ADJECTIVE_END.search(words[j - 1]):
        return None  # "Азовське море", "Харківський напрямок": an adjective, not the place
    marker = None
    if prev is not None and prev in MARKERS and (prev not in DOTTED_MARKERS or tk.dotted(i - 1)):
        marker = MARKERS[prev]
    stop = tk.stops[j - 1]
    # By position (a third of the cost of keywords): cap, sent_start, marker, common, level_word, head.
    return Mention(tk.starts[i], stop, i, j, key, cands, kind, cap, tk.sents[i] and marker is None, marker,
                   named_as.common, level, text[stop:stop + 1] == ":")


_TOWNS = frozenset({"settlement", "city"})
_LEVEL_RANK = {"oblast": 0, "city": 0, "raion": 1, "city_district": 1, "hromada": 2}
_ADJECTIVE_END = compiled(r"(?:ськ|цьк|зьк|ск|цк)(?:ий|а|е|ого|ому|ій|у|ою|ої|им|ім|ая|ое|ой|ую|ої)$")
# Russian text: letters Ukrainian lacks, or words it never uses.
_RU_WORDS = compiled(r" (?:и|что|как|поселок|поселке|области|района|город|обстрел\w*|сообщ\w*)\b")
_RU_STARTS = (" и", " что", " как", " посел", " области", " района", " город", " обстрел", " сообщ")


def is_russian(text: str, low: str) -> bool:
    """Whether `text` (`low` its `norm`) is Russian. The letters are sought in `low`, where they
    are lower-case: three scans for one letter each cost less than one for a class. The words'
    pattern tries every space; it runs only where `low` holds the start of one of them."""
    if "ы" in low or "э" in low or "ъ" in low:
        return True
    return any(map(low.__contains__, _RU_STARTS)) and _RU_WORDS.search(text) is not None


def russian_mentions(tk: Tokens, covered: set[int], g: Gazetteer) -> list[Mention]:
    """Settlements written in Russian that the gazetteer has no Russian name for ("Ковшаровку",
    "Рубежному"), matched by consonant skeleton. Only capitalised words the Ukrainian names left
    unmatched; the caller admits them only where a marker or an oblast of the text backs them."""
    index = g.ru_index()
    out: list[Mention] = []
    words, sents = tk.words, tk.sents
    i, n = 0, len(words)
    while i < n:
        word = words[i]
        if (i in covered or not tk.cap(i) or len(word) < 4 or is_latin(word)
                or (sents[i] and not (i and words[i - 1] in MARKERS))):
            i += 1
            continue
        found: list[Unit] = []
        end = i + 1
        if i + 1 < n and tk.cap(i + 1) and not sents[i + 1]:
            found = [u for a in _ru_keys(word) for b in _ru_keys(words[i + 1])
                     for u in index.get(a + " " + b, ())]
            end = i + 2
        if not found and not _known_word(word):  # «Герань-2» is a drone, not Гурине
            found = [u for a in _ru_keys(word) for u in index.get(a, ())]
            end = i + 1
        if found:
            prev = words[i - 1] if i else None
            marker = None
            if prev is not None and prev in MARKERS and (prev not in DOTTED_MARKERS or tk.dotted(i - 1)):
                marker = MARKERS[prev]
            out.append(Mention(tk.starts[i], tk.stops[end - 1], i, end, (word,), list(dict.fromkeys(found)),
                               "R", cap=True, sent_start=sents[i] and marker is None, marker=marker))
        i = end
    return out


def russian_candidates(tk: Tokens, first: int, last: int, g: Gazetteer) -> list[Unit]:
    """Settlements whose Ukrainian name has the skeleton of the words first..last."""
    keys = [""]
    for word in tk.words[first:last]:
        keys = [(k + " " if k else "") + s for k in keys for s in _ru_keys(word)]
    index = g.ru_index()
    return list(dict.fromkeys(u for k in keys for u in index.get(k, ())))


@functools.lru_cache(maxsize=20_000)
def _known_word(word: str) -> bool:
    """A dictionary word that is no geographical name."""
    return any(p.is_known and "Geox" not in p.tag.grammemes for p in parse(word))


@functools.lru_cache(maxsize=20_000)
def _ru_keys(word: str) -> tuple[str, ...]:
    keys = {ru_skeleton(word)}
    for ending in RU_CASE_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            keys.add(ru_skeleton(word[: -len(ending)]))
    return tuple(keys)


_RIVER_CONTEXT = frozenset({"берег", "берега", "березі", "берегом", "берегу", "річка", "річки", "річку",
                            "річці", "річкою", "river", "река", "реки", "реке", "реку", "через",
                            "лівобережжя", "правобережжя", "острові", "гирло", "гирлі", "русло",
                            "акваторії", "across", "the"})
