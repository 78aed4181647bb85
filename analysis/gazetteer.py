"""The gazetteer: every Ukrainian administrative unit and settlement, loaded once from package data.

Built by ``scripts/build_gazetteer.py`` from the official codifier (КАТОТТГ) joined with OCHA COD-AB
and OpenStreetMap names (see NOTICE). Oblasts are addressed by ISO 3166-2 code, everything else by
KATOTTH code.
"""

from __future__ import annotations

import functools
import gc
import marshal
import sys
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from sys import intern
from typing import Any

from analysis._cache import cache_dir, write_whole
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


class _Units(dict):  # type: ignore[type-arg]
    """Code -> Unit, each made from the stored columns when first asked for: a run reads a few
    hundred of the 31,748, and making them all cost a cached start a fifth of its time. A unit
    made already is the plain dict lookup; `in`, `len`, iteration and `values` see them all."""

    __slots__ = ("_rows", "_index")

    def __init__(self, rows: tuple[tuple[Any, ...], ...]) -> None:
        super().__init__()
        self._rows = rows
        self._index = dict(zip(rows[0], range(len(rows[0]))))

    def at(self, k: int) -> Unit:
        """The unit of row `k`: always the same object (another thread's, if it made it first)."""
        code = self._rows[0][k]
        unit = dict.get(self, code)
        if unit is None:
            unit = dict.setdefault(self, code, Unit(*(column[k] for column in self._rows)))
        return unit

    def __missing__(self, code: str) -> Unit:
        return self.at(self._index[code])

    def __contains__(self, code: object) -> bool:
        return code in self._index

    def get(self, code: str, default: Any = None) -> Any:  # type: ignore[override]
        k = self._index.get(code)
        return default if k is None else self.at(k)

    def __len__(self) -> int:
        return len(self._index)

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def keys(self) -> Any:
        return self._index.keys()

    def values(self) -> Iterator[Unit]:  # type: ignore[override]
        return map(self.at, range(len(self._index)))

    def items(self) -> Iterator[tuple[str, Unit]]:  # type: ignore[override]
        return ((u.code, u) for u in self.values())


class _Names(dict):  # type: ignore[type-arg]
    """Name key -> [(unit, kind)], the units kept as row indexes (`_Units.at`) until a key is
    asked for: a text asks for a handful, and making all 69,000 pairs costs a cached start-up
    half its time. `in` stays the plain dict test the matcher's inner loop makes."""

    __slots__ = ("at",)

    def __init__(self, units: _Units, items: dict[Any, tuple[int, ...]]) -> None:
        super().__init__(items)
        self.at = units.at

    def _entries(self, indexes: tuple[int, ...]) -> list[Any]:  # ~index for an adjective name ("A")
        at = self.at
        return [(at(k), "P") if k >= 0 else (at(~k), "A") for k in indexes]

    def __getitem__(self, key: Any) -> list[Any]:
        entries = dict.__getitem__(self, key)
        if type(entries) is tuple:  # unit indexes
            entries = self._entries(entries)
            dict.__setitem__(self, key, entries)
        return entries

    def get(self, key: Any, default: Any = None) -> Any:
        return self[key] if key in self else default

    def values(self) -> Iterator[list[Any]]:  # type: ignore[override]
        return (self[key] for key in self)

    def items(self) -> Iterator[tuple[Any, list[Any]]]:  # type: ignore[override]
        return ((key, self[key]) for key in self)


class _RuIndex(_Names):
    """Skeleton -> settlements, kept as unit indexes the same way."""

    __slots__ = ()

    def _entries(self, indexes: tuple[int, ...]) -> list[Any]:
        return list(map(self.at, indexes))


_item = list.__getitem__


class _Paradigms(list):  # type: ignore[type-arg]
    """Paradigms (sets of endings) kept as "|"-joined strings until one is asked for: a text
    asks for a few dozen of the 1,200, and loading them all as sets costs a tenth of a start."""

    def __getitem__(self, pid: Any) -> Any:
        got = list.__getitem__(self, pid)
        if type(got) is str:
            got = frozenset(got.split("|"))
            list.__setitem__(self, pid, got)
        return got

    def __iter__(self) -> Iterator[frozenset[str]]:
        return (self[k] for k in range(len(self)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, list) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]


