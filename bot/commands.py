"""Turn one Telegram update into database changes and replies.

`handle_update` runs inside the write transaction that also stores the getUpdates offset,
so a command is applied exactly once; the replies it returns are sent after the commit.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiosqlite

from analysis.gazetteer import ISO_NAMES_EN, get_gazetteer
from analysis.model import Place
from analysis.regions import resolve_region
from bot.texts import lang_of, t
from storage.subscriptions import MAX_SUBSCRIPTIONS, mute, subscribe, subscriptions_page, unsubscribe, upsert_chat
from storage.timeutil import utcnow

__all__ = ["Reply", "Answer", "CommandContext", "handle_update", "update_origin", "subscription_key"]

log = logging.getLogger("dsns_monitor.bot")

KYIV = ZoneInfo("Europe/Kyiv")
MAX_QUERY = 100
MAX_CHOICES = 8
LIST_PAGE = 20  # 20 names stay far below Telegram's 4096 characters a message


@dataclass(frozen=True, slots=True)
class Reply:
    """A message to send, or (with `edit_message_id`) a message of ours to replace."""

    chat_id: int
    text: str
    keyboard: list[list[dict[str, str]]] | None = None
    edit_message_id: int | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """The acknowledgement of a button press."""

    callback_query_id: str
    text: str | None = None


@dataclass
class CommandContext:
    """What handlers may read besides the database: admins and a stats provider."""

    admins: set[int] = field(default_factory=set)
    stats_text: Any = None  # async (conn, lang) -> str, supplied by the bot service
    last_text: Any = None  # async (regions | None, chat_id, lang) -> str


def subscription_key(place: Place) -> tuple[str, str, str]:
    """(region key, display name, level) stored for a watch: ISO codes for oblasts and the two cities."""
    if place.level in ("oblast", "city"):
        return place.oblast, place.name, place.level
    gazetteer = get_gazetteer()
    oblast = gazetteer.oblast_unit(place.oblast).title if place.oblast in ISO_NAMES_EN else place.oblast
    return place.code, f"{place.name} ({oblast})", place.level


def _button(text: str, data: str) -> dict[str, str]:
    return {"text": text[:64], "callback_data": data[:64]}


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def _optional(value: object, kind: type) -> bool:
    return value is None or isinstance(value, kind)


def _well_formed(update: object) -> bool:
    """The fields handlers read have Telegram's types (found by fuzzing: anything else crashed)."""
    if not isinstance(update, dict):
        return False
    if "callback_query" in update:
        query = update["callback_query"]
        if not isinstance(query, dict) or not isinstance(query.get("from"), dict) or not _is_id(query["from"].get("id")):
            return False
        message = query.get("message")
        if message is not None:
            if not isinstance(message, dict) or not isinstance(message.get("chat"), dict):
                return False
            if not _is_id(message["chat"].get("id")) or not (message.get("message_id") is None or _is_id(message["message_id"])):
                return False
        return _optional(query["from"].get("language_code"), str)
    message = update.get("message") or update.get("edited_message")
    if not isinstance(message, dict):
        return message is None
    chat, sender = message.get("chat"), message.get("from")
    if not isinstance(chat, dict) or not _is_id(chat.get("id")) or not _optional(sender, dict):
        return False
    return _optional((sender or {}).get("language_code"), str)


def update_origin(update: dict[str, Any]) -> tuple[int, str] | None:
    """(chat id, language) of an update the bot would act on; None for one it ignores anyway.

    The update loop counts commands per chat with this before handling them.
    """
    if not _well_formed(update):
        return None
    if "callback_query" in update:
        query = update["callback_query"]
        chat_id = ((query.get("message") or {}).get("chat") or {}).get("id") or query["from"]["id"]
        return chat_id, lang_of(query["from"].get("language_code"))
    message = update.get("message") or update.get("edited_message")
    if not isinstance(message, dict) or message["chat"].get("type") not in (None, "private"):
        return None
    return message["chat"]["id"], lang_of((message.get("from") or {}).get("language_code"))


