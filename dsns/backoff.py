"""The wait before restarting something that failed: doubling with each failure in a row."""

from __future__ import annotations

__all__ = ["Backoff", "doubling_delay"]

# 2**16 times the first wait is past every cap in use; the bound only keeps the power finite.
_MOST_DOUBLINGS = 16


def doubling_delay(failures: int, first: float, most: float) -> float:
    """The wait after `failures` failures in a row: `first` after one, twice as long after each
    further one, never more than `most` (nor a cap below `first` shortening `first`)."""
    return min(first * 2 ** min(max(failures - 1, 0), _MOST_DOUBLINGS), max(most, first))


class Backoff:
    """A delay that starts at `first`, doubles after each failure up to `most`, and starts over
    on `reset()` (after a success, or a run long enough to count as one)."""

    def __init__(self, first: float, most: float) -> None:
        self.first = first
        self.most = max(most, first)
        self._failures = 0

    def next(self) -> float:
        """The wait after this failure; the next one waits twice as long (up to `most`)."""
        self._failures += 1
        return doubling_delay(self._failures, self.first, self.most)

    def reset(self) -> None:
        self._failures = 0
