"""Records the analysis hands to storage, stories and alerts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Place", "StrikeReading", "Casualties", "EventDate", "Analysis", "WEAPONS"]

WEAPONS = ("artillery", "drone", "fpv", "guided_bomb", "missile", "mlrs")


@dataclass(frozen=True, slots=True)
class Place:
    """A gazetteer unit named in a text.

    `code` is the KATOTTH code, `level` one of oblast, city (Kyiv, Sevastopol), raion, hromada,
    settlement, city_district; `oblast` the ISO 3166-2 code of the oblast it lies in.
    """

    code: str
    name: str
    level: str
    oblast: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "name": self.name, "level": self.level, "oblast": self.oblast}


@dataclass(frozen=True, slots=True)
class StrikeReading:
    is_strike: bool
    weapons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Casualties:
    """None means the text says nothing; 0 means it says nobody was hurt."""

    killed: int | None = None
    injured: int | None = None
    children_killed: int | None = None
    children_injured: int | None = None


@dataclass(frozen=True, slots=True)
class EventDate:
    """The event's day as a post states it: a day of a month, N days before publication, or a
    weekday (the last one up to publication). `analysis.event_date.resolve` makes it a date."""

    month: int | None = None
    day: int | None = None
    days_ago: int | None = None
    weekday: int | None = None


@dataclass(frozen=True, slots=True)
class Analysis:
    is_strike: bool
    weapons: tuple[str, ...]
    places: tuple[Place, ...]
    oblasts: tuple[str, ...]
    casualties: Casualties = field(default_factory=Casualties)
    version: str = ""
    event_date: EventDate | None = None

    @property
    def killed(self) -> int | None:
        return self.casualties.killed

    @property
    def injured(self) -> int | None:
        return self.casualties.injured

    def to_json(self) -> dict[str, Any]:
        return {
            "is_strike": self.is_strike,
            "weapons": list(self.weapons),
            "oblasts": list(self.oblasts),
            "places": [p.to_json() for p in self.places],
            "killed": self.casualties.killed,
            "injured": self.casualties.injured,
            "children_killed": self.casualties.children_killed,
            "children_injured": self.casualties.children_injured,
        }
