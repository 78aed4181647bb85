"""How many were killed and injured (children among them) according to a post.

The text is cut into sentences and each sentence into short segments at commas and conjunctions
("загинули 2 людини, ще 14 травмовано" → two segments). A segment with a casualty word takes the
count written next to it (digits or number words), or one when a singular person is named
("загинула жінка", "a man was injured"). Totals and updates ("загалом", "зросла до", "rises to")
replace earlier figures; "ще"/"another" adds to a figure already seen; otherwise a repeated figure
(headline and lead) is taken once, as the largest. Numbers that count things, ages, years or areas
are not casualties, and neither are people rescued or evacuated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from analysis._numbers import (
    CHILD_WORD,
    NOT_PEOPLE_AFTER,
    PERSON_NOUN,
    SINGULAR_PERSON,
    is_singular_person,
    word_number,
)
from analysis.model import Casualties
from analysis.strike import normalize

__all__ = ["extract_casualties"]

_SENTENCE = re.compile(r"[.!?;:\n]+(?!\d)")
_SEGMENT = re.compile(r"(,(?!\d)|\s(?:та|і|й|и|and|а також|as well as|plus)\s)")
# Children clauses are split off so their count is not mistaken for the main figure.
_AMONG_THEM = (
    r"(?:серед них|серед яких|зокрема|в тому числі|у тому числі|з них|including|among them|"
    r"among whom|в том числе|среди них|из них)\b"
)
_CHILD_CUE = re.compile(rf"\s(?={_AMONG_THEM})")
_CHILD_CUE_START = re.compile(rf"^{_AMONG_THEM}")
_TOKEN = re.compile(r"\d+(?:[-–]\w+)*|[\w']+(?:-[\w']+)*|%")

_KILLED = re.compile(
    r"(?<!\w)(?:загин\w*|загибл\w*|вбит\w*|вбив\w*|убит\w*|погиб\w*|помер\w*|умер\w*|тіл[оа]\b|"
    r"тел[оа]\b|потону\w*|утону\w*|смертельн\w*|died|dead\b|killed|kills?\b|killing|deaths?\b|"
    r"death toll|fatalit\w*|bod(?:y|ies)\b|drown\w*)"
)
_INJURED = re.compile(
    r"(?<!\w)(?:поранен\w*|поранил\w*|травмов\w*|травмува\w*|травми\b|постражд\w*|госпіталіз\w*|"
    r"ранен\w*|ранил\w*|травмир\w*|пострада\w*|госпитализ\w*|injur\w*|wound\w*|hurt\b|"
    r"hospitali[sz]\w*|звернул\w* (?:по|за) (?:медичн\w* )?допомог\w*|обратил\w* за (?:медицинск\w* )?помощ\w*)"
)
# People who were saved or moved are not casualties, and a sentence about them is skipped.
_EXCLUDED = re.compile(
    r"(?<!\w)(?:врятува\w*|врятовано|евакуйова\w*|евакуюва\w*|деблокува\w*|спас\w*|эвакуир\w*|"
    r"rescued|evacuated|saved|розшука\w*|передано рідним)"
)
_TOTAL = re.compile(r"(?<!\w)(?:загалом|всього|усього|всего|в общей сложности|in total|total of|overall)")
_UPDATE = re.compile(
    r"(?:зросл\w*|збільшил\w*|возросл\w*|выросл\w*|увеличил\w*|rises|rose|risen|increased|climbed|"
    r"reached|сягнул\w*|досягл\w*|bringing)\b.{0,40}?(?:до|to)\s+(?P<n>[\w']+)"
)
_ADD = re.compile(r"(?<!\w)(?:ще|еще|another|more|other|others|additional)\b")
_SINGULAR_VERB = re.compile(
    r"^(?:загинув|загинула|помер|померла|погиб|погибла|умер|умерла|постраждав|постраждала|"
    r"пострадал|пострадала|ранен|ранена|травмований|травмована|травмирован|травмирована|"
    r"потонув|потонула|утонул|утонула|госпіталізовано)$"
)
# Plural verb forms: a singular noun near them is not the count ("загинули ... водій" is rare).
_PRONOUNS = frozenset({"його", "її", "его", "ее", "him", "her"})
# "двоє отруїлися, їх госпіталізовано": the plural pronoun refers back to the count just read.
_PLURAL_PRONOUNS = frozenset({"їх", "их", "them"})
_PLURAL_VERB = re.compile(r"(?:ли|ні|ные|ны|ены|ies)$")
_ZERO_BOTH = re.compile(
    r"без постраждалих|постраждалих (?:серед [\w']+ (?:[\w']+ )?)?(?:немає|нема|не було)|"
    r"пострадавших (?:среди \w+ (?:\w+ )?)?нет|без жертв|жертв (?:(?:та|і|й|и) \w+ )?"
    r"(?:немає|нема|не було|нет)|люди не постраждали|ніхто не постраждав|травмованих (?:немає|нема)|"
    r"без травмованих|обійшлося без|no casualties|no (?:one|people|person) (?:was|were) (?:hurt|injured|harmed)|"
    r"nobody was (?:hurt|injured)|no injuries|without casualties|no one hurt|пострадавших нет|"
    r"без пострадавших|жертв нет|обошлось без|никто не пострадал|люди не пострадали"
)
_ZERO_KILLED = re.compile(
    r"загиблих (?:немає|нема|не було)|без загиблих|ніхто не загинув|погибших нет|без погибших|"
    r"никто не погиб|no deaths|no fatalities|no one was killed|nobody was killed"
)
_ANY_ZERO = re.compile(r"(?<!\w)(?:без|no|немає|нема|нет|ніхто|никто|nobody|обійшлося|обошлось)\b")
_CATS = ("killed", "injured")


@dataclass(slots=True)
class _Count:
    value: int | None = None
    children: int | None = None
    locked: bool = False  # a total or an update was seen: later partial figures do not change it

    def merge(self, n: int, *, total: bool, add: bool) -> None:
        if total:
            self.value, self.locked = n, True
        elif self.locked:
            return
        elif add and self.value is not None:
            self.value += n
        else:
            self.value = n if self.value is None else max(self.value, n)

    def merge_children(self, n: int) -> None:
        self.children = n if self.children is None else max(self.children, n)


def _numbers(tokens: list[str]) -> list[tuple[int, int, bool]]:
    """(position, value, counts children) of every token that can be a count of people."""
    found = []
    for i, tok in enumerate(tokens):
        n = word_number(tok)
        if n is None:
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if nxt in ("of",) and i + 2 < len(tokens):  # "a family of three" keeps its number
            nxt = tokens[i + 2]
        if NOT_PEOPLE_AFTER.match(nxt) or (1900 <= n <= 2100 and not PERSON_NOUN.match(nxt)):
            continue
        found.append((i, n, bool(CHILD_WORD.match(nxt)) or bool(nxt and nxt.startswith("дит"))))
    return found


def _category(seg: str) -> str | None:
    k, j = _KILLED.search(seg), _INJURED.search(seg)
    if k and j:
        return None  # both in one short segment: resolved per number below
    return "killed" if k else "injured" if j else None


def _segment_counts(seg: str) -> list[tuple[str, int, bool]]:
    """(category, count, counts children) read from one segment with casualty words."""
    tokens = _TOKEN.findall(seg)
    upd = _UPDATE.search(seg)
    cat = _category(seg)
    if upd is not None and word_number(upd.group("n")) is not None:
        if cat is None:
            cat = "killed" if _KILLED.search(seg[: upd.start()]) else "injured"
        return [(cat, word_number(upd.group("n")) or 0, False)]
    nums = _numbers(tokens)
    if cat is None:
        # Both categories in one segment ("2 dead 9 injured"): each number goes to the nearest word.
        marks = [(i, "killed") for i, t in enumerate(tokens) if _KILLED.match(t)]
        marks += [(i, "injured") for i, t in enumerate(tokens) if _INJURED.match(t)]
        out = []
        for pos, n, child in nums:
            best = min(marks, key=lambda m: (abs(m[0] - pos), m[0] < pos))
            out.append((best[1], n, child))
        return out
    if nums:
        pos, n, child = nums[0] if len(nums) == 1 else max(nums, key=lambda x: x[1])
        return [(cat, n, child)]
    if any(t in _PLURAL_PRONOUNS for t in tokens):
        return []
    if any(_SINGULAR_VERB.match(t) for t in tokens) or _names_one_person(tokens):
        child = any(CHILD_WORD.match(t) for t in tokens)
        return [(cat, 1, child)]
    return []


def _names_one_person(tokens: list[str]) -> bool:
    """A singular person next to the casualty word, and the casualty word is not plural."""
    for k, tok in enumerate(tokens):
        if not (_KILLED.match(tok) or _INJURED.match(tok)):
            continue
        near = tokens[max(0, k - 2) : k] + tokens[k + 1 : k + 5]
        # "його госпіталізували": the plural is impersonal, the pronoun is the one person.
        if any(t in _PRONOUNS for t in near):
            return True
        if _PLURAL_VERB.search(tok):
            continue
        if any(is_singular_person(t) for t in near):
            return True
    return False


def _people_count(seg: str) -> tuple[int, bool] | None:
    """A count of people in a segment without casualty words ("7 мешканців", "1 жінку")."""
    tokens = _TOKEN.findall(seg)
    for pos, n, child in _numbers(tokens):
        nxt = tokens[pos + 1] if pos + 1 < len(tokens) else ""
        if PERSON_NOUN.match(nxt) or child:
            return n, child
    if tokens and len(tokens) <= 3 and is_singular_person(tokens[-1]):
        return 1, bool(CHILD_WORD.match(tokens[-1]))
    return None


def _children_count(seg: str) -> int | None:
    tokens = _TOKEN.findall(seg)
    if not any(CHILD_WORD.match(t) for t in tokens):
        return None
    nums = _numbers(tokens)
    return nums[0][1] if nums else 1


def _dead_among_hurt(counts: dict[str, _Count], seg: str, sentence: str) -> None:
    """"постраждали 6 людей, з них 2 загинули": DSNS counts the dead among the affected."""
    nums = _numbers(_TOKEN.findall(seg))
    dead = nums[0][1] if nums else 1
    counts["killed"].merge(dead, total=False, add=False)
    hurt = counts["injured"]
    if re.search(r"постражд|пострада|affected", sentence) and hurt.value is not None and hurt.value >= dead:
        hurt.value -= dead


def extract_casualties(text: str) -> Casualties:
    """Read killed and injured counts (and children among them) from a post.

    None where the text says nothing, 0 where it says nobody was hurt.
    """
    low = normalize(text)
    if not (_KILLED.search(low) or _INJURED.search(low) or _ANY_ZERO.search(low)):
        return Casualties()  # most posts about fires, alerts and advice: skip the segmenting
    zero_both, zero_killed = bool(_ZERO_BOTH.search(low)), bool(_ZERO_KILLED.search(low))
    # Negated phrases go before counting: "no one was injured" is not one injured.
    body = _ZERO_KILLED.sub(" ", _ZERO_BOTH.sub(" ", low)) if zero_both or zero_killed else low
    counts = {c: _Count() for c in _CATS}
    for sentence in _SENTENCE.split(body):
        if not sentence.strip():
            continue
        total = bool(_TOTAL.search(sentence))
        last_cat: str | None = None
        pending: tuple[int, bool] | None = None
        pending_children: int | None = None
        parts = _SEGMENT.split(sentence)
        for k in range(0, len(parts), 2):
            after_conj = k > 0 and parts[k - 1] != ","
            for seg in _CHILD_CUE.split(parts[k]):
                seg = seg.strip()
                if not seg:
                    continue
                if _EXCLUDED.search(seg):
                    pending = None
                    continue
                if _CHILD_CUE_START.match(seg):
                    n = _children_count(seg)
                    if n is None and last_cat == "injured" and _KILLED.search(seg):
                        _dead_among_hurt(counts, seg, sentence)
                        continue
                    if n is not None and last_cat:
                        counts[last_cat].merge_children(n)
                    elif n is not None:
                        pending_children = n
                    continue
                found = _segment_counts(seg) if (_KILLED.search(seg) or _INJURED.search(seg)) else None
                if found is None:
                    people = _people_count(seg)
                    if people and last_cat and after_conj and counts[last_cat].value is not None:
                        counts[last_cat].value = (counts[last_cat].value or 0) + people[0]
                    elif last_cat and _ADD.search(seg) and (more := _numbers(_TOKEN.findall(seg))):
                        # "у Чугуєві — ще 2": a further figure for the category just counted.
                        counts[last_cat].merge(more[0][1], total=False, add=True)
                    elif people:
                        pending = people
                    continue
                if not found and pending is not None:
                    cat = _category(seg)
                    if cat:
                        found = [(cat, pending[0], pending[1])]
                is_add = bool(_ADD.search(seg))
                is_total = total or bool(_UPDATE.search(seg))
                for cat, n, child in found:
                    counts[cat].merge(n, total=is_total, add=is_add)
                    if child:
                        counts[cat].merge_children(n)
                    last_cat = cat
                if found and pending_children is not None and last_cat:
                    counts[last_cat].merge_children(pending_children)
                    pending_children = None
                pending = None
    killed, injured = counts["killed"], counts["injured"]
    if zero_both:
        killed.value = 0 if killed.value is None else killed.value
        injured.value = 0 if injured.value is None else injured.value
    if zero_killed and killed.value is None:
        killed.value = 0
    return Casualties(
        killed=killed.value,
        injured=injured.value,
        children_killed=killed.children,
        children_injured=injured.children,
    )

