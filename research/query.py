"""The search language: a query parsed into terms, each word expanded to every form it can take.

A query word is expanded to every inflected form of every lexeme it can belong to (pymorphy3
paradigms and the gazetteer's name paradigms), so "Балаклія" becomes `балаклія OR балаклії OR …`
and the word index (`storage.search`) alone finds "по Балаклії" without "пожежа" finding
"пожежний". Only quoted phrases are checked in Python (word adjacency across forms), on the rows
SQL already narrowed to posts holding every word.

Why forms at query time over a lemma column or the trigram index (measured by
tests/test_research_measure.py and bench/search.py): all three reach recall and precision 1.00
on the labelled set once the trigram candidates are checked word by word; but a common word
gave the trigram index tens of thousands of candidates to check in Python at 10^6 posts
(minutes), the forms expansion none. A lemma column would need Python on every write path;
expanded forms keep the index on plain-SQL triggers, so every writer (daemon, backfill, MTProto)
keeps it current, edits and earlier versions are searchable at once, and Datasette's search box
runs the same expansion (research/serve.py registers it as its FTS escaper).

Query language: words are ANDed; `OR` (upper case) separates alternatives, lowest precedence
(`a b OR c` is (a AND b) OR c); "quoted words" must follow one another; `-word` excludes;
`word*` is a plain prefix (no inflection). Anything else that is not a word is a separator.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from analysis.gazetteer import get_gazetteer
from analysis.morph import APOSTROPHE_VARIANTS, norm
from analysis.morph import parse as morph_parse
from analysis.places import find_places
from dsns.errors import UsageError
from storage import search as index
from storage.database import Database
from storage.errors import StorageError

__all__ = [
    "QuerySyntaxError", "Term", "Query", "parse_query", "word_lemmas", "word_forms", "text_words",
    "RegionFilter", "region_filter", "search_posts", "search_sql", "fts_expression",
]

MIN_TERM = 3  # shorter words are in too many posts to be a search
_WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_QUERY_TOKEN_RE = re.compile(r'\s+|"|\(|\)|-?[^\W_]+(?:\'[^\W_]+)*\*?|.', re.UNICODE)
# Texts write the apostrophe as ' or ’ (separators for unicode61) or as ʼ (a letter to it).
_MODIFIER_APOSTROPHE = "\u02bc"


class QuerySyntaxError(UsageError, ValueError):
    """The query cannot be parsed; the message says why in one line."""

    label = "bad query"


def text_words(text: str) -> list[str]:
    """Normalised words of a text; hyphenated words split, so both halves are searchable."""
    return _WORD_RE.findall(norm(text))


def _latin_or_number(word: str) -> bool:
    return "a" <= word[0] <= "z" or word[0].isdigit()


@functools.lru_cache(maxsize=100_000)
def word_lemmas(word: str) -> frozenset[str]:
    """Every dictionary form `word` (normalised) can be: itself, pymorphy3's, the gazetteer's."""
    out = {word}
    if not _latin_or_number(word):
        out.update(p.normal_form for p in morph_parse(word))
        out.update(get_gazetteer().lemmas(word))
    return frozenset(out)


def _name_forms(lemma: str) -> set[str]:
    """The forms the gazetteer's name paradigms give `lemma` (Балаклія -> балаклії, …)."""
    g = get_gazetteer()
    forms: set[str] = set()
    for k in range(1, len(lemma) + 1):
        stem = lemma[:k]
        for name, pid in g.stems.get(stem, ()):
            if name == lemma:
                forms.update(stem + suffix for suffix in g.paradigms[pid])
    return forms


@functools.lru_cache(maxsize=10_000)
def word_forms(word: str) -> frozenset[str]:
    """Every form of every lexeme `word` (normalised) can belong to: what a query word matches."""
    if _latin_or_number(word):
        return frozenset((word,))
    lemmas = word_lemmas(word)
    forms = {word, *lemmas}
    for lemma in lemmas:
        for parse in morph_parse(lemma):
            if parse.normal_form in lemmas:
                forms.update(f.word for f in parse.lexeme)
        forms.update(_name_forms(lemma))
    return frozenset(norm(f) for f in forms)


