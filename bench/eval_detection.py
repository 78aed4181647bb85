"""Score detection on real posts (``../shared/eval-dev``) and on our fixtures, beside a keyword baseline.

    python bench/eval_detection.py [--errors] [--only eval-dev|fixtures]

Figures, per language (uk / en / ru) and for all, for the project and for the baseline in the same run:

* strike F1 over the posts not marked ``ambiguous``;
* oblast micro-F1 over every post (non-strike posts name the oblast of their incident);
* settlement micro-F1 over the strike posts of eval-dev: KATOTTH codes of ``places.jsonl`` against the
  analysis's settlement-level places (a city district counts as its city); fixtures have no codes;
* killed / injured / children exact over the strike posts not marked ``casualty_ambiguous``
  (children: both children fields equal);
* weapons exact (set equality) over the strike posts not marked ``ambiguous``; a missed strike names
  no weapons, so it costs here too.

The baseline is deliberately plain, so that beating it means something:

* strike: any attack keyword (uk/ru/en stems of missile, drone, shelling, strike, attack, bomb …);
* weapons (baseline strikes only): one keyword list per weapon, any hit names it;
* oblasts: capitalised stems of oblast names/adjectives ("Харків…", "Kharkiv", "Харьков…") anywhere
  in the text; "Київ…" is Kyiv city unless written "Київськ…/Київщин…/Kyiv Oblast|region";
* settlements: gazetteer settlement names (Ukrainian official and English) matched exactly as
  written, case-sensitive, one to three words; among namesakes the most populous;
* killed / injured: the first digit number next to a killed / injured word, 0 for "no casualties"
  phrases, otherwise nothing; children: nothing.

eval-dev is third-party text: it is read here, at bench time only, never by tests or at run time.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Callable, Iterable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analysis.analyze import analyze  # noqa: E402
from analysis.gazetteer import Gazetteer, get_gazetteer  # noqa: E402

__all__ = ["load", "load_eval_dev", "evaluate", "project", "baseline", "Report", "DEFAULT_FIXTURE",
           "INDEPENDENT_FIXTURE", "LONG_FIXTURE", "HOLDOUT_PREFIX", "EVAL_DEV"]

DEFAULT_FIXTURE = ROOT / "tests" / "fixtures" / "detection_labelled.jsonl"
INDEPENDENT_FIXTURE = ROOT / "tests" / "fixtures" / "detection_independent.jsonl"
# Multi-paragraph posts of our own (600-1,200 characters), one per cause fixed on real posts.
LONG_FIXTURE = ROOT / "tests" / "fixtures" / "detection_long.jsonl"
EVAL_DEV = ROOT.parent / "shared" / "eval-dev"
HOLDOUT_PREFIX = "ho-"
LANGS = ("uk", "en", "ru")
_CASUALTY_FIELDS = ("killed", "injured")

Prediction = dict[str, Any]
Predictor = Callable[[str], Prediction]


def load(path: Path = DEFAULT_FIXTURE, split: str = "all") -> list[dict[str, Any]]:
    """Read a labelled fixture (JSON lines with `text`), keeping `split` (all, dev or holdout)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if split == "dev":
        return [r for r in rows if not r["id"].startswith(HOLDOUT_PREFIX)]
    if split == "holdout":
        return [r for r in rows if r["id"].startswith(HOLDOUT_PREFIX)]
    return rows


