"""The site's view of the archive: strike stories as its pages show them (a point, a colour and a
size on the map, figures with their history, names in both languages) and what an oblast page
sums up. Pure: the stories come in as `storage.research.iter_stories` rows."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from analysis import places
from analysis.gazetteer import get_gazetteer
from dsns.timezone import KYIV
from research.events import event_of, kyiv_date, oblast_label, place_point
from storage.site import FigureRevision
from storage.timeutil import from_db

__all__ = [
    "LANGS", "WEAPON_COLOURS", "StoryView", "Step", "story_view", "with_history", "oblast_name",
    "place_name", "day_counts", "top_hromadas", "Chart", "chart",
]

LANGS = ("uk", "en")
# The marker's colour is that of the story's most destructive weapon, in this order.
WEAPON_COLOURS = {
    "missile": "#c0392b", "guided_bomb": "#8e44ad", "mlrs": "#d35400", "artillery": "#7f5a2e",
    "drone": "#e6a000", "fpv": "#2e86c1",
}
UNKNOWN_COLOUR = "#555555"


@dataclass(frozen=True, slots=True)
class Step:
    """A figure as one report gave it: "3" at "11:05" (Kyiv), with the date when it differs from
    the story's."""

    value: int
    at: str


@dataclass(slots=True)
class StoryView:
    """One strike story as every page and file shows it."""

    id: int
    event_at: str | None
    day: str | None  # Kyiv date
    oblasts: list[str]
    places: list[dict[str, Any]]  # code, name, level, point ([lat, lon] or None)
    weapons: list[str]
    killed: int | None
    injured: int | None
    children_killed: int | None
    children_injured: int | None
    sources: list[str]
    excerpt: str
    last_seen_at: str
    event: dict[str, Any] | None  # the ACLED-shaped row (`research.events.event_of`)
    history: dict[str, list[Step]] = field(default_factory=dict)
    updated: str = ""  # when its figures last changed (Atom's <updated>)

    @property
    def point(self) -> tuple[float, float] | None:
        e = self.event
        if e is None or e["latitude"] is None or e["longitude"] is None:
            return None
        return e["latitude"], e["longitude"]

    @property
    def colour(self) -> str:
        for weapon in WEAPON_COLOURS:
            if weapon in self.weapons:
                return WEAPON_COLOURS[weapon]
        return UNKNOWN_COLOUR

    @property
    def radius(self) -> int:
        """Marker radius in pixels: grows with the square root of the people killed or injured."""
        hurt = (self.killed or 0) + (self.injured or 0)
        return min(30, 5 + round(3 * math.sqrt(hurt)))

    def title(self, lang: str) -> str:
        """"Балаклія (Харківська область)": the most precise place and the oblasts."""
        oblasts = ", ".join(oblast_name(iso, lang) for iso in self.oblasts)
        place = next((place_name(p, lang) for p in self.places if p.get("level") not in ("oblast", "city")), None)
        if place and oblasts:
            return f"{place} ({oblasts})"
        return place or oblasts or ("Удар" if lang == "uk" else "Strike")

    @property
    def precise_places(self) -> list[dict[str, Any]]:
        """The places below oblast level (the oblasts are listed apart), else all of them."""
        return [p for p in self.places if p.get("level") != "oblast"] or self.places

    def marker(self, lang: str) -> list[Any]:
        """What the map script needs, compact: lat, lon, radius, colour, id, title, killed, injured."""
        lat, lon = self.point or (0.0, 0.0)
        return [round(lat, 4), round(lon, 4), self.radius, self.colour, self.id, self.title(lang),
                self.killed, self.injured]


def _excerpt(text: str | None, limit: int = 280) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def story_view(row: dict[str, Any]) -> StoryView:
    """The view of one `iter_stories` row."""
    places = []
    for place in row["places"]:
        point = place_point(place["code"]) if place.get("code") else None
        places.append({**place, "point": list(point) if point else None})
    return StoryView(
        id=row["id"], event_at=row["event_at"], day=kyiv_date(row["event_at"]), oblasts=row["oblasts"],
        places=places, weapons=row["weapons"], killed=row["killed"], injured=row["injured"],
        children_killed=row["children_killed"], children_injured=row["children_injured"],
        sources=row["sources"], excerpt=_excerpt(row.get("first_text")), last_seen_at=row["last_seen_at"],
        event=event_of(row), updated=row["first_seen_at"],
    )