class Gazetteer:
    """Units by code plus the name index the region matcher searches.

    `names` maps a tuple of lemma words to (unit, kind) pairs: kind "P" is a name that stands
    alone (Балаклія, Харківщина), "A" an adjective that names a unit only before a level word
    (Харківська область, Ізюмський район). `stems`/`paradigms` lemmatise a text token.
    """

    def __init__(self, unit_lines: list[str], lexicon_lines: list[str]) -> None:
        self._empty()
        self._load_units(unit_lines)
        self._load_lexicon(lexicon_lines)

    def _empty(self) -> None:
        self.units: dict[str, Unit] = {}
        self.names: dict[tuple[str, ...], list[tuple[Unit, str]]] = {}
        self.prefixes: set[tuple[str, ...]] = set()
        self.centre_of: dict[str, list[str]] = {}
        self._oblasts: dict[str, Unit] = {}
        self._raions: dict[str, list[Unit]] = {}
        self._ru_index: dict[str, list[Unit]] | None = None
        self._ru_units: _Units | None = None
        self._ru_dump: bytes | None = None  # a cached copy's index, not yet loaded

    def _file(self, level: str, iso: str, u: Unit) -> None:
        if level in ("oblast", "city"):
            self._oblasts[iso] = u
        elif level == "raion":
            self._raions.setdefault(iso, []).append(u)

    def _load_units(self, lines: list[str]) -> None:
        units = self.units
        for line in lines[1:]:
            (code, cat, level, iso, parent, name_uk, name_en, lat, lon, pop, centre, p_names,
             a_names) = line.split("\t")
            cat, level, iso = intern(cat), intern(level), intern(iso)  # one string each, not 31,000
            up = units.get(parent)
            parent = up.code if up else ""  # share the parent's string instead of a copy per row
            raion = code if level == "raion" else (up.raion_code if up else "")
            hromada = code if level == "hromada" else (up.hromada_code if up else "")
            latin = name_en.split("|") if name_en else []
            u = Unit(code, cat, level, name_uk, latin[0] if latin else "", iso, parent, raion, hromada,
                     float(lat) if lat else None, float(lon) if lon else None, int(pop or 0), centre)
            units[code] = u
            self._file(level, iso, u)
            if centre:
                self.centre_of.setdefault(centre, []).append(code)
            for n in p_names.split("|") if p_names else ():
                self._add_key(tuple(map(intern, n.split(" "))), u, "P")
            for n in a_names.split("|") if a_names else ():
                self._add_key(tuple(map(intern, n.split(" "))), u, "A")

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
                paradigms.append(frozenset(map(intern, parts[2].split("|"))))
            elif parts[0] == "L":
                lemma, stem_len, pid = intern(parts[1]), int(parts[2]), int(parts[3])
                stems.setdefault(lemma[:stem_len], []).append((lemma, pid))
            elif parts[0] == "C":
                self.common.add(tuple(map(intern, parts[1].split(" "))))
        self.paradigms = paradigms
        self.stems = stems
        self.max_suffix = max((len(s) for p in paradigms for s in p), default=0)

    # -- a prebuilt copy ---------------------------------------------------------------------
    # Building the indexes from the TSV files costs most of a short run's start-up; their marshal
    # dump loads several times faster. Units are rows and every reference to one an index into
    # them (~index for an adjective name), so the dump holds each unit once; name words, lemmas
    # and endings are interned when built, so the dump and the loaded copy hold each string once.

    def _state(self) -> tuple[object, ...]:
        index = {u.code: k for k, u in enumerate(self.units.values())}
        # By column: thirteen tuples load faster than 31,000 rows of thirteen.
        rows = tuple(zip(*((u.code, u.category, u.level, u.name_uk, u.name_en, u.oblast, u.parent, u.raion_code,
                            u.hromada_code, u.lat, u.lon, u.population, u.centre) for u in self.units.values())))
        names = {key: tuple(index[u.code] if kind == "P" else ~index[u.code] for u, kind in self.names[key])
                 for key in self.names}
        # Dumped apart and loaded on the first Russian text: many runs never read one.
        ru = marshal.dumps({key: tuple(index[u.code] for u in entries) for key, entries in self.ru_index().items()})
        paradigms = tuple("|".join(sorted(p)) for p in self.paradigms)
        filed = (tuple(index[u.code] for u in self._oblasts.values()),
                 {iso: tuple(index[u.code] for u in raions) for iso, raions in self._raions.items()})
        return (rows, names, self.prefixes, self.centre_of, paradigms, self.stems, self.common,
                self.max_suffix, ru, filed)

    @classmethod
    def _from_state(cls, state: tuple[Any, ...]) -> Gazetteer:
        rows, names, prefixes, centre_of, paradigms, stems, common, max_suffix, ru, (oblasts, raions) = state
        g = cls.__new__(cls)
        g._empty()
        g.units = units = _Units(rows)
        g._oblasts = {units.at(k).oblast: units.at(k) for k in oblasts}
        g._raions = {iso: list(map(units.at, ks)) for iso, ks in raions.items()}
        g.names = _Names(units, names)
        g.prefixes, g.centre_of, g.paradigms, g.stems = prefixes, centre_of, _Paradigms(paradigms), stems
        g.common, g.max_suffix = common, max_suffix
        g._ru_units, g._ru_dump = units, ru
        return g

    # -- lookup -----------------------------------------------------------------------------

    def lemmas(self, token: str) -> tuple[str, ...]:
        """Name words an (already normalised) Cyrillic token can be a form of: "харкові" -> ("харків",)."""
        out: list[str] = []
        n = len(token)
        stems, paradigms = self.stems, self.paradigms
        for m in range(n, max(n - self.max_suffix, 1) - 1, -1):  # the longest stem first
            entries = stems.get(token[:m])
            if entries:
                suffix = token[m:]
                for lemma, pid in entries:
                    endings = _item(paradigms, pid)  # the list's own lookup, not a Python call
                    if type(endings) is str:  # not yet made a set (`_Paradigms`)
                        endings = paradigms[pid]
                    if suffix in endings and lemma not in out:
                        out.append(lemma)
        return tuple(out)

    @functools.cached_property
    def lemma_set(self) -> set[str]:
        """Every name word: made on first use (pymorphy3's fallback), not loaded with the rest."""
        return {lemma for entries in self.stems.values() for lemma, _ in entries}

    def ru_index(self) -> dict[str, list[Unit]]:
        """Settlements by the consonant skeleton of their Ukrainian name (`ru_skeleton`), made on
        the first Russian text: the Russian spelling of any village without storing one."""
        index = self._ru_index
        if index is None:
            if self._ru_units is not None and self._ru_dump is not None:
                index = _RuIndex(self._ru_units, marshal.loads(self._ru_dump))
                self._ru_dump = None
            else:
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