def load_eval_dev(root: Path = EVAL_DEV) -> list[dict[str, Any]]:
    """eval-dev rows in the fixture shape, plus `settlements` (gold codes) for strike posts."""
    codes = {}
    for line in (root / "places.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            p = json.loads(line)
            codes[p["id"]] = [s["code"] for s in p["settlements"]]
    rows = []
    for line in (root / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        raw = (root / "raw" / f"{row['id']}.txt").read_text(encoding="utf-8")
        row["text"] = raw.split("\n\n", 1)[1] if "\n\n" in raw else raw  # after the header lines
        row["settlements"] = codes.get(row["id"])
        rows.append(row)
    return rows


def _settlement_code(g: Gazetteer, code: str) -> str | None:
    """The settlement a place stands for: itself, the city of a city district, else None."""
    u = g.units.get(code)
    while u is not None and u.level == "city_district":
        u = g.units.get(u.parent)
    return u.code if u is not None and u.level in ("settlement", "city") else None


def project(text: str) -> Prediction:
    """The analyser's answer in the label shape (settlements as KATOTTH codes)."""
    got = analyze(text).to_json()
    g = get_gazetteer()
    got["settlements"] = sorted({c for p in got["places"] if (c := _settlement_code(g, p["code"]))})
    return got


# ---- the keyword baseline -------------------------------------------------------------------------

_B_ATTACK = re.compile(
    r"(?<!\w)(?:ракет|дрон|бпла|безпілот|беспилот|шахед|обстр|удар|вдари|атак|влучан|попадан|каб\b|авіабомб|"
    r"авиабомб|артил|міномет|миномет|рсзв|missile|drone|uav|shahed|shell|strike|struck|attack|bomb|rocket)",
    re.I,
)
_B_WEAPONS = {
    "missile": re.compile(r"(?<!\w)(?:ракет|missile|ballistic|іскандер|искандер|iskander)", re.I),
    "drone": re.compile(r"(?<!\w)(?:дрон|бпла|безпілот|беспилот|шахед|drone|uav|shahed)", re.I),
    "fpv": re.compile(r"(?<!\w)(?:fpv|фпв)", re.I),
    "artillery": re.compile(r"(?<!\w)(?:артил|мінomet|міномет|миномет|artillery|mortar|shell)", re.I),
    "mlrs": re.compile(r"(?<!\w)(?:рсзв|град[иіаов]|mlrs|grad)", re.I),
    "guided_bomb": re.compile(r"(?<!\w)(?:каб|авіабомб|авиабомб|glide bomb|guided bomb)", re.I),
}
_B_OBLAST_STEMS = {
    "UA-05": "Вінниц Винниц Vinnyts Vinnits", "UA-07": "Волин Волын Volyn",
    "UA-09": "Луган Luhan", "UA-12": "Дніпр Днепр Dnipr Dnepr", "UA-14": "Донець Донеч Донец Donets",
    "UA-18": "Житомир Zhytomyr", "UA-21": "Закарпат Zakarpat Transcarpath",
    "UA-23": "Запоріж Запоріз Запорож Zaporizh", "UA-26": "Івано-Франків Ивано-Франков Ivano-Frankiv",
    "UA-32": "Київськ Київщин Киевск Киевщин", "UA-35": "Кіровоград Кировоград Kirovohrad",
    "UA-40": "Севастопол Sevastopol", "UA-43": "Крим Крым Crimea", "UA-46": "Львів Льво Львов Lviv",
    "UA-48": "Миколаїв Николаев Mykolai", "UA-51": "Одес Одещ Odes", "UA-53": "Полтав Poltav",
    "UA-56": "Рівне Рівнен Ровен Ровн Rivne", "UA-59": "Сум Sumy", "UA-61": "Тернопіл Тернопол Ternopil",
    "UA-63": "Харків Харков Харьков Kharkiv", "UA-65": "Херсон Kherson",
    "UA-68": "Хмельниц Khmelnyts", "UA-71": "Черкас Cherkas", "UA-74": "Черніг Чернигов Chernihiv",
    "UA-77": "Чернівц Черновц Chernivts Буковин",
}
_B_OBLASTS = [(iso, re.compile(r"(?<!\w)(?:" + "|".join(stems.split()) + ")")) for iso, stems in
              _B_OBLAST_STEMS.items()]
_B_KYIV_OBLAST = re.compile(r"Kyiv (?:Oblast|region)", re.I)
_B_KYIV = re.compile(r"(?<!\w)(?:Київ|Києв|Киев|Kyiv|Kiev)(?!ськ|щин|ск)")
_B_KILLED = r"(?:загин|загибл|погиб|вбит|убит|killed|dead)"
_B_INJURED = r"(?:поран|травм|постражд|ранен|пострада|injur|wound)"
_B_ZERO = re.compile(r"без постраждалих|постраждалих немає|пострадавших нет|без пострадавших|"
                     r"no casualties|no one was (?:injured|hurt|killed)|nobody was", re.I)
_B_APOS = str.maketrans({"’": "'", "ʼ": "'", "`": "'"})
_B_WORD = re.compile(r"[\w'’ʼ-]+")


def _b_count(stem: str, text: str) -> int | None:
    m = re.search(rf"(\d+)\s+(?:\w+\s+){{0,2}}?{stem}|{stem}\w*\s+(?:\w+\s+){{0,2}}?(\d+)", text, re.I)
    if m:
        return int(m.group(1) or m.group(2))
    return 0 if _B_ZERO.search(text) else None


@cache
def _b_settlement_names() -> dict[str, str]:
    """Exact written name -> code of the most populous settlement with that name."""
    best: dict[str, tuple[int, str]] = {}
    for u in get_gazetteer().units.values():
        if u.level not in ("settlement", "city"):
            continue
        for name in {u.name_uk.translate(_B_APOS), u.name_en}:
            if name and (name not in best or best[name][0] < u.population):
                best[name] = (u.population, u.code)
    return {name: code for name, (_, code) in best.items()}


def baseline(text: str) -> Prediction:
    """The keyword baseline described in the module docstring."""
    is_strike = bool(_B_ATTACK.search(text))
    oblasts = {iso for iso, rx in _B_OBLASTS if rx.search(text)}
    if _B_KYIV_OBLAST.search(text):
        oblasts.add("UA-32")
    if _B_KYIV.search(_B_KYIV_OBLAST.sub(" ", text)):
        oblasts.add("UA-30")
    names = _b_settlement_names()
    words = _B_WORD.findall(text.translate(_B_APOS))
    settlements = {names[" ".join(words[i:i + n])] for n in (1, 2, 3) for i in range(len(words))
                   if " ".join(words[i:i + n]) in names}
    return {
        "is_strike": is_strike,
        "weapons": sorted(w for w, rx in _B_WEAPONS.items() if rx.search(text)) if is_strike else [],
        "oblasts": sorted(oblasts),
        "settlements": sorted(settlements),
        "killed": _b_count(_B_KILLED, text),
        "injured": _b_count(_B_INJURED, text),
        "children_killed": None,
        "children_injured": None,
    }


# ---- scoring ----------------------------------------------------------------------------------------

def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@dataclass
class Report:
    """Counts over one group of posts; the figures are derived properties (None: nothing to score)."""

    n: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    o_tp: int = 0
    o_fp: int = 0
    o_fn: int = 0
    s_tp: int = 0
    s_fp: int = 0
    s_fn: int = 0
    s_n: int = 0
    weapons_ok: int = 0
    weapons_n: int = 0
    cas_n: int = 0
    exact: dict[str, int] = field(default_factory=lambda: {"killed": 0, "injured": 0, "children": 0})
    errors: list[str] = field(default_factory=list)

    @property
    def strike(self) -> tuple[float, float, float]:
        return _f1(self.tp, self.fp, self.fn)

    @property
    def oblast_f1(self) -> float:
        return _f1(self.o_tp, self.o_fp, self.o_fn)[2]

    @property
    def settlement_f1(self) -> float | None:
        return _f1(self.s_tp, self.s_fp, self.s_fn)[2] if self.s_n else None

    @property
    def weapons_exact(self) -> float | None:
        return self.weapons_ok / self.weapons_n if self.weapons_n else None

    def exact_rate(self, name: str) -> float | None:
        return self.exact[name] / self.cas_n if self.cas_n else None

    @property
    def casualties_exact(self) -> float:
        """Share of killed and injured fields that match exactly (None must equal None)."""
        return (self.exact["killed"] + self.exact["injured"]) / (2 * self.cas_n) if self.cas_n else 1.0

    def add(self, row: dict[str, Any], got: Prediction) -> None:
        self.n += 1
        gold = row["is_strike"]
        problems = []
        if not row.get("ambiguous"):
            pred = got["is_strike"]
            self.tp += gold and pred
            self.fp += pred and not gold
            self.fn += gold and not pred
            if gold != pred:
                problems.append(f"strike {pred}")
            if gold:
                self.weapons_n += 1
                if sorted(row["weapons"]) == sorted(got["weapons"]):
                    self.weapons_ok += 1
                else:
                    problems.append(f"weapons {sorted(got['weapons'])} (gold {row['weapons']})")
        g, p = set(row["oblasts"]), set(got["oblasts"])
        self.o_tp += len(g & p)
        self.o_fp += len(p - g)
        self.o_fn += len(g - p)
        if g != p:
            problems.append(f"oblasts +{sorted(p - g)} -{sorted(g - p)}")
        if gold and row.get("settlements") is not None:
            gs, ps = set(row["settlements"]), set(got["settlements"])
            self.s_n += 1
            self.s_tp += len(gs & ps)
            self.s_fp += len(ps - gs)
            self.s_fn += len(gs - ps)
            if gs != ps:
                problems.append(f"settlements +{sorted(ps - gs)} -{sorted(gs - ps)}")
        if gold and not row.get("casualty_ambiguous"):
            self.cas_n += 1
            for name in _CASUALTY_FIELDS:
                if row[name] == got[name]:
                    self.exact[name] += 1
                else:
                    problems.append(f"{name} {got[name]} (gold {row[name]})")
            if (row["children_killed"], row["children_injured"]) == (got["children_killed"],
                                                                     got["children_injured"]):
                self.exact["children"] += 1
        if problems:
            self.errors.append(f"{row['id']} [{row['lang']}]: " + "; ".join(problems))


def evaluate(rows: Iterable[dict[str, Any]], predict: Predictor = project) -> dict[str, Report]:
    """Run `predict` over `rows`; one Report for "all" and one per language."""
    reports: dict[str, Report] = defaultdict(Report)
    for row in rows:
        got = predict(row["text"])
        got.setdefault("settlements", [])
        reports["all"].add(row, got)
        reports[row["lang"]].add(row, got)
    return dict(reports)


_METRICS: list[tuple[str, Callable[[Report], float | None]]] = [
    ("strike F1", lambda r: r.strike[2]),
    ("  fp / fn", lambda r: None),
    ("oblast micro-F1", lambda r: r.oblast_f1),
    ("settlement micro-F1", lambda r: r.settlement_f1),
    ("killed exact", lambda r: r.exact_rate("killed")),
    ("injured exact", lambda r: r.exact_rate("injured")),
    ("children exact", lambda r: r.exact_rate("children")),
    ("weapons exact", lambda r: r.weapons_exact),
]


def _cell(r: Report | None, name: str, fn: Callable[[Report], float | None]) -> str:
    if r is None:
        return "-"
    if name.strip() == "fp / fn":
        return f"{r.fp}/{r.fn}"
    v = fn(r)
    return "-" if v is None else f"{v:.3f}"


def _print(title: str, ours: dict[str, Report], base: dict[str, Report]) -> None:
    groups = ["all", *[g for g in LANGS if g in ours]]
    print(f"== {title}  (" + ", ".join(f"{g} {ours[g].n}" for g in groups) + " posts; project | baseline)")
    print(f"{'':22}" + "".join(f"{g:>16}" for g in groups))
    for name, fn in _METRICS:
        cells = [f"{_cell(ours.get(g), name, fn):>7} |{_cell(base.get(g), name, fn):>6}" for g in groups]
        print(f"{name:22}" + "".join(f"{c:>16}" for c in cells))


def main(argv: list[str] | None = None) -> int:
    """Print project vs baseline on eval-dev (when present) and on our fixtures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=("eval-dev", "fixtures"))
    ap.add_argument("--errors", action="store_true", help="list the project's errors, post by post")
    args = ap.parse_args(argv)
    sets: list[tuple[str, list[dict[str, Any]]]] = []
    if args.only != "fixtures":
        if EVAL_DEV.is_dir():
            sets.append((f"eval-dev ({EVAL_DEV})", load_eval_dev()))
        else:
            print(f"(no {EVAL_DEV}: eval-dev skipped)")
    if args.only != "eval-dev":
        sets.append(("fixtures: detection_labelled", load(DEFAULT_FIXTURE)))
        sets.append(("fixtures: detection_labelled, held-out part", load(DEFAULT_FIXTURE, "holdout")))
        sets.append(("fixtures: detection_independent", load(INDEPENDENT_FIXTURE)))
        sets.append(("fixtures: detection_long (multi-paragraph)", load(LONG_FIXTURE)))
    for title, rows in sets:
        ours = evaluate(rows)
        _print(title, ours, evaluate(rows, baseline))
        if args.errors and ours["all"].errors:
            print("project errors:")
            for line in ours["all"].errors:
                print("  " + line)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
