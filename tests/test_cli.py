"""The `dsns-monitor` command as a user runs it: real servers, real files; a real process where
the process boundary is the point (the entry point's exit code, SIGTERM)."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from monitor.cli.main import build_parser, main
from monitor.config import Config, load_config
from storage.lock import exclusive_archive
from tests.cli_run import dsns, dsns_process
from tests.fakes.tme import FakeTelegram


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"init", "check-config", "backup", "run"} <= set(commands)
    for name in commands:
        with pytest.raises(SystemExit) as exit_:
            main([name, "--help"])
        out = capsys.readouterr().out
        assert exit_.value.code == 0, name
        assert "usage: dsns-monitor" in out and len(out) > 80, name


def test_version_names_the_package(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("dsns-monitor ") and out != "dsns-monitor "


def test_init_writes_a_starter_config_and_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.toml"
    assert main(["init", str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    config = load_config(path)
    # Only the national channel is on; the regional ones are there to uncomment.
    assert [(s.type, getattr(s, "channel", None)) for s in config.sources] == [("telegram_web", "dsns_telegram")]
    assert "# channel = \"dsns_kharkiv\"" in text and "# oblast = \"UA-63\"" in text
    # Every key of every section is listed (commented out, at its default).
    for section, field in Config.model_fields.items():
        if section == "sources":
            continue
        assert f"[{section}]" in text, section
        for key in field.annotation.model_fields:  # type: ignore[union-attr]
            assert f"# {key} = " in text, f"{section}.{key}"
    assert config == load_config(_with_defaults_uncommented(text, tmp_path / "uncommented.toml")).model_copy(
        update={"storage": config.storage}
    )
    path.write_text("# mine\n")
    assert main(["init", str(path)]) == 1
    assert path.read_text() == "# mine\n"
    assert "already exists" in capsys.readouterr().err


def _with_defaults_uncommented(text: str, path: Path) -> Path:
    """The starter with its defaults switched on (the regional examples and optional keys stay off)."""
    keep_off = ("# name = ", "# session = ", "# oblast = ", "# out = ")
    lines, in_examples = [], False
    for line in text.splitlines():
        in_examples = in_examples or line.startswith("# Regional")
        if not in_examples and line.startswith("# ") and " = " in line and not line.startswith(keep_off):
            line = line[2:]
        lines.append(line)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_check_config_prints_effective_values_with_secrets_masked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[bot]\ntoken_env = "MY_TOKEN"\n[[sources]]\ntype = "rss"\nname = "feed"\nurl = "https://x.org/rss"\n')
    monkeypatch.setenv("MY_TOKEN", "123456:SECRET-token-value")
    assert main(["check-config", "--config", str(path)]) == 0
    out = capsys.readouterr().out
    assert "SECRET" not in out
    assert "MY_TOKEN: set (********)" in out and "TELEGRAM_API_HASH: not set" in out
    assert 'interval = 300' in out and 'max_backoff = 3600' in out  # defaults shown
    assert tomllib.loads(out)["sources"][0]["url"] == "https://x.org/rss"  # the output is TOML
    path.write_text("[[sources]]\ntype = \"rss\"\n")
    assert main(["check-config", "--config", str(path)]) == 2
    assert "sources[1].name: required key is missing" in capsys.readouterr().err


def test_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[[sources]]\ntype = "rss"\nname = "x"\nurl = "https://x.org"\nintervl = 5\n')
    result = dsns_process("run", "--once", "--config", str(path))
    assert result.returncode == 2
    assert result.stderr.strip() == f"dsns-monitor: configuration error: {path}: sources[1].intervl: unknown key (did you mean `interval`?)"


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
    assert set(first) == {"source", "external_id", "url", "published_at", "text", "edited", "photos", "is_strike",
                          "oblasts", "places", "weapons", "killed", "injured", "children_killed", "children_injured",
                          "story_id"}
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
        [sys.executable, "-m", "monitor.cli.main", "run", "--config", str(config_file)],
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



HEAVY = ("telethon", "scipy", "datasketch", "matplotlib", "datasette", "pymorphy3", "monitor.pipeline", "pydantic", "httpx")
ENGINE = ("telethon", "scipy", "datasketch", "matplotlib", "monitor.pipeline")


def test_help_imports_none_of_the_engine_and_search_export_no_telethon(tmp_path: Path) -> None:
    # A fresh interpreter (this one has imported everything long ago): the parser of every
    # command answers --help without the engine's heavy imports; search and export, which only
    # read the archive, run without Telethon, the story matcher's scipy or matplotlib.
    probe = (
        "import asyncio, sys\n"
        "from monitor.cli.main import main\n"
        "for argv in ([], ['search'], ['export'], ['run'], ['telegram', 'login']):\n"
        "    try:\n"
        "        main([*argv, '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)\n"
        "from storage.database import Database\n"
        "async def create(path):\n"
        "    await (await Database.open(path)).close()\n"
        "asyncio.run(create(sys.argv[1]))\n"
        "assert main(['search', 'пожежа', '--db', sys.argv[1]]) == 0\n"
        "assert main(['export', '--what', 'events', '--db', sys.argv[1]]) == 0\n"
        f"print([m for m in {ENGINE!r} if m in sys.modules], file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(tmp_path / "a.db")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("usage: dsns-monitor") == 5
    assert result.stderr.strip().splitlines()[0] == "[]"
    assert result.stderr.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize("command", [["backfill", "--source", "dsns_telegram"], ["reanalyze"], ["reparse"]])
def test_commands_that_write_the_archive_wait_for_the_daemon_to_stop(command: list[str], config_file: Path) -> None:
    # The running daemon's story index would not see the stories they write: one strike, two stories.
    archive = config_file.parent / "archive.db"
    with exclusive_archive(archive):  # as a running `run` holds it
        refused = dsns(*command, "--config", str(config_file))
    message = refused.stderr.strip()
    assert refused.returncode == 1 and "\n" not in message
    assert "archive.db is in use" in message and f"pid {os.getpid()}" in message
    assert not archive.exists()  # refused before the archive was opened
    done = dsns(*command, "--config", str(config_file))  # the daemon gone, the command runs
    assert done.returncode == 0, done.stderr


def test_the_daemon_loads_no_terminal_libraries() -> None:
    # httpx would import its own command-line client (rich, pygments, click: ~6 MB of the
    # daemon's 150) because our commands' progress bars install rich; `run` never uses them.
    probe = (
        "import sys\n"
        "import monitor.cli.main, bot.api, bot.service, monitor.daemon, monitor.ops, httpx\n"
        "print(sorted(m for m in ('rich', 'pygments', 'click') if m in sys.modules), callable(httpx.main))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[] True"
