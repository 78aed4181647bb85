"""Event scoping: background paragraphs add no place, weapon or figure (texts written for these tests)."""

from __future__ import annotations

import pytest

from analysis.analyze import analyze
from analysis.scope import scope

BACKGROUND_UK = (
    "Удар по Полтаві: пошкоджено склад\n"
    "Уранці ворожий дрон влучив у складське приміщення на околиці Полтави. Виникла пожежа, "
    "рятувальники її ліквідували. Постраждалих немає.\n"
    "Нагадаємо, 3 березня внаслідок ракетного удару по Сумах загинули троє людей. "
    "Тоді було зруйновано адмінбудівлю."
)
BACKGROUND_RU = (
    "Дрон атаковал Херсон: повреждены дома\n"
    "Утром российский беспилотник сбросил взрывчатку на частный дом в Херсоне, ранена женщина.\n"
    "Напомним, накануне ракетный удар по Одессе унес жизни двух человек."
)
RECALL_LINE_EN = (
    "Russian drone hits Chernihiv warehouse\n"
    "A Russian drone struck a warehouse in Chernihiv overnight, starting a fire. One person was injured.\n"
    "Recall\n"
    "On 2 March a missile attack on Lviv killed four people."
)


def test_background_paragraph_adds_no_oblast_weapon_or_toll() -> None:
    a = analyze(BACKGROUND_UK)
    assert a.is_strike
    assert a.oblasts == ("UA-53",)
    assert a.weapons == ("drone",)
    assert a.killed == 0 and a.injured == 0  # "постраждалих немає": nobody hurt, not "3 killed"


def test_russian_background_paragraph() -> None:
    a = analyze(BACKGROUND_RU)
    assert a.oblasts == ("UA-65",)
    assert a.weapons == ("drone",)
    assert a.killed is None and a.injured == 1


def test_a_marker_alone_on_its_line_makes_the_next_paragraph_background() -> None:
    a = analyze(RECALL_LINE_EN)
    assert a.oblasts == ("UA-74",)
    assert a.weapons == ("drone",)
    assert a.killed is None


def test_event_keeps_every_position_of_the_text() -> None:
    s = scope(BACKGROUND_UK)
    assert len(s.event) == len(BACKGROUND_UK)
    assert s.event.count("\n") == BACKGROUND_UK.count("\n")
    assert "Сумах" not in s.event and "Полтави" in s.event
    assert s.background
    assert [x.background for x in s.sentences] == [False, False, False, False, True, True]


def test_a_retelling_of_the_same_attack_stays_event() -> None:
    # "As reported" about the same night and the same oblast is the event told again.
    text = (
        "Наслідки нічної атаки на Дніпропетровщину\n"
        "Сьогодні вночі ворог атакував область дронами. Пошкоджено лінію електропередачі.\n"
        "Як повідомлялося, під ударом опинилося підприємство у Павлограді, там виникла пожежа."
    )
    oblasts = {"Павлограді": {"UA-12"}}

    def oblasts_of(part: str) -> set[str]:
        return {"UA-12"} | set().union(*(v for k, v in oblasts.items() if k in part))

    assert "Павлограді" in scope(text, oblasts_of).event
    assert "Павлограді" not in scope(text).event  # no places to compare, no shared date: background
    assert "UA-12" in analyze(text).oblasts


@pytest.mark.parametrize(
    "text",
    [
        "Атака на Ізюм: пошкоджено будинок.\nРаніше сьогодні ворог вдарив по Ізюму з артилерії.",
        "Drone attack on Sumy damages a school.\nEarlier today a drone hit a bus stop in Sumy.",
        "Удар по Одессе: повреждено здание.\nРанее сегодня дроны атаковали порт.",
    ],
)
def test_earlier_today_is_the_same_event(text: str) -> None:
    assert not scope(text).background


