"""The wait before restarting something that failed: doubling with each failure in a row."""

from __future__ import annotations

__all__ = ["Backoff"]


class Backoff:
    """A delay that starts at `first`, doubles after each failure up to `most`, and starts over
    on `reset()` (after a success, or a run long enough to count as one)."""

    def __init__(self, first: float, most: float) -> None:
        self.first = first
        self.most = max(most, first)
        self._delay = first

    def next(self) -> float:
        """The wait after this failure; the next one waits twice as long (up to `most`)."""
        wait = self._delay
        self._delay = min(self._delay * 2, self.most)
        return wait

    def reset(self) -> None:
        self._delay = self.first