def _kyiv_clock(value: str, day: str | None) -> str:
    moment = from_db(value)
    if moment is None:
        return ""
    local = moment.astimezone(KYIV)
    clock = local.strftime("%H:%M")
    return clock if local.date().isoformat() == day else f"{local.strftime('%d.%m')} {clock}"


def with_history(story: StoryView, revisions: list[FigureRevision]) -> StoryView:
    """Fill in the story's figure history ("killed": 1 at 09:40, 3 at 11:05) and when its
    figures last changed."""
    steps: dict[str, list[Step]] = {"killed": [], "injured": []}
    for revision in revisions:
        for name in steps:
            value = getattr(revision, name)
            if value is not None and (not steps[name] or steps[name][-1].value != value):
                steps[name].append(Step(value, _kyiv_clock(revision.at, story.day)))
                story.updated = max(story.updated, revision.recorded_at)
    story.history = steps
    return story


def oblast_name(iso: str, lang: str) -> str:
    """"Харківська область" / "Kharkiv": in English the open data's name (`oblast_label`), so a
    page and the events it offers name an oblast alike; the code itself when unknown."""
    return oblast_label(iso) if lang == "en" else places.oblast_name(iso, lang)


def place_name(place: dict[str, Any], lang: str) -> str:
    """A place's name in the language (the gazetteer's English name), else as the report named it."""
    if lang == "en" and place.get("code"):
        try:
            unit = get_gazetteer().unit(place["code"])
        except KeyError:
            return place.get("name") or place["code"]
        return unit.name_en or unit.name_uk
    return place.get("name") or place.get("code", "")


def day_counts(stories: list[StoryView], last_day: date, days: int = 30) -> list[tuple[str, int]]:
    """Strike stories per Kyiv day over the `days` days ending on `last_day`, oldest first."""
    counts = Counter(s.day for s in stories)
    first = last_day - timedelta(days=days - 1)
    return [((first + timedelta(days=n)).isoformat(), counts.get((first + timedelta(days=n)).isoformat(), 0))
            for n in range(days)]


def top_hromadas(stories: list[StoryView], oblast: str, limit: int = 10) -> list[tuple[dict[str, Any], int]]:
    """The oblast's hromadas named by the most stories (each story counts once per hromada)."""
    g = get_gazetteer()
    counts: Counter[str] = Counter()
    for story in stories:
        found: set[str] = set()
        for place in story.places:
            unit = g.units.get(place.get("code", ""))
            if unit is None or unit.oblast != oblast:
                continue
            code = unit.code if unit.level == "hromada" else unit.hromada_code
            if code:
                found.add(code)
        counts.update(found)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [({"code": code, "name": g.units[code].name_uk, "level": "hromada"}, n) for code, n in ranked]


@dataclass(frozen=True, slots=True)
class Chart:
    """A bar chart drawn as SVG by the template: bars (x, y, height, day, count), ticks (x, label)."""

    width: int
    height: int
    bars: list[tuple[int, int, int, str, int]]
    ticks: list[tuple[int, str]]
    top: int


def chart(counts: list[tuple[str, int]], *, bar: int = 16, gap: int = 3, height: int = 120) -> Chart:
    """The per-day chart of `day_counts`, scaled to its busiest day; a tick every 5 days."""
    top = max((n for _, n in counts), default=0) or 1
    plot = height - 20  # room for the day labels under the bars
    margin = 16  # room for the first and last labels, centred under their bars
    bars, ticks = [], []
    for index, (day, n) in enumerate(counts):
        x = margin + index * (bar + gap)
        h = round(plot * n / top)
        bars.append((x, plot - h, h, day, n))
        if index % 5 == 0 or index == len(counts) - 1:
            ticks.append((x + bar // 2, day[8:10] + "." + day[5:7]))
    return Chart(width=2 * margin + len(counts) * (bar + gap), height=height, bars=bars, ticks=ticks, top=top)
