"""Places as people name them: Latin spelling, namesake labels, narrowing phrases, coordinates."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.gazetteer import get_gazetteer
from analysis.places import (
    covering,
    distance_km,
    find_places,
    label,
    labels,
    latin,
    nearest,
    needs_choice,
    oblast_name,
    unit_name,
    within,
)
from monitor.cli.main import main
from research.events import event_of
from tests.test_research_cli import _archive

# Examples from the table of the Cabinet of Ministers' resolution No. 55 of 27.01.2010.
KMU_2010 = {
    "Алушта": "Alushta", "Андрій": "Andrii", "Борщагівка": "Borshchahivka", "Борисенко": "Borysenko",
    "Вінниця": "Vinnytsia", "Володимир": "Volodymyr", "Гадяч": "Hadiach", "Богдан": "Bohdan",
    "Згурський": "Zghurskyi", "Ґалаґан": "Galagan", "Ґорґани": "Gorgany", "Донецьк": "Donetsk",
    "Дмитро": "Dmytro", "Рівне": "Rivne", "Олег": "Oleh", "Есмань": "Esman", "Єнакієве": "Yenakiieve",
    "Гаєвич": "Haievych", "Короп'є": "Koropie", "Житомир": "Zhytomyr", "Жанна": "Zhanna",
    "Жежелів": "Zhezheliv", "Закарпаття": "Zakarpattia", "Казимирчук": "Kazymyrchuk", "Медвин": "Medvyn",
    "Михайленко": "Mykhailenko", "Іванків": "Ivankiv", "Іващенко": "Ivashchenko", "Їжакевич": "Yizhakevych",
    "Кадиївка": "Kadyivka", "Мар'їне": "Marine", "Йосипівка": "Yosypivka", "Стрий": "Stryi",
    "Олексій": "Oleksii", "Київ": "Kyiv", "Коваленко": "Kovalenko", "Лебедин": "Lebedyn", "Леонід": "Leonid",
    "Миколаїв": "Mykolaiv", "Маринич": "Marynych", "Ніжин": "Nizhyn", "Наталія": "Nataliia", "Одеса": "Odesa",
    "Онищенко": "Onyshchenko", "Полтава": "Poltava", "Петро": "Petro", "Решетилівка": "Reshetylivka",
    "Рибчинський": "Rybchynskyi", "Суми": "Sumy", "Соломія": "Solomiia", "Тернопіль": "Ternopil",
    "Троць": "Trots", "Ужгород": "Uzhhorod", "Уляна": "Uliana", "Фастів": "Fastiv", "Філіпчук": "Filipchuk",
    "Харків": "Kharkiv", "Христина": "Khrystyna", "Біла Церква": "Bila Tserkva", "Стеценко": "Stetsenko",
    "Чернівці": "Chernivtsi", "Шевченко": "Shevchenko", "Шостка": "Shostka", "Кишеньки": "Kyshenky",
    "Щербухи": "Shcherbukhy", "Гоща": "Hoshcha", "Гаращенко": "Harashchenko", "Юрій": "Yurii",
    "Корюківка": "Koriukivka", "Яготин": "Yahotyn", "Ярошенко": "Yaroshenko", "Костянтин": "Kostiantyn",
    "Знам'янка": "Znamianka", "Феодосія": "Feodosiia", "Згорани": "Zghorany", "Розгон": "Rozghon",
    "Куп’янськ": "Kupiansk",
}


def test_latin_follows_the_official_table() -> None:
    assert {uk: latin(uk) for uk in KMU_2010} == KMU_2010
    assert latin("Kharkiv") == "Kharkiv"


def test_oblast_names_for_crimea_kyiv_and_sevastopol() -> None:
    g = get_gazetteer()
    assert g.oblast_unit("UA-43").title == "Автономна Республіка Крим"  # not "… Крим область"
    assert [oblast_name(iso, "uk") for iso in ("UA-43", "UA-30", "UA-40", "UA-63")] == [
        "Автономна Республіка Крим", "Київ", "Севастополь", "Харківська область"]
    assert [oblast_name(iso, "en") for iso in ("UA-43", "UA-30", "UA-40", "UA-63", "UA-32")] == [
        "Crimea", "Kyiv", "Sevastopol", "Kharkiv oblast", "Kyiv oblast"]


def test_namesakes_have_labels_that_tell_them_apart() -> None:
    g = get_gazetteer()
    places = find_places("Іванівка")
    assert len(places) >= 119 and needs_choice(places)
    units = [g.unit(p.code) for p in places]
    assert len(set(labels(units))) == len(units)
    chuhuiv = g.unit("UA63140150050055542")
    assert label(chuhuiv) == "Іванівка — Чкаловська громада, Чугуївський р-н"
    assert label(chuhuiv, "en") == "Ivanivka — Chkalovska hromada, Chuhuivskyi raion"
    assert unit_name(g.unit(chuhuiv.hromada_code), "en") == "Chkalovska hromada"


@pytest.mark.parametrize(("query", "count"), [
    ("Іванівка Харківська", 12),
    ("Іванівка Харківська область", 12),
    ("Іванівка, Чугуївський район", 2),
    ("Ivanivka Kharkiv", 12),
    ("Ivanivka, Chuhuiv raion", 2),
    ("Ивановка Харьковская", 12),
    ("Ивановка, Чугуевский район", 2),
])
def test_narrowing_phrases_in_three_languages(query: str, count: int) -> None:
    places = find_places(query)
    assert len(places) == count
    assert {p.oblast for p in places} == {"UA-63"} and {p.name for p in places} == {"Іванівка"}


def test_a_name_alone_is_not_narrowed_and_nonsense_finds_nothing() -> None:
    assert find_places("Харківська область")[0].level == "oblast"
    assert not needs_choice(find_places("Балаклія"))  # the town outweighs the village
    assert find_places("Іванівка Атлантида") == []


def test_every_unit_has_coordinates_kyiv_included() -> None:
    g = get_gazetteer()
    assert all(u.lat is not None and u.lon is not None for u in g.units.values())
    kyiv = g.oblast_unit("UA-30")
    assert distance_km(kyiv.lat, kyiv.lon, 50.45, 30.52) < 10  # type: ignore[arg-type]
    districts = [u for u in g.units.values() if u.parent == kyiv.code]
    assert len(districts) == 10 and all((u.lat, u.lon) == (kyiv.lat, kyiv.lon) for u in districts)
    # an oblast's point is the mean of its raions' points
    raions = g.raions("UA-63")
    kharkiv = g.oblast_unit("UA-63")
    assert kharkiv.lat == pytest.approx(sum(r.lat for r in raions) / len(raions), abs=0.001)  # type: ignore[misc]


def test_nearest_within_and_covering() -> None:
    g = get_gazetteer()
    assert nearest(49.993, 36.231).name_uk == "Харків"  # type: ignore[union-attr]
    near = within(49.83, 36.68, 10)
    assert near[0].name_uk == "Чугуїв" and all(distance_km(49.83, 36.68, u.lat, u.lon) <= 10 for u in near)  # type: ignore[arg-type]
    # a hromada all of whose settlements are listed stands for them
    hromada = g.units[near[0].hromada_code]
    members = [u for u in g.units.values() if u.hromada_code == hromada.code and u.level == "settlement"]
    assert covering(members) == [hromada]


def test_cli_region_lists_namesakes_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    archive = str(_archive(tmp_path))
    assert main(["search", "пожежа", "--region", "Іванівка", "--db", archive]) == 2
    err = capsys.readouterr().err
    assert "names several places" in err
    assert "Іванівка — Чкаловська громада, Чугуївський р-н (Харківська область)  UA63140150050055542" in err
    # every namesake, a renamed village (formerly Іванівка) among them
    assert len([line for line in err.splitlines() if line.startswith("  ")]) == len(find_places("Іванівка"))
    assert main(["search", "пожежа", "--region", "Іванівка, Чугуївський район", "--db", archive]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 3
    # the code it printed (or a narrowing phrase that leaves one) picks the place
    assert main(["search", "пожежа", "--region", "UA63140150050055542", "--db", archive]) == 0
    assert "region: Іванівка (UA63140150050055542)" in capsys.readouterr().err


def test_kyiv_events_export_with_coordinates() -> None:
    g = get_gazetteer()
    district = next(u for u in g.units.values() if u.name_uk == "Солом’янський" and u.oblast == "UA-30")
    for place in (district, g.oblast_unit("UA-30")):
        story = {"id": 1, "places": [{"code": place.code, "name": place.title, "level": place.level,
                                      "oblast": "UA-30"}],
                 "oblasts": ["UA-30"], "event_at": "2025-07-01T01:00:00Z", "weapons": ["drone"], "sources": ["x"],
                 "killed": 1, "injured": 2, "children_killed": 0, "children_injured": 0, "post_urls": [],
                 "first_text": "…"}
        event = event_of(story)
        assert event is not None and event["latitude"] and event["longitude"]
        assert distance_km(event["latitude"], event["longitude"], 50.45, 30.52) < 10
