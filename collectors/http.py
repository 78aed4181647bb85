"""The one place where httpx errors become `SourceError`s.

Every collector fetches through `fetch()`, which streams the body under a size cap, answers
the questions a poller asks of a response (not modified? rate limited? retry after when?)
and raises errors whose messages say what went wrong and for which source.

Where a request may go is `AddressPolicy`'s call, at every redirect hop: a configured source's
host:port is trusted (the monitor fetches it anyway; this is also what lets tests serve from
127.0.0.1); any other host must resolve to public addresses only, so a feed, page or photo
cannot send the monitor to loopback, the LAN or cloud metadata (169.254.169.254), unless
`[storage] allow_private_media` lifts the check for a deliberate LAN mirror. A redirect from
https to http is refused. URLs in messages go through `redact()`: a feed URL may carry a
password or an API key.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import httpx

from collectors.base import (
    SourceError,
    SourceHTTPError,
    SourceNetworkError,
    SourceRateLimited,
)
from dsns.redact import redact

__all__ = [
    "HTTPResponse", "AddressPolicy", "fetch", "parse_retry_after", "is_public_address", "redirect_target",
    "USER_AGENT", "DEFAULT_MAX_BYTES", "MAX_REDIRECTS",
]

USER_AGENT = "dsns-monitor/0.1 (+https://github.com/dsns-monitor)"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAX_REDIRECTS = 5
_REDIRECTS = frozenset((301, 302, 303, 307, 308))


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return (parts.hostname or "").lower(), port


def is_public_address(address: str) -> bool:
    """True for globally routable unicast addresses only."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which hosts may be fetched besides public ones: the `trusted` host:port pairs, or any
    when `allow_private`."""

    allow_private: bool = False
    trusted: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    @classmethod
    def trusting(cls, urls: list[str | None], *, allow_private: bool = False) -> AddressPolicy:
        """Trust the host:port of each of `urls` (the configured sources)."""
        return cls(allow_private, frozenset(_host_port(u) for u in urls if u))

    async def check(self, url: str, source: str) -> None:
        """Raise `SourceError` unless `url` is http(s) on a trusted or public host."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceError(source, f"refusing to fetch {redact(url)!r}: only http(s) URLs are fetched")
        if self.allow_private or _host_port(url) in self.trusted:
            return
        host, port = _host_port(url)
        try:
            infos = await asyncio.wait_for(
                asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=10
            )
        except (OSError, TimeoutError) as exc:
            raise SourceError(source, f"cannot resolve the host of {redact(url)}: {exc or 'timed out'}") from exc
        blocked = sorted({str(info[4][0]) for info in infos if not is_public_address(str(info[4][0]))})
        if blocked or not infos:
            raise SourceError(
                source,
                f"refusing to fetch {redact(url)}: {host} resolves to a non-public address "
                f"({', '.join(blocked) or 'none'}) and is not a configured source; "
                "set [storage] allow_private_media = true to allow it",
            )


def redirect_target(url: str, location: str, source: str) -> str:
    """Where a redirect from `url` leads; `SourceError` for a downgrade from https to http."""
    target = urljoin(url, location)
    if urlsplit(url).scheme == "https" and urlsplit(target).scheme != "https":
        raise SourceError(
            source, f"{redact(url)} redirects to {redact(target)}: a downgrade from https is refused"
        )
    return target


@dataclass(frozen=True, slots=True)
class HTTPResponse:
    """A fetched response, body read in full (within the cap)."""

    url: str
    status: int
    headers: httpx.Headers
    content: bytes

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def location(self) -> str | None:
        return self.headers.get("location")


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    source: str,
    headers: dict[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    follow_redirects: bool = True,
    deadline: float | None = None,
    policy: AddressPolicy | None = None,
) -> HTTPResponse:
    """GET `url`, returning 2xx, 3xx (when not following) and 304 responses.

    Every URL requested, `url` and each redirect hop, must pass `policy` (default: `url`'s own
    host is trusted, others must be public); a redirect from https to http is refused.
    Raises `SourceRateLimited` for 429/503, `SourceHTTPError` for other errors,
    `SourceNetworkError` for transport failures, and `SourceError` when the body
    exceeds `max_bytes` (a gzip bomb is stopped by the same cap, since it counts
    decoded bytes). `deadline` bounds the whole exchange (default: three times the client's
    read timeout): httpx's timeouts count per read, so a server trickling a byte a second
    would otherwise hold a poll for hours.
    """
    if deadline is None and client.timeout.read is not None:
        deadline = 3 * client.timeout.read
    policy = policy or AddressPolicy.trusting([url])
    request_headers = {"User-Agent": USER_AGENT}
    request_headers.update(headers or {})
    first = url
    try:
        async with asyncio.timeout(deadline):
            for _ in range(MAX_REDIRECTS + 1):
                await policy.check(url, source)
                response = await _get(client, url, source=source, headers=request_headers, max_bytes=max_bytes)
                if not follow_redirects or response.status not in _REDIRECTS or not response.location:
                    return response
                url = redirect_target(url, response.location, source)
    except httpx.TimeoutException as exc:
        raise SourceNetworkError(source, f"timed out fetching {redact(url)}") from exc
    except TimeoutError as exc:
        raise SourceNetworkError(
            source, f"gave up on {redact(url)} after {deadline:.0f}s: the server sends too slowly"
        ) from exc
    except httpx.RemoteProtocolError as exc:
        raise SourceNetworkError(
            source, f"the connection to {redact(url)} broke off mid-response: {redact(str(exc))}"
        ) from exc
    except httpx.DecodingError as exc:
        raise SourceError(source, f"could not decode the response from {redact(url)}: {exc}") from exc
    except httpx.TransportError as exc:
        raise SourceNetworkError(
            source, f"cannot reach {redact(url)}: {redact(str(exc)) or type(exc).__name__}"
        ) from exc
    except httpx.InvalidURL as exc:
        raise SourceError(source, f"invalid URL {redact(url)!r}: {redact(str(exc))}") from exc
    raise SourceNetworkError(source, f"more than {MAX_REDIRECTS} redirects fetching {redact(first)}")


async def _get(
    client: httpx.AsyncClient, url: str, *, source: str, headers: dict[str, str], max_bytes: int
) -> HTTPResponse:
    """One request, no redirects followed, body read under the cap."""
    shown = redact(url)
    async with client.stream("GET", url, headers=headers, follow_redirects=False) as response:
        status = response.status_code
        if status in (429, 503):
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise SourceRateLimited(
                source,
                f"HTTP {status} from {shown}"
                + (f"; retrying after {retry_after:.0f}s" if retry_after is not None else ""),
                status=status,
                retry_after=retry_after,
            )
        if status >= 400:
            raise SourceHTTPError(source, f"HTTP {status} from {shown}", status=status)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise SourceError(source, f"response from {shown} is larger than {max_bytes} bytes; refused")
            chunks.append(chunk)
        return HTTPResponse(str(response.url), status, response.headers, b"".join(chunks))
