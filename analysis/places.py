"""Places as people name and pick them: display names in the reader's language, labels that tell
namesakes apart, queries narrowed by the region around a place, and places near a point.

One implementation for the bot (buttons, alerts) and the research CLI (`--region`):

    places = find_places("Іванівка, Чугуївський район")   # narrowed to the one in Chuhuiv raion
    if needs_choice(places): [label(get_gazetteer().unit(p.code)) for p in places]
    unit_name(unit, "en")  -> "Chuhuivska hromada";  latin("Куп’янськ") -> "Kupiansk"
"""

from __future__ import annotations

import math
import re

from translitua import UkrainianKMU, translit

from analysis._lexicon import norm, ru_skeleton
from analysis._regex import compiled
from analysis.gazetteer import ISO_NAMES_EN, Unit, get_gazetteer
from analysis.model import Place
from analysis.regions import resolve_region

__all__ = [
    "latin", "unit_name", "oblast_name", "place_name", "label", "labels", "find_places", "needs_choice", "nearest",
    "within", "distance_km", "covering", "EARTH_KM",
]

EARTH_KM = 6371.0
_SHORT = {"uk": {"hromada": "громада", "raion": "р-н"}, "en": {"hromada": "hromada", "raion": "raion"}}
_CYRILLIC = compiled(r"[а-яґєіїё]", re.IGNORECASE)
_UKRAINIAN = compiled(r"[ґєії']", re.IGNORECASE)  # letters (and the apostrophe) Russian spelling has not
_AREA_LEVELS = ("oblast", "city", "raion", "hromada")
_KATOTTH = compiled(r"^UA\d{17}$")


def latin(text: str) -> str:
    """Ukrainian text in the official Latin spelling (KMU resolution 55 of 2010): "Згорани" ->
    "Zghorany", "Куп’янськ" -> "Kupiansk". Latin text is returned as it is."""
    return translit(text, UkrainianKMU)


def oblast_name(iso: str, lang: str) -> str:
    """An oblast (or Kyiv, Sevastopol, Crimea) by ISO code: "Харківська область" / "Kharkiv
    oblast" — not a bare "Kharkiv", which readers take for the city."""
    if lang == "en":
        name = ISO_NAMES_EN.get(iso, iso)
        standalone = iso not in ISO_NAMES_EN or iso in _NAMED_AS_THEY_ARE or name.endswith(" oblast")
        return name if standalone else f"{name} oblast"
    try:
        return get_gazetteer().oblast_unit(iso).title
    except KeyError:
        return iso


# Crimea, Kyiv and Sevastopol are no oblasts: their English names stand alone.
_NAMED_AS_THEY_ARE = frozenset({"UA-43", "UA-30", "UA-40"})


def unit_name(unit: Unit, lang: str) -> str:
    """A unit's readable name in `lang`: "Чугуївська громада" / "Chuhuivska hromada"."""
    if unit.level in ("oblast", "city"):
        return oblast_name(unit.oblast, lang)
    return latin(unit.title) if lang == "en" else unit.title


def place_name(name: str, lang: str) -> str:
    """A place name as stored with a story (Ukrainian), in `lang`."""
    return latin(name) if lang == "en" else name


def label(unit: Unit, lang: str = "uk") -> str:
    """A name that tells namesakes apart: "Іванівка — Чугуївська громада, Чугуївський р-н".

    Settlements show their hromada and raion, hromadas their raion, raions and city districts
    the oblast or city they belong to; oblasts are unique and shown as they are.
    """
    g = get_gazetteer()
    short = _SHORT["en" if lang == "en" else "uk"]
    name = unit_name(unit, lang)
    parts = []
    if unit.level in ("settlement", "hromada"):
        if unit.level == "settlement" and unit.hromada_code in g.units:
            parts.append(unit_name(g.units[unit.hromada_code], lang))
        if unit.raion_code in g.units:
            raion = g.units[unit.raion_code]
            raion_name = latin(raion.name_uk) if lang == "en" else raion.name_uk
            parts.append(f"{raion_name} {short['raion']}")
    elif unit.level in ("raion", "city_district") and unit.parent in g.units:
        parts.append(unit_name(g.units[unit.parent], lang))
    return f"{name} — {', '.join(parts)}" if parts else name


def labels(units: list[Unit], lang: str = "uk") -> list[str]:
    """`label` of each unit; namesakes in one hromada (three Іванівка in Барвінківська громада)
    are told apart by their distance from the hromada's centre instead of the raion."""
    out = [label(u, lang) for u in units]
    counts: dict[str, int] = {}
    for text in out:
        counts[text] = counts.get(text, 0) + 1
    g = get_gazetteer()
    for i, u in enumerate(units):
        hromada = g.units.get(u.hromada_code)
        centre = g.units.get(hromada.centre) if hromada else None
        if counts[out[i]] < 2 or hromada is None or centre is None or None in (u.lat, centre.lat):
            continue
        km = round(distance_km(u.lat, u.lon, centre.lat, centre.lon))  # type: ignore[arg-type]
        where = f"{km} km from the centre" if lang == "en" else f"{km} км від центру"
        out[i] = f"{unit_name(u, lang)} — {unit_name(hromada, lang)}, {where}"
    return out


