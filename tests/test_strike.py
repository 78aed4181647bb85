"""Table-driven cases for the strike classifier: strikes, hard negatives and weapons, uk/ru/en."""

from __future__ import annotations

import re

import pytest

from analysis.model import WEAPONS
from analysis.strike import (
    _LED,
    _NO_DAMAGE,
    _NO_HARM,
    _blanked,
    _starts_at,
    _strong,
    _word_starts,
    classify,
    normalize,
)

STRIKES: list[tuple[str, tuple[str, ...]]] = [
    ("Харківщина: внаслідок ракетного удару по Чугуєву пошкоджено адмінбудівлю, травмовано 2 людей.", ("missile",)),
    ("Рятувальники ліквідували пожежу, що виникла внаслідок атаки ворожих БпЛА на Вінницю.", ("drone",)),
    ("Запоріжжя: наслідки ворожої атаки. Рятувальники розбирають завали будинку.", ()),
    ("Херсон: внаслідок обстрілу пошкоджено приватний будинок, загинула жінка.", ()),
    ("Обстріл Нікополя: пошкоджено 3 будинки, поранено чоловіка.", ()),
    ("Ворог атакував Сумщину FPV-дронами, поранено водія.", ("fpv",)),
    ("Окупанти скинули вибухівку з дрона на автомобіль у Білозерці, водій отримав поранення.", ("drone",)),
    ("Ворог скинув на Краматорськ 3 КАБи: зруйновано будинок, є загиблі.", ("guided_bomb",)),
    ("Донеччина: росіяни вдарили по Костянтинівці з РСЗВ «Смерч», поранено 4 людей.", ("mlrs",)),
    ("Уламки збитого «шахеда» пошкодили дах багатоповерхівки в Житомирі.", ("drone",)),
    ("Ракетно-дронова атака на Рівне: виникли пожежі на об'єкті енергетики.", ("drone", "missile")),
    ("Унаслідок нічної атаки на Київ загинули 16 людей, поранено 100.", ()),
    ("Двоє загиблих і шестеро поранених — наслідки удару по Покровську.", ()),
    ("Росіяни обстріляли Чорнобаївку з артилерії та мінометів, пошкоджено лінію електропередачі.", ("artillery",)),
    ("Russian missile strike on Ternopil kills two, injures 30.", ("missile",)),
    ("Russian drones hit Odesa port overnight; three people were killed and eight wounded.", ("drone",)),
    # "shelling" is the generic "обстріл": no weapon named (LABELING.md, weapons rule).
    ("Russian shelling of Kherson injures a woman.", ()),
    ("Russian artillery shelled Kherson, a woman was injured.", ("artillery",)),
    ("У Херсоні снаряд влучив у будинок, поранено жінку.", ("artillery",)),
    ("Окупанти обстріляли Херсон з «Градів»: снаряди влучили в будинки.", ("mlrs",)),
    ("Ворог скинув ФАБ-250 на Вовчанськ, зруйновано будинок.", ("guided_bomb",)),
    ("Внаслідок удару по фабриці у Харкові виникла пожежа.", ()),
    ("Two people killed as Russian glide bombs hit Kupiansk.", ("guided_bomb",)),
    ("Russian forces attacked Marhanets with FPV drones, wounding a man.", ("fpv",)),
    ("Russia hits Kramatorsk with multiple rocket launchers, damaging a school.", ("mlrs",)),
    ("Death toll from Russian strike on Kryvyi Rih rises to 12.", ()),
    ("Харьков: в результате удара КАБ ранены 5 человек.", ("guided_bomb",)),
    ("Ночью враг атаковал Днепр ракетами. Погибли 4 человека, 27 ранены.", ("missile",)),
    ("Обломки сбитого беспилотника упали на жилой дом в Броварах, пострадавших нет.", ("drone",)),
    ("Армия РФ обстреляла Никополь из артиллерии, погиб мужчина.", ("artillery",)),
    ("Российские военные обстреляли Херсон из «Градов», повреждены дома.", ("mlrs",)),
    ("Russia attacked Ukraine's energy grid overnight with 90 missiles and 100 drones.", ("drone", "missile")),
    ("Ворог атакував енергетичну інфраструктуру Львівщини.", ()),
]

