"""Build the compact gazetteer the region matcher ships with.

Reads the merged codifier gazetteer in ../shared/data and writes two files into analysis/data/:

* ``gazetteer.tsv.gz`` - one row per administrative unit: code, category, level, ISO oblast,
  parent, Ukrainian and Latin names, other names (Russian, old, OSM local), coordinates,
  population, and for oblasts/raions the code of their administrative centre.
* ``lexicon.tsv.gz`` - the inflected forms of every word of every name, generated here with
  pymorphy3 (Ukrainian and Russian dictionaries) and stored as stem + paradigm of endings, so
  the program lemmatises a token with a few dict look-ups and never runs pymorphy on names.

Run from the repository root: ``.venv/bin/python scripts/build_gazetteer.py``.
The data is ODbL (OpenStreetMap contributors) and CC BY-IGO 3.0 (OCHA COD-AB); see NOTICE.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pymorphy3  # noqa: E402

from analysis._lexicon import (  # noqa: E402
    CITY_ALIASES, CITY_DISTRICTS_RU, COMMON_WORDS, KATOTTH_TO_ISO, KYIV_NEIGHBOURHOODS, OBLASTS, RU_REGION_NAMES, is_latin,
    latin_key, norm, shchyna_forms, words,
)

DEFAULT_SOURCE = ROOT.parent / "shared" / "data" / "ua_gazetteer_katottg_2025-07-02.csv"
OUT_DIR = ROOT / "analysis" / "data"
LEVELS = {"city_special_status": "city"}
RU_LETTERS = set("ыэъё")


class Forms:
    """Collects every inflected form of each name word, from both dictionaries."""

    def __init__(self) -> None:
        self.uk = pymorphy3.MorphAnalyzer(lang="uk")
        self.ru = pymorphy3.MorphAnalyzer(lang="ru")
        self.forms: dict[str, set[str]] = defaultdict(set)
        self.place_words: set[str] = set()

    def add(self, name: str, adjective: bool, lang: str) -> None:
        for w in words(name):
            if is_latin(w):
                continue
            self.forms[w].add(w)
            parts = w.split("-")
            if len(parts) > 1:
                # Both halves may decline (Камінь-Каширський -> Камені-Каширському): combine.
                per_part = [self._word_forms(p, adjective, lang) | {p} for p in parts]
                combos = [""]
                for forms in per_part:
                    combos = [(c + "-" if c else "") + f for c in combos for f in forms][:400]
                self.forms[w].update(combos)
            else:
                self.forms[w].update(self._word_forms(w, adjective, lang))

    def _word_forms(self, w: str, adjective: bool, lang: str) -> set[str]:
        analyzers = [self.uk] if lang == "uk" else [self.ru] if lang == "ru" else [self.uk, self.ru]
        out: set[str] = set()
        for morph in analyzers:
            parses = [p for p in morph.parse(w) if p.tag.case in ("nomn", None) and p.word == w]
            known = [p for p in parses if p.is_known]
            for p in (known or parses[:2]):
                if p.tag.POS not in ("NOUN", "ADJF", "PRTF", "NUMR"):
                    continue
                if not adjective and p.tag.POS == "NOUN" and {"Name", "Surn", "Patr"} & set(p.tag.grammemes):
                    continue  # a person's name declines differently from the place
                for f in p.lexeme:
                    tag = f.tag
                    if not adjective:
                        # A place keeps its number and gender: Мирне must not match "мирна".
                        if p.tag.number and tag.number and tag.number != p.tag.number:
                            continue
                        if p.tag.gender and tag.gender and tag.gender != p.tag.gender:
                            continue
                    if f.word.count("-") == w.count("-") and f.word[:1] == w[:1]:
                        out.add(f.word.replace("ё", "е"))
        return out

    def is_common(self, name: str) -> bool:
        """True when a one-word name is also an ordinary word or a person's name."""
        ws = words(name)
        if len(ws) != 1:
            return False
        w = ws[0]
        if w in COMMON_WORDS:
            return True
        if is_latin(w):
            return len(w) <= 3
        for p in self.uk.parse(w):
            if not p.is_known:
                continue
            gram = set(p.tag.grammemes)
            if "Name" in gram:  # Слава, Любов, Богдан: people, capitalised everywhere
                return True
            if p.tag.POS == "ADJF" and "compb" in gram:  # qualitative adjectives: Велике, Веселе
                return True
            if (p.tag.POS == "NOUN" and "inan" in gram and p.normal_form != w
                    and p.normal_form not in self.place_words):  # Суми <- сума, Саки <- сак
                return True
        return False


def iso_of(code: str) -> str:
    return KATOTTH_TO_ISO[code[2:4]]


def split_aliases(raw: str) -> list[str]:
    return [a.strip() for a in raw.split("|") if a.strip()]


def lang_of(name: str) -> str:
    if is_latin(norm(name)):
        return "en"
    return "ru" if RU_LETTERS & set(norm(name)) else "any"


