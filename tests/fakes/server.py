"""A real HTTP server on 127.0.0.1, run in a thread, for the fakes of t.me, feeds and the Bot API.

Each fake is a `Handler` subclass's `route()` returning a `Reply`; the server counts requests
so tests can assert what was fetched.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/html; charset=utf-8"
    delay: float = 0.0
    # Faults for robustness tests: send the body `repeat` times (a huge page without holding it
    # in memory), in `chunk`-byte pieces `trickle` seconds apart (a slow server), or cut it off
    # after `truncate` bytes while Content-Length promises all of it (a dropped connection).
    repeat: int = 1
    trickle: float = 0.0
    chunk: int = 65536
    truncate: int | None = None


Route = Callable[[Request], Reply]


class LocalServer:
    """Serve `route` on 127.0.0.1:<free port>; `url` is the base URL."""

    def __init__(self, route: Route) -> None:
        self.route = route
        self.requests: list[Request] = []
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; with Nagle's algorithm the body then
            # waits for the client's delayed ACK (~40 ms a request), which made the fakes slow.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                server.requests.append(request)
                reply = server.route(request)
                if reply.delay:
                    time.sleep(reply.delay)
                body = reply.body.encode() if isinstance(reply.body, str) else reply.body
                try:
                    self.send_response(reply.status)
                    headers = {"Content-Type": reply.content_type, **reply.headers}
                    for key, value in headers.items():
                        self.send_header(key, value)
                    if "Content-Length" not in headers:
                        self.send_header("Content-Length", str(len(body) * reply.repeat))
                    self.end_headers()
                    if self.command != "HEAD":
                        _write_body(self, body, reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = do_POST = do_HEAD = _serve

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # A short poll interval lets each test server stop in milliseconds rather than 0.5 s.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> LocalServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


def _write_body(handler: BaseHTTPRequestHandler, body: bytes, reply: Reply) -> None:
    if reply.repeat == 1 and not reply.trickle and reply.truncate is None:
        handler.wfile.write(body)
        return
    budget = reply.truncate if reply.truncate is not None else len(body) * reply.repeat
    for _ in range(reply.repeat):
        for start in range(0, len(body), reply.chunk):
            piece = body[start : start + reply.chunk][:budget]
            if not piece:
                break
            handler.wfile.write(piece)
            handler.wfile.flush()
            budget -= len(piece)
            if reply.trickle:
                time.sleep(reply.trickle)
    if reply.truncate is not None:
        handler.close_connection = True  # the promised rest never comes


@contextmanager
def serve(route: Route) -> Iterator[LocalServer]:
    server = LocalServer(route).start()
    try:
        yield server
    finally:
        server.stop()
