"""A thin async client for the Telegram Bot API, over httpx.

Every call goes through `BotAPI._call`, the one place where HTTP replies and httpx errors
become `BotAPIError`s. The token is part of every URL (``/bot<token>/<method>``), so it is
redacted from exception messages and from httpx's request log lines.

    async with BotAPI(token, api_url=config.api_url, limiter=SendLimiter(29)) as api:
        me = await api.get_me()
        msg = await api.send_message(chat_id, "<b>Удар</b>")

Every message sent or edited waits for its turn in the `SendLimiter` given (Telegram's 30 a
second overall, one a second per chat), and a 429 pauses and slows all of them: pacing is part
of the send path, so no caller can forget it.
"""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Sequence
from typing import Any

import httpx

from bot.ratelimit import SendLimiter
from dsns.errors import DsnsError
from dsns.redact import redact, register_secret

__all__ = [
    "BotAPI",
    "BotAPIError",
    "RetryAfter",
    "Forbidden",
    "BadRequest",
    "TooLarge",
    "Unauthorized",
    "ServerError",
    "NetworkError",
]

DEFAULT_API_URL = "https://api.telegram.org"
# Long polls are held open by Telegram for `timeout` seconds; the HTTP read timeout must
# outlast that or every quiet poll would end as a spurious NetworkError.
_LONG_POLL_MARGIN = 10.0
_DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)


