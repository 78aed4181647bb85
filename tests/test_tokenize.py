"""Word positions when `norm` changes a text's length: a stress mark dropped, "İ" lower-cased to two
characters. Positions are read against the original text (capitals, dots, sentence starts, spans)."""

from __future__ import annotations

import pytest

from analysis._lexicon import norm
from analysis._match import _tokenize, find_mentions, tokenize
from analysis.gazetteer import get_gazetteer
from analysis.regions import find_places

STRESS = "\u0301"

# Each text, and the same text without the stress marks and the standalone "İ" words.
MARKED = [
    ("Вибу\u0301х у Харкові", "Вибух у Харкові"),                         # a mark before the name
    ("Вибух у Ха\u0301ркові", "Вибух у Харкові"),                         # inside it
    ("Вибух у Харкові\u0301. Су\u0301ми без світла", "Вибух у Харкові. Суми без світла"),  # at its end
    ("\u0301Обстріл Ки\u0301єва та Дніпра\u0301", "Обстріл Києва та Дніпра"),
    ("İİİİ Харків Суми Ізюм", "Харків Суми Ізюм"),                          # "İ" lengthens the text
    ("Вибу\u0301х İ у Харкові", "Вибух у Харкові"),                         # one of each: as long
    ("Ві\u0301бух İ у харкові, İİ а потім у Сумах. Ізю\u0301м", "Вібух у харкові, а потім у Сумах. Ізюм"),
    ("Пожежа в с\u0301. Іванівка ẞ Харківського району", "Пожежа в с. Іванівка ẞ Харківського району"),
]


def _plain(text: str) -> str:
    return " ".join(w for w in text.replace(STRESS, "").split() if w.strip("İ"))


@pytest.mark.parametrize("marked, plain", MARKED)
def test_marks_find_the_places_of_the_plain_text(marked: str, plain: str) -> None:
    assert _plain(marked) == plain
    expected = find_places(plain)
    assert expected  # the plain text names places, so the comparison can fail
    assert find_places(marked) == expected


@pytest.mark.parametrize("marked, plain", MARKED)
def test_positions_refer_to_the_original_text(marked: str, plain: str) -> None:
    tk = tokenize(marked)
    # Each word's span in the original normalises to the word ("İ" leaves its dot above outside).
    assert [norm(marked[a:b]).rstrip("\u0307") for a, b in zip(tk.starts, tk.stops)] == tk.words
    assert all(not marked[a:b].startswith(STRESS) for a, b in zip(tk.starts, tk.stops))
    # Capitals, dots and sentence starts are those of the plain text's words, "İ" words left out.
    kept = [k for k, w in enumerate(tk.words) if w != "i"]
    flat = tokenize(plain)
    assert [tk.words[k] for k in kept] == flat.words
    assert [tk.cap(k) for k in kept] == [flat.cap(k) for k in range(len(flat))]
    # A word right after an "İ" word no longer opens the text: compare the others.
    after_word = [n for n, k in enumerate(kept) if k == 0 or tk.words[k - 1] != "i"]
    assert len(after_word) > len(kept) // 2
    assert [tk.sents[kept[n]] for n in after_word] == [flat.sents[n] for n in after_word]
    assert [tk.dotted(k) for k in kept] == [flat.dotted(k) for k in range(len(flat))]


@pytest.mark.parametrize("marked, _plain_text", MARKED)
def test_fast_split_agrees_with_the_exact_one(marked: str, _plain_text: str) -> None:
    fast, exact = tokenize(marked), _tokenize(marked, norm(marked))
    assert (fast.words, fast.starts, fast.stops, fast.sents) == (exact.words, exact.starts, exact.stops, exact.sents)


def test_mention_spans_cut_the_name_from_the_original() -> None:
    text = "İ Вибу\u0301х İ у Ха\u0301ркові та Ізюмі"
    _, mentions = find_mentions(text, get_gazetteer())
    assert [text[m.start:m.end].replace(STRESS, "") for m in mentions] == ["Харкові", "Ізюмі"]


def test_many_lengthening_characters_raise_nothing() -> None:
    text = "İ" * 50 + " Харків " + "Су\u0301ми " * 3 + "İ" * 7 + " Ізюм"
    assert [p.name for p in find_places(text)] == ["Харків", "Суми", "Ізюм"]
