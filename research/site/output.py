"""The site's folder: files replaced atomically and only when their bytes change, photo
thumbnails, the shipped static files."""

from __future__ import annotations

import io
import logging
import os
import tempfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from PIL import Image, UnidentifiedImageError

__all__ = ["Output", "thumbnail"]

log = logging.getLogger("dsns_monitor.site")

THUMBNAIL_PX = 480


@dataclass
class Output:
    """Writes under `root`. A reader (a web server, a sync to a bucket) sees each file whole,
    old or new: it is written beside its place and renamed over it. Unchanged files are left
    alone, so their times (and a sync's work) stay as they were."""

    root: Path
    written: int = 0
    unchanged: int = 0
    folders: set[Path] = field(default_factory=set)  # made (or found) already

    def write(self, relative: str, data: bytes) -> None:
        path = self.root / relative
        try:
            if path.read_bytes() == data:
                self.unchanged += 1
                return
        except FileNotFoundError:
            if path.parent not in self.folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.folders.add(path.parent)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.chmod(temp, 0o644)  # published: a web server running as another user reads it
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        self.written += 1

    def exists(self, relative: str) -> bool:
        return (self.root / relative).exists()

    def copy_static(self) -> None:
        """The package's static files (Leaflet, the stylesheet, the map script) under static/."""
        folder = resources.files("research.site").joinpath("static")
        stack = [(folder, "static")]
        while stack:
            here, relative = stack.pop()
            for item in here.iterdir():
                if item.is_dir():
                    stack.append((item, f"{relative}/{item.name}"))
                else:
                    self.write(f"{relative}/{item.name}", item.read_bytes())


def thumbnail(data: bytes) -> bytes | None:
    """A JPEG at most THUMBNAIL_PX on its longer side; None for bytes that are not an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            # A JPEG (most photos) decodes straight at a fraction of its size: several times faster.
            image.draft("RGB", (THUMBNAIL_PX, THUMBNAIL_PX))
            image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=80)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        log.warning("site: photo not shown, cannot make a thumbnail: %s", exc)
        return None
    return out.getvalue()
