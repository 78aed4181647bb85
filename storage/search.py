"""Full-text search where one form of a Ukrainian word finds the others.

How: the `posts_search` FTS5 table (migration m004) uses the trigram tokenizer, so it matches
any substring. A query word is turned into the substring every form of it shares ("пожежа" ->
"пожеж", "Балаклія" -> "балакл"; for alternating stems like Київ/Києва, the set of its forms),
which finds candidates fast; then each candidate is checked word by word in Python, keeping a
post only when one of its words has a lemma (pymorphy3 or the gazetteer's name paradigms) in
common with the query word, so "пожежа" does not find "пожежний".

Why trigram over a lemmatised FTS column (measured by tests/test_research_measure.py: 17 posts,
12 queries of names and common words): lemma column recall 1.00 precision 1.00; trigram + stem
alone recall 1.00 precision 0.83 (stems overmatch: пожеж- in "пожежно-рятувальні"); trigram +
stem + lemma check recall 1.00 precision 1.00. Index size: lemma 1.1x the text, trigram 3.1x.
The exact variants tie on quality, so operation decided: the trigram index is kept by plain-SQL
triggers, so every writer (daemon, backfill, MTProto) keeps it current with no Python hook, and
edits and earlier versions are searchable at once; Datasette's search box over it finds any
word by its shared beginning ("Балакл"). A lemma column would need Python on every write path.

Query language: words are ANDed; `OR` (upper case) separates alternatives, lowest precedence
(`a b OR c` is (a AND b) OR c); "quoted words" must follow one another; `-word` excludes;
`word*` is a plain prefix (no inflection). Anything else that is not a word is a separator.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from analysis._lexicon import norm
from analysis.gazetteer import get_gazetteer
from analysis.morph import parse as morph_parse
from analysis.regions import resolve_region
from storage.database import Database
from storage.errors import StorageError
from storage.export import PHOTOS_SQL, date_filter, post_row

__all__ = [
    "QuerySyntaxError", "Term", "Query", "parse_query", "word_lemmas", "text_words", "RegionFilter",
    "region_filter", "search_posts",
]

MIN_TERM = 3  # the trigram index cannot look up anything shorter
_WORD_RE = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_QUERY_TOKEN_RE = re.compile(r'\s+|"|\(|\)|-?[^\W_]+(?:\'[^\W_]+)*\*?|.', re.UNICODE)


class QuerySyntaxError(ValueError):
    """The query cannot be parsed; the message says why in one line."""


def text_words(text: str) -> list[str]:
    """Normalised words of a text; hyphenated words split, so both halves are searchable."""
    return _WORD_RE.findall(norm(text))


@functools.lru_cache(maxsize=100_000)
def word_lemmas(word: str) -> frozenset[str]:
    """Every dictionary form `word` (normalised) can be: itself, pymorphy3's, the gazetteer's."""
    out = {word}
    if not ("a" <= word[0] <= "z" or word[0].isdigit()):
        out.update(p.normal_form for p in morph_parse(word))
        out.update(get_gazetteer().lemmas(word))
    return frozenset(out)


@functools.lru_cache(maxsize=10_000)
def _forms(word: str) -> tuple[str, ...]:
    """The forms of every lexeme `word` can belong to (pymorphy3 paradigms)."""
    forms = {word}
    if "a" <= word[0] <= "z" or word[0].isdigit():
        return (word,)
    lemmas = word_lemmas(word)
    for parse in morph_parse(word):
        if parse.normal_form in lemmas:
            forms.update(f.word for f in parse.lexeme)
    forms.update(lemmas)
    return tuple(sorted(forms))


def _substrings(word: str) -> tuple[str, ...]:
    """Substrings that cover every form of `word`: their shared prefix, else minimal prefixes."""
    forms = list(_forms(word))
    stem = forms[0]
    for f in forms[1:]:
        while not f.startswith(stem):
            stem = stem[:-1]
    # Texts write the apostrophe many ways (' ’ ʼ): look up the longest part without one.
    stem = max(stem.split("'"), key=len)
    if len(stem) >= MIN_TERM:
        return (stem,)
    # Alternating stems (Київ / Києва): keep each form that no shorter kept form already covers.
    kept: list[str] = []
    parts = {max(f.split("'"), key=len) for f in forms}
    for f in sorted({f for f in parts if len(f) >= MIN_TERM}, key=len):
        if not any(f.startswith(k) for k in kept):
            kept.append(f)
    return tuple(kept) or (word,)


@dataclass(frozen=True, slots=True)
class Term:
    """One query word, a prefix, or a phrase (several words that must be adjacent)."""

    words: tuple[str, ...]
    prefix: bool = False
    negated: bool = False

    def fts(self) -> str:
        """The FTS5 (trigram) expression that finds every candidate for this term."""
        parts = []
        for w in self.words:
            subs = (w,) if self.prefix else _substrings(w)
            alts = " OR ".join(_quote(s) for s in subs)
            parts.append(f"({alts})" if len(subs) > 1 else alts)
        return " AND ".join(parts)

    def matches(self, words: list[str]) -> bool:
        """Whether the words of a text contain this term in some inflected form."""
        n = len(self.words)
        for i in range(len(words) - n + 1):
            if all(self._word_matches(q, words[i + k]) for k, q in enumerate(self.words)):
                return True
        return False

    def _word_matches(self, query: str, word: str) -> bool:
        if self.prefix:
            return word.startswith(query)
        if word == query:
            return True
        # Cheap filter first: a form of the query word starts with one of its substrings.
        if not any(word.startswith(s) for s in _substrings(query)):
            return False
        return not word_lemmas(word).isdisjoint(word_lemmas(query))


@dataclass(slots=True)
class Query:
    """Alternatives (OR) of term lists (AND); negated terms only exclude."""

    groups: list[list[Term]] = field(default_factory=list)

    def fts(self) -> str:
        """An FTS5 MATCH expression over `posts_search` that every real match satisfies."""
        alts = []
        for group in self.groups:
            positives = [t.fts() for t in group if not t.negated]
            alts.append("(" + " AND ".join(f"({p})" for p in positives) + ")")
        return " OR ".join(alts)

    def matches(self, text: str) -> bool:
        """The exact check the trigram candidates must pass (inflection-aware, word-bounded)."""
        words = text_words(text)
        return any(
            all(t.matches(words) != t.negated for t in group) for group in self.groups
        )


def _quote(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


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

    def admits(self, oblasts: list[str], places: list[dict]) -> bool:
        """Whether a post's analysed oblasts/places fall inside this region."""
        if self.whole_oblast:
            return self.oblast in oblasts
        g = get_gazetteer()
        for place in places:
            try:
                if g.contains(self.code, place["code"]):
                    return True
            except KeyError:
                continue  # a code from an older gazetteer edition
        return False