def find_places(query: str) -> list[Place]:
    """Places a user means by `query`, best first, as `resolve_region` finds them, but also when
    the name is followed by the area it lies in, in any of the three languages: "Іванівка
    Харківська", "Іванівка, Чугуївський район", "Ivanivka Kharkiv", "Ивановка Харьковская".
    A KATOTTH code (UA63140150050055542) names its unit.
    """
    code = query.strip().upper()
    if _KATOTTH.match(code):
        unit = get_gazetteer().units.get(code)
        return [Place(unit.code, unit.title, unit.level, unit.oblast)] if unit else []
    places = _with_russian(query, resolve_region(query))
    if places:
        return places
    if "," in query:
        head, _, tail = query.partition(",")
        splits = [(head, tail.replace(",", " "))]
    else:
        tokens = query.split()
        splits = [(" ".join(tokens[:k]), " ".join(tokens[k:])) for k in range(len(tokens) - 1, 0, -1)]
    g = get_gazetteer()
    for name, area_query in splits:
        if not name.strip() or not area_query.strip():
            continue
        candidates = _with_russian(name, resolve_region(name))
        areas = _areas(area_query)
        if not candidates or not areas:
            continue
        narrowed = [p for p in candidates if any(g.contains(a, p.code) for a in areas)]
        if narrowed:
            return narrowed
    return []


def _with_russian(query: str, places: list[Place]) -> list[Place]:
    """Settlements whose Ukrainian name is spelt `query` in Russian (Ивановка: every Іванівка),
    added when the query is not itself one of the names found."""
    text = norm(query.strip())
    if not _CYRILLIC.search(text) or _UKRAINIAN.search(text) or " " in text or any(norm(p.name) == text for p in places):
        return places
    seen = {p.code for p in places}
    g = get_gazetteer()
    found = [u for u in g.ru_index().get(ru_skeleton(text), ()) if u.code not in seen]
    found.sort(key=lambda u: -u.population)
    return places + [Place(u.code, u.title, u.level, u.oblast) for u in found]


def _areas(query: str) -> list[str]:
    """Codes of the areas a narrowing phrase may mean: "Харківська" the oblast, raion or hromada,
    "Kharkiv" the city and every unit it is the centre of (the oblast among them)."""
    g = get_gazetteer()
    out: list[str] = []
    for p in resolve_region(query):
        if p.level in _AREA_LEVELS:
            out.append(p.oblast if p.level in ("oblast", "city") else p.code)
        for code in g.centre_of.get(p.code, ()):
            unit = g.units[code]
            out.append(unit.oblast if unit.level in ("oblast", "city") else code)
    return list(dict.fromkeys(out))


def needs_choice(places: list[Place]) -> bool:
    """True when the user must choose: several places share the name and none clearly dominates.

    A city far bigger than its namesakes (Балаклія the town, not the village) wins outright.
    """
    if len(places) <= 1 or places[0].level in ("oblast", "city"):
        return False
    top, second = places[0], places[1]
    if top.name.lower() != second.name.lower():
        return False
    g = get_gazetteer()
    big, small = g.unit(top.code).population, g.unit(second.code).population
    return not (big >= 10_000 and big >= 10 * max(small, 1))


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(a))


def _settlements() -> list[Unit]:
    return [u for u in get_gazetteer().units.values() if u.level == "settlement" and u.lat is not None]


def nearest(lat: float, lon: float) -> Unit | None:
    """The settlement nearest to a point (the gazetteer has points, not boundaries)."""
    best: tuple[float, Unit] | None = None
    for u in _settlements():
        d = distance_km(lat, lon, u.lat, u.lon)  # type: ignore[arg-type]
        if best is None or d < best[0]:
            best = (d, u)
    return best[1] if best else None


def within(lat: float, lon: float, km: float) -> list[Unit]:
    """Settlements within `km` of a point, nearest first."""
    found = []
    for u in _settlements():
        d = distance_km(lat, lon, u.lat, u.lon)  # type: ignore[arg-type]
        if d <= km:
            found.append((d, u))
    found.sort(key=lambda e: e[0])
    return [u for _, u in found]


def covering(units: list[Unit]) -> list[Unit]:
    """The fewest units naming the same settlements: a hromada all of whose settlements are in
    `units` stands for them ("every place within 15 km" stays a short list)."""
    g = get_gazetteer()
    chosen = {u.code for u in units}
    members: dict[str, list[str]] = {}
    for u in g.units.values():
        if u.level == "settlement" and u.hromada_code:
            members.setdefault(u.hromada_code, []).append(u.code)
    out: list[Unit] = []
    done: set[str] = set()
    for u in units:
        hromada = u.hromada_code
        if hromada in done:
            continue
        if hromada and all(code in chosen for code in members.get(hromada, ())):
            done.add(hromada)
            out.append(g.units[hromada])
        else:
            out.append(u)
    return out
