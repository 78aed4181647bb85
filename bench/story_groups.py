"""How well posts are grouped into stories, on reports of our own, beside a naive grouping.

`bench/data/story_events.jsonl` (written by `bench/story_texts.py`): ten strikes, each reported in
Ukrainian, English and Russian by three outlets with differing figures, four follow-ups 26–34 h
later with a higher toll, and eight look-alikes. The posts go through a temporary archive and the
daemon's story planner (`monitor.planner.StoryPlanner`) feed by feed, as a first poll of three
feeds would: the Ukrainian one, then the Russian, then the English, each oldest first.

Printed, for the project and for the naive grouping (a post joins the latest story sharing an
oblast whose first post is within 12 h; oblasts as the analyser reads them) in the same run:
pair precision / recall / F1 over same-story pairs, events kept whole (every report in one
story), look-alikes merged (a look-alike in a story with any other post). Goals: pair F1 ≥ 0.95,
every event whole, no look-alike merged.

    python bench/story_groups.py
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analysis.analyze import analyze  # noqa: E402
from analysis.model import Analysis  # noqa: E402
from collectors.base import RawPost  # noqa: E402
from monitor.planner import StoryPlanner  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.posts import upsert_posts  # noqa: E402
from storage.sources import ensure_source  # noqa: E402

__all__ = ["FIXTURE", "Scores", "load", "project_groups", "naive_groups", "score"]

FIXTURE = Path(__file__).resolve().parent / "data" / "story_events.jsonl"
FEED_ORDER = ("uk", "ru", "en")
WINDOW = timedelta(hours=12)


@dataclass(frozen=True)
class Scores:
    precision: float
    recall: float
    f1: float
    events_whole: int
    events: int
    lookalikes_merged: int
    lookalikes: int
    split: tuple[str, ...]    # events not kept whole
    merged: tuple[str, ...]   # look-alikes put with other posts

    def line(self, name: str) -> str:
        return (f"{name:<8} pair P {self.precision:.3f}  R {self.recall:.3f}  F1 {self.f1:.3f}   "
                f"events whole {self.events_whole}/{self.events}   look-alikes merged {self.lookalikes_merged}/{self.lookalikes}")


def load(path: Path = FIXTURE) -> list[dict]:
    """The posts in the order a first poll of the three feeds stores them."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for r in rows:
        r["published_at"] = datetime.fromisoformat(r["published_at"])
    return sorted(rows, key=lambda r: (FEED_ORDER.index(r["lang"]), r["published_at"]))


async def project_groups(rows: list[dict], analyses: list[Analysis], archive: Path) -> dict[str, int]:
    """Post id -> story id, as the daemon's planner assigns them in a real archive at `archive`."""
    db = await Database.open(archive)
    try:
        sources = {lang: (await ensure_source(db, f"feed_{lang}", "rss", None)).id for lang in FEED_ORDER}
        planner = StoryPlanner(window=WINDOW, alert_max_age=0)
        out: dict[str, int] = {}
        for row, analysis in zip(rows, analyses):
            post = RawPost(stream=f"feed_{row['lang']}", external_id=row["id"], url=None,
                           published_at=row["published_at"], text=row["text"], kind="article")
            async with db.write() as conn:
                (change,) = await upsert_posts(conn, sources[row["lang"]], [post])
                story, _ = await planner.attach_and_plan(conn, change, analysis)
            out[row["id"]] = story.id
        return out
    finally:
        await db.close()


def naive_groups(rows: list[dict], analyses: list[Analysis]) -> dict[str, int]:
    """The latest story sharing an oblast whose first post is within 12 h, else a new one."""
    stories: list[tuple[datetime, set[str]]] = []
    out: dict[str, int] = {}
    for row, analysis in zip(rows, analyses):
        at, oblasts = row["published_at"], set(analysis.oblasts)
        for story_id in range(len(stories) - 1, -1, -1):
            first, covered = stories[story_id]
            if abs(first - at) <= WINDOW and covered & oblasts:
                covered |= oblasts
                break
        else:
            stories.append((at, set(oblasts)))
            story_id = len(stories) - 1
        out[row["id"]] = story_id
    return out


def score(rows: list[dict], groups: dict[str, int]) -> Scores:
    tp = fp = fn = 0
    for a, b in combinations(rows, 2):
        gold = a["event"] is not None and a["event"] == b["event"]
        got = groups[a["id"]] == groups[b["id"]]
        tp += gold and got
        fp += got and not gold
        fn += gold and not got
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    events = sorted({r["event"] for r in rows if r["event"]})
    split = tuple(e for e in events if len({groups[r["id"]] for r in rows if r["event"] == e}) > 1)
    sizes: dict[int, int] = {}
    for r in rows:
        sizes[groups[r["id"]]] = sizes.get(groups[r["id"]], 0) + 1
    lookalikes = [r["id"] for r in rows if r["event"] is None]
    merged = tuple(i for i in lookalikes if sizes[groups[i]] > 1)
    return Scores(precision, recall, f1, len(events) - len(split), len(events), len(merged), len(lookalikes),
                  split, merged)


async def run(path: Path = FIXTURE) -> tuple[Scores, Scores]:
    rows = load(path)
    analyses = [analyze(r["text"]) for r in rows]
    with tempfile.TemporaryDirectory() as tmp:
        ours = score(rows, await project_groups(rows, analyses, Path(tmp) / "stories.db"))
    return ours, score(rows, naive_groups(rows, analyses))


def main() -> None:
    ours, naive = asyncio.run(run())
    print(f"{FIXTURE.name}: {ours.events} events, {ours.lookalikes} look-alikes (goal: F1 ≥ 0.95, all whole, 0 merged)")
    print(ours.line("project"))
    print(naive.line("naive"))
    for name, s in (("project", ours), ("naive", naive)):
        if s.split or s.merged:
            print(f"{name}: split {', '.join(s.split) or '-'}; merged {', '.join(s.merged) or '-'}")


if __name__ == "__main__":
    main()
