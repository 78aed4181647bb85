"""Researchers' commands as a user runs them: posts stored through the real pipeline from the
fake t.me, then search / export --what / stats on real files (serve in a real process: SIGTERM)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from analysis.gazetteer import get_gazetteer
from storage.database import Database
from storage.subscriptions import subscribe, upsert_chat
from tests.cli_run import dsns
from tests.conftest import fake_sources_config
from tests.fakes.feeds import FakeFeeds
from tests.fakes.server import serve
from tests.fakes.tme import FakeTelegram

BALAKLIIA = ("Харківщина: внаслідок ракетного удару по Балаклії зруйновано приватний будинок. "
             "Загинула 1 людина, ще 8 — травмовані. Рятувальники ліквідували пожежу.")
KYIV = "Київ: уламки збитого дрона впали на територію Дарницького району. Загинули 2 людини, ще 11 — травмовані."
ODESA = "Одещина: вночі ворог атакував ударними БпЛА портову інфраструктуру. Виникла пожежа на площі 300 м²."
ROUTINE = "Пожежно-рятувальні підрозділи провели навчання з сапером у Полтаві."  # stem пожеж-, not пожежа
IZIUM = "Ізюм: обстріл з артилерії, пошкоджено будинок. Постраждалих немає."


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One archive for the module, filled once through the real pipeline; the tests only read it
    (a test that must change it works on its own copy)."""
    tme = FakeTelegram()
    tme.add_channel("dsns_telegram", "ДСНС України")
    for text in (BALAKLIIA, KYIV, ODESA, ROUTINE, IZIUM):
        tme.post("dsns_telegram", text)
    with serve(tme.route) as tme_server, serve(FakeFeeds().route) as feed_server:
        config = fake_sources_config(tmp_path_factory.mktemp("research"), tme_server.url, feed_server.url)
        run = dsns("run", "--once", "--config", str(config))
    assert run.returncode == 0, run.stderr
    return config


def _own_copy(config: Path, folder: Path) -> Path:
    """The archive and its config copied into `folder`, for a test that writes to it."""
    for name in ("config.toml", "archive.db"):
        shutil.copy2(config.parent / name, folder / name)
    return folder / "config.toml"


def search(config: Path, *args: str) -> list[dict]:
    result = dsns("search", *args, "--config", str(config), "--format", "jsonl")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def texts(rows: list[dict]) -> set[str]:
    return {r["text"] for r in rows if r["source"] == "dsns_telegram"}


def test_search_finds_other_word_forms(archive: Path) -> None:
    rows = search(archive, "Балаклія")
    assert texts(rows) == {BALAKLIIA}
    row = rows[0]
    assert {"source", "external_id", "url", "published_at", "text", "edited", "photos", "is_strike", "oblasts"} <= set(row)
    assert row["is_strike"] is True and row["oblasts"] == ["UA-63"]
    # "пожежа" finds "пожежу" and "пожежа", but not "пожежно-рятувальні" (same stem, other word).
    assert texts(search(archive, "пожежа")) == {BALAKLIIA, ODESA}
    assert texts(search(archive, '"ракетний удар"')) == {BALAKLIIA}
    assert texts(search(archive, "пожежа -Балаклія")) == {ODESA}
    both = search(archive, "Балаклія OR Ізюм")
    assert texts(both) == {BALAKLIIA, IZIUM}
    # Pages: the second by count and the one after a cursor are the rest of the full list.
    assert search(archive, "Балаклія OR Ізюм", "--limit", "1", "--page", "2") == both[1:2]
    assert search(archive, "Балаклія OR Ізюм", "--after", str(both[0]["cursor"])) == both[1:]


def test_search_table_output(archive: Path) -> None:
    result = dsns("search", "Балаклія", "--config", str(archive))
    assert result.returncode == 0, result.stderr
    n = len(search(archive, "Балаклія"))
    assert f"{n} posts" in result.stdout and "UA-63" in result.stdout and "Балакл" in result.stdout


