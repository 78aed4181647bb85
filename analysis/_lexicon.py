"""Hand-kept vocabulary shared by the gazetteer build and the region matcher.

The codifier gives official Ukrainian names only; how people actually write about regions
(Харківщина, Kharkiv region, Харьковская область, Днепр) lives here. Everything is
lower-case and normalised with `norm()`.
"""

from __future__ import annotations

import re

from analysis._regex import compiled

# KATOTTH first-level code digits -> ISO 3166-2. Three differ from the digits: Crimea (01),
# Luhansk (44), Chernivtsi (73); Kyiv and Sevastopol have their own ISO codes.
KATOTTH_TO_ISO: dict[str, str] = {
    "01": "UA-43", "05": "UA-05", "07": "UA-07", "12": "UA-12", "14": "UA-14", "18": "UA-18",
    "21": "UA-21", "23": "UA-23", "26": "UA-26", "32": "UA-32", "35": "UA-35", "44": "UA-09",
    "46": "UA-46", "48": "UA-48", "51": "UA-51", "53": "UA-53", "56": "UA-56", "59": "UA-59",
    "61": "UA-61", "63": "UA-63", "65": "UA-65", "68": "UA-68", "71": "UA-71", "73": "UA-77",
    "74": "UA-74", "80": "UA-30", "85": "UA-40",
}

# ISO -> (administrative centre (uk), extra Ukrainian names of the region as a whole,
#         Russian adjective of the oblast, English names used with "region/oblast").
# Colloquial "-щина" forms are derived from the adjective by `shchyna_forms`; the extra names
# here are the ones no rule produces.
OBLASTS: dict[str, tuple[str, tuple[str, ...], str, tuple[str, ...]]] = {
    "UA-05": ("Вінниця", ("Вінниччина", "Поділля"), "винницкая", ("vinnytsia", "vinnitsa", "vinnytska")),
    "UA-07": ("Луцьк", ("Волинь",), "волынская", ("volyn", "volhynia", "volynska")),
    "UA-09": ("Луганськ", ("Луганщина",), "луганская", ("luhansk", "lugansk", "luhanska")),
    "UA-12": ("Дніпро", ("Дніпропетровщина", "Січеславщина"), "днепропетровская",
              ("dnipropetrovsk", "dnipro", "dnepropetrovsk", "dnipropetrovska")),
    "UA-14": ("Донецьк", ("Донеччина",), "донецкая", ("donetsk", "donetska")),
    "UA-18": ("Житомир", ("Житомирщина",), "житомирская", ("zhytomyr", "zhitomir", "zhytomyrska")),
    "UA-21": ("Ужгород", ("Закарпаття", "Закарпатщина"), "закарпатская",
              ("zakarpattia", "transcarpathia", "transcarpathian", "zakarpatska")),
    "UA-23": ("Запоріжжя", ("Запоріжчина",), "запорожская",
              ("zaporizhzhia", "zaporizhia", "zaporozhye", "zaporizka")),
    "UA-26": ("Івано-Франківськ", ("Прикарпаття", "Івано-Франківщина", "Франківщина"),
              "ивано-франковская", ("ivano-frankivsk", "ivano-frankivska")),
    "UA-30": ("Київ", (), "", ()),
    "UA-32": ("Київ", ("Київщина",), "киевская", ("kyiv", "kiev", "kyivska")),
    "UA-35": ("Кропивницький", ("Кіровоградщина",), "кировоградская",
              ("kirovohrad", "kirovograd", "kropyvnytskyi", "kirovohradska")),
    "UA-40": ("Севастополь", (), "", ()),
    "UA-43": ("Сімферополь", ("Крим", "Кримський півострів"), "", ("crimea",)),
    "UA-46": ("Львів", ("Львівщина",), "львовская", ("lviv", "lvov", "lvivska")),
    "UA-48": ("Миколаїв", ("Миколаївщина",), "николаевская", ("mykolaiv", "nikolaev", "mykolaivska")),
    "UA-51": ("Одеса", ("Одещина",), "одесская", ("odesa", "odessa", "odeska")),
    "UA-53": ("Полтава", ("Полтавщина",), "полтавская", ("poltava", "poltavska")),
    "UA-56": ("Рівне", ("Рівненщина",), "ровенская", ("rivne", "rovno", "rivnenska")),
    "UA-59": ("Суми", ("Сумщина",), "сумская", ("sumy", "sumska")),
    "UA-61": ("Тернопіль", ("Тернопільщина",), "тернопольская", ("ternopil", "ternopol", "ternopilska")),
    "UA-63": ("Харків", ("Харківщина", "Слобожанщина"), "харьковская", ("kharkiv", "kharkov", "kharkivska")),
    "UA-65": ("Херсон", ("Херсонщина",), "херсонская", ("kherson", "khersonska")),
    "UA-68": ("Хмельницький", ("Хмельниччина",), "хмельницкая",
              ("khmelnytskyi", "khmelnytsky", "khmelnitsky", "khmelnytska")),
    "UA-71": ("Черкаси", ("Черкащина",), "черкасская", ("cherkasy", "cherkassy", "cherkaska")),
    "UA-74": ("Чернігів", ("Чернігівщина",), "черниговская", ("chernihiv", "chernigov", "chernihivska")),
    "UA-77": ("Чернівці", ("Буковина", "Чернівеччина"), "черновицкая",
              ("chernivtsi", "chernovtsy", "bukovina", "chernivetska")),
}

