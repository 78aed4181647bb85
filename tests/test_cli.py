"""The `dsns-monitor` command as a user runs it: real processes, real servers, real files."""

from __future__ import annotations

import csv
import io
import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path


from monitor.cli import build_parser
from tests.fakes.tme import FakeTelegram


def dsns(*args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args],
        capture_output=True, text=True, input=input, timeout=timeout,
    )


def test_every_command_has_help() -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in commands:
        result = dsns(name, "--help")
        assert result.returncode == 0, name
        assert "usage: dsns-monitor" in result.stdout and len(result.stdout) > 80


def test_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[sources]]\ntype = "rss"\nname = "x"\nurl = "https://x.org"\nintervl = 5\n')
    result = dsns("run", "--once", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"dsns-monitor: configuration error: {path}: sources[1].intervl: unknown key"


def test_run_once_then_export_jsonl_and_csv(tme: FakeTelegram, config_file: Path) -> None:
    tme.post("dsns_telegram", "Харківщина: внаслідок ракетного удару по Балаклії зруйновано будинок.", photos=("b1",))
    tme.fill("dsns_telegram", 4)
    run = dsns("run", "--once", "--config", str(config_file))
    assert run.returncode == 0, run.stderr
    assert "dsns_telegram: new=5" in run.stderr

    out = dsns("export", "--config", str(config_file), "--format", "jsonl")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 10  # 5 channel posts + 3 + 2 feed entries
    first = next(r for r in rows if r["source"] == "dsns_telegram" and r["external_id"] == "1")
    assert set(first) == {"source", "external_id", "url", "published_at", "text", "edited", "photos"}
    assert first["url"].endswith("/dsns_telegram/1")
    assert first["published_at"] == "2024-05-01T06:00:00Z"
    assert first["text"].startswith("Харківщина: внаслідок ракетного удару")
    assert first["edited"] is False
    assert len(first["photos"]) == 1 and len(first["photos"][0]) == 64

    out_csv = dsns("export", "--config", str(config_file), "--format", "csv", "--since", "2024-05-01T06:05")
    table = list(csv.DictReader(io.StringIO(out_csv.stdout)))
    assert table and all(r["published_at"] >= "2024-05-01T06:05:00Z" for r in table)
    assert "1" not in [r["external_id"] for r in table if r["source"] == "dsns_telegram"]


def test_run_once_fails_only_when_every_source_fails(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[http]\ntimeout = 2\n[[sources]]\ntype = "rss"\nname = "down"\nurl = "http://127.0.0.1:9/rss"\n'
    )
    result = dsns("run", "--once", "--config", str(path))
    assert result.returncode == 1
    assert "down: cannot reach http://127.0.0.1:9/rss" in result.stderr


def test_analyze_json_lines_in_order() -> None:
    lines = [
        {"id": 1, "text": "Харківщина: ракетний удар по Балаклії."},
        "not json",
        {"id": "b", "text": "Пожежа сухої трави на Одещині."},
    ]
    stdin = "\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines) + "\n"
    result = dsns("analyze", input=stdin)
    assert result.returncode == 0
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == [1, None, "b"]
    assert "error" in out[1] and "line 2" in out[1]["error"]
    assert set(out[0]) >= {"is_strike", "weapons", "oblasts", "places", "killed", "injured", "children_killed", "children_injured"}


def test_backfill_pages_back_with_progress(tme: FakeTelegram, config_file: Path) -> None:
    tme.fill("dsns_telegram", 70)
    result = dsns("backfill", "--config", str(config_file), "--source", "dsns_telegram", "--pages", "10")
    assert result.returncode == 0, result.stderr
    assert "dsns_telegram: 70 posts read, 70 new" in result.stdout
    db = sqlite3.connect(config_file.parent / "archive.db")
    assert db.execute("SELECT count(*) FROM posts WHERE stream='dsns_telegram'").fetchone()[0] == 70
    photos, stored = db.execute("SELECT count(*), count(sha256) FROM post_media").fetchone()
    assert photos > 20 and stored == photos  # the photo worker was drained before the command ended
    unknown = dsns("backfill", "--config", str(config_file), "--source", "nope")
    assert unknown.returncode == 2 and "no source named 'nope'" in unknown.stderr


def test_daemon_polls_and_stops_cleanly_on_sigterm(tme: FakeTelegram, config_file: Path) -> None:
    tme.fill("dsns_telegram", 3)
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli", "run", "--config", str(config_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    db_path = config_file.parent / "archive.db"
    try:
        deadline = time.monotonic() + 60  # a wait, not a limit: a busy CI machine starts slowly
        count = 0
        while time.monotonic() < deadline:
            if db_path.exists():
                try:
                    count = sqlite3.connect(db_path).execute("SELECT count(*) FROM posts").fetchone()[0]
                except sqlite3.OperationalError:
                    count = 0
                if count >= 8:
                    break
            time.sleep(0.2)
        assert count >= 8
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert time.monotonic() - started < 10
    assert "stopped" in stderr
