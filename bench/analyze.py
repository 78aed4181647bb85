"""Throughput of `analysis.analyze.analyze` over 5,000 generated posts (uk/en/ru), twice: short
one-sentence posts, and real-length ones (~800 characters: a headline, the event with its figures
and places, a background paragraph about an earlier attack, an advice paragraph).

Each measurement runs in a fresh subprocess so start-up (imports, gazetteer load) is counted.
A bare regex pass over the same texts, in the same run, is the baseline; the ratio is the figure.
Targets (issue 3): >= 2,000 posts/s including start-up, gazetteer load < 1 s, peak < 150 MB.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
N_POSTS = 5_000

UK = [
    "{obl}: внаслідок ворожого удару по {city} загинули {n} людей, ще {m} поранені. Рятувальники ДСНС ліквідували пожежу.",
    "Вночі ворог атакував {city} ударними БпЛА. Пошкоджено житловий будинок у {district} районі.",
    "На {obl_loc} російська армія обстріляла с. {village} {raion} району. Постраждалих немає.",
    "У {city_loc} внаслідок ракетного удару зруйновано склад. Триває розбір завалів.",
    "ДСНС нагадує: не залишайте дітей без нагляду біля водойм. Сума коштів на відновлення - 3 млн грн.",
]
EN = [
    "Russian drones struck {en_city} overnight, injuring {m} people, the {en_obl} regional administration said.",
    "A missile attack on {en_city} killed {n}; rescuers are working at the site in {en_obl} Oblast.",
]
RU = [
    "В {ru_city} в результате обстрела погибли {n} человек, ранены {m}.",
    "Харьковская область: удар по Балаклее, повреждены дома.",
]
CITIES = [("Харків", "Харкову", "Харкові", "Kharkiv", "Харькове"), ("Дніпро", "Дніпру", "Дніпрі", "Dnipro", "Днепре"),
          ("Запоріжжя", "Запоріжжю", "Запоріжжі", "Zaporizhzhia", "Запорожье"),
          ("Одеса", "Одесі", "Одесі", "Odesa", "Одессе"), ("Суми", "Сумам", "Сумах", "Sumy", "Сумах"),
          ("Херсон", "Херсону", "Херсоні", "Kherson", "Херсоне"), ("Київ", "Києву", "Києві", "Kyiv", "Киеве"),
          ("Кривий Ріг", "Кривому Рогу", "Кривому Розі", "Kryvyi Rih", "Кривом Роге"),
          ("Нікополь", "Нікополю", "Нікополі", "Nikopol", "Никополе")]
OBLS = [("Харківщина", "Харківщині", "Kharkiv"), ("Дніпропетровщина", "Дніпропетровщині", "Dnipropetrovsk"),
        ("Сумщина", "Сумщині", "Sumy"), ("Одещина", "Одещині", "Odesa"), ("Херсонщина", "Херсонщині", "Kherson")]
VILLAGES = [("Іванівка", "Ізюмського"), ("Степове", "Нікопольського"), ("Мирне", "Запорізького"),
            ("Балаклія", "Ізюмського"), ("Велика Писарівка", "Богодухівського")]


def make_posts(n: int, seed: int = 7) -> list[str]:
    """Posts shaped like DSNS and news texts, uk 70 % / en 15 % / ru 15 %."""
    rnd = random.Random(seed)
    posts = []
    for i in range(n):
        _city, city_d, city_loc, en_city, ru_city = rnd.choice(CITIES)
        obl, obl_loc, en_obl = rnd.choice(OBLS)
        village, raion = rnd.choice(VILLAGES)
        lang = rnd.random()
        tpl = rnd.choice(UK if lang < 0.7 else EN if lang < 0.85 else RU)
        text = tpl.format(obl=obl, obl_loc=obl_loc, city=city_d, city_loc=city_loc, en_city=en_city,
                          ru_city=ru_city, en_obl=en_obl, village=village, raion=raion,
                          district=rnd.choice(["Холодногірському", "Шевченківському", "Дарницькому"]),
                          n=rnd.randint(1, 9), m=rnd.randint(1, 20))
        posts.append(f"{text} #{i}")  # unique texts: no cache sees the same post twice
    return posts


HEADLINES = [
    "Нічна атака на {city_acc}: є загиблі та поранені",
    "{obl}: наслідки ворожого обстрілу за добу",
    "Ракетний удар по {city_loc_na}",
]
EVENTS = [
    ("У ніч на {day} російські війська атакували {city_acc} ударними безпілотниками. Один із дронів влучив "
    "у п'ятиповерховий житловий будинок у {district} районі, спалахнула пожежа на площі {area} кв. м. "
    "За даними обласної військової адміністрації, загинули {n} людей, ще {m} отримали поранення, серед "
    "них {k} дітей."),
    ("Близько {hour}:{minute} ворог завдав ракетного удару по {city} та околицях. Пошкоджено {b} приватних "
    "будинків, автозаправну станцію та лінію електропередач у с. {village} {raion} району. Внаслідок "
    "атаки загинула {n} людина, {m} травмовані."),
    ("Протягом доби окупанти {t} разів обстріляли населені пункти {obl_gen}. Під вогнем опинились "
    "{city_nom}, с. {village} та с. Степове. Пошкоджено адмінбудівлю, {b} авто та газопровід. Поранено "
    "{m} цивільних."),
]
RESPONSE = [
    ("На місці працювали {r} рятувальників та {u} одиниць техніки ДСНС, вибухотехніки обстежили територію. "
    "Психологи надали допомогу {m} мешканцям. Інформація про постраждалих уточнюється."),
    ("До ліквідації наслідків залучили {r} рятувальників і {u} одиниць техніки. Розбір завалів триває, "
    "з-під руїн деблоковано {k} людей. Для мешканців розгорнули пункт незламності."),
]
BACKGROUND = [
    ("Нагадаємо, {prev_day} внаслідок атаки на {prev_city} загинули {p} людей, зруйновано торговельний "
    "центр і кілька багатоповерхівок."),
    ("Раніше, {prev_day}, ворог уже бив по енергетичній інфраструктурі {prev_obl_gen}: тоді знеструмлено "
    "понад {p} тисяч абонентів."),
]
ADVICE = [
    ("ДСНС закликає: не ігноруйте сигнали повітряної тривоги, перебувайте в укриттях до відбою. Якщо ви "
    "помітили незнайомий предмет, не торкайтеся його та телефонуйте 101."),
    ("Рятувальники нагадують: під час тривоги тримайте зарядженими телефони та павербанки, мийте руки "
    "перед їжею й зберігайте запас води на три доби. Телефон служби порятунку - 101."),
]
EN_LONG = (
    "Russian forces launched a combined missile and drone attack on {en_city} overnight, the {en_obl} "
    "regional administration said on {en_day}. {n} people were killed and {m} injured, including {k} "
    "children, when a missile hit an apartment block in the city centre. Rescuers worked through the "
    "night to clear the rubble.\n\nEarlier this month a similar strike on {en_prev} damaged a power "
    "plant and left thousands without electricity.\n\nOfficials urged residents to stay in shelters "
    "during air-raid alerts and to keep their phones charged. Heating points have been opened across "
    "the region, and the authorities said repair crews would work around the clock to restore supply."
)
RU_LONG = (
    "В ночь на {ru_day} российские войска атаковали {ru_city_acc} ударными беспилотниками. В результате "
    "попадания в многоэтажный жилой дом погибли {n} человек, ранены {m}, среди них {k} детей. Спасатели "
    "ГСЧС ликвидировали пожар на площади {area} кв. м.\n\nНапомним, ранее враг уже атаковал "
    "энергетическую инфраструктуру региона, тогда без света остались десятки тысяч абонентов.\n\n"
    "ГСЧС призывает не игнорировать сигналы воздушной тревоги и оставаться в укрытиях до отбоя. Если вы "
    "заметили незнакомый предмет, не трогайте его и звоните по номеру 101."
)
DAYS = ["понеділок", "вівторок", "середу", "четвер", "пʼятницю", "суботу", "неділю"]
OBL_GEN = {"Харківщина": "Харківщини", "Дніпропетровщина": "Дніпропетровщини", "Сумщина": "Сумщини",
           "Одещина": "Одещини", "Херсонщина": "Херсонщини"}
ACC = {"Харків": "Харків", "Дніпро": "Дніпро", "Запоріжжя": "Запоріжжя", "Одеса": "Одесу", "Суми": "Суми",
       "Херсон": "Херсон", "Київ": "Київ", "Кривий Ріг": "Кривий Ріг", "Нікополь": "Нікополь"}


def make_long_posts(n: int, seed: int = 11) -> list[str]:
    """Real-length posts (~800 characters, three or four paragraphs), uk 70 % / en 15 % / ru 15 %."""
    rnd = random.Random(seed)
    posts = []
    for i in range(n):
        city, city_d, _city_loc, en_city, ru_city = rnd.choice(CITIES)
        prev = rnd.choice(CITIES)
        obl, _obl_loc, en_obl = rnd.choice(OBLS)
        prev_obl = rnd.choice(OBLS)[0]
        village, raion = rnd.choice(VILLAGES)
        values = {
            "city_nom": city, "obl": obl, "obl_gen": OBL_GEN[obl], "city": city_d, "city_acc": ACC[city], "city_loc_na": city_d,
            "village": village, "raion": raion, "en_city": en_city, "en_obl": en_obl, "en_prev": prev[3], "ru_city_acc": ru_city,
            "district": rnd.choice(["Холодногірському", "Шевченківському", "Дарницькому"]),
            "day": rnd.choice(DAYS), "prev_day": f"{rnd.randint(1, 28)} листопада", "prev_city": ACC[prev[0]],
            "prev_obl_gen": OBL_GEN[prev_obl], "en_day": rnd.choice(["Monday", "Tuesday", "Friday"]),
            "ru_day": rnd.choice(["вторник", "среду", "субботу"]), "hour": rnd.randint(0, 23),
            "minute": f"{rnd.randint(0, 59):02d}", "area": rnd.randint(20, 900), "n": rnd.randint(1, 9),
            "m": rnd.randint(1, 40), "k": rnd.randint(1, 5), "b": rnd.randint(2, 30), "t": rnd.randint(2, 40),
            "p": rnd.randint(2, 60), "r": rnd.randint(10, 90), "u": rnd.randint(3, 25),
        }
        lang = rnd.random()
        if lang < 0.7:
            paragraphs = [rnd.choice(HEADLINES), rnd.choice(EVENTS) + " " + rnd.choice(RESPONSE),
                          rnd.choice(BACKGROUND), rnd.choice(ADVICE)]
            text = "\n\n".join(paragraphs)
        else:
            text = EN_LONG if lang < 0.85 else RU_LONG
        posts.append(f"{text.format(**values)} #{i}")  # unique texts: no cache sees the same post twice
    return posts


WORKER = r"""
import json, re, resource, sys, time
t0, c0 = time.perf_counter(), time.process_time()
posts = json.load(open(sys.argv[2], encoding="utf-8"))
t_read = time.perf_counter()
c_read = time.process_time()
load = 0.0
if sys.argv[1] == "analyze":
    from analysis.gazetteer import get_gazetteer
    t = time.perf_counter(); get_gazetteer(); load = time.perf_counter() - t
    from analysis.analyze import analyze
    places = 0
    for p in posts:
        places += len(analyze(p).places)