async def search_posts(
    db: Database,
    query: Query,
    *,
    region: RegionFilter | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    strikes: bool = False,
    limit: int = 50,
    batch: int = 200,
) -> AsyncIterator[dict[str, Any]]:
    """Posts matching `query`, newest first, as export rows plus is_strike/oblasts/places.

    Candidates come from the trigram index with the cheap filters in SQL; each is then checked
    by `query.matches` (inflection, word bounds, exclusions) and the region's containment.
    """
    dates, date_params = date_filter("p.published_at", since, until)
    where = ["posts_search MATCH ?", *dates]
    params: list[Any] = [query.fts(), *date_params]
    if strikes:
        where.append("a.is_strike = 1")
    if region is not None:
        # The oblast narrows in SQL; containment below a raion is checked in Python.
        where.append("EXISTS (SELECT 1 FROM json_each(a.oblasts) WHERE value = ?)")
        params.append(region.oblast)
    sql = f"""SELECT p.id, p.stream, p.external_id, p.url, p.published_at, p.title, p.text,
                     p.edited, p.deleted_at, a.is_strike, a.oblasts, a.places, s.versions,
                     {PHOTOS_SQL}
              FROM posts_search s JOIN posts p ON p.id = s.rowid
              LEFT JOIN analyses a ON a.post_id = p.id
              WHERE {' AND '.join(where)}
              ORDER BY p.published_at DESC, p.id DESC LIMIT ? OFFSET ?"""
    found = offset = 0
    while found < limit:
        try:
            rows = await db.fetchall(sql, (*params, batch, offset))
        except StorageError as exc:
            if "fts5" in str(exc).lower():  # our quoting makes this a bug, but say it plainly
                raise QuerySyntaxError(f"the index rejected the query: {exc}") from exc
            raise
        if not rows:
            return
        offset += len(rows)
        for row in rows:
            oblasts = json.loads(row["oblasts"]) if row["oblasts"] else []
            places = json.loads(row["places"]) if row["places"] else []
            if region is not None and not region.admits(oblasts, places):
                continue
            haystack = "\n".join(x for x in (row["title"], row["text"], row["versions"]) if x)
            if not query.matches(haystack):
                continue
            yield {
                **post_row(row),
                "is_strike": None if row["is_strike"] is None else bool(row["is_strike"]),
                "oblasts": oblasts, "places": [p.get("name") for p in places],
                "deleted": row["deleted_at"] is not None,
            }
            found += 1
            if found >= limit:
                return


def region_filter(query: str) -> tuple[RegionFilter, str] | None:
    """The region a user means (UA-63, Харківщина, kharkiv, Ізюмський район, Балаклія) and its
    readable name; the most likely one when a name is shared; None when nothing matches."""
    places = resolve_region(query)
    if not places:
        return None
    place = places[0]
    whole = place.level in ("oblast", "city")
    code = place.oblast if whole else place.code
    return RegionFilter(code, place.oblast, whole), place.name
