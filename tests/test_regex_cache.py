"""`analysis._regex.compiled`: re.compile's patterns, rebuilt from the user's cache in later runs."""

from __future__ import annotations

import marshal
import re
from pathlib import Path

import pytest

from analysis import _regex

PATTERNS = [
    (r"(?<![\w-])(?:загроз\w*|угроз\w*|threat\w*)", 0),
    (r"(?P<count>\d{1,3})\s+(?P<noun>[^\W\d_]+)", 0),
    (r"(?i)kharkiv|харків(?=щин)", 0),
    (r"^\s*нагада\w+", re.MULTILINE),
    (r"(.)\1", 0),
]


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache folder, and the module as in a new process (nothing loaded yet)."""
    monkeypatch.setenv("DSNS_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_regex, "_known", None)
    monkeypatch.setattr(_regex, "_used", set())
    return tmp_path


def _same(a: re.Pattern[str], b: re.Pattern[str]) -> bool:
    return (a == b and a.flags == b.flags and a.groups == b.groups and a.groupindex == b.groupindex
            and a.findall("Загрози 12 людей, Kharkiv, ХАРКІВщина, аа") == b.findall("Загрози 12 людей, Kharkiv, ХАРКІВщина, аа"))


def test_compiled_is_re_compile_and_survives_the_cache(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = [_regex.compiled(p, f) for p, f in PATTERNS]
    assert all(_same(rx, re.compile(p, f)) for rx, (p, f) in zip(first, PATTERNS))
    _regex._save()  # what the process does at exit
    [path] = fresh.iterdir()
    assert set(marshal.loads(path.read_bytes())) == {(p, int(f)) for p, f in PATTERNS}
    monkeypatch.setattr(_regex, "_known", None)  # the next process
    compiling = _regex._compile
    compiles: list[str] = []
    monkeypatch.setattr(_regex, "_compile", lambda p, f: compiles.append(p) or compiling(p, f))
    again = [_regex.compiled(p, f) for p, f in PATTERNS]
    assert all(_same(rx, re.compile(p, f)) for rx, (p, f) in zip(again, PATTERNS))
    assert compiles == []  # every one from the cache
    _regex.compiled(r"\bnew\b")
    assert compiles == [r"\bnew\b"]


def test_a_broken_cache_costs_a_compile(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pattern = PATTERNS[1][0]
    path = _regex._path()
    assert path is not None and path.parent == fresh
    path.write_bytes(b"\x00 not a marshal dump")
    assert _same(_regex.compiled(pattern), re.compile(pattern))
    monkeypatch.setattr(_regex, "_known", {(pattern, 0): (0, bytes(12), 0, {}, (None,))})  # code _sre refuses
    assert _same(_regex.compiled(pattern), re.compile(pattern))
    monkeypatch.setenv("DSNS_CACHE_DIR", "")
    assert _regex._path() is None  # caching off
