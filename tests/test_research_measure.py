"""The measurement behind storage/search.py's choice: a lemmatised FTS column against the trigram
tokenizer, on a small labelled set. Run with `-s` to see the figures; the asserts keep the chosen
approach from regressing and show why the lemma check on top of trigram is needed."""

from __future__ import annotations

import sqlite3
import time

from storage.search import parse_query, text_words, word_lemmas

CORPUS = [
    "Харківщина: внаслідок ракетного удару по Балаклії зруйновано будинок.",          # 0
    "Балаклія: рятувальники ліквідували пожежу на складі.",                           # 1
    "У Балаклію прибули додаткові пожежно-рятувальні підрозділи.",                    # 2
    "Одещина: вночі ворог атакував ударними БпЛА порт. Виникла пожежа.",               # 3
    "Пожежно-рятувальні підрозділи провели навчання у Полтаві.",                       # 4
    "Київ: уламки дрона впали у Дарницькому районі.",                                  # 5
    "Через атаку на Київ у столиці пошкоджено будинки.",                               # 6
    "Рятувальники Києва ліквідували пожежі у трьох районах.",                          # 7
    "Пожежники гасили загоряння у Харкові після обстрілу.",                            # 8
    "Обстріли Харківщини: у Харкові загинула людина.",                                 # 9
    "Дніпропетровщина: внаслідок обстрілу Нікополя з артилерії пошкоджено будинки.",  # 10
    "Нікополь знову під вогнем: артилерійський обстріл.",                              # 11
    "Загинули 2 людини, ще 11 травмовані внаслідок удару дронів.",                     # 12
    "Ворожий дрон атакував автомобіль, водій загинув.",                               # 13
    "Ізюм: обстріл, пошкоджено школу.",                                                # 14
    "В Ізюмі відновили електропостачання.",                                            # 15
    "Херсонщина: авіаудар КАБами по Бериславу, загинула людина.",                      # 16
]
QUERIES: dict[str, set[int]] = {
    "Балаклія": {0, 1, 2},
    "пожежа": {1, 3, 7},
    "Київ": {5, 6, 7},
    "Харків": {8, 9},
    "обстріл": {8, 9, 10, 11, 14},
    "Нікополь": {10, 11},
    "дрон": {5, 12, 13},
    "загинути": {9, 12, 13, 16},
    "Ізюм": {14, 15},
    "удар": {0, 12},
    "рятувальники": {1, 7},
    "будинок": {0, 6, 10},
}


def _score(results: dict[str, set[int]]) -> tuple[float, float]:
    hits = sum(len(results[q] & want) for q, want in QUERIES.items())
    found = sum(len(results[q]) for q in QUERIES)
    wanted = sum(len(w) for w in QUERIES.values())
    return hits / wanted, hits / max(found, 1)


def _lemma_column() -> tuple[dict[str, set[int]], int, float]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(lemmas, tokenize='unicode61 remove_diacritics 0')")
    started = time.perf_counter()
    for i, text in enumerate(CORPUS):
        lemmas = " ".join(lemma for w in text_words(text) for lemma in sorted(word_lemmas(w)))
        db.execute("INSERT INTO f (rowid, lemmas) VALUES (?, ?)", (i, lemmas))
    db.commit()  # FTS5 keeps pending terms in memory until the transaction ends
    build = time.perf_counter() - started
    size = sum(len(r[0]) for r in db.execute("SELECT block FROM f_data"))
    results = {}
    for q in QUERIES:
        expr = " AND ".join("(" + " OR ".join(f'"{lm}"' for lm in word_lemmas(w)) + ")" for w in text_words(q))
        results[q] = {r[0] for r in db.execute("SELECT rowid FROM f WHERE f MATCH ?", (expr,))}
    return results, size, build


def _trigram(verify: bool) -> tuple[dict[str, set[int]], int]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE f USING fts5(text, tokenize='trigram')")
    db.executemany("INSERT INTO f (rowid, text) VALUES (?, ?)", list(enumerate(CORPUS)))
    db.commit()
    size = sum(len(r[0]) for r in db.execute("SELECT block FROM f_data"))
    results = {}
    for q in QUERIES:
        query = parse_query(q)
        rows = {r[0] for r in db.execute("SELECT rowid FROM f WHERE f MATCH ?", (query.fts(),))}
        results[q] = {i for i in rows if query.matches(CORPUS[i])} if verify else rows
    return results, size


def test_measure_lemma_column_vs_trigram() -> None:
    lemma, lemma_size, _ = _lemma_column()
    stem_only, tri_size = _trigram(verify=False)
    checked, _ = _trigram(verify=True)
    figures = {
        "lemma column": _score(lemma), "trigram + stem": _score(stem_only),
        "trigram + stem + lemma check": _score(checked),
    }
    text_size = sum(len(t.encode()) for t in CORPUS)
    for name, (recall, precision) in figures.items():
        print(f"{name:30} recall {recall:.2f} precision {precision:.2f}")
    print(f"index bytes: lemma {lemma_size}, trigram {tri_size}, text {text_size}")
    recall, precision = figures["trigram + stem + lemma check"]
    assert recall == 1.0 and precision == 1.0, checked
    assert figures["trigram + stem"][1] < 0.9  # stems alone overmatch: the check is needed
    assert figures["lemma column"][0] >= 0.9
