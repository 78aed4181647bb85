"""`analyze_many`: a batch on every core gives what `analyze` gives, text by text, in order."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import analysis.analyze
import analysis.workers
from analysis.analyze import analyze, analyze_many
from analysis.workers import sendable

TEXTS = [
    "Вночі ворог атакував Харків ударними БпЛА: загинули 2 людини, ще 5 поранені.",
    "На Сумщині рятувальники ліквідували пожежу в житловому будинку.",
    "A missile strike on Odesa killed 3 people and injured 8, the regional administration said.",
    "В Днепре в результате обстрела повреждены дома, ранены 4 человека.",
    "ДСНС нагадує: не залишайте дітей без нагляду біля водойм.",
    "",
]


@pytest.fixture(autouse=True)
def _no_workers_left() -> Iterator[None]:
    yield
    analysis.workers.close_workers()  # kept for the next batch otherwise: not past this test


def test_a_parallel_batch_equals_analyze_text_by_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analysis.analyze, "PARALLEL_MIN", 4)  # a small batch still forks
    texts = [f"{t} #{k}" if t else t for k in range(4) for t in TEXTS]
    channels = ["dsns_kharkiv" if k % 3 == 0 else None for k in range(len(texts))]
    got = analyze_many(texts, channels, workers=2)
    assert got == [analyze(t, channel=c) for t, c in zip(texts, channels)]
    assert any(a.is_strike for a in got) and not all(a.is_strike for a in got)  # type: ignore[union-attr]
    assert analyze_many(texts, channels, workers=1) == got


def test_channels_must_match_texts() -> None:
    with pytest.raises(ValueError, match="2 texts but 1 channels"):
        analyze_many(["a", "b"], [None])


def test_the_workers_serve_batch_after_batch_and_a_dead_one_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import signal

    monkeypatch.setattr(analysis.analyze, "PARALLEL_MIN", 4)
    texts = [f"{t} #{k}" for k in range(3) for t in TEXTS if t]
    expected = [analyze(t) for t in texts]
    assert analyze_many(texts, workers=2) == expected
    first = [p.pid for p in analysis.workers._WORKERS.procs]  # type: ignore[union-attr]
    assert analyze_many(texts[::-1], workers=2) == expected[::-1]
    assert [p.pid for p in analysis.workers._WORKERS.procs] == first  # type: ignore[union-attr]
    os.kill(first[0], signal.SIGKILL)
    analysis.workers._WORKERS.procs[0].join()  # type: ignore[union-attr]
    assert analyze_many(texts, workers=2) == expected
    assert not set(first) & {p.pid for p in analysis.workers._WORKERS.procs}  # type: ignore[union-attr]
    assert analyze_many(texts, workers=3) == expected
    assert len(analysis.workers._WORKERS.procs) == 3  # type: ignore[union-attr]


def test_a_stream_yields_in_order_what_analyze_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analysis.analyze, "PARALLEL_MIN", 4)
    monkeypatch.setattr(analysis.analyze, "CHUNK", 3)
    pairs = [(f"{t} #{k}", "dsns_kharkiv" if k % 2 else None) for k in range(5) for t in TEXTS]
    expected = [analyze(t, channel=c) for t, c in pairs]
    assert list(analysis.analyze.analyze_stream(iter(pairs), workers=2)) == expected
    assert list(analysis.analyze.analyze_stream(iter(pairs[:3]), workers=2)) == expected[:3]  # too few to fork
    stream = analysis.analyze.analyze_stream(iter(pairs), workers=2)
    assert next(stream) == expected[0]
    stream.close()  # left half read: its workers go, chunks and all
    assert analysis.workers._WORKERS is None
    assert analyze_many([t for t, _ in pairs], [c for _, c in pairs], workers=2) == expected


def test_the_analyze_command_writes_every_line_in_order_while_workers_read(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import json

    from monitor.cli.run import _analyze

    monkeypatch.setattr(analysis.analyze, "PARALLEL_MIN", 4)
    monkeypatch.setattr(analysis.analyze, "CHUNK", 2)
    lines: list[str] = []
    expected: list[dict[str, object] | None] = []  # None: an error line
    for k, text in enumerate(t for _ in range(3) for t in TEXTS):
        if k % 5 == 1:
            lines.append("not json")
            expected.append(None)
        channel = "dsns_kharkiv" if k % 4 else None
        lines.append(json.dumps({"id": k, "text": text, "channel": channel}))
        expected.append({"id": k, **analyze(text, channel=channel).to_json()})
    lines += ["", "[1]"]  # a blank line is skipped, an error after the last post is still written
    expected.append(None)
    out = io.StringIO()
    _analyze(io.StringIO("\n".join(lines) + "\n"), out)
    got = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g == e if e is not None else g["id"] is None and "error" in g


class _NeedsTwo(Exception):
    def __init__(self, what: str, why: str) -> None:
        super().__init__(f"{what}: {why}")


def test_an_exception_that_cannot_be_loaded_back_is_sent_as_a_runtime_error() -> None:
    # It pickles, but unpickling calls __init__ with one argument: the parent would fail to read it.
    sent = sendable(_NeedsTwo("post 7", "bad text"))
    assert type(sent) is RuntimeError and str(sent) == "_NeedsTwo: post 7: bad text"
    kept = sendable(ValueError("plain"))
    assert type(kept) is ValueError
