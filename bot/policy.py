"""When an alert makes a sound: updates that matter, quiet windows and what breaks through them.

Pure functions of the figures, the chat's settings and the time, so the sender stays a sender.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.format import KYIV
from storage.chat_settings import ChatSettings

__all__ = ["UpdateRules", "Delivery", "matters", "kyiv_minute", "in_window", "delivery", "digest_due"]

Delivery = Literal["loud", "quiet", "hold"]

# Ranks (outbox.rank) of a settlement or city and of a hromada subscription: the chat's own place.
LOCAL_RANK = 1
# An alert is held for a digest only when the digest comes within this long; a moment of the
# window after this morning's digest (a window running past the digest time) goes quietly now.
DIGEST_HORIZON = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class UpdateRules:
    """A change that matters (a new message with sound rather than a silent edit): the first
    death, killed or injured up by `ratio` of what the chat saw and by `min_increase` at least,
    or a new post `late_after` seconds after the chat was last notified."""

    ratio: float = 0.5
    min_increase: int = 3
    late_after: float = 3 * 3600.0


def matters(rules: UpdateRules, before: tuple[int | None, int | None], now: tuple[int | None, int | None]) -> bool:
    """Whether (killed, injured) going from `before` to `now` is worth notifying."""
    killed_before, killed = before[0] or 0, now[0] or 0
    if killed_before == 0 and killed > 0:
        return True
    for was, is_ in zip(before, now, strict=True):
        rise = (is_ or 0) - (was or 0)
        if rise >= rules.min_increase and rise >= rules.ratio * (was or 0):
            return True
    return False


def kyiv_minute(moment: datetime) -> int:
    local = moment.astimezone(KYIV)
    return local.hour * 60 + local.minute


def in_window(minute: int, start: int | None, end: int | None) -> bool:
    """`minute` (after midnight) inside [start, end), which may run over midnight."""
    if start is None or end is None or start == end:
        return False
    return start <= minute < end if start < end else minute >= start or minute < end


def _next_digest(moment: datetime, digest_at: int) -> datetime:
    local = moment.astimezone(KYIV)
    at = local.replace(hour=digest_at // 60, minute=digest_at % 60, second=0, microsecond=0)
    return at if at > local else at + timedelta(days=1)


def _last_digest(moment: datetime, digest_at: int) -> datetime:
    return _next_digest(moment, digest_at) - timedelta(days=1)


def delivery(settings: ChatSettings, *, rank: int, killed: int | None, now: datetime) -> Delivery:
    """"loud" (with sound), "quiet" (disable_notification) or "hold" (for the morning digest)."""
    if not in_window(kyiv_minute(now), settings.quiet_from, settings.quiet_to):
        return "loud"
    if settings.break_local and rank <= LOCAL_RANK:
        return "loud"
    if settings.break_killed and (killed or 0) >= 1:
        return "loud"
    if settings.digest_at is not None and _next_digest(now, settings.digest_at) - now <= DIGEST_HORIZON:
        return "hold"
    return "quiet"


def digest_due(settings: ChatSettings, oldest_held: datetime, now: datetime) -> bool:
    """A chat's held alerts go out once a digest time passed since the oldest was held (at once
    when the chat turned its digest off)."""
    if settings.digest_at is None:
        return True
    return oldest_held < _last_digest(now, settings.digest_at)
