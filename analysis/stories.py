"""Which story a post belongs to: same event = shared places, the same day, a time window.

Reports of one strike differ in language, wording and figures (outlets count differently, tolls
rise) but agree on what matters: the places, the weapon, the day or night of the event. So a post
is reduced to normalised features (settlement codes, oblasts, weapons, the stated event date, strike
or not) and compared exactly (Jaccard) with every story of the window that shares a place with it.
With a handful of features per post and a window of hours that is a few dozen comparisons: exact
and cheap, where MinHash/LSH missed true matches.

Casualty figures are not features: two outlets' "2 injured" and "3 injured" are one event.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from analysis.event_date import resolve
from analysis.model import Analysis

__all__ = ["StoryIndex", "Probe", "features_of", "story_features", "settlement_codes", "SIMILARITY", "FOLLOW_UP"]

# Jaccard over features at or above which two compatible posts are one event. A report naming
# the place, the oblast and a different weapon than the story's (S, O, P shared of 6) is 0.5.
SIMILARITY = 0.3
# How late a follow-up may come (a higher toll the next day) when it states the event's date.
FOLLOW_UP = timedelta(hours=72)
_SETTLEMENT_LEVELS = ("settlement", "city", "city_district")


def story_features(
    *, is_strike: bool, oblasts: Iterable[str], places: Iterable[tuple[str, str]],
    weapons: Iterable[str], event_date: date | None = None,
) -> frozenset[str]:
    """The language-independent tokens of a post; `places` are (code, level) pairs."""
    tokens = {f"O:{o}" for o in oblasts}
    tokens.update(f"P:{code}" for code, level in places if level in _SETTLEMENT_LEVELS)
    tokens.update(f"W:{w}" for w in weapons)
    if event_date is not None:
        tokens.add(f"D:{event_date.isoformat()}")
    tokens.add("S:strike" if is_strike else "S:other")
    return frozenset(tokens)


def features_of(analysis: Analysis, published: datetime) -> frozenset[str]:
    """A post's features (see `story_features`); `published` turns "yesterday" into a date."""
    return story_features(
        is_strike=analysis.is_strike, oblasts=analysis.oblasts,
        places=[(p.code, p.level) for p in analysis.places], weapons=analysis.weapons,
        event_date=resolve(analysis.event_date, published) if analysis.event_date else None,
    )


def _kind(features: frozenset[str], prefix: str) -> frozenset[str]:
    return frozenset(f for f in features if f.startswith(prefix))


def settlement_codes(features: frozenset[str]) -> frozenset[str]:
    return _kind(features, "P:")


@dataclass(frozen=True, slots=True)
class _Parts:
    """Features split by kind once, so that comparing with dozens of stories splits nothing."""

    features: frozenset[str]
    strike: bool
    oblasts: frozenset[str]
    places: frozenset[str]
    weapons: frozenset[str]
    dates: frozenset[str]

    @classmethod
    def of(cls, features: frozenset[str]) -> _Parts:
        kinds: dict[str, list[str]] = {"O:": [], "P:": [], "W:": [], "D:": []}
        for feature in features:
            if (kind := kinds.get(feature[:2])) is not None:
                kind.append(feature)
        return cls(features, "S:strike" in features, frozenset(kinds["O:"]), frozenset(kinds["P:"]),
                   frozenset(kinds["W:"]), frozenset(kinds["D:"]))


@dataclass(slots=True)
class _Entry:
    at: datetime
    parts: _Parts


@dataclass(slots=True)
class Probe:
    """A post to match (`StoryIndex.probe`), which remembers what matching it found.

    A batch matches each post twice: before it changes anything (to read the likely stories at
    once) and in turn. Between the two only the stories of the batch's earlier posts change, so
    the second match reuses the first's answer when no story it could meet changed, and else
    compares again only the stories that did.
    """

    at: datetime
    parts: _Parts
    wanted: frozenset[str]  # the index keys its candidates are found by
    # story id -> (the entry compared, its score; -1 when incompatible)
    scores: dict[int, tuple[_Entry, float]]
    found: int | None = None
    seen: tuple[int, int] | None = None  # (index generation, tick) when `found` was decided


