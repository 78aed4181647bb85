"""The researchers' commands as a new user meets them: mistyped paths, missing folders, bad ranges."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.ops.logs import quiet_during_progress, setup_logging


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


def _archive(tmp_path: Path) -> Path:
    from storage.database import Database

    async def create() -> None:
        await (await Database.open(tmp_path / "archive.db")).close()

    asyncio.run(create())
    return tmp_path / "archive.db"


def test_no_dictionary_loading_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _config(tmp_path, _archive(tmp_path))
    assert main(["--log-level", "INFO", "search", "Балаклія", "--config", str(config)]) == 0
    err = capsys.readouterr().err
    assert "Loading dictionaries" not in err and "pymorphy3" not in err


def test_progress_keeps_warnings_and_drops_per_post_lines(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("INFO")
    log = logging.getLogger("monitor.pipeline")
    with quiet_during_progress():
        log.info("post 1 stored")
        log.warning("feed slow")
    log.info("done")
    err = capsys.readouterr().err
    assert "post 1 stored" not in err and "feed slow" in err and "done" in err
    setup_logging("DEBUG")
    with quiet_during_progress():
        log.info("post 2 stored")
    assert "post 2 stored" in capsys.readouterr().err  # asked for detail: kept


@pytest.mark.parametrize("command", [["search", "пожежа"], ["export"], ["export", "--what", "events"], ["stats"]])
def test_db_alone_needs_no_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: list[str],
) -> None:
    archive = _archive(tmp_path)
    monkeypatch.chdir(tmp_path)  # no config.toml here
    assert main([*command, "--db", archive.name]) == 0
    assert "configuration" not in capsys.readouterr().err


@pytest.mark.parametrize("command", [["search", "пожежа"], ["export"], ["stats"], ["serve"]])
def test_db_overrides_the_configured_archive_and_is_never_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str],
) -> None:
    configured = _archive(tmp_path)
    typo = tmp_path / "archve.db"
    assert main([*command, "--config", str(_config(tmp_path, configured)), "--db", str(typo)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(typo) in err and not typo.exists()


@pytest.mark.parametrize("command", [["export", "-o"], ["stats", "--plot"]])
def test_an_output_that_is_a_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str],
) -> None:
    archive = tmp_path / "archive.db"
    archive.touch()
    folder = tmp_path / "exports"
    folder.mkdir()
    assert main([*command, str(folder), "--config", str(_config(tmp_path, archive))]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is a folder" in err and str(folder) in err
