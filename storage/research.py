"""Stories, ACLED-style events and statistics out of the archive, for researchers.

Events follow the ACLED codebook's columns so they load into tools built for ACLED. Choices:
- event_type is always "Explosions/Remote violence" (only strike stories become events).
- sub_event_type: "Air/drone strike" when the only weapons named are aerial (drone, fpv,
  guided_bomb: glide bombs are dropped by aircraft); otherwise, missiles included,
  "Shelling/artillery/missile attack". DSNS rarely says whether a missile was air-launched,
  and ACLED codes ground- and sea-launched missiles as shelling; the `weapons` column is kept
  so a user can recode.
- location: the most precise place the story names (city district, settlement, hromada,
  raion); with only an oblast, its administrative centre, as ACLED does at precision 3.
- fatalities: the story's figure (the highest any of its reports gave, since reports only
  update upwards); none stated counts 0, as ACLED records unknown fatalities.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from analysis.gazetteer import ISO_NAMES_EN, Unit, get_gazetteer
from storage.database import Database
from storage.export import date_filter
from storage.timeutil import from_db

__all__ = [
    "STORY_KEYS", "EVENT_KEYS", "iter_stories", "iter_events", "event_of", "kyiv_date",
    "sub_event_type", "strike_stats", "place_point",
]

KYIV = ZoneInfo("Europe/Kyiv")
AERIAL = frozenset({"drone", "fpv", "guided_bomb"})
STORY_KEYS = (
    "id", "first_seen_at", "last_seen_at", "event_at", "is_strike", "oblasts", "places", "weapons",
    "killed", "injured", "children_killed", "children_injured", "post_count", "sources", "post_urls",
)
EVENT_KEYS = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "country", "iso", "admin1", "admin2", "admin3", "location",
    "latitude", "longitude", "geo_precision", "source", "notes", "fatalities", "injured",
    "children_killed", "children_injured", "weapons", "story_id", "post_urls",
)
# ACLED's names where they differ from the ISO short names.
_ADMIN1 = {**ISO_NAMES_EN, "UA-30": "Kyiv City", "UA-32": "Kyiv", "UA-43": "Autonomous Republic of Crimea"}
_PRECISION = {"city_district": 1, "settlement": 1, "city": 1, "hromada": 2, "raion": 2, "oblast": 3}
_RANK = {"city_district": 0, "settlement": 1, "city": 1, "hromada": 2, "raion": 3, "oblast": 4}
NOTES_MAX = 600


def kyiv_date(value: str | None) -> str | None:
    """The Kyiv calendar date (YYYY-MM-DD) of an archive timestamp: a 01:30 Kyiv strike is
    22:30 UTC the day before, and ACLED dates events locally."""
    moment = from_db(value)
    return moment.astimezone(KYIV).date().isoformat() if moment else None


def sub_event_type(weapons: list[str]) -> str:
    """ACLED sub-event type for the weapons a story names (see the module docstring)."""
    if weapons and set(weapons) <= AERIAL:
        return "Air/drone strike"
    return "Shelling/artillery/missile attack"


async def iter_stories(
    db: Database, *, since: datetime | None = None, until: datetime | None = None,
    strikes_only: bool = False, batch: int = 500, changed_since: str | None = None,
) -> AsyncIterator[dict[str, Any]]:
    """One dict per story (STORY_KEYS), oldest first, with its posts' sources and URLs;
    `changed_since` (an archive timestamp): only stories a post joined at or after it."""
    when = "COALESCE(s.event_at, fp.published_at, s.first_seen_at)"
    dates, params = date_filter(when, since, until)
    where = ["s.id > ?", *dates]
    if strikes_only:
        where.append("s.is_strike = 1")
    if changed_since is not None:
        where.append("s.last_seen_at >= ?")
        params.append(changed_since)
    sql = f"""SELECT s.id, s.first_seen_at, s.last_seen_at, {when} AS event_at, s.is_strike,
                     s.oblasts, s.places, s.weapons, s.killed, s.injured, s.children_killed,
                     s.children_injured, fp.text AS first_text,
                     (SELECT json_group_array(json_object('stream', p.stream, 'url', p.url))
                        FROM (SELECT stream, url FROM posts WHERE story_id = s.id
                              ORDER BY published_at, id) p) AS posts
              FROM stories s JOIN posts fp ON fp.id = s.first_post_id
              WHERE {' AND '.join(where)} ORDER BY s.id LIMIT ?"""
    last = 0
    while True:
        rows = await db.fetchall(sql, (last, *params, batch))
        if not rows:
            return
        for row in rows:
            posts = json.loads(row["posts"])
            yield {
                "id": row["id"], "first_seen_at": row["first_seen_at"],
                "last_seen_at": row["last_seen_at"], "event_at": row["event_at"],
                "is_strike": bool(row["is_strike"]), "oblasts": json.loads(row["oblasts"]),
                "places": json.loads(row["places"]), "weapons": json.loads(row["weapons"]),
                "killed": row["killed"], "injured": row["injured"],
                "children_killed": row["children_killed"], "children_injured": row["children_injured"],
                "post_count": len(posts),
                "sources": list(dict.fromkeys(p["stream"] for p in posts)),
                "post_urls": [p["url"] for p in posts if p["url"]],
                "first_text": row["first_text"],
            }
        last = rows[-1]["id"]


def _best_place(story: dict[str, Any]) -> Unit | None:
    """The most precise gazetteer unit the story names, else its first oblast's centre."""
    g = get_gazetteer()
    units: list[Unit] = []
    for place in story["places"]:
        try:
            units.append(g.unit(place["code"]))
        except KeyError:
            continue
    if units:
        return min(units, key=lambda u: _RANK.get(u.level, 5))  # min is stable: first named wins
    for iso in story["oblasts"]:
        try:
            return g.oblast_unit(iso)
        except KeyError:
            continue
    return None


