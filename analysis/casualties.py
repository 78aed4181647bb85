"""How many were killed and injured (children among them) according to a post.

Candidates first, then rules. Each sentence is read into candidates: (category, value, role) with
the sentence's place and the ages of the people it describes. A sentence is cut into short segments
at commas and conjunctions; a segment with a casualty word takes the number next to that word
(digits or number words), or one when a singular person is named ("загинула жінка", "a firefighter
was injured", "є загиблий"). Then, per category:

1. an update ("зросла до", "has risen to", "возросло до") beats everything; the last one wins;
2. else a stated total ("загалом", "in total", "всего");
3. else the figures of the sentences: a figure repeated in headline, lead and quote is one figure
   (the largest), never added; "ще / еще / another / також / кроме них" in a later sentence adds to
   the figure so far only when the candidate just read was of the same category ("загинули троє…
   ще двоє загиблих"); right after a killed clause it is the other category ("загинули двоє, ще
   шестеро поранені"); figures of sentences that name different places ("У Харкові…", "На
   Сумщині…", "Another two were injured in Chuhuiv") are summed, as are people told apart by their
   ages ("51-летняя женщина…", "64-летний мужчина…").

Breakdowns ("серед них", "з них", "including", "two of them") are subsets and add nothing; the dead
among the injured ("один із них помер") count as killed only. Ages, dates, clock
times and crews are never counts; neither are people rescued or evacuated. Negations ("ніхто не
постраждав і не загинув", "жоден … не", "no casualties", "люди … не пострадали") give zeros, which
only stand where no figure was read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from analysis._lexicon import alternation, word_start_alternation
from analysis._numbers import (
    CHILD_STEM,
    CHILD_WORD,
    MONTHS,
    NOT_PEOPLE_AFTER,
    PERSON_NOUN,
    SINGULAR_PERSON,
    TENS,
    is_singular_person,
    word_number,
)
from analysis._regex import compiled
from analysis.model import Casualties
from analysis.strike import normalize

__all__ = ["extract_casualties"]

_CATS = ("killed", "injured")


def _holds_any(s: str, needles: tuple[str, ...], pos: int = 0) -> bool:
    """Whether `s[pos:]` holds one of `needles`. On a long stretch of text a substring test per
    needle beats one regex alternation of them, which tests every character against the needles'
    first letters (common Cyrillic letters among them): `str.find` skips through it several
    characters at a time. (On a sentence the alternation is cheaper: one call, not one a needle.)"""
    for needle in needles:
        if s.find(needle, pos) >= 0:
            return True
    return False


class _Cue:
    """A pattern tried only where one of its literal needles occurs: most sentences have none, and
    a substring test is far cheaper than a scan with a look-behind at every position."""

    __slots__ = ("needles", "rx", "words")

    def __init__(self, pattern: str, needles: tuple[str, ...]) -> None:
        self.rx = compiled(pattern)
        self.words = needles
        self.needles = compiled("|".join(map(re.escape, needles)))

    def present(self, s: str) -> bool:
        return self.needles.search(s) is not None

    def search(self, s: str) -> re.Match[str] | None:
        return self.rx.search(s) if self.present(s) else None

    def sub(self, repl: str, s: str) -> str:
        return self.rx.sub(repl, s) if self.present(s) else s

    def finditer(self, s: str) -> list[re.Match[str]]:
        return list(self.rx.finditer(s)) if self.present(s) else []

# ---- sentences and segments ------------------------------------------------------------------------

# (A class first, not a repeat: the engine then skips in C to the characters that can open a match.)
_SENT_END = compiled(r"[.!?;:\n][.!?;:\n]*(?!\d)")
# "м. Харків", "в г. Купянск", "с. Шестаково": a dot after these does not end the sentence.
_ABBREV_END = compiled(r"(?:^|[\s(«\"])(?:м|с|г|смт|пгт|сел|вул|ул|пров|просп|обл|р-н|ім|им|st|mr|dr)$", re.IGNORECASE)
# The last letters of those abbreviations: a dot after any other letter ends the sentence unasked.
_ABBREV_LAST = compiled(r"[мсгтлвпнtr]", re.IGNORECASE)
# (One class first, then what follows the comma or the space: a pattern opening with a branch
# that is not literals alone is tried by the engine at every position.)
_SEGMENT = compiled(r"([,\s](?:(?<=,)(?!\d)|(?<=\s)(?:та|і|й|и|and|а також|а также|as well as|plus)\s))")
_AMONG = (
    r"(?:серед (?:них|яких|поранених|постраждалих|загиблих|травмованих|госпіталізованих)|зокрема|"
    r"в тому числі|у тому числі|з них|із них|including|among them|among whom|among the (?:dead|injured|wounded|victims)|"
    r"в том числе|среди (?:них|которых|раненых|пострадавших|погибших)|из них)\b"
)
_AMONG_ANY = compiled(_AMONG)
# Every match of `_AMONG_ANY` holds one of these ("з них" ends "із них" and "из них"): most
# texts hold none, and are spared the scan, which stops at every "в", "у", "з" and "і".
_AMONG_WORDS = ("серед", "зокрема", "числ", "з них", "includ", "among", "среди")
# The category of a breakdown ("серед них 2 поранених").
_HURT_AMONG = compiled(r"поранен|постражд|травмов|раненых|пострадавш|injured|wounded")
_DEAD_AMONG = compiled(r"загибл|погибш|dead")
_AMONG_SPLIT = compiled(rf"\s(?={_AMONG})")
_AMONG_START = compiled(rf"^[\s—–-]*{_AMONG}")
# "троє з них", "two of them", "один із загиблих": a part of a figure already given.
# "з", "of" at a word start (the look-behind after the first letter: a segment is scanned in C for
# the letters that can open a match).
_OF = word_start_alternation(["з", "із", "зі", "из", "of"])
_PART_OF = compiled(
    rf"(?:{_OF})\s+(?:них|них|них|яких|которых|them|whom|загиблих|поранених|постраждалих|погибших|"
    r"раненых|пострадавших|the (?:dead|injured|wounded|victims))\b"
)
_PART_OF_HURT = compiled(
    rf"(?:{_OF})\s+(?:них|яких|которых|them|whom|поранених|постраждалих|раненых|пострадавших|"
    r"the (?:injured|wounded))\b"
)
# A word is its letters and apostrophes, read as runs ("[^\W\d_]+(?:'+…)*", not one alternation
# tried letter by letter: a third faster).
_TOKEN = compiled(r"\d+(?:[-–]\w+)*|[^\W\d_]+(?:'+[^\W\d_]*)*(?:-[\w']+)*|%")
# "5-ти человек", "3-х людей": a digit with a case ending is still the number.
_CASE_ENDING = compiled(r"^(\d{1,4})-(?:ти|х|ох|ьох|ро|ем|ми|м|ю|ого|ому|ий|а|у)$")

# ---- vocabulary ------------------------------------------------------------------------------------

# (Each branch opens with its letter and tests the look-behind after it: a sentence is scanned in C
# for the letters that can open a match, not tried branch by branch at every position.)
_KILLED = compiled(word_start_alternation([
    r"загин\w*", r"загибл\w*", r"загибел\w*", r"вбит\w*", r"вбив\w*", r"вбил\w*", r"убит\w*", r"убил\w*",
    r"погиб\w*", r"помер\w*", r"умер\w*", r"тіл[оа]\b", r"тел[оа]\b", r"потону\w*", r"утону\w*", r"смертельн\w*",
    r"жертв\w*", r"died", r"dead\b", r"killed", r"kills?\b", r"killing", r"deaths?\b", r"death toll", r"fatalit\w*",
    r"fatal\b", r"bod(?:y|ies)\b", r"drown\w*",
], literal=False))
_INJURED = compiled(word_start_alternation([
    r"поранен\w*", r"поранил\w*", r"поранень", r"травмов\w*", r"травмува\w*", r"травм\w*", r"постражд\w*",
    r"потерпіл\w*", r"госпіталіз\w*", r"шпиталіз\w*", r"ушпитал\w*", r"ранен\w*", r"ранил\w*", r"травмир\w*",
    r"пострада\w*", r"потерпевш\w*", r"госпитализ\w*", r"injur\w*", r"wound\w*", r"hurt\b", r"hospitali[sz]\w*",
    r"звернул\w* (?:по|за) (?:медичн\w* )?допомог\w*", r"обратил\w* за (?:медицинск\w* )?помощ\w*",
    r"звернул\w* (?:до|в) (?:лікарн|медзаклад|травмпункт)\w*",
    r"до (?:лікарн|медзаклад|травмпункт)\w* звернул\w*", r"в (?:лікарн|медзаклад|травмпункт)\w* звернул\w*",
    r"обратил\w* (?:в|к) (?:больниц|врач|травмпункт)\w*",
    r"в (?:больниц|врач|травмпункт)\w* обратил\w*", r"к (?:больниц|врач|травмпункт)\w* обратил\w*",
    r"доставлен\w* (?:до|в|у) (?:лікарн|медзаклад|больниц|госпитал)\w*",
    r"taken to (?:a |the )?hospital", r"admitted to (?:a |the )?hospital", r"rushed to (?:a |the )?hospital",
], literal=False))
# Being taken to hospital after being hurt: in the sentence that gave the injured, only a part of them.
_HOSPITAL = compiled(word_start_alternation(
    ["госпіталіз", "шпиталіз", "ушпитал", "госпитализ", "hospitali", "доставлен", "taken", "admitted"]))
# People who were saved or moved are not casualties, and a segment about them is skipped.
# ("спасатели" are rescuers, who can be hurt themselves.)
_EXCLUDED = _Cue(
    r"(?<!\w)(?:врятува\w*|врятовано|евакуйова\w*|евакуюва\w*|деблокува\w*|спас(?!ател)\w*|эвакуир\w*|"
    r"rescued|evacuated|saved|розшука\w*|передано рідним)",
    ("врят", "евакуй", "евакую", "деблок", "спас", "эваку", "rescued", "evacuated", "saved", "розшук", "передано"),
)
_TOTAL = _Cue(
    r"(?<!\w)(?<!больше )(?<!більше )(?:загалом|всього|усього|всего|в общей сложности|in total|total of|overall)",
    ("загалом", "всього", "усього", "всего", "в общей", "total", "overall"),
)
_UPDATE = _Cue(
    r"(?:зросл\w*|збільшил\w*|возросл\w*|выросл\w*|увеличил\w*|rises|rose|risen|increased|climbed|"
    r"reached|сягнул\w*|досягл\w*|bringing)\b.{0,40}?(?:до|to)\s+(?P<n>[\w']+)",
    ("зрос", "збільш", "возрос", "вырос", "увелич", "rise", "rose", "risen", "increas", "climb", "reach",
     "сягн", "досяг", "bringing"),
)
_MORE = _Cue(r"(?<!\w)(?:ще|еще|another|more|other|others|additional|також|также|also)\b",
             ("ще", "another", "more", "other", "additional", "також", "также", "also"))
_ONE_MORE = _Cue(
    r"(?<!\w)(?:ще|еще|another|more|additional|(?:окрім|крім|кроме|помимо) них|besides them|in addition)\b",
    ("ще", "another", "more", "additional", "них", "besides them", "in addition"),
)
# A singular verb, participle or substantive: one person when no number is given ("є загиблий").
_SINGULAR_VERB = compiled(
    r"^(?:загинув|загинула|помер|померла|погиб|погибла|умер|умерла|ранен|ранена|травмований|"
    r"травмована|травмирован|травмирована|потонув|потонула|утонул|утонула|госпіталізовано|"
    r"загиблий|загибла|постраждалий|постраждала|поранений|поранена|потерпілий|потерпіла|погибший|"
    r"погибшая|пострадавший|пострадавшая|раненый|раненая|потерпевший|потерпевшая|вбито|убит|убита)$"
)
_PRONOUNS = frozenset({"його", "її", "его", "ее", "him", "her"})
# "двоє отруїлися, їх госпіталізовано": the plural pronoun refers back to the count just read.
_PLURAL_PRONOUNS = frozenset({"їх", "их", "them", "им", "їм"})
_PLURAL_VERB = compiled(r"(?:ли|ні|ные|ны|ены|ies|ие|их|ых)$")

# ---- rewrites before reading -------------------------------------------------------------------------

# "Інформація про постраждалих уточнюється / не надходила": no figure, and no zero either.
_NO_INFO = _Cue(
    r"(?:інформаці\w*|даних|информаци\w*|данных|information|reports?|details?)\s+(?:про|щодо|о|об|по|on|about|of)\s+"
    r"(?:[\w']+\s+){0,3}?(?:немає|нема|нет|не надходил\w*|не поступал\w*|уточню\w*|уточня\w*|відсутн\w*|"
    r"отсутств\w*|(?:is|are) being clarified|not (?:yet )?available)",
    ("інформац", "даних", "информац", "данных", "information", "report", "detail"),
)
_IDIOMS: tuple[tuple[_Cue, str], ...] = (
    # "ракета обірвала життя трьох людей", "забрала життя", "унесла жизни"
    (_Cue(r"(?:обірва|забра|забира|оборва|унес|унос|забрал|claim)\w*\s+(?:житт\w*|жизн\w*|(?:the )?lives(?: of)?)",
          ("житт", "жизн", "lives")), " вбито "),
    (_Cue(r"травм\w*,?\s+(?:несумісн\w*\s+з\s+життям|несовместим\w*\s+с\s+жизнью)|"
          r"injuries\s+incompatible\s+with\s+life", ("несумісн", "несовместим", "incompatible")), " смертельно "),
    (_Cue(r"(?:больше|більше|найбільше)\s+(?:всего|всього)", ("всего", "всього")), " больше "),
    # "a firefighter was injured", "the driver of the unit was injured": one person, whatever noun.
    (_Cue(r"(?<!\w)(a|an|the|one|another)\s+(?:(?!\d)[\w'-]+\s+){1,7}?(?:was|has been|had been)\s+(?:\w+ly\s+)?"
          r"(killed|injured|wounded|hurt)", (" was ", "has been", "had been")), r" \1 1 person \2 "),
    # Clock times and numeric dates are never counts ("станом на 14:00", "18.10.2024").
    (_Cue(r"\d{1,2}[:.]\d{2}(?:[:.]\d{2,4})?", (":", ".")), " "),
)
# The needles of every idiom: most sentences hold none, and are spared a test per idiom.
_ANY_IDIOM = compiled("|".join(re.escape(w) for cue, _ in _IDIOMS for w in cue.words))
_LIST_SEP = r"(?:\s*,\s*|\s+(?:і|й|та|и|and)\s+)"
# Ages given as a list: "aged 45, 62 and 70", "жінки 45, 62 та 70 років", "которым 54 и 50 лет".
_AGE_LIST = compiled(
    rf"(?:(?:aged|віком|в возрасте|возрастом)\s+(\d{{1,3}}(?:{_LIST_SEP}\d{{1,3}})*)(?:\s+(?:years?|років|року|рік|лет|года|год)\b)?"
    rf"|(\d{{1,3}}(?:{_LIST_SEP}\d{{1,3}})+)\s+(?:років|року|рік|лет|года|годов|years)\b)"
)
_PERSON_WORDS = [
    "людина", "людину", "жінка", "жінку", "чоловік", "чоловіка", "мешканець", "мешканця", "мешканка", "мешканку",
    "пенсіонер", "пенсіонерка", "пенсіонерку", "дитина", "дитину", "хлопчик", "хлопця", "хлопець", "дівчинка",
    "дівчинку", "дівчина", "дівчину", "немовля", "юнак", "юнака",
    "мужчина", "мужчину", "женщина", "женщину", "ребенок", "ребенка", "младенец", "мальчик", "девочка", "пенсионер",
    "пенсионерка",
    "man", "woman", "boy", "girl", "baby", "infant", "child",
]
# A person word at a word start.
_PERSON = f"(?:{word_start_alternation(_PERSON_WORDS)})"
# One described person: "56-річного чоловіка", "64-летний херсонец", "a 12-year-old boy", "мужчина 72 года".
# (Each branch opens with a digit or a letter and tests the look-behind after it: the engine skips
# in C to the positions that can open a match.)
_DESC = compiled(
    r"(\d(?<![\w-]\d)\d{0,2})-(?:річн|летн)(?!(?:і|их|ими|ие|ыми)\b)[\w']*(?:\s+(?!(?:і|й|та|и|а|and|або|или)\b)"
    r"(?![\w']*(?:загин|поранен|постражд|травм|пострада|ранен|погиб|injur|kill|died|wound))[^\W\d_][\w']*)?"
    r"|(\d(?<![\w-]\d)\d{0,2})-year-old(?:\s+(?!(?:and|or|was|were)\b)[^\W\d_][\w']*)?"
    rf"|{_PERSON}\s+(?:(?:близько|приблизно|около|віком|в возрасте|aged)\s+)?(\d{{1,3}})\s+(?:років|року|рік|лет|года|год)\b"
)
_PLURAL_PEOPLE_BEFORE = compiled(
    r"(?:(\d+|[^\W\d_]+)\s+)?(?:women|men|people|residents|жінки|жінок|чоловіки|чоловіків|люди|людей|"
    r"мешканці|женщины|женщин|мужчины|мужчин|жители)\s*,?\s*$"
)
# Every match of `_AGE_LIST` and of `_DESC` holds one of these.
_AGE_WORDS = ("aged", "віком", "в возрасте", "возрастом", "-річн", "-летн", "років", "року", "рік", "лет", "год", "year")
_ANY_AGE_WORD = compiled(alternation(list(_AGE_WORDS)))
_BARE_PERSON = compiled(rf"{_PERSON}(?!\w)")
# Every match of `_BARE_PERSON` holds one of these: most read sentences hold none, and this scan of
# literals alone is two and a half times cheaper than the one testing word starts and ends.
_ANY_PERSON = compiled(alternation(_PERSON_WORDS))
_ENUM_SEP = compiled(r"\s*,\s*(?:а також\s+|а также\s+|and\s+)?|\s+(?:і|й|та|и|and|а також|а также|as well as)\s+")
_CHILD_IN = compiled(r"(?<!\w)(?:дит|діт|хлопч|дівч|немовл|ребен|младен|мальчик|девоч|boy|girl|baby|infant|child)")
_DIGIT = compiled(r"\d")
_AGE_BASE = 0xE000
_PRIVATE = compiled("[\ue000-\uf8ff]")
_NUM_BEFORE = compiled(r"(?:\d|[^\W\d_]+)\s*$")

# ---- zeros ---------------------------------------------------------------------------------------------

_CAS_WORD = (
    r"(?:постражд|пострада|загин|погиб|поранен|ранен|травмов|травмир|потерпі|потерпе|injur|hurt|harm|"
    r"kill|wound|died)[\w']*"
)
_ZEROS: tuple[tuple[_Cue, str], ...] = (
    (_Cue(
        r"звернень (?:[\w']+ ){0,5}?(?:щодо|з|по|про) (?:[\w']+ )?(?:травмован|постраждал|поранен)\w* "
        r"(?:не було|немає|не надходило)", ("звернень",)), "injured"),
    (_Cue(
        rf"(?<!\w)(?:ніхто|никто|nobody|no one|жоден|жодна|жодного|ни один|ни одна|none)\s+"
        rf"(?:(?:з|із|зі|из|of)\s+)?(?:[\w']+\s+){{0,3}}?(?:не\s+|was\s+|were\s+|has been\s+)?{_CAS_WORD}"
        rf"(?:\s*(?:,|і|й|та|и|або|или|or|and|ни|nor)\s*(?:не\s+|ни\s+)?{_CAS_WORD})*",
        ("ніхто", "никто", "nobody", "no one", "жод", "ни од", "none")), "auto"),
    (_Cue(
        r"без (?:[\w']+,? ){0,4}?(?:постраждал|пострадавш|потерпіл|потерпевш|жертв|травмован|поранен|раненых)\w*|"
        r"(?:постраждал|пострадавш|потерпіл|потерпевш|жертв|травмован|поранен|раненых|"
        r"загиблих (?:і|та|й|або) (?:поранен|постраждал|травмован)|погибших (?:и|или) (?:ранен|пострадавш))\w* "
        r"(?:[\w']+ ){0,3}?(?:немає|нема|не було|нет|не выявлено|не зафіксовано|не виявлено)|"
        r"no (?:[\w-]+ (?:or|and) )?(?:casualties|injuries|victims)|without (?:any )?casualties|no one hurt|"
        r"(?:люди|людей|жителі|мешканці|мирні|цивільні|жители|мирные|граждане|civilians|people|residents),?\s+"
        r"(?:[\w'-]+,?\s+){0,4}?(?:не|not)\s+(?:постраждал|пострадал|injured|hurt|harmed)\w*",
        ("без", "нема", "не ", "нет", "no ", "without", "not ")), "both"),
    (_Cue(
        r"без (?:загиблих|погибших|жертв)|(?:загиблих|погибших) (?:немає|нема|не було|нет)|no deaths|"
        r"no fatalities|nobody was killed|no one was killed", ("без", "нема", "не ", "нет", "no ")), "killed"),
    (_Cue(
        r"поранень не (?:зазнал|отрима)\w*|не (?:зазнал|отрима)\w* (?:поранень|травм)|травм не (?:зазнал|отрима)\w*|"
        r"(?:was|were) not (?:injured|hurt|harmed|wounded)|не (?:были )?(?:ранены|травмированы)",
        ("не ", "not ")), "injured"),
)
# A sentence without any of these has no figure and no zero: it is skipped unread. ("тіло", not
# "тіл": the advice paragraph's "телефонуйте" is no body.)
# (No look-behind: a literal alternation, grouped by first letter, is scanned in C many times faster.)
_GATE_WORDS = [
    "загин", "загиб", "вбит", "вбив", "вбил", "убит", "убил", "погиб", "помер", "умер", "тіло", "тіла", "тело", "тела",
    "тону", "смерт", "жертв", "died", "dead", "kill", "death", "fatal", "body", "bodies", "drown", "поран", "травм",
    "постражд", "потерпі", "госпіт", "шпитал", "ранен", "ранил", "пострада", "потерпе", "госпит", "injur", "wound",
    "hurt", "hospital", "звернул", "обратил", "доставлен", "casualt", "victim", "житт", "жизн", "lives", "несумісн",
    "несовместим",
]
_GATE = compiled(alternation(_GATE_WORDS))
# Letters one of which every gate word holds (a few, the rarer the better: most Cyrillic and Latin
# gate words hold one of "бмт" and "dti", the rest an "н").
_GATE_LETTERS = "бмтн" + "dti"


def _gate_finders() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """Per letter of `_GATE_LETTERS`, the gate words given to it, each matched at that letter (its
    end: a look-behind for the whole word). A pattern opening with one literal letter is scanned in C
    for that letter alone, several times faster than one alternation, whose every position is tested
    against the set of its first letters; and a letter the text lacks costs one `in` test."""
    options: dict[str, list[str]] = {}
    for word in _GATE_WORDS:
        letter = next(ch for ch in _GATE_LETTERS if ch in word)
        at = word.index(letter)
        behind = f"(?<={re.escape(word)})" if at else ""
        options.setdefault(letter, []).append(re.escape(word[at + 1:]) + behind)
    return tuple((letter, compiled(f"{re.escape(letter)}(?:{'|'.join(found)})"))
                 for letter, found in options.items())


# Where a text holds a gate word: a position in each occurrence (or in one overlapping it), and
# only there. A gate word is letters only: it is in one sentence, which a position names.
_GATE_FINDERS = _gate_finders()
_ZERO_WORDS = ["без", "no", "нема", "нет", "ніхто", "никто", "nobody", "жод", "не ", "ни од", "without"]
_ANY_ZERO = compiled(alternation(_ZERO_WORDS))
# What a sentence is rewritten for before reading (no information, idioms, zeros): most read
# sentences hold none of these needles, and are spared three scans.
_ANY_REWRITE = compiled(alternation(
    [*_NO_INFO.words, *(w for cue, _ in _IDIOMS for w in cue.words), *_ZERO_WORDS]))
_KILLED_WORD = compiled(r"загин|погиб|kill|died")
_INJURED_WORD = compiled(r"постражд|пострада|поранен|ранен|травм|потерпі|потерпе|injur|hurt|harm|wound|жертв|casualt|victim")

# ---- where a sentence says it happened -------------------------------------------------------------

# A sentence that opens with a place ("У Харкові…", "На Сумщині…", "In Kharkiv…", "В г. Купянск…").
_PLACE_OPENING = compiled(
    r"^[\s\"«“„(\-–—•*▪️🔹]*(?:[^\s,.]++\s++){0,3}?(?i:у|в|на|in|near)\s+"
    r"(?:(?:м|с|г|смт|пгт|сел|селі|місті|селищі|городе|поселке|селе|the city of|the village of|the town of)\.?\s+)?"
    r"([A-ZА-ЯІЇЄҐ][a-zа-яіїєґ'’-][\w'’-]+)"
)
# Not a place of the event: the country, or a speaker ("У Нацполіції повідомили…", "In Kyiv,
# officials said…": a reporting verb right after the name).
_NOT_A_PLACE = compiled(
    r"^(?:україн|украин|ukrain|росі|росси|russia|кремл|kreml)|повідом|зазнач|заяв|сообщ|отмет|"
    r"(?<!\w)(?:said|reported|told|according)\b"
)

_BESIDES_THEM = compiled(
    r"[\s\"«“„(\-–—•*]*(?:(?:окрім|крім|кроме|помимо) них|besides them|in addition|також|также|also)\b"
)
_PLACE_ANYWHERE = compiled(r"(?<!\w)(?i:у|в|на|in)\s+([A-ZА-ЯІЇЄҐ][a-zа-яіїєґ'’-][\w'’-]+)")


@dataclass(slots=True)
class _Figure:
    """What one sentence says about one category."""

    value: int
    role: str  # "plain", "total" or "update"
    place: str | None
    ages: tuple[int, ...]


class _Reading:
    """What a post has said so far. (Made for every post with a gate word: fields set by hand,
    not by a dataclass's default factories, a call and a comprehension each.)"""

    __slots__ = ("children", "figures", "last", "last_sentence", "zero")

    def __init__(self) -> None:
        self.figures: dict[str, list[_Figure]] = {"killed": [], "injured": []}  # (the keys: `_CATS`)
        self.children: dict[str, int | None] = {"killed": None, "injured": None}
        self.zero: set[str] = set()
        # The last candidate read (category, value, role) and its sentence: "ще" builds on it.
        self.last: tuple[str, int, str] | None = None
        self.last_sentence = -1

    def child(self, cat: str, n: int) -> None:
        have = self.children[cat]
        self.children[cat] = n if have is None else max(have, n)


# ---- numbers -------------------------------------------------------------------------------------------

@lru_cache(maxsize=8192)
def _value(tok: str) -> int | None:
    n = word_number(tok)
    if n is None and (m := _CASE_ENDING.match(tok)):
        n = int(m.group(1))
    return n


@lru_cache(maxsize=8192)
def _marks(tok: str) -> tuple[bool, bool]:
    """Whether a word is a killed word, an injured word (words recur from post to post: asked once)."""
    return _KILLED.match(tok) is not None, _INJURED.match(tok) is not None


class _Words:
    """The tokens and numbers of a sentence's segments, read once: a segment is asked up to four times."""

    __slots__ = ("_numbers", "_tokens")

    def __init__(self) -> None:
        self._tokens: dict[str, list[str]] = {}
        self._numbers: dict[str, list[tuple[int, int, bool]]] = {}

    def tokens(self, seg: str) -> list[str]:
        found = self._tokens.get(seg)
        if found is None:
            found = self._tokens[seg] = _tokens(seg)
        return found

    def numbers(self, seg: str) -> list[tuple[int, int, bool]]:
        found = self._numbers.get(seg)
        if found is None:
            found = self._numbers[seg] = _numbers(self.tokens(seg))
        return found


def _tokens(seg: str) -> list[str]:
    """`_TOKEN`'s words of `seg`. Most segments are words of letters alone or digits alone between
    spaces, which are then its words: split four times faster than the pattern reads them."""
    words = seg.split()
    for word in words:
        if not (word.isalpha() or word.isdecimal()):
            return _TOKEN.findall(seg)
    return words


def _numbers(tokens: list[str]) -> list[tuple[int, int, bool]]:
    """(position, value, counts children) of every token that can be a count of people."""
    values = list(map(_value, tokens))
    found: list[tuple[int, int, bool]] = []
    if values.count(None) == len(values):
        return found  # (most segments: no number at all)
    skip = -1
    for i, n in enumerate(values):
        if n is None or i <= skip:
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if n in TENS and (unit := word_number(nxt)) is not None and 0 < unit < 10 and not nxt.isdecimal():
            n, skip = n + unit, i + 1  # "двадцять одна людина"
            nxt = tokens[i + 2] if i + 2 < len(tokens) else ""
        if nxt == "of" and i + 2 < len(tokens):  # "a family of three" keeps its number
            nxt = tokens[i + 2]
        prev = tokens[i - 1] if i > 0 else ""
        not_people, person, child = _after_number(nxt)
        if not_people or _is_month(prev) or (1900 <= n <= 2100 and not person):
            continue
        found.append((i, n, child))
    return found


_MONTH_WORD = compiled(rf"^(?:{MONTHS})$")


@lru_cache(maxsize=8192)
def _after_number(word: str) -> tuple[bool, bool, bool]:
    """Whether the word after a number counts no people, names people, names children (asked once a word)."""
    return (NOT_PEOPLE_AFTER.match(word) is not None, PERSON_NOUN.match(word) is not None,
            CHILD_WORD.match(word) is not None or word.startswith("дит"))


@lru_cache(maxsize=8192)
def _is_month(word: str) -> bool:
    return _MONTH_WORD.match(word) is not None


def _segment_counts(seg: str, words: _Words, cat: str | None, update: bool) -> list[tuple[str, int, bool, bool]]:
    """(category, count, counts children, a number was written) read from a segment with casualty words.

    `cat`: the segment's category, None when it holds words of both (each number then goes to the
    nearest word); `update`: whether its sentence holds a needle of `_UPDATE`."""
    tokens = words.tokens(seg)
    if update and (upd := _UPDATE.search(seg)) is not None and (n := _value(upd.group("n"))) is not None:
        if cat is None:
            cat = "killed" if _KILLED.search(seg[: upd.start()]) else "injured"
        return [(cat, n, False, True)]
    nums = words.numbers(seg)
    if cat is None:
        kinds = [_marks(t) for t in tokens]
        marks = [(i, "killed") for i, (k, _) in enumerate(kinds) if k]
        marks += [(i, "injured") for i, (_, j) in enumerate(kinds) if j]
        if not marks:
            return []
        # Both categories in one segment ("2 dead 9 injured"): each number goes to the nearest word.
        out = []
        for pos, n, child in nums:
            best = min(marks, key=lambda m: (abs(m[0] - pos), m[0] < pos))
            out.append((best[1], n, child, True))
        return out
    if len(nums) == 1:
        return [(cat, nums[0][1], nums[0][2], True)]
    if nums:
        # The number next to the casualty word, not the largest one in the segment.
        at = [i for i, t in enumerate(tokens) if _marks(t) != (False, False)] or [0]
        pos, n, child = min(nums, key=lambda x: (min(abs(x[0] - a) for a in at), x[0]))
        return [(cat, n, child, True)]
    if any(t in _PLURAL_PRONOUNS for t in tokens):
        return []
    if any(_SINGULAR_VERB.match(t) for t in tokens) or _names_one_person(tokens):
        return [(cat, 1, any(CHILD_WORD.match(t) for t in tokens), False)]
    return []


def _names_one_person(tokens: list[str]) -> bool:
    """A singular person next to the casualty word, and the casualty word is not plural."""
    for k, tok in enumerate(tokens):
        if not any(_marks(tok)):
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


def _people_count(seg: str, words: _Words, *, strict: bool = False) -> tuple[int, bool] | None:
    """A count of people in a segment without casualty words ("7 мешканців", "1 жінку").

    `strict`: a bare noun counts only when it is a listed person word, not a guess of the
    morphology (a surname after "та" is the source, not a second victim)."""
    tokens = words.tokens(seg)
    for pos, n, child in words.numbers(seg):
        nxt = tokens[pos + 1] if pos + 1 < len(tokens) else ""
        if PERSON_NOUN.match(nxt) or child:
            return n, child
    if tokens and len(tokens) <= 3 and (SINGULAR_PERSON.match(tokens[-1]) if strict else is_singular_person(tokens[-1])):
        return 1, bool(CHILD_WORD.match(tokens[-1]))
    return None


def _children_count(seg: str, words: _Words) -> int | None:
    if not CHILD_STEM.search(seg) or not any(CHILD_WORD.match(t) for t in words.tokens(seg)):
        return None
    nums = words.numbers(seg)
    return nums[0][1] if nums else 1


# ---- rewriting a sentence ----------------------------------------------------------------------------

def _zeros(s: str, reading: _Reading) -> str:
    """Record the negated categories of `s` and blank those phrases out."""
    if not _ANY_ZERO.search(s):
        return s
    for rx, kind in _ZEROS:
        found = rx.finditer(s)  # (empty unless a needle is present)
        for m in found:
            if kind == "auto":
                words = m.group()
                kind_here = "both" if _INJURED_WORD.search(words) else "killed" if _KILLED_WORD.search(words) else None
            else:
                kind_here = kind
            if kind_here:
                reading.zero.update(_CATS if kind_here == "both" else (kind_here,))
        if found:
            s = rx.rx.sub(" ", s)
    return s


def _age_mark(age: int) -> str:
    # Ages travel with their segment as private-use characters, which no pattern reads as a word.
    return chr(_AGE_BASE + min(age, 150))


def _ages(seg: str) -> list[int]:
    return [ord(c) - _AGE_BASE for c in _PRIVATE.findall(seg)]


def _people(s: str) -> str:
    """Described people become counts: "47-летний, 50-летний мужчины и 65-летняя женщина" → "3 осіб"."""
    def age_list(m: re.Match[str]) -> str:
        found = re.findall(r"\d+", m.group())
        marks = "".join(_age_mark(int(a)) for a in found)
        # "women aged 45, 62 and 70", "жінки 45, 62 та 70 років": as many people as ages, unless
        # a count stands before the noun ("две женщины, которым 54 и 50 лет").
        before = _PLURAL_PEOPLE_BEFORE.search(s, max(0, m.start() - 40), m.start())
        if before and not before.group(1):
            return f" {len(found)} осіб {marks} "
        return f" {marks} "

    items: list[tuple[int, int, int]] = []
    # An age is digits with an age word (most sentences give none: two scans spared; the age word
    # first, which fewer of the sentences read hold than a digit).
    if _ANY_AGE_WORD.search(s) and _DIGIT.search(s):
        s = _AGE_LIST.sub(age_list, s)
        items = [(m.start(), m.end(), int(next(g for g in m.groups() if g))) for m in _DESC.finditer(s)]
    if _ANY_PERSON.search(s):
        items += [(m.start(), m.end(), -1) for m in _BARE_PERSON.finditer(s)
                  if not any(a <= m.start() < b for a, b, _ in items)]
    if not items or len(items) == 1 and items[0][2] < 0:
        return s  # (a bare noun alone is read by the segment rules)
    items.sort()
    out: list[str] = []
    pos = 0
    k = 0
    while k < len(items):
        run = [items[k]]
        while k + 1 < len(items) and _ENUM_SEP.fullmatch(s, run[-1][1], items[k + 1][0]):
            k += 1
            run.append(items[k])
        k += 1
        described = [age for _, _, age in run if age >= 0]
        start, end = run[0][0], run[-1][1]
        if not described and len(run) < 2:
            continue  # a bare noun alone is read by the segment rules
        if len(run) == 1 and _NUM_BEFORE.search(s, max(0, start - 12), start) and \
                _value(s[:start].split()[-1] if s[:start].split() else "") is not None:
            continue  # "одна 70-річна жінка": the count is already there
        marks = "".join(_age_mark(a) for a in described)
        span = s[start:end]
        if len(run) == 1:
            noun = re.sub(r"^\S+\s*", "", span) if _DESC.match(span) and span[0].isdigit() else span
            noun = re.sub(r"\s*\d+\s+\S+$", "", noun) if not span[0].isdigit() else noun
            repl = f"1 {'дитина' if described and described[0] < 18 else noun or 'особа'} {marks}"
        else:
            young = all(_CHILD_IN.search(s[a:b]) or 0 <= age < 18 for a, b, age in run)
            repl = f"{len(run)} {'дітей' if young else 'осіб'} {marks}"
        out.append(s[pos:start])
        out.append(repl)
        pos = end
    out.append(s[pos:])
    return "".join(out)


@lru_cache(maxsize=512)
def _abbrev_last(char: str) -> bool:
    return _ABBREV_LAST.match(char) is not None


def _sentences(text: str, start: int = 0) -> Iterator[tuple[int, int]]:
    """(start, end) of every sentence, in order, from `start` (0, or one `_sentence_start_before`
    gave); "м. Харків" does not end one."""
    for m in _SENT_END.finditer(text, start):
        end, stop = m.span()
        # (A lone dot after a letter that ends an abbreviation: the other ends are asked nothing.)
        if stop - end == 1 and end and text[end] == "." and _abbrev_last(text[end - 1]) \
                and _ABBREV_END.search(text, max(start, end - 8), end):
            continue
        yield start, end
        start = stop
    yield start, len(text)


_SENT_CHARS = ".\n!?;:"  # (what `_SENT_END` is made of)


def _sentence_start_before(text: str, pos: int) -> int:
    """Where the sentence holding `pos` (a letter) or one before it starts: the end of the last run
    of `_SENT_CHARS` before `pos` that ends a sentence, found from the end (in C: `rfind` skips to a
    character), not by splitting all the text before it. 0 where a run's reading depends on more
    of the text (a digit after it; a run in the eight characters before a lone dot after an
    abbreviation's last letter), or after a few abbreviations (each costs a search back)."""
    for _ in range(4):
        # ("." and "\n" first: `rfind` looks for a character's low byte, which "!?;:" share with "СплК".)
        found = max(text.rfind(".", 0, pos), text.rfind("\n", 0, pos))
        found = max([found, *[text.rfind(char, found + 1, pos) for char in "!?;:"]])
        if found < 0:
            return 0
        first = found  # (the run's first character: the full split's match opens there)
        while first and text[first - 1] in _SENT_CHARS:
            first -= 1
        stop = found + 1  # (the run ends there: `found` is the last of them before `pos`)
        if text[stop].isdecimal():
            return 0
        if not (stop - first == 1 and text[first] == "." and first and _abbrev_last(text[first - 1])):
            return stop
        # (`_sentences` asks the eight characters before the dot, or fewer after a sentence end.)
        if first < 8 or any(char in text[first - 8:first] for char in _SENT_CHARS):
            return 0
        if not _ABBREV_END.search(text, first - 8, first):
            return stop
        pos = first  # "м. Харків": the sentence goes on before the dot
    return 0


def _place(sentence: str, *, anywhere: bool = False) -> str | None:
    """The first letters of the place a sentence opens with (or, `anywhere`, names after "у/in")."""
    m = _PLACE_OPENING.match(sentence) or (_PLACE_ANYWHERE.search(sentence) if anywhere else None)
    if m is None:
        return None
    word = normalize(m.group(1))
    speaker = _NOT_A_PLACE.search(normalize(sentence[m.end():m.end() + 30]))
    return None if speaker or _NOT_A_PLACE.search(word) else word[:3]


# ---- reading one sentence -------------------------------------------------------------------------------

def _continues(low: str, reading: _Reading) -> bool:
    """Whether a sentence opens with "Серед них…" after a figure: it goes on with that figure."""
    return reading.last is not None and bool(_AMONG_START.match(low.lstrip(" \t\"«“„(-–—•*")))


def _read_sentence(idx: int, sentence: str, low: str, reading: _Reading, *, gated: bool = False) -> None:
    """Read `sentence` (`low`: the same, normalised) into `reading`; `gated`: it is known to hold a
    gate word."""
    among = _continues(low, reading)
    if not (among or gated or _GATE.search(low)):
        return
    if _ANY_REWRITE.search(low):
        low = _NO_INFO.sub(" ", low)
        if _ANY_IDIOM.search(low):
            for rx, repl in _IDIOMS:
                low = rx.sub(repl, low)
        low = _zeros(low, reading)
    # What the sentence holds at all: a segment is searched only for what its sentence holds (a
    # segment's match is its sentence's: segments are cut at commas and spaces, which no pattern's
    # word-start or word-end test tells from a string's ends).
    killed_in, injured_in = _KILLED.search(low) is not None, _INJURED.search(low) is not None
    if not (among or killed_in or injured_in):
        return
    described = _people(low)
    aged = False  # (ages are marked by `_people` alone)
    if described is not low:
        low = described
        killed_in, injured_in = _KILLED.search(low) is not None, _INJURED.search(low) is not None
        aged = _PRIVATE.search(low) is not None
    excluded_in, update_in = _EXCLUDED.present(low), _UPDATE.present(low)
    total = "total" if _TOTAL.search(low) else "plain"
    # Per category: values read in this sentence (summed), and the role of the sentence.
    vals: dict[str, list[int]] = {"killed": [], "injured": []}
    ages: dict[str, list[int]] = {"killed": [], "injured": []}
    role = {"killed": total, "injured": total}
    # A sentence that opens with "Серед них…" continues the figure of the sentence before.
    last_cat: str | None = reading.last[0] if among and reading.last else None
    pending: tuple[int, bool] | None = None
    pending_children: int | None = None
    parts = _SEGMENT.split(low)
    segs: list[tuple[str, bool]] = []
    among_in = _AMONG_ANY.search(low) is not None
    for k in range(0, len(parts), 2):
        after_conj = k > 0 and parts[k - 1] != ","
        if not among_in:
            segs.append((parts[k].strip(), after_conj))
            continue
        for j, seg in enumerate(_AMONG_SPLIT.split(parts[k])):
            segs.append((seg.strip(), after_conj and j == 0))

    words = _Words()
    bare_after: list[bool] = []

    def waits(i: int) -> bool:
        """"three people, including a girl, were injured": a later bare casualty word takes the count."""
        if not bare_after:  # computed once, from the end: linear in the sentence
            bare_after.extend([False] * (len(segs) + 1))
            for k in range(len(segs) - 1, -1, -1):
                seg = segs[k][0]
                bare = bool(killed_in and _KILLED.search(seg) or injured_in and _INJURED.search(seg)) \
                    and not words.numbers(seg)
                bare_after[k] = bare_after[k + 1] or bare
        return bare_after[i]
    in_part = False  # inside a breakdown ("серед них … та …")
    implied = {"killed": False, "injured": False}
    running = {"killed": 0, "injured": 0}
    running_figure = {"killed": False, "injured": False}
    besides = _BESIDES_THEM.match(low) is not None  # "Кроме них / Також постраждали…": more of the same
    place = _place(sentence, anywhere=_ONE_MORE.present(low))

    def put(cat: str, n: int, seg: str, child: bool, written: bool = True) -> None:
        nonlocal last_cat
        prev = reading.last
        if cat == "killed" and prev is not None and prev[0] == "injured" and _PART_OF_HURT.search(seg):
            # "поранено 5 людей, один із них згодом помер": the dead among the injured count as
            # killed only (the figure they were part of loses them).
            hurt = vals["injured"] or (reading.figures["injured"] and [reading.figures["injured"][-1].value])
            if hurt and hurt[-1] >= n:
                if vals["injured"]:
                    vals["injured"][-1] -= n
                else:
                    reading.figures["injured"][-1].value -= n
                vals["killed"].append(n)
                running["killed"] += n
                reading.last = ("killed", n, "plain")
                reading.last_sentence = idx
                last_cat = "killed"
                return
        if _PART_OF.search(seg) or (in_part and not _ONE_MORE.search(seg)) or (
            cat == "injured" and vals["injured"] and _HOSPITAL.search(seg)
            and not _INJURED.search(_HOSPITAL.sub("", seg))):
            # A part of a figure already given: no figure of its own, but "ще N" may build on it.
            reading.last = (cat, n, "part")
            reading.last_sentence = idx
            last_cat = cat
            if child:
                reading.child(cat, n)
            return
        if update_in and _UPDATE.search(seg):
            role[cat] = "update"
        if prev is not None and prev[0] == cat and reading.last_sentence != idx and not vals[cat] \
                and place is None and (besides or _ONE_MORE.search(seg)):
            # "Загинули 3 людини. … тіла ще двох загиблих": more of the category just read, so the
            # figure so far plus these (a running figure: its people are not told apart by age
            # again); unless the sentence names a place of its own ("Another two were injured in
            # Chuhuiv"): then it is that place's figure, and places are summed.
            so_far = _decide(reading.figures[cat]) if len(reading.figures[cat]) <= 64 else None
            n += prev[1] if prev[2] == "part" or so_far is None else so_far
            running_figure[cat] = True
            if prev[2] in ("total", "update"):
                role[cat] = prev[2]
        if not written:
            # "Є загиблий — чоловік, тіло якого…": a person without a number is said once per sentence.
            if implied[cat]:
                return
            implied[cat] = True
        vals[cat].append(n)
        if aged:
            ages[cat].extend(_ages(seg))
        if child:
            reading.child(cat, n)
        running[cat] += n
        reading.last = (cat, running[cat], role[cat])
        reading.last_sentence = idx
        last_cat = cat

    for i, (seg, after_conj) in enumerate(segs):
        if not seg:
            continue
        if excluded_in and _EXCLUDED.search(seg):
            pending = None
            continue
        if among_in and _AMONG_START.match(seg):
            in_part = True
            n = _children_count(seg, words)
            if n is None and last_cat == "injured" and killed_in and _KILLED.search(seg) and vals["injured"]:
                # "постраждали 6 людей, з них 2 загинули": DSNS counts the dead among the affected.
                nums = words.numbers(seg)
                dead = nums[0][1] if nums else 1
                vals["killed"].append(dead)
                if vals["injured"][-1] >= dead:
                    vals["injured"][-1] -= dead
                continue
            cat = "injured" if _HURT_AMONG.search(seg) else "killed" if _DEAD_AMONG.search(seg) else last_cat
            if n is not None and pending is not None:
                pending_children = n
            elif n is not None and cat:
                reading.child(cat, n)
            continue
        k = killed_in and _KILLED.search(seg) is not None
        j = injured_in and _INJURED.search(seg) is not None
        seg_cat = None if k and j else "killed" if k else "injured" if j else None
        found = _segment_counts(seg, words, seg_cat, update_in) if k or j else None
        if found is None:
            if in_part:
                # "серед них — 14-річна дівчинка та немовля": more of the breakdown.
                n = _children_count(seg, words)
                if n is not None and last_cat:
                    have = reading.children[last_cat] or 0
                    reading.children[last_cat] = have + n
                continue
            people = _people_count(seg, words, strict=after_conj)
            numbers = words.numbers(seg)
            if people and waits(i + 1):
                pending = people
            elif people and last_cat and after_conj and vals[last_cat]:
                vals[last_cat].append(people[0])  # "3 рятувальників та 7 мешканців"
                running[last_cat] += people[0]
                if aged:
                    ages[last_cat].extend(_ages(seg))
            elif last_cat and vals[last_cat] and numbers and (_MORE.search(seg) or re.search(r"(?<!\w)(?:в|у|на|in)\s", seg)):
                vals[last_cat].append(numbers[0][1])  # "у Чугуєві — ще 2", "та 1 в Балаклії"
                running[last_cat] += numbers[0][1]
            elif people:
                pending = people
            continue
        if not found and pending is not None:
            cat = seg_cat
            if cat:
                found = [(cat, pending[0], pending[1], True)]
        if not found:
            continue
        in_part = False
        for cat, n, child, written in found:
            put(cat, n, seg, child, written)
        if pending_children is not None and last_cat:
            reading.child(last_cat, pending_children)
            pending_children = None
        pending = None
    for cat in _CATS:
        if vals[cat]:
            value = max(vals[cat]) if role[cat] != "plain" else sum(vals[cat])
            described = () if running_figure[cat] else tuple(sorted(ages[cat]))
            reading.figures[cat].append(_Figure(value, role[cat], place, described))


# ---- the rules -------------------------------------------------------------------------------------------

def _contains(have: Counter[int], ages: tuple[int, ...]) -> bool:
    return not Counter(ages) - have


def _group_value(figures: list[_Figure]) -> int:
    """One place's figures: repeats are one figure; people told apart by age are added."""
    plain = max((f.value for f in figures if not f.ages), default=0)
    if all(not f.ages for f in figures):
        return plain  # (no one told apart by age: no counting of ages)
    seen: Counter[int] = Counter()
    described = 0
    for f in figures:
        if f.ages and not _contains(seen, f.ages):
            described += f.value
            seen.update(f.ages)
    return max(plain, described)


def _decide(figures: list[_Figure]) -> int | None:
    if len(figures) < 2:
        return figures[0].value if figures else None  # (what the rules below give one figure)
    updates = [f for f in figures if f.role == "update"]
    if updates:
        return updates[-1].value
    totals = [f for f in figures if f.role == "total"]
    if totals:
        return totals[-1].value
    places: dict[str | None, list[_Figure]] = {}
    for f in figures:
        if f.role == "plain":
            places.setdefault(f.place, []).append(f)
    general = _group_value(places.pop(None, []))
    return max(general, sum(_group_value(g) for g in places.values()))


# Every byte but E0–F8: what is left of the high bytes of a text's UTF-16 is its private-use characters.
_NOT_PRIVATE_HIGH = bytes(range(0xE0)) + bytes(range(0xF9, 0x100))


def _may_hold_private(text: str) -> bool:
    """Whether `text` holds a private-use character (U+E000–U+F8FF): the high byte of its UTF-16
    code unit is E0–F8. Encoding to UTF-16 is a copy of the code units, and the slice and the
    deletion are loops of a few instructions a byte: a fifth of encoding to UTF-8 (callgrind)."""
    return bool(text.encode("utf-16-le", "surrogatepass")[1::2].translate(None, _NOT_PRIVATE_HIGH))


def extract_casualties(text: str) -> Casualties:
    """Read killed and injured counts (and children among them) from a post.

    None where the text says nothing, 0 where it says nobody was hurt.
    """
    low = normalize(text)
    gates = sorted([m.start() for letter, rx in _GATE_FINDERS if letter in low for m in rx.finditer(low)])
    if not gates:
        return Casualties()  # most posts about fires, alerts and advice: nothing to read
    # Lower-casing keeps offsets for nearly every text; where it does not, each sentence is redone.
    same = len(low) == len(text)
    # The sentences before the first gate word's are read by nobody: they are not even split, and
    # a private-use character there is no age mark to mistake.
    first = _sentence_start_before(text, gates[0]) if same else 0
    if _may_hold_private(low[first:] if first else low):
        low = _PRIVATE.sub(" ", low)
    # After the last gate word a sentence is read only when it opens with a breakdown ("Серед
    # них…"): without one, the sentences after it are not even split. (`gates`: where the gate
    # words are.)
    among_after = _holds_any(low, _AMONG_WORDS, gates[-1]) and _AMONG_ANY.search(low, gates[-1]) is not None
    last = gates[-1] if same and not among_after else len(text)
    reading = _Reading()
    g, count = 0, len(gates)  # (the first gate word not before the sentence: both are in order)
    for idx, (a, b) in enumerate(_sentences(text, first)):
        if a > last:
            break
        while g < count and gates[g] < a:
            g += 1
        # A sentence without a gate word is read only when it continues a figure.
        gated = same and g < count and gates[g] < b
        if same and not (gated or reading.last is not None and _continues(low[a:b], reading)):
            continue
        if a < b and not text[a:b].isspace():
            _read_sentence(idx, text[a:b], low[a:b] if same else _PRIVATE.sub(" ", normalize(text[a:b])), reading,
                           gated=gated)
    killed, injured = _decide(reading.figures["killed"]), _decide(reading.figures["injured"])
    if killed is None and "killed" in reading.zero:
        killed = 0
    if injured is None and "injured" in reading.zero:
        injured = 0
    return Casualties(
        killed=killed,
        injured=injured,
        children_killed=reading.children["killed"] if killed else None,
        children_injured=reading.children["injured"] if injured else None,
    )
