"""Table-driven cases for casualty extraction: number words, updates, totals, zeros and non-casualty numbers."""

from __future__ import annotations

import pytest

from analysis.casualties import extract_casualties

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