class BotAPIError(DsnsError):
    """A Bot API call failed. `error_code` is Telegram's (or the HTTP status), None for network errors."""

    label = "Bot API error"

    def __init__(
        self,
        method: str,
        description: str,
        *,
        error_code: int | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        prefix = f"{method}: " + (f"{error_code} " if error_code is not None else "")
        super().__init__(prefix + description)
        self.method = method
        self.description = description
        self.error_code = error_code
        self.parameters = parameters or {}


class RetryAfter(BotAPIError):
    """429 Too Many Requests: every send should pause for `retry_after` seconds."""

    def __init__(self, method: str, description: str, *, retry_after: float, **kw: Any) -> None:
        super().__init__(method, description, **kw)
        self.retry_after = retry_after


class Forbidden(BotAPIError):
    """403: the bot was blocked by the user, the user is deactivated, or the bot was kicked."""


class BadRequest(BotAPIError):
    """400: the request itself is wrong (bad markup, chat not found, message not modified…)."""

    @property
    def not_modified(self) -> bool:
        """True for the benign "message is not modified" answer to an edit with the same content."""
        return "message is not modified" in self.description.lower()


class TooLarge(BotAPIError):
    """413 Request Entity Too Large: an upload over Telegram's size limit; retrying cannot help."""


class Unauthorized(BotAPIError):
    """401 (or 404 for the whole bot path): the token is wrong, or `api_url` points elsewhere."""


class ServerError(BotAPIError):
    """5xx or a reply that is not the Bot API's JSON: retry later with backoff."""


class NetworkError(BotAPIError):
    """The API could not be reached (connection refused, DNS, timeout): retry with backoff."""


class _RedactFilter(logging.Filter):
    """Strips bot tokens from httpx's "HTTP Request: POST https://…/bot<token>/…" log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_log_filter = _RedactFilter()
logging.getLogger("httpx").addFilter(_log_filter)


class BotAPI:
    """Calls Bot API methods and returns their `result`; raises `BotAPIError` subclasses.

    Pass `client` to share a connection pool (it is then not closed by `aclose`), or `tls` to
    share the process's certificate store with the client made here.
    """

    def __init__(
        self,
        token: str,
        api_url: str = DEFAULT_API_URL,
        client: httpx.AsyncClient | None = None,
        limiter: SendLimiter | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        if not token:
            raise ValueError("a bot token is required")
        self.limiter = limiter
        self._token = token
        self._base = f"{api_url.rstrip('/')}/bot{token}/"
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=_DEFAULT_TIMEOUT, verify=True if tls is None else tls)
        register_secret(token)

    def __repr__(self) -> str:
        return f"BotAPI({redact(self._base)!r})"

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._own_client:
            await self._client.aclose()

    async def __aenter__(self) -> BotAPI:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- methods ----------------------------------------------------------------------------

    async def get_me(self) -> dict[str, Any]:
        """The bot's own User object (checks the token)."""
        return await self._call("getMe", {})

    async def get_updates(
        self,
        offset: int | None = None,
        timeout: int = 30,
        allowed_updates: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Long-poll for updates with update_id >= `offset`, waiting up to `timeout` seconds.

        Passing `offset` confirms (and makes Telegram forget) every earlier update.
        """
        params = {
            "offset": offset,
            "timeout": timeout,
            "allowed_updates": list(allowed_updates) if allowed_updates is not None else None,
            "limit": limit,
        }
        http_timeout = httpx.Timeout(timeout + _LONG_POLL_MARGIN, connect=10.0)
        return await self._call("getUpdates", params, timeout=http_timeout)

    async def send_message(
        self,
        chat_id: int | str,
        text: str,
        reply_markup: dict[str, Any] | None = None,
        parse_mode: str | None = "HTML",
        disable_web_page_preview: bool = True,
        *,
        disable_notification: bool = False,
        reply_to: int | None = None,
    ) -> dict[str, Any]:
        """Send a text message (≤ 4096 characters after entity parsing); returns the Message.
        `disable_notification`: it arrives without sound; `reply_to`: a message it answers (sent
        anyway when that one was deleted)."""
        params = {
            "chat_id": chat_id,
            "text": text,
            "parse_mode": parse_mode,
            "reply_markup": reply_markup,
            # link_preview_options replaced disable_web_page_preview in Bot API 7.0; the old
            # field is still accepted, and fakes and older self-hosted servers know only it.
            "disable_web_page_preview": disable_web_page_preview or None,
            "disable_notification": disable_notification or None,
            "reply_parameters": {"message_id": reply_to, "allow_sending_without_reply": True} if reply_to else None,
        }
        return await self._send(chat_id, "sendMessage", params)

    async def send_photo(
        self,
        chat_id: int | str,
        photo: bytes | str,
        caption: str | None = None,
        parse_mode: str | None = "HTML",
        reply_markup: dict[str, Any] | None = None,
        *,
        content_type: str = "image/jpeg",
        filename: str = "photo.jpg",
        disable_notification: bool = False,
    ) -> dict[str, Any]:
        """Send a photo: `bytes` are uploaded as multipart, labelled `content_type` and `filename`;
        a `str` is a file_id or an HTTP URL."""
        params: dict[str, Any] = {
            "chat_id": chat_id,
            "caption": caption,
            "parse_mode": parse_mode if caption else None,
            "reply_markup": reply_markup,
            "disable_notification": disable_notification or None,
        }
        if isinstance(photo, bytes):
            return await self._send(chat_id, "sendPhoto", params, files={"photo": (filename, photo, content_type)})
        params["photo"] = photo
        return await self._send(chat_id, "sendPhoto", params)

    async def edit_message_text(
        self,
        chat_id: int | str,
        message_id: int,
        text: str,
        reply_markup: dict[str, Any] | None = None,
        parse_mode: str | None = "HTML",
        disable_web_page_preview: bool = True,
    ) -> dict[str, Any] | bool:
        """Replace a message's text; raises BadRequest with `.not_modified` when nothing changed."""
        params = {
            "chat_id": chat_id,
            "message_id": message_id,
            "text": text,
            "parse_mode": parse_mode,
            "reply_markup": reply_markup,
            "disable_web_page_preview": disable_web_page_preview or None,
        }
        return await self._send(chat_id, "editMessageText", params)

    async def edit_message_caption(
        self,
        chat_id: int | str,
        message_id: int,
        caption: str,
        reply_markup: dict[str, Any] | None = None,
        parse_mode: str | None = "HTML",
    ) -> dict[str, Any] | bool:
        """Replace a photo message's caption (≤ 1024 characters after entity parsing)."""
        params = {
            "chat_id": chat_id,
            "message_id": message_id,
            "caption": caption,
            "parse_mode": parse_mode,
            "reply_markup": reply_markup,
        }
        return await self._send(chat_id, "editMessageCaption", params)

    async def answer_callback_query(
        self,
        callback_query_id: str,
        text: str | None = None,
        show_alert: bool = False,
    ) -> bool:
        """Acknowledge a button press (stops the client's spinner), optionally with a notice."""
        params = {"callback_query_id": callback_query_id, "text": text, "show_alert": show_alert or None}
        return await self._call("answerCallbackQuery", params)

    async def set_my_commands(
        self,
        commands: Sequence[tuple[str, str]] | Sequence[dict[str, str]],
        language_code: str | None = None,
    ) -> bool:
        """Set the command menu: `[("start", "Почати"), …]` or BotCommand dicts."""
        items = [c if isinstance(c, dict) else {"command": c[0], "description": c[1]} for c in commands]
        return await self._call("setMyCommands", {"commands": items, "language_code": language_code})

    async def get_chat(self, chat_id: int | str) -> dict[str, Any]:
        """A chat by id or "@username" (a channel's numeric id, its type and title)."""
        return await self._call("getChat", {"chat_id": chat_id})

    async def get_chat_member(self, chat_id: int | str, user_id: int) -> dict[str, Any]:
        """A user's membership of a chat: "status" is creator, administrator, member, left…"""
        return await self._call("getChatMember", {"chat_id": chat_id, "user_id": user_id})

    # --- the one edge --------------------------------------------------------------------------

    async def _send(
        self, chat_id: int | str, method: str, params: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> Any:
        """A message sent or edited: paced by the limiter, which a 429 pauses and slows."""
        if self.limiter is None:
            return await self._call(method, params, files=files)
        async with self.limiter.slot(chat_id):
            try:
                return await self._call(method, params, files=files)
            except RetryAfter as exc:
                self.limiter.pause(exc.retry_after)
                raise

    async def _call(
        self,
        method: str,
        params: dict[str, Any],
        *,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> Any:
        params = {k: v for k, v in params.items() if v is not None}
        kwargs: dict[str, Any] = {}
        if files:
            # multipart fields are strings: objects travel JSON-serialized, as the API expects
            kwargs["data"] = {
                k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in params.items()
            }
            kwargs["files"] = files
        else:
            kwargs["json"] = params
        if timeout is not None:
            kwargs["timeout"] = timeout
        try:
            response = await self._client.post(self._base + method, **kwargs)
        except httpx.TimeoutException as exc:
            raise NetworkError(method, f"timed out ({type(exc).__name__})") from self._scrub(exc)
        except httpx.TransportError as exc:
            detail = redact(str(exc)) or type(exc).__name__
            raise NetworkError(method, f"cannot reach the Bot API: {detail}") from self._scrub(exc)
        except httpx.InvalidURL as exc:
            raise BotAPIError(method, f"invalid api_url: {redact(str(exc))}") from self._scrub(exc)
        return self._result(method, response)

    def _scrub(self, exc: BaseException) -> BaseException:
        # tracebacks print the cause's args; httpx may put the request URL (with the token) there
        exc.args = tuple(redact(a) if isinstance(a, str) else a for a in exc.args)
        return exc

    def _result(self, method: str, response: httpx.Response) -> Any:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "ok" not in body:
            # a proxy's HTML error page, or something that is not the Bot API at all
            description = f"HTTP {status}: not a Bot API reply"
            if status == 429:
                retry_after = _seconds(response.headers.get("retry-after"))
                raise RetryAfter(method, description, retry_after=retry_after, error_code=status)
            cls = ServerError if status >= 500 or status < 400 else _class_for(status)
            raise cls(method, description, error_code=status)
        if body.get("ok"):
            return body.get("result")
        code = int(body.get("error_code") or status)
        description = redact(str(body.get("description") or f"HTTP {status}"))
        parameters = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
        if code == 429:
            retry_after = _seconds(parameters.get("retry_after") or response.headers.get("retry-after"))
            raise RetryAfter(method, description, retry_after=retry_after, error_code=code, parameters=parameters)
        if code in (401, 404):
            description += " (check the bot token and [bot] api_url)"
        raise _class_for(code)(method, description, error_code=code, parameters=parameters)


def _class_for(code: int) -> type[BotAPIError]:
    if code == 400:
        return BadRequest
    if code in (401, 404):
        return Unauthorized
    if code == 403:
        return Forbidden
    if code == 413:
        return TooLarge
    if code >= 500:
        return ServerError
    return BotAPIError


def _seconds(value: object) -> float:
    # a 429 without a usable delay still pauses a little rather than hammering on
    try:
        return max(0.0, float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1.0
