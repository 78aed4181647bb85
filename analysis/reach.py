"""Whom a story concerns: the subscription keys (oblasts, and every unit containing a place)
that cover where it happened."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from analysis.gazetteer import get_gazetteer

__all__ = ["Placed", "regions_covering"]


class Placed(Protocol):
    """Anything with the oblasts and places of an event (a stored story, an analysis)."""

    @property
    def oblasts(self) -> Iterable[str]: ...

    @property
    def places(self) -> Iterable[Mapping[str, str]]: ...


def regions_covering(story: Placed) -> set[str]:
    """Every subscription key that should hear of the story: oblast ISO codes and the
    KATOTTH codes of each place and of the units containing it."""
    gazetteer = get_gazetteer()
    regions = set(story.oblasts)
    for place in story.places:
        code = place["code"]
        regions.add(code)
        regions.add(place["oblast"])
        try:
            regions.update(gazetteer.ancestors(code))
        except KeyError:
            continue
    return regions
