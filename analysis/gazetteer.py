"""The gazetteer: every Ukrainian administrative unit and settlement, loaded once from package data.

Built by ``scripts/build_gazetteer.py`` from the official codifier (КАТОТТГ) joined with OCHA COD-AB
and OpenStreetMap names (see NOTICE). Oblasts are addressed by ISO 3166-2 code, everything else by
KATOTTH code.
"""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass
from importlib import resources

from analysis._lexicon import KATOTTH_TO_ISO, ru_skeleton

__all__ = ["Unit", "Gazetteer", "get_gazetteer", "ISO_NAMES_EN"]

ISO_NAMES_EN: dict[str, str] = {
    "UA-05": "Vinnytsia", "UA-07": "Volyn", "UA-09": "Luhansk", "UA-12": "Dnipropetrovsk",
    "UA-14": "Donetsk", "UA-18": "Zhytomyr", "UA-21": "Zakarpattia", "UA-23": "Zaporizhzhia",
    "UA-26": "Ivano-Frankivsk", "UA-30": "Kyiv", "UA-32": "Kyiv oblast", "UA-35": "Kirovohrad",
    "UA-40": "Sevastopol", "UA-43": "Crimea", "UA-46": "Lviv", "UA-48": "Mykolaiv", "UA-51": "Odesa",
    "UA-53": "Poltava", "UA-56": "Rivne", "UA-59": "Sumy", "UA-61": "Ternopil", "UA-63": "Kharkiv",
    "UA-65": "Kherson", "UA-68": "Khmelnytskyi", "UA-71": "Cherkasy", "UA-74": "Chernihiv",
    "UA-77": "Chernivtsi",
}
_UK_ALPHABET = "'-  абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"
_UK_ORDER = {c: i for i, c in enumerate(_UK_ALPHABET)}
# Crimea is a republic, not an "область": only the adjective names take the word.
_SUFFIX = {"raion": " район", "hromada": " громада", "city_district": " район"}


def uk_sort_key(name: str) -> tuple[int, ...]:
    """Ukrainian alphabetical order (Python's code-point order puts і, ї, є after я)."""
    return tuple(_UK_ORDER.get(c, 100 + ord(c)) for c in name.lower())


@dataclass(slots=True, eq=False)  # not frozen: frozen __init__ is 3x slower for 31k rows
class Unit:
    """One administrative unit or settlement.

    `level` is oblast, city (Kyiv, Sevastopol), raion, hromada, settlement or city_district;
    `category` the codifier letter (O, K, P, H, M city, X selyshche, C village, B city district);
    `oblast` the ISO 3166-2 code; `raion_code`/`hromada_code` empty where not applicable.
    """

    code: str
    category: str
    level: str
    name_uk: str
    name_en: str
    oblast: str
    parent: str
    raion_code: str
    hromada_code: str
    lat: float | None
    lon: float | None
    population: int
    centre: str

    @property
    def title(self) -> str:
        """Readable Ukrainian name: "Харківська область", "Ізюмський район", "Балаклія"."""
        if self.category == "O" and self.name_uk.endswith("а"):
            return self.name_uk + " область"
        return self.name_uk + _SUFFIX.get(self.level, "")


