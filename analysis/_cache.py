"""The user's cache folder, where the analyser keeps what it would otherwise rebuild at every
start (the gazetteer's indexes, compiled regular expressions), and the one way files get there."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "write_whole"]


def cache_dir() -> Path | None:
    """$DSNS_CACHE_DIR, else $XDG_CACHE_HOME or ~/.cache, then dsns-monitor; None when caching
    is off ($DSNS_CACHE_DIR empty)."""
    root = os.environ.get("DSNS_CACHE_DIR")
    if root is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "dsns-monitor")
    return Path(root) if root else None


def write_whole(path: Path, data: bytes, stale: str) -> None:
    """Write `path` whole or not at all (a reader never sees half a file), then delete the other
    files of the folder matching the glob `stale` (another data's or Python's copies). A cache
    that cannot be written only costs a rebuild next time: OSError is swallowed."""
    import tempfile  # here: only the run that writes a cache needs it

    temp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name, delete=False) as fh:
            temp = fh.name
            fh.write(data)
        os.replace(temp, path)
        temp = None
        for old in path.parent.glob(stale):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        if temp is not None:
            Path(temp).unlink(missing_ok=True)