async def handle_update(conn: aiosqlite.Connection, update: dict[str, Any], ctx: CommandContext) -> list[Reply | Answer]:
    """Apply one update; returns what to send. Malformed updates are ignored with a log line."""
    if not _well_formed(update):
        log.warning("malformed update ignored", extra={"update_id": str(update.get("update_id"))[:20] if isinstance(update, dict) else None})
        return []
    if "callback_query" in update:
        return await _callback(conn, update["callback_query"])
    message = update.get("message") or update.get("edited_message")
    if not isinstance(message, dict) or not isinstance(message.get("chat"), dict):
        return []
    if message["chat"].get("type") not in (None, "private"):
        return []  # the bot is for private chats; group commands would alert whole groups by accident
    chat_id = message["chat"]["id"]
    sender = message.get("from") or {}
    lang = lang_of(sender.get("language_code"))
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        return [Reply(chat_id, t(lang, "help"))]
    await upsert_chat(conn, chat_id, lang)
    text = text.strip()
    if not text.startswith("/"):
        return [Reply(chat_id, t(lang, "plain_text", text=html.escape(text[:MAX_QUERY])))]
    head, _, rest = text.partition(" ")
    command = head[1:].split("@", 1)[0].lower()
    argument = rest.strip()
    if len(argument) > MAX_QUERY:
        return [Reply(chat_id, t(lang, "too_long"))]
    handler = _COMMANDS.get(command) or _settings_commands().get(command)
    if handler is None:
        return [Reply(chat_id, t(lang, "unknown_command", command=html.escape(head[:40])))]
    if command == "stats" and chat_id not in ctx.admins:
        return [Reply(chat_id, t(lang, "admin_only"))]
    return await handler(conn, chat_id, lang, argument, ctx)


async def _start(conn: aiosqlite.Connection, chat_id: int, lang: str, arg: str, ctx: CommandContext) -> list[Reply | Answer]:
    replies: list[Reply | Answer] = [Reply(chat_id, t(lang, "welcome"))]
    if arg:  # deep link t.me/<bot>?start=UA-63
        replies += await _subscribe(conn, chat_id, lang, arg, ctx)
    return replies


async def _help(conn: aiosqlite.Connection, chat_id: int, lang: str, arg: str, ctx: CommandContext) -> list[Reply | Answer]:
    return [Reply(chat_id, t(lang, "help"))]


async def _subscribe(conn: aiosqlite.Connection, chat_id: int, lang: str, arg: str, ctx: CommandContext) -> list[Reply | Answer]:
    if not arg:
        return [Reply(chat_id, t(lang, "subscribe_usage"))]
    places = resolve_region(arg)
    if not places:
        return [Reply(chat_id, t(lang, "not_found", query=html.escape(arg)))]
    if not _ambiguous(places):
        return [await _add(conn, chat_id, lang, places[0])]
    rows = [[_button(subscription_key(p)[1], f"sub:{p.code}")] for p in places[:MAX_CHOICES]]
    return [Reply(chat_id, t(lang, "choose", query=html.escape(arg)), keyboard=rows)]


def _ambiguous(places: list[Place]) -> bool:
    """True when the user must choose: several places share the name and none clearly dominates.

    A city far bigger than its namesakes (Балаклія the town, not the village) wins outright.
    """
    if len(places) == 1 or places[0].level in ("oblast", "city"):
        return False
    top, second = places[0], places[1]
    if top.name.lower() != second.name.lower():
        return False
    gazetteer = get_gazetteer()
    big, small = gazetteer.unit(top.code).population, gazetteer.unit(second.code).population
    return not (big >= 10_000 and big >= 10 * max(small, 1))


async def _add(conn: aiosqlite.Connection, chat_id: int, lang: str, place: Place, edit: int | None = None) -> Reply:
    key, name, level = subscription_key(place)
    added = await subscribe(conn, chat_id, key, name, level, limit=MAX_SUBSCRIPTIONS)
    if added == "full":
        return Reply(chat_id, t(lang, "subscriptions_full", limit=MAX_SUBSCRIPTIONS, name=html.escape(name)), edit_message_id=edit)
    keyboard = None
    if level not in ("oblast", "city") and place.oblast in ISO_NAMES_EN:
        # A town's watch misses strikes reported only as "Харківщина": offer the oblast too.
        oblast = ISO_NAMES_EN[place.oblast] if lang == "en" else get_gazetteer().oblast_unit(place.oblast).title
        keyboard = [[_button(t(lang, "also_oblast", name=oblast), f"sub:{place.oblast}")]]
    text = t(lang, "subscribed" if added == "added" else "already", name=html.escape(name))
    return Reply(chat_id, text, keyboard=keyboard, edit_message_id=edit)


