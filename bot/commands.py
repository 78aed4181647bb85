"""Turn one Telegram update into database changes and replies.

`handle_update` runs inside the write transaction that also stores the getUpdates offset,
so a command is applied exactly once; the replies it returns are sent after the commit.
"""

from __future__ import annotations

import html
import logging
import zlib
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiosqlite

from analysis.gazetteer import ISO_NAMES_EN, Unit, get_gazetteer
from analysis.model import Place
from analysis.places import (
    covering, distance_km, find_places, labels, nearest, needs_choice, oblast_name, unit_name, within,
)
from bot.texts import lang_of, t
from dsns.timezone import KYIV
from storage.subscriptions import (
    MAX_SUBSCRIPTIONS, chat_regions, get_pending, mute, set_pending, subscribe, subscriptions_page, unsubscribe,
    upsert_chat,
)
from storage.timeutil import utcnow

__all__ = [
    "Reply", "Answer", "CommandContext", "handle_update", "update_origin", "subscription_key", "member_to_check",
    "CHANGING_COMMANDS",
]

log = logging.getLogger("dsns_monitor.bot")

MAX_QUERY = 100
MAX_CHOICES = 8  # namesake buttons a page
MAX_RADIUS_KM = 50
# A shared point farther than this from every settlement is not in Ukraine (or not a place we know).
NEAREST_LIMIT_KM = 30
GROUP_TYPES = ("group", "supergroup")
# In a group only its administrators may run these (and press the buttons that subscribe).
CHANGING_COMMANDS = frozenset({"start", "subscribe", "sub", "unsubscribe", "unsub", "mute", "radius", "quiet", "digest"})
_CHANGING_BUTTONS = ("sub", "unsub", "set")
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
    username: str = ""  # the bot's own (getMe): "/subscribe@other_bot" in a group is not for us
    max_subscriptions: int = MAX_SUBSCRIPTIONS


def subscription_key(place: Place) -> tuple[str, str, str]:
    """(region key, display name, level) stored for a watch: ISO codes for oblasts and the two cities."""
    if place.level in ("oblast", "city"):
        return place.oblast, place.name, place.level
    return place.code, f"{place.name} ({oblast_name(place.oblast, 'uk')})", place.level


def region_name(key: str, stored: str, lang: str) -> str:
    """A watch's name in `lang` ("Balakliia (Kharkiv oblast)"); in Ukrainian, and for a key the
    gazetteer lost, the name stored with it."""
    if lang != "en":
        return stored
    try:
        unit = get_gazetteer().unit(key)
    except KeyError:
        return stored
    if unit.level in ("oblast", "city"):
        return oblast_name(unit.oblast, lang)
    return f"{unit_name(unit, lang)} ({oblast_name(unit.oblast, lang)})"


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


def update_origin(update: dict[str, Any], username: str = "") -> tuple[int, str] | None:
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
    if not isinstance(message, dict):
        return None
    kind = message["chat"].get("type")
    if kind not in (None, "private") and not (kind in GROUP_TYPES and _command_for_us(message, username)):
        return None
    return message["chat"]["id"], lang_of((message.get("from") or {}).get("language_code"))


def _command_for_us(message: dict[str, Any], username: str) -> bool:
    """A group message is ours when it is a command, bare or addressed to us (/subscribe@our_bot)."""
    text = message.get("text")
    if not isinstance(text, str) or not text.startswith("/"):
        return False
    _, at, name = text.split(maxsplit=1)[0].partition("@")
    return not at or not username or name.lower() == username.lower()