# Russian colloquial region names, and Russian names of big places the codifier lacks.
# (Russian names of Crimean and long-occupied settlements come from OSM via `aliases`.)
RU_REGION_NAMES: dict[str, tuple[str, ...]] = {
    "UA-05": ("Винничина",), "UA-07": ("Волынь",), "UA-77": ("Буковина",), "UA-09": ("Луганщина",), "UA-12": ("Днепропетровщина",),
    "UA-14": ("Донетчина",), "UA-18": ("Житомирщина",), "UA-21": ("Закарпатье",),
    "UA-23": ("Запорожская",), "UA-26": ("Прикарпатье",), "UA-32": ("Киевщина",),
    "UA-35": ("Кировоградщина",), "UA-43": ("Крым",), "UA-46": ("Львовщина",),
    "UA-48": ("Николаевщина",), "UA-51": ("Одесчина", "Одесщина"), "UA-53": ("Полтавщина",),
    "UA-56": ("Ровенщина",), "UA-59": ("Сумщина",), "UA-61": ("Тернопольщина",),
    "UA-63": ("Харьковщина",), "UA-65": ("Херсонщина",), "UA-68": ("Хмельнитчина",),
    "UA-71": ("Черкасщина",), "UA-74": ("Черниговщина",),
}

# Ukrainian official name -> other names (Russian, older English spellings). Keyed by the
# Ukrainian name; the build attaches them to the most populous settlement of that name.
CITY_ALIASES: dict[str, tuple[str, ...]] = {
    "Київ": ("Киев", "Kiev"), "Харків": ("Харьков", "Kharkov"), "Дніпро": ("Днепр", "Днепропетровск", "Dnepr"),
    "Запоріжжя": ("Запорожье", "Zaporozhye", "Zaporizhia"), "Одеса": ("Одесса", "Odessa"),
    "Миколаїв": ("Николаев", "Nikolaev", "Nikolayev"), "Львів": ("Львов", "Lvov"),
    "Херсон": ("Херсон",), "Суми": ("Сумы", "Sumi"), "Полтава": ("Полтава",),
    "Чернігів": ("Чернигов", "Chernigov"), "Черкаси": ("Черкассы", "Cherkassy"),
    "Вінниця": ("Винница", "Vinnitsa"), "Житомир": ("Житомир", "Zhitomir"),
    "Рівне": ("Ровно", "Rovno"), "Луцьк": ("Луцк", "Lutsk"), "Тернопіль": ("Тернополь", "Ternopol"),
    "Хмельницький": ("Хмельницкий", "Khmelnitsky", "Khmelnytsky"), "Чернівці": ("Черновцы", "Chernovtsy"),
    "Ужгород": ("Ужгород", "Uzhgorod"), "Івано-Франківськ": ("Ивано-Франковск",),
    "Кропивницький": ("Кропивницкий", "Кировоград", "Kirovograd", "Kirovohrad", "Кіровоград"),
    "Кривий Ріг": ("Кривой Рог", "Krivoy Rog", "Kryvyi Rig"), "Кам’янське": ("Каменское",),
    "Краматорськ": ("Краматорск",), "Слов’янськ": ("Славянск", "Slavyansk", "Sloviansk"),
    "Бахмут": ("Бахмут", "Артемовск"), "Покровськ": ("Покровск",), "Мирноград": ("Мирноград", "Димитров"),
    "Костянтинівка": ("Константиновка", "Konstantinovka", "Kostiantynivka"), "Торецьк": ("Торецк", "Дзержинск"),
    "Дружківка": ("Дружковка",), "Лиман": ("Лиман", "Красный Лиман"), "Курахове": ("Курахово",),
    "Вугледар": ("Угледар", "Vuhledar"), "Авдіївка": ("Авдеевка", "Avdiivka"), "Часів Яр": ("Часов Яр",),
    "Маріуполь": ("Мариуполь",), "Бердянськ": ("Бердянск",), "Мелітополь": ("Мелитополь",),
    "Енергодар": ("Энергодар", "Enerhodar"), "Нікополь": ("Никополь",), "Марганець": ("Марганец",),
    "Павлоград": ("Павлоград",), "Новомосковськ": ("Новомосковск",), "Самар": ("Новомосковськ",),
    "Синельникове": ("Синельниково",), "Ізюм": ("Изюм", "Izyum"), "Куп’янськ": ("Купянск", "Kupyansk"),
    "Чугуїв": ("Чугуев", "Chuguev"), "Балаклія": ("Балаклея", "Balakleya"), "Лозова": ("Лозовая",),
    "Вовчанськ": ("Волчанск", "Vovchansk"), "Золочів": ("Золочев",), "Богодухів": ("Богодухов",),
    "Охтирка": ("Ахтырка",), "Конотоп": ("Конотоп",), "Шостка": ("Шостка",), "Глухів": ("Глухов",),
    "Ромни": ("Ромны",), "Тростянець": ("Тростянец",), "Білопілля": ("Белополье",),
    "Ніжин": ("Нежин",), "Прилуки": ("Прилуки",), "Новгород-Сіверський": ("Новгород-Северский",),
    "Кременчук": ("Кременчуг",), "Миргород": ("Миргород",), "Умань": ("Умань",), "Сміла": ("Смела",),
    "Біла Церква": ("Белая Церковь", "Bila Tserkva"), "Бровари": ("Бровары",), "Бориспіль": ("Борисполь",),
    "Ірпінь": ("Ирпень",), "Буча": ("Буча",), "Вишгород": ("Вышгород",), "Фастів": ("Фастов",),
    "Обухів": ("Обухов",), "Вознесенськ": ("Вознесенск",), "Очаків": ("Очаков",),
    "Первомайськ": ("Первомайск",), "Ізмаїл": ("Измаил",), "Чорноморськ": ("Черноморск", "Ильичевск"),
    "Южне": ("Южный",), "Білгород-Дністровський": ("Белгород-Днестровский",), "Подільськ": ("Подольск",),
    "Коростень": ("Коростень",), "Бердичів": ("Бердичев",), "Новоград-Волинський": ("Новоград-Волынский",),
    "Звягель": ("Новоград-Волынский",), "Олександрія": ("Александрия",), "Світловодськ": ("Светловодск",),
    "Каховка": ("Каховка",), "Нова Каховка": ("Новая Каховка",), "Берислав": ("Берислав",),
    "Олешки": ("Алешки",), "Гола Пристань": ("Голая Пристань",), "Сєвєродонецьк": ("Северодонецк",),
    "Лисичанськ": ("Лисичанск",), "Рубіжне": ("Рубежное",), "Сімферополь": ("Симферополь",),
    "Севастополь": ("Севастополь",), "Керч": ("Керчь",), "Ялта": ("Ялта",), "Феодосія": ("Феодосия",),
    "Євпаторія": ("Евпатория",), "Джанкой": ("Джанкой",), "Стрий": ("Стрый",), "Дрогобич": ("Дрогобыч",),
    "Ковель": ("Ковель",), "Мукачево": ("Мукачево",), "Калуш": ("Калуш",), "Коломия": ("Коломыя",),
    "Шепетівка": ("Шепетовка",), "Кам’янець-Подільський": ("Каменец-Подольский",),
    "Старокостянтинів": ("Староконстантинов",), "Жмеринка": ("Жмеринка",), "Ладижин": ("Ладыжин",),
    "Бурштин": ("Бурштын",), "Золотоноша": ("Золотоноша",), "Кременчуг": (), "Покров": ("Покров", "Орджоникидзе"),
    "Жовті Води": ("Желтые Воды",), "Гуляйполе": ("Гуляйполе", "Huliaipole"), "Оріхів": ("Орехов", "Orikhiv"),
    "Степногірськ": ("Степногорск",), "Токмак": ("Токмак",), "Василівка": ("Васильевка",),
    "Дергачі": ("Дергачи",), "Мерефа": ("Мерефа",), "Люботин": ("Люботин",), "Красноград": ("Красноград",),
    "Берестин": ("Красноград",), "Селидове": ("Селидово",), "Добропілля": ("Доброполье",),
    "Білозерське": ("Белозерское",), "Сіверськ": ("Северск",), "Святогірськ": ("Святогорск",),
    "Сіверськодонецьк": ("Северодонецк", "Severodonetsk", "Sievierodonetsk"),
    # Long-occupied cities are mostly written about in Russian.
    "Донецьк": ("Донецк",), "Луганськ": ("Луганск", "Lugansk"), "Горлівка": ("Горловка", "Gorlovka"),
    "Макіївка": ("Макеевка", "Makeevka", "Makiivka"), "Єнакієве": ("Енакиево",), "Алчевськ": ("Алчевск",),
    "Кадіївка": ("Кадиевка", "Стаханов"), "Хрустальний": ("Хрустальный", "Красный Луч"),
    "Шахтарськ": ("Шахтерск",), "Чистякове": ("Чистяково", "Торез"), "Сніжне": ("Снежное",),
    "Дебальцеве": ("Дебальцево",), "Ясинувата": ("Ясиноватая",), "Харцизьк": ("Харцызск",),
    "Докучаєвськ": ("Докучаевск",), "Новоазовськ": ("Новоазовск",), "Волноваха": ("Волноваха",),
    "Старобільськ": ("Старобельск",), "Сватове": ("Сватово",), "Кремінна": ("Кременная",),
    "Попасна": ("Попасная",), "Щастя": ("Счастье",), "Генічеськ": ("Геническ",),
    "Скадовськ": ("Скадовск",), "Пологи": ("Пологи",), "Кам’янка-Дніпровська": ("Каменка-Днепровская",),
    "Куп’янськ-Вузловий": ("Купянск-Узловой",), "Довжанськ": ("Свердловск",), "Ровеньки": ("Ровеньки",),
    "Антрацит": ("Антрацит",), "Брянка": ("Брянка",),
    "Іловайськ": ("Иловайск",), "Амвросіївка": ("Амвросиевка",), "Мар’їнка": ("Марьинка",),
    "Красногорівка": ("Красногоровка",),
}

