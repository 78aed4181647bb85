"""The doubling restart delay shared by the bot's supervisor and the live feeds."""

from __future__ import annotations

from dsns.backoff import Backoff


def test_backoff_doubles_to_its_cap_and_starts_over_on_reset() -> None:
    backoff = Backoff(1.0, 5.0)
    assert [backoff.next() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.next() == 1.0
    assert Backoff(10.0, 3.0).next() == 10.0  # a cap below the first wait never shortens it
