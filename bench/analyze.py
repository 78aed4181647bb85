"""Throughput of the analyser on generated posts (uk/en/ru): short one-sentence posts, and
real-length ones (~800 characters: a headline, the event with its figures and places, a
background paragraph about an earlier attack, an advice paragraph).

    python bench/analyze.py [--posts 10000] [--repeat 2] [--before REF]

Each run is a fresh interpreter, so start-up (imports, the gazetteer) counts. It analyses the
posts in two batches, 2,000 then the rest (as `reanalyze` goes batch by batch), and posts/s
including start-up are printed at 2,000 and at the end, for three ways in the same run:

* before: the analyser of commit REF (default: the last one before the speed work, exported with
  `git archive` into a temporary folder), one process, its gazetteer built from the TSV files;
* now, one process: this tree's `analyze` post by post, the gazetteer from the user's cache
  (its one-off build is printed too);
* now, analyze_many: this tree's `analyze_many`, a batch shared among one forked process per core.

Start-up is the time from launching the interpreter until it could analyse (imports, gazetteer,
pymorphy3 when a post first needs it is per-post time); per post is CPU time, which other
processes on this shared machine don't inflate; wall-clock posts/s do depend on them, so the load
average is printed. Every interpreter imports from bytecode (a temporary pycache, warmed first), as
an installed package does. Peak RSS is the analysing process's; analyze_many's workers are
printed apart, their pages shared with the parent counted in each.
Targets (issue 12): >= 2,000 posts/s including start-up, peak RSS <= 150 MB.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

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
import json, os, resource, sys, time


def live_children():
    # analyze_many keeps its workers from batch to batch: rusage counts a child only once it is reaped
    try:
        pids = open(f"/proc/self/task/{os.getpid()}/children").read().split()
    except OSError:
        return []
    return pids


def cpu():
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    ticks = 0
    for pid in live_children():
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime + ticks / os.sysconf("SC_CLK_TCK")


def live_peak_mb():
    peak = 0
    for pid in live_children():
        try:
            peak = max([peak] + [int(line.split()[1]) for line in open(f"/proc/{pid}/status") if line.startswith("VmHWM:")])
        except OSError:
            continue
    return peak / 1024


spawned = float(sys.argv[3])
started = time.time()
t, c = time.perf_counter(), cpu()
posts = json.load(open(sys.argv[2], encoding="utf-8"))
read, read_cpu = time.perf_counter() - t, cpu() - c  # reading the posts is not the analyser's
mode = sys.argv[1]
from analysis.gazetteer import get_gazetteer
if mode == "many":
    from analysis.analyze import analyze_many
else:
    from analysis.analyze import analyze
get_gazetteer()
ready, ready_cpu = time.time() - read - spawned, cpu() - read_cpu
marks, found, done = [], 0, 0
for batch in (posts[:2000], posts[2000:]):
    if not batch:
        continue
    if mode == "many":
        results = analyze_many(batch)
    else:
        results = [analyze(p) for p in batch]
    found += sum(len(r.places) for r in results)
    done += len(results)
    marks.append((done, time.time() - read - spawned, cpu() - read_cpu))
print(json.dumps({
    "interpreter": started - spawned, "startup": ready, "startup_cpu": ready_cpu, "marks": marks, "found": found,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "children_peak_mb": max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, live_peak_mb()),
}))
"""
BEFORE = "217654a"  # the analyser before the speed work (issue 12, item 9)


