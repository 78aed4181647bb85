"""Placeholder until the region matcher lands (issue 3): finds no places."""

from __future__ import annotations

from analysis.model import Place


def find_places(text: str, channel: str | None = None, oblast_hint: str | None = None) -> list[Place]:
    return []