def member_to_check(update: dict[str, Any], username: str = "") -> tuple[int, int] | None:
    """(group, user) whose membership decides this update: a group command or button that
    changes the group's watches, from a person (an anonymous admin speaks as the group itself).
    The service asks Telegram (getChatMember) before the update's transaction opens."""
    if not _well_formed(update):
        return None
    if "callback_query" in update:
        query = update["callback_query"]
        chat = (query.get("message") or {}).get("chat") or {}
        data = query.get("data")
        if chat.get("type") in GROUP_TYPES and isinstance(data, str) and data.partition(":")[0] in _CHANGING_BUTTONS:
            return chat["id"], query["from"]["id"]
        return None
    message = update.get("message") or update.get("edited_message")
    if not isinstance(message, dict) or message["chat"].get("type") not in GROUP_TYPES:
        return None
    if not _command_for_us(message, username) or _anonymous_admin(message):
        return None
    head, _, rest = message["text"].strip().partition(" ")
    command = head[1:].split("@", 1)[0].lower()
    sender = message.get("from")
    if not _changes(command, rest.strip()) or not isinstance(sender, dict) or not _is_id(sender.get("id")):
        return None
    return message["chat"]["id"], sender["id"]


def _changes(command: str, argument: str) -> bool:
    return command in CHANGING_COMMANDS and (command != "start" or bool(argument))


def _anonymous_admin(message: dict[str, Any]) -> bool:
    """Telegram sends an anonymous administrator's message as from the group itself."""
    sender_chat = message.get("sender_chat")
    return isinstance(sender_chat, dict) and sender_chat.get("id") == message["chat"]["id"]


async def handle_update(
    conn: aiosqlite.Connection, update: dict[str, Any], ctx: CommandContext, *, member_is_admin: bool = False
) -> list[Reply | Answer]:
    """Apply one update; returns what to send. Malformed updates are ignored with a log line.

    `member_is_admin`: the answer to `member_to_check` (is the group member an administrator).
    """
    if not _well_formed(update):
        log.warning("malformed update ignored", extra={"update_id": str(update.get("update_id"))[:20] if isinstance(update, dict) else None})
        return []
    if "callback_query" in update:
        return await _callback(conn, update["callback_query"], ctx, member_is_admin)
    message = update.get("message") or update.get("edited_message")
    if not isinstance(message, dict) or not isinstance(message.get("chat"), dict):
        return []
    kind = message["chat"].get("type")
    group = kind in GROUP_TYPES
    if kind not in (None, "private") and not group:
        return []  # channels: the bot posts there (d-delivery), it takes no commands
    if group and not _command_for_us(message, ctx.username):
        return []  # a group's talk, or another bot's command, is none of ours
    chat_id = message["chat"]["id"]
    sender = message.get("from") or {}
    lang = lang_of(sender.get("language_code"))
    text = message.get("text")
    location = message.get("location")
    if isinstance(location, dict) and not group:
        await upsert_chat(conn, chat_id, lang)
        return await _location(conn, chat_id, lang, location, ctx)
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
    if group and _changes(command, argument) and not (member_is_admin or _anonymous_admin(message)):
        return [Reply(chat_id, t(lang, "group_admins_only"))]
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
    places = find_places(arg)
    if not places:
        return [Reply(chat_id, t(lang, "not_found", query=html.escape(arg)))]
    if not needs_choice(places):
        return [await _add(conn, chat_id, lang, places[0], ctx)]
    await set_pending(conn, chat_id, "query", arg)
    return [await _choices(conn, chat_id, lang, arg, places, 0)]


def _query_tag(query: str) -> str:
    """A short mark of the query a page button belongs to: a button under an older list is stale."""
    return f"{zlib.crc32(query.encode()):08x}"


