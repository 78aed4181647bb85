"""The doubling restart delay shared by the bot's supervisor and the live feeds."""

from __future__ import annotations

from dsns.backoff import Backoff, doubling_delay


def test_backoff_doubles_to_its_cap_and_starts_over_on_reset() -> None:
    backoff = Backoff(1.0, 5.0)
    assert [backoff.next() for _ in range(5)] == [1.0, 2.0, 4.0, 5.0, 5.0]
    backoff.reset()
    assert backoff.next() == 1.0
    assert Backoff(10.0, 3.0).next() == 10.0  # a cap below the first wait never shortens it


def test_doubling_delay_is_the_formula_the_backoff_and_the_retries_share() -> None:
    assert [doubling_delay(n, 2.0, 600.0) for n in (1, 2, 3, 9, 10, 40)] == [2.0, 4.0, 8.0, 512.0, 600.0, 600.0]
    assert doubling_delay(0, 60.0, 600.0) == 60.0  # no failure yet waits the first delay, never less
    assert doubling_delay(1, 10.0, 3.0) == 10.0
    backoff = Backoff(3.0, 100.0)
    assert [backoff.next() for _ in range(7)] == [doubling_delay(n, 3.0, 100.0) for n in range(1, 8)]
