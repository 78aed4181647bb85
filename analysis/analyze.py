"""The one entry point of detection: text in, `Analysis` out."""

from __future__ import annotations

from analysis.casualties import extract_casualties
from analysis.event_date import stated_date
from analysis.model import Analysis, Place
from analysis.regions import find_places
from analysis.scope import scope
from analysis.strike import classify

__all__ = ["analyze", "analyze_or_error", "ANALYZER_VERSION"]

# Bump when detection changes so `dsns-monitor reanalyze` knows what is stale.
ANALYZER_VERSION = "0.3"


def analyze(text: str, channel: str | None = None, oblast_hint: str | None = None) -> Analysis:
    """Read a post: strike or not, weapons, places and their oblasts, casualties.

    Everything is read from the event part of the text (`analysis.scope`): a background paragraph
    about another attack adds no place, weapon or figure. `channel` is the Telegram channel or
    feed the text came from and `oblast_hint` the ISO code a source is configured with: a regional
    DSNS channel implies its oblast when a place name is ambiguous.
    """
    found: dict[str, list[Place]] = {}  # scope asks about the event text itself, mostly unchanged after

    def places_in(part: str) -> list[Place]:
        if part not in found:
            found[part] = find_places(part, channel=channel, oblast_hint=oblast_hint)
        return found[part]

    def oblasts_of(part: str) -> set[str]:
        return {p.oblast for p in places_in(part)}

    event = scope(text, oblasts_of).event
    places = places_in(event)
    reading = classify(event)
    return Analysis(
        is_strike=reading.is_strike,
        weapons=reading.weapons,
        places=tuple(places),
        oblasts=tuple(sorted({p.oblast for p in places})),
        casualties=extract_casualties(event),
        version=ANALYZER_VERSION,
        event_date=stated_date(event),
    )


def analyze_or_error(text: str, channel: str | None = None, oblast_hint: str | None = None) -> Analysis | Exception:
    """`analyze`, or the exception it raised: the analyser is meant never to raise, but if a
    text finds a bug, the post is archived with the error instead of holding back its page."""
    try:
        return analyze(text, channel=channel, oblast_hint=oblast_hint)
    except Exception as exc:  # noqa: BLE001 - any bug in detection costs one post, never the source
        return exc
