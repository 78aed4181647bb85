"""Operations: /healthz and /metrics, sd_notify to a real socket, backup while writing."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bot.api import BotAPI
from monitor.app import App, open_app
from monitor.config import Config, ConfigError, load_config
from monitor.daemon import poll_all_once
from monitor.ops import faults
from monitor.ops.health import HealthServer
from monitor.ops.memory import release_freed_memory
from monitor.ops.systemd import Heartbeat, Watchdog, notify, watchdog_interval
from storage.timeutil import utcnow
from tests.cli_run import dsns
from tests.fakes.feeds import FakeFeeds
from tests.fakes.tme import FakeTelegram

ROOT = Path(__file__).resolve().parent.parent


@asynccontextmanager
async def health_server(app: App, config: Config) -> AsyncIterator[tuple[HealthServer, str]]:
    """The app's /healthz and /metrics on a free port, with a fresh heartbeat: (server, base URL)."""
    server = HealthServer(app.db, config, heartbeat_age=lambda: 1.0)
    await server.start()
    try:
        yield server, f"http://127.0.0.1:{server.port}"
    finally:
        await server.close()


def with_health(config_file: Path, extra: str = "") -> Path:
    # The shared config already listens on a free port; add this test's health keys to it.
    text = config_file.read_text()
    assert 'listen = "127.0.0.1:0"' in text
    config_file.write_text(text.replace('listen = "127.0.0.1:0"', f'listen = "127.0.0.1:0"\n{extra}', 1))
    return config_file


