"""The bot as part of the daemon: commands from getUpdates, alerts from the outbox."""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any

import aiosqlite

from analysis.gazetteer import ISO_NAMES_EN, get_gazetteer
from bot.api import BotAPI, BotAPIError, Unauthorized
from bot.commands import Answer, CommandContext, Reply, handle_update
from bot.format import kyiv_time, weapon_label
from bot.ratelimit import SendLimiter
from bot.sender import AlertSender
from bot.texts import COMMANDS, t
from storage.bot_state import get_value, set_value
from storage.database import Database
from storage.stories import latest_strikes
from storage.timeutil import from_db

__all__ = ["BotService"]

log = logging.getLogger("dsns_monitor.bot")

OFFSET_KEY = "getupdates_offset"


class BotService:
    """Runs the update loop and the alert sender until `stop` is set."""

    def __init__(
        self, db: Database, api: BotAPI, *, admins: set[int], global_rate: float = 25.0,
        per_chat_interval: float = 1.0, poll_timeout: int = 30, alert_max_age: float | None = None,
    ) -> None:
        self.db = db
        self.api = api
        self.limiter = SendLimiter(global_rate, per_chat_interval)
        self.sender = AlertSender(db, api, self.limiter, max_age=alert_max_age)
        self.poll_timeout = poll_timeout
        self.ctx = CommandContext(admins=admins, stats_text=self._stats_text, last_text=self._last_text)

    async def run(self, wake: asyncio.Event, stop: asyncio.Event) -> None:
        try:
            me = await self.api.get_me()
            for lang, commands in COMMANDS.items():
                await self.api.set_my_commands(commands, language_code=None if lang == "uk" else lang)
        except Unauthorized:
            log.error("the bot token was rejected by Telegram; alerts go to the log only")
            return
        except BotAPIError as exc:
            log.warning("could not set the bot's commands; continuing", extra={"error": str(exc)})
            me = {}
        log.info("bot running", extra={"bot": me.get("username", "?")})
        await asyncio.gather(self._updates(stop), self.sender.run(wake, stop))

    async def _updates(self, stop: asyncio.Event) -> None:
        delay = 1.0
        while not stop.is_set():
            offset_text = await get_value(self.db, OFFSET_KEY)
            offset = int(offset_text) if offset_text else None
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
                log.warning("getUpdates failed; retrying", extra={"retry_in": delay, "error": str(exc)})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)
                continue
            delay = 1.0
            for update in updates:
                await self._handle(update)

    async def _handle(self, update: dict[str, Any]) -> None:
        update_id = update.get("update_id")
        if not isinstance(update_id, int):
            return
        actions: list[Reply | Answer] = []
        try:
            async with self.db.write() as conn:
                actions = await handle_update(conn, update, self.ctx)
                # The offset moves with the command's effects: a restart never handles it twice.
                await set_value(conn, OFFSET_KEY, str(update_id + 1))
        except Exception:
            log.exception("command failed", extra={"update_id": update_id})
            async with self.db.write() as conn:
                await set_value(conn, OFFSET_KEY, str(update_id + 1))
            return
        for action in actions:
            try:
                await self._send(action)
            except BotAPIError as exc:
                log.warning("reply not delivered", extra={"error": str(exc)})

    async def _send(self, action: Reply | Answer) -> None:
        if isinstance(action, Answer):
            await self.api.answer_callback_query(action.callback_query_id, action.text)
            return
        markup = {"inline_keyboard": action.keyboard} if action.keyboard else None
        await self.limiter.acquire(action.chat_id)
        if action.edit_message_id is not None:
            try:
                await self.api.edit_message_text(action.chat_id, action.edit_message_id, action.text, reply_markup=markup)
                return
            except BotAPIError:
                pass  # the message may be a photo or too old to edit: send a new one
        await self.api.send_message(action.chat_id, action.text, reply_markup=markup)

    async def _stats_text(self, conn: aiosqlite.Connection, lang: str) -> str:
        async def one(sql: str) -> int:
            async with conn.execute(sql) as cursor:
                row = await cursor.fetchone()
            return int(row[0]) if row else 0

        lines = []
        async with conn.execute("SELECT name, error_count, last_error, last_success_at FROM sources ORDER BY name") as cursor:
            for name, errors, last_error, last_ok in await cursor.fetchall():
                state = "✅" if not errors else f"⚠️ {errors}× {html.escape((last_error or '')[:80])}"
                lines.append(f"• {html.escape(name)}: {state} ({last_ok or '—'})")
        return t(
            lang, "stats",
            chats=await one("SELECT count(*) FROM chats"), active=await one("SELECT count(*) FROM chats WHERE active = 1"),
            subs=await one("SELECT count(*) FROM subscriptions"), posts=await one("SELECT count(*) FROM posts"),
            strikes=await one("SELECT count(*) FROM stories WHERE is_strike = 1"),
            sent=await one("SELECT count(*) FROM outbox WHERE status = 'sent'"),
            pending=await one("SELECT count(*) FROM outbox WHERE status = 'pending'"),
            dropped=await one("SELECT count(*) FROM outbox WHERE status = 'dropped'"),
            sources="\n".join(lines) or "—",
        )

    async def _last_text(self, regions: set[str] | None, chat_id: int, lang: str) -> str:
        from monitor.alerts import regions_covering

        if regions is None:
            rows = await self.db.fetchall("SELECT region FROM subscriptions WHERE chat_id = ?", (chat_id,))
            regions = {r[0] for r in rows}
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
    gazetteer = get_gazetteer()
    where = ", ".join(p["name"] for p in story.places[:3]) or ", ".join(
        ISO_NAMES_EN.get(o, o) if lang == "en" else gazetteer.oblast_unit(o).title for o in story.oblasts
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