async def _choices(
    conn: aiosqlite.Connection, chat_id: int, lang: str, query: str, places: list[Place], page: int,
    edit: int | None = None,
) -> Reply:
    """Page `page` of every namesake, those in the oblasts the chat already watches first."""
    g = get_gazetteer()
    known: set[str] = set()
    for key in await chat_regions(conn, chat_id):
        try:
            known.add(g.unit(key).oblast)
        except KeyError:
            continue
    ordered = sorted(places, key=lambda p: p.oblast not in known)  # stable: best first within each part
    pages = -(-len(ordered) // MAX_CHOICES)
    page = min(max(page, 0), pages - 1)
    shown = ordered[page * MAX_CHOICES : (page + 1) * MAX_CHOICES]
    units = [g.unit(p.code) for p in shown]
    names = labels(units, lang)
    rows = [[_button(name, f"sub:{p.code}")] for name, p in zip(names, shown, strict=True)]
    nav = []
    if page > 0:
        nav.append(_button("◀", f"pg:{_query_tag(query)}:{page - 1}"))
    if page + 1 < pages:
        nav.append(_button("▶", f"pg:{_query_tag(query)}:{page + 1}"))
    if nav:
        rows.append(nav)
    text = t(lang, "choose_page", count=len(ordered), query=html.escape(query), page=page + 1, pages=pages)
    return Reply(chat_id, text, keyboard=rows, edit_message_id=edit)


async def _put(
    conn: aiosqlite.Connection, chat_id: int, place: Place, ctx: CommandContext
) -> tuple[str, str | None, list[str]]:
    """Add a watch, keeping the list tidy: (outcome, the wider watch covering it, the narrower
    watches it replaced). Outcome is "added", "already", "covered" or "full"."""
    key, name, level = subscription_key(place)
    existing = await chat_regions(conn, chat_id)
    g = get_gazetteer()

    def inside(outer: str, inner: str) -> bool:
        try:
            return outer != inner and g.contains(outer, inner)
        except KeyError:  # a watch stored under a code the gazetteer no longer has
            return False

    if key not in existing:
        wider = next((k for k in existing if inside(k, key)), None)
        if wider is not None:
            return "covered", wider, []
    narrower = [k for k in existing if inside(key, k)]
    if key in existing:
        narrower = []
    for k in narrower:
        await unsubscribe(conn, chat_id, k)
    added = await subscribe(conn, chat_id, key, name, level, limit=ctx.max_subscriptions)
    return added, None, [existing[k] for k in narrower]


async def _add(
    conn: aiosqlite.Connection, chat_id: int, lang: str, place: Place, ctx: CommandContext, edit: int | None = None
) -> Reply:
    key, stored, level = subscription_key(place)
    name = html.escape(region_name(key, stored, lang))
    added, wider, replaced = await _put(conn, chat_id, place, ctx)
    if added == "full":
        return Reply(chat_id, t(lang, "subscriptions_full", limit=ctx.max_subscriptions, name=name), edit_message_id=edit)
    if added == "covered":
        existing = await chat_regions(conn, chat_id)
        wider_name = html.escape(region_name(wider or "", existing.get(wider or "", ""), lang))
        return Reply(chat_id, t(lang, "covered", wider=wider_name, name=name), edit_message_id=edit)
    keyboard = None
    if level not in ("oblast", "city") and place.oblast in ISO_NAMES_EN:
        # A town's watch misses strikes reported only as "Харківщина": offer the oblast too.
        keyboard = [[_button(t(lang, "also_oblast", name=oblast_name(place.oblast, lang)), f"sub:{place.oblast}")]]
    text = t(lang, "subscribed" if added == "added" else "already", name=name)
    if replaced:
        text += t(lang, "replaced", names=html.escape(", ".join(replaced)))
    return Reply(chat_id, text, keyboard=keyboard, edit_message_id=edit)


async def _radius(conn: aiosqlite.Connection, chat_id: int, lang: str, arg: str, ctx: CommandContext) -> list[Reply | Answer]:
    if chat_id < 0:  # a group's members' locations do not reach bots in privacy mode
        return [Reply(chat_id, t(lang, "radius_group"))]
    try:
        km = float(arg.replace(",", ".").lower().removesuffix("km").removesuffix("км").strip())
    except ValueError:
        km = 0.0
    if not 1 <= km <= MAX_RADIUS_KM:
        return [Reply(chat_id, t(lang, "radius_usage", max=MAX_RADIUS_KM))]
    # The radius waits for the next shared location; the location itself is never stored.
    await set_pending(conn, chat_id, "radius_km", km)
    return [Reply(chat_id, t(lang, "radius_set", km=f"{km:g}"))]


async def _location(
    conn: aiosqlite.Connection, chat_id: int, lang: str, location: dict[str, Any], ctx: CommandContext
) -> list[Reply | Answer]:
    """A shared location: its hromada, or with a pending `/radius`, every place within it."""
    lat, lon = location.get("latitude"), location.get("longitude")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon)):
        return [Reply(chat_id, t(lang, "help"))]
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):  # type: ignore[operator]
        return [Reply(chat_id, t(lang, "location_unknown"))]
    closest = nearest(lat, lon)  # type: ignore[arg-type]
    if closest is None or distance_km(lat, lon, closest.lat, closest.lon) > NEAREST_LIMIT_KM:  # type: ignore[arg-type]
        return [Reply(chat_id, t(lang, "location_unknown"))]
    pending = await get_pending(conn, chat_id)
    g = get_gazetteer()
    if not pending.radius_km:
        hromada = g.units.get(closest.hromada_code, closest)
        reply = await _add(conn, chat_id, lang, _place(hromada), ctx)
        return [Reply(chat_id, reply.text + t(lang, "radius_hint"), keyboard=reply.keyboard)]
    km = pending.radius_km
    await set_pending(conn, chat_id, "radius_km", None)
    units = covering(within(lat, lon, km)) or [closest]  # type: ignore[arg-type]
    have = len(await chat_regions(conn, chat_id))
    if have + len(units) > ctx.max_subscriptions:
        return [Reply(chat_id, t(lang, "radius_too_many", km=f"{km:g}", count=len(units), limit=ctx.max_subscriptions, have=have))]
    names = []
    for unit in units:
        added, _, _ = await _put(conn, chat_id, _place(unit), ctx)
        if added in ("added", "already", "covered"):
            names.append(unit_name(unit, lang))
    return [Reply(chat_id, t(lang, "radius_subscribed", km=f"{km:g}", count=len(names), names=html.escape(", ".join(names))))]


