"""The committed gazetteer: codes, hierarchy, ISO mapping, load time."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from analysis.gazetteer import ISO_NAMES_EN, cache_path, get_gazetteer, load_gazetteer

KHARKIV = "UA63120270010096107"
KHOLODNOHIRSKYI = "UA63120270010877312"
BALAKLIIA_KH = "UA63040010010039074"


def test_loads_fast_and_once() -> None:
    start = time.perf_counter()
    g = get_gazetteer()
    assert time.perf_counter() - start < 1.0
    assert get_gazetteer() is g
    assert len(g.units) == 31_748


def _facts(g: object) -> tuple[object, ...]:
    """What the matcher and the rest of the program read from a gazetteer, as plain values."""
    units = [tuple(getattr(u, f) for f in ("code", "category", "level", "name_uk", "name_en", "oblast", "parent",
                                            "raion_code", "hromada_code", "lat", "lon", "population", "centre"))
             for u in g.units.values()]
    names = {k: [(u.code, kind) for u, kind in g.names[k]] for k in g.names}
    ru = {k: [u.code for u in v] for k, v in g.ru_index().items()}
    return (units, names, g.prefixes, g.centre_of, g.paradigms, g.stems, g.common, g.lemma_set, g.max_suffix, ru,
            [u.code for u in g.oblasts()], [u.code for u in g.raions("UA-63")])


def test_the_cached_gazetteer_is_the_built_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSNS_CACHE_DIR", str(tmp_path))
    path = cache_path()
    assert path is not None and path.parent == tmp_path
    path.write_bytes(b"\x00 not a marshal dump")  # a broken cache costs a build, nothing else
    stale = tmp_path / "gazetteer-0000.marshal"  # an older data's
    stale.write_bytes(b"old")
    built = load_gazetteer()
    assert path.stat().st_size > 1_000_000  # rewritten
    assert not stale.exists() and [p.name for p in tmp_path.iterdir()] == [path.name]
    cached = load_gazetteer()
    assert cached.names.get(("балаклія",)) == cached.names[("балаклія",)]
    # units are made when first reached, each once, however reached (a name, a code, a parent)
    assert BALAKLIIA_KH in cached.units and "UA00000000000000000" not in cached.units
    assert len(cached.units) == len(built.units) and cached.units.get("UA00000000000000000") is None
    kharkiv = cached.units[KHARKIV]
    assert any(u is kharkiv for u, _ in cached.names[("харків",)])
    assert cached.units[cached.units[KHOLODNOHIRSKYI].parent] is kharkiv
    facts = _facts(built)
    assert _facts(cached) == facts
    assert {k: [(u.code, kind) for u, kind in v] for k, v in cached.names.items()} == facts[1]
    monkeypatch.setenv("DSNS_CACHE_DIR", "")
    assert cache_path() is None  # caching off


def test_27_first_level_units_in_ukrainian_order() -> None:
    obl = get_gazetteer().oblasts()
    assert len(obl) == 27
    assert {u.oblast for u in obl} == set(ISO_NAMES_EN)
    names = [u.name_uk for u in obl]
    # і/ї/є sort inside the alphabet, not after я.
    assert names.index("Івано-Франківська") < names.index("Київ") < names.index("Київська")
    assert names.index("Житомирська") < names.index("Закарпатська")


@pytest.mark.parametrize("iso, name", [
    ("UA-63", "Харківська"), ("UA-09", "Луганська"), ("UA-77", "Чернівецька"), ("UA-43", "Автономна Республіка Крим"),
    ("UA-30", "Київ"), ("UA-32", "Київська"), ("UA-40", "Севастополь"), ("UA-74", "Чернігівська"),
])
def test_iso_codes(iso: str, name: str) -> None:
    assert get_gazetteer().oblast_unit(iso).name_uk == name


def test_unit_fields() -> None:
    u = get_gazetteer().unit(KHARKIV)
    assert (u.name_uk, u.name_en, u.level, u.oblast) == ("Харків", "Kharkiv", "settlement", "UA-63")
    assert u.population > 1_000_000 and 49 < (u.lat or 0) < 51
    assert u.raion_code == "UA63120000000091135" and u.hromada_code == "UA63120270000028556"
    assert get_gazetteer().unit("UA80000000000093317").level == "city"


def test_ancestors_and_contains() -> None:
    g = get_gazetteer()
    assert g.ancestors(KHOLODNOHIRSKYI) == [KHARKIV, "UA63120270000028556", "UA63120000000091135",
                                            "UA63000000000041885"]
    assert g.contains("UA-63", KHOLODNOHIRSKYI)
    assert g.contains("UA63040000000023521", BALAKLIIA_KH)  # Ізюмський район
    assert not g.contains("UA63120000000091135", BALAKLIIA_KH)
    assert not g.contains("UA-53", BALAKLIIA_KH)
    assert g.contains("UA-30", "UA80000000000093317") and not g.contains("UA-32", "UA80000000000093317")


def test_raions() -> None:
    g = get_gazetteer()
    assert [u.name_uk for u in g.raions("UA-63")][:3] == ["Берестинський", "Богодухівський", "Ізюмський"]
    assert len(g.raions("UA-63")) == 7 and g.raions("UA-30") == []


@pytest.mark.parametrize("form, lemma", [
    ("харкові", "харків"), ("балаклії", "балаклія"), ("розі", "ріг"), ("києві", "київ"),
    ("харківщиною", "харківщина"), ("харьковской", "харьковская"), ("сумах", "суми"),
])
def test_lemmas(form: str, lemma: str) -> None:
    assert lemma in get_gazetteer().lemmas(form)


def test_colloquial_raion_name_never_hides_its_centre() -> None:
    # "Запоріжжя" (the -жжя form of Запорізький район) is only the city's name.
    g = get_gazetteer()
    assert {u.level for u, _ in g.names[("запоріжжя",)]} == {"settlement"}
    # a -щина form that is a village elsewhere stays the raion's (Косівщина)
    assert "raion" in {u.level for u, _ in g.names[("косівщина",)]}


@pytest.mark.parametrize("hromada, centre", [("Білопільська", "Білопілля"), ("Краснопільська", "Краснопілля")])
def test_hromadas_know_their_centre(hromada: str, centre: str) -> None:
    g = get_gazetteer()
    units = [u for u in g.units.values() if u.level == "hromada" and u.name_uk == hromada and u.oblast == "UA-59"]
    assert units and g.units[units[0].centre].name_uk == centre


def test_raion_centre_with_a_different_stem() -> None:
    g = get_gazetteer()
    raion = next(u for u in g.raions("UA-32") if u.name_uk == "Білоцерківський")
    assert g.units[raion.centre].name_uk == "Біла Церква"


def test_english_spellings_share_a_key() -> None:
    g = get_gazetteer()
    assert ("mikolaiv",) in g.names and ("zaporizhia",) in g.names


def test_russian_skeleton_index() -> None:
    index = get_gazetteer().ru_index()
    assert any(u.name_uk == "Ківшарівка" for u in index["к*вш*р*вк"])
    assert any(u.name_uk == "Малий Бурлук" for u in index["м*л б*рл*к"])
