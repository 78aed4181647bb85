"""The region matcher, table-driven: inflection, colloquial forms, languages, ambiguity."""

from __future__ import annotations

import pytest

from analysis.regions import channel_oblast, find_places, resolve_region


def oblasts(text: str, **kw: str) -> list[str]:
    return sorted({p.oblast for p in find_places(text, **kw)})


def names(text: str, **kw: str) -> list[str]:
    return [p.name for p in find_places(text, **kw)]


@pytest.mark.parametrize("text, expected", [
    # Ukrainian cases, all parses (Харкові is first a surname)
    ("Внаслідок удару по Харкову загинули двоє людей.", ["UA-63"]),
    ("У Харкові пролунали вибухи", ["UA-63"]),
    ("Ворог атакував Кам’янське", ["UA-12"]),
    ("Ворог атакував Кам'янське", ["UA-12"]),
    ("У Кривому Розі ракетний удар", ["UA-12"]),
    ("Біла Церква: пожежа після атаки", ["UA-32"]),
    ("Обстріл Нікополя триває", ["UA-12"]),
    ("Вибухи у Запоріжжі", ["UA-23"]),
    # colloquial -щина and region names
    ("На Харківщині ворог обстріляв Балаклію", ["UA-63"]),
    ("Одещина: удар по порту", ["UA-51"]),
    ("На Нікопольщині обстріляли Марганець", ["UA-12"]),
    ("Дніпропетровщина під атакою", ["UA-12"]),
    ("Сумщина: КАБи", ["UA-59"]),
    ("Черкащина, Вінниччина та Хмельниччина", ["UA-05", "UA-68", "UA-71"]),
    ("Атака на Буковину", ["UA-77"]),
    ("У Закарпатті вибухів не було", ["UA-21"]),
    ("Вибухи у Криму", ["UA-43"]),
    # adjective + level word
    ("У Харківській області", ["UA-63"]),
    ("Херсонська ОВА повідомила", ["UA-65"]),
    ("Харківська та Сумська області", ["UA-59", "UA-63"]),
    ("Балаклійська громада", ["UA-63"]),
    ("Запорізький район", ["UA-23"]),
    # city districts
    ("Холодногірський район Харкова зазнав удару", ["UA-63"]),
    ("У Шевченківському районі столиці", ["UA-30"]),
    ("Дарницький район", ["UA-30"]),
    # English
    ("Russian drones attacked Kharkiv region overnight", ["UA-63"]),
    ("Two injured in Balakliia", ["UA-63"]),
    ("Missile strike on Odessa port", ["UA-51"]),
    ("Explosions in Zaporizhzhia and Dnipro", ["UA-12", "UA-23"]),
    ("Near Pokrovsk, Donetsk Oblast", ["UA-14"]),
    ("Shelling of Kherson", ["UA-65"]),
    # Russian
    ("Удар по Запорожью, Днепру и Николаеву", ["UA-12", "UA-23", "UA-48"]),
    ("В Харьковской области погибли", ["UA-63"]),
    ("В Харькове прогремели взрывы", ["UA-63"]),
    # old names
    ("Обстріл Артемівська", ["UA-14"]),
    ("Вибух у Дніпропетровську", ["UA-12"]),
    ("Кіровоград атакували дрони", ["UA-35"]),
    # nothing
    ("Загальна сума коштів становить 3 млн", []),
    ("Мир і щастя кожній родині", []),
    ("мирне населення постраждало", []),
    ("Сьогодні Перемога буде за нами", []),
    ("Рятувальники ліквідували пожежу сухостою", []),
    ("Обстріли з лівого берега Дніпра", []),
])
def test_oblasts(text: str, expected: list[str]) -> None:
    assert oblasts(text) == expected


def test_kyiv_city_vs_oblast() -> None:
    assert oblasts("Київ атакували") == ["UA-30"]
    assert oblasts("У Києві вибухи") == ["UA-30"]
    assert oblasts("На Київщині збито ракети") == ["UA-32"]
    assert oblasts("Київська область, Бучанський район") == ["UA-32"]
    assert oblasts("Kyiv Oblast") == ["UA-32"]
    assert oblasts("Шевченківський район Києва") == ["UA-30"]


@pytest.mark.parametrize("text, hint, expected", [
    ("Іванівка потрапила під обстріл", None, []),           # 119 Іванівки, nothing to decide
    ("с. Іванівка Ізюмського району", None, ["UA-63"]),     # raion named after it
    ("Іванівка потрапила під обстріл. Харківщина", None, ["UA-63"]),
    ("Іванівка потрапила під обстріл", "UA-65", ["UA-65"]),
    ("Балаклія під обстрілом", None, ["UA-63"]),             # the town outweighs the village
    ("Балаклія під обстрілом", "UA-53", ["UA-53"]),          # a Poltava channel means its village
    ("Київ під обстрілом", "UA-48", ["UA-30"]),              # not the hamlet Київ in Mykolaiv oblast
])
def test_ambiguity(text: str, hint: str | None, expected: list[str]) -> None:
    assert oblasts(text, **({"oblast_hint": hint} if hint else {})) == expected


def test_order_and_dedup() -> None:
    got = find_places("Харків. Удар по Харкову, а потім по Ізюму. Харківщина.")
    assert [p.name for p in got] == ["Харків", "Ізюм", "Харківська область"]
    assert got[0].code == "UA63120270010096107" and got[0].level == "settlement"
    assert got[2].level == "oblast"


def test_common_word_needs_context() -> None:
    assert names("Суми: атака дронів") == ["Суми"]
    assert names("Удар по Сумах") == ["Суми"]
    assert names("суми коштів") == []
    assert oblasts("Щастя знеструмлене після обстрілу, Луганщина") == ["UA-09"]


def test_channel_implies_oblast() -> None:
    assert channel_oblast("dsns_kharkiv") == "UA-63"
    assert channel_oblast("dsns_telegram") is None
    assert oblasts("Балаклія під обстрілом", channel="DSNS_Poltava") == ["UA-53"]


@pytest.mark.parametrize("query, first_name, first_oblast", [
    ("Харківщина", "Харківська область", "UA-63"),
    ("харківська область", "Харківська область", "UA-63"),
    ("UA-63", "Харківська область", "UA-63"),
    ("ua63", "Харківська область", "UA-63"),
    ("Kyiv region", "Київська область", "UA-32"),
    ("Київ", "Київ", "UA-30"),
    ("kharkiv", "Харків", "UA-63"),
    ("Ізюмський район", "Ізюмський район", "UA-63"),
    ("одесса", "Одеса", "UA-51"),
    ("БАЛАКЛІЯ", "Балаклія", "UA-63"),
])
def test_resolve_region(query: str, first_name: str, first_oblast: str) -> None:
    got = resolve_region(query)
    assert got and (got[0].name, got[0].oblast) == (first_name, first_oblast)


def test_resolve_region_ambiguous_and_unknown() -> None:
    assert len(resolve_region("Іванівка")) > 100
    assert {p.oblast for p in resolve_region("Балаклія")} == {"UA-63", "UA-53"}
    assert resolve_region("Атлантида") == []
    assert resolve_region("UA-99") == []