def _located(unit: Unit) -> tuple[Unit, int]:
    """The unit that carries the coordinates and the ACLED precision code."""
    g = get_gazetteer()
    precision = _PRECISION.get(unit.level, 3)
    if unit.level == "oblast" and unit.centre in g.units:
        return g.units[unit.centre], 3
    probe = unit
    while probe.lat is None and probe.parent in g.units:
        probe = g.units[probe.parent]
        precision = max(precision, _PRECISION.get(probe.level, 3))
    return probe, precision


def _name(unit: Unit | None) -> str | None:
    return (unit.name_en or unit.name_uk) if unit else None


def event_of(story: dict[str, Any]) -> dict[str, Any] | None:
    """The ACLED-shaped row (EVENT_KEYS) for a strike story; None when it names no place."""
    g = get_gazetteer()
    unit = _best_place(story)
    if unit is None:
        return None
    located, precision = _located(unit)
    raion = g.units.get(unit.raion_code) if unit.raion_code else None
    hromada = g.units.get(unit.hromada_code) if unit.hromada_code else None
    date = kyiv_date(story["event_at"])
    others = [p["name"] for p in story["places"]
              if p.get("code") != unit.code and p.get("level") not in ("oblast", "city")]
    notes = " ".join((story.get("first_text") or "").split())
    if len(notes) > NOTES_MAX:
        notes = notes[: NOTES_MAX - 1].rstrip() + "…"
    if others:
        notes += f" [Also named: {', '.join(others)}]"
    return {
        "event_id_cnty": f"UKR-DSNS-{story['id']}", "event_date": date,
        "year": int(date[:4]) if date else None, "time_precision": 1,
        "disorder_type": "Political violence", "event_type": "Explosions/Remote violence",
        "sub_event_type": sub_event_type(story["weapons"]), "actor1": "Military Forces of Russia (2000-)",
        "country": "Ukraine", "iso": 804, "admin1": _ADMIN1.get(unit.oblast, unit.oblast),
        "admin2": _name(raion), "admin3": _name(hromada),
        "location": _name(located if unit.level == "oblast" else unit),
        "latitude": located.lat, "longitude": located.lon, "geo_precision": precision,
        "source": "; ".join(story["sources"]), "notes": notes,
        "fatalities": story["killed"] or 0, "injured": story["injured"] or 0,
        "children_killed": story["children_killed"] or 0, "children_injured": story["children_injured"] or 0,
        "weapons": story["weapons"], "story_id": story["id"], "post_urls": story["post_urls"],
        "oblast": unit.oblast,  # ISO code; not an ACLED column, so exports leave it out
    }


async def iter_events(
    db: Database, *, since: datetime | None = None, until: datetime | None = None
) -> AsyncIterator[dict[str, Any]]:
    """One ACLED-shaped row per strike story that names a place, oldest story first."""
    async for story in iter_stories(db, since=since, until=until, strikes_only=True):
        event = event_of(story)
        if event is not None:
            yield event


async def strike_stats(
    db: Database, by: str, *, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Strike stories counted by oblast, Kyiv day or weapon, with killed/injured sums.

    A story naming two oblasts (or weapons) counts once in each, so rows may sum to more than
    the number of strikes.
    """
    rows: dict[str, dict[str, Any]] = {}
    async for story in iter_stories(db, since=since, until=until, strikes_only=True):
        if by == "oblast":
            keys = story["oblasts"] or ["?"]
        elif by == "weapon":
            keys = story["weapons"] or ["unknown"]
        else:
            keys = [kyiv_date(story["event_at"]) or "?"]
        for key in keys:
            row = rows.setdefault(key, {by: key, "strikes": 0, "killed": 0, "injured": 0})
            row["strikes"] += 1
            row["killed"] += story["killed"] or 0
            row["injured"] += story["injured"] or 0
    if by == "day":
        return [rows[k] for k in sorted(rows)]
    return sorted(rows.values(), key=lambda r: (-r["strikes"], r[by]))


def oblast_label(iso: str) -> str:
    """An oblast's English name for tables and charts (UA-63 -> Kharkiv)."""
    return _ADMIN1.get(iso, iso)


def place_point(code: str) -> tuple[float, float] | None:
    """(lat, lon) to draw a place at: its own, else its nearest enclosing unit's; an oblast at
    its centre. None when neither it nor any unit around it has coordinates."""
    g = get_gazetteer()
    try:
        located, _ = _located(g.unit(code))
    except KeyError:
        return None
    return (located.lat, located.lon) if located.lat is not None and located.lon is not None else None
