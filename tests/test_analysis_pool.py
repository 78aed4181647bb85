"""The batch commands' analysis in worker processes (monitor.analysis_pool): the same archive as
analysing in the command's own thread, and one post's failure (the analyser raising, a worker
dying) costs that post only."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analysis.model import Analysis
from collectors.base import FetchResult, RawPost
from collectors.telegram_web import PARSER_VERSION
from monitor.analysis_pool import AnalysisPool, WorkerDiedError, read_ahead
from monitor.app import open_app
from monitor.config import TelegramWebSource, load_config
from monitor.reparse import _reading
from monitor.sinks import AlertSink
from storage.payloads import StoredPayload
from storage.posts import Change
from storage.sources import PostProfile
from tests.fakes.tme import FakeTelegram

CHANNEL = "dsns_test"
# Written for these tests, in the channels' style: strikes of several kinds, a fire, a follow-up.
TEXTS = (
    "Харківщина: внаслідок ракетного удару по Балаклії загинули 2 людини, ще 5 травмовані.",
    "Одещина: унаслідок атаки ударних БпЛА на Ізмаїл пошкоджено складські приміщення. Постраждалих немає.",
    "Дніпропетровщина: через артилерійський обстріл Нікополя горів житловий будинок, травмовано жінку.",
    "Житомирщина: у Коростені рятувальники ліквідували пожежу в господарчій будівлі.",
    "Сумщина: ворог атакував Шостку дронами, пошкоджено підстанцію. Загинув 1 чоловік.",
    "Харківщина: кількість загиблих внаслідок ракетного удару по Балаклії зросла до 3, ще 7 травмовані.",
    "Запоріжжя: внаслідок удару керованою авіабомбою пошкоджено підприємство, поранено 4 людей.",
)


class _Quiet(AlertSink):
    async def publish(self, change: Change, analysis: Analysis) -> None:
        return None


class _Fatal(str):
    """A text whose unpickling ends the process reading it: what a worker dying on a post
    (killed, out of memory, a crash in C code) looks like to the pool."""

    __slots__ = ()

    def __reduce__(self) -> tuple[object, tuple[int]]:
        return os._exit, (3,)


@pytest.fixture(scope="module")
def pool() -> Iterator[AnalysisPool]:
    workers = AnalysisPool(workers=1)
    yield workers
    workers.close()


def _pages() -> list[list[RawPost]]:
    start = datetime.now(UTC) - timedelta(minutes=30)
    posts = [
        RawPost(CHANNEL, str(100 + n), f"https://t.me/{CHANNEL}/{100 + n}", start + timedelta(minutes=n), text)
        for n, text in enumerate(TEXTS * 2)
    ]
    return [posts[k:k + 5] for k in range(0, len(posts), 5)]


def _config(folder: Path) -> Path:
    path = folder / "config.toml"
    path.write_text(
        f'[storage]\ndatabase = "{folder / "archive.db"}"\n\n[[sources]]\ntype = "telegram_web"\n'
        f'channel = "{CHANNEL}"\nbase_url = "http://127.0.0.1:1"\n',
        encoding="utf-8",
    )
    return path


async def _ingest(folder: Path, pool: AnalysisPool | None) -> tuple[list[tuple], list[tuple]]:
    """The analyses and story memberships the pages leave, ingested page by page (`pool` None)
    or overlapped with the pool."""
    folder.mkdir()
    async with open_app(load_config(_config(folder)), _Quiet()) as app:
        source = app.config.sources[0]
        state = await app.pipeline.source_state(source)
        if pool is None:
            for page in _pages():
                await app.pipeline.ingest(source, state, FetchResult(posts=page))
        else:

            async def results() -> AsyncIterator[FetchResult]:
                for page in _pages():
                    yield FetchResult(posts=page)

            async with aclosing(app.pipeline.ingest_pages(source, state, results(), pool)) as stored:
                assert [len(changes) async for _, changes in stored] == [5, 5, 4]
        analyses = await app.db.fetchall(
            """SELECT p.external_id, a.version, a.is_strike, a.weapons, a.oblasts, a.places, a.killed, a.injured
               FROM analyses a JOIN posts p ON p.id = a.post_id ORDER BY p.id""")
        stories = await app.db.fetchall("SELECT external_id, story_id FROM posts ORDER BY id")
    return [tuple(r) for r in analyses], [tuple(r) for r in stories]


async def test_overlapped_ingest_stores_what_page_by_page_ingest_stores(tmp_path: Path, pool: AnalysisPool) -> None:
    sequential = await _ingest(tmp_path / "sequential", None)
    overlapped = await _ingest(tmp_path / "overlapped", pool)
    assert len(sequential[0]) == len(TEXTS) * 2
    assert any(row[2] for row in sequential[0])  # strikes were found, so the comparison says something
    assert overlapped == sequential


async def test_a_post_the_analyser_raises_on_costs_that_post_only(pool: AnalysisPool) -> None:
    readings = await pool.analyse([(TEXTS[0], CHANNEL, None), (None, CHANNEL, None), (TEXTS[1], CHANNEL, "UA-51")])  # type: ignore[list-item]
    assert isinstance(readings[0], Analysis) and readings[0].is_strike
    assert isinstance(readings[1], Exception)
    assert isinstance(readings[2], Analysis) and readings[2].oblasts == ("UA-51",)


async def test_a_worker_that_dies_on_a_post_costs_that_post_only(pool: AnalysisPool) -> None:
    readings = await pool.analyse([(TEXTS[0], CHANNEL, None), (_Fatal(TEXTS[1]), CHANNEL, None), (TEXTS[2], CHANNEL, None)])
    assert isinstance(readings[0], Analysis) and isinstance(readings[2], Analysis)
    assert isinstance(readings[1], RuntimeError) and "died" in str(readings[1])
    # The pool works on afterwards.
    (after,) = await pool.analyse([(TEXTS[4], CHANNEL, None)])
    assert isinstance(after, Analysis) and after.is_strike


async def test_pages_read_before_a_failed_fetch_are_stored(tmp_path: Path) -> None:
    """A backfill whose next fetch fails keeps every page it fetched before, as it did when it
    stored each page before fetching the next."""
    async with open_app(load_config(_config(tmp_path)), _Quiet()) as app:
        source = app.config.sources[0]
        state = await app.pipeline.source_state(source)

        async def results() -> AsyncIterator[FetchResult]:
            for page in _pages()[:2]:
                yield FetchResult(posts=page)
            raise ConnectionError("t.me went away")

        stored: list[int] = []
        with pytest.raises(ConnectionError):
            async with aclosing(app.pipeline.ingest_pages(source, state, results(), None)) as pages:
                async for _, changes in pages:
                    stored.append(len(changes))
        assert stored == [5, 5]
        row = await app.db.fetchone("SELECT count(*) FROM posts")
        assert row[0] == 10


async def test_a_call_that_kills_its_worker_fails_alone(pool: AnalysisPool) -> None:
    """`run` beside other calls: the one whose worker dies raises, the others (which lost their
    worker with it) are run again and answer."""
    results = await asyncio.gather(
        pool.run(len, "abc"), pool.run(os._exit, 3), pool.run(len, "de"), return_exceptions=True
    )
    assert results[0] == 3 and results[2] == 2
    assert isinstance(results[1], WorkerDiedError)
    assert await pool.run(len, "f") == 1


async def test_reparse_reads_a_body_in_a_worker_as_in_a_thread(pool: AnalysisPool) -> None:
    fake = FakeTelegram()
    fake.add_channel(CHANNEL, "ДСНС")
    for n, text in enumerate(TEXTS):
        fake.post(CHANNEL, text, message_id=10 + n)
    body = fake._render(fake._channel(CHANNEL), None, "http://127.0.0.1:1").encode()
    source = TelegramWebSource(type="telegram_web", channel=CHANNEL, base_url="http://127.0.0.1:1")
    payload = StoredPayload(1, CHANNEL, "http://127.0.0.1:1/s/x", datetime.now(UTC), 200, PARSER_VERSION, "d", body)
    profile = PostProfile(posts=10, dated=10, with_content=10, linked=10)
    await pool.run(len, "")  # a worker up, so the body goes to one
    assert pool.started
    in_worker = await _reading(pool, source, payload, 100, profile)
    assert in_worker == await _reading(None, source, payload, 100, profile)
    posts, rejected, problem = in_worker
    assert [p.text for p in posts] == list(TEXTS) and not rejected and problem is None
    broken = await _reading(pool, source, replace(payload, body=b"<html><p>captcha</p></html>"), 100, profile)
    assert broken[:2] == ([], []) and broken[2] is not None and "layout" in broken[2]


async def test_read_ahead_hands_over_what_is_ready_while_the_next_item_is_taken() -> None:
    """Taking an item (a backfill's fetch and parse) runs beside the caller: the caller gets the
    items already prepared while the next one is still being taken, never more than `ahead` beyond."""
    fetched = asyncio.Event()
    taken: list[int] = []

    async def items() -> AsyncIterator[int]:
        for n in range(5):
            if n == 3:
                await fetched.wait()  # a slow fetch, done only once the caller has item 1
            taken.append(n)
            yield n

    async def prepare(n: int) -> int:
        return 2 * n

    async def run() -> list[tuple[int, int]]:
        got: list[tuple[int, int]] = []
        async with aclosing(read_ahead(items(), prepare, ahead=2)) as ready:
            async for n, double in ready:
                assert taken[-1] <= n + 2
                got.append((n, double))
                if n == 1:
                    fetched.set()
        return got

    assert await asyncio.wait_for(run(), 10) == [(n, 2 * n) for n in range(5)]


_COMMAND = """
import asyncio, os, sys
from monitor.analysis_pool import AnalysisPool

async def main():
    async with AnalysisPool(workers=1) as pool:
        print(await pool.run(os.getpid), flush=True)
        await asyncio.sleep(60)

if __name__ == "__main__":
    asyncio.run(main())
"""


def _running(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead and not yet reaped by whoever inherited it, does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_a_killed_command_leaves_no_worker_behind(tmp_path: Path) -> None:
    """kill -9 of a batch command: it cannot stop its pool, and its idle workers exit by themselves."""
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "command.py"
    script.write_text(_COMMAND, encoding="utf-8")
    root = Path(__file__).resolve().parent.parent
    command = subprocess.Popen([sys.executable, str(script)], cwd=root, stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(root)})
    worker = 0
    try:
        assert command.stdout is not None
        worker = int(command.stdout.readline())
        assert _running(worker)
        command.send_signal(signal.SIGKILL)
        command.wait(10)
        deadline = time.monotonic() + 10
        while _running(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(worker)
    finally:
        command.kill()
        command.wait(10)
        if worker and _running(worker):
            os.kill(worker, signal.SIGKILL)  # not left running past a failed test