class StoryIndex:
    """Recent stories, looked up by the places they name.

    `window` is how far apart two reports may be when they do not both state the event's date;
    reports that state the same date may be up to `FOLLOW_UP` apart.
    """

    def __init__(self, window: timedelta = timedelta(hours=12)) -> None:
        self.window = window
        self.reach = max(window, FOLLOW_UP)
        self._entries: dict[int, _Entry] = {}
        self._postings: dict[str, set[int]] = {}  # `_keys` -> stories
        self._span: tuple[datetime, datetime] | None = None
        # Each add's tick, on the keys whose stories it changed, and a count of resets: what
        # tells a `Probe` whether its answer still holds.
        self._tick = 0
        self._changed: dict[str, int] = {}
        self._generation = 0

    def covers(self, at: datetime) -> bool:
        """Whether every story that could match a post at `at` is loaded."""
        return self._span is not None and self._span[0] <= at - self.reach and at + self.reach <= self._span[1]

    def reset(self, around: datetime) -> tuple[datetime, datetime]:
        """Forget everything and declare the span around `around` that the caller must load."""
        self._entries.clear()
        self._postings.clear()
        self._changed.clear()
        self._generation += 1
        self._span = (around - 2 * self.reach, around + 2 * self.reach)
        return self._span

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, story_id: int, at: datetime, features: frozenset[str]) -> None:
        """Index (or re-index, after its features grew) a story seen at `at`."""
        old = self._entries.get(story_id)
        if old is not None and old.at == at and old.parts.features == features:
            return  # a follow-up that brought nothing new: the entry stands, and probes' answers with it
        self._tick += 1
        if old is not None:
            for key in _keys(old.parts):
                self._postings[key].discard(story_id)
                self._changed[key] = self._tick
        parts = _Parts.of(features)
        self._entries[story_id] = _Entry(at, parts)
        for key in _keys(parts):
            self._postings.setdefault(key, set()).add(story_id)
            self._changed[key] = self._tick

    def match(self, at: datetime, features: frozenset[str]) -> int | None:
        """The story this post continues, or None when it opens a new one (see `find`)."""
        return self.find(self.probe(at, features))

    @staticmethod
    def probe(at: datetime, features: frozenset[str]) -> Probe:
        """A post at `at` with `features`, to `find` its story (as many times as needed)."""
        post = _Parts.of(features)
        # A post with settlements meets stories naming one of them or naming no settlement at all.
        wanted = post.places | {"o" + o[1:] for o in post.oblasts} if post.places else post.oblasts
        return Probe(at, post, wanted, {})

    def find(self, probe: Probe) -> int | None:
        """The story the probed post continues, or None when it opens a new one.

        Every story that could be compatible (`_compatible`: a settlement in common, or an oblast
        when one of the two names no settlement) is compared, then Jaccard; the most similar one
        at or above `SIMILARITY` wins. The caller loads the stories around `probe.at` first
        (`covers`, `reset`, `add`).
        """
        post, at = probe.parts, probe.at
        if not post.oblasts:
            return None  # a post that names no place cannot be told apart from any other event
        if probe.seen is not None and probe.seen[0] == self._generation and all(
            self._changed.get(key, 0) <= probe.seen[1] for key in probe.wanted
        ):
            return probe.found
        candidates: set[int] = set()
        for key in probe.wanted:
            candidates |= self._postings.get(key, set())
        features = post.features
        scores = probe.scores
        best: tuple[float, int] | None = None
        for story_id in candidates:
            entry = self._entries[story_id]
            known = scores.get(story_id)
            if known is not None and known[0] is entry:
                score = known[1]
            else:
                apart = abs(entry.at - at)
                if apart > self.reach or not _compatible(entry.parts, post, near=apart <= self.window):
                    score = -1.0
                else:
                    score = len(entry.parts.features & features) / len(entry.parts.features | features)
                scores[story_id] = (entry, score)
            if score >= SIMILARITY and (best is None or score > best[0] or (score == best[0] and story_id > best[1])):
                best = (score, story_id)
        probe.found = best[1] if best else None
        probe.seen = (self._generation, self._tick)
        return probe.found


def _keys(parts: _Parts) -> frozenset[str]:
    """What a story is found by: its settlements, its oblasts, and "o:<oblast>" when it names
    no settlement (only those can take a post of another settlement of the oblast)."""
    if parts.places:
        return parts.places | parts.oblasts
    return parts.oblasts | {"o" + o[1:] for o in parts.oblasts}


def _compatible(story: _Parts, post: _Parts, *, near: bool) -> bool:
    """Whether the post may report the story's event at all.

    Strike and non-strike never mix (a fire in the town is not the strike on it). A date each
    states must agree; past the window only an agreeing date joins. Settlements, when both name
    some, must overlap; a post naming only an oblast joins a settlement's story only when the
    weapon or the date agrees as well, since the oblast alone fits any event in it.
    """
    if story.strike != post.strike:
        return False
    same_day = not story.dates.isdisjoint(post.dates)
    if story.dates and post.dates and not same_day:
        return False
    if not near and not same_day:
        return False
    if story.places and post.places:
        return not story.places.isdisjoint(post.places)
    if story.oblasts.isdisjoint(post.oblasts):
        return False
    if story.places or post.places:
        return same_day or not story.weapons.isdisjoint(post.weapons)
    return True
