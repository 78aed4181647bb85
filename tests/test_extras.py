"""The install's extras: the core runs the daemon without them, and whatever needs one that is
missing says which, in one line (exit 2), before doing any work.

A missing library is simulated the way Python itself honours: `sys.modules[name] = None` makes
`import name` fail with ModuleNotFoundError, as if it were not installed.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from dsns.extras import MissingExtraError, require
from tests.cli_run import dsns
from tests.conftest import write_config

# Every library of the research and mtproto extras (import names).
EXTRA_LIBRARIES = ("telethon", "datasette", "datasette_cluster_map", "uvicorn", "matplotlib", "jinja2", "PIL")


def _missing(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def _archive(tmp_path: Path) -> Path:
    from storage.database import Database

    async def create() -> None:
        await (await Database.open(tmp_path / "archive.db")).close()

    asyncio.run(create())
    return tmp_path / "archive.db"


def test_require_returns_the_module_or_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    assert require("json", "research", "`x`") is sys.modules["json"]
    _missing(monkeypatch, "matplotlib")
    with pytest.raises(MissingExtraError) as raised:
        require("matplotlib", "research", "`stats --plot`")
    assert raised.value.cli_line() == (
        "dsns-monitor: `stats --plot` needs the research extra: pip install 'dsns-monitor[research]'"
    )
    assert raised.value.exit_code == 2 and raised.value.extra == "research"


@pytest.mark.parametrize(
    ("missing", "command", "line"),
    [
        ("datasette", ["serve"], "`serve` needs the research extra: pip install 'dsns-monitor[research]'"),
        ("matplotlib", ["stats", "--plot", "{tmp}/chart.png"],
         "`stats --plot` needs the research extra: pip install 'dsns-monitor[research]'"),
        ("matplotlib", ["coverage", "--plot", "{tmp}/map.png"],
         "`coverage --plot` needs the research extra: pip install 'dsns-monitor[research]'"),
    ],
)
def test_a_research_command_without_the_extra_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, missing: str, command: list[str], line: str,
) -> None:
    config = write_config(tmp_path / "config.toml", f'[storage]\ndatabase = "{_archive(tmp_path).name}"\n')
    _missing(monkeypatch, missing)
    result = dsns(*(arg.format(tmp=tmp_path) for arg in command), "--config", str(config))
    assert (result.returncode, result.stderr, result.stdout) == (2, f"dsns-monitor: {line}\n", "")
    assert not list(tmp_path.glob("*.png"))


MTPROTO_SOURCE = """
[storage]
database = "archive.db"

[health]
listen = ""

[[sources]]
type = "telegram_mtproto"
channel = "dsns_telegram"
enabled = false
"""


@pytest.mark.parametrize("command", [["run"], ["run", "--once"], ["backfill", "--source", "dsns_telegram_mtproto"]])
def test_an_mtproto_source_without_telethon_is_a_config_error_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str],
) -> None:
    # Even a disabled one: its photos already in the archive are fetched through it.
    config = write_config(tmp_path / "config.toml", MTPROTO_SOURCE)
    _missing(monkeypatch, "telethon")
    result = dsns(*command, "--config", str(config))
    assert (result.returncode, result.stderr) == (2, (
        "dsns-monitor: configuration error: telegram_mtproto source `dsns_telegram_mtproto` needs the mtproto "
        "extra: pip install 'dsns-monitor[mtproto]'\n"
    ))


def test_telegram_login_without_telethon_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(tmp_path / "config.toml", MTPROTO_SOURCE)
    _missing(monkeypatch, "telethon")
    result = dsns("telegram", "login", "--config", str(config), input="")
    assert (result.returncode, result.stderr) == (
        2, "dsns-monitor: `telegram login` needs the mtproto extra: pip install 'dsns-monitor[mtproto]'\n",
    )


def test_the_daemon_runs_on_the_core_install(config_file: Path) -> None:
    # A fresh interpreter, because this one imported every extra long ago: with none of them
    # importable, `run --once` polls the fake t.me and feeds and stores their posts.
    probe = (
        "import sys\n"
        f"for name in {EXTRA_LIBRARIES!r}:\n"
        "    sys.modules[name] = None\n"
        "from monitor.cli.main import main\n"
        "sys.exit(main(['run', '--once', '--config', sys.argv[1]]))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(config_file)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "dsns_telegram: new=" in result.stderr and "FAILED" not in result.stderr
