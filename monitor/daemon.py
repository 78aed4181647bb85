"""The long-running process: one APScheduler job per source, clean shutdown on a signal, and
SIGHUP re-reading the configuration's sources."""

from __future__ import annotations

import asyncio
import logging
import random
import signal
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from analysis.gazetteer import get_gazetteer
from dsns.backoff import Backoff
from dsns.extras import require
from monitor.app import App
from monitor.config import (
    AnySource,
    BotConfig,
    Config,
    ConfigError,
    RSSSource,
    TelegramMTProtoSource,
    TelegramWebSource,
    load_config,
)
from monitor.live import LiveFeeds
from monitor.ops import faults, metrics, resources
from monitor.ops.memory import release_freed_memory
from monitor.ops.services import OpsServices
from monitor.pipeline import PollOutcome

if TYPE_CHECKING:
    from research.site.worker import SiteWorker

__all__ = ["run_forever", "poll_all_once", "run_daemon"]

log = logging.getLogger("dsns_monitor.daemon")


async def poll_all_once(app: App) -> list[PollOutcome]:
    """Poll every enabled source once, concurrently, and fetch their photos; the outcomes in config order."""
    sources = [s for s in app.config.sources if s.enabled]
    outcomes = list(await asyncio.gather(*(app.pipeline.poll(s, force=True) for s in sources)))
    await app.pipeline.photos.drain()
    return outcomes


class _Jobs:
    """Runs each source's polls and remembers the ones in flight so shutdown can wait for them."""

    def __init__(self, app: App, scheduler: AsyncIOScheduler) -> None:
        self.app = app
        self.scheduler = scheduler
        self.in_flight: set[asyncio.Task[object]] = set()
        self.stories_changed: Callable[[], None] | None = None  # told after a poll that stored posts

    async def poll(self, source: TelegramWebSource | RSSSource) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.in_flight.add(task)
        try:
            outcome = await self.app.pipeline.poll(source)
        except Exception as exc:
            # A bug must not kill the source's job: log it with the traceback and carry on.
            log.exception("poll crashed", extra={"source": source.source_name})
            resources.note_error(exc, f"poll of {source.source_name}")
            return
        finally:
            self.in_flight.discard(task)
        if outcome.new or outcome.edited:
            release_freed_memory()  # what storing and analysing them made and dropped
            if self.stories_changed is not None:
                self.stories_changed()
        if not outcome.ok and outcome.retry_in:
            # Move the next run to the backoff time rather than waking up just to skip.
            next_run = datetime.now().astimezone() + timedelta(seconds=outcome.retry_in)
            job = self.scheduler.get_job(source.source_name)
            if job is not None:
                job.modify(next_run_time=next_run)


def _schedule(jobs: _Jobs, source: AnySource, index: int) -> None:
    jobs.scheduler.add_job(
        jobs.poll,
        "interval",
        args=[source],
        id=source.source_name,
        name=source.source_name,
        seconds=source.interval,
        jitter=jobs.app.config.scheduler.jitter or None,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=max(30, source.interval),
        # Spread the first polls a little so sources do not all start in the same second.
        next_run_time=datetime.now().astimezone() + timedelta(seconds=index * 0.5 + random.random()),
    )


