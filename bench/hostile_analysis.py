"""The analyser's time on hostile texts as they grow: each must stay linear in the text's size.

Ten texts of one repeated piece (a word, a sentence, punctuation, numbers with "м ²", Latin
look-alikes with keycaps and zero-width spaces, line breaks, oblast names, zero-width spaces
between words, "Нагадаємо" markers, bullets), each at 100 kB and 400 kB, through `analyze`: the
figure to read is the ratio, ~4 when linear, ~16 when quadratic. The same texts go through the
analyser of commit REF (default: the last before this bench, which was quadratic on two of
them) in the same run. A post is capped at 64 KB on the way in, so 400 kB is well past any real one.

    python bench/hostile_analysis.py [--before REF]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = (100_000, 400_000)
PIECES = {
    "one word": "Харків ",
    "sentence": "Внаслідок удару по Харкову загинули 3 людини, ще 5 поранені. ",
    "punctuation": "!?.,;:—«»()… ",
    "numbers": "12 3,5 м ² 14:30 25 травня ",
    "look-alikes": "Kharkiv Харькове Хaркiv 3\ufe0f\u20e3 \u0301\u200b ",
    "lines": "Нагадаємо\n- Одеса\n",
    "oblasts": "Харківська область, Сумщина, Одещині. ",
    "zero-width": "Харків\u200b\u200bудар ",
    "markers": "Нагадаємо, 3 травня у Харкові загинули 2 людини. ",
    "bullets": "- у Сумах поранено 2 людей\n",
}
BEFORE = "6c4215b"

MEASURE = r"""
import json, sys, time
sys.path.insert(0, ".")
from analysis.analyze import analyze
from analysis.gazetteer import get_gazetteer
get_gazetteer()
pieces, sizes = json.loads(sys.stdin.read())
out = {}
for name, piece in pieces.items():
    out[name] = []
    for size in sizes:
        text = piece * (size // len(piece))
        t = time.process_time()
        analyze(text)
        out[name].append(time.process_time() - t)
print(json.dumps(out))
"""


def measure(cwd: Path) -> dict[str, list[float]]:
    """CPU seconds of `analyze` on each text at each size, in a fresh interpreter in `cwd`."""
    out = subprocess.run([sys.executable, "-c", MEASURE], cwd=cwd, input=json.dumps([PIECES, SIZES]),
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    import argparse

    sys.path.insert(0, str(ROOT / "bench"))
    from analyze import export  # bench/analyze.py: a commit's analysis package into a folder

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", default=BEFORE, help="commit whose analyser is the baseline")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dsns-bench-hostile-") as name:
        old = Path(name)
        before = measure(old) if export(args.before, old) else None
    now = measure(ROOT)
    sizes = " / ".join(f"{s // 1000} kB" for s in SIZES)
    print(f"analyze on hostile texts, CPU seconds at {sizes} and the ratio (~4 linear, ~16 quadratic)")
    print(f"  {'text':<13} {'now':>22}" + (f"   {'before (' + args.before + ')':>24}" if before else ""))
    worst = 0.0
    for piece in PIECES:
        a, b = now[piece]
        ratio = b / max(a, 1e-3)
        worst = max(worst, ratio)
        line = f"  {piece:<13} {a:6.2f} s {b:6.2f} s  x{ratio:4.1f}"
        if before:
            c, d = before[piece]
            line += f"   {c:7.2f} s {d:7.2f} s  x{d / max(c, 1e-3):4.1f}"
        print(line)
    print("OK: linear" if worst < 8 else f"NOT LINEAR: a ratio of {worst:.1f}")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"({time.perf_counter() - start:.0f} s)")
