"""Placeholder until the strike classifier lands (issue 3)."""

from __future__ import annotations

from analysis.model import StrikeReading


def classify(text: str) -> StrikeReading:
    return StrikeReading(is_strike=False)