def reload_sources(jobs: _Jobs, ops: OpsServices, path: Path) -> None:
    """SIGHUP: re-read the config at `path` and apply its sources (added, removed, changed).

    Only `telegram_web` and `rss` sources change in place; the other sections and the
    telegram_mtproto sources (live connections) keep their old values until a restart, said in
    the log. A config that does not load changes nothing.
    """
    app = jobs.app
    try:
        new = load_config(path)
    except ConfigError as exc:
        log.error("SIGHUP: configuration not reloaded, the running one stays: %s", exc)
        return
    old = app.config
    kept = [name for name in Config.model_fields if name != "sources" and getattr(new, name) != getattr(old, name)]
    mtproto = [s for s in old.sources if isinstance(s, TelegramMTProtoSource)]
    if mtproto != [s for s in new.sources if isinstance(s, TelegramMTProtoSource)]:
        kept.append("telegram_mtproto sources")
    if kept:
        log.warning("SIGHUP: changes to %s need a restart; the running values stay", ", ".join(kept))
    sources = [s for s in new.sources if not isinstance(s, TelegramMTProtoSource)] + mtproto
    try:
        config = old.model_copy(update={"sources": Config.model_validate({"sources": sources}).sources})
    except ValueError as exc:  # e.g. a new source named like a running telegram_mtproto one
        log.error("SIGHUP: configuration not reloaded, the running one stays: %s", exc)
        return
    before = {s.source_name: s for s in old.sources if s.enabled}
    after = {s.source_name: s for s in config.sources if s.enabled}
    # The pipeline trusts the configured sources' hosts, /healthz lists them: all see the new list.
    app.config = app.pipeline.config = config
    if ops.health is not None:
        ops.health.config = config
    metrics.declare_series(list(after))
    changed = [name for name in after if name in before and after[name] != before[name]]
    for name in [*(n for n in before if n not in after), *changed]:
        if jobs.scheduler.get_job(name) is not None:
            jobs.scheduler.remove_job(name)
    added = [name for name in after if name not in before]
    for index, name in enumerate([*added, *changed]):
        _schedule(jobs, after[name], index)
    removed = [name for name in before if name not in after]
    log.info(
        "SIGHUP: configuration reloaded: %d source(s) added, %d removed, %d changed",
        len(added), len(removed), len(changed),
        extra={"added": ",".join(added), "removed": ",".join(removed), "changed": ",".join(changed)},
    )


async def _settle(tasks: set[asyncio.Task[object]], deadline: float) -> None:
    """Let `tasks` finish until `deadline` (loop time), then cancel what is left."""
    if not tasks:
        return
    timeout = max(0.0, deadline - asyncio.get_running_loop().time())
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=2)


async def run_forever(
    app: App, stop: asyncio.Event | None = None, *, workers: Iterable[asyncio.Task[object]] = (),
    config_path: Path | None = None,
) -> None:
    """Run every source on its interval until SIGTERM/SIGINT (or `stop` is set); SIGHUP re-reads
    the sources of `config_path` (see `reload_sources`).

    On stop, polls in flight and `workers` (tasks that wind down by themselves once `stop` is
    set, such as the bot) share `[scheduler] shutdown_timeout` to finish; then they are cancelled.
    """
    stop = stop or asyncio.Event()
    faults.reset()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    scheduler = AsyncIOScheduler(event_loop=loop)
    jobs = _Jobs(app, scheduler)
    sources = [s for s in app.config.sources if s.enabled]
    metrics.declare_series([s.source_name for s in sources])
    for index, source in enumerate(sources):
        _schedule(jobs, source, index)
    if not sources:
        log.warning("no sources are enabled in the configuration; nothing to poll")
    # The gazetteer's first load pauses every thread for ~0.5 s (its allocations trigger the
    # garbage collector): take that before the bot and /healthz serve, not inside a poll.
    await asyncio.to_thread(get_gazetteer)
    release_freed_memory()  # the migration's and the gazetteer load's temporaries
    scheduler.start()
    live = LiveFeeds(app.pipeline)  # run_live of each telegram_mtproto source with live = true
    ops = OpsServices(app, scheduler)  # health/metrics server, heartbeat, systemd notifications
    if config_path is not None:
        try:
            loop.add_signal_handler(signal.SIGHUP, reload_sources, jobs, ops, config_path)
        except (NotImplementedError, RuntimeError):
            pass
    site = _site_worker(app, stop)
    if site is not None:
        jobs.stories_changed = site[0].poke
        workers = [*workers, site[1]]
    log.info("monitor running with %d source(s); stop with Ctrl-C or SIGTERM", len(sources))
    try:
        await ops.start()
        app.pipeline.photos.start()
        live.start()
        await stop.wait()
    finally:
        deadline = loop.time() + app.config.scheduler.shutdown_timeout
        stop.set()  # also when leaving on an error: the workers must wind down too
        ops.stopping()
        log.info("stopping: waiting for %d poll(s) in flight", len(jobs.in_flight))
        # Pause, not shut down, until the polls in flight are done: shutting down APScheduler's
        # asyncio executor cancels its running jobs, mid-transaction.
        scheduler.pause()
        await live.stop()
        await _settle({*jobs.in_flight, *workers}, deadline)
        scheduler.shutdown(wait=False)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError):
                pass
        await app.pipeline.photos.close()
        await ops.close()
        log.info("stopped")


