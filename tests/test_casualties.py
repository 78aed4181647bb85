"""Casualty extraction: table-driven rules, and real-length posts of our own (one per cause, uk/en/ru)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis._numbers import word_number
from analysis.analyze import analyze
from analysis.casualties import _GATE, _GATE_FINDERS, _sentence_start_before, _sentences, extract_casualties

LONG_POSTS = Path(__file__).parent / "fixtures" / "detection_casualties.jsonl"

# text, killed, injured, children_killed, children_injured
CASES: list[tuple[str, int | None, int | None, int | None, int | None]] = [
    # digits and number words, Ukrainian
    ("Внаслідок удару загинули 2 людини, ще 14 травмовано.", 2, 14, None, None),
    ("Загинули троє людей, поранено 12.", 3, 12, None, None),
    ("Ворог атакував Суми: загинула одна людина, ще четверо травмовані.", 1, 4, None, None),
    ("Загинули двоє, п'ятеро поранені.", 2, 5, None, None),
    ("Поранено десятеро людей.", None, 10, None, None),
    ("Загинув чоловік 1958 р.н.", 1, None, None, None),
    ("Загинула жінка, ще 8 людей поранено, серед них дитина.", 1, 8, None, 1),
    ("Поранено 56-річного чоловіка.", None, 1, None, None),
    ("Постраждала жінка 72 років.", None, 1, None, None),
    ("Поранено фельдшерку та водія.", None, 2, None, None),
    ("Травмовано 3 рятувальників та 7 мешканців.", None, 10, None, None),
    ("Поранено 2 комунальників і 1 жінку.", None, 3, None, None),
    ("Двоє людей, зокрема дитина, госпіталізовані.", None, 2, None, 1),
    ("Загинула 1 людина та 2 отримали поранення.", 1, 2, None, None),
    ("2 загиблих, 15 поранених.", 2, 15, None, None),
    ("За добу 1 загиблий і 11 поранених.", 1, 11, None, None),
    ("На водоймі загинув 12-річний хлопчик.", 1, None, 1, None),
    ("Постраждала 14-річна дівчинка.", None, 1, None, 1),
    ("Поранено 4 людей, зокрема двох дітей.", None, 4, None, 2),
    ("Ще 11 людей звернулися по медичну допомогу.", None, 11, None, None),
    ("На місці пожежі виявлено тіло чоловіка.", 1, None, None, None),
    # updates, totals, "ще" adds
    ("Кількість загиблих внаслідок удару зросла до 9, серед них 2 дітей. Поранено 31 людину.", 9, 31, 2, None),
    ("Загинули 3 людини. Згодом з-під завалів дістали тіла ще двох загиблих.", 5, None, None, None),
    ("Поранено 7 людей. Загалом за добу постраждали 12 жителів області.", None, 12, None, None),
    ("Загалом відомо про 51 загиблого та 271 постраждалого.", 51, 271, None, None),
    ("Травмовано 2 рятувальників під час гасіння.", None, 2, None, None),
    ("У Харкові поранено 5 людей, у Чугуєві — ще 2.", None, 7, None, None),
    # zeros and nothing said
    ("Пошкоджено 2 будинки. Обійшлося без постраждалих.", 0, 0, None, None),
    ("Постраждалих немає.", 0, 0, None, None),
    ("Жертв і руйнувань немає.", 0, 0, None, None),
    ("Загиблих немає, травмовано 5 працівників.", 0, 5, None, None),
    ("Інформація про загиблих та поранених не надходила.", None, None, None, None),
    ("Інформація про постраждалих уточнюється.", None, None, None, None),
    # numbers that are not casualties
    ("Пошкоджено 2 будинки та 5 авто. Площа пожежі 50 кв. м.", None, None, None, None),
    ("Рятувальники врятували 3 людей, серед них дитину.", None, None, None, None),
    ("Підтоплено 40 домогосподарств, евакуйовано 20 людей.", None, None, None, None),
    ("14-15 липня о 08:30 очікується гроза.", None, None, None, None),
    ("З-під завалів деблокували 11 людей. Загинули 2 людини.", 2, None, None, None),
    ("Ворог 412 разів атакував 12 населених пунктів, загинула людина, поранено 5.", 1, 5, None, None),
    # English
    ("Russian missile strike on Kharkiv kills two, injures 14.", 2, 14, None, None),
    ("Russian shelling of Kherson kills a woman. A 64-year-old woman was killed on Monday.", 1, None, None, None),
    ("One person was killed and two others injured.", 1, 2, None, None),
    ("A ballistic missile hit Poltava, killing seven people and injuring 19, among them four children.", 7, 19, None, 4),
    ("Death toll rises to 9, including two children. Another 36 people were injured.", 9, 36, 2, None),
    ("Rescuers pulled two bodies from the rubble, bringing the death toll to five.", 5, None, None, None),
    ("The number of people injured has risen to 28.", None, 28, None, None),
    ("Two people were hospitalized.", None, 2, None, None),
    ("A 10-year-old boy drowned in a lake.", 1, None, 1, None),
    ("Carbon monoxide poisoning: a family of three was hospitalized.", None, 3, None, None),
    ("Glide bomb attack leaves 2 dead, 9 injured.", 2, 9, None, None),
    ("No one was injured.", 0, 0, None, None),
    ("There were no casualties.", 0, 0, None, None),
    ("Rescuers evacuated 20 residents from a burning building.", None, None, None, None),
    # Russian
    ("Погибли 3 человека, еще 12 ранены.", 3, 12, None, None),
    ("Обстрел Краматорска: трое погибших, пятеро раненых.", 3, 5, None, None),
    ("Число погибших возросло до 11, среди них двое детей.", 11, None, 2, None),
    ("Ранен мужчина 52 лет.", None, 1, None, None),
    ("Погибли двое, число раненых выросло до 14.", 2, 14, None, None),
    ("Пострадали 17 человек, среди них трое детей.", None, 17, None, 3),
    ("Утонули двое подростков.", 2, None, 2, None),
    ("Мужчина отравился угарным газом, его госпитализировали.", None, 1, None, None),
    ("Спасатели эвакуировали 20 человек, погиб мужчина.", 1, None, None, None),
    ("Пострадавших нет.", 0, 0, None, None),
    # nothing at all
    ("Рятувальники ліквідували пожежу на площі 300 кв. м.", None, None, None, None),
    ("", None, None, None, None),
]


@pytest.mark.parametrize(("text", "killed", "injured", "ck", "ci"), CASES)
def test_extract_casualties(
    text: str, killed: int | None, injured: int | None, ck: int | None, ci: int | None
) -> None:
    got = extract_casualties(text)
    assert (got.killed, got.injured, got.children_killed, got.children_injured) == (killed, injured, ck, ci), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Внаслідок атаки постраждали 6 людей, з них 2 загинули.", (2, 4)),
        ("Пострадали пять человек, из них двое погибли.", (2, 3)),
        ("У Луцьку чадним газом отруїлися двоє людей, їх госпіталізовано.", (None, 2)),
        ("Постраждалих серед цивільного населення немає.", (0, 0)),
        ("Пострадавших среди мирного населения нет.", (0, 0)),
    ],
)
def test_dead_among_the_affected_plural_pronouns_and_civilian_zero(text: str, expected: tuple[int | None, int | None]) -> None:
    result = extract_casualties(text)
    assert (result.killed, result.injured) == expected


# One rule each, in the three languages (the long posts below combine them as real posts do).
RULES: list[tuple[str, int | None, int | None, int | None, int | None]] = [
    # a figure repeated in headline, lead and quote is one figure; "ще" after a killed clause is the other category
    (("Удар по Ізюму: загинули двоє, ще шестеро поранені. За даними ОВА, загинули двоє, ще шестеро людей "
      "отримали поранення."), 2, 6, None, None),
    (("Strike on Odesa kills 2, injures 4. The missile hit a port building, killing two people and injuring "
      "four others."), 2, 4, None, None),
    (("Обстрел Никополя: погиб один человек, еще трое ранены. «Погиб мужчина, еще три человека ранены», — "
      "сообщил глава ОВА."), 1, 3, None, None),
    # an update beats a stated total, which beats repeated figures
    ("Загалом поранено 12 людей. Згодом кількість поранених зросла до 15.", None, 15, None, None),
    ("Число раненых возросло до 8. Ранее сообщалось о пяти раненых.", None, 8, None, None),
    # breakdowns are parts of a figure
    ("Поранено п'ятьох людей. Серед поранених — троє рятувальників, а також двоє поліцейських.", None, 5, None, None),
    ("Seven people were injured, three of them seriously.", None, 7, None, None),
    ("Пострадали шесть человек, из них двое госпитализированы.", None, 6, None, None),
    # a comma insertion does not move a count to the other category
    ("A man was killed and three people, including a girl, were injured.", 1, 3, None, 1),
    # ages, dates, clock times and crews are never counts
    ("Постраждали троє — жінки 45, 62 та 70 років.", None, 3, None, None),
    ("Women aged 45, 62 and 70 were injured.", None, 3, None, None),
    ("В ночь на 18 октября пострадал мужчина.", None, 1, None, None),
    ("Станом на 14:00 відомо про 5 загиблих.", 5, None, None, None),
    ("На місці працювали 5 розрахунків, травмовано 2 людей.", None, 2, None, None),
    ("Civilian killed as Russians shell the region 119 times.", 1, None, None, None),
    # the number next to the casualty word, not the largest
    ("Внаслідок удару по 3 будинках загинули 2 людини.", 2, None, None, None),
    # distinct places are summed, people told apart by their ages too
    ("Поранено 2 людей в Харкові та 1 в Балаклії.", None, 3, None, None),
    ("У Харкові поранено 3 людей. У Чугуєві травмовано двох. На Сумщині водій отримав поранення.", None, 6, None, None),
    ("В Купянске пострадали 47-летний и 50-летний мужчины; в Изюме пострадала 70-летняя женщина.", None, 3, None, None),
    # a speaker or the country is no place of its own
    ("У Нацполіції повідомили про 3 поранених. У Харкові поранено 3 людей.", None, 3, None, None),
    ("В Україні за добу загинули 5 цивільних. У Харкові загинули 2 людини.", 5, None, None, None),
    # one person without a number
    ("Є загиблий, інформація уточнюється.", 1, None, None, None),
    ("Есть погибший среди мирного населения.", 1, None, None, None),
    ("A firefighter was injured while putting out the fire.", None, 1, None, None),
    ("A man died after the strike. Another woman was seriously injured in hospital.", 1, 1, None, None),
    ("A man was killed. Another man was killed in the village.", 2, None, None, None),
    ("Поранені чоловік і дівчина.", None, 2, None, None),
    ("Зазнала травм 39-річна жінка.", None, 1, None, None),
    ("Одну людину ушпиталили.", None, 1, None, None),
    # a building is not a person; "больше всего" is no total
    ("Постраждав адмінбудинок.", None, None, None, None),
    ("Больше всего пострадал центр города, ранены двое.", None, 2, None, None),
    # killed idioms
    ("Російська ракета обірвала життя трьох людей.", 3, None, None, None),
    ("Чоловік отримав травми, несумісні з життям.", 1, None, None, None),
    ("Окупанти вбили двох цивільних.", 2, None, None, None),
    ("Кількість жертв зросла до 7.", 7, None, None, None),
    ("Загибель двох людей підтвердили в ОВА.", 2, None, None, None),
    # negations
    ("Жоден із працівників не постраждав.", 0, 0, None, None),
    ("Атака дронів: ніхто не постраждав і не загинув.", 0, 0, None, None),
    ("Люди, за попередніми даними, не постраждали.", 0, 0, None, None),
    ("Люди внаслідок удару поранень не зазнали.", None, 0, None, None),
    ("The personnel were not injured.", None, 0, None, None),
    ("Інформації про жертв немає.", None, None, None, None),
    ("Обошлось без погибших.", 0, None, None, None),
    # rescuers are casualties too ("спас-" is "rescued", "спасатели" are rescuers)
    ("В Сумах ранены трое спасателей ГСЧС после повторного удара.", None, 3, None, None),
    ("Спасатели спасли 4 человек, погиб мужчина.", 1, None, None, None),
    # a digit glued to a word, a compound number word, a digit with a case ending
    ("Поранено5 людей.", None, 5, None, None),
    ("Ще двадцять одна людина поранена.", None, 21, None, None),
    ("Ранены 5-ти человек.", None, 5, None, None),
    # "ще" of the same category adds; "кроме них" too
    ("Поранено 4 людей. Згодом до лікарні звернулися ще двоє.", None, 6, None, None),
    ("Ранены трое спасателей. Кроме них, пострадали две женщины.", None, 5, None, None),
    ("Загинув 1 рятувальник, ще 2 рятувальники травмовані. Також постраждали 3 цивільних.", 1, 5, None, None),
    # the dead among the injured count as killed only
    ("Поранено 5 людей, один із них згодом помер у лікарні.", 1, 4, None, None),
    ("Five people were injured; one of them later died in hospital.", 1, 4, None, None),
]


@pytest.mark.parametrize(("text", "killed", "injured", "ck", "ci"), RULES)
def test_counting_rules(text: str, killed: int | None, injured: int | None, ck: int | None, ci: int | None) -> None:
    got = extract_casualties(text)
    assert (got.killed, got.injured, got.children_killed, got.children_injured) == (killed, injured, ck, ci), text


def _long_posts() -> list[dict]:
    return [json.loads(line) for line in LONG_POSTS.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("post", _long_posts(), ids=lambda p: p["id"])
def test_real_length_posts(post: dict) -> None:
    # Posts of 600-1,200 characters with headline, lead and quote repeating a figure, background
    # paragraphs, crews, clock times, breakdowns and per-place summaries, written for this test.
    assert 600 <= len(post["text"]) <= 1200
    got = analyze(post["text"]).to_json()
    want = {k: post[k] for k in ("killed", "injured", "children_killed", "children_injured")}
    assert {k: got[k] for k in want} == want


def test_long_posts_cover_every_language() -> None:
    assert {p["lang"] for p in _long_posts()} == {"uk", "en", "ru"}
    assert min([p["lang"] for p in _long_posts()].count(lang) for lang in ("uk", "en", "ru")) >= 4


@pytest.mark.parametrize(
    "text",
    ["\ue000\ue0ff 5 \uf8ff поранено", "İİİ загинули 2 İ людини", "9" * 40 + " поранено", "поранено " + "١٢٣",
     "\u0301\u200b загинув\x00", "₂ ² ½ загинули", "а" * 5000 + " поранено 3", "…:;!?" * 50, "\U0001F600 поранено 2 👶"],
)
def test_never_raises_on_odd_text(text: str) -> None:
    got = extract_casualties(text)
    assert got.killed is None or got.killed >= 0


def test_word_number_contract() -> None:
    assert word_number("12") == 12 and word_number("п'яти") == 5 and word_number("двадцять") == 20
    assert word_number("1" * 10) is None  # more than 9 digits is no count
    assert word_number("²") is None and word_number("½") is None  # isdigit but not decimal
    assert word_number("") is None and word_number("людей") is None


# The first gate word's sentence is found back from it; a lone dot after an abbreviation, a digit
# after a run and a line break before "м." are where the split reads more than the run itself.
TRICKY_STARTS = [
    "Обстріл Харкова. У м. Харків загинули 2 людини.",
    "Площа пожежі 50 кв. м. За даними ОВА, загинули 2 людини.",
    "Пожежа\nм. Харків, загинули 2 людини.",
    "Станом на 14:00... 5.5 тис. га. Загинули 2 людини!",
    "Вул. Сумська, 5. Загинула жінка",
    "Удар по с. Шевченкове; вул. Миру. р-н. Загинув чоловік",
    "Загинули двоє",
]


@pytest.mark.parametrize("text", TRICKY_STARTS)
def test_sentences_from_the_first_gate_word_are_the_whole_split(text: str) -> None:
    whole = list(_sentences(text))
    pos = text.lower().index("загин")
    part = list(_sentences(text, _sentence_start_before(text, pos)))
    assert part == whole[len(whole) - len(part):]
    assert any(a <= pos < b for a, b in part)


@pytest.mark.parametrize("text", [
    "Загинули двоє. Номер 101. Тіло знайдено! Ранені; смертельно: ушпиталено 3",
    "Injured. Killed. No deaths; bodies: hospitalised. Бувай. Тону. Жертви",
    "Померла жінка. Умер мужчина. Звернулися по допомогу. Несовместимые с жизнью травмы",
])
def test_gate_positions_name_every_sentence_with_a_gate_word(text: str) -> None:
    low = text.lower()
    spans = list(_sentences(low))
    positions = [m.start() for letter, rx in _GATE_FINDERS if letter in low for m in rx.finditer(low)]
    assert {k for k, (a, b) in enumerate(spans) if any(a <= p < b for p in positions)} == \
        {k for k, (a, b) in enumerate(spans) if _GATE.search(low[a:b])}
