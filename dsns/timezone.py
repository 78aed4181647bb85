"""The one time zone the project shows and dates events in: the reports are Ukrainian."""

from __future__ import annotations

from zoneinfo import ZoneInfo

__all__ = ["KYIV"]

KYIV = ZoneInfo("Europe/Kyiv")
