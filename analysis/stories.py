"""Which story a post belongs to: same event = shared places, a time window, similar content.

Reports of one strike differ in language and wording but agree on what matters: the places,
the weapon, the figures. So a post is reduced to normalised features (place codes, oblasts,
weapons, killed/injured) and compared by MinHash/LSH over those features, which lets a
Ukrainian DSNS post and an English news item about the same strike meet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from datasketch import MinHash, MinHashLSH

from analysis.model import Analysis

__all__ = ["StoryIndex", "features_of", "story_features", "settlement_codes", "SIMILARITY"]

# Jaccard over features at or above which two posts of overlapping places and time are one
# event. One place + weapon + oblast shared out of 7 features (figures revised) is 0.43.
SIMILARITY = 0.3
NUM_PERM = 64
_SETTLEMENT_LEVELS = ("settlement", "city", "city_district")


def story_features(
    *, is_strike: bool, oblasts: Iterable[str], places: Iterable[tuple[str, str]],
    weapons: Iterable[str], killed: int | None, injured: int | None,
) -> frozenset[str]:
    """The language-independent tokens of a post or story; `places` are (code, level) pairs."""
    tokens = {f"O:{o}" for o in oblasts}
    tokens.update(f"P:{code}" for code, level in places if level in _SETTLEMENT_LEVELS)
    tokens.update(f"W:{w}" for w in weapons)
    if killed:
        tokens.add(f"K:{killed}")
    if injured:
        tokens.add(f"I:{injured}")
    tokens.add("S:strike" if is_strike else "S:other")
    return frozenset(tokens)


def features_of(analysis: Analysis) -> frozenset[str]:
    """A post's features (see `story_features`)."""
    c = analysis.casualties
    return story_features(
        is_strike=analysis.is_strike, oblasts=analysis.oblasts,
        places=[(p.code, p.level) for p in analysis.places], weapons=analysis.weapons,
        killed=c.killed, injured=c.injured,
    )


def settlement_codes(features: frozenset[str]) -> frozenset[str]:
    return frozenset(f for f in features if f.startswith("P:"))


def _oblasts(features: frozenset[str]) -> frozenset[str]:
    return frozenset(f for f in features if f.startswith("O:"))


# Generating the permutations is most of a MinHash's cost: make them once.
_TEMPLATE = MinHash(num_perm=NUM_PERM, seed=7)


def _minhash(features: frozenset[str]) -> MinHash:
    minhash = MinHash(
        num_perm=NUM_PERM, seed=7, permutations=_TEMPLATE.permutations, scheme=_TEMPLATE.scheme
    )
    minhash.update_batch([f.encode() for f in sorted(features)])
    return minhash


@dataclass(slots=True)
class _Entry:
    at: datetime
    features: frozenset[str]


class StoryIndex:
    """Recent stories, searchable by similarity; entries older than the window are evicted."""

    def __init__(self, window: timedelta = timedelta(hours=12)) -> None:
        self.window = window
        self._lsh = MinHashLSH(threshold=SIMILARITY, num_perm=NUM_PERM)
        self._entries: dict[int, _Entry] = {}
        self._span: tuple[datetime, datetime] | None = None

    def covers(self, at: datetime) -> bool:
        """Whether every story that could match a post at `at` is loaded."""
        return self._span is not None and self._span[0] <= at - self.window and at + self.window <= self._span[1]

    def reset(self, around: datetime) -> tuple[datetime, datetime]:
        """Forget everything and declare the span around `around` that the caller must load."""
        self._lsh = MinHashLSH(threshold=SIMILARITY, num_perm=NUM_PERM)
        self._entries.clear()
        self._span = (around - 2 * self.window, around + 2 * self.window)
        return self._span

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, story_id: int, at: datetime, features: frozenset[str]) -> None:
        """Index (or re-index, after its features grew) a story seen at `at`."""
        if story_id in self._entries:
            self._lsh.remove(story_id)
        self._entries[story_id] = _Entry(at, features)
        self._lsh.insert(story_id, _minhash(features))

    def match(self, at: datetime, features: frozenset[str]) -> int | None:
        """The story this post continues, or None when it opens a new one.

        A candidate must be within the window, of the same kind (strike or not), share a
        settlement when both name one, else share an oblast, and be similar enough. The
        caller loads the stories around `at` first (`covers`, `reset`, `add`).
        """
        if not _oblasts(features):
            return None  # a post that names no place cannot be told apart from any other event
        best: tuple[float, int] | None = None
        for story_id in self._lsh.query(_minhash(features)):
            entry = self._entries[story_id]
            if abs(entry.at - at) > self.window or not _compatible(entry.features, features):
                continue
            score = len(entry.features & features) / len(entry.features | features)
            if score >= SIMILARITY and (best is None or score > best[0]):
                best = (score, story_id)
        return best[1] if best else None


def _compatible(a: frozenset[str], b: frozenset[str]) -> bool:
    if ("S:strike" in a) != ("S:strike" in b):
        return False
    places_a, places_b = settlement_codes(a), settlement_codes(b)
    if places_a and places_b:
        return bool(places_a & places_b)
    return bool(_oblasts(a) & _oblasts(b))
