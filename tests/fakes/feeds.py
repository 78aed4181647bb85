"""A fake news site serving feeds from tests/fixtures/feeds with ETag/Last-Modified, 304 and faults."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.server import Reply, Request
from tests.fakes.tme import jpeg_bytes

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "feeds"
LAST_MODIFIED = "Wed, 01 May 2024 09:10:00 GMT"


@dataclass
class FakeFeeds:
    """`/feeds/<file>` serves a fixture (PHOTO_BASE replaced by the server's URL), `/img/<n>.jpg` an image.

    `fail_next(status, retry_after)` makes the next feed request fail; `set_body(name, bytes)`
    replaces a feed's content (a new ETag follows).
    """

    bodies: dict[str, bytes] = field(default_factory=dict)
    faults: list[tuple[int, int | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def set_body(self, name: str, body: bytes) -> None:
        with self.lock:
            self.bodies[name] = body

    def fail_next(self, status: int = 500, *, retry_after: int | None = None, n: int = 1) -> None:
        with self.lock:
            self.faults.extend([(status, retry_after)] * n)

    def route(self, request: Request) -> Reply:
        if request.path.startswith("/img/"):
            return Reply(body=jpeg_bytes(request.path), content_type="image/jpeg")
        if not request.path.startswith("/feeds/"):
            return Reply(404, "not found", content_type="text/plain")
        with self.lock:
            if self.faults:
                status, retry_after = self.faults.pop(0)
                headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
                return Reply(status, "unavailable", headers=headers, content_type="text/plain")
        name = request.path.removeprefix("/feeds/")
        body = self.bodies.get(name)
        if body is None:
            path = FIXTURES / name
            if not path.is_file():
                return Reply(404, "no such feed", content_type="text/plain")
            host = request.headers.get("host", "")
            body = path.read_bytes().replace(b"PHOTO_BASE", f"http://{host}".encode())
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if request.headers.get("if-none-match") == etag:
            return Reply(304, b"", headers={"ETag": etag})
        return Reply(
            body=body,
            headers={"ETag": etag, "Last-Modified": LAST_MODIFIED},
            content_type="application/rss+xml",
        )