async def test_healthz_reports_each_source_and_turns_503_when_all_fail(
    tme: FakeTelegram, feeds: FakeFeeds, config_file: Path
) -> None:
    tme.fill("dsns_telegram", 3)
    config = load_config(with_health(config_file, "unhealthy_after = 60"))
    async with open_app(config) as app:
        async with health_server(app, config) as (server, url):
            async with httpx.AsyncClient() as client:
                feeds.fail_next(500)
                await poll_all_once(app)
                reply = await client.get(f"{url}/healthz")
                assert reply.status_code == 200
                body = reply.json()
                # One source failing: still 200, but not "ok" (an operator should look).
                assert body["status"] == "degraded" and set(body["sources"]) == {"dsns_telegram", "news_uk", "news_ru"}
                good = body["sources"]["dsns_telegram"]
                assert good["status"] == "ok" and good["consecutive_failures"] == 0
                assert good["last_success"] and 0 <= good["lag_seconds"] < 30
                failing = [s for s in body["sources"].values() if s["consecutive_failures"]]
                assert len(failing) == 1 and "HTTP 500" in failing[0]["last_error"]
                assert failing[0]["status"] == "failing"  # not "down" before unhealthy_after

                # Every source failing, and for longer than unhealthy_after: 503.
                tme.fail_next(5, status=500)
                feeds.fail_next(500, n=5)
                await poll_all_once(app)
                server.started_at = utcnow() - timedelta(hours=1)
                await app.db.reader.execute("SELECT 1")
                async with app.db.write() as conn:
                    old = (utcnow() - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
                    await conn.execute("UPDATE sources SET last_success_at = ?", (old,))
                reply = await client.get(f"{url}/healthz")
                assert reply.status_code == 503
                assert reply.json()["status"] == "unhealthy"
                assert all(s["status"] == "down" for s in reply.json()["sources"].values())

                assert (await client.get(f"{url}/nope")).status_code == 404
                assert (await client.post(f"{url}/healthz")).status_code == 405


async def test_metrics_are_prometheus_text_from_our_registry(tme: FakeTelegram, config_file: Path) -> None:
    tme.post("dsns_telegram", "Сумщина: обстріл.", photos=("m1",))
    tme.fill("dsns_telegram", 2)
    config = load_config(with_health(config_file))
    async with open_app(config) as app:
        server = HealthServer(app.db, config)
        await server.start()
        try:
            await poll_all_once(app)
            async with httpx.AsyncClient() as client:
                reply = await client.get(f"http://127.0.0.1:{server.port}/metrics")
        finally:
            await server.close()
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    text = reply.text
    for name in (
        'dsns_posts_stored_total{source="dsns_telegram"}', "dsns_post_versions_total", "dsns_photos_stored_total",
        "dsns_analysis_seconds_count", "dsns_alerts_sent_total", "dsns_alerts_failed_total", "dsns_outbox_depth",
        "dsns_bot_rate_limited_total", 'dsns_poll_duration_seconds_count{source="news_uk"}',
        "dsns_poll_errors_total", 'dsns_source_consecutive_failures{source="news_ru"} 0.0',
        'dsns_archive_rows{table="posts"}',
    ):
        assert name in text, name
    assert "python_gc_objects_collected_total" not in text  # not the global registry


async def test_health_server_survives_garbage_and_slow_clients(config_file: Path) -> None:
    config = load_config(with_health(config_file))
    async with open_app(config) as app:
        server = HealthServer(app.db, config)
        server.request_timeout = 0.5  # a client that stalls is cut off (5 s in production)
        await server.start()
        try:
            for junk in (b"\x00\xff garbage\r\n\r\n", b"GET\r\n\r\n", b"G" * 20000, b"GET /healthz HTTP/1.1\r\n"):
                reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
                writer.write(junk)
                await writer.drain()
                if not junk.endswith(b"HTTP/1.1\r\n"):
                    writer.write_eof()  # the last one just stalls: the server's timeout ends it
                assert (await asyncio.wait_for(reader.read(100), 10)).startswith(b"HTTP/1.1 400")
                writer.close()
            async with httpx.AsyncClient() as client:
                assert (await client.get(f"http://127.0.0.1:{server.port}/healthz")).status_code == 200
        finally:
            await server.close()


def test_health_listen_is_validated(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[health]\nlisten = "localhost"\n')
    with pytest.raises(ConfigError, match=r"health\.listen: .*host:port"):
        load_config(path)
    path.write_text('[health]\nlisten = ""\n')
    assert load_config(path).health.listen == ""


def test_notify_reaches_a_unix_datagram_socket_and_abstract_names(tmp_path: Path) -> None:
    for address in (str(tmp_path / "notify.sock"), f"@dsns-test-{os.getpid()}"):
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.bind(address.replace("@", "\0", 1) if address.startswith("@") else address)
            sock.settimeout(2)
            assert notify("READY=1", environ={"NOTIFY_SOCKET": address})
            assert sock.recv(100) == b"READY=1"
    assert not notify("READY=1", environ={})
    assert not notify("READY=1", environ={"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
    assert watchdog_interval({"WATCHDOG_USEC": "3000000"}) == 3.0
    assert watchdog_interval({"WATCHDOG_USEC": "3000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({}) is None


async def test_watchdog_pings_only_while_the_heartbeat_is_fresh() -> None:
    sent: list[str] = []
    heartbeat = Heartbeat()
    dog = Watchdog(heartbeat, timeout=0.2, send=lambda m: sent.append(m) or True)
    assert dog.tick() and sent == ["WATCHDOG=1"]
    time.sleep(0.25)  # no beat: the scheduler (or the archive) made no progress
    assert not dog.tick() and sent == ["WATCHDOG=1"]
    await heartbeat.beat()
    assert dog.tick() and len(sent) == 2


def test_daemon_notifies_ready_watchdog_and_stopping(tmp_path: Path, config_file: Path) -> None:
    with_health(config_file)
    address = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(0.5)
    env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "1000000"}
    env.pop("WATCHDOG_PID", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor.cli.main", "run", "--config", str(config_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    messages: list[str] = []
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and sum(m == "WATCHDOG=1" for m in messages) < 3:
            try:
                messages.append(sock.recv(1000).decode())
            except TimeoutError:
                pass
        proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(m.startswith("STOPPING=1") for m in messages):
            try:
                messages.append(sock.recv(1000).decode())
            except TimeoutError:
                pass
        _, stderr = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()
    assert proc.returncode == 0, stderr
    assert messages[0].startswith("READY=1\n")
    assert sum(m == "WATCHDOG=1" for m in messages) >= 3
    assert messages[-1].startswith("STOPPING=1")
    assert "health and metrics on http://127.0.0.1:" in stderr


def test_backup_while_the_archive_is_written(tme: FakeTelegram, config_file: Path, tmp_path: Path) -> None:
    tme.fill("dsns_telegram", 5)
    assert dsns("run", "--once", "--config", str(config_file)).returncode == 0
    archive = config_file.parent / "archive.db"
    stop = threading.Event()

    def writer() -> None:  # a busy daemon: small write transactions back to back
        conn = sqlite3.connect(archive, timeout=30, isolation_level=None)
        n = 0
        while not stop.is_set():
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO bot_state (key, value) VALUES (?, 'x')", (f"k{n}",))
            conn.execute("COMMIT")
            n += 1
        conn.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.2)
        dest = tmp_path / "backups"
        dest.mkdir()
        result = dsns("backup", "--config", str(config_file), str(dest))
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join()
    assert result.returncode == 0, result.stderr
    (copy,) = dest.iterdir()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert not list(dest.glob(".*partial*"))
    db = sqlite3.connect(copy)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert db.execute("SELECT count(*) FROM posts").fetchone()[0] == 5 + 5  # the channel and the feeds
    copied = db.execute("SELECT count(*) FROM bot_state WHERE key LIKE 'k%'").fetchone()[0]
    total = sqlite3.connect(archive).execute("SELECT count(*) FROM bot_state WHERE key LIKE 'k%'").fetchone()[0]
    assert 0 < copied < total  # a snapshot taken mid-stream, while writes went on

    again = dsns("backup", "--config", str(config_file), str(copy))
    assert again.returncode == 1 and "already exists; choose another name or pass --force" in again.stderr


async def test_a_component_fault_degrades_or_fails_health(config_file: Path) -> None:
    config = load_config(config_file)
    async with open_app(config) as app:
        async with health_server(app, config) as (server, url):
            async with httpx.AsyncClient() as client:
                metrics_text = (await client.get(f"{url}/metrics")).text
                assert 'dsns_component_fault{component="archive"} 0.0' in metrics_text  # a series before any fault
                faults.report("analysis", "post 7: ValueError")
                reply = await client.get(f"{url}/healthz")
                assert reply.status_code == 200 and reply.json()["status"] == "degraded"
                assert reply.json()["faults"]["analysis"]["message"] == "post 7: ValueError"
                faults.report("archive", "database or disk is full", critical=True)
                reply = await client.get(f"{url}/healthz")
                assert reply.status_code == 503 and reply.json()["status"] == "unhealthy"
                assert 'dsns_component_fault{component="archive"} 1.0' in (await client.get(f"{url}/metrics")).text
                faults.clear("archive")
                faults.clear("analysis")
                assert (await client.get(f"{url}/healthz")).json()["faults"] == {}


def test_status_reads_the_archive_like_healthz(
    tme: FakeTelegram, feeds: FakeFeeds, config_file: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from monitor.cli.main import main

    monkeypatch.setenv("COLUMNS", "160")  # a terminal's width, so the table's cells are not folded

    assert main(["status", "--config", str(config_file)]) == 1  # no archive yet: one line, no new file
    assert "no archive here" in capsys.readouterr().err and not (config_file.parent / "archive.db").exists()
    tme.fill("dsns_telegram", 3)
    feeds.fail_next(500)
    assert main(["run", "--once", "--config", str(config_file)]) == 0
    capsys.readouterr()
    archive = config_file.parent / "archive.db"
    before = archive.stat().st_mtime_ns

    assert main(["status", "--json", "--config", str(config_file)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["status"] == "degraded" and report["outbox"]["pending"] == 0
    web = report["sources"]["dsns_telegram"]
    assert web["status"] == "ok" and web["last_post"] and web["next_check"] and web["consecutive_failures"] == 0
    failing = [name for name, s in report["sources"].items() if s["consecutive_failures"] == 1]
    assert len(failing) == 1 and "HTTP 500" in report["sources"][failing[0]]["last_error"]
    # A source that failed and never succeeded, seen from outside the daemon, is down.
    assert report["sources"][failing[0]]["status"] == "down"

    assert main(["status", "--config", str(config_file)]) == 0
    table = capsys.readouterr().out
    assert "degraded" in table and "dsns_telegram" in table and failing[0] in table
    assert "outbox: 0 alert(s) pending" in table
    assert archive.stat().st_mtime_ns == before  # read-only


def test_backup_keep_rotates_only_dated_copies(config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.cli.main import main

    asyncio.run(_open_and_close(config_file))  # an (empty) archive to copy
    dest = tmp_path / "backups"
    dest.mkdir()
    old = [dest / f"dsns-monitor-2025010{day}T030000Z.db" for day in range(1, 5)]
    for path in old:
        path.write_bytes(b"old")
    mine = dest / "dsns-monitor-keep-me.db"
    mine.write_bytes(b"not a dated copy")
    assert main(["backup", "--config", str(config_file), str(dest), "--keep", "2"]) == 0
    left = sorted(p.name for p in dest.iterdir())
    # The new copy and the newest old one; the operator's own file is never touched.
    assert len(left) == 3 and mine.name in left and old[3].name in left
    assert not any(p.exists() for p in old[:3])
    assert "removed old backup" in capsys.readouterr().err
    assert main(["backup", "--config", str(config_file), str(dest / "x.db"), "--keep", "2"]) == 2
    assert main(["backup", "--config", str(config_file), str(dest), "--keep", "0"]) == 2


async def _open_and_close(config_file: Path) -> None:
    async with open_app(load_config(config_file)):
        pass


@pytest.mark.parametrize("unit", ["dsns-monitor.service", "dsns-monitor-backup.service"])
def test_units_start_commands_the_cli_accepts(unit: str) -> None:
    import shlex

    from monitor.cli.main import build_parser

    text = (ROOT / "deploy" / unit).read_text()
    (exec_start,) = [line.split("=", 1)[1] for line in text.splitlines() if line.startswith("ExecStart=")]
    argv = shlex.split(exec_start)
    assert argv[0] == "/opt/dsns-monitor/.venv/bin/dsns-monitor"
    args = build_parser().parse_args(argv[1:])  # exits (fails the test) on an option the CLI lacks
    assert args.config == "/etc/dsns-monitor/config.toml"
    if unit == "dsns-monitor-backup.service":
        assert args.command == "backup" and args.keep and args.dest.startswith("/var/lib/dsns-monitor/")
        timer = (ROOT / "deploy" / "dsns-monitor-backup.timer").read_text()
        assert "OnCalendar=" in timer and "Persistent=true" in timer and "WantedBy=timers.target" in timer
        assert "RestrictAddressFamilies=AF_UNIX" in text and "User=dsns-monitor" in text


async def test_labelled_failure_counters_have_a_series_from_the_start(config_file: Path) -> None:
    from monitor.daemon import run_forever
    from monitor.ops import metrics

    # A name no other test uses: the registry is the process's, as in the daemon.
    text = config_file.read_text().replace('channel = "dsns_telegram"', 'channel = "dsns_telegram"\nname = "fresh_start"', 1)
    config_file.write_text(text)
    config = load_config(config_file)
    assert 'source="fresh_start"' not in metrics.render().decode()
    stop = asyncio.Event()
    stop.set()  # start and stop at once: no poll has run, so nothing has been counted yet
    async with open_app(config) as app:
        await run_forever(app, stop)
    text = metrics.render().decode()
    for counter in ("dsns_poll_errors_total", "dsns_source_rate_limited_total", "dsns_posts_rejected_total",
                    "dsns_analysis_failures_total"):
        assert f'{counter}{{source="fresh_start"}} 0.0' in text, counter
    for reason in ("blocked", "rejected", "error", "rate_limited"):
        assert f'dsns_alerts_failed_total{{reason="{reason}"}}' in text, reason


async def test_sighup_rereads_the_sources(
    tme: FakeTelegram, tme_server: object, config_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from monitor.daemon import run_forever

    caplog.set_level(logging.INFO, logger="dsns_monitor")
    tme.add_channel("dsns_kharkiv", "ДСНС Харківщини")
    tme.fill("dsns_kharkiv", 2)
    config = load_config(config_file)
    original = config_file.read_text()
    names = lambda: [s.source_name for s in app.config.sources]  # noqa: E731
    async with open_app(config) as app:
        stop = asyncio.Event()
        daemon = asyncio.create_task(run_forever(app, stop, config_path=config_file))
        try:
            await _until(lambda: any("dsns_telegram" in p for p in tme_server.paths()))  # type: ignore[attr-defined]
            # Added (a regional channel), removed (news_ru) and changed (news_uk's interval).
            text = original.replace('name = "news_ru"', 'name = "news_ru_gone"').split("[[sources]]")
            text = "[[sources]]".join(part for part in text if "news_ru_gone" not in part)
            text = text.replace("interval = 300", "interval = 600", 1)
            text += f'\n[[sources]]\ntype = "telegram_web"\nchannel = "@dsns_kharkiv"\nbase_url = "{tme_server.url}"\n'  # type: ignore[attr-defined]
            config_file.write_text(text)
            os.kill(os.getpid(), signal.SIGHUP)
            await _until(lambda: "dsns_kharkiv" in names())
            assert names() == ["dsns_telegram", "news_uk", "dsns_kharkiv"]
            assert app.config.source("news_uk").interval == 600 and app.pipeline.config is app.config
            await _until(lambda: any("dsns_kharkiv" in p for p in tme_server.paths()))  # type: ignore[attr-defined]
            assert "1 source(s) added, 1 removed, 1 changed" in caplog.text

            config_file.write_text(text + "\n[[sources]]\ntype = \"rss\"\n")  # broken: nothing changes
            os.kill(os.getpid(), signal.SIGHUP)
            await _until(lambda: "configuration not reloaded" in caplog.text)
            assert names() == ["dsns_telegram", "news_uk", "dsns_kharkiv"]
        finally:
            stop.set()
            await daemon


async def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def _install_steps() -> list[list[str]]:
    """The `install` commands of docs/server.md's Install section, as argument lists."""
    import shlex

    guide = (ROOT / "docs" / "server.md").read_text()
    section = guide.split("## Install", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh", 1)[1].split("```", 1)[0]
    steps = []
    for line in block.splitlines():
        argv = shlex.split(line, comments=True)
        if argv[:2] == ["sudo", "install"]:
            steps.append(argv[2:])
    return steps


def _replay(steps: list[list[str]], root: Path) -> dict[str, tuple[str, str, int]]:
    """Run the steps into `root` as `install` would (modes for real; owner and group, which need
    root, recorded). Returns {absolute path: (owner, group, mode)}; sudo makes root the default."""
    made: dict[str, tuple[str, str, int]] = {}
    for argv in steps:
        owner, group, mode, directory, operands = "root", "root", 0o755, False, []
        args = iter(argv)
        for arg in args:
            if arg == "-d":
                directory = True
            elif arg in ("-m", "-g", "-o"):
                value = next(args)
                if arg == "-m":
                    mode = int(value, 8)
                elif arg == "-g":
                    group = value
                else:
                    owner = value
            else:
                assert not arg.startswith("-"), f"the replay does not know install's {arg}"
                operands.append(arg)
        targets = operands if directory else operands[-1:]
        for target in targets:
            path = root / target.lstrip("/")
            if directory:
                path.mkdir(parents=True, exist_ok=True)
            else:
                source = operands[0]
                path.write_bytes(b"" if source == "/dev/null" else (ROOT / source).read_bytes())
            path.chmod(mode)
            made[target] = (owner, group, stat.S_IMODE(path.stat().st_mode))
    return made


def _can(user: str, groups: set[str], entry: tuple[str, str, int], want: int) -> bool:
    """POSIX permission check of `want` (4 read, 1 search/execute) for a non-root user."""
    owner, group, mode = entry
    bits = (mode >> 6) if owner == user else (mode >> 3) if group in groups else mode
    return bits & want == want


def test_the_install_guide_lets_the_service_user_read_its_config_and_not_the_secrets(tmp_path: Path) -> None:
    unit = (ROOT / "deploy" / "dsns-monitor.service").read_text()
    settings = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#"))
    user, group = settings["User"], settings["Group"]
    config_path = settings["ExecStart"].split("--config ", 1)[1].split()[0]
    secrets_path = settings["EnvironmentFile"].lstrip("-")

    made = _replay(_install_steps(), tmp_path)
    assert config_path in made and secrets_path in made, "the guide installs what the unit reads"
    # /etc itself is root's 0755 on every system; the guide creates what is below it.
    known = {"/etc": ("root", "root", 0o755), **made}
    service = (user, {group})

    def readable(path: str) -> bool:
        parents = [str(p) for p in reversed(Path(path).parents) if str(p) != "/"]
        return all(_can(*service, known[p], 1) for p in parents) and _can(*service, known[path], 4)

    assert readable(config_path), f"{user} cannot read {config_path}: {[(p, known.get(p)) for p in known]}"
    # Secrets are read by systemd (root) before it drops privileges; the service user never needs them.
    assert not readable(secrets_path)
    assert known[secrets_path][2] & 0o077 == 0
    # Nobody else reads the config (it names the archive and the admins' chat ids).
    assert known[config_path][2] & 0o007 == 0 and known[os.path.dirname(config_path)][2] & 0o007 == 0
    # What was installed is the server config, and it loads; its archive is where the unit may write.
    config = load_config(tmp_path / config_path.lstrip("/"))
    assert str(config.storage.database).startswith(settings["ReadWritePaths"] + "/")
    assert settings["StateDirectory"] == "dsns-monitor" and settings["WorkingDirectory"] == settings["ReadWritePaths"]
    # A config error (exit 2) must not restart the service every RestartSec forever.
    assert settings["RestartPreventExitStatus"] == "2"


def test_the_install_replay_catches_a_root_only_folder(tmp_path: Path) -> None:
    # The guide's former line: the folder root:root 0750, so the service user could not enter it.
    made = _replay([["-d", "-m", "0750", "/etc/dsns-monitor"]], tmp_path)
    assert not _can("dsns-monitor", {"dsns-monitor"}, made["/etc/dsns-monitor"], 1)


def _resident_mb() -> float:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's"
)
def test_freed_memory_goes_back_to_the_system() -> None:
    # 30 MB of blocks malloc serves (over pymalloc's 512 bytes), one in 64 kept: the rest is free
    # but scattered, so glibc keeps it resident until it is trimmed.
    blocks = [bytes(1000) for _ in range(30_000)]
    kept = blocks[::64]
    del blocks
    before = _resident_mb()
    release_freed_memory()
    assert before - _resident_mb() > 10
    del kept  # held until measured: the free gaps between them are what is given back


async def test_the_bot_client_shares_the_apps_certificate_store(config_file: Path) -> None:
    # Each SSL context parses the CA bundle again: ~0.8 MB resident for the bot's own copy.
    async with open_app(load_config(config_file)) as app:
        api = BotAPI("1:token", tls=app.tls)
        try:
            clients = (app.client, api._client)
            contexts = [c._transport._pool._ssl_context for c in clients]  # type: ignore[attr-defined]
        finally:
            await api.aclose()
    assert contexts[0] is app.tls and contexts[1] is app.tls
