"""The imports docs/architecture.md forbids, checked on every module's source.

Rules are by top-level package, so they hold whatever the folders inside a package are. Every
import counts, also under TYPE_CHECKING and inside a function: a dependency all the same.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("dsns", "analysis", "collectors", "storage", "bot", "research", "monitor")

# Which of our packages each package may import (itself included); monitor wires them all.
MAY_IMPORT: dict[str, set[str]] = {
    "dsns": {"dsns"},  # dsns.extras raises a dsns.errors error
    "analysis": {"analysis", "dsns"},
    "collectors": {"collectors", "dsns"},
    "storage": {"storage", "analysis", "dsns"},
    "bot": {"bot", "storage", "analysis", "dsns"},
    "research": {"research", "storage", "analysis", "dsns"},
    "monitor": set(OURS),
}
# Third-party libraries kept behind one door: (library, the only package prefix that imports it).
ONLY_IN = {"telethon": "collectors.telegram_mtproto"}
FRONT_DOOR = "monitor.cli"  # the package, before and after the moves (restructure: keep)

# Imports that exist and are yet to be cut: (importing module, imported module or package) → the
# cut. Only ever remove entries; a new forbidden import fails the test.
NOT_YET_CUT: dict[tuple[str, str], str] = {}


def modules() -> Iterator[tuple[str, Path]]:
    for package in OURS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from monitor import faults` imports the module monitor.ops.faults
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(module: str, imported: str) -> list[str]:
    found = []
    importer, target = module.split(".")[0], imported.split(".")[0]
    if target in OURS and target not in MAY_IMPORT[importer]:
        found.append(f"{importer} must not import {target}")
    if target in OURS and target != importer and any(p.startswith("_") for p in imported.split(".")[1:]):
        found.append("a private module of another package")
    for library, home in ONLY_IN.items():
        if _within(imported, library) and not _within(module, home):
            found.append(f"{library} only in {home}")
    if _within(imported, FRONT_DOOR) and not _within(module, FRONT_DOOR):
        found.append("nothing calls the front door back")
    return found


def _not_yet_cut(module: str, imported: str) -> bool:
    return any(module == importer and _within(imported, target) for importer, target in NOT_YET_CUT)


def test_no_forbidden_import() -> None:
    found = [
        f"{module} imports {imported}: {', '.join(why)}"
        for module, path in modules()
        for imported in imports(path)
        if (why := violations(module, imported)) and not _not_yet_cut(module, imported)
    ]
    assert found == [], "\n".join(found)


def test_the_rules_catch_what_they_forbid() -> None:
    # The checker itself: each rule bites, and allowed arrows pass.
    assert violations("storage.posts", "collectors.base.RawPost")
    assert violations("bot.sender", "monitor.ops.metrics")
    assert violations("analysis.strike", "storage.database")
    assert violations("research.search", "monitor.app")
    assert violations("monitor.pipeline", "telethon.tl.types") == ["telethon only in collectors.telegram_mtproto"]
    assert violations("bot.commands", "analysis._lexicon") == ["a private module of another package"]
    assert violations("monitor.daemon", "monitor.cli.options") == ["nothing calls the front door back"]
    assert not violations("monitor.cli.main", "monitor.cli.options")
    assert not violations("monitor.daemon", "bot.service")
    assert not violations("bot.sender", "storage.outbox")
    assert not violations("collectors.telegram_mtproto.client", "telethon")
    assert not violations("analysis.strike", "analysis._lexicon")
    assert {module for module, _ in modules()} >= {"storage.posts", "bot.sender", "dsns.errors", "monitor.pipeline"}


# A string that starts like a SQL statement: keyword, then what follows it in a statement.
SQL_STATEMENT = re.compile(
    r"\s*(SELECT\s+\S|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|CREATE\s+"
    r"(TABLE|(UNIQUE\s+)?INDEX|VIEW|TRIGGER|VIRTUAL)\b|PRAGMA\s+\w|WITH\s+(RECURSIVE\s+)?\w+(\s*\([^)]*\))?\s+AS\s*\()",
)
SQL_HOME = "storage"


def sql_strings(path: Path) -> Iterator[tuple[int, str]]:
    """String constants (the pieces of an f-string included) that start a SQL statement."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        text = node.value
        if SQL_STATEMENT.match(text):
            yield node.lineno, text.strip().splitlines()[0][:60]


def test_every_sql_statement_lives_in_storage() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for module, path in modules()
        if not _within(module, SQL_HOME)
        for line, text in sql_strings(path)
    ]
    assert found == [], "SQL outside storage/:\n" + "\n".join(found)


def test_the_sql_check_sees_statements(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        'a = "SELECT 1"\nb = f"INSERT INTO {t} VALUES (?)"\nc = """\n  UPDATE posts SET x = 1"""\n'
        'd = "WITH ranked AS (SELECT 1) SELECT * FROM ranked"\ne = "PRAGMA quick_check"\n'
        'f = "Select a region"\ng = "UPDATE: figures rose"\nh = "delete from the list"\n',
        encoding="utf-8",
    )
    assert sorted(line for line, _ in sql_strings(source)) == [1, 2, 3, 5, 6]


LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}
# `key=%s` (or `key={…}` in an f-string) for any key; the stable keys also when merely named before
# the value (`chat %d`, `source: %s`): JSON logs only see what is passed in `extra`.
FIELD_IN_MESSAGE = re.compile(r"\b[a-z_]+=[%{]|\b(source|url|error|chat)\b:?\s*[%{]")


def _message(node: ast.expr) -> str | None:
    """A log call's message as written, an f-string's values shown as `{}`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(p.value if isinstance(p, ast.Constant) else "{}" for p in node.values)
    return None


def fields_in_messages(path: Path) -> Iterator[tuple[int, str]]:
    """Log calls whose message holds a field's value: that key belongs in `extra`, where JSON logs see it."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LOG_METHODS
            and node.args and (message := _message(node.args[0])) is not None
            and FIELD_IN_MESSAGE.search(message)
        ):
            yield node.lineno, message


def test_log_lines_pass_their_fields_as_extra(tmp_path: Path) -> None:
    found = [f"{path.relative_to(ROOT)}:{line}: {text}" for _, path in modules() for line, text in fields_in_messages(path)]
    assert found == [], "\n".join(found)
    probe = tmp_path / "m.py"
    probe.write_text(
        'log.error("source=%s failed", n)\nlog.info("done", extra={"source": n})\n'
        'log.warning("send to chat %d failed", c)\nlog.warning(f"chat={c} blocked")\n'
        'log.info("digest sent", extra={"chat": c})\nlog.info("%d chats told", n)\n'
        'log.error(f"poll of {n} failed: {e}")\nlog.debug("error: %s", e)\n',
        encoding="utf-8",
    )
    assert [line for line, _ in fields_in_messages(probe)] == [1, 3, 4, 8]
