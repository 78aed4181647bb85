"""The bot as part of the daemon: commands from getUpdates, alerts from the outbox."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import aiosqlite

from analysis.places import oblast_name
from bot.api import BadRequest, BotAPI, BotAPIError, RetryAfter, Unauthorized
from bot.commands import (
    Answer,
    CommandContext,
    Reply,
    handle_update,
    member_to_check,
    update_origin,
)
from bot.format import kyiv_time, place_names, weapon_label
from bot.policy import UpdateRules
from bot.ratelimit import GROUP_PER_MINUTE, GROUP_WINDOW, CommandLimiter, SendLimiter
from bot.replies import ReplyQueues
from bot.reporting import faults, metrics
from bot.sender import AlertSender
from bot.texts import COMMANDS, t
from dsns.backoff import Backoff
from storage.bot_state import get_value, set_value
from storage.channels import disable_channel, sync_channel
from storage.database import Database
from storage.sources import list_sources
from storage.stats import archive_counts
from storage.stories import latest_strikes
from storage.subscriptions import list_subscriptions
from storage.timeutil import from_db, to_db

__all__ = ["BotService", "ChannelSpec"]


class ChannelSpec(Protocol):
    """A broadcast channel as configured (`[[bot.channels]]`): the bot posts each story of
    `regions` there once, in `language`, and keeps it up to date."""

    chat: str
    regions: list[str]
    language: str

log = logging.getLogger("dsns_monitor.bot")

OFFSET_KEY = "getupdates_offset"
# How long a group member's getChatMember answer is trusted: a demoted admin loses the right
# within this time, and a burst of one admin's commands costs one call.
ADMIN_TTL = 60.0
ADMIN_STATUSES = ("creator", "administrator")
MAX_BACKOFF = 60.0
# the beat /healthz shows as the bot's last good getUpdates
POLLED = "bot_getupdates"
# Telegram's member statuses that may post in a channel
_POSTERS = ("creator", "administrator")


class BotService:
    """Runs the update loop and the alert sender until `stop` is set.

    The update loop only reads updates and applies commands; replies go to per-chat queues
    (`ReplyQueues`), so a chat waiting for its send interval never holds up anyone else.
    Failed calls are retried after `backoff` seconds, doubling up to a minute; a token
    Telegram rejected is tried again every `token_retry` seconds. The Bot API failing for
    longer than `degraded_after` seconds is a "bot" fault (/healthz turns degraded). Every send
    is paced by `api.limiter` (made from `global_rate`, `per_chat_interval`, `group_per_minute`
    and `group_window` if it has none).
    `channels`: broadcast channels (`[[bot.channels]]`), checked and registered at connection,
    and those the bot may not post in checked again every `channel_recheck` seconds.
    """

    def __init__(
        self, db: Database, api: BotAPI, *, admins: set[int], global_rate: float = 30.0,
        per_chat_interval: float = 1.0, poll_timeout: int = 30, command_burst: int = 20,
        commands_per_minute: float = 20.0, backoff: float = 1.0, token_retry: float = 300.0,
        alert_max_age: float | None = None, rules: UpdateRules | None = None, degraded_after: float = 300.0,
        channels: Sequence[ChannelSpec] | None = None, max_subscriptions: int | None = None,
        group_per_minute: int = GROUP_PER_MINUTE, group_window: float = GROUP_WINDOW,
        channel_recheck: float = 600.0,
    ) -> None:
        self.db = db
        self.api = api
        if api.limiter is None:
            api.limiter = SendLimiter(
                global_rate, per_chat_interval, group_per_minute=group_per_minute, group_window=group_window
            )
        self.commands = CommandLimiter(command_burst, commands_per_minute)
        self.sender = AlertSender(db, api, max_age=alert_max_age, rules=rules)
        self.degraded_after = degraded_after
        self.channels = channels or []
        self.channel_recheck = channel_recheck
        self._channel_ready: dict[str, bool] = {}  # "@name" → whether the bot may post there
        self._failing_since: float | None = None  # loop time of the first of the current failures
        # A command makes at most a few replies: room for a whole burst, bounded all the same.
        self.replies = ReplyQueues(self._send, per_chat=3 * command_burst + 1)
        self.poll_timeout = poll_timeout
        self.backoff = backoff
        self.token_retry = token_retry
        self.ctx = CommandContext(admins=admins, stats_text=self._stats_text, last_text=self._last_text)
        if max_subscriptions is not None:
            self.ctx.max_subscriptions = max_subscriptions
        self._members: dict[tuple[int, int], tuple[bool, float]] = {}
        self.admins = admins
        # Loops run beside the update loop once connected, until `stop` (the source watch).
        self.watchers: list[Callable[[asyncio.Event], Awaitable[None]]] = []

    async def run(self, wake: asyncio.Event, stop: asyncio.Event) -> None:
        me = await self._connect(stop)
        if me is None:
            return
        log.info("bot running", extra={"bot": me.get("username", "?")})
        self.ctx.username = str(me.get("username") or "")
        try:
            await asyncio.gather(
                self._updates(stop), self.sender.run(wake, stop), self._recheck_channels(me.get("id"), stop),
                *(watcher(stop) for watcher in self.watchers),
            )
        finally:
            await self.replies.close()

    def _failed(self, what: str, exc: BotAPIError) -> None:
        """One more failed call; a fault once the Bot API has failed for `degraded_after` seconds."""
        now = asyncio.get_running_loop().time()
        if self._failing_since is None:
            self._failing_since = now
        if isinstance(exc, Unauthorized):
            faults.report("bot", f"token rejected by Telegram ({exc.error_code})")
        elif now - self._failing_since >= self.degraded_after:
            faults.report("bot", f"{what} failing for {now - self._failing_since:.0f} s: {exc}")

    def _worked(self) -> None:
        if self._failing_since is not None:
            faults.clear("bot")
        self._failing_since = None

    async def _connect(self, stop: asyncio.Event) -> dict[str, Any] | None:
        """getMe until it works (None if stopped first); a rejected token is a fault, retried slowly.

        The sender does not start before: with a refused token every alert would fail and
        use up its retries, while waiting keeps them pending in the outbox.
        """
        backoff = Backoff(self.backoff, MAX_BACKOFF)
        while not stop.is_set():
            try:
                me = await self.api.get_me()
            except BotAPIError as exc:
                self._failed("getMe", exc)
                if isinstance(exc, Unauthorized):
                    log.error("the bot token was rejected by Telegram; trying again later",
                              extra={"retry_in": self.token_retry, "error": str(exc)})
                    wait = self.token_retry
                else:
                    wait = backoff.next()
                    log.warning("getMe failed; retrying", extra={"retry_in": wait, "error": str(exc)})
            else:
                self._failing_since = None
                faults.clear("bot")
                try:
                    for lang, commands in COMMANDS.items():
                        await self.api.set_my_commands(commands, language_code=None if lang == "uk" else lang)
                except BotAPIError as exc:
                    log.warning("could not set the bot's commands; continuing", extra={"error": str(exc)})
                me = me if isinstance(me, dict) else {}
                await self._check_channels(me.get("id"))
                return me
            if await _stopped(stop, wait):
                break
        return None

    async def _recheck_channels(self, bot_id: object, stop: asyncio.Event) -> None:
        """Check the channels again every `channel_recheck` seconds: one whose admins add the
        bot later gets the next story without a restart, one that lost the bot gets nothing."""
        while self.channels and not await _stopped(stop, self.channel_recheck):
            await self._check_channels(bot_id)

    async def _check_channels(self, bot_id: object) -> None:
        """Register each configured channel the bot may post in; one where it may not (or that
        cannot be found) is a "channel:@name" fault and gets nothing, and the bot runs on.
        Logged when a channel's state changes; a failed re-check leaves a ready channel ready."""
        for channel in self.channels:
            component = f"channel:{channel.chat}"
            was = self._channel_ready.get(channel.chat)
            try:
                chat = await self.api.get_chat(channel.chat)
                member = await self.api.get_chat_member(chat["id"], int(bot_id))  # type: ignore[arg-type]
            except (BotAPIError, KeyError, TypeError, ValueError) as exc:
                if was:
                    log.warning("could not check a broadcast channel again; it stays ready",
                                extra={"chat": channel.chat, "error": str(exc)})
                    continue
                faults.report(component, f"cannot check channel {channel.chat}: {exc}")
                if was is None:
                    log.error("broadcast channel unusable", extra={"chat": channel.chat, "error": str(exc)})
                self._channel_ready[channel.chat] = False
                continue
            allowed = member.get("status") in _POSTERS and member.get("can_post_messages") is not False
            async with self.db.write() as conn:
                if not allowed:
                    await disable_channel(conn, chat["id"])
                else:
                    regions = {iso: oblast_name(iso, "uk") for iso in channel.regions}
                    await sync_channel(conn, chat["id"], channel.language, regions)
            self._channel_ready[channel.chat] = allowed
            if allowed:
                faults.clear(component)
                if not was:
                    log.info("broadcast channel ready", extra={"chat": channel.chat, "regions": channel.regions})
            else:
                faults.report(component, f"the bot is not an administrator of {channel.chat} allowed to post: "
                                         "add it as one; the channel gets alerts within "
                                         f"{self.channel_recheck / 60:g} min of that")
                if was is not False:
                    log.error("the bot is not an administrator of a broadcast channel; it gets no alerts",
                              extra={"chat": channel.chat, "status": member.get("status")})

    async def _updates(self, stop: asyncio.Event) -> None:
        offset_text = await get_value(self.db, OFFSET_KEY)
        offset = int(offset_text) if offset_text else None
        backoff = Backoff(self.backoff, MAX_BACKOFF)
        while not stop.is_set():
            poll = asyncio.ensure_future(
                self.api.get_updates(offset, timeout=self.poll_timeout, allowed_updates=["message", "callback_query"])
            )
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait([poll, stopper], return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not poll.done():
                poll.cancel()
                break
            try:
                updates = poll.result()
            except BotAPIError as exc:
                metrics.bot_getupdates_failed()
                self._failed("getUpdates", exc)
                if isinstance(exc, Unauthorized):
                    wait = self.token_retry
                else:
                    wait = max(backoff.next(), exc.retry_after if isinstance(exc, RetryAfter) else 0.0)
                log.warning("getUpdates failed; retrying", extra={"retry_in": wait, "error": str(exc)})
                if await _stopped(stop, wait):
                    break
                continue
            faults.beat(POLLED)
            self._worked()
            backoff.reset()
            offset = await self._handle_batch(updates, offset)

    async def _handle_batch(self, updates: list[dict[str, Any]], offset: int | None) -> int | None:
        """Handle one getUpdates answer; returns the offset to poll from next."""
        unsaved = False
        for update in updates:
            update_id = update.get("update_id") if isinstance(update, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                continue
            offset = max(offset or 0, update_id + 1)
            origin = update_origin(update, self.ctx.username)
            if origin is None:
                unsaved = True  # nothing to do for it; its offset is saved with the next write
                continue
            chat_id, lang = origin
            verdict = self.commands.take(chat_id)
            if verdict != "ok":
                metrics.bot_command_refused()
                if verdict == "warn":
                    self.replies.put(chat_id, [Reply(chat_id, t(lang, "too_many"))])
                unsaved = True
                continue
            await self._handle(update, update_id, chat_id)
            unsaved = False
        if unsaved and offset is not None:
            async with self.db.write() as conn:
                await set_value(conn, OFFSET_KEY, str(offset))
        return offset

    async def _is_admin(self, chat_id: int, user_id: int) -> bool:
        """Whether a group member is its administrator (getChatMember, remembered `ADMIN_TTL` s).

        An unanswered question is a no: nothing changes in a group on a guess."""
        now = asyncio.get_running_loop().time()
        known = self._members.get((chat_id, user_id))
        if known is not None and known[1] > now:
            return known[0]
        try:
            member = await self.api.get_chat_member(chat_id, user_id)
        except BotAPIError as exc:
            log.warning("getChatMember failed; treating the member as not an admin",
                        extra={"chat": chat_id, "error": str(exc)})
            return False
        admin = isinstance(member, dict) and member.get("status") in ADMIN_STATUSES
        if len(self._members) > 10_000:  # bounded by recent group activity
            self._members = {k: v for k, v in self._members.items() if v[1] > now}
        self._members[(chat_id, user_id)] = (admin, now + ADMIN_TTL)
        return admin

    async def _handle(self, update: dict[str, Any], update_id: int, chat_id: int) -> None:
        actions: list[Reply | Answer] = []
        member = member_to_check(update, self.ctx.username)
        # Asked before the transaction: no network call while holding the archive's writer.
        admin = await self._is_admin(*member) if member is not None else False
        try:
            async with self.db.write() as conn:
                actions = await handle_update(conn, update, self.ctx, member_is_admin=admin)
                # The offset moves with the command's effects: a restart never handles it twice.
                await set_value(conn, OFFSET_KEY, str(update_id + 1))
        except Exception:
            log.exception("command failed", extra={"update_id": update_id})
            async with self.db.write() as conn:
                await set_value(conn, OFFSET_KEY, str(update_id + 1))
            return
        self.replies.put(chat_id, actions)

    async def notify_admins(self, text: str) -> None:
        """Queue `text` (HTML) to every chat of `[bot] admins`."""
        for chat_id in sorted(self.admins):
            self.replies.put(chat_id, [Reply(chat_id, text)])

    async def _send(self, action: Reply | Answer) -> None:
        if isinstance(action, Answer):
            await self.api.answer_callback_query(action.callback_query_id, action.text)
            return
        markup = {"inline_keyboard": action.keyboard} if action.keyboard else None
        if action.edit_message_id is not None:
            try:
                await self.api.edit_message_text(action.chat_id, action.edit_message_id, action.text, reply_markup=markup)
                return
            except BotAPIError as exc:
                if isinstance(exc, BadRequest) and exc.not_modified:
                    return  # the message already says this (a button pressed twice)
                # else the message may be a photo or too old to edit: send a new one
        await self.api.send_message(action.chat_id, action.text, reply_markup=markup)

    async def _stats_text(self, conn: aiosqlite.Connection, lang: str) -> str:
        lines = []
        for source in await list_sources(self.db):
            errors = source.error_count
            state = "✅" if not errors else f"⚠️ {errors}× {html.escape((source.last_error or '')[:80])}"
            lines.append(f"• {html.escape(source.name)}: {state} ({to_db(source.last_success_at) or '—'})")
        n = await archive_counts(conn)
        return t(
            lang, "stats",
            chats=n.chats, active=n.active_chats, subs=n.subscriptions, posts=n.posts, strikes=n.strikes,
            sent=n.sent, pending=n.pending, dropped=n.dropped, sources="\n".join(lines) or "—",
        )

    async def _last_text(self, regions: set[str] | None, chat_id: int, lang: str) -> str:
        from analysis.reach import regions_covering

        if regions is None:
            regions = {s.region for s in await list_subscriptions(self.db, chat_id)}
            if not regions:
                return t(lang, "last_none")
        items = []
        for story, url, stream in await latest_strikes(self.db):
            if regions & regions_covering(story):
                items.append(_last_line(story, url, stream, lang))
            if len(items) == 5:
                break
        if not items:
            return t(lang, "last_empty")
        return t(lang, "last", where="", items="\n".join(items))


def _last_line(story: Any, url: str | None, stream: str | None, lang: str) -> str:
    where = ", ".join(place_names([p["name"] for p in story.places[:3]], lang)) or ", ".join(
        oblast_name(o, lang) for o in story.oblasts
    )
    when = from_db(story.event_at)
    parts = [kyiv_time(when) if when else "", html.escape(where)]
    if story.weapons:
        parts.append(", ".join(weapon_label(w, lang) for w in story.weapons))
    if story.killed:
        parts.append(("killed " if lang == "en" else "загинули: ") + str(story.killed))
    if story.injured:
        parts.append(("injured " if lang == "en" else "поранені: ") + str(story.injured))
    line = " · ".join(p for p in parts if p)
    if url:
        line += f' · <a href="{html.escape(url, quote=True)}">{html.escape(stream or "link")}</a>'
    return "• " + line


async def _stopped(stop: asyncio.Event, seconds: float) -> bool:
    """Wait `seconds` or until `stop`; True when stopped."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True