def test_region_filter_includes_places_inside(archive: Path) -> None:
    # Балаклія and Ізюм both lie in Izium raion of Kharkiv oblast; Київ and Одеса do not.
    for region in ("UA-63", "Харківщина", "Ізюмський район"):
        assert texts(search(archive, "будинок", "--region", region)) == {BALAKLIIA, IZIUM}, region
    assert texts(search(archive, "будинок", "--region", "Балаклія")) == {BALAKLIIA}
    assert texts(search(archive, "травмовані", "--region", "UA-30")) == {KYIV}
    assert texts(search(archive, "будинок", "--strikes", "--until", "2000-01-01")) == set()
    bad = dsns("search", "будинок", "--region", "Нарнія", "--config", str(archive))
    assert bad.returncode == 2 and "unknown region" in bad.stderr


def test_query_syntax_error_is_one_line_exit_2(archive: Path) -> None:
    for query, message in [
        ('"ракетний удар', "unbalanced quotes"),
        ("OR пожежа", "OR needs a search term"),
        ("-пожежа", "at least one word"),
        ("ab", "too short"),
    ]:
        # "--" so that argparse takes "-пожежа" as the query, not as an option.
        result = dsns("search", "--config", str(archive), "--", query)
        assert result.returncode == 2, query
        assert "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("dsns-monitor: bad query:") and message in lines[0], lines


def test_events_export_acled_columns_and_gazetteer_values(archive: Path) -> None:
    out = dsns("export", "--what", "events", "--format", "csv", "--config", str(archive))
    assert out.returncode == 0, out.stderr
    table = list(csv.DictReader(io.StringIO(out.stdout)))
    for column in ("event_date", "event_type", "sub_event_type", "admin1", "admin2", "admin3", "location",
                   "latitude", "longitude", "geo_precision", "source", "notes", "fatalities", "injured", "post_urls"):
        assert column in table[0], column
    assert all(r["event_type"] == "Explosions/Remote violence" for r in table)
    balakliia = next(r for r in table if "Балаклії" in r["notes"])
    g = get_gazetteer()
    unit = next(u for u in g.units.values() if u.name_uk == "Балаклія" and u.oblast == "UA-63")
    assert (float(balakliia["latitude"]), float(balakliia["longitude"])) == (unit.lat, unit.lon)
    assert balakliia["admin1"] == "Kharkiv"
    assert balakliia["admin2"] == g.units[unit.raion_code].name_en
    assert balakliia["admin3"] == g.units[unit.hromada_code].name_en
    assert balakliia["geo_precision"] == "1" and balakliia["location"] == unit.name_en
    assert balakliia["fatalities"] == "1" and balakliia["injured"] == "8"
    assert balakliia["sub_event_type"] == "Shelling/artillery/missile attack"
    assert balakliia["event_date"] == "2024-05-01"  # 06:00 UTC is 09:00 in Kyiv
    assert balakliia["post_urls"].endswith("/dsns_telegram/1")
    odesa = next(r for r in table if "Одещина" in r["notes"])
    assert odesa["sub_event_type"] == "Air/drone strike" and odesa["fatalities"] == "0"
    assert odesa["geo_precision"] == "3" and odesa["admin1"] == "Odesa"
    assert not any("навчання" in r["notes"] for r in table)  # not a strike: no event

    stories = dsns("export", "--what", "stories", "--config", str(archive))
    rows = [json.loads(line) for line in stories.stdout.splitlines()]
    assert rows and {"id", "post_count", "post_urls", "is_strike", "killed", "weapons"} <= set(rows[0])
    assert all(r["post_count"] == len(r["post_urls"]) for r in rows if r["post_urls"])

    posts = dsns("export", "--config", str(archive))  # --what defaults to posts, with their analysis
    first = json.loads(posts.stdout.splitlines()[0])
    assert {"source", "external_id", "url", "published_at", "text", "edited", "photos", "is_strike"} <= set(first)


def test_stats_table_and_plot(archive: Path, tmp_path: Path) -> None:
    result = dsns("stats", "--config", str(archive), "--by", "oblast")
    assert result.returncode == 0, result.stderr
    assert "Kharkiv (UA-63)" in result.stdout
    png = tmp_path / "strikes.png"
    plotted = dsns("stats", "--config", str(archive), "--by", "weapon", "--plot", str(png))
    assert plotted.returncode == 0, plotted.stderr
    assert "missile" in plotted.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 2000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str, headers: dict[str, str] | None = None) -> object:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
        return json.loads(response.read())


