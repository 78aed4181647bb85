"""The one place where httpx errors become `SourceError`s.

Every collector fetches through `fetch()`, which streams the body under a size cap, answers
the questions a poller asks of a response (not modified? rate limited? retry after when?)
and raises errors whose messages say what went wrong and for which source.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from dataclasses import dataclass

import httpx

from collectors.base import (
    SourceError,
    SourceHTTPError,
    SourceNetworkError,
    SourceRateLimited,
)

__all__ = ["HTTPResponse", "fetch", "parse_retry_after", "USER_AGENT", "DEFAULT_MAX_BYTES"]

USER_AGENT = "dsns-monitor/0.1 (+https://github.com/dsns-monitor)"
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


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
) -> HTTPResponse:
    """GET `url`, returning 2xx, 3xx (when not following) and 304 responses.

    Raises `SourceRateLimited` for 429/503, `SourceHTTPError` for other errors,
    `SourceNetworkError` for transport failures, and `SourceError` when the body
    exceeds `max_bytes` (a gzip bomb is stopped by the same cap, since it counts
    decoded bytes). `deadline` bounds the whole exchange (default: three times the client's
    read timeout): httpx's timeouts count per read, so a server trickling a byte a second
    would otherwise hold a poll for hours.
    """
    if deadline is None and client.timeout.read is not None:
        deadline = 3 * client.timeout.read
    request_headers = {"User-Agent": USER_AGENT}
    request_headers.update(headers or {})
    try:
        async with asyncio.timeout(deadline), client.stream(
            "GET", url, headers=request_headers, follow_redirects=follow_redirects
        ) as response:
            status = response.status_code
            if status in (429, 503):
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                raise SourceRateLimited(
                    source,
                    f"HTTP {status} from {url}"
                    + (f"; retrying after {retry_after:.0f}s" if retry_after is not None else ""),
                    status=status,
                    retry_after=retry_after,
                )
            if status >= 400:
                raise SourceHTTPError(source, f"HTTP {status} from {url}", status=status)
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise SourceError(
                        source, f"response from {url} is larger than {max_bytes} bytes; refused"
                    )
                chunks.append(chunk)
            return HTTPResponse(str(response.url), status, response.headers, b"".join(chunks))
    except httpx.TimeoutException as exc:
        raise SourceNetworkError(source, f"timed out fetching {url}") from exc
    except TimeoutError as exc:
        raise SourceNetworkError(
            source, f"gave up on {url} after {deadline:.0f}s: the server sends too slowly"
        ) from exc
    except httpx.RemoteProtocolError as exc:
        raise SourceNetworkError(source, f"the connection to {url} broke off mid-response: {exc}") from exc
    except httpx.TooManyRedirects as exc:
        raise SourceNetworkError(source, f"too many redirects fetching {url}") from exc
    except httpx.DecodingError as exc:
        raise SourceError(source, f"could not decode the response from {url}: {exc}") from exc
    except httpx.TransportError as exc:
        raise SourceNetworkError(
            source, f"cannot reach {url}: {exc or type(exc).__name__}"
        ) from exc
    except httpx.InvalidURL as exc:
        raise SourceError(source, f"invalid URL {url!r}: {exc}") from exc
