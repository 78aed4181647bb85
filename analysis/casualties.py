"""Placeholder until casualty extraction lands (issue 3)."""

from __future__ import annotations

from analysis.model import Casualties


def extract_casualties(text: str) -> Casualties:
    return Casualties()