def build(source: Path, out_dir: Path) -> None:
    with source.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    forms = Forms()
    forms.place_words = {norm(r["name_uk"].strip()) for r in rows}
    by_code = {r["katottg_code"]: r for r in rows}
    settlements_by_name: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["level"] in ("settlement", "city_special_status"):
            settlements_by_name[r["name_uk"].strip()].append(r)

    def pop(r: dict) -> int:
        raw = r["osm_population"].replace(" ", "")
        return int(float(raw)) if raw.replace(".", "", 1).isdigit() else 0  # one row says "?"

    extra_p: dict[str, list[str]] = defaultdict(list)   # standalone names
    extra_a: dict[str, list[str]] = defaultdict(list)   # adjectives that need a level word
    centre: dict[str, str] = {}

    for name, aliases in CITY_ALIASES.items():
        if name in settlements_by_name and aliases:
            top = max(settlements_by_name[name], key=pop)
            extra_p[top["katottg_code"]].extend(aliases)

    oblast_code = {iso_of(r["katottg_code"]): r["katottg_code"] for r in rows
                   if r["level"] in ("oblast", "city_special_status")}
    for iso, (centre_name, regional, ru_adj, en_names) in OBLASTS.items():
        code = oblast_code[iso]
        cands = [r for r in settlements_by_name.get(centre_name, [])
                 if iso_of(r["katottg_code"]) == iso or (iso == "UA-32" and r["category"] == "K")]
        if cands and iso not in ("UA-30", "UA-40"):
            centre[code] = max(cands, key=pop)["katottg_code"]
        extra_p[code].extend(regional)
        extra_p[code].extend(RU_REGION_NAMES.get(iso, ()))
        if by_code[code]["level"] == "oblast" and iso != "UA-43":
            extra_p[code].extend(f for f in shchyna_forms(by_code[code]["name_uk"]) if not f.endswith("жжя"))
        if ru_adj:
            extra_a[code].append(ru_adj)
        extra_a[code].extend(en_names)

    for r in rows:
        if r["category"] == "B" and r["parent_code"] in by_code:
            ru = CITY_DISTRICTS_RU.get((by_code[r["parent_code"]]["name_uk"], r["name_uk"].strip()))
            if ru:
                extra_a[r["katottg_code"]].append(ru)
    kyiv = max(settlements_by_name["Київ"], key=pop)
    extra_p[kyiv["katottg_code"]].extend(KYIV_NEIGHBOURHOODS)

    # A raion or hromada is named after its centre (Ізюмський -> Ізюм, Білоцерківський -> Біла
    # Церква, Дружбівська -> Дружба): "Izium district", "Druzhba community" need the link.
    members: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["level"] == "settlement":
            members[r["raion_code"]].append(r)
            members[r["hromada_code"]].append(r)
    for r in rows:
        if r["level"] not in ("raion", "hromada"):
            continue
        code, adj = r["katottg_code"], norm(r["name_uk"].strip())
        shared = [(len(os.path.commonprefix([norm(s["name_uk"]), adj])), pop(s), s["katottg_code"])
                  for s in members[code]]
        best = max(((min(n, 5), p, c) for n, p, c in shared if n >= (3 if r["level"] == "raion" else 4)),
                   default=None)
        if best:
            centre[code] = best[2]
        if r["level"] == "raion":
            # "Запоріжжя" is the raion's own centre, the city of 700,000, not a colloquial name of
            # Запорізький район.
            own = {norm(s["name_uk"].strip()) for s in members[code]}
            extra_p[code].extend(f for f in shchyna_forms(r["name_uk"].strip()) if f not in own)

    fill_coordinates(rows, source.parent / "ocha_codab_names_uk_ru_en.csv")
    out_dir.mkdir(parents=True, exist_ok=True)
    common_keys: set[str] = set()
    lines = []
    for r in rows:
        code, level = r["katottg_code"], LEVELS.get(r["level"], r["level"])
        name_uk = r["name_uk"].strip()
        adjective = level not in ("settlement", "city") and code != oblast_code["UA-43"]
        latin = [n for n in dict.fromkeys([r["name_en_ocha"], r["name_lat_kmu2010"]]) if n]
        others = split_aliases(r["aliases"]) + ([r["osm_old_name"]] if r["osm_old_name"] else [])
        if r["name_ru_ocha"]:
            others.append(r["name_ru_ocha"])
        others = [n for n in dict.fromkeys(others) if n not in latin and n != name_uk]
        p_names = extra_p.get(code, [])
        a_names = extra_a.get(code, [])
        if adjective:
            a_names = others + a_names
        else:
            p_names = others + p_names
        for n in [name_uk] * (not adjective) + p_names:
            # Towns get Russian declension too: "в Полтаве", "в Херсоне".
            town = n == name_uk and (pop(r) >= 5_000 or n in CITY_ALIASES)
            forms.add(n, adjective=False, lang="any" if town else "uk" if n == name_uk else lang_of(n))
            if level == "settlement" and forms.is_common(n):
                common_keys.add(key(n))
        for n in [name_uk] * adjective + a_names:
            forms.add(n, adjective=True, lang="uk" if n == name_uk else lang_of(n))
        if level == "settlement":
            for n in latin:
                if forms.is_common(n):
                    common_keys.add(key(n))
        lat = f"{float(r['lat']):.3f}" if r["lat"] else ""
        lon = f"{float(r['lon']):.3f}" if r["lon"] else ""
        lines.append("\t".join([
            code, r["category"], level, iso_of(code), r["parent_code"], name_uk, "|".join(latin),
            lat, lon, str(pop(r) or ""), centre.get(code, ""),
            keys(([name_uk] + latin) * (not adjective) + p_names),
            keys(([name_uk] + latin) * adjective + a_names),
        ]))
    header = "code\tcategory\tlevel\toblast\tparent\tname_uk\tname_en\tlat\tlon\tpopulation\tcentre\tnames\tadjectives"
    write_gz(out_dir / "gazetteer.tsv.gz", [header] + lines)
    write_gz(out_dir / "lexicon.tsv.gz", lexicon_lines(forms.forms, common_keys))


