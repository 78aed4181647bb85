"""A fake Telegram Bot API for tests: serve `FakeBotAPI.route` with `tests.fakes.server.serve`.

    fake = FakeBotAPI()
    with serve(fake.route) as server:
        api = BotAPI(fake.token, api_url=server.url)
        fake.user_says(111, "/subscribe Харківщина")
        updates = await api.get_updates(offset=0, timeout=5)     # long polls like Telegram
        await api.send_message(111, "Підписано")
        assert fake.sent[-1]["text"] == "Підписано"
        fake.block(222)                  # → 403 "Forbidden: bot was blocked by the user"
        fake.max_per_second = 30         # → 429 with retry_after above 30 sends in any second
        fake.group_per_window = 20       # → 429 above 20 sends to one group or channel in any
        fake.group_window = 60.0         #   `group_window` seconds (Telegram's 20 a minute)
        fake.fail_next(2, status=500)    # the next two non-getUpdates calls fail
        fake.refuse_photos(1, status=413)  # the next sendPhoto: 413 "Request Entity Too Large"
        fake.sent[-1]["photo_type"]      # an upload's Content-Type ("image/png"), and "photo_filename"
        fake.sent[-1]["silent"], fake.sent[-1]["reply_to"]  # disable_notification, reply_parameters
        fake.add_channel("@alerts", -1001, admin=False)   # getChat / getChatMember of the bot there
        fake.set_channel_admin(-1001, True)  # its admins add the bot later (or remove it)
        fake.group_says(-100, 111, "/subscribe@dsns_monitor_bot Балаклія")  # in a supergroup
        fake.set_member(-100, 111, "administrator")  # what getChatMember answers (default "member")
        fake.user_shares_location(111, 49.83, 36.68)

Replies have Telegram's shape (``{"ok": false, "error_code": 429, "description": "Too Many
Requests: retry after 1", "parameters": {"retry_after": 1}}``). Requests may be JSON, form
or multipart (sendPhoto uploads), as with the real API. HTML in text and captions is checked
as Telegram does (unknown tags, unescaped ``<`` or ``&``), so an escaping bug is a 400.
Thread-safe: the server's threads serve it while the test changes it.
"""

from __future__ import annotations

import email.parser
import email.policy
import html
import json
import math
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.server import Reply, Request

__all__ = ["FakeBotAPI", "DEFAULT_TOKEN", "check_html"]

DEFAULT_TOKEN = "123456789:AAFakeTokenForTests-0123456789abcdef"
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]{30,}$")
_SEND_METHODS = {"sendMessage", "sendPhoto", "editMessageText", "editMessageCaption"}
_METHODS = _SEND_METHODS | {"getMe", "getUpdates", "answerCallbackQuery", "setMyCommands", "getChat", "getChatMember"}
_ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "blockquote", "tg-spoiler", "span", "tg-emoji",
}
_TAG_OR_ENTITY = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>|&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);|[<>&]")
# Telegram's limit on an uploaded photo; over it the upload is answered 413.
PHOTO_MAX_BYTES = 10 * 1024 * 1024
_PHOTO_REFUSALS = {400: "Bad Request: PHOTO_INVALID_DIMENSIONS", 413: "Request Entity Too Large"}
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