# Russian names of the districts of Kyiv and Kharkiv, keyed by city and Ukrainian name.
CITY_DISTRICTS_RU: dict[tuple[str, str], str] = {
    ("Київ", "Голосіївський"): "Голосеевский", ("Київ", "Дарницький"): "Дарницкий",
    ("Київ", "Деснянський"): "Деснянский", ("Київ", "Дніпровський"): "Днепровский",
    ("Київ", "Оболонський"): "Оболонский", ("Київ", "Печерський"): "Печерский",
    ("Київ", "Подільський"): "Подольский", ("Київ", "Святошинський"): "Святошинский",
    ("Київ", "Солом’янський"): "Соломенский", ("Київ", "Шевченківський"): "Шевченковский",
    ("Харків", "Індустріальний"): "Индустриальный", ("Харків", "Київський"): "Киевский",
    ("Харків", "Салтівський"): "Салтовский", ("Харків", "Немишлянський"): "Немышлянский",
    ("Харків", "Новобаварський"): "Новобаварский", ("Харків", "Основ’янський"): "Основянский",
    ("Харків", "Слобідський"): "Слободской", ("Харків", "Холодногірський"): "Холодногорский",
    ("Харків", "Шевченківський"): "Шевченковский",
}

# Kyiv neighbourhoods that are no administrative unit: each means the city.
KYIV_NEIGHBOURHOODS: tuple[str, ...] = (  # only those no sizeable village shares
    "Оболонь", "Троєщина", "Позняки", "Осокорки", "Виноградар", "Теремки", "Святошин", "Академмістечко",
    "Харківський масив", "Лісовий масив", "Відрадний", "Борщагівка", "Сирець", "Пуща-Водиця", "Бортничі",
    "Корчувате", "Голосіїв", "Чоколівка", "Солом’янка", "Вигурівщина",
)

