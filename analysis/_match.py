"""Tokenising a text and finding every gazetteer name in it, before ambiguity is decided.

A token is lemmatised against the name words of the gazetteer (stem + ending paradigms built with
pymorphy3 at build time); a capitalised token the paradigms miss is given to pymorphy3 itself,
all parses considered. Names are then found as sequences of lemmas with a prefix index.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from analysis._lexicon import (
    CONJUNCTIONS, DOTTED_MARKERS, FILLER_WORDS, HROMADA_WORDS, MARKERS, OBLAST_WORDS, RAION_WORDS,
    WORD_RE, is_latin, norm,
)
from analysis.gazetteer import Gazetteer, Unit, get_gazetteer
from analysis.morph import parse

RIVERS = frozenset({"дніпро", "десна", "дністер", "дунай", "буг", "донець", "прут", "сейм", "інгулець",
                    "оскіл", "ворскла", "псел", "сула", "тиса", "рось", "случ", "днепр", "dnipro"})
_BOUNDARY = set(".!?:;…\n|")
_SKIP_BACK = set(" \t\r\"'«»“”„()[]-–—•*·>#")


@dataclass(slots=True)
class Token:
    text: str        # normalised
    start: int
    end: int
    cap: bool        # starts with a capital letter in the original
    sent_start: bool  # first word of a sentence or line, where capitals prove nothing
    dotted: bool     # followed by "." (abbreviations: м., с., обл.)
    head: bool = False  # followed by ":" - a DSNS post header ("Зміїв: ...")


@dataclass(slots=True)
class Mention:
    """A span naming one or more candidate units; `level_word` tells what an adjective named."""

    start: int
    end: int
    first: int                    # token index
    last: int                     # token index, exclusive
    key: tuple[str, ...]
    candidates: list[Unit]
    kind: str                     # "P" stands alone, "A" adjective + level word
    cap: bool
    sent_start: bool
    marker: frozenset[str] | None = None
    common: bool = False
    level_word: str = ""
    head: bool = False
    notes: set[str] = field(default_factory=set)


def tokenize(text: str) -> list[Token]:
    """Word tokens with the facts the matcher needs about their surroundings."""
    low = norm(text)
    out: list[Token] = []
    n = len(text)
    for m in WORD_RE.finditer(low):
        s, e = m.span()
        j = s - 1
        while j >= 0 and text[j] in _SKIP_BACK:
            j -= 1
        sent = j < 0 or text[j] in _BOUNDARY or not (text[j].isalnum() or text[j] in ",")
        out.append(Token(m.group(), s, e, text[s].isupper(), sent, e < n and text[e] == ".",
                         e < n and text[e] == ":"))
    return out


@functools.lru_cache(maxsize=200_000)
def lemmas(token: str) -> tuple[str, ...]:
    """Name words `token` may be a form of (itself included when it is one)."""
    g = get_gazetteer()
    if is_latin(token):
        base = token[:-2] if token.endswith("'s") else token
        return (base,)
    return g.lemmas(token)


@functools.lru_cache(maxsize=50_000)
def morph_lemmas(token: str) -> tuple[str, ...]:
    """Fallback for a capitalised word the paradigms miss: every pymorphy3 parse's normal form
    that is a name word (the first parse of "Харкові" is a surname, the third the city)."""
    g = get_gazetteer()
    return tuple(dict.fromkeys(p.normal_form for p in parse(token) if p.normal_form in g.lemma_set))


def _token_lemmas(tok: Token) -> tuple[str, ...]:
    found = lemmas(tok.text)
    if not found and tok.cap and not is_latin(tok.text) and len(tok.text) > 3:
        found = morph_lemmas(tok.text)
    return found


def _level_after(toks: list[Token], j: int, g: Gazetteer) -> str:
    """The level word closing an adjective phrase: "Харківська [та Сумська] області" -> oblast."""
    for k in range(j, min(j + 8, len(toks))):
        w = toks[k].text
        if w in OBLAST_WORDS:
            return "oblast"
        if w in RAION_WORDS:
            return "raion"
        if w in HROMADA_WORDS:
            return "hromada"
        if w in FILLER_WORDS or w in CONJUNCTIONS:
            continue
        if any((lem,) in g.names for lem in _token_lemmas(toks[k])):
            continue  # another adjective of the same list
        break
    return ""


_LEVELS_FOR = {"oblast": ("oblast", "city"), "raion": ("raion", "city_district"), "hromada": ("hromada",)}


def find_mentions(text: str, g: Gazetteer) -> tuple[list[Token], list[Mention]]:
    """Every span of `text` that is a gazetteer name, longest first, with its candidates."""
    toks = tokenize(text)
    out: list[Mention] = []
    i, n = 0, len(toks)
    names, prefixes = g.names, g.prefixes
    while i < n:
        best: tuple[int, list[tuple[str, ...]]] | None = None
        partial: list[tuple[str, ...]] = [(lem,) for lem in _token_lemmas(toks[i])]
        j = i + 1
        while partial:
            # Keep every key of the longest length: "кам'янське" is also a form of the hromada
            # adjective "кам'янська", and the level word decides between them later.
            found = [key for key in partial if key in names]
            if found:
                best = (j, found)
            if j >= n:
                break
            nxt = _token_lemmas(toks[j])
            partial = [k + (lem,) for k in partial if k in prefixes for lem in nxt]
            j += 1
        if best is None:
            i += 1
            continue
        end, keys = best
        m = _mention(toks, i, end, keys, g)
        if m is not None:
            out.append(m)
        i = end
    return toks, out


def _mention(toks: list[Token], i: int, j: int, keys: list[tuple[str, ...]], g: Gazetteer) -> Mention | None:
    entries = list({(id(u), k): (u, k) for key in keys for u, k in g.names[key]}.values())
    key = keys[0]
    first = toks[i]
    level = _level_after(toks, j, g)
    cands: list[Unit] = []
    kind = "P"
    if level:
        cands = [u for u, k in entries if k == "A" and u.level in _LEVELS_FOR[level]]
        kind = "A"
    if not cands:
        kind = "P"
        cands = [u for u, k in entries if k == "P"]
        if level and cands:  # "Izium district", "Kyiv region": a centre named with a level word
            lifted = [g.units[c] for u in cands for c in g.centre_of.get(u.code, ())
                      if g.units[c].level in _LEVELS_FOR[level]]
            if lifted:
                cands, kind = lifted, "A"
    if not cands:
        return None
    regional = [u for u in cands if u.level in ("oblast", "raion")]
    if kind == "P" and regional:
        # A region's own name beats villages called the same (Буковина, Крим).
        top = "oblast" if any(u.level == "oblast" for u in regional) else "raion"
        cands = [u for u in regional if u.level == top]
    prev = toks[i - 1] if i > 0 else None
    if kind == "P" and any(k[-1] in RIVERS for k in keys) and (
            (prev is not None and prev.text in _RIVER_CONTEXT)
            or (j < len(toks) and toks[j].text in ("river", "річка", "река"))):
        return None  # the river, not the city
    marker = None
    if prev is not None and prev.text in MARKERS and (prev.text not in DOTTED_MARKERS or prev.dotted):
        marker = MARKERS[prev.text]
    return Mention(first.start, toks[j - 1].end, i, j, key, cands, kind,
                   cap=first.cap, sent_start=first.sent_start and marker is None, marker=marker,
                   common=any(k in g.common for k in keys), level_word=level, head=toks[j - 1].head)


_RIVER_CONTEXT = frozenset({"берег", "берега", "березі", "берегом", "берегу", "річка", "річки", "річку",
                            "річці", "річкою", "river", "река", "реки", "реке", "реку", "через",
                            "лівобережжя", "правобережжя", "острові", "гирло", "гирлі", "русло",
                            "акваторії", "across", "the"})