def check_html(markup: str) -> tuple[str | None, str]:
    """Parse Telegram HTML: (error or None, visible text). Only Telegram's tags and entities pass."""
    stack: list[str] = []
    visible: list[str] = []
    pos = 0
    for m in _TAG_OR_ENTITY.finditer(markup):
        visible.append(markup[pos : m.start()])
        pos = m.end()
        closing, tag, entity = m.group(1), m.group(2), m.group(4)
        if tag is not None:
            tag = tag.lower()
            if tag not in _ALLOWED_TAGS:
                where = f"Unsupported start tag \"{tag}\" at byte offset {m.start()}"
                return f"Bad Request: can't parse entities: {where}", ""
            if closing:
                if not stack or stack.pop() != tag:
                    return f"Bad Request: can't parse entities: Unexpected end tag at byte offset {m.start()}", ""
            else:
                stack.append(tag)
        elif entity is not None:
            visible.append(html.unescape(m.group(0)))
        else:
            char = m.group(0)
            if char == ">":  # Telegram tolerates a bare ">"
                visible.append(char)
                continue
            what = "Unsupported start tag" if char == "<" else "Character entity expected"
            return f"Bad Request: can't parse entities: {what} at byte offset {m.start()}", ""
    if stack:
        return f"Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\"", ""
    visible.append(markup[pos:])
    return None, "".join(visible)


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Fault:
    status: int
    description: str | None
    method: str | None
    retry_after: int | None
    delay: float