def keys(names: list[str]) -> str:
    """Names as the matcher's keys (normalised words joined by spaces, English spellings folded
    by `latin_key`), so loading needs no regex."""
    return "|".join(dict.fromkeys(key(n) for n in names if words(n)))


def key(name: str) -> str:
    return " ".join(latin_key(w) if is_latin(w) else w for w in words(name))


def lexicon_lines(all_forms: dict[str, set[str]], common_keys: set[str]) -> list[str]:
    """Stem + paradigm-of-endings encoding: a handful of paradigms serve thousands of words."""
    paradigms: dict[tuple[str, ...], int] = {}
    lemma_lines = []
    for lemma in sorted(all_forms):
        fs = all_forms[lemma] | {lemma}
        stem = os.path.commonprefix(sorted(fs))
        key = tuple(sorted(f[len(stem):] for f in fs))
        pid = paradigms.setdefault(key, len(paradigms))
        lemma_lines.append(f"L\t{lemma}\t{len(stem)}\t{pid}")
    out = [f"P\t{pid}\t{'|'.join(key)}" for key, pid in paradigms.items()]
    out += lemma_lines
    out += [f"C\t{k}" for k in sorted(common_keys)]
    return out


def fill_coordinates(rows: list[dict], ocha_path: Path) -> None:
    """Give every unit a point (export, map and `/radius` need one): a unit the data leaves
    without gets the mean of its children's points, deepest first, so an oblast gets the mean of
    its raions. Kyiv and Sevastopol, whose codifier children (city districts) have no points
    either, take the mean of OCHA's points under their OCHA code; their districts, with no
    finer data anywhere, take their city's point."""
    children: dict[str, list[dict]] = defaultdict(list)
    by_code = {r["katottg_code"]: r for r in rows}
    for r in rows:
        if r["parent_code"] in by_code:
            children[r["parent_code"]].append(r)

    def depth(r: dict) -> int:
        n = 0
        while r["parent_code"] in by_code:
            r, n = by_code[r["parent_code"]], n + 1
        return n

    ocha: list[tuple[str, float, float]] = []
    if ocha_path.exists():
        with ocha_path.open(encoding="utf-8") as fh:
            ocha = [(o["ocha_pcode"], float(o["lat"]), float(o["lon"])) for o in csv.DictReader(fh) if o["lat"]]

    def mean(points: list[tuple[float, float]]) -> None | tuple[float, float]:
        return (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)) if points else None

    for r in sorted(rows, key=depth, reverse=True):
        if r["lat"] and r["lon"]:
            continue
        point = mean([(float(c["lat"]), float(c["lon"])) for c in children[r["katottg_code"]] if c["lat"] and c["lon"]])
        if point is None and r["ocha_pcode"]:
            under = [o for o in ocha if o[0].startswith(r["ocha_pcode"]) and o[0] != r["ocha_pcode"]]
            shortest = min((len(o[0]) for o in under), default=0)
            point = mean([(o[1], o[2]) for o in under if len(o[0]) == shortest])
        if point is not None:
            r["lat"], r["lon"] = str(point[0]), str(point[1])
    for r in sorted(rows, key=depth):
        parent = by_code.get(r["parent_code"])
        if not (r["lat"] and r["lon"]) and parent is not None and parent["lat"] and parent["lon"]:
            r["lat"], r["lon"] = parent["lat"], parent["lon"]


def write_gz(path: Path, lines: list[str]) -> None:
    # mtime=0 keeps rebuilds byte-identical, so git only sees real data changes.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"wrote {path}: {path.stat().st_size / 1024:.0f} KiB, {len(lines)} lines")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args()
    build(args.source, args.out)


if __name__ == "__main__":
    main()