# Names that are also ordinary words even though the dictionary does not say so.
COMMON_WORDS: frozenset[str] = frozenset({
    "мир", "щастя", "весела", "нова", "любов", "слава", "перемога", "дружба", "воля", "надія", "зоря",
    "світанок", "степ", "поле", "гай", "луг", "сад", "лиман", "ізюм", "бар", "україна", "держава", "берег",
    "балка", "яр", "світло", "затишне", "привілля", "сонце", "рай", "вишня", "калина", "дача", "дачі",
    "зміна", "праця", "згода", "радість", "воля", "майдан", "центр", "парк", "промінь", "веселка",
    "зірка", "хутір", "колос", "нива", "урожай", "рідне", "тиха", "тихе", "краса", "пісня", "лука",
    "поділ", "червона", "червоне", "червоний", "граніт", "пролісок", "іскра", "лан", "добра", "добре",
    "mir", "bar", "nova", "pole", "sad", "rai", "lyman", "hai", "luh", "step", "zoria", "slava",
    "lubov", "druzhba", "nadiia", "volia", "peremoha", "ukraina", "park", "tsentr", "dacha", "veselka",
})

# The word after a region adjective says which level it names.
OBLAST_WORDS = frozenset({"область", "області", "областю", "областей", "областях", "обл", "ова", "ода",
                          "обласна", "обласної", "обласній", "обласну", "обласною", "областной",
                          "областная", "областного", "областному", "областную", "областным",
                          "оди", "ога", "облгосадминистрация", "облгосадминистрации",
                          "регіон", "регіону", "области", "областям", "областями", "регіоні", "регіоном", "oblast", "oblasts", "region",
                          "regions", "province", "regional", "регион", "региона", "регионе", "облась",
                          "облдержадміністрація", "облради", "облрада", "ова.", "овa"})
RAION_WORDS = frozenset({"район", "району", "районі", "районом", "районах", "районів", "райони", "р-н",
                         "р-ну", "р-ні", "р-на", "district", "districts", "raion", "rayon", "районе",
                         "района", "районов", "районам", "районами", "рн", "рва", "рда"})
