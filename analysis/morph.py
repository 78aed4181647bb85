"""The one Ukrainian morphological analyser of the process, loaded on first use, and the one
normaliser of words (`norm`) that search and analysis share."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from analysis._lexicon import APOSTROPHE_VARIANTS, norm

if TYPE_CHECKING:
    import pymorphy3

__all__ = ["morph", "parse", "norm", "APOSTROPHE_VARIANTS"]


@functools.lru_cache(maxsize=1)
def morph() -> pymorphy3.MorphAnalyzer:
    """pymorphy3 with the Ukrainian dictionaries; loading takes a fraction of a second, so only
    the code paths that need it (rare tokens, number-less casualty clauses, search) pay. Even
    importing pymorphy3 waits until then: it costs as much as the rest of the analyser's imports,
    and a process that only normalises words (`norm`: the bot, most research commands) never
    needs it."""
    import pymorphy3
    import pymorphy3_dicts_uk  # its path given: finding it by entry points costs half the load

    return pymorphy3.MorphAnalyzer(path=pymorphy3_dicts_uk.get_path(), lang="uk")


def parse(word: str) -> list[pymorphy3.analyzer.Parse]:
    """pymorphy3's readings of `word`, or none for a word it cannot read: it asks for each
    letter's Unicode name, and some letters (Tangut, unassigned code points) have none."""
    try:
        return morph().parse(word)
    except ValueError:
        return []
