"""The one time zone the project shows and dates events in: the reports are Ukrainian."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

__all__ = ["KYIV", "kyiv_time"]

KYIV = ZoneInfo("Europe/Kyiv")


def kyiv_time(moment: datetime) -> str:
    """"01.05.2024 09:40" in Kyiv time; a naive datetime is taken to be UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(KYIV).strftime("%d.%m.%Y %H:%M")