HROMADA_WORDS = frozenset({"громада", "громади", "громаді", "громаду", "громадою", "громад", "громадах",
                           "тг", "отг", "мтг", "стг", "hromada", "community", "община", "общины", "общине",
                           "общину", "громаде"})
# Words that may stand between the adjective and the level word ("Балаклійська міська
# територіальна громада", "Харківська обласна військова адміністрація").
FILLER_WORDS = frozenset({"міська", "міської", "міській", "міську", "сільська", "сільської", "сільській",
                          "сільську", "селищна", "селищної", "селищній", "селищну", "територіальна",
                          "територіальної", "територіальній", "територіальну", "територіальною",
                          "військова", "військової", "військовій", "військову", "військовою",
                          "державна", "державної", "адміністрація", "адміністрації", "городская",
                          "военная", "военной", "военную", "администрация", "администрации",
                          "государственная", "государственной",
                          "городской", "сельская", "сельской", "поселковая", "територіальні",
                          "urban", "rural", "settlement", "territorial", "military", "administration"})
CONJUNCTIONS = frozenset({"та", "і", "й", "і", "and", "и", "або", "or", "чи"})

# Settlement markers -> KATOTTH categories they admit (M city, X selyshche, C village, K special city).
MARKERS: dict[str, frozenset[str]] = {}
for _words, _cats in (
    (("м", "місто", "міста", "місті", "містом", "city", "town", "г", "город", "города", "городе",
      "городом", "мiсто"), "MK"),
    (("смт", "селище", "селища", "селищі", "селищем", "сел", "пгт", "пос", "поселок", "поселка", "поселке",
      "посёлок", "поселку", "сщ", "settlement"), "XM"),
    (("с", "село", "села", "селі", "селом", "village", "villages", "деревня", "деревне", "х", "хутір",
      "хутора", "хуторі", "хутор"), "CX"),
):
    for _w in _words:
        MARKERS[_w] = frozenset(_cats)
# One-letter markers count only with their full stop ("с." not the Russian preposition "с").
DOTTED_MARKERS = frozenset({"м", "с", "г", "х", "сел", "пос"})

# Words that mean Kyiv city when a city district needs its city.
CAPITAL_WORDS = frozenset({"столиця", "столиці", "столицю", "столицею", "столица", "столице", "столицу",
                           "столицей", "capital"})
# "<Kyiv> region" in English means the oblast, "<city> district" its raion.
EN_REGION_WORDS = frozenset({"region", "oblast", "province", "regions", "oblasts", "область", "области",
                             "областью"})
WORD_RE = compiled(r"[^\W\d_]+(?:['\-][^\W\d_]+)*")


# Latin letters that look Cyrillic, as typed inside Cyrillic words ("Хaрків" with a Latin "a").
_HOMOGLYPHS = str.maketrans("aceiopxykmthbï", "асеіорхукмтнвї")
_MIXED = compiled(r"[a-zï]*[а-яіїєґ][a-zа-яіїєґ']*[a-zï][a-zа-яіїєґ']*|[a-zï]+[а-яіїєґ][a-zа-яіїєґ']*")


def _cyrillic(m: re.Match[str]) -> str:
    return m.group().translate(_HOMOGLYPHS)


def norm(text: str) -> str:
    """Lower-case with one apostrophe and no stress marks, so variants share one key; Latin
    look-alike letters inside Cyrillic words become Cyrillic. `unify`, plus what changes the
    length: the stress mark goes."""
    text = unify(text)
    if "\u0301" in text:
        text = text.replace("\u0301", "")
    low = text.lower()
    if _has_latin(low) and _CYRILLIC.search(low) and _HAS_MIX.search(low):  # cheapest tests first
        low = _MIXED.sub(_cyrillic, low)
    return low


def _has_latin(low: str) -> bool:
    """Whether lower-case `low` holds a Latin letter (a-z, ï). Most texts are Cyrillic and hold
    none, so the whole text is read: its ASCII characters alone, kept by one C encode, differ
    from their upper case exactly when one is a-z (a quarter of the cost of a regex scan)."""
    ascii_part = low.encode("ascii", "ignore")
    return ascii_part != ascii_part.upper() or "ï" in low


_CYRILLIC = compiled(r"[а-яіїєґ]")
_HAS_MIX = compiled(r"[a-zï](?=[а-яіїєґ])|(?<=[а-яіїєґ])[a-zï]")
_DOUBLE = compiled(r"(.)\1")


def latin_key(word: str) -> str:
    """One key for the English spellings of a name: Mykolayiv/Mykolaiv, Zaporizhia/Zaporizhzhia,
    Kostyantynivka/Kostiantynivka (y and i, doubled letters and apostrophes are not told apart)."""
    return _DOUBLE.sub(r"\1", word.replace("'", "").replace("zhzh", "zh").replace("y", "i"))