NOT_STRIKES: list[str] = [
    # house and grass fires, accidents, drownings, gas, carbon monoxide
    "Київщина: у Фастові рятувальники ліквідували пожежу в житловому будинку. Виявлено тіло чоловіка.",
    "Черкащина: пожежа в екосистемі на площі 20 га. Спалювання сухостою заборонено!",
    "Одещина: ДТП на трасі, загинули 2 людини, травмовано 3.",
    "Житомирщина: на річці потонув чоловік 1975 р.н.",
    "У Дніпрі внаслідок вибуху газу в багатоповерхівці загинули 3 людини.",
    "Рівне: отруєння чадним газом, двоє людей госпіталізовані.",
    "Пожежа на Київщині: у Броварах горів склад площею 500 кв. м, загинув охоронець.",
    # demining and old ordnance, even with "обстріли тривають"
    "Харківщина: піротехніки знешкодили 40 вибухонебезпечних предметів. Ворог продовжує обстріли!",
    "Сапери знищили авіабомбу, яка не розірвалася після удару по місту.",
    "Житель Винницы нашел в огороде артиллерийский снаряд времен Второй мировой войны.",
    "Deminers destroyed an unexploded Russian missile found in a field in Chernihiv Oblast.",
    "Two children were injured after playing with an old grenade they found near Chernivtsi.",
    # weather, advice, alerts without a hit, drills
    "Синоптики попереджають: 14-15 липня гроза, град, шквали 20 м/с.",
    "Гроза з градом пошкодила дахи 20 будинків у Вінниці.",
    "Під час повітряної тривоги прямуйте в укриття! Бережіть себе.",
    "Повітряні сили: ворог запустив ударні БпЛА у напрямку Полтавщини. Будьте в укриттях!",
    "Повітряна тривога в Київській області через загрозу застосування балістики.",
    "Рятувальники провели навчання з ліквідації наслідків ракетного удару по школі.",
    "Air raid alert declared in Kharkiv and Dnipropetrovsk oblasts amid threat of ballistic missiles.",
    "Rescuers held drills in Poltava simulating the aftermath of a missile strike.",
    "Во время воздушной тревоги немедленно спускайтесь в укрытие.",
    # statistics of ordinary emergencies
    "За минулу добу рятувальники ліквідували 98 пожеж, загинули 3 людини.",
    "ДСНС: за тиждень на водоймах загинули 23 людини, серед них 4 дитини.",
    # Ukrainian strikes on Russia, Russian claims about Belgorod/Kursk, occupied Crimea
    "ЗСУ уразили нафтопереробний завод у Саратові: спалахнула пожежа.",
    "Губернатор Курської області заявив про атаку українських дронів, поранено двох людей.",
    "Ukrainian drones hit an oil depot in Russia's Belgorod region, injuring one person.",
    "Russia claims Ukrainian shelling of the Kursk region killed two civilians.",
    "Губернатор Белгородской области заявил, что ВСУ обстреляли Шебекино, ранены двое.",
    "Оккупационные власти Крыма сообщили о пожаре на нефтебазе после атаки дронов.",
    # threats are not hits, even when they name the target
    "Загроза ракетного удару по енергетичній інфраструктурі, будьте в укриттях.",
    "Ворог може атакувати енергетичну інфраструктуру.",
    "Russia may strike energy infrastructure this winter, officials warn.",
    # memorials
    "У Полтаві попрощалися з рятувальником, який загинув торік під час ліквідації наслідків обстрілу.",
]


@pytest.mark.parametrize(("text", "weapons"), STRIKES)
def test_strikes_are_recognised_with_their_weapons(text: str, weapons: tuple[str, ...]) -> None:
    reading = classify(text)
    assert reading.is_strike, text
    assert reading.weapons == weapons


@pytest.mark.parametrize("text", NOT_STRIKES)
def test_hard_negatives_are_not_strikes(text: str) -> None:
    reading = classify(text)
    assert not reading.is_strike, text
    assert reading.weapons == ()


def test_weapons_are_sorted_known_names() -> None:
    text = "Росіяни обстріляли Херсонщину з артилерії, дронів, РСЗВ та КАБами: 2 загиблих, ракетою по Одесі."
    reading = classify(text)
    assert reading.weapons == tuple(sorted(reading.weapons))
    assert set(reading.weapons) <= set(WEAPONS)
    assert set(reading.weapons) == {"artillery", "drone", "guided_bomb", "missile", "mlrs"}


def test_hail_is_not_a_grad_launcher() -> None:
    assert "mlrs" not in classify("Уламки ракети впали в полі, пошкоджено будинок. Увечері очікується град.").weapons


def test_empty_text() -> None:
    assert classify("").is_strike is False


