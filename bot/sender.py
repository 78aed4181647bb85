"""Drains the alert outbox into Telegram (paced by the `SendLimiter` inside `BotAPI`).

Each row is sent and marked in the archive at once. When a story's figures change, the chat's
message is edited to say what changed and when, quoting the post that gave the new figures; a
change that matters (`bot.policy.matters`, or a new post hours after the last alert) is a new
message instead, a reply to the first alert, with sound. Inside a chat's quiet window alerts
arrive without sound, or wait for its morning digest, unless they break through; a change
that matters waiting for the digest edits the message silently at once and is in the digest
too, with what changed since the chat's last alert.

429 pauses every send for `retry_after`; 403 marks the subscriber inactive; 400 is logged and
dropped; network errors retry with backoff. A photo outside Telegram's rules, or one it refuses
(400, 413), never costs the alert: it goes as text. The most specific subscriptions and fresh
news go first; news older than `max_age` expires unsent. Once the daemon stops, no new send
starts: those already talking to Telegram finish and are marked.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from itertools import groupby

from analysis.gazetteer import ISO_NAMES_EN
from analysis.places import oblast_name
from bot.api import BadRequest, BotAPI, BotAPIError, Forbidden, RetryAfter, TooLarge
from bot.digest import digest_text
from bot.format import AlertContent, FormattedAlert, format_alert, update_note
from bot.photos import PHOTO_MAX_BYTES, Upload, photo_upload
from bot.policy import UpdateRules, delivery, digest_due, matters
from bot.ratelimit import STOP_SENDS, SendCancelled
from bot.reporting import faults, metrics
from dsns.backoff import doubling_delay
from storage.alert_material import (
    AlertMaterial,
    figures_post,
    load_alert_material,
    story_change,
)
from storage.database import Database
from storage.outbox import (
    OutboxItem,
    due_items,
    expire_stale,
    held_items,
    mark_digested,
    mark_dropped,
    mark_held,
    mark_retry,
    mark_sent,
    outbox_backlog,
)
from storage.subscriptions import deactivate_chat
from storage.timeutil import utcnow

__all__ = ["AlertSender", "alert_content"]

log = logging.getLogger("dsns_monitor.bot.sender")

# A network failure's retry waits 2 s after the first failed attempt, doubling to 10 min.
RETRY_FIRST = 2.0
MAX_BACKOFF = 600.0
PHOTO_WAITS = 5
# An alert waiting longer than this means sends fail or cannot keep up: an "outbox" fault.
OUTBOX_STALL = 600.0


def alert_content(material: AlertMaterial, lang: str, update: str | None = None) -> AlertContent:
    """The alert's words from the story's current figures and the post that gave them."""
    story = material.story
    oblast_names = [oblast_name(iso, lang) for iso in story.oblasts if iso in ISO_NAMES_EN]
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
        update=update,
    )


def _sendable_photo(material: AlertMaterial, item: OutboxItem) -> Upload | None:
    """The post's photo labelled for upload, or None when Telegram's photo rules exclude it."""
    if material.photo_size is None:
        return None
    # A photo over Telegram's size limit was not even read from the archive.
    photo = photo_upload(material.photo) if material.photo is not None else f"{material.photo_size} bytes"
    if isinstance(photo, str):
        metrics.alert_photo_as_text("rules")
        log.info("photo outside Telegram's rules; alert goes as text",
                 extra={"chat": item.chat_id, "story": item.story_id, "why": photo})
        return None
    return photo


class AlertSender:
    """Sends due outbox rows concurrently (bounded) through `api`, whose limiter paces them.

    `max_age`: seconds after which an alert's news is too old to send (None: never);
    `rules`: which updates are new messages rather than silent edits.
    """

    def __init__(
        self, db: Database, api: BotAPI, *, concurrency: int = 20, max_age: float | None = None,
        rules: UpdateRules | None = None,
    ) -> None:
        self.db = db
        self.api = api
        self.max_age = max_age
        self.rules = rules or UpdateRules()
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
        """Send everything due now (and the digests due), until `stop` is set; returns the
        number of rows handled."""
        stop = stop or asyncio.Event()
        STOP_SENDS.set(stop)  # the tasks below inherit it
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
        if not stop.is_set():
            handled += await self._digests()
        return handled

    async def _deliver(self, item: OutboxItem, stop: asyncio.Event) -> None:
        self._in_flight.add(item.id)
        try:
            async with self._slots:
                if not stop.is_set():
                    await self._attempt(item)
        except SendCancelled:
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

    async def _material(self, item: OutboxItem) -> AlertMaterial:
        """The story and the post that gave its current figures (the row's post before any revision names one)."""
        post_id = await figures_post(self.db, item.story_id) or item.post_id
        try:
            return await load_alert_material(self.db, item.story_id, post_id, photo_max_bytes=PHOTO_MAX_BYTES)
        except KeyError:
            if post_id == item.post_id:
                raise
            return await load_alert_material(self.db, item.story_id, item.post_id, photo_max_bytes=PHOTO_MAX_BYTES)

    async def _attempt(self, item: OutboxItem) -> None:
        try:
            material = await self._material(item)
        except KeyError:
            await mark_dropped(self.db, item, "story or post no longer in the archive")
            return
        if material.photo_pending and item.message_id is None and item.attempts < PHOTO_WAITS:
            # Wait briefly for the photo rather than send a bare text now and never show it.
            await self._retry(item, "waiting for the photo download", 1.0, count=False)
            return
        try:
            first = item.message_id is None
            outcome = await (self._first(item, material) if first else self._update(item, material))
            if outcome == "held":
                await mark_held(self.db, item)
            else:
                self.sent += 1
                metrics.alert_sent()
            metrics.bot_send(outcome)
            log.debug("alert delivered", extra={"chat": item.chat_id, "story": item.story_id,
                                                "revision": item.revision, "outcome": outcome})
        except RetryAfter as exc:
            self.rate_limited += 1
            metrics.alert_failed("rate_limited")
            await self._retry(item, str(exc), exc.retry_after)
            log.warning("rate limited by Telegram", extra={"chat": item.chat_id, "retry_after": exc.retry_after})
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
            log.error("alert rejected by Telegram", extra={"chat": item.chat_id, "story": item.story_id, "error": str(exc)})
        except BotAPIError as exc:
            self.failed += 1
            metrics.alert_failed("error")
            delay = doubling_delay(item.attempts + 1, RETRY_FIRST, MAX_BACKOFF)
            await self._retry(item, str(exc), delay)
            log.warning("alert not sent; will retry",
                        extra={"chat": item.chat_id, "story": item.story_id, "retry_in": delay, "error": str(exc)})

    async def _first(self, item: OutboxItem, material: AlertMaterial) -> str:
        """A first alert: loud, quiet (inside the chat's quiet window) or held for its digest."""
        how = delivery(item.settings, rank=item.rank, killed=material.story.killed, now=utcnow())
        if how == "hold":
            return "held"
        formatted = format_alert(alert_content(material, item.language), lang=item.language)
        await self._send(item, _sendable_photo(material, item), formatted, quiet=how == "quiet")
        self._observe_latency(item)
        return "quiet" if how == "quiet" else "sent"

    async def _update(self, item: OutboxItem, material: AlertMaterial) -> str:
        """The story changed since the chat's message: a new message replying to the first alert
        when the change matters, else an edit. A change that matters while the chat waits for
        its digest is an edit too, and is held for the digest: the revision the chat saw stays
        as it was, so a later change of the night is measured from it and held the same way."""
        story = material.story
        change = await story_change(self.db, item.story_id, item.sent_revision, item.revision)
        before, now = (change.killed_before, change.injured_before), (story.killed, story.injured)
        # a new post without new figures (hours later) is news of its own time
        changed_at = change.changed_at if item.revision != item.sent_revision else item.news_at
        note = update_note(item.language, changed_at or utcnow(), before, now)
        late = (
            item.news_at is not None and item.alerted_at is not None
            and (item.news_at - item.alerted_at).total_seconds() >= self.rules.late_after
        )
        big = late or (change.seen_known and matters(self.rules, before, now))
        formatted = format_alert(alert_content(material, item.language, note), lang=item.language)
        how = delivery(item.settings, rank=item.rank, killed=story.killed, now=utcnow()) if big else "edit"
        if how in ("loud", "quiet"):
            message = await self.api.send_message(
                item.chat_id, formatted.text, disable_notification=how == "quiet",
                reply_to=item.first_message_id or item.message_id,
            )
            await mark_sent(self.db, item, message.get("message_id"), with_photo=False, notified=True)
            self._observe_latency(item)
            return "reply"
        await self._edit(item, formatted.text, formatted.caption)
        if how == "hold":
            return "held"
        await mark_sent(self.db, item, None, with_photo=item.with_photo)
        return "edit"

    def _observe_latency(self, item: OutboxItem) -> None:
        if item.queued_at is not None:
            metrics.alert_latency((utcnow() - item.queued_at).total_seconds())

    async def _send(self, item: OutboxItem, photo: Upload | None, formatted: FormattedAlert, *, quiet: bool) -> None:
        """A first send: with the photo when there is one Telegram takes, else (or when Telegram
        refuses it after all) as text, whose source link leads to the photo."""
        if photo is not None and formatted.caption is not None:
            try:
                message = await self.api.send_photo(
                    item.chat_id, photo.data, caption=formatted.caption,
                    content_type=photo.content_type, filename=photo.filename, disable_notification=quiet,
                )
            except (BadRequest, TooLarge) as exc:
                # Nothing was delivered; a retry would be refused the same way, so the text goes now.
                metrics.alert_photo_as_text("refused")
                log.warning("photo refused by Telegram; sending the alert as text",
                            extra={"chat": item.chat_id, "story": item.story_id, "error": str(exc)})
            else:
                await mark_sent(self.db, item, message.get("message_id"), with_photo=True, notified=True)
                return
        message = await self.api.send_message(item.chat_id, formatted.text, disable_notification=quiet)
        await mark_sent(self.db, item, message.get("message_id"), with_photo=False, notified=True)

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

    async def _digest_note(self, item: OutboxItem, material: AlertMaterial) -> str | None:
        """For an alert the chat already has (an update held for the digest), what changed
        since that alert: "Оновлено 02:10: поранені 6 (було 1)"."""
        if item.message_id is None:
            return None
        change = await story_change(self.db, item.story_id, item.sent_revision, item.revision)
        if not change.seen_known:
            return None
        story = material.story
        before = (change.killed_before, change.injured_before)
        return update_note(item.language, change.changed_at or utcnow(), before, (story.killed, story.injured))

    async def _digests(self) -> int:
        """Send each chat whose digest time came its held alerts in one message; returns how many alerts."""
        now = utcnow()
        handled = 0
        for chat_id, group in groupby(await held_items(self.db), key=lambda i: i.chat_id):
            items = list(group)
            oldest = min((i.queued_at or now) for i in items)
            if not digest_due(items[0].settings, oldest, now):
                continue
            lang = items[0].language
            lines = []
            for item in items:
                try:
                    material = await self._material(item)
                    lines.append(alert_content(material, lang, await self._digest_note(item, material)))
                except KeyError:
                    continue
            try:
                await self.api.send_message(chat_id, digest_text(lines, lang))
            except Forbidden:
                await deactivate_chat(self.db, chat_id)
            except BotAPIError as exc:
                log.warning("digest not sent; will retry", extra={"chat": chat_id, "error": str(exc)})
                continue
            await mark_digested(self.db, items)
            metrics.bot_send("digest")
            handled += len(items)
        return handled
