"""Prometheus metrics for the daemon, in a registry of our own (never the global one).

Counters and histograms are bumped where things happen (pipeline poll/ingest, alert sender)
through the small functions below, so instrumentation stays one line at each call site.
Figures that live in the archive (outbox depth, failures per source, archive totals) are read
from the database when `/metrics` is scraped, so they are right even just after a restart.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

from bot import reporting
from storage.database import Database
from storage.outbox import outbox_backlog
from storage.sources import list_sources, silences
from storage.stats import table_sizes
from storage.timeutil import utcnow

__all__ = [
    "REGISTRY", "poll_finished", "posts_ingested", "photo_stored", "photo_failed", "timed_analysis",
    "analysis_failed", "post_rejected",
    "alert_sent", "alert_failed", "alert_photo_as_text", "alerts_expired", "bot_rate_limited",
    "bot_getupdates_failed", "bot_command_refused", "bot_send", "alert_latency", "SEND_OUTCOMES", "refresh_from_archive", "component_fault", "loop_lag",
    "render", "declare_series", "ALERT_FAILURE_REASONS",
]

T = TypeVar("T")

REGISTRY = CollectorRegistry(auto_describe=True)
# process_open_fds beside process_max_fds: the "descriptors" fault's figures, as a series to graph.
ProcessCollector(registry=REGISTRY)

POLL_SECONDS = Histogram(
    "dsns_poll_duration_seconds", "Duration of one poll of a source (fetch, store, analyse).",
    ["source"], registry=REGISTRY, buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80),
)
POLL_ERRORS = Counter("dsns_poll_errors_total", "Polls that failed, by source.", ["source"], registry=REGISTRY)
SOURCE_RATE_LIMITED = Counter(
    "dsns_source_rate_limited_total", "429/503 answers from a source.", ["source"], registry=REGISTRY
)
POSTS_NEW = Counter("dsns_posts_stored_total", "Posts stored for the first time.", ["source"], registry=REGISTRY)
POSTS_EDITED = Counter(
    "dsns_post_versions_total", "New versions (edits) of stored posts.", ["source"], registry=REGISTRY
)
PHOTOS = Counter("dsns_photos_stored_total", "Photos downloaded and stored.", registry=REGISTRY)
PHOTO_ERRORS = Counter("dsns_photo_errors_total", "Photo downloads that failed.", registry=REGISTRY)
ANALYSIS_SECONDS = Histogram(
    "dsns_analysis_seconds", "Time to analyse one batch of fetched posts.", registry=REGISTRY,
    buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ANALYSED = Counter("dsns_posts_analysed_total", "Posts run through the analysis.", registry=REGISTRY)
ANALYSIS_FAILURES = Counter(
    "dsns_analysis_failures_total", "Posts the analysis raised on (archived without an analysis).", ["source"],
    registry=REGISTRY,
)
POSTS_REJECTED = Counter(
    "dsns_posts_rejected_total", "Posts skipped because they could not be read or stored.", ["source"],
    registry=REGISTRY,
)
ALERTS_SENT = Counter("dsns_alerts_sent_total", "Alerts sent or edited in Telegram.", registry=REGISTRY)
ALERTS_FAILED = Counter(
    "dsns_alerts_failed_total", "Alert sends that failed (retried or dropped).", ["reason"], registry=REGISTRY
)
ALERT_PHOTOS_AS_TEXT = Counter(
    "dsns_alert_photos_as_text_total",
    "Alerts with a photo sent as text: outside Telegram's photo rules, or refused by it.", ["reason"],
    registry=REGISTRY,
)
ALERTS_EXPIRED = Counter(
    "dsns_alerts_expired_total", "Alerts not sent because their news was older than alert_max_age.",
    registry=REGISTRY,
)
BOT_429 = Counter("dsns_bot_rate_limited_total", "429 answers from the Bot API.", registry=REGISTRY)
BOT_GETUPDATES_FAILURES = Counter(
    "dsns_bot_getupdates_failures_total", "getUpdates calls that failed (network, server, token).", registry=REGISTRY
)
BOT_COMMANDS_REFUSED = Counter(
    "dsns_bot_commands_refused_total", "Commands refused because their chat sent too many.", registry=REGISTRY
)
OUTBOX = Gauge("dsns_outbox_depth", "Alerts waiting in the outbox.", registry=REGISTRY)
OUTBOX_OLDEST = Gauge(
    "dsns_outbox_oldest_pending_seconds", "How long the oldest alert in the outbox has waited.", registry=REGISTRY
)
CONSECUTIVE_FAILURES = Gauge(
    "dsns_source_consecutive_failures", "Failed polls since the last success.", ["source"], registry=REGISTRY
)
SOURCE_STALE = Gauge(
    "dsns_source_stale", "1 while the source has posted nothing for longer than 4 times its usual gap "
    "(and [health] stale_floor_hours).", ["source"], registry=REGISTRY,
)
SILENT = Gauge("dsns_source_silent_seconds", "Seconds since the source's newest post.", ["source"], registry=REGISTRY)
LAST_SUCCESS = Gauge(
    "dsns_source_last_success_timestamp_seconds", "Unix time of the last successful poll.", ["source"],
    registry=REGISTRY,
)
ARCHIVE = Gauge("dsns_archive_rows", "Rows in the archive, by table.", ["table"], registry=REGISTRY)
COMPONENT_FAULT = Gauge(
    "dsns_component_fault", "1 while a part of the daemon reports a fault (see /healthz).", ["component"],
    registry=REGISTRY,
)

LOOP_LAG = Histogram(
    "dsns_event_loop_lag_seconds",
    "How late the event loop woke a task from a timed sleep: time the bot, polls and /healthz had to wait.",
    registry=REGISTRY, buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120),
)

BOT_SENDS = Counter(
    "dsns_bot_sends_total",
    "Alerts handled, by outcome: sent (with sound), quiet (inside a quiet window), reply (a new message on "
    "a change that matters), edit (silent update), held (for a digest), digest (one morning message).",
    ["outcome"], registry=REGISTRY,
)
ALERT_LATENCY = Histogram(
    "dsns_alert_latency_seconds", "From the post stored (alert queued) to the alert accepted by Telegram.",
    registry=REGISTRY, buckets=(1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200),
)


ALERT_FAILURE_REASONS = ("blocked", "rejected", "error", "rate_limited")
SEND_OUTCOMES = ("sent", "quiet", "reply", "edit", "held", "digest")


def declare_series(sources: list[str]) -> None:
    """Give every labelled counter its series at 0 from the start.

    A labelled series appears only at its first increment, so `rate(...) > 0` over a source that
    has never failed has no series to alert on, and the first failure looks like no change.
    """
    for counter in (POLL_ERRORS, SOURCE_RATE_LIMITED, POSTS_NEW, POSTS_EDITED, ANALYSIS_FAILURES, POSTS_REJECTED):
        for source in sources:
            counter.labels(source)
    for reason in ALERT_FAILURE_REASONS:
        ALERTS_FAILED.labels(reason)
    for outcome in SEND_OUTCOMES:
        BOT_SENDS.labels(outcome)


def poll_finished(source: str, seconds: float, *, ok: bool, rate_limited: bool = False) -> None:
    """One poll ended, well or not."""
    POLL_SECONDS.labels(source).observe(seconds)
    if not ok:
        POLL_ERRORS.labels(source).inc()
    if rate_limited:
        SOURCE_RATE_LIMITED.labels(source).inc()


def posts_ingested(source: str, new: int, edited: int) -> None:
    """Posts a poll stored as new, and new versions of known ones."""
    if new:
        POSTS_NEW.labels(source).inc(new)
    if edited:
        POSTS_EDITED.labels(source).inc(edited)


def photo_stored() -> None:
    PHOTOS.inc()


def photo_failed() -> None:
    PHOTO_ERRORS.inc()


def timed_analysis(function: Callable[..., dict[int, T]], *args: object) -> dict[int, T]:
    """Run a batch analysis (in a worker thread) and record its time and size."""
    started = time.perf_counter()
    result = function(*args)
    ANALYSIS_SECONDS.observe(time.perf_counter() - started)
    ANALYSED.inc(len(result))
    return result


def analysis_failed(source: str, count: int) -> None:
    """Posts of one ingest archived without analysis because the analyser raised."""
    if count:
        ANALYSIS_FAILURES.labels(source).inc(count)


def post_rejected(source: str, count: int) -> None:
    """Posts of one ingest skipped as unreadable or refused by the archive."""
    if count:
        POSTS_REJECTED.labels(source).inc(count)


def alert_sent() -> None:
    ALERTS_SENT.inc()


def alert_failed(reason: str) -> None:
    """`reason`: one of ALERT_FAILURE_REASONS."""
    ALERTS_FAILED.labels(reason).inc()
    if reason == "rate_limited":
        BOT_429.inc()


def alert_photo_as_text(reason: str) -> None:
    """`reason`: rules (not tried: too large or bad dimensions) or refused (400/413 from Telegram)."""
    ALERT_PHOTOS_AS_TEXT.labels(reason).inc()


def alerts_expired(count: int) -> None:
    ALERTS_EXPIRED.inc(count)


def bot_rate_limited() -> None:
    BOT_429.inc()


def bot_getupdates_failed() -> None:
    BOT_GETUPDATES_FAILURES.inc()


def bot_command_refused() -> None:
    BOT_COMMANDS_REFUSED.inc()


def bot_send(outcome: str) -> None:
    """`outcome`: one of SEND_OUTCOMES."""
    BOT_SENDS.labels(outcome).inc()


def alert_latency(seconds: float) -> None:
    ALERT_LATENCY.observe(max(0.0, seconds))


async def refresh_from_archive(
    db: Database, source_names: list[str] | None = None, *, stale_floor: float = 6 * 3600.0
) -> None:
    """Set the gauges read from the archive (outbox, per-source failures and silence, table sizes)."""
    backlog = await outbox_backlog(db)
    OUTBOX.set(backlog.pending)
    OUTBOX_OLDEST.set(backlog.oldest_wait())
    for source in await list_sources(db):
        if source_names is not None and source.name not in source_names:
            continue
        CONSECUTIVE_FAILURES.labels(source.name).set(source.error_count or 0)
        if source.last_success_at is not None:
            LAST_SUCCESS.labels(source.name).set(source.last_success_at.timestamp())
    now = utcnow()
    for name, silence in (await silences(db)).items():
        if source_names is not None and name not in source_names:
            continue
        SOURCE_STALE.labels(name).set(1 if silence.is_stale(now, stale_floor) else 0)
        silent = silence.silent_for(now)
        if silent is not None:
            SILENT.labels(name).set(silent)
    for table, size in (await table_sizes(db)).items():
        ARCHIVE.labels(table).set(size)


def component_fault(component: str, faulty: bool) -> None:
    COMPONENT_FAULT.labels(component).set(1 if faulty else 0)


def loop_lag(seconds: float) -> None:
    LOOP_LAG.observe(seconds)


def render() -> bytes:
    """The registry in Prometheus text format."""
    return generate_latest(REGISTRY)


# The bot counts its alerts and commands here (bot/ does not import monitor/).
reporting.plug_metrics(sys.modules[__name__])
