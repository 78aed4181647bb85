"""export, stats and their plot as a researcher uses them, called in-process (monitor.cli.main)
on one archive filled through the real pipeline from the fake t.me (photos included)."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.app import open_app
from monitor.cli import main
from monitor.config import load_config
from monitor.daemon import poll_all_once
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
