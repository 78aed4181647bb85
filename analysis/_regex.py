"""Regular expressions compiled once per Python, not once per process.

`re` compiles a pattern in pure Python (re._parser, re._compiler): the analyser's ~170 patterns
cost ~0.1 s of CPU at every start, a fifth of its start-up. `compiled` keeps what that work
produces (the SRE code `re` hands to `_sre.compile`) in the user's cache folder and rebuilds a
pattern from it in microseconds; a pattern not yet there is compiled as `re.compile` does and
added when the process exits. The patterns are `re`'s own objects, equal to `re.compile`'s.
"""

from __future__ import annotations

import _sre
import marshal
from array import array
import re
import sys
from pathlib import Path
from typing import Any

from analysis._cache import cache_dir, write_whole

__all__ = ["compiled"]

_FORMAT = 2
# (pattern, flags) -> the arguments of _sre.compile after the pattern, the code as the bytes of
# an array of SRE code words: held for the process's life, a list of ints took ~2 MB of the
# daemon's 150, the bytes a fifth of that
_State = tuple[int, bytes, int, dict[str, int], tuple[str | None, ...]]
_WORD = next(t for t in "IL" if array(t).itemsize == _sre.CODESIZE)
_known: dict[tuple[str, int], _State] | None = None
_used: set[tuple[str, int]] = set()
_added = False
# More patterns known than this (edited ones pile up while developing): keep only this run's.
_LIMIT = 2_000


def compiled(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """`re.compile(pattern, flags)`, from the cache when this Python compiled it before."""
    global _added
    known = _known if _known is not None else _load()
    key = (pattern, int(flags))
    state = known.get(key)
    _used.add(key)
    if state is not None:
        try:
            return _rebuilt(pattern, state)
        except (TypeError, ValueError, RuntimeError):  # a damaged entry: _sre validates the code
            del known[key]
    try:
        state = _compile(pattern, int(flags))
    except Exception:  # noqa: BLE001 - `re`'s internals differ (another Python): no cache
        return re.compile(pattern, flags)
    rx = _rebuilt(pattern, state)
    if not _added and _path() is not None:
        import atexit

        atexit.register(_save)
        _added = True
    known[key] = state
    return rx


def _rebuilt(pattern: str, state: _State) -> re.Pattern[str]:
    flags, code, groups, groupindex, indexgroup = state
    return _sre.compile(pattern, flags, array(_WORD, code).tolist(), groups, groupindex, indexgroup)


def _compile(pattern: str, flags: int) -> _State:
    """What re._compiler.compile computes before it calls _sre.compile, as plain values."""
    from re import _compiler, _parser  # type: ignore[attr-defined]

    if flags & re.DEBUG:
        raise ValueError("re.DEBUG prints: compile it the usual way")
    parsed = _parser.parse(pattern, flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, k in groupindex.items():
        indexgroup[k] = name
    code = array(_WORD, _compiler._code(parsed, flags)).tobytes()
    return (int(flags | parsed.state.flags), code, parsed.state.groups - 1, groupindex, tuple(indexgroup))


def _path() -> Path | None:
    root = cache_dir()
    if root is None:
        return None
    # SRE code is only valid for the Python that made it
    tag = f"{_FORMAT}-{sys.implementation.cache_tag}-{_sre.MAGIC}-{_sre.CODESIZE}-{sys.hexversion:x}"
    return root / f"regex-{tag}.marshal"


def _load() -> dict[tuple[str, int], _State]:
    global _known
    path = _path()
    known: dict[tuple[str, int], Any] = {}
    if path is not None:
        try:
            got = marshal.loads(path.read_bytes())
            if type(got) is dict:
                known = got
        except (OSError, EOFError, ValueError, TypeError):
            pass  # absent or unreadable: compiled again, then written
    _known = known
    return known


def _save() -> None:
    """Write the patterns known, those of earlier runs with this process's new ones (at exit)."""
    path = _path()
    if path is not None and _known:
        keep = _known if len(_known) <= _LIMIT else {k: v for k, v in _known.items() if k in _used}
        write_whole(path, marshal.dumps(keep), "regex-*.marshal")