_RU_FOLD = str.maketrans({**dict.fromkeys("аеєиіїоуюяыэёй", "*"), **dict.fromkeys("ьъ'’"), "ґ": "г"})
_RU_RUNS = compiled(r"([^ -])\1+")
_RU_END = compiled(r"\*+(?=[ -]|$)")


def ru_skeleton(word: str) -> str:
    """A Ukrainian name and its Russian spelling share consonants, not vowels: Ківшарівка and
    Ковшаровка, Рубіжне and Рубежное, Малий Бурлук and Малый Бурлук give one skeleton. Vowels
    (and й, ь, apostrophes) collapse to "*", doubled consonants to one, each word's ending is
    dropped."""
    # A function replacement: the template r"\1" is expanded in Python per match, twice as slow
    # over the 30k names of `Gazetteer.ru_index`.
    return _RU_END.sub("", _RU_RUNS.sub(_run_letter, word.translate(_RU_FOLD)))


def _run_letter(m: re.Match[str]) -> str:
    return m.group(1)


# Russian case endings that end in a consonant: stripped before the skeleton is taken.
RU_CASE_ENDINGS = ("ами", "ями", "ому", "ему", "ого", "его", "ым", "им", "ых", "их", "ом", "ем",
                   "ам", "ям", "ах", "ях")


def words(text: str) -> list[str]:
    """Normalised word tokens of a name or text (hyphenated words stay whole)."""
    return WORD_RE.findall(norm(text))


def alternation(options: list[str]) -> str:
    """A regex alternation of the literal `options`, tried in the order given, grouped by first
    letter ("с(?:ічня|ерпня)|л(?:ютого|ипня)"): at a word start the engine then tests a letter
    per group, not every option; only options sharing a letter compete, in their order."""
    groups: dict[str, list[str]] = {}
    for option in options:
        groups.setdefault(option[0], []).append(re.escape(option[1:]))
    return "|".join(f"{re.escape(first)}(?:{'|'.join(rest)})" for first, rest in groups.items())


def is_latin(word: str) -> bool:
    return "a" <= word[0] <= "z"


def shchyna_forms(adjective: str) -> list[str]:
    """Colloquial region nouns from a region adjective: Харківська -> Харківщина.

    -ська/-ський gives -щина (Одеська -> Одещина), -цька gives -ччина (Донецька -> Донеччина),
    -зька gives -жжя (Криворізький -> Криворіжжя). Extra spellings never hurt: a form nobody
    writes simply never matches.
    """
    w = norm(adjective)
    out: list[str] = []
    for suffix in ("ська", "ський", "ская", "ский"):
        if w.endswith(suffix):
            stem = w[: -len(suffix)]
            if stem.endswith("ц"):  # Хмельницька -> Хмельниччина
                out.append(stem[:-1] + "ччина")
            else:
                out.append(stem + "щина")
                if stem.endswith("с"):  # Одеська -> Одещина, Черкаська -> Черкащина
                    out.append(stem[:-1] + "щина")
    for suffix in ("цька", "цький", "цкая", "цкий"):
        if w.endswith(suffix):
            out.append(w[: -len(suffix)] + "ччина")
            out.append(w[: -len(suffix)] + "тчина")
    for suffix in ("зька", "зький"):  # Криворізький -> Криворіжжя
        if w.endswith(suffix):
            out.append(w[: -len(suffix)] + "жжя")
    return [o for o in dict.fromkeys(out) if len(o) > 6]


# A plural level word may open the list it qualifies: "в областях: Житомирській, Вінницькій".
LIST_LEVELS: dict[str, str] = {
    **dict.fromkeys(("областях", "областей", "областям", "областями", "oblasts", "regions",
                     "регионах", "регіонах", "регіонів", "областных"), "oblast"),
    **dict.fromkeys(("районах", "районів", "районам", "районами", "районов", "districts"), "raion"),
    **dict.fromkeys(("громадах", "громад", "громадам", "громадами", "общинах", "communities"), "hromada"),
}
# Words that may stand between such a level word and the list.
LIST_SKIP = frozenset({"зокрема", "саме", "як", "таких", "а", "також", "including", "namely", "such", "as",
                       "the", "of", "in", "у", "в", "на", "по", "ще", "кількох", "декількох", "низці",
                       "именно", "том", "числе", "частности", "частина", "низки", "нескольких",
                       "западных", "західних", "східних", "південних", "північних", "центральних",
                       "прикордонних", "восточных", "южных", "северных", "western", "eastern",
                       "southern", "northern", "central", "several", "four", "three", "two", "five"})
