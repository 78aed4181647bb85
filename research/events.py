"""ACLED-style events and strike statistics out of the archive's stories, for researchers.

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

import functools
import json
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any, NamedTuple

from analysis.gazetteer import ISO_NAMES_EN, Unit, get_gazetteer
from dsns.timezone import KYIV
from storage.database import Database
from storage.research import strike_groups, strike_story_pages
from storage.timeutil import from_db

__all__ = [
    "EVENT_KEYS", "LineFormat", "iter_events", "iter_event_lines", "event_of", "kyiv_date", "sub_event_type",
    "strike_stats", "strikes_per_day_by_oblast", "oblast_label", "place_point",
]

AERIAL = frozenset({"drone", "fpv", "guided_bomb"})
EVENT_KEYS = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "country", "iso", "admin1", "admin2", "admin3", "location",
    "latitude", "longitude", "geo_precision", "source", "notes", "fatalities", "injured",
    "children_killed", "children_injured", "weapons", "story_id", "post_urls",
)
# The columns every event has the same (ACLED's codes for a strike by Russia's forces), and the
# keys of a place's own (`_Place.columns`), as they come in EVENT_KEYS.
_KINDS = {"time_precision": 1, "disorder_type": "Political violence", "event_type": "Explosions/Remote violence"}
_ACTOR = {"actor1": "Military Forces of Russia (2000-)", "country": "Ukraine", "iso": 804}
_PLACE_KEYS = EVENT_KEYS[10:17]
# ACLED's names where they differ from the ISO short names.
_ADMIN1 = {**ISO_NAMES_EN, "UA-30": "Kyiv City", "UA-32": "Kyiv", "UA-43": "Autonomous Republic of Crimea"}
_PRECISION = {"city_district": 1, "settlement": 1, "city": 1, "hromada": 2, "raion": 2, "oblast": 3}
_RANK = {"city_district": 0, "settlement": 1, "city": 1, "hromada": 2, "raion": 3, "oblast": 4}
NOTES_MAX = 600


def kyiv_date(value: str | None) -> str | None:
    """The Kyiv calendar date (YYYY-MM-DD) of an archive timestamp: a 01:30 Kyiv strike is
    22:30 UTC the day before, and ACLED dates events locally."""
    if value and len(value) == 20 and value.endswith("Z"):  # the archive's own form (to_db)
        return _kyiv_date_of_hour(value[:13])
    moment = from_db(value)
    return moment.astimezone(KYIV).date().isoformat() if moment else None


@functools.lru_cache(maxsize=65_536)
def _kyiv_date_of_hour(hour: str) -> str | None:
    """The Kyiv date of a UTC hour ("2024-05-01T22"): Kyiv's offset has been whole hours since
    1924, so the hour decides the date. A year is 8,760 hours: the cache holds seven years."""
    try:
        moment = datetime.fromisoformat(f"{hour}:00:00+00:00")
    except ValueError:
        return None
    return moment.astimezone(KYIV).date().isoformat()


def sub_event_type(weapons: list[str]) -> str:
    """ACLED sub-event type for the weapons a story names (see the module docstring)."""
    if weapons and set(weapons) <= AERIAL:
        return "Air/drone strike"
    return "Shelling/artillery/missile attack"


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


class _Place(NamedTuple):
    """A gazetteer unit as an event's location: its rank (most precise first), its own code, and
    its location columns (the values of `_PLACE_KEYS`: admin1 to geo_precision)."""

    rank: int
    code: str
    columns: tuple[str, str | None, str | None, str | None, float | None, float | None, int]
    oblast: str


def _place_of(unit: Unit) -> _Place:
    g = get_gazetteer()
    located, precision = _located(unit)
    raion = g.units.get(unit.raion_code) if unit.raion_code else None
    hromada = g.units.get(unit.hromada_code) if unit.hromada_code else None
    columns = (_ADMIN1.get(unit.oblast, unit.oblast), _name(raion), _name(hromada),
               _name(located if unit.level == "oblast" else unit), located.lat, located.lon, precision)
    return _Place(_RANK.get(unit.level, 5), unit.code, columns, unit.oblast)


# Each code resolved once per process (bounded by the gazetteer's size): the same towns come up
# day after day, and a story names a few of them.
@functools.cache
def _named_place(code: str) -> _Place | None:
    try:
        return _place_of(get_gazetteer().unit(code))
    except KeyError:
        return None


@functools.cache
def _oblast_place(iso: str) -> _Place | None:
    try:
        return _place_of(get_gazetteer().oblast_unit(iso))
    except KeyError:
        return None


def _where(places: list[dict[str, Any]], oblasts: list[str]) -> tuple[_Place, str] | None:
    """An event's location: the most precise gazetteer unit named (the first of equals), else
    the first known oblast's centre; and its notes' suffix naming the other places."""
    best = None
    for place in places:
        code = place.get("code")
        found = _named_place(code) if code is not None else None
        if found is not None and (best is None or found.rank < best.rank):
            best = found
    if best is None:
        best = next(filter(None, map(_oblast_place, oblasts)), None)
        if best is None:
            return None
    others = [p["name"] for p in places if p.get("code") != best.code and p.get("level") not in ("oblast", "city")]
    return best, f" [Also named: {', '.join(others)}]" if others else ""


@functools.lru_cache(maxsize=4096)
def _where_of_json(places: str, oblasts: str) -> tuple[_Place, str] | None:
    """`_where` keyed by the stories' own JSON: a story naming one big town names it as the
    stories before it did, and skips decoding its places (bounded: memory stays flat)."""
    return _where(json.loads(places), json.loads(oblasts))


@functools.lru_cache(maxsize=1024)
def _weapons_of_json(weapons: str) -> tuple[tuple[str, ...], str]:
    """A story's weapons (a few combinations of six) and their ACLED sub-event type, by their JSON."""
    named = json.loads(weapons)
    return tuple(named), sub_event_type(named)