SUBSCRIBER = 735_102_468  # a chat id and the town it watches: must never leave the bot


async def _add_subscriber(config: Path) -> None:
    db = await Database.open(config.parent / "archive.db")
    try:
        async with db.write() as conn:
            await upsert_chat(conn, SUBSCRIBER, "uk")
            await subscribe(conn, SUBSCRIBER, "UA-63", "Балаклія", "settlement")
    finally:
        await db.close()


def _refused(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    with pytest.raises(urllib.error.HTTPError) as refused:
        _get_json(url, headers)
    return refused.value.code, refused.value.read().decode("utf-8", "replace")


def test_serve_answers_json_api_and_stops_on_sigterm(archive: Path, tmp_path: Path) -> None:
    archive = _own_copy(archive, tmp_path)
    asyncio.run(_add_subscriber(archive))
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli.main", "serve", "--config", str(archive), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get_json(f"{base}/-/versions.json")
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "datasette did not start"
                time.sleep(0.3)
        posts = _get_json(f"{base}/archive/posts.json?_shape=array&_size=100")
        assert isinstance(posts, list) and BALAKLIIA in {p["text"] for p in posts}
        # The search box finds word forms like the CLI: a full word finds "по Балаклії".
        for query, want in (("Балаклія", {BALAKLIIA}), ("пожежа -Балаклія", {ODESA})):
            found = _get_json(f"{base}/archive/posts.json?_shape=array&_search=" + urllib.parse.quote(query))
            boxed = [{"text": p["text"], "source": p["stream"]} for p in found]  # type: ignore[index]
            assert texts(boxed) == texts(search(archive, query)) == want, query
        events = _get_json(f"{base}/research/events.json?_shape=array")
        assert events and all({"latitude", "longitude"} <= set(e) for e in events)
        plugins = {p["name"] for p in _get_json(f"{base}/-/plugins.json")}  # type: ignore[union-attr]
        assert "datasette-cluster-map" in plugins
        months = _get_json(f"{base}/research/casualties_by_month.json?_shape=array")
        assert months and months[0]["month"] == "2024-05" and months[0]["killed"] >= 3  # type: ignore[index]
        with pytest.raises(urllib.error.HTTPError):  # subscribers' chat ids are not served
            _get_json(f"{base}/archive/chats.json")
        # ... nor read by custom SQL, however it is spelled; custom SQL on posts still works.
        for sql in ("select * from chats", "select * from subscriptions", "select * from outbox",
                    "select count(*) from CHATS", "select region_name from main.subscriptions",
                    "select * from posts where exists (select 1 from chats where chat_id > 0)",
                    "select name, ncell from dbstat where name = 'chats'"):
            code, body = _refused(f"{base}/archive.json?_shape=array&sql=" + urllib.parse.quote(sql))
            assert code in (400, 403) and str(SUBSCRIBER) not in body and "Балаклія" not in body, sql
        rows = _get_json(f"{base}/archive.json?_shape=array&sql=" + urllib.parse.quote(
            "select text from posts where text like '%Балакл%'"))
        assert BALAKLIIA in [r["text"] for r in rows]  # type: ignore[index, union-attr]
        tables = {t["name"] for t in _get_json(f"{base}/archive.json")["tables"]}  # type: ignore[index]
        assert "posts" in tables and not tables & {"chats", "subscriptions", "outbox", "bot_state"}
        post_id = posts[0]["id"]  # type: ignore[index]
        with urllib.request.urlopen(f"{base}/archive/posts/{post_id}", timeout=5) as page:  # links nothing private
            assert page.status == 200
        # A page the researcher visits cannot reach the server under its own (rebound) name.
        for host in ("evil.example", f"evil.example:{port}", f"127.0.0.1.evil.example:{port}", f"localhost:{port + 1}"):
            code, _ = _refused(f"{base}/archive/posts.json", {"Host": host})
            assert code == 421, host
        assert _get_json(f"{base}/archive/posts.json?_shape=array", {"Host": f"localhost:{port}"})
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert code == 0