def bot_settings(bot: BotConfig) -> dict[str, Any]:
    """BotService's arguments from `[bot]`."""
    from bot.policy import UpdateRules

    return {
        "admins": set(bot.admins), "global_rate": bot.global_rate, "per_chat_interval": bot.per_chat_interval,
        "poll_timeout": bot.poll_timeout, "alert_max_age": bot.alert_max_age, "command_burst": bot.command_burst,
        "commands_per_minute": bot.commands_per_minute, "max_subscriptions": bot.max_subscriptions,
        "degraded_after": bot.degraded_after, "channels": bot.channels,
        "group_per_minute": bot.group_per_minute, "channel_recheck": bot.channel_recheck,
        "rules": UpdateRules(bot.update_ratio, bot.update_min_increase, bot.update_late_hours * 3600),
    }


def _site_worker(app: App, stop: asyncio.Event) -> tuple[SiteWorker, asyncio.Task[None]] | None:
    """With `[site] out` set: the site rendered now, and again after polls that changed stories."""
    out = app.config.site.out
    if out is None:
        return None
    require("jinja2", "research", "[site] out")
    from research.site import Site
    from research.site.worker import SiteWorker

    worker = SiteWorker(Site(app.db, app.config, out), app.config.site.debounce, on_result=_site_fault)
    return worker, asyncio.create_task(worker.run(stop))


def _site_fault(error: str | None) -> None:
    """A failed render is a "site" fault in /healthz until one succeeds."""
    if error is None:
        faults.clear("site")
    else:
        faults.report("site", error)


async def run_daemon(app: App, stop: asyncio.Event | None = None, *, config_path: Path | None = None) -> None:
    """Collectors on their schedule plus, when a bot token is set, the bot; until stopped.
    SIGHUP re-reads the sources of `config_path`."""
    stop = stop or asyncio.Event()
    token = app.config.bot.token
    if token is None:
        log.warning(
            "no bot token in $%s: alerts go to the log only", app.config.bot.token_env
        )
        await run_forever(app, stop, config_path=config_path)
        return
    from bot.api import BotAPI
    from bot.service import BotService

    api = BotAPI(token, app.config.bot.api_url, tls=app.tls)
    service = BotService(app.db, api, **bot_settings(app.config.bot))
    if app.config.bot.admins:
        from monitor.ops.watch import SourceWatch

        service.watchers.append(SourceWatch(app.db, app.config, service.notify_admins).run)

    async def supervise_bot() -> None:
        backoff = Backoff(1.0, 60.0)
        while not stop.is_set():
            try:
                await service.run(app.pipeline.alerts_planned, stop)
                return
            except Exception as exc:
                # The archive keeps filling while the bot recovers; the outbox keeps the alerts.
                # The fault stays until the bot is connected again (BotService clears it).
                faults.report("bot", f"bot crashed ({type(exc).__name__}); restarting")
                wait = backoff.next()
                log.exception("bot crashed; restarting in %.0fs", wait)
                await asyncio.sleep(wait)

    bot = asyncio.create_task(supervise_bot())
    try:
        await run_forever(app, stop, workers=[bot], config_path=config_path)
    finally:
        bot.cancel()  # a no-op once it has wound down
        await asyncio.gather(bot, return_exceptions=True)
        await api.aclose()