class Gazetteer:
    """Units by code plus the name index the region matcher searches.

    `names` maps a tuple of lemma words to (unit, kind) pairs: kind "P" is a name that stands
    alone (Балаклія, Харківщина), "A" an adjective that names a unit only before a level word
    (Харківська область, Ізюмський район). `stems`/`paradigms` lemmatise a text token.
    """

    def __init__(self, unit_lines: list[str], lexicon_lines: list[str]) -> None:
        self.units: dict[str, Unit] = {}
        self.names: dict[tuple[str, ...], list[tuple[Unit, str]]] = {}
        self.prefixes: set[tuple[str, ...]] = set()
        self.centre_of: dict[str, list[str]] = {}
        self._oblasts: dict[str, Unit] = {}
        self._raions: dict[str, list[Unit]] = {}
        self._ru_index: dict[str, list[Unit]] | None = None
        self._load_units(unit_lines)
        self._load_lexicon(lexicon_lines)

    def _load_units(self, lines: list[str]) -> None:
        units = self.units
        for line in lines[1:]:
            (code, cat, level, iso, parent, name_uk, name_en, lat, lon, pop, centre, p_names,
             a_names) = line.split("\t")
            up = units.get(parent)
            parent = up.code if up else ""  # share the parent's string instead of a copy per row
            raion = code if level == "raion" else (up.raion_code if up else "")
            hromada = code if level == "hromada" else (up.hromada_code if up else "")
            latin = name_en.split("|") if name_en else []
            u = Unit(code, cat, level, name_uk, latin[0] if latin else "", iso, parent, raion, hromada,
                     float(lat) if lat else None, float(lon) if lon else None, int(pop or 0), centre)
            units[code] = u
            if level in ("oblast", "city"):
                self._oblasts[iso] = u
            elif level == "raion":
                self._raions.setdefault(iso, []).append(u)
            if centre:
                self.centre_of.setdefault(centre, []).append(code)
            for n in p_names.split("|") if p_names else ():
                self._add_key(tuple(n.split(" ")), u, "P")
            for n in a_names.split("|") if a_names else ():
                self._add_key(tuple(n.split(" ")), u, "A")

    def _add_key(self, key: tuple[str, ...], unit: Unit, kind: str) -> None:
        entries = self.names.get(key)
        if entries is None:
            self.names[key] = [(unit, kind)]
            for i in range(1, len(key)):
                self.prefixes.add(key[:i])
        else:  # the build already de-duplicated each unit's keys
            entries.append((unit, kind))

    def _load_lexicon(self, lines: list[str]) -> None:
        paradigms: list[frozenset[str]] = []
        stems: dict[str, list[tuple[str, int]]] = {}
        self.common: set[tuple[str, ...]] = set()
        for line in lines:
            parts = line.split("\t")
            if parts[0] == "P":
                paradigms.append(frozenset(parts[2].split("|")))
            elif parts[0] == "L":
                lemma, stem_len, pid = parts[1], int(parts[2]), int(parts[3])
                stems.setdefault(lemma[:stem_len], []).append((lemma, pid))
            elif parts[0] == "C":
                self.common.add(tuple(parts[1].split(" ")))
        self.paradigms = paradigms
        self.stems = stems
        self.max_suffix = max((len(s) for p in paradigms for s in p), default=0)
        self.lemma_set = {lemma for entries in stems.values() for lemma, _ in entries}

    # -- lookup -----------------------------------------------------------------------------

    def lemmas(self, token: str) -> tuple[str, ...]:
        """Name words an (already normalised) Cyrillic token can be a form of: "харкові" -> ("харків",)."""
        out: list[str] = []
        n = len(token)
        for k in range(0, min(self.max_suffix, n - 1) + 1):
            entries = self.stems.get(token[: n - k])
            if entries:
                suffix = token[n - k:]
                for lemma, pid in entries:
                    if suffix in self.paradigms[pid] and lemma not in out:
                        out.append(lemma)
        return tuple(out)

    def ru_index(self) -> dict[str, list[Unit]]:
        """Settlements by the consonant skeleton of their Ukrainian name (`ru_skeleton`), built on
        the first Russian text: the Russian spelling of any village without storing one."""
        index = self._ru_index
        if index is None:
            index = {}
            for u in self.units.values():
                if u.level == "settlement" and len(u.name_uk) > 3:
                    index.setdefault(ru_skeleton(u.name_uk.lower()), []).append(u)
            self._ru_index = index
        return index

    def unit(self, code: str) -> Unit:
        """The unit with this KATOTTH code (or an oblast's ISO code); KeyError if unknown."""
        if code.upper().startswith("UA-"):
            return self.oblast_unit(code)
        return self.units[code]

    def oblast_unit(self, iso: str) -> Unit:
        """The oblast (or Kyiv/Sevastopol city) unit for an ISO 3166-2 code such as "UA-63"."""
        return self._oblasts[iso.upper()]

    def oblasts(self) -> list[Unit]:
        """The 27 first-level units (24 oblasts, Crimea, Kyiv, Sevastopol) in Ukrainian order."""
        return sorted(self._oblasts.values(), key=lambda u: uk_sort_key(u.name_uk))

    def raions(self, oblast_iso: str) -> list[Unit]:
        """Raions of an oblast in Ukrainian order (empty for Kyiv and Sevastopol)."""
        return sorted(self._raions.get(oblast_iso.upper(), []), key=lambda u: uk_sort_key(u.name_uk))

    def ancestors(self, code: str) -> list[str]:
        """Codes of the units containing `code`, nearest first (hromada, raion, oblast).

        City districts list their city first. The oblast is given by its KATOTTH code.
        """
        out: list[str] = []
        u = self.unit(code)
        while u.parent:
            out.append(u.parent)
            u = self.units[u.parent]
        return out

    def contains(self, region_code: str, place_code: str) -> bool:
        """True when `place_code` lies in `region_code` (ISO for oblasts, KATOTTH otherwise).

        A unit contains itself.
        """
        region = self.unit(region_code)
        place = self.unit(place_code)
        if region.level in ("oblast", "city"):
            return place.oblast == region.oblast
        return region.code == place.code or region.code in self.ancestors(place.code)


_lock = threading.Lock()
_instance: Gazetteer | None = None


def _read(name: str) -> list[str]:
    data = resources.files("analysis").joinpath("data", name).read_bytes()
    return gzip.decompress(data).decode("utf-8").splitlines()


def get_gazetteer() -> Gazetteer:
    """The process-wide gazetteer, loaded from package data on first use."""
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                _instance = Gazetteer(_read("gazetteer.tsv.gz"), _read("lexicon.tsv.gz"))
    return _instance


def iso_of_katotth(code: str) -> str:
    """ISO 3166-2 oblast code of a KATOTTH code ("UA63..." -> "UA-63", "UA80..." -> "UA-30")."""
    return KATOTTH_TO_ISO[code[2:4]]