_SOURCES = ("gazetteer.tsv.gz", "lexicon.tsv.gz")
# Bump when `Gazetteer._state` changes shape.
_CACHE_FORMAT = 5


def _read(name: str) -> list[str]:
    import gzip  # here: only a build reads the TSV files

    return gzip.decompress(_data(name)).decode("utf-8").splitlines()


def _data(name: str) -> bytes:
    # Beside this module, not through importlib.resources: importing that (with tempfile, shutil,
    # random, bz2, lzma) cost more than the read, and nothing else the analyser runs needs it.
    return (_DATA / name).read_bytes()


_DATA = Path(__file__).resolve().parent / "data"


def build_gazetteer() -> Gazetteer:
    """A gazetteer built from the package's TSV files, no cache involved."""
    return Gazetteer(_read(_SOURCES[0]), _read(_SOURCES[1]))


def cache_path() -> Path | None:
    """Where the prebuilt gazetteer of this package data and this Python is kept: the user's
    cache folder (`analysis._cache.cache_dir`), the file named by a hash of the data, so new data
    or a new Python never reads an old copy. None when caching is off."""
    root = cache_dir()
    if root is None:
        return None
    # CRC-32 and sizes, not a cryptographic hash: loading hashlib (OpenSSL) cost more than the
    # whole check, and telling our own data versions apart needs no protection from forgery.
    key = f"{_CACHE_FORMAT}-{marshal.version}-{sys.version_info[0]}{sys.version_info[1]}"
    for name in _SOURCES:
        data = _data(name)
        key += f"-{len(data):x}-{zlib.crc32(data):08x}"
    return root / f"gazetteer-{key}.marshal"


def load_gazetteer() -> Gazetteer:
    """The prebuilt gazetteer from the user's cache, or one built from the TSV files and cached
    for the next process. A cache that cannot be read or written only costs the build."""
    path = cache_path()
    if path is not None:
        collecting = gc.isenabled()
        gc.disable()  # a million new objects, none garbage: collections would halve the speed
        try:
            return Gazetteer._from_state(marshal.loads(path.read_bytes()))
        except (OSError, EOFError, ValueError, TypeError, IndexError, KeyError):
            pass  # absent, unreadable or from an older build: build it again
        finally:
            if collecting:
                gc.enable()
    g = build_gazetteer()
    if path is not None:
        write_whole(path, marshal.dumps(g._state()), "gazetteer-*.marshal")  # old copies: ~8 MB each
    return g


def get_gazetteer() -> Gazetteer:
    """The process-wide gazetteer, loaded on first use (`load_gazetteer`)."""
    global _instance
    if _instance is None:
        with _lock:
            if _instance is None:
                _instance = load_gazetteer()
    return _instance


def iso_of_katotth(code: str) -> str:
    """ISO 3166-2 oblast code of a KATOTTH code ("UA63..." -> "UA-63", "UA80..." -> "UA-30")."""
    return KATOTTH_TO_ISO[code[2:4]]
