"""Writes `bench/data/story_events.jsonl`: strike reports of our own for the story bench.

Ten events, each reported once in Ukrainian, English and Russian by three outlets whose figures
differ; four of them get a follow-up 26–34 h later with a higher toll; eight look-alikes (the same
town days later, the same oblast the same morning in another town, a fire, a drill, a gas
explosion, an oblast-wide shelling summary). Every text is ours: 600–1,200 characters with a lead,
a damage paragraph, figures, a background paragraph about another attack and a closing line.

    python bench/story_texts.py        # rewrites the fixture

Rows: {"id", "event" (the event id, or null for a look-alike), "lookalike_of", "lang", "outlet",
"published_at" (UTC, ISO), "text"}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "story_events.jsonl"
KYIV_OFFSET = timedelta(hours=3)  # May: Kyiv is UTC+3


@dataclass(frozen=True)
class Town:
    uk: str        # nominative
    uk_loc: str    # у Харкові
    uk_gen: str    # Харкова
    uk_obl: str    # Харківської області
    en: str
    en_obl: str
    ru: str
    ru_loc: str
    ru_gen: str
    ru_obl: str


KHARKIV = Town("Харків", "Харкові", "Харкова", "Харківської області", "Kharkiv", "Kharkiv Oblast",
               "Харьков", "Харькове", "Харькова", "Харьковской области")
ODESA = Town("Одеса", "Одесі", "Одеси", "Одеської області", "Odesa", "Odesa Oblast",
             "Одесса", "Одессе", "Одессы", "Одесской области")
DNIPRO = Town("Дніпро", "Дніпрі", "Дніпра", "Дніпропетровської області", "Dnipro", "Dnipropetrovsk Oblast",
              "Днепр", "Днепре", "Днепра", "Днепропетровской области")
ZAPORIZHZHIA = Town("Запоріжжя", "Запоріжжі", "Запоріжжя", "Запорізької області", "Zaporizhzhia",
                    "Zaporizhzhia Oblast", "Запорожье", "Запорожье", "Запорожья", "Запорожской области")
SUMY = Town("Суми", "Сумах", "Сум", "Сумської області", "Sumy", "Sumy Oblast",
            "Сумы", "Сумах", "Сум", "Сумской области")
KHERSON = Town("Херсон", "Херсоні", "Херсона", "Херсонської області", "Kherson", "Kherson Oblast",
               "Херсон", "Херсоне", "Херсона", "Херсонской области")
MYKOLAIV = Town("Миколаїв", "Миколаєві", "Миколаєва", "Миколаївської області", "Mykolaiv", "Mykolaiv Oblast",
                "Николаев", "Николаеве", "Николаева", "Николаевской области")
KRYVYI_RIH = Town("Кривий Ріг", "Кривому Розі", "Кривого Рогу", "Дніпропетровської області", "Kryvyi Rih",
                  "Dnipropetrovsk Oblast", "Кривой Рог", "Кривом Роге", "Кривого Рога", "Днепропетровской области")
CHERNIHIV = Town("Чернігів", "Чернігові", "Чернігова", "Чернігівської області", "Chernihiv", "Chernihiv Oblast",
                 "Чернигов", "Чернигове", "Чернигова", "Черниговской области")
POLTAVA = Town("Полтава", "Полтаві", "Полтави", "Полтавської області", "Poltava", "Poltava Oblast",
               "Полтава", "Полтаве", "Полтавы", "Полтавской области")

WEAPON = {  # (uk instrumental, en, ru instrumental)
    "drone": ("ударними безпілотниками", "Shahed-type attack drones", "ударными беспилотниками"),
    "missile": ("ракетами", "missiles", "ракетами"),
    "guided_bomb": ("керованими авіабомбами", "guided aerial bombs", "управляемыми авиабомбами"),
    "artillery": ("зі ствольної артилерії", "artillery", "из ствольной артиллерии"),
}
EN_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Event:
    key: str
    town: Town
    weapon: str
    day: int          # May, the Kyiv day of the event (a night: the day it ends on)
    hour: int         # Kyiv hour of the attack
    killed: int
    injured: int
    follow_up: str | None = None  # the language of a follow-up 26–34 h later


EVENTS = [
    Event("E01", KHARKIV, "drone", 12, 2, 2, 9, follow_up="uk"),
    Event("E02", ODESA, "missile", 12, 11, 1, 6),
    Event("E03", DNIPRO, "missile", 13, 3, 3, 14),
    Event("E04", ZAPORIZHZHIA, "guided_bomb", 13, 15, 0, 5),
    Event("E05", SUMY, "drone", 14, 1, 1, 4, follow_up="en"),
    Event("E06", KHERSON, "artillery", 14, 8, 1, 3),
    Event("E07", MYKOLAIV, "drone", 15, 2, 0, 7, follow_up="ru"),
    Event("E08", KRYVYI_RIH, "missile", 16, 4, 4, 21, follow_up="uk"),
    Event("E09", CHERNIHIV, "drone", 16, 20, 0, 2),
    Event("E10", POLTAVA, "missile", 17, 9, 2, 11),
]


def uk_n(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return f"{n} {one}"
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return f"{n} {few}"
    return f"{n} {many}"


def kyiv(day: int, hour: float) -> datetime:
    """A Kyiv wall-clock time in May 2026 as UTC."""
    return datetime(2026, 5, day, tzinfo=UTC) + timedelta(hours=hour) - KYIV_OFFSET


# Background paragraphs: another attack, another day, another oblast (rotated so that events
# close in time never share one).
BG_UK = [
    "Нагадаємо, 3 травня внаслідок удару по Вінниці були пошкоджені склад і адміністративна будівля, тоді постраждали двоє працівників підприємства.",
    "Як повідомлялося раніше, 6 травня росіяни атакували Житомир, там зруйновано ангар і пошкоджено кілька приватних будинків.",
    "Нагадаємо, минулого тижня під ударом опинилися Черкаси: тоді уламки збитої ракети впали на територію ліцею.",
]
BG_EN = [
    "Earlier this month, on 4 May, a Russian strike on Rivne damaged a power substation, leaving several districts without electricity.",
    "As reported previously, on 7 May Russian forces attacked Uzhhorod, where a warehouse was destroyed.",
    "Earlier, on 2 May, drone debris fell on a school in Ternopil, damaging its roof and windows.",
]
BG_RU = [
    "Напомним, 5 мая в результате удара по Луцку был поврежден склад, тогда пострадал охранник.",
    "Ранее, 8 мая, российские войска атаковали Хмельницкий, где было повреждено административное здание.",
    "Как сообщалось ранее, 1 мая обломки ракеты упали на окраине Ивано-Франковска, пострадавших тогда не было.",
]


def uk_figures(k: int, i: int) -> str:
    dead = ("Загиблих немає, " if k == 0 else
            "Загинула одна людина, " if k == 1 else f"Загинули {uk_n(k, 'людина', 'людини', 'людей')}, ")
    return dead + f"ще {uk_n(i, 'особа дістала', 'особи дістали', 'осіб дістали')} поранень різного ступеня тяжкості."


def en_figures(k: int, i: int) -> str:
    dead = "No one was killed, but" if k == 0 else f"{k} {'person was' if k == 1 else 'people were'} killed and"
    return f"{dead} {i} {'person was' if i == 1 else 'people were'} injured, according to the regional administration."


def ru_figures(k: int, i: int) -> str:
    dead = "Погибших нет, " if k == 0 else "Погиб один человек, " if k == 1 else f"Погибли {k} человека, " if k < 5 else f"Погибли {k} человек, "
    return dead + f"еще {i} {'человек получил' if i == 1 else 'человек получили'} ранения."


def uk_report(e: Event, n: int) -> str:
    t, w = e.town, WEAPON[e.weapon][0]
    night = e.hour < 6
    when = ("Вночі" if night else "Сьогодні") if n % 3 == 0 else (
        f"У ніч на {e.day} травня" if night else f"{e.day} травня") if n % 3 == 1 else f"{e.day} травня близько {e.hour:02d}:20"
    k, i = e.killed, e.injured
    return (
        f"{t.uk}: рятувальники ліквідують наслідки атаки\n\n"
        f"{when} російські війська атакували {w} місто {t.uk}. Внаслідок удару у {t.uk_loc} пошкоджено "
        f"багатоповерховий житловий будинок, кілька приватних осель, автомобілі та лінію електропередачі. "
        f"Виникли пожежі на загальній площі близько {300 + 40 * n} квадратних метрів.\n\n"
        f"{uk_figures(k, i)} Усім постраждалим надають медичну допомогу.\n\n"
        f"До ліквідації наслідків залучено {uk_n(40 + n, 'рятувальника', 'рятувальники', 'рятувальників')} та "
        f"{uk_n(9 + n % 4, 'одиницю', 'одиниці', 'одиниць')} техніки. Пожежі ліквідовано, триває розбирання "
        f"пошкоджених конструкцій та обстеження території.\n\n"
        f"{BG_UK[n % 3]}\n\n"
        f"Не ігноруйте сигнали повітряної тривоги та перебувайте в укриттях до відбою."
    )


def en_report(e: Event, n: int) -> str:
    t, w = e.town, WEAPON[e.weapon][1]
    night = e.hour < 6
    weekday = EN_WEEKDAYS[datetime(2026, 5, e.day).weekday()]
    when = ("overnight" if night else "on Thursday morning".replace("Thursday", weekday)) if n % 3 == 0 else (
        f"on the night of {e.day - 1}–{e.day} May" if night else f"on {e.day} May") if n % 3 == 1 else f"early on {weekday}"
    k, i = e.killed, e.injured + 1  # this outlet counted one more injured
    return (
        f"Russian attack on {t.en} damages homes, casualties reported\n\n"
        f"Russian forces attacked {t.en} with {w} {when}, the head of {t.en_obl} said on Telegram. "
        f"{en_figures(k, i)}\n\n"
        f"The strike damaged a multi-storey residential building, several private houses, cars and a power line, "
        f"and started fires that emergency crews put out within a few hours. Photos published by the State "
        f"Emergency Service show firefighters working in the ruins of a house and volunteers clearing glass from "
        f"the street.\n\n"
        f"Local authorities said temporary shelters had been opened for residents whose apartments were left "
        f"without windows, and that engineers were inspecting the damaged buildings.\n\n"
        f"{BG_EN[(n + 1) % 3]}\n\n"
        f"Russia has not commented on the attack."
    )


def ru_report(e: Event, n: int) -> str:
    t, w = e.town, WEAPON[e.weapon][2]
    night = e.hour < 6
    when = (f"В ночь на {e.day} мая" if night else f"{e.day} мая") if n % 3 == 0 else (
        "Ночью" if night else "Сегодня") if n % 3 == 1 else f"{e.day} мая около {e.hour:02d}:40"
    k, i = e.killed, max(1, e.injured - 1)  # this outlet had not yet counted everyone
    return (
        f"Удар по городу {t.ru}: есть пострадавшие\n\n"
        f"{when} российские войска атаковали {w} город {t.ru} ({t.ru_obl}). В результате удара в {t.ru_loc} "
        f"повреждены многоэтажный жилой дом, частные дома, автомобили и линия электропередачи, возникли пожары.\n\n"
        f"{ru_figures(k, i)} Пострадавшим оказывают медицинскую помощь, часть из них госпитализирована.\n\n"
        f"На месте работали спасатели и коммунальные службы. Пожары ликвидированы, продолжается разбор "
        f"поврежденных конструкций и обследование территории.\n\n"
        f"{BG_RU[(n + 2) % 3]}\n\n"
        f"Жителей призывают не игнорировать сигналы воздушной тревоги."
    )


def follow_up(e: Event, lang: str) -> str:
    t = e.town
    night = e.hour < 6
    k, i = e.killed + 2, e.injured + 4
    if lang == "uk":
        when = f"у ніч на {e.day} травня" if night else f"{e.day} травня"
        return (
            f"Кількість загиблих у {t.uk_loc} зросла до {k}\n\n"
            f"Під час розбирання завалів у {t.uk_loc} рятувальники виявили тіла ще двох людей. Таким чином, "
            f"внаслідок атаки {when} загинули {uk_n(k, 'людина', 'людини', 'людей')}, ще "
            f"{uk_n(i, 'особа травмована', 'особи травмовані', 'осіб травмовані')}. Пошуково-рятувальну операцію "
            f"завершено.\n\n"
            f"Загалом рятувальники розібрали понад 200 тонн будівельних конструкцій. Фахівці обстежили всі "
            f"пошкоджені будинки, мешканцям двох під'їздів запропоновано тимчасове житло, для них працює пункт "
            f"незламності.\n\n"
            f"У місті оголошено день жалоби. Міська рада повідомляє, що компенсації за пошкоджене житло можна "
            f"оформити через застосунок або в центрі надання адміністративних послуг.\n\n"
            f"Не ігноруйте сигнали повітряної тривоги."
        )
    if lang == "en":
        when = f"on the night of {e.day - 1}–{e.day} May" if night else f"on {e.day} May"
        return (
            f"Death toll from Russian attack on {t.en} rises to {k}\n\n"
            f"The number of people killed in the Russian attack on {t.en} {when} has risen to {k}, with {i} "
            f"injured, the regional governor said, as rescuers finished searching the rubble of the damaged "
            f"building.\n\n"
            f"Two more bodies were recovered late on the day after the strike. The search and rescue operation "
            f"has been completed, and city officials declared a day of mourning.\n\n"
            f"Residents of the damaged apartments have been offered temporary housing, and the city council said "
            f"it would cover the cost of replacing windows in nearby buildings. Investigators are documenting "
            f"the attack as a war crime."
        )
    when = f"в ночь на {e.day} мая" if night else f"{e.day} мая"
    return (
        f"Число погибших в {t.ru_loc} выросло до {k}\n\n"
        f"Число погибших в результате атаки на {t.ru} {when} выросло до {k} человек, еще {i} человек "
        f"получили ранения. Спасатели завершили разбор завалов поврежденного дома, из-под которых за сутки "
        f"вывезли более 150 тонн строительных конструкций.\n\n"
        f"Под завалами были найдены тела еще двух человек. Поисково-спасательная операция завершена, в городе "
        f"объявлен день траура.\n\n"
        f"Жителям поврежденных квартир предложено временное жилье, городские власти обещают компенсации за "
        f"разрушенное имущество. Правоохранители документируют последствия удара, а прокуратура начала "
        f"расследование по статье о нарушении законов и обычаев войны."
    )


# The look-alikes: (key, the event it resembles, lang, Kyiv day, hour, text).
LOOKALIKES = [
    ("L01", "E01", "uk", 14, 7.5,
     "Харків: нова атака дронів\n\n"
     "У ніч на 14 травня ворог знову атакував Харків ударними безпілотниками. У Харкові пошкоджено "
     "склад, гаражі та офісну будівлю, виникла пожежа площею близько 150 квадратних метрів.\n\n"
     "Одна людина дістала поранення, їй надано медичну допомогу на місці. Рятувальники ліквідували пожежу "
     "за дві години, до роботи залучали 25 рятувальників і 7 одиниць техніки.\n\n"
     "Комунальні служби вже замінюють вибиті вікна в сусідніх будинках, фахівці обстежують пошкоджені "
     "конструкції складу та гаражного кооперативу.\n\n"
     "Мешканців просять не наближатися до уламків і повідомляти про них за номером 101."),
    ("L02", "E01", "uk", 12, 9.0,
     "Чугуїв: ворожий дрон влучив у приватний будинок\n\n"
     "Вночі ворог атакував ударним безпілотником Чугуїв Харківської області. У Чугуєві зруйновано "
     "приватний житловий будинок, пошкоджено господарські споруди та автомобіль, виникла пожежа.\n\n"
     "Постраждала жінка 64 років, її госпіталізовано. Вогонь ліквідували рятувальники місцевої "
     "пожежно-рятувальної частини, на місці працювали 12 рятувальників і 3 одиниці техніки.\n\n"
     "Сільська громада організувала для родини тимчасове житло, волонтери допомагають розбирати "
     "пошкоджений дах сусіднього будинку.\n\n"
     "ДСНС закликає не нехтувати сигналами повітряної тривоги та перебувати в укриттях."),
    ("L03", "E02", "en", 12, 16.0,
     "Fire breaks out at a warehouse in Odesa\n\n"
     "A fire broke out at a warehouse storing household goods in Odesa on Tuesday afternoon, the State "
     "Emergency Service said. The blaze covered about 800 square metres before firefighters contained it.\n\n"
     "Nobody was hurt. Preliminary findings point to a short circuit in the electrical wiring of the "
     "building, and the police have opened an investigation into possible violations of fire safety rules.\n\n"
     "Forty firefighters and twelve fire engines were involved in putting out the fire, which sent a column of "
     "black smoke over the port district for several hours.\n\n"
     "Residents of nearby streets were advised to keep their windows closed until the smoke cleared."),
    ("L04", "E03", "uk", 13, 10.0,
     "У Дніпрі відбулися навчання рятувальників\n\n"
     "Сьогодні у Дніпрі рятувальники провели спільні навчання з комунальними службами та медиками. "
     "За легендою, внаслідок надзвичайної ситуації в офісній будівлі виникла пожежа і частково "
     "обвалилися конструкції, під якими опинилися люди.\n\n"
     "Учасники відпрацювали евакуацію працівників, пошук постраждалих під завалами та надання їм домедичної "
     "допомоги. До навчань залучили 60 фахівців і 14 одиниць техніки.\n\n"
     "Керівник навчань зазначив, що злагодженість служб суттєво зросла, а висновки буде враховано у "
     "подальшій роботі.\n\n"
     "Такі навчання проводять у місті регулярно, щоб підготуватися до будь-яких надзвичайних ситуацій."),
    ("L05", "E05", "ru", 14, 9.5,
     "Обстрел Шостки: повреждены дома\n\n"
     "Утром российские войска обстреляли из ствольной артиллерии Шостку Сумской области. В Шостке "
     "повреждены частные дома, хозяйственные постройки и линия электропередачи.\n\n"
     "Ранен 58-летний мужчина, ему оказана медицинская помощь. На месте работали спасатели и "
     "энергетики, которые уже восстанавливают электроснабжение улицы.\n\n"
     "Местные власти организовали выдачу пленки и строительных материалов для закрытия окон. Жителей "
     "поврежденных домов временно разместили у родственников. Громада также выделит средства на ремонт "
     "крыш до начала осенних дождей.\n\n"
     "Жителей призывают не игнорировать сигналы воздушной тревоги."),
    ("L06", "E06", "en", 16, 10.0,
     "Kherson shelled again, two injured\n\n"
     "Russian forces shelled Kherson with artillery on 16 May, injuring two people, the city military "
     "administration said. A residential building and a bus stop were damaged in the attack.\n\n"
     "Both injured, a man and a woman, were taken to hospital in a moderate condition. Utility workers have "
     "begun restoring the damaged water pipe in the neighbourhood.\n\n"
     "Kherson, which was liberated in November 2022, lies on the right bank of the Dnipro river and remains "
     "within range of Russian artillery positioned on the opposite bank.\n\n"
     "Authorities urged residents to stay in shelters during air raid alerts."),
    ("L07", "E07", "uk", 15, 12.0,
     "Миколаївщина: протягом доби ворог здійснив 14 обстрілів\n\n"
     "Протягом минулої доби ворог 14 разів обстріляв з артилерії прикордонну громаду Миколаївської "
     "області. Пошкоджено лінію електропередачі та кілька господарських будівель, виникла пожежа сухої "
     "трави.\n\n"
     "Загиблих і поранених немає. Пожежу ліквідували місцеві пожежні, електропостачання вже відновлено.\n\n"
     "Обласна військова адміністрація закликає мешканців прикордонних сіл не відвідувати поля та лісосмуги, "
     "де можуть бути вибухонебезпечні предмети, і повідомляти про знахідки за номером 101.\n\n"
     "Слідкуйте за офіційними повідомленнями та сигналами тривоги."),
    ("L08", "E08", "ru", 16, 13.0,
     "Взрыв газа в Кривом Роге\n\n"
     "Днем в Кривом Роге в жилом доме произошел взрыв бытового газа. Частично разрушена квартира на "
     "третьем этаже, повреждены окна соседних квартир, возник пожар.\n\n"
     "Пострадали двое жильцов, их госпитализировали с ожогами. Спасатели эвакуировали 20 человек и "
     "ликвидировали возгорание.\n\n"
     "По предварительным данным, причиной взрыва стала утечка газа из-за неисправной газовой плиты. "
     "Газовая служба проверяет внутридомовые сети, полиция выясняет обстоятельства. Жильцов разрушенной "
     "квартиры временно разместили в общежитии.\n\n"
     "Спасатели напоминают: почувствовав запах газа, не включайте электроприборы и звоните 104."),
]


def rows() -> list[dict]:
    out: list[dict] = []
    for n, e in enumerate(EVENTS):
        # Three outlets publish 3–7 hours after the attack, each in its own language.
        for lang, outlet, lag, write in (("uk", "dsns_region", 3.0, uk_report), ("en", "wire_en", 5.0, en_report),
                                         ("ru", "portal_ru", 7.0, ru_report)):
            when = kyiv(e.day, e.hour + lag + 0.25 * n)
            out.append({"id": f"{e.key}-{lang}", "event": e.key, "lookalike_of": None, "lang": lang,
                        "outlet": outlet, "published_at": when.isoformat(), "text": write(e, n)})
        if e.follow_up:
            when = kyiv(e.day, e.hour + 26 + 2 * (n % 5))
            out.append({"id": f"{e.key}-follow-{e.follow_up}", "event": e.key, "lookalike_of": None,
                        "lang": e.follow_up, "outlet": "follow_up", "published_at": when.isoformat(),
                        "text": follow_up(e, e.follow_up)})
    for key, like, lang, day, hour, text in LOOKALIKES:
        out.append({"id": key, "event": None, "lookalike_of": like, "lang": lang, "outlet": "other",
                    "published_at": kyiv(day, hour).isoformat(), "text": text})
    return out


def main() -> None:
    data = rows()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", encoding="utf-8") as fh:
        for row in data:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    sizes = sorted(len(r["text"]) for r in data)
    print(f"{len(data)} posts, {sizes[0]}–{sizes[-1]} characters (median {sizes[len(sizes) // 2]}) → {OUT}")


if __name__ == "__main__":
    main()