# Nouns after a relational adjective that make it no place name ("Азовське море", "Харківський
# напрямок", "Київський гарнізон").
LANDMARK_NOUNS = frozenset({
    "море", "моря", "морі", "морем", "гарнізон", "гарнізону", "гарнізоні", "гарнізонів", "гарнізонам", "став", "ставок", "ставу",
    "озеро", "озера", "озері", "водосховище", "водосховища", "водосховищі", "узбережжя", "напрямок",
    "напрямку", "напрямі", "напрямках", "напрям", "фронт", "фронті", "шлях", "шляху", "трасі", "траса",
    "залізниці", "вокзал", "вокзалі", "аеропорт", "аеропорту", "порт", "порту", "ринок", "ринку",
    "університет", "університету", "тролейбус", "кар'єр", "лиман", "лимані", "канал", "каналі",
    "направление", "направлении", "гарнизон", "водохранилище", "водохранилища",
})

# A place's role that keeps it out of where the event happened.
# Units sent from elsewhere: "рятувальники з Полтавської області", "rescuers from Kyiv Oblast".
UNIT_NOUNS = ("рятувальн", "надзвичайник", "вогнеборц", "піротехнік", "сапер", "підрозділ", "загон",
              "спасател", "пожарн", "пиротехник", "подразделен", "rescuer", "firefighter", "unit",
              "team", "sapper", "deminer", "medic", "медик", "бригад", "екіпаж", "кінолог", "волонтер",
              "volunteer", "група", "групи", "fire", "police", "поліцейськ", "поліці", "полици")
FROM_WORDS = frozenset({"з", "зі", "із", "из", "со", "from", "of"})
# A hospital the injured were taken to: "доставили до лікарні в Харкові".
HOSPITAL_WORDS = ("лікарн", "шпитал", "госпітал", "больниц", "госпитал", "hospital", "медзаклад",
                  "медичного закладу", "медичних закладів", "клінік", "clinic", "ушпитал", "реанімац",
                  "опіков", "burn", "medical facilit", "медучрежд")
# Taking the injured somewhere: "доставили до лікарні в X", "were taken to hospital in X".
TRANSPORT_STEMS = ("достав", "госпіталіз", "госпитализ", "ушпитал", "hospitali", "taken to", "taken by",
                   "evacuat", "евакуй", "евакуйов", "перевез", "відправ", "направ", "transport", "airlift",
                   "brought to", "госпіталізов")
# The office that published the report: "повідомляє ГУ ДСНС у Полтавській області".
OFFICE_WORDS = frozenset({"дснс", "гсчс", "гснс", "ses", "управління", "управление", "управлінням",
                          "поліція", "поліції", "полиция", "полиции", "police", "прокуратура",
                          "прокуратури", "prosecutor's", "прокуратуры"})
REPORT_STEMS = ("повідом", "інформу", "пише", "пишуть", "сообща", "сообщи", "информиру", "report",
                "said", "according", "за даними", "по данным", "заяв", "stated", "announce")
# A city in an official's title or an outlet's name: "Sumy Military Administration",
# "Kyiv Mayor", "Kyiv Independent", "Суспільне Чернігів".
TITLE_AFTER = frozenset({"military", "mayor", "мва", "мвa", "council", "мер", "мэр", "independent",
                         "post", "today", "times", "inform", "online", "daily", "herald", "insider",
                         "news", "live", "тв", "tv", "fm", "radio", "info", "інформ"})
TITLE_BEFORE = frozenset({"суспільне", "суспільного", "суспільному", "suspilne", "общественное",
                          "мер", "мера", "мэр", "мэра", "mayor", "газета", "газети", "newspaper", "outlet", "телеканал",
                          "видання", "издание"})
# Roads and streets are named after places they do not lie in.
ROAD_WORDS = frozenset({"траса", "траси", "трасі", "трасу", "трасою", "трасса", "трассе", "трассы", "автодорога",
                        "автодороги", "автодорозі", "автодорогу", "шосе", "highway", "road", "route", "трасах"})
STREET_WORDS = frozenset({"вул", "вулиця", "вулиці", "вулицю", "вулицею", "вулиць", "ул", "улица", "улице",
                          "улицу", "улицы", "просп", "проспект", "проспекті", "проспекту", "проспекта",
                          "пров", "провулок", "провулку", "переулок", "бульвар", "бульварі", "бульв",
                          "пл", "площа", "площі", "площу", "площадь", "площади", "узвіз", "узвозі",
                          "набережна", "набережній", "тупик", "пр", "street", "avenue"})
STREET_AFTER = frozenset({"street", "st", "avenue", "ave", "boulevard", "blvd", "square", "road", "highway",
                          "вулиця", "вулиці", "вулицю", "улица", "улице", "проспект", "проспекті"})
# Lists of places left without power or water name the consequences, not where anything was hit.
OUTAGE_STEMS = ("електропостачан", "водопостачан", "теплопостачан", "газопостачан", "без світла",
                "без води", "без газу", "знеструмлен", "подачу води", "подача води", "подачі води",
                "пониженим тиском", "тиск води", "электроснабжен", "водоснабжен", "без света",
                "без воды", "обесточ", "without power", "without electricity", "without water",
                "power outage", "without heat")