# A closing line or a later paragraph of another kind cannot sink a strike report.
INCIDENTAL_NEGATIVES = [
    "Унаслідок ракетного удару по Полтаві зруйновано склад, загинули двоє людей. На місці працюють "
    "рятувальники, піротехніки та кінологи.",
    "Ворожий дрон влучив у підстанцію в Чернігові, виникла пожежа. Піротехніки обстежили територію на "
    "наявність вибухонебезпечних предметів.",
    "Росіяни атакували Ізюм: пошкоджено школу та два будинки.\nПід завалами можуть бути люди, "
    "інформація про можливих постраждалих уточнюється.\nПід час повітряної тривоги прямуйте в укриття!",
    "Удар по Сумах: загинула жінка.",
    "Ворог завдав масованого удару по Кривому Рогу, є загиблі та поранені.",
    "Окупанти вдарили по Херсону, пошкоджено лікарню.",
    "Enemy strikes on Mykolaiv: a port warehouse caught fire, two workers were injured.",
    "Russian forces targeted a grain terminal in Izmail overnight, damaging silos.",
    "A Russian drone hit a warehouse in Odesa. Sappers are working at the site.",
    "Ночью враг атаковал Днепр ракетами, повреждены дома. На месте работают спасатели и пиротехники.",
    "Ракета влучила в Житомир, пошкоджено будинки.\nШкільні заклади міста переведені на дистанційне навчання.",
    "Російська ракета обірвала життя трьох людей у Краматорську.",
    "Дрон атакував цивільне судно біля Ізмаїла, постраждалих немає.",
]

# Denied hits, denied links to shelling, explosions only heard.
DENIALS = [
    "У Черкасах горіла квартира, загинув чоловік. Пожежа не пов'язана з обстрілами.",
    "Сили ППО збили 7 шахедів над Київщиною. Влучань та руйнувань немає.",
    "Air defence downed 12 Shahed drones over Vinnytsia Oblast overnight. No hits or casualties were reported.",
    "ПВО сбила все дроны над Полтавской областью: повреждений не зафиксировано, пострадавших нет.",
    "У Рівному лунають вибухи: працює ППО, ворог атакує місто дронами.",
    "A warehouse fire in Lutsk killed a guard; the fire was not related to shelling, police said.",
    "Через загрозу повторних ударів рятувальники призупинили роботи в Харкові.",
]


@pytest.mark.parametrize("text", INCIDENTAL_NEGATIVES)
def test_an_incidental_negative_cue_does_not_sink_a_strike(text: str) -> None:
    assert classify(text).is_strike, text


@pytest.mark.parametrize("text", DENIALS)
def test_denied_hits_and_links_are_not_strikes(text: str) -> None:
    assert not classify(text).is_strike, text


def test_a_negative_topic_in_the_first_sentence_still_counts() -> None:
    # Demining is the topic here; the attack is the reason the bomb lay there.
    assert not classify("Піротехніки знешкодили авіабомбу, що не розірвалася після удару по Харкову. "
                        "Пошкоджень немає.").is_strike
    assert not classify("Ворог може атакувати енергетичну інфраструктуру, пошкодження можливі.").is_strike


@pytest.mark.parametrize(
    ("text", "weapons"),
    [
        # drones only shot down are not a weapon of the attack; their debris that damaged is
        ("Ворог обстріляв Нікополь з артилерії, пошкоджено будинок. Над областю сили ППО збили два "
         "безпілотники.", ("artillery",)),
        ("ППО збила шахед над Києвом, уламки пошкодили дах будинку.", ("drone",)),
        # after "FPV-дрон" one bare "дрон" is that FPV drone; a Shahed as well is a second weapon
        ("Ворог атакував Бериславщину FPV-дронами. Внаслідок влучання одного з дронів загорівся сарай.", ("fpv",)),
        ("Ворог атакував Бериславщину FPV-дронами, а вночі шахед влучив у склад.", ("drone", "fpv")),
        ("Russian troops shelled the village with multiple launch rocket systems, damaging two houses.", ("mlrs",)),
        ("Окупанти завдали 40 артударів по Гуляйполю, пошкоджено школу.", ("artillery",)),
        ("Russian aircraft struck Orikhiv, destroying a shop.", ("guided_bomb",)),
    ],
)
def test_weapons_named_as_used(text: str, weapons: tuple[str, ...]) -> None:
    reading = classify(text)
    assert reading.is_strike, text
    assert reading.weapons == weapons


def test_a_denial_in_either_word_order() -> None:
    assert not classify("У Вінниці горіла квартира. Причина — коротке замикання, з обстрілом пожежа не пов'язана.").is_strike
    assert not classify("В Одессе горел склад. С обстрелами пожар не связан, сообщили в ГСЧС.").is_strike


# A headline's bare "удар" with a toll is a strike with no weapon named (issue 12); a stroke of heat,
# sun, lightning or current with a toll is not.
BARE_STRIKES = [
    "Ізюм: удар, 3 загиблих.",
    "Новий удар — у Курахові поранено двох людей.",
    "Херсон: удары, погибли двое.",
]
STROKES = [
    "Тепловий удар: у Вінниці загинула пенсіонерка.",
    "Від теплового удару, 2 загиблих на пляжі.",
    "Удар блискавки: на Волині загинув пастух.",
    "Удар струмом, загинув електромонтер у Луцьку.",
    "Сонячний удар: постраждала дитина.",
    "Тепловой удар: погиб рабочий на стройке.",
]


