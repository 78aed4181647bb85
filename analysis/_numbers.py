"""Number words (Ukrainian, Russian, English) and the nouns that tell people from things."""

from __future__ import annotations

from functools import lru_cache

from analysis._lexicon import alternation
from analysis._regex import compiled
from analysis.morph import parse

__all__ = [
    "CHILD_STEM",
    "CHILD_WORD",
    "MONTHS",
    "NOT_PEOPLE_AFTER",
    "NUMBER_WORDS",
    "PERSON_NOUN",
    "SINGULAR_PERSON",
    "TENS",
    "is_singular_person",
    "word_number",
]


def _forms(value: int, *words: str) -> dict[str, int]:
    return {w: value for w in words}


# Cardinal and collective forms in the cases news text uses; ambiguous short words ("сім" is also
# a noun stem, "one" a pronoun) are kept because they only count next to a casualty word.
NUMBER_WORDS: dict[str, int] = {
    **_forms(1, "один", "одна", "одного", "одну", "одній", "одним", "однієї", "одно", "одной", "one"),
    **_forms(2, "два", "дві", "двох", "двоє", "двома", "двом", "две", "двое", "двух", "two", "both", "обидва", "обидві"),
    **_forms(3, "три", "трьох", "троє", "трьом", "трое", "трех", "three"),
    **_forms(4, "чотири", "чотирьох", "четверо", "четыре", "четырех", "four"),
    **_forms(5, "п'ять", "п'ятьох", "п'ятеро", "пять", "пятеро", "пяти", "five"),
    **_forms(6, "шість", "шістьох", "шестеро", "шесть", "шести", "six"),
    **_forms(7, "сім", "сімох", "семеро", "семь", "семи", "seven"),
    **_forms(8, "вісім", "вісьмох", "восьмеро", "восемь", "восьми", "eight"),
    **_forms(9, "дев'ять", "дев'ятьох", "дев'ятеро", "девять", "девяти", "nine"),
    **_forms(10, "десять", "десятьох", "десятеро", "десяти", "ten"),
    **_forms(11, "одинадцять", "одиннадцать", "eleven"),
    **_forms(12, "дванадцять", "двенадцать", "twelve", "dozen"),
    **_forms(13, "тринадцять", "тринадцать", "thirteen"),
    **_forms(14, "чотирнадцять", "четырнадцать", "fourteen"),
    **_forms(5, "п'яти", "п'ятьма"),
    **_forms(9, "дев'яти"),
    **_forms(11, "одинадцяти", "одиннадцати"),
    **_forms(12, "дванадцяти", "двенадцати"),
    **_forms(13, "тринадцяти", "тринадцати"),
    **_forms(14, "чотирнадцяти", "четырнадцати"),
    **_forms(15, "п'ятнадцяти", "пятнадцати"),
    **_forms(15, "п'ятнадцять", "пятнадцать", "fifteen"),
    **_forms(16, "шістнадцять", "шестнадцать", "sixteen"),
    **_forms(17, "сімнадцять", "семнадцать", "seventeen"),
    **_forms(18, "вісімнадцять", "восемнадцать", "eighteen"),
    **_forms(19, "дев'ятнадцять", "девятнадцать", "nineteen"),
    **_forms(20, "двадцять", "двадцятьох", "двадцать", "двадцати", "twenty"),
    **_forms(30, "тридцять", "тридцятьох", "тридцать", "тридцати", "thirty"),
    **_forms(40, "сорок", "сорока", "forty"),
    **_forms(50, "п'ятдесят", "пятьдесят", "fifty"),
}
# "двадцять одна людина": a tens word followed by a units word is one number.
TENS = frozenset(n for n in NUMBER_WORDS.values() if n >= 20)

