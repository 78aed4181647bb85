"""How the bot tells the operator what happened without knowing the daemon: counters for
/metrics, faults for /healthz.

bot/ imports storage and analysis only. `metrics` and `faults` here pass each report on to the
sink plugged in with `plug_metrics` / `plug_faults`: the daemon's `monitor.ops.metrics` and
`monitor.ops.faults` plug themselves in when they are loaded, so whatever can read a report receives
it. With nothing plugged in (the bot in a bench, a command that never loads them) a report goes
nowhere.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["BotMetrics", "BotFaults", "metrics", "faults", "plug_metrics", "plug_faults"]


class BotMetrics(Protocol):
    def alert_sent(self) -> None: ...
    def alert_failed(self, reason: str) -> None: ...
    def alert_photo_as_text(self, reason: str) -> None: ...
    def alerts_expired(self, count: int) -> None: ...
    def bot_getupdates_failed(self) -> None: ...
    def bot_command_refused(self) -> None: ...
    def bot_send(self, outcome: str) -> None: ...
    def alert_latency(self, seconds: float) -> None: ...


class BotFaults(Protocol):
    def report(self, component: str, message: str, *, critical: bool = False) -> None: ...
    def clear(self, component: str) -> None: ...
    def beat(self, name: str) -> None: ...


class _Metrics:
    sink: BotMetrics | None = None

    def alert_sent(self) -> None:
        if self.sink:
            self.sink.alert_sent()

    def alert_failed(self, reason: str) -> None:
        if self.sink:
            self.sink.alert_failed(reason)

    def alert_photo_as_text(self, reason: str) -> None:
        if self.sink:
            self.sink.alert_photo_as_text(reason)

    def alerts_expired(self, count: int) -> None:
        if self.sink:
            self.sink.alerts_expired(count)

    def bot_getupdates_failed(self) -> None:
        if self.sink:
            self.sink.bot_getupdates_failed()

    def bot_command_refused(self) -> None:
        if self.sink:
            self.sink.bot_command_refused()

    def bot_send(self, outcome: str) -> None:
        if self.sink:
            self.sink.bot_send(outcome)

    def alert_latency(self, seconds: float) -> None:
        if self.sink:
            self.sink.alert_latency(seconds)


class _Faults:
    sink: BotFaults | None = None

    def report(self, component: str, message: str, *, critical: bool = False) -> None:
        if self.sink:
            self.sink.report(component, message, critical=critical)

    def clear(self, component: str) -> None:
        if self.sink:
            self.sink.clear(component)

    def beat(self, name: str) -> None:
        if self.sink:
            self.sink.beat(name)


metrics = _Metrics()
faults = _Faults()


def plug_metrics(sink: BotMetrics) -> None:
    metrics.sink = sink


def plug_faults(sink: BotFaults) -> None:
    faults.sink = sink
