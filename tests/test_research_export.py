"""export, stats and their plot as a researcher uses them, called in-process (monitor.cli.main)
on one archive filled through the real pipeline from the fake t.me (photos included)."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import random
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analysis.gazetteer import get_gazetteer
from monitor.app import open_app
from monitor.cli.main import main
from monitor.config import load_config
from monitor.daemon import poll_all_once
from research.commands import (
    DELIMITERS,
    csv_line,
    csv_row,
    json_line,
    line_format,
    write_rows,
)
from research.events import (
    EVENT_KEYS,
    event_of,
    iter_event_lines,
    iter_events,
    kyiv_date,
    strike_stats,
    strikes_per_day_by_oblast,
)
from storage.database import Database
from storage.research import iter_stories
from tests.fakes.server import serve
from tests.fakes.tme import FakeTelegram, jpeg_bytes

BALAKLIIA = ("Харківщина: внаслідок ракетного удару по Балаклії зруйновано приватний будинок. "
             "Загинула 1 людина, ще 8 — травмовані. Рятувальники ліквідували пожежу.")
KYIV = "Київ: уламки збитого дрона впали на територію Дарницького району. Загинули 2 людини, ще 11 — травмовані."
ODESA = "Одещина: вночі ворог атакував ударними БпЛА портову інфраструктуру. Виникла пожежа на площі 300 м²."
ROUTINE = "Пожежно-рятувальні підрозділи провели навчання з сапером у Полтаві."
FORMULA = "=1+2 Рятувальники нагадують: 101 — номер екстреної допомоги."
# (text, Kyiv-agnostic UTC publication moment, photos): published out of message-id order, as a
# backfill of two channels or an edited date leaves an archive.
POSTS = (
    (BALAKLIIA, datetime(2024, 5, 3, 6, 0, tzinfo=UTC), ("balakliia",)),
    (KYIV, datetime(2024, 5, 1, 22, 30, tzinfo=UTC), ("kyiv_a", "kyiv_b")),
    (ODESA, datetime(2024, 5, 2, 4, 0, tzinfo=UTC), ()),
    (ROUTINE, datetime(2024, 5, 1, 9, 0, tzinfo=UTC), ()),
    (FORMULA, datetime(2024, 5, 4, 9, 0, tzinfo=UTC), ()),
)


async def _fill(config: Path) -> None:
    async with open_app(load_config(config)) as app:
        outcomes = await poll_all_once(app)
        assert all(o.ok for o in outcomes), outcomes


def build_archive(folder: Path) -> Path:
    """An archive of POSTS stored, analysed, grouped into stories and with photos downloaded."""
    tme = FakeTelegram()
    tme.add_channel("dsns_telegram", "ДСНС України")
    for text, date, photos in POSTS:
        tme.post("dsns_telegram", text, date=date, photos=photos, album=False if len(photos) > 1 else None)
    with serve(tme.route) as server:
        config = folder / "config.toml"
        config.write_text(
            f'[storage]\ndatabase = "{folder / "archive.db"}"\nallow_private_media = true\n'
            f'[[sources]]\ntype = "telegram_web"\nchannel = "dsns_telegram"\nbase_url = "{server.url}"\n',
            encoding="utf-8",
        )
        asyncio.run(_fill(config))
    return folder / "archive.db"


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield build_archive(tmp_path_factory.mktemp("research"))


def export(archive: Path, *args: str) -> int:
    return main(["export", "--db", str(archive), *args])


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_posts_carry_their_analysis_in_publication_order(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "posts.jsonl"
    assert export(archive, "-o", str(out)) == 0
    rows = jsonl(out)
    assert [r["text"] for r in rows] == [t for t, _, _ in sorted(POSTS, key=lambda p: p[1])]
    assert [r["published_at"] for r in rows] == sorted(r["published_at"] for r in rows)
    by_text = {r["text"]: r for r in rows}
    strike = by_text[BALAKLIIA]
    assert strike["is_strike"] is True and strike["oblasts"] == ["UA-63"]
    assert strike["killed"] == 1 and strike["injured"] == 8 and strike["weapons"]
    assert "Балаклія" in [p["name"] for p in strike["places"]]
    assert isinstance(strike["story_id"], int)
    assert by_text[KYIV]["story_id"] not in (None, strike["story_id"])
    assert by_text[ROUTINE]["is_strike"] is False and by_text[ROUTINE]["killed"] is None
    # A date range keeps the order and cuts at publication time (--until exclusive).
    part = tmp_path / "part.jsonl"
    assert export(archive, "-o", str(part), "--since", "2024-05-02", "--until", "2024-05-03T06:00") == 0
    assert [r["text"] for r in jsonl(part)] == [ODESA]


def test_excel_csv_has_a_bom_and_disarms_formulas(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "posts.csv"
    assert export(archive, "--excel", "--delimiter", "semicolon", "-o", str(out)) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\xef\xbb\xbf") == 1
    assert b"\r\n" in raw  # Excel's row separator
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert list(rows[0])[:4] == ["source", "external_id", "url", "published_at"]
    strike = next(r for r in rows if r["text"] == BALAKLIIA)  # ";" inside no cell broke a row
    assert strike["oblasts"] == "UA-63" and strike["is_strike"] == "true" and strike["killed"] == "1"
    assert "Балаклія" in strike["places"].split("; ")
    assert next(r for r in rows if "101" in r["text"])["text"] == "'" + FORMULA
    # Without --excel: no BOM, the text as it is.
    plain = tmp_path / "plain.csv"
    assert export(archive, "--format", "csv", "-o", str(plain)) == 0
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")
    assert FORMULA in {r["text"] for r in csv.DictReader(plain.open(encoding="utf-8", newline=""))}


async def test_excel_cells_with_delimiters_quotes_and_lines_survive() -> None:
    async def one() -> AsyncIterator[dict]:
        yield {"text": 'Рядок 1;\r\nрядок 2, "цитата"\tкінець', "places": [{"name": "Ізюм"}, {"name": "Балаклія"}],
               "killed": 0, "is_strike": True, "url": None, "sum": "@SUM(A1)"}

    for name, delimiter in (("semicolon", ";"), ("comma", ","), ("tab", "\t")):
        out = io.StringIO(newline="")
        assert await write_rows(one(), ("text", "places", "killed", "is_strike", "url", "sum"), "csv", out,
                                excel=True, delimiter=DELIMITERS[name]) == 1
        raw = out.getvalue()
        assert raw.startswith("\ufeff") and raw.endswith("\r\n")
        (row,) = csv.DictReader(io.StringIO(raw[1:], newline=""), delimiter=delimiter)
        assert row == {"text": 'Рядок 1;\r\nрядок 2, "цитата"\tкінець', "places": "Ізюм; Балаклія", "killed": "0",
                       "is_strike": "true", "url": "", "sum": "'@SUM(A1)"}, name


def test_photos_are_files_named_by_their_sha256(archive: Path, tmp_path: Path) -> None:
    out, folder = tmp_path / "bundle" / "posts.jsonl", tmp_path / "bundle" / "photos"
    out.parent.mkdir()
    assert export(archive, "-o", str(out), "--photos", str(folder)) == 0
    files = sorted(folder.iterdir())
    assert len(files) == 3 and all(f.suffix == ".jpg" for f in files)
    for file in files:
        assert hashlib.sha256(file.read_bytes()).hexdigest() == file.stem
    assert {f.read_bytes() for f in files} == {jpeg_bytes(n) for n in ("balakliia", "kyiv_a", "kyiv_b")}
    kyiv = next(r for r in jsonl(out) if r["text"] == KYIV)
    assert kyiv["photo_files"] == [f"photos/{sha}.jpg" for sha in kyiv["photos"]]  # relative to the export
    assert all((out.parent / name).is_file() for name in kyiv["photo_files"])
    # Again into the same folder: nothing rewritten, the same rows.
    again = tmp_path / "bundle" / "again.jsonl"
    before = {f: f.stat().st_mtime_ns for f in files}
    assert export(archive, "-o", str(again), "--photos", str(folder)) == 0
    assert {f: f.stat().st_mtime_ns for f in sorted(folder.iterdir())} == before
    assert jsonl(again) == jsonl(out)


def test_photos_only_with_posts(archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert export(archive, "--what", "events", "--photos", str(tmp_path / "p")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--photos" in err
    assert not (tmp_path / "p").exists()


# -- events and stats at scale: the streamed / SQL forms give what the story-by-story forms gave --

G = get_gazetteer()
_BALAKLIIA = next(u for u in G.units.values() if u.name_uk == "Балаклія" and u.oblast == "UA-63")
_PLACES = [
    [{"code": _BALAKLIIA.code, "name": "Балаклія", "level": _BALAKLIIA.level},
     {"code": _BALAKLIIA.hromada_code, "name": "громада", "level": "hromada"}],
    [{"code": _BALAKLIIA.raion_code, "name": "район", "level": "raion"}],
    [{"code": "UA00000000000000000", "name": "нема", "level": "settlement"}],  # unknown: falls to the oblast
    [],
]
_OBLASTS = [["UA-63"], ["UA-63", "UA-51"], [], ["UA-30"]]
_WEAPONS = [["missile"], ["drone", "fpv"], [], ["guided_bomb", "missile"]]
# Around Kyiv midnight in winter (UTC+2) and summer (UTC+3), on the DST change days, and none.
_MOMENTS = ["2024-03-30T21:59:59Z", "2024-03-30T22:00:00Z", "2024-03-31T00:30:00Z", "2024-03-31T21:00:00Z",
            "2024-10-26T20:59:00Z", "2024-10-26T21:00:00Z", "2024-10-27T22:30:00Z", "2024-12-31T22:00:00Z", None]
_LONG = "Рятувальники  працюють\n\n" + "на місці  події,\tтриває розбір завалів. " * 40
_SPACED = "Удар" + "   \n   ".join(["по  місту"] * 150)  # most of its first 750 characters are spaces


async def _stories_archive(path: Path) -> Database:
    """Stories made directly in SQL to cover what the pipeline's few posts do not: several
    oblasts or weapons, none, unknown places, long texts with runs of whitespace, dates either
    side of Kyiv midnight across DST changes, a story without an event time."""
    db = await Database.open(path)
    rng = random.Random(16)
    async with db.write() as conn:
        post_id = 0
        for story_id in range(1, 121):
            moment = _MOMENTS[story_id % len(_MOMENTS)]
            published = moment or "2024-06-15T12:00:00Z"
            first = post_id + 1
            for k in range(1 + story_id % 3):
                post_id += 1
                stream = ("dsns_telegram", "news_uk")[(story_id + k) % 2]
                text = {0: _LONG, 1: _SPACED}.get(story_id % 5, f"Пост {post_id}: удар по місту. Загиблих {k}.")
                await conn.execute(
                    """INSERT INTO posts (id, stream, external_id, url, published_at, text, text_hash,
                       first_seen_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    (post_id, stream, str(post_id), None if k == 2 else f"https://t.me/{stream}/{post_id}",
                     published, text, str(post_id), published, published))
            await conn.execute(
                """INSERT INTO stories (id, is_strike, oblasts, places, weapons, killed, injured, children_killed,
                   children_injured, first_post_id, first_seen_at, last_seen_at, event_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (story_id, int(story_id % 4 != 0), json.dumps(rng.choice(_OBLASTS)),
                 json.dumps(rng.choice(_PLACES), ensure_ascii=False), json.dumps(rng.choice(_WEAPONS)),
                 rng.choice([None, 0, 3]), rng.choice([None, 7]), rng.choice([None, 1]), None,
                 first, published, published, moment))
            await conn.execute("UPDATE posts SET story_id = ? WHERE id >= ?", (story_id, first))
    return db


async def _stats_before(db: Database, by: str, **dates: datetime) -> list[dict]:
    """strike_stats as it was, story by story in Python: the reference the SQL must match."""
    rows: dict[str, dict] = {}
    async for story in iter_stories(db, strikes_only=True, **dates):
        keys = {"oblast": story["oblasts"] or ["?"], "weapon": story["weapons"] or ["unknown"],
                "day": [kyiv_date(story["event_at"]) or "?"]}[by]
        for key in keys:
            row = rows.setdefault(key, {by: key, "strikes": 0, "killed": 0, "injured": 0})
            row["strikes"] += 1
            row["killed"] += story["killed"] or 0
            row["injured"] += story["injured"] or 0
    if by == "day":
        return [rows[k] for k in sorted(rows)]
    return sorted(rows.values(), key=lambda r: (-r["strikes"], r[by]))


RANGES = [{}, {"since": datetime(2024, 3, 31, tzinfo=UTC)}, {"until": datetime(2024, 10, 27, tzinfo=UTC)}]


async def test_streamed_events_and_sql_stats_match_the_story_by_story_forms(tmp_path: Path) -> None:
    db = await _stories_archive(tmp_path / "stories.db")
    try:
        for dates in RANGES:
            stories = [s async for s in iter_stories(db, strikes_only=True, **dates)]
            before = [e for e in map(event_of, stories) if e is not None]
            streamed = [e async for e in iter_events(db, batch=7, **dates)]  # pages end mid-archive
            assert streamed == before and len(before) > 10, dates
            for by in ("oblast", "day", "weapon"):
                assert await strike_stats(db, by, **dates) == await _stats_before(db, by, **dates), (by, dates)
            per_day: dict[str, dict[str, int]] = {}
            for story in stories:
                for iso in story["oblasts"] or ["?"]:
                    day = per_day.setdefault(kyiv_date(story["event_at"]) or "?", {})
                    day[iso] = day.get(iso, 0) + 1
            assert await strikes_per_day_by_oblast(db, **dates) == per_day
        notes = {e["notes"] for e in before}
        for text in (_LONG, _SPACED):  # long texts: on one line, cut at 600 characters
            assert " ".join(text.split())[:599].rstrip() + "…" in notes
        days = {r["day"] for r in await strike_stats(db, "day")}
        assert {"2024-03-30", "2024-03-31", "2024-04-01", "2024-10-27", "2024-10-28", "2025-01-01"} <= days
    finally:
        await db.close()


async def test_event_lines_are_the_lines_of_the_event_rows(tmp_path: Path) -> None:
    db = await _stories_archive(tmp_path / "stories.db")
    try:
        for dates in RANGES:
            rows = [e async for e in iter_events(db, **dates)]
            forms = [("jsonl", False, ",", [json_line(e, EVENT_KEYS) for e in rows])]
            forms += [("csv", excel, delimiter, [csv_line(e, EVENT_KEYS, excel, delimiter) for e in rows])
                      for delimiter in DELIMITERS.values() for excel in (False, True)]
            for fmt, excel, delimiter, expected in forms:
                pages = iter_event_lines(db, line_format(fmt, excel, delimiter), batch=7, **dates)
                assert [line async for page in pages for line in page] == expected, (dates, fmt, delimiter)
        assert len(rows) > 10
    finally:
        await db.close()


async def test_events_read_each_storys_posts_in_order_off_one_index(tmp_path: Path) -> None:
    db = await _stories_archive(tmp_path / "stories.db")
    try:
        statements: list[str] = []
        await db.reader.set_trace_callback(statements.append)
        assert [e async for e in iter_events(db, batch=50)]
        await db.reader.set_trace_callback(None)
        reads = [s for s in statements if "FROM stories" in s]
        assert len(reads) == 3  # two pages of strike stories and the empty one after them
        plan = " | ".join(r[3] for r in await db.fetchall(f"EXPLAIN QUERY PLAN {reads[0]}"))
        assert "COVERING INDEX posts_story_posts" in plan and "TEMP B-TREE" not in plan, plan
    finally:
        await db.close()


def test_notes_put_any_whitespace_on_one_line() -> None:
    rng = random.Random(5)
    spaces = [" ", "\n", "\n\n", "\t", "\r\n", "\xa0", "\u2009", "\u2028", "\x1f", "\u3000"]
    words = ["удар", "по", "місту", "\u200b", "\xad", "😀", "1"]
    story = {"id": 1, "event_at": None, "places": [], "oblasts": ["UA-63"], "weapons": [], "killed": None,
             "injured": None, "children_killed": None, "children_injured": None, "sources": [], "post_urls": []}
    for _ in range(2000):
        text = "".join(rng.choice(spaces if rng.random() < 0.4 else words) for _ in range(rng.randrange(12)))
        event = event_of({**story, "first_text": text})
        assert event is not None and event["notes"] == " ".join(text.split()), repr(text)


def test_csv_lines_are_what_the_csv_module_writes() -> None:
    rng = random.Random(7)
    pieces = ["a", "Я", " ", ",", ";", "\t", '"', "\n", "\r", "=", "-", "@", "\x00", "\u2028", "😀"]
    values = [None, True, False, 0, -3, 804, 49.418, -1e-07, float("inf"), [], ["drone", "fpv"],
              [{"name": 'Ізюм, "центр"'}, {"name": "Балаклія"}], {"a": "b, c"}]
    for _ in range(3000):
        keys = [f"k{i}" for i in range(rng.randrange(4))]
        row = {k: rng.choice(values) if rng.random() < 0.4 else "".join(rng.choices(pieces, k=rng.randrange(5)))
               for k in keys}
        for delimiter in DELIMITERS.values():
            for excel in (False, True):
                out = io.StringIO()
                csv.writer(out, delimiter=delimiter).writerow(csv_row(row, keys, excel))
                assert csv_line(row, keys, excel, delimiter) == out.getvalue(), (row, delimiter, excel)


def test_plot_fits_a_report(archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    png = tmp_path / "strikes.png"
    assert main(["stats", "--db", str(archive), "--plot", str(png)]) == 0
    with Image.open(png) as image:
        assert image.size == (1600, 900)
    out, err = capsys.readouterr()
    assert "Kharkiv (UA-63)" in out
    assert err.splitlines() == [f"chart written to {png} (1600x900 px)"]  # nothing from matplotlib
    sized = tmp_path / "sized.png"
    assert main(["stats", "--db", str(archive), "--plot", str(sized), "--size", "1200x700"]) == 0
    with Image.open(sized) as image:
        assert image.size == (1200, 700)
    with pytest.raises(SystemExit) as refused:
        main(["stats", "--db", str(archive), "--plot", str(sized), "--size", "12x7"])
    assert refused.value.code == 2
    assert "400-10000" in capsys.readouterr().err


def test_plot_title_and_legend_outside_the_bars(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    from research.commands import plot_strikes_per_day

    days = {"2024-05-01": {"UA-63": 2, "UA-51": 1}, "2024-05-04": {"UA-63": 1}}
    captured = []
    real_close = plt.close
    plt.close = captured.append  # keep the figure to look at it  # type: ignore[assignment]
    try:
        plot_strikes_per_day(days, str(tmp_path / "p.png"), size=(1300, 600),
                             totals={"strikes": 4, "killed": 3, "injured": 9})
    finally:
        plt.close = real_close
    fig = captured[0]
    ax = fig.axes[0]
    assert "2024-05-01 – 2024-05-04" in ax.get_title() and "4 strike stories, 3 killed, 9 injured" in ax.get_title()
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["Kharkiv (3)", "Odesa (1)"]
    renderer = fig.canvas.get_renderer()
    assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1  # beside, not over
    assert len(ax.patches) == 2 * 2  # two days with bars (dates, not categories: 05-02 and 05-03 stay empty)
    real_close(fig)