# People a casualty count may be counted in ("3 рятувальників та 7 мешканців").
PERSON_NOUN = compiled(
    r"(?:люд|осіб|особ|мешкан|громадян|граждан|жител|цивільн|рятувальник|надзвичайник|працівник|комунальник|пасажир|"
    r"дит|діт|жін|чолов|дівч|хлопч|військов|пенсіонер|поліцейськ|медик|енергетик|водії|"
    r"people|person|civilian|resident|rescuer|worker|child|men\b|women|passenger|firefighter|"
    r"others?\b|employee|teen|boy|girl|человек|людей|мирн|спасател|дет|пассажир|работник|женщин|"
    r"мужчин|подрост|жильц|сотрудник|мальчик|девоч)"
)
# A singular subject or object that counts as one person when no number is given.
SINGULAR_PERSON = compiled(
    r"^(?:людина|людину|жінка|жінку|чоловік|чоловіка|водій|водія|пасажир|пасажирка|пасажира|"
    r"мешканець|мешканця|мешканка|мешканку|пенсіонер|пенсіонерка|пенсіонерку|дитина|дитину|"
    r"хлопчик|хлопця|хлопець|дівчинка|дівчину|дівчинку|юнак|юнака|працівник|працівника|"
    r"працівниця|рятувальник|рятувальника|туристка|туристку|тіло|його|її|"
    r"person|man|woman|child|boy|girl|driver|civilian|resident|body|firefighter|rescuer|worker|"
    r"medic|paramedic|officer|policeman|soldier|teenager|pensioner|employee|volunteer|"
    r"мужчина|мужчину|женщина|женщину|ребенок|ребенка|пенсионерка|пенсионер|водитель|мальчик|"
    r"девочка|его|ее|тело|спасатель|спасателя|житель|жителя|жительница|жительницу|медик|медика)$"
)
CHILD_WORD = compiled(
    r"^(?:дит\w*|діт\w*|хлопчик\w*|дівчин\w*|дівчат\w*|немовл\w*|школяр\w*|підліт\w*|підлітк\w*|"
    r"child\w*|boys?|girls?|teen\w*|infant\w*|ребен\w*|дет(?:и|ей|ям|ьми|ях|ск\w*)|мальчик\w*|девоч\w*|подрост\w*|школьни\w*)$"
)
# Every word `CHILD_WORD` matches holds one of these: a text without any has no child word.
CHILD_STEM = compiled(alternation([
    "дит", "діт", "хлопчик", "дівч", "немовл", "школяр", "підліт", "child", "boy", "girl", "teen", "infant", "ребен",
    "дет", "мальчик", "девоч", "подрост", "школьни",
]))
# Month names (genitive and nominative, uk/ru/en): "18 жовтня", "в ночь на 18 октября", "18 October".
MONTHS = (
    "січня|лютого|березня|квітня|травня|червня|липня|серпня|вересня|жовтня|листопада|грудня|"
    "січень|лютий|березень|квітень|травень|червень|липень|серпень|вересень|жовтень|листопад|грудень|"
    "января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря|"
    "январь|февраль|март|апрель|май|июнь|июль|август|сентябрь|октябрь|ноябрь|декабрь|"
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec"
)
# A number followed by one of these counts things, times, ages or areas, not casualties.
NOT_PEOPLE_AFTER = compiled(
    r"^(?:будин|будів|багатоповерх|авто|машин|автомоб|разів|раз\b|рази|га\b|гектар|кв\b|м\b|км|тис|"
    r"пожеж|одиниц|населен|пункт|громад(?!ян)|район|локац|ціл|дрон|ракет|бпла|шахед|об'єкт|склад|поверх|"
    r"годин|доб|хвилин|днів|дні|день|рок|рік|років|лет|год|р\b|року|"
    rf"(?:{MONTHS})\b|years?|hours?|minutes?|days?|times\b|"
    r"розрахунк|расчет|бригад|екіпаж|экипаж|підрозділ|подраздел|crews?\b|ambulance|units?\b|teams?\b|"
    r"engines?\b|vehicles?\b|трактор|вагон|лікарн|больниц|hospitals?\b|"
    r"homes?|houses?|buildings?|settlements?|hectares?|drones?|missiles?|cars?|fires?|домов|дома\b|"
    r"зданий|пожар|часов|суток|километр|градус|мм|%|квартир|приватн|житлов|вікон|settl|villages?|"
    r"сіл|сел|дворів|домогосподар|цілей|вибухонебезп|взрывоопас|предмет|снаряд|мін|боєприпас|"
    r"apartment|floors?|targets?|objects?|повідомлен|звернен|тонн|т\b|т\.|сотен|сотні|осередк)"
)


# Longer digit runs are phone numbers, ids or sums, never a count of people; int() of a few
# thousand digits would also raise (Python's int-from-str limit) and a count beyond SQLite's
# 64-bit INTEGER could not be stored.
_MAX_DIGITS = 9


def word_number(token: str) -> int | None:
    """The value of a digit string or a number word, else None.

    Only decimal digits (category Nd, any script) count: "²", "①" and other digits of category No
    pass `str.isdigit()` but are no number `int()` can read.
    """
    if token.isdecimal():
        return int(token) if len(token) <= _MAX_DIGITS else None
    return NUMBER_WORDS.get(token)


# Roles that are animate and singular but never the victim being counted.
_NOT_VICTIM = frozenset({"ворог", "ворога", "голова", "голови", "мер", "мера", "губернатор", "губернатора",
                         "речник", "речниця", "начальник", "очільник", "президент", "міністр", "прокурор"})


@lru_cache(maxsize=8192)
def is_singular_person(token: str) -> bool:
    """Whether a Ukrainian word can only be one person ("фельдшерку", "охоронець", "водія").

    Every parse must be a singular animate noun: "людей" (plural) and "сторожа" (also "guard
    post") do not count, so an unknown word never inflates a figure.
    """
    if SINGULAR_PERSON.match(token):
        return True
    if token in _NOT_VICTIM or len(token) < 4 or not token.isalpha():
        return False
    parses = parse(token)
    return bool(parses) and all(
        p.tag.POS == "NOUN" and "anim" in p.tag and "plur" not in p.tag for p in parses
    )