def _place(unit: Unit) -> Place:
    return Place(unit.code, unit.title, unit.level, unit.oblast)


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
    items = "\n".join(f"• {html.escape(region_name(s.region, s.region_name, lang))}" for s in subs)
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
    subs = await chat_regions(conn, chat_id)
    if not arg:
        if not subs:
            return [Reply(chat_id, t(lang, "list_empty"))]
        rows = [[_button(region_name(key, name, lang), f"unsub:{key}")] for key, name in list(subs.items())[:20]]
        return [Reply(chat_id, t(lang, "unsub_usage"), keyboard=rows)]
    if arg.lower() in ("all", "усі", "все", "всі"):
        count = await unsubscribe(conn, chat_id, None)
        return [Reply(chat_id, t(lang, "unsubscribed_all", count=count) if count else t(lang, "list_empty"))]
    wanted = arg.upper() if arg.upper() in subs else None
    if wanted is None:
        for key, name in subs.items():
            if name.lower() == arg.lower() or name.lower().startswith(arg.lower() + " ("):
                wanted = key
                break
    if wanted is None:
        keys = {subscription_key(p)[0] for p in find_places(arg)}
        wanted = next((k for k in subs if k in keys), None)
    if wanted is None:
        return [Reply(chat_id, t(lang, "not_subscribed", query=html.escape(arg)))]
    await unsubscribe(conn, chat_id, wanted)
    return [Reply(chat_id, t(lang, "unsubscribed", name=html.escape(region_name(wanted, subs[wanted], lang))))]


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
        places = find_places(arg)
        if not places:
            return [Reply(chat_id, t(lang, "not_found", query=html.escape(arg)))]
        regions = {subscription_key(places[0])[0]}
    return [Reply(chat_id, await ctx.last_text(regions, chat_id, lang))]


