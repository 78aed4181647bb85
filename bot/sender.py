"""Drains the alert outbox into Telegram within the rate limits.

Each row is sent (or, when its story's figures changed, the message already sent is edited)
and marked in the archive at once. 429 pauses every send for `retry_after`; 403 marks the
subscriber inactive; 400 is logged and dropped; network errors retry with backoff. A photo
outside Telegram's rules, or one it refuses (400, 413), never costs the alert: it goes as text.
Fresh news goes first; news older than `max_age` expires unsent. Once the daemon stops, no
new send starts: those already talking to Telegram finish and are marked.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from analysis.gazetteer import ISO_NAMES_EN, get_gazetteer
from bot.api import BadRequest, BotAPI, BotAPIError, Forbidden, RetryAfter, TooLarge
from bot.format import AlertContent, FormattedAlert, format_alert
from bot.photos import PHOTO_MAX_BYTES, Upload, photo_upload
from bot.ratelimit import SendLimiter
from bot.reporting import faults, metrics
from storage.alert_material import AlertMaterial, load_alert_material
from storage.database import Database
from storage.outbox import (
    OutboxItem, due_items, expire_stale, mark_dropped, mark_retry, mark_sent, outbox_backlog,
)
from storage.subscriptions import deactivate_chat

__all__ = ["AlertSender", "alert_content"]

log = logging.getLogger("dsns_monitor.bot.sender")

MAX_BACKOFF = 600.0
PHOTO_WAITS = 5
# An alert waiting longer than this means sends fail or cannot keep up: an "outbox" fault.
OUTBOX_STALL = 600.0


def alert_content(material: AlertMaterial, lang: str) -> AlertContent:
    """The alert's words from the story's current figures and its first post."""
    story = material.story
    gazetteer = get_gazetteer()
    oblast_names = [
        ISO_NAMES_EN.get(iso, iso) if lang == "en" else gazetteer.oblast_unit(iso).title
        for iso in story.oblasts if iso in ISO_NAMES_EN
    ]
    places = [p["name"] for p in story.places if p.get("level") not in ("oblast",)]
    published = datetime.fromisoformat(material.published_at) if material.published_at else None
    return AlertContent(
        published_at=published or datetime.now().astimezone(),
        source_url=material.url or "",
        source_name=material.stream,
        excerpt=material.text,
        places=places,
        oblasts=oblast_names,
        weapons=list(story.weapons),
        killed=story.killed,
        injured=story.injured,
        children_killed=story.children_killed,
        children_injured=story.children_injured,
        has_photo=material.photo is not None,
    )


def _sendable_photo(material: AlertMaterial, item: OutboxItem) -> Upload | None:
    """The post's photo labelled for upload, or None when Telegram's photo rules exclude it."""
    if material.photo_size is None:
        return None
    # A photo over Telegram's size limit was not even read from the archive.
    photo = photo_upload(material.photo) if material.photo is not None else f"{material.photo_size} bytes"
    if isinstance(photo, str):
        metrics.alert_photo_as_text("rules")
        log.info("photo outside Telegram's rules; alert goes as text", extra={"story": item.story_id, "why": photo})
        return None
    return photo


class _Stopped(Exception):
    """The daemon is stopping: this send was not started."""


class _StoppingLimiter:
    """The sender's way through the `SendLimiter`: a send still waiting for its turn (a 429
    pause may last minutes) when the daemon stops is not started at all (`_Stopped`)."""

    def __init__(self, limiter: SendLimiter) -> None:
        self.limiter = limiter
        self.stop = asyncio.Event()

    def pause(self, seconds: float) -> None:
        self.limiter.pause(seconds)

    async def acquire(self, chat_id: int) -> None:
        turn = asyncio.ensure_future(self.limiter.acquire(chat_id))
        stopper = asyncio.ensure_future(self.stop.wait())
        try:
            await asyncio.wait((turn, stopper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
            turn.cancel()  # a no-op once the turn is taken
        if self.stop.is_set():
            raise _Stopped


class AlertSender:
    """Sends due outbox rows concurrently (bounded) through one `SendLimiter`.

    `max_age`: seconds after which an alert's news is too old to send (None: never).
    """

    def __init__(
        self, db: Database, api: BotAPI, limiter: SendLimiter, *, concurrency: int = 20, max_age: float | None = None
    ) -> None:
        self.db = db
        self.api = api
        self.limiter = _StoppingLimiter(limiter)
        self.max_age = max_age
        self._slots = asyncio.Semaphore(concurrency)
        self._in_flight: set[int] = set()
        self.sent = 0
        self.failed = 0
        self.rate_limited = 0
        self._soonest_retry = 5.0  # seconds until the soonest retry the running drain scheduled

    async def run(self, wake: asyncio.Event, stop: asyncio.Event, idle: float = 5.0) -> None:
        """Drain whenever woken (new posts), when the soonest retry of the last drain comes due
        (an alert waiting a second for its photo must not wait `idle`), or every `idle` seconds."""
        while not stop.is_set():
            self._soonest_retry = idle
            await self.drain(stop)
            wake.clear()
            waiters = [asyncio.ensure_future(wake.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waiters, timeout=self._soonest_retry, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def _retry(self, item: OutboxItem, error: str, delay: float, *, count: bool = True) -> None:
        await mark_retry(self.db, item, error, delay, count=count)
        self._soonest_retry = min(self._soonest_retry, delay)

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Send everything due now, until `stop` is set; returns the number of rows handled."""
        stop = stop or asyncio.Event()
        self.limiter.stop = stop
        handled = 0
        while not stop.is_set():
            await self._expire()
            await self._watch_backlog()  # per batch: a long drain may itself be the stall
            items = [i for i in await due_items(self.db, limit=200) if i.id not in self._in_flight]
            if not items:
                break
            tasks = [asyncio.create_task(self._deliver(item, stop)) for item in items]
            await asyncio.gather(*tasks)
            handled += len(items)
        return handled

    async def _deliver(self, item: OutboxItem, stop: asyncio.Event) -> None:
        self._in_flight.add(item.id)
        try:
            async with self._slots:
                if not stop.is_set():
                    await self._attempt(item)
        except _Stopped:
            pass  # still pending, untouched: the next run sends it
        finally:
            self._in_flight.discard(item.id)

    async def _expire(self) -> None:
        if self.max_age is None:
            return
        expired = await expire_stale(self.db, self.max_age)
        if expired:
            metrics.alerts_expired(expired)
            log.warning("alerts expired unsent: their news is older than alert_max_age",
                        extra={"count": expired, "max_age": self.max_age})

    async def _watch_backlog(self) -> None:
        backlog = await outbox_backlog(self.db)
        waited = backlog.oldest_wait()
        if waited > OUTBOX_STALL:
            faults.report("outbox", f"{backlog.pending} alert(s) pending; the oldest has waited {waited / 60:.0f} min")
        else:
            faults.clear("outbox")

    async def _attempt(self, item: OutboxItem) -> None:
        try:
            material = await load_alert_material(
                self.db, item.story_id, item.post_id, photo_max_bytes=PHOTO_MAX_BYTES
            )
        except KeyError:
            await mark_dropped(self.db, item, "story or post no longer in the archive")
            return
        if material.photo_pending and item.message_id is None and item.attempts < PHOTO_WAITS:
            # Wait briefly for the photo rather than send a bare text now and never show it.
            await self._retry(item, "waiting for the photo download", 1.0, count=False)
            return
        formatted = format_alert(alert_content(material, item.language), lang=item.language)
        await self.limiter.acquire(item.chat_id)
        try:
            if item.message_id is None:
                await self._send(item, _sendable_photo(material, item), formatted)
            else:
                await self._edit(item, formatted.text, formatted.caption)
            self.sent += 1
            metrics.alert_sent()
            log.debug("alert sent", extra={"chat": item.chat_id, "story": item.story_id, "revision": item.revision})
        except RetryAfter as exc:
            self.rate_limited += 1
            metrics.alert_failed("rate_limited")
            self.limiter.pause(exc.retry_after)
            await self._retry(item, str(exc), exc.retry_after)
            log.warning("rate limited by Telegram", extra={"retry_after": exc.retry_after})
        except Forbidden as exc:
            self.failed += 1
            metrics.alert_failed("blocked")
            await deactivate_chat(self.db, item.chat_id)
            await mark_dropped(self.db, item, str(exc))
            log.debug("subscriber blocked the bot; marked inactive", extra={"chat": item.chat_id})
        except BadRequest as exc:
            self.failed += 1
            metrics.alert_failed("rejected")
            await mark_dropped(self.db, item, str(exc))
            log.error("alert rejected by Telegram", extra={"story": item.story_id, "error": str(exc)})
        except BotAPIError as exc:
            self.failed += 1
            metrics.alert_failed("error")
            delay = min(MAX_BACKOFF, 2.0 ** min(item.attempts + 1, 10))
            await self._retry(item, str(exc), delay)
            log.warning("alert not sent; will retry", extra={"story": item.story_id, "retry_in": delay, "error": str(exc)})

    async def _send(self, item: OutboxItem, photo: Upload | None, formatted: FormattedAlert) -> None:
        """A first send: with the photo when there is one Telegram takes, else (or when Telegram
        refuses it after all) as text, whose source link leads to the photo."""
        if photo is not None and formatted.caption is not None:
            try:
                message = await self.api.send_photo(
                    item.chat_id, photo.data, caption=formatted.caption,
                    content_type=photo.content_type, filename=photo.filename,
                )
            except (BadRequest, TooLarge) as exc:
                # Nothing was delivered; a retry would be refused the same way, so the text goes now.
                metrics.alert_photo_as_text("refused")
                log.warning("photo refused by Telegram; sending the alert as text",
                            extra={"story": item.story_id, "error": str(exc)})
                await self.limiter.acquire(item.chat_id)
            else:
                await mark_sent(self.db, item, message.get("message_id"), with_photo=True)
                return
        message = await self.api.send_message(item.chat_id, formatted.text)
        await mark_sent(self.db, item, message.get("message_id"), with_photo=False)

    async def _edit(self, item: OutboxItem, text: str, caption: str | None) -> None:
        assert item.message_id is not None
        try:
            if item.with_photo:
                await self.api.edit_message_caption(item.chat_id, item.message_id, caption or text[:1024])
            else:
                await self.api.edit_message_text(item.chat_id, item.message_id, text)
        except BadRequest as exc:
            if not exc.not_modified:
                raise
        await mark_sent(self.db, item, None, with_photo=item.with_photo)
