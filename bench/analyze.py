"""Throughput of `analysis.analyze.analyze` over 5,000 generated posts (uk/en/ru).

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
        city, city_d, city_loc, en_city, ru_city = rnd.choice(CITIES)
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


WORKER = r"""
import json, re, resource, sys, time
t0 = time.perf_counter()
posts = json.load(open(sys.argv[2], encoding="utf-8"))
t_read = time.perf_counter()
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
print(json.dumps({"elapsed": elapsed, "load": load, "peak_mb": peak, "found": places}))
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


def main() -> None:
    import tempfile

    posts = make_posts(N_POSTS)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as fh:
        json.dump(posts, fh, ensure_ascii=False)
        path = Path(fh.name)
    try:
        base = run("baseline", path)
        full = run("analyze", path)
    finally:
        path.unlink()
    rate = N_POSTS / full["wall"]
    base_rate = N_POSTS / base["wall"]
    print(f"posts: {N_POSTS} (uk/en/ru), places found: {full['found']}")
    print(f"gazetteer load: {full['load']:.3f} s (target < 1 s)")
    print(f"analyze: {rate:,.0f} posts/s including interpreter start-up ({full['wall']:.2f} s wall; "
          f"target >= 2,000), peak RSS {full['peak_mb']:.0f} MB (target < 150)")
    print(f"baseline regex pass: {base_rate:,.0f} posts/s ({base['wall']:.2f} s wall), "
          f"peak RSS {base['peak_mb']:.0f} MB; analyze is {base_rate / rate:.1f}x slower")
    ok = rate >= 2000 and full["load"] < 1.0 and full["peak_mb"] < 150
    print("OK" if ok else "BELOW TARGET")


if __name__ == "__main__":
    main()
