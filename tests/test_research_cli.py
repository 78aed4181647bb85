"""The researchers' commands as a new user meets them: mistyped paths, missing folders, bad ranges."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.cli import main


def _config(tmp_path: Path, database: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[storage]\ndatabase = "{database}"\n'
        '[[sources]]\ntype = "rss"\nname = "feed"\nurl = "http://127.0.0.1:9/rss"\n',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("command", [["search", "пожежа"], ["export"], ["stats"], ["serve"], ["coverage"]])
def test_a_mistyped_archive_is_refused_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str],
) -> None:
    missing = tmp_path / "achrive.db"
    assert main([*command, "--config", str(_config(tmp_path, missing))]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no archive here" in err and str(missing) in err
    assert not missing.exists()


@pytest.mark.parametrize("command", [
    ["export", "-o"], ["export", "--what", "events", "--output"], ["stats", "--plot"],
])
def test_an_output_in_a_missing_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str],
) -> None:
    archive = tmp_path / "archive.db"
    archive.touch()
    target = tmp_path / "no-such-folder" / "out.file"
    assert main([*command, str(target), "--config", str(_config(tmp_path, archive))]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such folder" in err and str(target.parent) in err
    assert not target.parent.exists()


@pytest.mark.parametrize("command", [["search", "пожежа"], ["export"], ["stats"], ["reparse"]])
@pytest.mark.parametrize(("since", "until"), [("2025-07-02", "2025-07-01"), ("2025-07-01", "2025-07-01")])
def test_since_not_before_until_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], since: str, until: str,
) -> None:
    archive = tmp_path / "archive.db"
    code = main([*command, "--since", since, "--until", until, "--config", str(_config(tmp_path, archive))])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--since" in err and "--until" in err
    assert not archive.exists()  # refused before the archive is opened (reparse would create it)