async def _list(conn: aiosqlite.Connection, chat_id: int, lang: str, arg: str, ctx: CommandContext) -> list[Reply | Answer]:
    return [await _list_page(conn, chat_id, lang, 0)]


async def _list_page(conn: aiosqlite.Connection, chat_id: int, lang: str, page: int, edit: int | None = None) -> Reply:
    """One page of the chat's watches, with ◀ ▶ buttons when there are more than fit one page."""
    subs, total = await subscriptions_page(conn, chat_id, page, LIST_PAGE)
    pages = -(-total // LIST_PAGE)
    if pages and page >= pages:  # watches were dropped since the buttons were drawn
        page = pages - 1
        subs, total = await subscriptions_page(conn, chat_id, page, LIST_PAGE)
    if not subs:
        return Reply(chat_id, t(lang, "list_empty"), edit_message_id=edit)
    items = "\n".join(f"• {html.escape(s.region_name)}" for s in subs)
    if pages == 1:
        return Reply(chat_id, t(lang, "list", items=items), edit_message_id=edit)
    buttons = []
    if page > 0:
        buttons.append(_button("◀", f"list:{page - 1}"))
    if page + 1 < pages:
        buttons.append(_button("▶", f"list:{page + 1}"))
    text = t(lang, "list_page", items=items, page=page + 1, pages=pages, total=total)
    return Reply(chat_id, text, keyboard=[buttons], edit_message_id=edit)


async def _unsubscribe(conn: aiosqlite.Connection, chat_id: int, lang: str, arg: str, ctx: CommandContext) -> list[Reply | Answer]:
    async with conn.execute("SELECT region, region_name FROM subscriptions WHERE chat_id = ?", (chat_id,)) as cursor:
        subs = {r[0]: r[1] for r in await cursor.fetchall()}
    if not arg:
        if not subs:
            return [Reply(chat_id, t(lang, "list_empty"))]
        rows = [[_button(name, f"unsub:{key}")] for key, name in list(subs.items())[:20]]
        return [Reply(chat_id, t(lang, "unsub_usage"), keyboard=rows)]
    if arg.lower() in ("all", "усі", "все", "всі"):
        count = await unsubscribe(conn, chat_id, None)
        return [Reply(chat_id, t(lang, "unsubscribed_all", count=count))]
    wanted = arg.upper() if arg.upper() in subs else None
    if wanted is None:
        for key, name in subs.items():
            if name.lower() == arg.lower() or name.lower().startswith(arg.lower() + " ("):
                wanted = key
                break
    if wanted is None:
        keys = {subscription_key(p)[0] for p in resolve_region(arg)}
        wanted = next((k for k in subs if k in keys), None)
    if wanted is None:
        return [Reply(chat_id, t(lang, "not_subscribed", query=html.escape(arg)))]
    await unsubscribe(conn, chat_id, wanted)
    return [Reply(chat_id, t(lang, "unsubscribed", name=html.escape(subs[wanted])))]


async def _mute(conn: aiosqlite.Connection, chat_id: int, lang: str, arg: str, ctx: CommandContext) -> list[Reply | Answer]:
    try:
        hours = float(arg.replace(",", "."))
    except ValueError:
        return [Reply(chat_id, t(lang, "mute_usage"))]
    if not 0 <= hours <= 168:
        return [Reply(chat_id, t(lang, "mute_usage"))]
    if hours == 0:
        await mute(conn, chat_id, None)
        return [Reply(chat_id, t(lang, "unmuted"))]
    until = utcnow() + timedelta(hours=hours)
    await mute(conn, chat_id, until)
    return [Reply(chat_id, t(lang, "muted", until=until.astimezone(KYIV).strftime("%d.%m %H:%M")))]


async def _last(conn: aiosqlite.Connection, chat_id: int, lang: str, arg: str, ctx: CommandContext) -> list[Reply | Answer]:
    regions: set[str] | None = None
    if arg:
        places = resolve_region(arg)
        if not places:
            return [Reply(chat_id, t(lang, "not_found", query=html.escape(arg)))]
        regions = {subscription_key(places[0])[0]}
    return [Reply(chat_id, await ctx.last_text(regions, chat_id, lang))]


async def _regions(conn: aiosqlite.Connection, chat_id: int, lang: str, arg: str, ctx: CommandContext) -> list[Reply | Answer]:
    return [Reply(chat_id, t(lang, "regions"), keyboard=_oblast_keyboard(lang))]


def _oblast_keyboard(lang: str) -> list[list[dict[str, str]]]:
    units = get_gazetteer().oblasts()
    buttons = [_button(ISO_NAMES_EN[u.oblast] if lang == "en" else u.name_uk, f"obl:{u.oblast}") for u in units]
    return [buttons[i : i + 3] for i in range(0, len(buttons), 3)]


async def _stats(conn: aiosqlite.Connection, chat_id: int, lang: str, arg: str, ctx: CommandContext) -> list[Reply | Answer]:
    return [Reply(chat_id, await ctx.stats_text(conn, lang))]


async def _callback(conn: aiosqlite.Connection, query: dict[str, Any]) -> list[Reply | Answer]:
    query_id = str(query.get("id", ""))
    data = query.get("data")
    message = query.get("message") or {}
    sender = query.get("from") or {}
    chat_id = (message.get("chat") or {}).get("id") or sender.get("id")
    lang = lang_of(sender.get("language_code"))
    if not isinstance(data, str) or chat_id is None:
        return [Answer(query_id)]
    await upsert_chat(conn, chat_id, lang)
    kind, _, value = data.partition(":")
    gazetteer = get_gazetteer()
    message_id = message.get("message_id")
    try:
        if kind == "obl":
            oblast = gazetteer.oblast_unit(value)
            name = ISO_NAMES_EN[value] if lang == "en" else oblast.title
            rows = [[_button(t(lang, "whole_oblast"), f"sub:{value}")]]
            raions = [_button(u.title, f"sub:{u.code}") for u in gazetteer.raions(value)]
            rows += [raions[i : i + 2] for i in range(0, len(raions), 2)]
            return [Answer(query_id), Reply(chat_id, t(lang, "raions", name=html.escape(name)), keyboard=rows, edit_message_id=message_id)]
        if kind == "sub":
            unit = gazetteer.oblast_unit(value) if value.startswith("UA-") else gazetteer.unit(value)
            place = Place(unit.code, unit.title, unit.level, unit.oblast)
            return [Answer(query_id), await _add(conn, chat_id, lang, place, edit=message_id)]
        if kind == "list" and value.isdecimal() and len(value) <= 6:
            return [Answer(query_id), await _list_page(conn, chat_id, lang, int(value), edit=message_id)]
        if kind == "set":
            from bot.settings import settings_callback  # it builds on Reply and Answer from here

            changed = await settings_callback(conn, chat_id, lang, value, query_id, message_id)
            if changed is not None:
                return changed
        if kind == "unsub":
            async with conn.execute(
                "SELECT region_name FROM subscriptions WHERE chat_id = ? AND region = ?", (chat_id, value)
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return [Answer(query_id, t(lang, "button_gone"))]
            await unsubscribe(conn, chat_id, value)
            return [Answer(query_id), Reply(chat_id, t(lang, "unsubscribed", name=html.escape(row[0])), edit_message_id=message_id)]
    except KeyError:
        pass
    log.debug("stale or unknown button data", extra={"chat": chat_id, "data": data[:64]})
    return [Answer(query_id, t(lang, "button_gone"))]


_COMMANDS = {
    "start": _start, "help": _help, "subscribe": _subscribe, "sub": _subscribe, "list": _list,
    "unsubscribe": _unsubscribe, "unsub": _unsubscribe, "mute": _mute, "last": _last,
    "regions": _regions, "stats": _stats,
}


def _settings_commands() -> dict[str, Any]:
    """/quiet, /digest and /settings (`bot.settings`, which builds on Reply and Answer from here)."""
    from bot.settings import SETTINGS_COMMANDS

    return SETTINGS_COMMANDS
