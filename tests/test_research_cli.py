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