@pytest.mark.parametrize("text", BARE_STRIKES)
def test_a_bare_strike_noun_with_a_toll_is_a_strike(text: str) -> None:
    reading = classify(text)
    assert reading.is_strike, text
    assert reading.weapons == ()


@pytest.mark.parametrize("text", STROKES)
def test_a_stroke_with_a_toll_is_not_a_strike(text: str) -> None:
    assert not classify(text).is_strike, text


DENIAL_RUNS = [
    "Пошкоджень немає, без жертв і без руйнувань обійшлося. Постраждалих немає, травмованих немає.",
    "Руйнувань та пошкоджень не зафіксовано; жертв немає, без постраждалих.",
    "No damage or casualties were reported; damage was not reported, no injuries.",
    "Ні пошкоджень ні руйнувань не було, без уламків. Рашкода немає; the damage caused none, без-жертв.",
    "Повреждений нет, пострадавших нет, обошлось без жертв и без разрушений.",
]


@pytest.mark.parametrize("text", DENIAL_RUNS)
def test_denials_are_blanked_as_one_scan_of_the_alternation_would(text: str) -> None:
    # `_blanked` merges the scans of a denial's two branches: it must blank what one scan of their
    # alternation does (adjacent denials, a denial starting inside a word), and `_starts_at` must
    # hold every word start the blanking made.
    low = normalize(text)
    for negated in (_NO_DAMAGE, _NO_HARM):
        whole = re.compile("|".join(rx.pattern for rx in negated))
        told, cuts = _blanked(low, negated, [rx.search(low) for rx in negated])
        assert told == whole.sub(lambda m: " " * len(m.group()), low)
        assert told != low or negated is _NO_HARM  # every text denies damage
        assert {k for k in _word_starts(told) if k.isalnum()} <= _word_starts(low) | _starts_at(told, cuts)


# Texts where a stem's key is a later word of its head, a word after a mark, or a short word the
# stem ends ("рф\b"), and words that only share a key with a stem ("воронка", "розірвана").
KEYED = [
    "Снаряд не розірвався, сапери працюють. Воронка на подвір'ї, штора розірвана.",
    "Ракета «Калібр» і «калибр»: С-300 та Х-101 по місту. Рф, РФ. рфа рф-",
    "Атака в направлении Харькова; тревога в направлениях. Будьте в укритті!",
    "Не нехтуйте сигналами. May strike again; Mayday. Сау, САУ-2, саун, hit. Hits-were hit-and-run",
    "Причина пожежі встановлюється. (Загроза) удару; «шахед»/дрон.",
]


def _cues() -> list[object]:
    from analysis import strike

    cues = [v for v in vars(strike).values() if isinstance(v, strike._Cue)]
    return [*cues, *strike._WEAPONS.values(), *(cue for cue, _ in strike._NEGATIVE)]


@pytest.mark.parametrize("text", [*KEYED, *(t for t, _ in STRIKES), *NOT_STRIKES, *INCIDENTAL_NEGATIVES])
def test_a_cue_finds_what_its_whole_alternation_finds(text: str) -> None:
    # The word-start keys only rule stems out: a cue must match where, and only where, the
    # alternation of all its stems does.
    low = normalize(text)
    starts = _word_starts(low)
    for cue in _cues():
        whole = [m.span() for m in cue.rx.finditer(low)]  # type: ignore[attr-defined]
        assert cue.found_in(low, starts) == bool(whole), cue.parts  # type: ignore[attr-defined]
        assert [m.span() for m in cue.finditer(low, starts)] == whole  # type: ignore[attr-defined]


@pytest.mark.parametrize(("word", "rest"), _LED)
def test_each_aftermath_phrase_is_found_where_its_words_stand(word: str, rest: str) -> None:
    # `_strong` looks for words sharing a piece ("внаслідок", "унаслідок", "наслідк") by that piece:
    # each must still be found, in a text holding only it (pieces of the others after it).
    ending = {"наслідк": "и атаки", "масован": "ої атаки", "массированн": "ой атаки", "russia": "n attack"}
    phrase = word + ending.get(word, "" if not rest else " атаки")
    text = f"— {phrase} на місто; наслід, в результат, д ударом"
    assert re.search(re.escape(word) + rest, text)
    assert _strong(text)
    assert not _strong(text.replace(word, word[:-1] + "ъ"))