class _Error(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


class FakeBotAPI:
    """An in-memory Bot API: records what the bot sends, queues what users say and click."""

    def __init__(self, token: str = DEFAULT_TOKEN, *, username: str = "dsns_monitor_bot") -> None:
        self.token = token
        self.username = username
        self.bot_id = int(token.split(":", 1)[0])
        self.max_per_second: int | None = None
        self.group_per_window: int | None = None
        self.group_window = 60.0
        self._group_sends: dict[int, deque[float]] = {}
        self.retry_after = 1
        self.too_many = 0
        self._cond = threading.Condition()
        self._sent: list[dict[str, Any]] = []
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._next_message_id = 1
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._answered: list[dict[str, Any]] = []
        self._commands: dict[str, list[dict[str, str]]] = {}
        self._blocked: set[int] = set()
        self._faults: list[_Fault] = []
        self._window: deque[float] = deque()
        self._allowed_updates: list[str] | None = None
        self._closed = False
        self.calls: Counter[str] = Counter()
        self._channels: dict[str, int] = {}  # "@username" → chat id
        self._admin_of: set[int] = set()  # channels where the bot is an administrator
        self._members: dict[tuple[int, int], str] = {}
        self._chat_types: dict[int, str] = {}

    # --- what the test sees ----------------------------------------------------------------------

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Every accepted send and edit, oldest first (a snapshot): chat_id, method, message_id, text/caption…"""
        with self._cond:
            return list(self._sent)

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        """The accepted sends and edits addressed to one chat."""
        return [m for m in self.sent if m["chat_id"] == chat_id]

    @property
    def answered(self) -> list[dict[str, Any]]:
        """answerCallbackQuery calls: callback_query_id, text, show_alert."""
        with self._cond:
            return list(self._answered)

    def commands(self, language_code: str = "") -> list[dict[str, str]]:
        """The command list last set with setMyCommands for `language_code` ("" = default)."""
        with self._cond:
            return list(self._commands.get(language_code, []))

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a getUpdates offset."""
        with self._cond:
            return list(self._updates)

    def wait_sent(self, count: int, timeout: float = 5.0) -> bool:
        """Block (in a thread) until at least `count` messages were accepted; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self._sent) >= count, timeout)

    # --- what the test does ------------------------------------------------------------------------

    def user_says(
        self,
        chat_id: int,
        text: str,
        language_code: str = "uk",
        first_name: str = "Олена",
        username: str | None = None,
    ) -> dict[str, Any]:
        """Queue a private message from user `chat_id`; returns the update."""
        with self._cond:
            message: dict[str, Any] = {
                "message_id": self._take_message_id(), "date": int(time.time()), "text": text,
                "from": self._user(chat_id, language_code, first_name, username),
                "chat": {"id": chat_id, "type": "private", "first_name": first_name}}
            if text.startswith("/"):
                command = text.split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16(command)}]
            return self._queue({"message": message})

    def group_says(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        chat_type: str = "supergroup",
        language_code: str = "uk",
        anonymous: bool = False,
    ) -> dict[str, Any]:
        """Queue a message in group `chat_id` from member `user_id`; `anonymous`: from an
        anonymous administrator (Telegram sends it as from the group, with `sender_chat`)."""
        with self._cond:
            self._chat_types[chat_id] = chat_type
            chat = {"id": chat_id, "type": chat_type, "title": "Будинок 5"}
            message: dict[str, Any] = {"message_id": self._take_message_id(), "date": int(time.time()), "text": text,
                                       "chat": chat}
            if anonymous:
                message["from"] = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
                message["sender_chat"] = dict(chat)
            else:
                message["from"] = self._user(user_id, language_code, "Олена", None)
            if text.startswith("/"):
                command = text.split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": _utf16(command)}]
            return self._queue({"message": message})

    def user_shares_location(
        self, chat_id: int, latitude: float, longitude: float, language_code: str = "uk"
    ) -> dict[str, Any]:
        """Queue a location shared in a private chat (📎 → Location)."""
        with self._cond:
            message = {"message_id": self._take_message_id(), "date": int(time.time()),
                       "from": self._user(chat_id, language_code, "Олена", None),
                       "chat": {"id": chat_id, "type": "private", "first_name": "Олена"},
                       "location": {"latitude": latitude, "longitude": longitude}}
            return self._queue({"message": message})

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        """What getChatMember answers for `user_id` in `chat_id`: creator, administrator, member…"""
        with self._cond:
            self._members[(chat_id, user_id)] = status

    def user_clicks(
        self,
        chat_id: int,
        data: str,
        message_id: int,
        language_code: str = "uk",
        first_name: str = "Олена",
        user_id: int | None = None,
    ) -> str:
        """Queue a press of an inline button with `data` under message `message_id`; returns the query id."""
        with self._cond:
            query_id = f"cbq-{self._next_update_id}"
            stored = self._messages.get((chat_id, message_id))
            message = dict(stored["message"]) if stored else {
                "message_id": message_id, "chat": {"id": chat_id, "type": "private"}, "date": int(time.time())}
            query = {"id": query_id, "from": self._user(user_id or chat_id, language_code, first_name, None),
                     "message": message, "chat_instance": str(chat_id), "data": data}
            self._callbacks[query_id] = query
            self._queue({"callback_query": query})
            return query_id

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: sends to `chat_id` answer 403."""
        with self._cond:
            self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """The user restarts the bot."""
        with self._cond:
            self._blocked.discard(chat_id)

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        *,
        description: str | None = None,
        method: str | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
    ) -> None:
        """Make the next `n` calls of `method` (default: any method but getUpdates) fail with `status`."""
        with self._cond:
            self._faults.extend(_Fault(status, description, method, retry_after, delay) for _ in range(n))

    def refuse_photos(self, n: int = 1, status: int = 400) -> None:
        """Refuse the next `n` sendPhoto calls as Telegram refuses a photo it will not take:
        400 "Bad Request: PHOTO_INVALID_DIMENSIONS" or 413 "Request Entity Too Large"."""
        self.fail_next(n, status, description=_PHOTO_REFUSALS[status], method="sendPhoto")

    def add_channel(self, username: str, chat_id: int, *, admin: bool) -> None:
        """A channel getChat finds by `username`; the bot may post there only when `admin`."""
        with self._cond:
            self._channels[username] = chat_id
            if admin:
                self._admin_of.add(chat_id)

    def set_channel_admin(self, chat_id: int, admin: bool) -> None:
        """The channel's admins add the bot as an administrator allowed to post, or remove it."""
        with self._cond:
            if admin:
                self._admin_of.add(chat_id)
            else:
                self._admin_of.discard(chat_id)

    def close(self) -> None:
        """Release every pending long poll now (call before stopping the server)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    # --- serving ------------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        """The request handler to pass to `tests.fakes.server.serve`."""
        parts = request.path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("bot") or parts[1] not in _METHODS:
            return _reply(404, "Not Found")
        token, method = parts[0][3:], parts[1]
        if token != self.token:
            # Telegram: a well-formed but wrong token is 401, a malformed one 404
            return _reply(401, "Unauthorized") if _TOKEN_SHAPE.match(token) else _reply(404, "Not Found")
        try:
            params = _params(request)
        except ValueError as exc:
            return _reply(400, f"Bad Request: {exc}")
        with self._cond:
            self.calls[method] += 1
            fault = next((f for f in self._faults if f.method in (method, None)
                          and (f.method or method != "getUpdates")), None)
            if fault is not None:
                self._faults.remove(fault)
        if fault is not None:
            description = fault.description or {400: "Bad Request: wrong parameters", 403: "Forbidden",
                                                 413: _PHOTO_REFUSALS[413],
                                                 429: "Too Many Requests"}.get(fault.status, "Internal Server Error")
            retry = fault.retry_after if fault.status == 429 else None
            if retry is not None:
                description = f"Too Many Requests: retry after {retry}"
            return _reply(fault.status, description, retry_after=retry, delay=fault.delay)
        try:
            if method == "getUpdates":
                return _ok(self._get_updates(params))
            with self._cond:
                return _ok(self._handle(method, params))
        except _Error as exc:
            return _reply(exc.code, exc.description, retry_after=exc.retry_after)

    def _handle(self, method: str, p: dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": self.bot_id, "is_bot": True, "first_name": "DSNS Monitor", "username": self.username,
                    "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}
        if method == "setMyCommands":
            commands = _json_field(p, "commands")
            if not isinstance(commands, list):
                raise _Error(400, "Bad Request: field \"commands\" must be an Array")
            self._commands[p.get("language_code") or ""] = commands
            return True
        if method == "answerCallbackQuery":
            query_id = str(p.get("callback_query_id", ""))
            if query_id not in self._callbacks:
                raise _Error(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
            del self._callbacks[query_id]
            self._answered.append({"callback_query_id": query_id, "text": p.get("text"),
                                   "show_alert": _flag(p.get("show_alert"))})
            return True
        if method in ("getChat", "getChatMember"):
            return self._chat_info(method, p)
        chat_id = _chat_id(p)
        if chat_id in self._channels.values() and chat_id not in self._admin_of:
            raise _Error(403, "Forbidden: bot is not a member of the channel chat")
        if chat_id in self._blocked:
            raise _Error(403, "Forbidden: bot was blocked by the user")
        self._rate_check()
        if chat_id < 0:
            self._group_check(chat_id)
        if method == "sendMessage":
            return self._send(method, chat_id, p, "text", 4096)
        if method == "sendPhoto":
            if not p.get("photo"):
                raise _Error(400, "Bad Request: there is no photo in the request")
            if isinstance(p["photo"], bytes) and len(p["photo"]) > PHOTO_MAX_BYTES:
                raise _Error(413, _PHOTO_REFUSALS[413])
            return self._send(method, chat_id, p, "caption", 1024)
        return self._edit(method, chat_id, p)

    def _chat_info(self, method: str, p: dict[str, Any]) -> dict[str, Any]:
        ref = p.get("chat_id")
        chat_id = self._channels.get(ref) if isinstance(ref, str) and ref.startswith("@") else _chat_id(p)
        if chat_id is None:
            raise _Error(400, "Bad Request: chat not found")
        if method == "getChat":
            name = next((n for n, i in self._channels.items() if i == chat_id), None)
            kind = "channel" if name else "private"
            return {"id": chat_id, "type": kind, **({"title": name, "username": name[1:]} if name else {})}
        user = int(p.get("user_id") or 0)
        if user == self.bot_id:
            status = "administrator" if chat_id in self._admin_of else "left"
        else:  # a group's member as set_member made them; anyone else is a plain member
            status = self._members.get((chat_id, user), "member")
        member: dict[str, Any] = {"status": status, "user": {"id": user, "is_bot": user == self.bot_id}}
        if status == "administrator":
            member["can_post_messages"] = True
        return member

    def _send(self, method: str, chat_id: int, p: dict[str, Any], field: str, limit: int) -> dict[str, Any]:
        content = self._content(p, field, limit, required=method == "sendMessage")
        message: dict[str, Any] = {
            "message_id": self._take_message_id(), "date": int(time.time()),
            "chat": {"id": chat_id, "type": self._chat_types.get(chat_id, "private")},
            "from": {"id": self.bot_id, "is_bot": True, "first_name": "DSNS Monitor", "username": self.username}}
        if field == "text":
            message["text"] = content
        else:
            file_id = f"photo-{message['message_id']}"
            message["photo"] = [{"file_id": file_id, "file_unique_id": file_id, "width": 8, "height": 8}]
            if content:
                message["caption"] = content
        markup = _json_field(p, "reply_markup")
        if markup:
            message["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = {"message": message, "kind": field,
                                                             "markup": markup, "raw": p.get(field)}
        self._record(method, chat_id, message["message_id"], p, field, markup)
        return message

    def _edit(self, method: str, chat_id: int, p: dict[str, Any]) -> dict[str, Any]:
        field, limit = ("text", 4096) if method == "editMessageText" else ("caption", 1024)
        try:
            message_id = int(p.get("message_id", 0))
        except (TypeError, ValueError):
            raise _Error(400, "Bad Request: message identifier is not specified") from None
        stored = self._messages.get((chat_id, message_id))
        if stored is None:
            raise _Error(400, "Bad Request: message to edit not found")
        if stored["kind"] != field:
            raise _Error(400, f"Bad Request: there is no {field} in the message to edit")
        content = self._content(p, field, limit, required=field == "text")
        markup = _json_field(p, "reply_markup")
        if p.get(field) == stored["raw"] and markup == stored["markup"]:
            raise _Error(400, _NOT_MODIFIED)
        message = dict(stored["message"], edit_date=int(time.time()))
        message[field] = content
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        stored.update(message=message, markup=markup, raw=p.get(field))
        self._record(method, chat_id, message_id, p, field, markup)
        return message

    def _content(self, p: dict[str, Any], field: str, limit: int, *, required: bool) -> str:
        raw = p.get(field) or ""
        if required and not raw.strip():
            raise _Error(400, "Bad Request: message text is empty")
        visible = raw
        if (p.get("parse_mode") or "").upper() == "HTML":
            error, visible = check_html(raw)
            if error:
                raise _Error(400, error)
        if _utf16(visible) > limit:
            what = "message" if field == "text" else "message caption"
            raise _Error(400, f"Bad Request: {what} is too long")
        return visible

    def _record(self, method: str, chat_id: int, message_id: int, p: dict[str, Any], field: str, markup: Any) -> None:
        entry = {"method": method, "chat_id": chat_id, "message_id": message_id, field: p.get(field),
                 "reply_markup": markup, "parse_mode": p.get("parse_mode"), "at": time.monotonic()}
        if method in ("sendMessage", "sendPhoto"):
            entry["silent"] = _flag(p.get("disable_notification"))
            reply = _json_field(p, "reply_parameters")
            entry["reply_to"] = reply.get("message_id") if isinstance(reply, dict) else None
        if method == "sendPhoto":
            entry["photo"] = p.get("photo")
            entry["photo_filename"], entry["photo_type"] = p.get("_uploads", {}).get("photo", (None, None))
        self._sent.append(entry)
        self._cond.notify_all()

    def _rate_check(self) -> None:
        if self.max_per_second is None:
            return
        now = time.monotonic()
        while self._window and self._window[0] <= now - 1.0:
            self._window.popleft()
        if len(self._window) >= self.max_per_second:
            self.too_many += 1
            raise _Error(429, f"Too Many Requests: retry after {self.retry_after}", retry_after=self.retry_after)
        self._window.append(now)

    def _group_check(self, chat_id: int) -> None:
        if self.group_per_window is None:
            return
        now = time.monotonic()
        window = self._group_sends.setdefault(chat_id, deque())
        while window and window[0] <= now - self.group_window:
            window.popleft()
        if len(window) >= self.group_per_window:
            self.too_many += 1
            retry = max(1, math.ceil(window[0] + self.group_window - now))
            raise _Error(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        window.append(now)

    def _get_updates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(p.get("offset") or 0)
        timeout = min(float(p.get("timeout") or 0), 50.0)
        limit = max(1, min(int(p.get("limit") or 100), 100))
        allowed = _json_field(p, "allowed_updates")
        deadline = time.monotonic() + timeout
        with self._cond:
            if isinstance(allowed, list):
                self._allowed_updates = allowed or None  # Telegram remembers the last setting
            if offset > 0:  # confirms everything before it
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            # waits on the condition (woken by user_says/user_clicks/close) rather than spinning
            while not self._closed:
                ready = [u for u in self._updates if self._wanted(u)]
                if ready:
                    return ready[:limit]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(min(remaining, 0.05))
            return []

    def _wanted(self, update: dict[str, Any]) -> bool:
        return self._allowed_updates is None or any(k in update for k in self._allowed_updates)

    # --- helpers (called with the lock held) ---------------------------------------------------

    def _queue(self, body: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": self._next_update_id, **body}
        self._next_update_id += 1
        self._updates.append(update)
        self._cond.notify_all()
        return update

    def _take_message_id(self) -> int:
        self._next_message_id += 1
        return self._next_message_id - 1

    @staticmethod
    def _user(chat_id: int, language_code: str, first_name: str, username: str | None) -> dict[str, Any]:
        user = {"id": chat_id, "is_bot": False, "first_name": first_name, "language_code": language_code}
        if username:
            user["username"] = username
        return user


def _ok(result: Any) -> Reply:
    return Reply(200, json.dumps({"ok": True, "result": result}, ensure_ascii=False), content_type="application/json")


def _reply(status: int, description: str, *, retry_after: int | None = None, delay: float = 0.0) -> Reply:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return Reply(status, json.dumps(body), content_type="application/json", delay=delay)


def _params(request: Request) -> dict[str, Any]:
    """Parameters from the query string, a JSON body, a form or a multipart body (files as bytes)."""
    params: dict[str, Any] = dict(request.query)
    ctype = request.headers.get("content-type", "")
    if not request.body:
        return params
    if ctype.startswith("application/json"):
        body = json.loads(request.body)
        if not isinstance(body, dict):
            raise ValueError("JSON body must be an object")
        params.update(body)
    elif ctype.startswith("application/x-www-form-urlencoded"):
        params.update({k: v[-1] for k, v in parse_qs(request.body.decode()).items()})
    elif ctype.startswith("multipart/form-data"):
        head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
        if not message.is_multipart():
            raise ValueError("can't parse multipart body")
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                params[name] = payload
                params.setdefault("_uploads", {})[name] = (part.get_filename(), part.get_content_type())
            else:
                params[name] = payload.decode()
    return params


def _json_field(p: dict[str, Any], name: str) -> Any:
    value = p.get(name)
    if isinstance(value, str):  # form and multipart carry objects JSON-serialized
        try:
            return json.loads(value)
        except ValueError:
            raise _Error(400, f"Bad Request: can't parse {name} JSON object") from None
    return value


def _chat_id(p: dict[str, Any]) -> int:
    try:
        return int(p["chat_id"])
    except (KeyError, TypeError, ValueError):
        raise _Error(400, "Bad Request: chat not found") from None


def _flag(value: Any) -> bool:
    return value in (True, "true", "True", "1", 1)