def _one_line(text: str) -> str:
    """`" ".join(text.split())`, at half the cost for the usual post, whose only whitespace is
    single spaces and line breaks between words: every other whitespace character is
    unprintable, so such a text with its line breaks made spaces is printable and holds no two
    spaces in a row, and is already on one line (any other text takes the long way)."""
    line = text.replace("\n\n", " ").replace("\n", " ")
    if line.isprintable() and "  " not in line and line[:1] != " " and line[-1:] != " ":
        return line
    return " ".join(text.split())


def _notes(text: str | None) -> str:
    """The first post's text on one line, cut at NOTES_MAX."""
    text = text or ""
    head = text[: NOTES_MAX + NOTES_MAX // 4]  # its words begin the whole text's words
    notes = _one_line(head)
    if len(notes) <= NOTES_MAX and len(head) < len(text):
        notes = _one_line(text)
    if len(notes) > NOTES_MAX:
        notes = notes[: NOTES_MAX - 1].rstrip() + "…"
    return notes


def _event(
    story_id: int, event_at: str | None, figures: tuple[int | None, int | None, int | None, int | None],
    weapons: list[str], sub_type: str, first_text: str | None, sources: list[str], post_urls: list[str],
    where: tuple[_Place, str],
) -> dict[str, Any]:
    """The event row of a strike story; `figures` are its killed, injured, children killed and
    injured; `where` its place and the notes' suffix naming the others (`_where`)."""
    date = kyiv_date(event_at)
    killed, injured, children_killed, children_injured = figures
    place, also_named = where
    return {
        "event_id_cnty": f"UKR-DSNS-{story_id}", "event_date": date,
        "year": int(date[:4]) if date else None, **_KINDS, "sub_event_type": sub_type, **_ACTOR,
        **dict(zip(_PLACE_KEYS, place.columns, strict=True)),
        "source": "; ".join(sources), "notes": _notes(first_text) + also_named,
        "fatalities": killed or 0, "injured": injured or 0,
        "children_killed": children_killed or 0, "children_injured": children_injured or 0,
        "weapons": weapons, "story_id": story_id, "post_urls": post_urls,
        "oblast": place.oblast,  # ISO code; not an ACLED column, so exports leave it out
    }


def event_of(story: dict[str, Any]) -> dict[str, Any] | None:
    """The ACLED-shaped row (EVENT_KEYS) for a strike story (as iter_stories gives it); None
    when it names no place."""
    where = _where(story["places"], story["oblasts"])
    if where is None:
        return None
    figures = (story["killed"], story["injured"], story["children_killed"], story["children_injured"])
    return _event(story["id"], story["event_at"], figures, story["weapons"], sub_event_type(story["weapons"]),
                  story.get("first_text"), story["sources"], story["post_urls"], where)


def _parts(page: list[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    """Per strike story of a page (`storage.research.strike_story_pages`) that names a place:
    (story_id, event_at, figures, weapons, sub_type, first_text, sources, post_urls, where),
    the arguments of `_event`. Places and weapons are decoded once per distinct JSON and each
    place code resolved once, so a row costs about the same at any archive size."""
    for story_id, event_at, oblasts, places, weapons, *figures, first_text, streams, urls in page:
        where = _where_of_json(places, oblasts)
        if where is None:
            continue
        named, sub_type = _weapons_of_json(weapons)
        yield (story_id, event_at, tuple(figures), named, sub_type, first_text,
               list(dict.fromkeys(streams)), urls, where)


async def iter_events(
    db: Database, *, since: datetime | None = None, until: datetime | None = None, batch: int = 1000,
) -> AsyncIterator[dict[str, Any]]:
    """One ACLED-shaped row per strike story that names a place, oldest story first.

    Strike stories come a page at a time with their posts (`storage.research.strike_story_pages`,
    which reads the next page while this one is turned into rows), so memory stays flat
    whatever the archive's size.
    """
    pages = strike_story_pages(db, since=since, until=until, batch=batch)
    try:
        async for page in pages:
            for story_id, event_at, figures, named, sub_type, first_text, sources, urls, where in _parts(page):
                yield _event(story_id, event_at, figures, list(named), sub_type, first_text, sources, urls, where)
    finally:
        await pages.aclose()  # a reader that stops early leaves no query running


class LineFormat(NamedTuple):
    """How a row becomes a line of text: `column(key)` gives the function that writes that
    column's value (with its key, where the format names keys); the columns are joined by
    `between`, after `start` and before `end`."""

    column: Callable[[str], Callable[[Any], str]]
    between: str
    start: str
    end: str


async def iter_event_lines(
    db: Database, form: LineFormat, *,
    since: datetime | None = None, until: datetime | None = None, batch: int = 1000,
) -> AsyncIterator[list[str]]:
    """`iter_events`' rows as lines of EVENT_KEYS in `form` (CSV or JSON lines: see
    `research.commands.line_format`), a page at a time, for about 60 % of the CPU time of
    making the rows and writing them: the columns every event shares and each place's and
    weapons' are written once, and no row dict is made.

    The columns are `_event`'s, in EVENT_KEYS order: tests/test_research_export.py checks that
    the lines are those `research.commands` writes of `iter_events`' rows.
    """
    write = {key: form.column(key) for key in EVENT_KEYS}
    between = form.between

    def columns(values: dict[str, Any]) -> str:
        return between.join(write[key](value) for key, value in values.items())

    kinds, actor = columns(_KINDS), columns(_ACTOR)
    places: dict[str, str] = {}  # by the unit's code, which decides its columns
    weapons: dict[tuple[str, ...], tuple[str, str]] = {}
    event_id, event_date, year, source, notes, story, urls_column = (
        write[key] for key in ("event_id_cnty", "event_date", "year", "source", "notes", "story_id", "post_urls"))
    counts = [write[key] for key in ("fatalities", "injured", "children_killed", "children_injured")]

    def line(story_id: int, event_at: str | None, figures: tuple[int | None, ...], named: tuple[str, ...],
             sub_type: str, first_text: str | None, sources: list[str], urls: list[str],
             where: tuple[_Place, str]) -> str:
        place, also_named = where
        located = places.get(place.code)
        if located is None:
            located = places[place.code] = columns(dict(zip(_PLACE_KEYS, place.columns, strict=True)))
        armed = weapons.get(named)
        if armed is None:
            armed = weapons[named] = (write["sub_event_type"](sub_type), write["weapons"](list(named)))
        date = kyiv_date(event_at)
        return between.join((
            event_id(f"UKR-DSNS-{story_id}"), event_date(date), year(int(date[:4]) if date else None), kinds,
            armed[0], actor, located, source("; ".join(sources)), notes(_notes(first_text) + also_named),
            *[write_count(figure or 0) for write_count, figure in zip(counts, figures)],
            armed[1], story(story_id), urls_column(urls),
        ))

    start, end = form.start, form.end
    pages = strike_story_pages(db, since=since, until=until, batch=batch)
    try:
        async for page in pages:
            yield [f"{start}{line(*parts)}{end}" for parts in _parts(page)]
    finally:
        await pages.aclose()


def _day(key: str | None) -> str:
    """The Kyiv date of a strike group's moment: a UTC hour ("2024-05-01T22") or a whole timestamp."""
    return (_kyiv_date_of_hour(key) if key and len(key) == 13 else kyiv_date(key)) or "?"


async def strike_stats(
    db: Database, by: str, *, since: datetime | None = None, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Strike stories counted by oblast, Kyiv day or weapon, with killed/injured sums.

    A story naming two oblasts (or weapons) counts once in each, so rows may sum to more than
    the number of strikes. One GROUP BY in SQLite; by day, its UTC hours are folded into Kyiv days.
    """
    if by != "day":
        groups = await strike_groups(db, [by], since, until)
        rows = [{by: g[by], "strikes": g["strikes"], "killed": g["killed"], "injured": g["injured"]} for g in groups]
        return sorted(rows, key=lambda r: (-r["strikes"], r[by]))
    days: dict[str, dict[str, Any]] = {}
    for g in await strike_groups(db, ["hour"], since, until):
        day = _day(g["hour"])
        row = days.setdefault(day, {"day": day, "strikes": 0, "killed": 0, "injured": 0})
        for column in ("strikes", "killed", "injured"):
            row[column] += g[column]
    return [days[k] for k in sorted(days)]


async def strikes_per_day_by_oblast(
    db: Database, *, since: datetime | None = None, until: datetime | None = None,
) -> dict[str, dict[str, int]]:
    """Strike stories per Kyiv day and oblast ("?" for none named), for the chart."""
    days: dict[str, dict[str, int]] = {}
    for g in await strike_groups(db, ["hour", "oblast"], since, until):
        per = days.setdefault(_day(g["hour"]), {})
        per[g["oblast"]] = per.get(g["oblast"], 0) + g["strikes"]
    return days


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