else:
    word = re.compile(r"[^\W\d_]+", re.UNICODE)
    places = sum(len(word.findall(p)) for p in posts)
elapsed = time.perf_counter() - t0 - (t_read - t0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
cpu = time.process_time() - (c_read - c0)  # since the interpreter started, less reading the posts
print(json.dumps({"elapsed": elapsed, "cpu": cpu, "load": load, "peak_mb": peak, "found": places}))
"""


def run(mode: str, posts_file: Path) -> dict[str, float]:
    """One fresh interpreter: import, load, process every post; wall time excludes reading the posts."""
    import time

    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", WORKER, mode, str(posts_file)], cwd=ROOT, check=True,
                         capture_output=True, text=True)
    result = json.loads(out.stdout)
    result["wall"] = time.perf_counter() - start
    return result


def measure(label: str, posts: list[str]) -> bool:
    """Baseline and analyze over `posts`, printed; True when every target is met."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
        json.dump(posts, fh, ensure_ascii=False)
        path = Path(fh.name)
    try:
        base = run("baseline", path)
        full = run("analyze", path)
    finally:
        path.unlink()
    rate = len(posts) / full["wall"]
    base_rate = len(posts) / base["wall"]
    cpu_rate = len(posts) / full["cpu"]
    mean_chars = sum(map(len, posts)) / len(posts)
    print(f"{label}: {len(posts)} posts (uk/en/ru), {mean_chars:.0f} characters on average, "
          f"places found: {full['found']}")
    print(f"  gazetteer load: {full['load']:.3f} s (target < 1 s)")
    print(f"  analyze: {rate:,.0f} posts/s including interpreter start-up ({full['wall']:.2f} s wall; "
          f"target >= 2,000), peak RSS {full['peak_mb']:.0f} MB (target < 150)")
    print(f"  analyze by CPU time (other processes on the machine don't count): {cpu_rate:,.0f} posts/s "
          f"({full['cpu']:.2f} s CPU; baseline {base['cpu']:.2f} s CPU)")
    print(f"  baseline regex pass: {base_rate:,.0f} posts/s ({base['wall']:.2f} s wall), "
          f"peak RSS {base['peak_mb']:.0f} MB; analyze is {base_rate / rate:.1f}x slower")
    return rate >= 2000 and full["load"] < 1.0 and full["peak_mb"] < 150


def main() -> None:
    short = measure("short posts", make_posts(N_POSTS))
    long = measure("real-length posts", make_long_posts(N_POSTS))
    print("OK" if short and long else "BELOW TARGET")


if __name__ == "__main__":
    main()