def test_bullets_about_other_days_are_background() -> None:
    text = (
        "On the night of 5 June, Russian drones attacked Kremenchuk, damaging a school. "
        "Two people were injured.\n"
        "- On 30 May, Russian artillery hit Nikopol, killing a man.\n"
        "- On 2 June, a guided bomb struck Kupiansk."
    )
    a = analyze(text)
    assert a.oblasts == ("UA-53",)
    assert a.weapons == ("drone",)
    assert a.killed is None and a.injured == 2


def test_habitual_context_and_datelines_are_not_the_event() -> None:
    text = (
        "Житомир: удар дрона по підприємству\n"
        "ЛЬВІВ. 7 серпня. НОВИНИ. Вночі ворожий дрон влучив у підприємство в Житомирі, виникла пожежа.\n"
        "Росія регулярно атакує міста України ракетами та керованими авіабомбами."
    )
    a = analyze(text)
    assert a.oblasts == ("UA-18",)
    assert a.weapons == ("drone",)


def test_besides_another_place_where_is_blanked_inside_the_sentence() -> None:
    s = scope("Нічна атака. Окрім Харкова, де пошкоджено склад, ворог атакував Суми дронами.")
    assert "Харкова" not in s.event and "Суми" in s.event
    assert "Харкові" in scope("Нічна атака. Окрім того, у Харкові пошкоджено склад.").event


def test_a_text_that_is_all_background_is_read_whole() -> None:
    text = "Нагадаємо, у Херсоні дрон поранив чоловіка."
    assert scope(text).event == text
    assert scope("").event == ""


def test_explosions_only_heard_elsewhere_are_no_place_of_the_event() -> None:
    text = (
        "Debris of a downed drone damaged a house in Brovary\n"
        "Debris of a Russian drone fell on a private house in Brovary overnight, damaging the roof. "
        "A woman was injured.\n"
        "Explosions were also reported in Poltava and Cherkasy."
    )
    a = analyze(text)
    assert a.oblasts == ("UA-32",)
    # a hit in the same sentence keeps it
    assert "Poltava" in scope("Drones attacked Sumy. Explosions were heard in Poltava, where a fire broke out.").event


def test_a_bullet_saying_also_about_another_oblast_is_other_news() -> None:
    text = (
        "Russian drones hit Bila Tserkva, two injured\n"
        "On the night of 9 May, Russian drones attacked Bila Tserkva, Kyiv Oblast, damaging two apartment "
        "blocks. Two people were injured.\n"
        "- On the night of 9 May, Russia also attacked Mykolaiv with drones, injuring five people."
    )
    a = analyze(text)
    assert a.oblasts == ("UA-32",)
    assert a.injured == 2


def test_a_second_marker_block_after_one_whose_places_were_compared() -> None:
    # Two "as reported" blocks on the event's own day: comparing the first one's places once
    # clobbered the date index the second one is read with (a TypeError, the post lost).
    text = (
        "5 червня росіяни вдарили ракетою по Харкову, загинули двоє людей.\n\n"
        "Нагадаємо, 5 червня у Харкові вже пошкоджено школу.\n\n"
        "Раніше, 5 червня, у Харкові пошкоджено склад."
    )
    a = analyze(text)
    assert a.oblasts == ("UA-63",)
    assert a.killed == 2


def test_sentences_end_at_each_mark_in_text_order() -> None:
    from analysis.scope import sentence_spans

    text = "Тривога! Чи чути вибухи? Так… Вогонь погасили. Кінець"
    assert [text[a:b] for a, b, _ in sentence_spans(text)] == [
        "Тривога!", "Чи чути вибухи?", "Так…", "Вогонь погасили.", "Кінець"]


def test_without_places_a_marker_block_stays_event_only_on_the_event_day() -> None:
    lead = "5 червня дрон влучив у склад у Полтаві. Виникла пожежа.\n"
    same = lead + "Нагадаємо, 5 червня там уже горів склад."
    other = lead + "Нагадаємо, 2 червня там уже горів склад."
    undated = "Дрон влучив у склад у Полтаві. Виникла пожежа.\nНагадаємо, 2 червня там уже горів склад."
    assert scope(same).event == same
    assert "2 червня" not in scope(other).event
    assert "2 червня" not in scope(undated).event
