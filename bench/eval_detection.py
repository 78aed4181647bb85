"""Score detection against the labelled set: strike P/R/F1, oblast micro-F1, casualty exact-match.

    python bench/eval_detection.py [--fixture PATH] [--split all|dev|holdout] [--verbose]

Posts whose id starts with ``ho-`` are the held-out part: written before the classifier was tuned
and never tuned against, so their figures are the honest ones.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from analysis.analyze import analyze  # noqa: E402

__all__ = ["load", "evaluate", "Report", "DEFAULT_FIXTURE", "HOLDOUT_PREFIX"]

DEFAULT_FIXTURE = ROOT / "tests" / "fixtures" / "detection_labelled.jsonl"
HOLDOUT_PREFIX = "ho-"
_FIELDS = ("killed", "injured", "children_killed", "children_injured")


def load(path: Path = DEFAULT_FIXTURE, split: str = "all") -> list[dict[str, Any]]:
    """Read the labelled JSON lines, keeping `split` (all, dev or holdout)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if split == "dev":
        return [r for r in rows if not r["id"].startswith(HOLDOUT_PREFIX)]
    if split == "holdout":
        return [r for r in rows if r["id"].startswith(HOLDOUT_PREFIX)]
    return rows


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


@dataclass
class Report:
    """Counts over one group of posts; the figures are derived properties."""

    n: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    weapons_ok: int = 0
    weapons_n: int = 0
    o_tp: int = 0
    o_fp: int = 0
    o_fn: int = 0
    exact: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_FIELDS, 0))
    errors: list[str] = field(default_factory=list)

    @property
    def strike(self) -> tuple[float, float, float]:
        return _f1(self.tp, self.fp, self.fn)

    @property
    def oblast_f1(self) -> float:
        return _f1(self.o_tp, self.o_fp, self.o_fn)[2]

    def exact_rate(self, name: str) -> float:
        return self.exact[name] / self.n if self.n else 1.0

    @property
    def casualties_exact(self) -> float:
        """Share of killed and injured fields that match exactly (None must equal None)."""
        return (self.exact["killed"] + self.exact["injured"]) / (2 * self.n) if self.n else 1.0

    def add(self, row: dict[str, Any], got: dict[str, Any]) -> None:
        self.n += 1
        gold, pred = row["is_strike"], got["is_strike"]
        self.tp += gold and pred
        self.fp += pred and not gold
        self.fn += gold and not pred
        problems = []
        if gold != pred:
            problems.append(f"strike {pred} (gold {gold})")
        if gold and pred:
            self.weapons_n += 1
            if sorted(row["weapons"]) == list(got["weapons"]):
                self.weapons_ok += 1
            else:
                problems.append(f"weapons {list(got['weapons'])} (gold {row['weapons']})")
        g, p = set(row["oblasts"]), set(got["oblasts"])
        self.o_tp += len(g & p)
        self.o_fp += len(p - g)
        self.o_fn += len(g - p)
        for name in _FIELDS:
            if row[name] == got[name]:
                self.exact[name] += 1
            elif name in ("killed", "injured"):
                problems.append(f"{name} {got[name]} (gold {row[name]})")
        if problems:
            self.errors.append(f"{row['id']}: " + "; ".join(problems))


def evaluate(rows: Iterable[dict[str, Any]]) -> dict[str, Report]:
    """Run `analyze` over `rows`; one Report for "all" and one per language."""
    reports: dict[str, Report] = defaultdict(Report)
    for row in rows:
        got = analyze(row["text"]).to_json()
        reports["all"].add(row, got)
        reports[row["lang"]].add(row, got)
    return dict(reports)


def _print(title: str, reports: dict[str, Report], verbose: bool) -> None:
    print(f"== {title}")
    print(f"{'group':6} {'n':>4} {'P':>6} {'R':>6} {'F1':>6} {'weap':>6} {'oblF1':>6} "
          f"{'killed':>7} {'injur':>6} {'ch_k':>6} {'ch_i':>6} {'cas':>6}")
    for name in ["all", *sorted(k for k in reports if k != "all")]:
        r = reports[name]
        p, rc, f1 = r.strike
        weap = r.weapons_ok / r.weapons_n if r.weapons_n else 1.0
        print(f"{name:6} {r.n:>4} {p:6.3f} {rc:6.3f} {f1:6.3f} {weap:6.3f} {r.oblast_f1:6.3f} "
              f"{r.exact_rate('killed'):7.3f} {r.exact_rate('injured'):6.3f} "
              f"{r.exact_rate('children_killed'):6.3f} {r.exact_rate('children_injured'):6.3f} "
              f"{r.casualties_exact:6.3f}")
    if verbose and reports["all"].errors:
        print("misclassified:")
        for line in reports["all"].errors:
            print("  " + line)


def main(argv: list[str] | None = None) -> int:
    """Print the figures for the dev part, the held-out part and the whole set."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixture", type=Path, default=DEFAULT_FIXTURE)
    ap.add_argument("--split", choices=("all", "dev", "holdout", "each"), default="each")
    ap.add_argument("--verbose", "-v", action="store_true", help="list misclassified ids")
    args = ap.parse_args(argv)
    splits = ("dev", "holdout", "all") if args.split == "each" else (args.split,)
    for split in splits:
        _print(split, evaluate(load(args.fixture, split)), args.verbose)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