def _quote(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def _word_fts(word: str, prefix: bool) -> str:
    """FTS5 alternatives for one query word: its forms, or a prefix."""
    if prefix:
        return _quote(word) + " *"
    alts: list[str] = []
    for form in sorted(word_forms(word)):
        alts.append(_quote(form))  # with ' the tokenizer makes it a phrase of both halves
        if "'" in form:
            alts.append(_quote(form.replace("'", _MODIFIER_APOSTROPHE)))
    return "(" + " OR ".join(alts) + ")"


@dataclass(frozen=True, slots=True)
class Term:
    """One query word, a prefix, or a phrase (several words that must be adjacent)."""

    words: tuple[str, ...]
    prefix: bool = False
    negated: bool = False

    def fts(self) -> str:
        """The FTS5 expression over `posts_words` every match satisfies; exact unless a phrase."""
        return " AND ".join(_word_fts(w, self.prefix) for w in self.words)

    def matches(self, lowered: str) -> bool:
        """Whether a lower-cased text holds this term in some inflected form, its words one
        after the other as `text_words` splits them."""
        return _term_regex(self.words, self.prefix).search(lowered) is not None


# A word ends where no letter/digit, nor an apostrophe joining one, follows.
_WORD_START = r"\b(?<!\w')"
_WORD_END = r"(?![^\W_]|'[^\W_])"
# norm() is too slow for a page of texts (str.translate): the check matches its variants itself.
_ANY_APOSTROPHE = f"['{APOSTROPHE_VARIANTS}]"


@functools.lru_cache(maxsize=1_000)
def _term_regex(words: tuple[str, ...], prefix: bool) -> re.Pattern[str]:
    """One regex for a term: each word's forms (or prefix), separated by non-word characters."""
    parts = []
    for word in words:
        if prefix:
            parts.append(re.escape(word) + r"[^\W_]*(?:'[^\W_]+)*")
        else:
            forms = sorted(word_forms(word), key=len, reverse=True)
            parts.append("(?:" + "|".join(re.escape(f).replace("'", _ANY_APOSTROPHE) for f in forms) + ")")
    return re.compile(_WORD_START + (_WORD_END + r"[\W_]+?").join(parts) + _WORD_END)


@dataclass(slots=True)
class Query:
    """Alternatives (OR) of term lists (AND); negated terms only exclude."""

    groups: list[list[Term]] = field(default_factory=list)

    def fts(self) -> str:
        """An FTS5 MATCH expression over `posts_words`; exact when `needs_check` is False."""
        alts = []
        for group in self.groups:
            expr = " AND ".join(f"({t.fts()})" for t in group if not t.negated)
            # A negated phrase cannot be excluded in SQL (its words may be apart): checked later.
            excluded = [f"({t.fts()})" for t in group if t.negated and len(t.words) == 1]
            if excluded:
                expr = f"({expr}) NOT ({' OR '.join(excluded)})"
            alts.append(f"({expr})")
        return " OR ".join(alts)

    @property
    def needs_check(self) -> bool:
        """Whether SQL's matches must be checked by `matches` (phrases: word adjacency)."""
        return any(len(t.words) > 1 for group in self.groups for t in group)

    def matches(self, text: str) -> bool:
        """The exact check (inflection-aware, word-bounded, adjacency of phrase words)."""
        lowered = text.lower()
        return any(
            all(t.matches(lowered) != t.negated for t in group) for group in self.groups
        )


def fts_expression(query: str) -> str:
    """The `posts_words` MATCH expression for a query in the search language (Datasette's box)."""
    return parse_query(query).fts()


def parse_query(query: str) -> Query:
    """Parse the search language (see the module docstring); QuerySyntaxError if malformed."""
    if query.count('"') % 2:
        raise QuerySyntaxError('unbalanced quotes: every " needs a closing "')
    groups: list[list[Term]] = [[]]
    phrase: list[str] | None = None
    negate_phrase = False
    pending_minus = False
    for token in _QUERY_TOKEN_RE.findall(query):
        if token in ("(", ")"):
            raise QuerySyntaxError("parentheses are not supported: use OR between alternatives")
        if token == '"':
            if phrase is None:
                phrase, negate_phrase, pending_minus = [], pending_minus, False
            else:
                if not phrase:
                    raise QuerySyntaxError('empty quotes ""')
                groups[-1].append(Term(tuple(phrase), negated=negate_phrase))
                phrase = None
            continue
        if token.isspace():
            pending_minus = False
            continue
        if token == "-" and phrase is None:
            pending_minus = True
            continue
        if not _WORD_RE.match(token.lstrip("-")):
            continue  # punctuation separates words, like in the texts
        negated = token.startswith("-") and phrase is None
        raw = token.lstrip("-")
        if phrase is None and raw == "OR":
            if not groups[-1]:
                raise QuerySyntaxError("OR needs a search term on both sides")
            groups.append([])
            continue
        prefix = raw.endswith("*")
        word = norm(raw.rstrip("*"))
        if len(word.replace("'", "")) < MIN_TERM:
            raise QuerySyntaxError(f"{raw!r} is too short: search terms need at least {MIN_TERM} letters")
        if phrase is not None:
            phrase.append(word)
        else:
            groups[-1].append(Term((word,), prefix=prefix, negated=negated or pending_minus))
            pending_minus = False
    if not groups[-1]:
        raise QuerySyntaxError("OR needs a search term on both sides" if len(groups) > 1 else "empty query")
    for group in groups:
        if all(t.negated for t in group):
            raise QuerySyntaxError("a query needs at least one word to find, not only excluded ones")
    return Query(groups)


@dataclass(frozen=True, slots=True)
class RegionFilter:
    """A region to search in: posts naming a place inside it, or the oblast itself."""

    code: str     # ISO 3166-2 for an oblast or Kyiv/Sevastopol, else KATOTTH
    oblast: str   # ISO 3166-2 of the oblast it lies in
    whole_oblast: bool

    def scope(self) -> dict[str, Any]:
        """The `storage.search.search_sql` arguments for this region: the oblast, or the
        gazetteer units inside it."""
        if self.whole_oblast:
            return {"oblast": self.oblast}
        return {"units": _units_inside(self.code)}


@functools.lru_cache(maxsize=64)
def _units_inside(code: str) -> tuple[str, ...]:
    """KATOTTH codes of the units inside a raion, hromada or settlement, itself included."""
    g = get_gazetteer()
    return tuple(sorted(u for u in g.units if u == code or code in g.ancestors(u)))


def search_sql(
    query: Query, *, region: RegionFilter | None = None, **filters: Any,
) -> tuple[str, list[Any]]:
    """`storage.search.search_sql` for a parsed query and region (for the plan's check)."""
    return index.search_sql(query.fts(), **(region.scope() if region else {}), **filters)


async def search_posts(
    db: Database,
    query: Query,
    *,
    region: RegionFilter | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    strikes: bool = False,
    limit: int = 50,
    after: int | None = None,
    skip: int = 0,
) -> AsyncIterator[dict[str, Any]]:
    """Posts matching `query`, newest first (`storage.search.search_posts`: export rows plus
    is_strike/oblasts/places and `cursor`, which `after` takes for the next page)."""
    rows = index.search_posts(
        db, query.fts(), check=query.matches if query.needs_check else None,
        **(region.scope() if region else {}), since=since, until=until, strikes=strikes,
        limit=limit, after=after, skip=skip,
    )
    try:
        async with aclosing(rows):
            async for row in rows:
                yield row
    except StorageError as exc:
        if "fts5" in str(exc).lower():  # our quoting makes this a bug, but say it plainly
            raise QuerySyntaxError(f"the index rejected the query: {exc}") from exc
        raise


def region_filter(query: str) -> tuple[RegionFilter, str] | None:
    """The region a user means (UA-63, Харківщина, kharkiv, Ізюмський район, Балаклія) and its
    readable name; the most likely one when a name is shared; None when nothing matches."""
    places = find_places(query)
    if not places:
        return None
    place = places[0]
    whole = place.level in ("oblast", "city")
    code = place.oblast if whole else place.code
    return RegionFilter(code, place.oblast, whole), place.name