# "Explosions were heard in X" mentions X in passing, unless the sentence says what was hit.
EXPLOSION_STEMS = ("вибух", "взрыв", "explosion", "blast")
HEARD_STEMS = ("чут", "чул", "лунал", "лунають", "пролун", "прогрим", "прогрем", "раздал", "слыш", "heard",
               "reported", "гриміл", "гремел", "sounded", "rang out")
HIT_STEMS = ("пошкодж", "зруйн", "влуч", "загин", "поранен", "постражд", "пожеж", "загорян", "damag",
             " hit", "struck", "killed", "injur", "wounded", "fire", "поврежд", "разруш", "погиб", "ранен",
             "пострада", "пожар", "попадан", "уламк", "обломк", "debris")
# Air-raid alert lists name where sirens sound, not where anything was hit.
ALERT_STEMS = ("тривог", "тревог", "alert", "siren")
ORGANISATION_AFTER = frozenset({"хрест", "хреста", "хресту", "хрестом", "крест", "креста", "кресту",
                                "cross"})
NEAR_WORDS = frozenset({"під", "под", "near", "поблизу", "неподалік", "outside"})
# "збили над Кіровоградщиною": a drone shot down over a region hit nothing there.
OVER_WORDS = frozenset({"над", "over"})
CENTRE_WORDS = frozenset({"райцентр", "райцентрі", "райцентру", "райцентра", "райцентре", "райцентром"})
# First names that are also settlement names (Володимир, Олег): before a capitalised surname
# they are a person.
FIRST_NAMES = frozenset({
    "volodymyr", "oleh", "oleg", "serhii", "serhiy", "sergii", "sergey", "ivan", "vitalii", "vitaliy",
    "yurii", "yuriy", "andrii", "andriy", "vasyl", "dmytro", "mykhailo", "petro", "vadym", "olena", "ihor",
    "viktor", "oleksii", "oleksiy", "mykola", "bohdan", "roman", "pavlo", "artem", "oleksandr", "vladimir",
    "denys", "ruslan", "anatolii", "yevhen", "taras", "maksym", "stepan", "hanna", "tetiana", "iryna",
    "natalia", "svitlana", "yuliia", "oksana", "valentyn", "valerii", "vyacheslav", "borys", "hryhorii",
    "володимир", "владимир", "олег", "сергій", "сергей", "іван", "иван", "віталій", "виталий", "юрій",
    "юрий", "андрій", "андрей", "василь", "василий", "дмитро", "дмитрий", "михайло", "михаил", "петро",
    "петр", "вадим", "олена", "елена", "ігор", "игорь", "віктор", "виктор", "олексій", "алексей", "микола",
    "николай", "богдан", "роман", "павло", "павел", "артем", "олександр", "александр", "денис", "руслан",
    "анатолій", "анатолий", "євген", "евгений", "тарас", "максим", "степан", "ганна", "анна", "тетяна",
    "татьяна", "ірина", "ирина", "наталія", "наталья", "світлана", "светлана", "юлія", "юлия", "оксана",
    "валентин", "валерій", "валерий", "вячеслав", "в'ячеслав", "борис", "григорій", "григорий", "ярослав",
    "станіслав", "станислав", "любов", "надія", "надежда", "віра", "вера", "людмила", "марія", "мария",
})


def word_start_alternation(options: list[str], before: str = r"\w", *, literal: bool = True) -> str:
    """`alternation` of the literal `options` (or, not `literal`, of patterns that each open with
    one plain letter) matched only where no `before` (a character class) precedes them: at a word
    start.

    The look-behind stands after each group's first letter, not before the alternation: the regex
    engine then skips in C to the positions holding one of the first letters, where a leading
    look-behind would be tried at every position (several times slower on a long text)."""
    groups: dict[str, list[str]] = {}
    for option in options:
        groups.setdefault(option[0], []).append(re.escape(option[1:]) if literal else option[1:])
    return "|".join(f"{re.escape(first)}(?<!{before}{re.escape(first)})(?:{'|'.join(rest)})"
                    for first, rest in groups.items())


# The spelling variants every reader of text folds into one (apostrophes, ё), each one character for
# one character: positions found in the unified text hold in the original, which the strike and
# casualty readers rely on. `norm` adds what changes the length. (str.translate with a dict is slow
# on Cyrillic text; a few str.replace calls are not.)
APOSTROPHE_VARIANTS = "ʼ’‘`′´ʹ"
SAME_LENGTH_VARIANTS = (*((variant, "'") for variant in APOSTROPHE_VARIANTS), ("ё", "е"), ("Ё", "Е"))


def unify(text: str) -> str:
    """`text` with one apostrophe and "е" for "ё", every other character in its place."""
    for variant, one in SAME_LENGTH_VARIANTS:
        if variant in text:
            text = text.replace(variant, one)
    return text
