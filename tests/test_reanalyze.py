"""`reanalyze` redoes detection for posts analysed by an older analyzer."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from analysis.analyze import ANALYZER_VERSION
from tests.cli_run import dsns
from tests.fakes.tme import FakeTelegram

STRIKE = "Харківщина: внаслідок ракетного удару по Балаклії загинула 1 людина, ще 8 травмовані."


def test_reanalyze_refreshes_stale_analyses_and_story_figures(tme: FakeTelegram, config_file: Path) -> None:
    tme.post("dsns_telegram", STRIKE)
    tme.fill("dsns_telegram", 3)
    assert dsns("run", "--once", "--config", str(config_file)).returncode == 0
    db_path = config_file.parent / "archive.db"
    with sqlite3.connect(db_path) as db:
        (post_id,) = db.execute("SELECT id FROM posts WHERE stream = 'dsns_telegram' AND external_id = '1'").fetchone()
        # As if an older analyzer had missed everything in the strike post.
        db.execute("UPDATE analyses SET version = '0.0', is_strike = 0, killed = NULL, oblasts = '[]' WHERE post_id = ?", (post_id,))
        # Its story (which the news feeds' report of the same strike may share) lost its figures too.
        db.execute("UPDATE stories SET is_strike = 0, killed = NULL WHERE id = (SELECT story_id FROM posts WHERE id = ?)", (post_id,))
    result = dsns("reanalyze", "--config", str(config_file))
    assert result.returncode == 0, result.stderr
    assert "re-analysed 1 posts" in result.stdout
    with sqlite3.connect(db_path) as db:
        row = db.execute("SELECT version, is_strike, killed, oblasts FROM analyses WHERE post_id = ?", (post_id,)).fetchone()
        story = db.execute("SELECT is_strike, killed, injured FROM stories WHERE id = (SELECT story_id FROM posts WHERE id = ?)", (post_id,)).fetchone()
    assert row == (ANALYZER_VERSION, 1, 1, '["UA-63"]')
    assert story == (1, 1, 8)
    again = dsns("reanalyze", "--config", str(config_file))
    assert "re-analysed 0 posts" in again.stdout
    everything = dsns("reanalyze", "--all", "--config", str(config_file))
    assert "re-analysed 9 posts" in everything.stdout  # 4 channel posts + 5 feed entries