def run(mode: str, posts_file: Path, cwd: Path, env: dict[str, str]) -> dict:
    """One fresh interpreter over the posts; times are counted from launching it."""
    import time

    spawned = time.time()
    out = subprocess.run([sys.executable, "-c", WORKER, mode, str(posts_file), repr(spawned)], cwd=cwd,
                         env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def export(ref: str, into: Path) -> bool:
    """The `analysis` package of commit `ref`, written under `into`; False when git has no such commit."""
    try:
        tar = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "analysis"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    subprocess.run(["tar", "-x", "-C", str(into)], input=tar.stdout, check=True)
    return True


def row(label: str, r: dict) -> tuple[str, bool]:
    """One printed line: start-up, per-post CPU, posts/s including start-up at each mark (by the wall
    clock and by CPU time), peak RSS; and whether it meets the targets (the last mark, every process)."""
    n_total, wall_total, cpu_total = r["marks"][-1]
    per_post = (cpu_total - r["startup_cpu"]) / n_total
    rates = "  ".join(f"{n / w:>6,.0f} {n / c:>6,.0f}" for n, w, c in r["marks"])
    peak = max(r["peak_mb"], r["children_peak_mb"])
    workers = f" (workers {r['children_peak_mb']:.0f})" if r["children_peak_mb"] else ""
    line = (f"  {label:<22} {r['startup']:5.2f} s {r['startup_cpu']:5.2f} s  {per_post * 1e3:6.3f} ms  "
            f"{rates}   {r['peak_mb']:4.0f} MB{workers}")
    return line, n_total / wall_total >= 2000 and peak <= 150


def measure(label: str, posts: list[str], before: str, tmp: Path, repeat: int) -> bool:
    """The three ways over `posts`, printed; True when the fastest meets the targets."""
    import os

    path = tmp / f"{label}.json"
    path.write_text(json.dumps(posts, ensure_ascii=False), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    env["DSNS_CACHE_DIR"] = str(tmp / "cache")
    old = tmp / "before"
    warm = [("now", ROOT)] + ([("before", old)] if old.exists() else [])
    for _, cwd in warm:  # bytecode written, the gazetteer cache built: what every later start finds
        subprocess.run([sys.executable, "-c", "from analysis.gazetteer import get_gazetteer; get_gazetteer()"],
                       cwd=cwd, env=env, check=True)
    ways = ([(f"before ({before})", "one", old)] if old.exists() else []) + [
        ("now, one process", "one", ROOT), ("now, analyze_many", "many", ROOT)]
    # The ways take turns, `repeat` rounds, and each keeps its fastest run: a burst of load from
    # other processes then favours none of them.
    best: dict[str, dict] = {}
    for _ in range(repeat):
        for name, mode, cwd in ways:
            r = run(mode, path, cwd, env)
            if name not in best or r["marks"][-1][1] < best[name]["marks"][-1][1]:
                best[name] = r
    results = [(name, best[name]) for name, _, _ in ways]
    mean_chars = sum(map(len, posts)) / len(posts)
    print(f"{label}: {len(posts):,} posts (uk/en/ru), {mean_chars:.0f} characters on average, best of {repeat}; "
          f"places found: {', '.join(str(r['found']) for _, r in results)}")
    marks = "  ".join(f"{n:>6,}: wall CPU" for n, _, _ in results[0][1]["marks"])
    print(f"  {'':<22} start-up         per post   posts/s incl. start-up, at {marks}   peak RSS")
    print(f"  {'':<22}  wall     CPU      (CPU)")
    ok = False
    for name, r in results:
        line, met = row(name, r)
        print(line)
        ok = ok or met
    return ok


def main() -> None:
    import argparse
    import os
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2, help="rounds; each way keeps its fastest run")
    parser.add_argument("--before", default=BEFORE, help="commit whose analyser is the baseline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dsns-bench-analyze-") as name:
        tmp = Path(name)
        (tmp / "before").mkdir()
        if not export(args.before, tmp / "before"):
            (tmp / "before").rmdir()
            print(f"(no commit {args.before}: no 'before' row)")
        # One-off: the gazetteer built from its TSV files and written to the cache.
        build = subprocess.run(
            [sys.executable, "-c", "import time; t = time.process_time(); from analysis.gazetteer import "
             "get_gazetteer; get_gazetteer(); print(time.process_time() - t)"],
            cwd=ROOT, env={**os.environ, "DSNS_CACHE_DIR": str(tmp / "cache")}, check=True, capture_output=True,
            text=True)
        load = os.getloadavg()[0]
        print(f"{os.cpu_count()} cores, load average {load:.1f} when started; first start of this tree "
              f"(gazetteer built and cached): {float(build.stdout):.2f} s CPU")
        short = measure("short posts", make_posts(args.posts), args.before, tmp, args.repeat)
        long = measure("real-length posts", make_long_posts(args.posts), args.before, tmp, args.repeat)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print("OK" if short and long else "BELOW TARGET")


if __name__ == "__main__":
    main()
