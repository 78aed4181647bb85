"""Our errors survive the trip to and from a worker process (pickle), whole."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

from collectors.base import Payload, SourceLayoutError, SourceRateLimited
from dsns.errors import UsageError


def test_source_errors_cross_a_process_boundary_with_their_state() -> None:
    layout = SourceLayoutError("t.me/s/dsns_test", "no posts on the page")
    layout.payloads.append(Payload("http://127.0.0.1/s/dsns_test", 200, b"<html>", datetime(2026, 5, 1, tzinfo=UTC), "web-1"))
    limited = SourceRateLimited("feed:example", "429 Too Many Requests", status=429, retry_after=30.0)

    back_layout, back_limited = pickle.loads(pickle.dumps([layout, limited]))

    assert type(back_layout) is SourceLayoutError and str(back_layout) == "t.me/s/dsns_test: no posts on the page"
    assert back_layout.source == "t.me/s/dsns_test" and back_layout.payloads == layout.payloads
    assert back_layout.cli_line() == layout.cli_line()
    assert type(back_limited) is SourceRateLimited
    assert (back_limited.status, back_limited.retry_after, back_limited.kind) == (429, 30.0, "rate_limited")


def test_a_plain_error_of_ours_round_trips_too() -> None:
    error = pickle.loads(pickle.dumps(UsageError("--page needs a number")))
    assert type(error) is UsageError and str(error) == "--page needs a number" and error.exit_code == 2