async def _regions(conn: aiosqlite.Connection, chat_id: int, lang: str, arg: str, ctx: CommandContext) -> list[Reply | Answer]:
    return [Reply(chat_id, t(lang, "regions"), keyboard=_oblast_keyboard(lang))]


def _oblast_keyboard(lang: str) -> list[list[dict[str, str]]]:
    units = get_gazetteer().oblasts()
    buttons = [_button(oblast_name(u.oblast, "en") if lang == "en" else u.name_uk, f"obl:{u.oblast}") for u in units]
    return [buttons[i : i + 3] for i in range(0, len(buttons), 3)]


async def _stats(conn: aiosqlite.Connection, chat_id: int, lang: str, arg: str, ctx: CommandContext) -> list[Reply | Answer]:
    return [Reply(chat_id, await ctx.stats_text(conn, lang))]


async def _callback(
    conn: aiosqlite.Connection, query: dict[str, Any], ctx: CommandContext, member_is_admin: bool
) -> list[Reply | Answer]:
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
    if (message.get("chat") or {}).get("type") in GROUP_TYPES and kind in _CHANGING_BUTTONS and not member_is_admin:
        return [Answer(query_id, t(lang, "group_admins_only"))]
    try:
        if kind == "obl":
            oblast = gazetteer.oblast_unit(value)
            name = oblast_name(oblast.oblast, lang)
            rows = [[_button(t(lang, "whole_oblast"), f"sub:{value}")]]
            raions = [_button(unit_name(u, lang), f"sub:{u.code}") for u in gazetteer.raions(value)]
            rows += [raions[i : i + 2] for i in range(0, len(raions), 2)]
            return [Answer(query_id), Reply(chat_id, t(lang, "raions", name=html.escape(name)), keyboard=rows, edit_message_id=message_id)]
        if kind == "sub":
            unit = gazetteer.oblast_unit(value) if value.startswith("UA-") else gazetteer.unit(value)
            return [Answer(query_id), await _add(conn, chat_id, lang, _place(unit), ctx, edit=message_id)]
        if kind == "pg":
            tag, _, page = value.partition(":")
            pending = (await get_pending(conn, chat_id)).query
            if pending is not None and tag == _query_tag(pending) and page.isdecimal() and len(page) <= 4:
                places = find_places(pending)
                if places:
                    return [Answer(query_id), await _choices(conn, chat_id, lang, pending, places, int(page), edit=message_id)]
        if kind == "list" and value.isdecimal() and len(value) <= 6:
            return [Answer(query_id), await _list_page(conn, chat_id, lang, int(value), edit=message_id)]
        if kind == "set":
            from bot.settings import settings_callback  # it builds on Reply and Answer from here

            changed = await settings_callback(conn, chat_id, lang, value, query_id, message_id)
            if changed is not None:
                return changed
        if kind == "unsub":
            stored = (await chat_regions(conn, chat_id)).get(value)
            if stored is None:
                return [Answer(query_id, t(lang, "button_gone"))]
            await unsubscribe(conn, chat_id, value)
            name = html.escape(region_name(value, stored, lang))
            return [Answer(query_id), Reply(chat_id, t(lang, "unsubscribed", name=name), edit_message_id=message_id)]
    except KeyError:
        pass
    log.debug("stale or unknown button data", extra={"chat": chat_id, "data": data[:64]})
    return [Answer(query_id, t(lang, "button_gone"))]


_COMMANDS = {
    "start": _start, "help": _help, "subscribe": _subscribe, "sub": _subscribe, "list": _list,
    "unsubscribe": _unsubscribe, "unsub": _unsubscribe, "mute": _mute, "last": _last,
    "regions": _regions, "stats": _stats, "radius": _radius,
}


def _settings_commands() -> dict[str, Any]:
    """/quiet, /digest and /settings (`bot.settings`, which builds on Reply and Answer from here)."""
    from bot.settings import SETTINGS_COMMANDS

    return SETTINGS_COMMANDS
