"""Is a post a report of a Russian strike that hit a place in Ukraine, and with what weapons.

A weighted-cue classifier over precompiled stem patterns (Ukrainian, Russian, English). A post is a
strike when it names an attack (a weapon or an attack verb) *and* a consequence (damage, fire,
casualties, a hit), and the positive evidence outweighs the cues of ordinary emergencies, demining,
drills, weather, alerts and of Ukrainian strikes on Russia. Stem patterns rather than lemmatisation:
the cue words are few and their inflections regular, and the classifier must run at thousands of
posts per second.

A negative cue counts only when it is the post's topic: it stands in the first sentence, or the
lead (the first three sentences) has no attack and consequence of its own. "Піротехніки працюють
на місці" closing a strike report, or a paragraph of safety advice after it, cannot sink it; crews
listed at a site or checking the area are never the topic. Consequences that are denied ("влучань
немає", "no hits or casualties", "пострадавших нет") or only heard ("лунають вибухи") are no hit,
and a denied link ("не пов'язана з обстрілами", "not related to shelling") counts against.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from itertools import filterfalse
from operator import itemgetter

from analysis._lexicon import _has_latin, unify, word_start_alternation
from analysis._regex import compiled
from analysis.model import StrikeReading
from analysis.scope import _keep_last, _lower, sentence_spans

__all__ = ["classify", "normalize"]

# Read by the strike reader, then the casualty reader.
@_keep_last
def normalize(text: str) -> str:
    """Lower-case and unify apostrophes and ё (`analysis._lexicon.unify`), so one pattern covers
    every spelling; characters keep their places (lower-casing keeps them for nearly every text).

    The lower case is `scope`'s one-text memo: the post `scope` cut is mostly the event read
    here, and the event read here is the one `stated_date` lower-cases next."""
    return unify(_lower(text))


class _Cue:
    """A stem alternation (stems begin a word, may end anywhere), tried only with the stems whose
    heads the text holds.

    Most cues are absent from most posts, and most stems of a present cue are absent too. A stem's
    literal head must stand at a word start, so its first letters are looked up in the set of the
    text's word starts (`_word_starts`): one set operation for the whole cue, then substring tests
    of the few heads whose first letters are there. A head the set cannot answer for (not opening
    with a letter, or shorter than a key and ending the stem) is tested as a substring. The stems
    found are then tried written with their look-behind after their head, so the regex engine
    skips in C to the heads, where the whole alternation, with one first letter of twenty, stops
    at every other word ("вибухотехніки" alone must not cost a scan for twenty kinds of
    accident). A stem with no literal head ("(?:a|b)…") is pre-checked by its guards, and a text
    holding one of them is scanned with the whole alternation.
    """

    __slots__ = ("by_head", "by_key", "guards", "heads", "keys", "loose", "parts", "rx", "stems", "subsets")

    def __init__(self, parts: tuple[str, ...], guards: tuple[str, ...] = ()) -> None:
        self.parts = parts
        # One lookbehind for the whole alternation (one per branch before its first letter is ten
        # times slower).
        self.rx = compiled("(?<![\\w-])(?:" + "|".join(parts) + ")")
        self.guards = guards
        heads = [_head(p) for p in parts]
        assert all(heads) or guards, "a stem opening with a group needs guards"
        self.by_head: dict[str, tuple[int, ...]] = {}
        for i, h in enumerate(heads):
            if h:
                self.by_head[h] = self.by_head.get(h, ()) + (i,)
        keys = {h: _key(h, all(_ends_word(parts[i][len(h):]) for i in ix)) for h, ix in self.by_head.items()}
        self.keys = frozenset(k for k in keys.values() if k)
        self.heads = {k: tuple(h for h, k2 in keys.items() if k2 == k) for k in self.keys}
        self.loose = tuple(h for h, k in keys.items() if not k)
        # What `found_in` walks: each key's heads with their stems, the loose heads under "".
        self.by_key = {k: tuple((h, self.by_head[h]) for h in hs) for k, hs in self.heads.items()}
        self.by_key[""] = tuple((h, self.by_head[h]) for h in self.loose)
        # Compiled when first needed (compiling them all would slow the start-up).
        self.subsets: dict[frozenset[int], re.Pattern[str]] = {}
        self.stems: dict[int, re.Pattern[str]] = {}

    def _stems(self, low: str, starts: set[str] | None) -> list[int] | None:
        """The stems that can match in `low`; None when a guard is there (any stem can)."""
        for g in self.guards:
            if g in low:
                return None
        if starts is None:
            starts = _word_starts(low)
        found: list[int] = []
        for k in self.keys.intersection(starts):
            for h in self.heads[k]:
                if h in low:
                    found += self.by_head[h]
        for h in self.loose:
            if h in low:
                found += self.by_head[h]
        return found

    def found_in(self, low: str, starts: set[str] | None = None) -> bool:
        """Whether the cue matches in `low`; `starts` are its `_word_starts` when the caller has them,
        or those of a text `low` is a stretch of, cut where words end (a sentence, the lead): they
        hold its keys, and an extra key only costs a substring test.

        The stems that can are tried one by one: each alone opens with its head, which the engine
        finds in C as it finds a substring, and the first stem that matches answers.
        """
        for g in self.guards:
            if g in low:
                return self.rx.search(low) is not None
        if starts is None:
            starts = _word_starts(low)
        # Each head's stems are tried as soon as the head is found: the first match answers, and
        # the heads after it are not looked for.
        keys = self.keys.intersection(starts)
        if not keys and not self.loose:
            return False  # (most cues in most posts)
        by_key = self.by_key
        for k in (*keys, ""):
            for h, stems in by_key[k]:
                if h in low:
                    for i in stems:
                        rx = self.stems.get(i)
                        if rx is None:
                            rx = self.stems[i] = compiled(_headed(self.parts[i]))
                        if rx.search(low):
                            return True
        return False

    def finditer(self, low: str, starts: set[str] | None = None) -> Iterator[re.Match[str]]:
        """The matches in `low`, scanned with the alternation of the stems that can match alone
        (their order kept, so the matches are the whole alternation's)."""
        stems = self._stems(low, starts)
        if stems is None:
            return self.rx.finditer(low)
        if not stems:
            return iter(())
        picked = frozenset(stems)
        rx = self.subsets.get(picked)
        if rx is None:
            rx = compiled("|".join(_headed(self.parts[i]) for i in sorted(picked)))
            if len(self.subsets) < 512:  # (a bound no text has come near; the compiled are kept)
                self.subsets[picked] = rx
        return rx.finditer(low)


def _headed(part: str) -> str:
    """`part` with the word-start look-behind after its head, so the head opens the pattern."""
    head = _head(part)
    while head and part[len(head):len(head) + 1] in ("+", "*", "?", "{"):
        head = head[:-1]  # a quantifier may not follow the look-behind
    return f"{head}(?<![\\w-]{head}){part[len(head):]}" if head else f"(?<![\\w-])(?:{part})"


# How many letters of a word start are kept for the pre-check: longer keys rule out more cues,
# shorter ones leave fewer heads to substring tests.
_KEY_LEN = 4
# The first letters of every run of letters. Every word start opens a run (a run opening after a
# hyphen is no word start, but an extra key costs nothing), and a run read whole by `\w*` is
# scanned in C: a third faster than looking behind at every position.
_WORD_START = compiled(rf"(\w{{1,{_KEY_LEN}}})\w*")
_first_letters = itemgetter(slice(None, _KEY_LEN))
# A word shorter than a key ending where a search is told to end.
_SHORT_TAIL = compiled(rf"(?<!\w)\w{{1,{_KEY_LEN - 1}}}\Z")


def _word_starts(low: str) -> set[str]:
    """The first `_KEY_LEN` letters of every word of `low` (the whole word when shorter), and a
    few more strings of its letters (an extra key only costs a substring test)."""
    # Most whitespace-separated pieces are one run of letters (`isalnum` is what `\w` admits, bar
    # "_"), whose key is their first letters, sliced in C for all at once; most of the others are
    # a word and one mark after it ("ракети,"), and only the rest (hyphens, marks before or inside
    # a word) are read by the regex.
    pieces = low.split()
    keys = set(map(_first_letters, pieces))
    mixed: list[str] = []
    for piece in filterfalse(str.isalnum, pieces):
        if not piece[:-1].isalnum():
            mixed.append(piece)
        elif len(piece) <= _KEY_LEN:
            keys.add(piece[:-1])  # a short word before its mark: the slice took the mark
    if mixed:
        keys.update(_WORD_START.findall(" ".join(mixed)))
    return keys


def _key(head: str, whole: bool = False) -> str:
    """A word start every match of a stem beginning with `head` has, or "" when there is none.

    A word of the head (a run of letters at its start or after a mark) gives its first `_KEY_LEN`
    letters, or the whole word when it is shorter and ends inside the head ("с-", "не ") or,
    `whole`, where the head ends (the stem goes on with a word end: "рф\\b"). The longest such
    key rules out most: "не розірвал" is looked up by "розі", "«калібр" by "калі". A short head
    that could begin a longer word ("каб") has none.
    """
    best = ""
    for m in _RUN.finditer(head):
        if len(m.group()) >= _KEY_LEN or m.end() < len(head) or whole:
            key = m.group()[:_KEY_LEN]
            if len(key) > len(best):
                best = key
    return best


_RUN = compiled(r"\w+")


def _ends_word(rest: str) -> bool:
    """Whether a stem whose head is followed by `rest` ends a word there."""
    return rest.startswith(("\\b", "\\s", "(?!\\w)"))


_META = frozenset("\\.^$*+?{}[]|()")


def _head(part: str) -> str:
    """The literal characters a stem pattern must begin with ("" when it begins with a group)."""
    i = 0
    while i < len(part) and part[i] not in _META:
        i += 1
    if i < len(part) and part[i] in "?*{":
        i -= 1  # the last letter is optional
    return part[:i]


def _rx(*parts: str, guards: tuple[str, ...] = ()) -> _Cue:
    return _Cue(parts, guards)


# FPV is matched (and removed) before the generic drone patterns so "FPV-дрон" is fpv only.
_FPV = compiled(r"(?<!\w)(?:fpv|фпв)(?:[\s-]*(?:дрон\w*|drone\w*|безпілотн\w*|беспилотн\w*|камікадзе))?")
_FPV_WORDS = ("fpv", "фпв")
_WEAPONS: dict[str, _Cue] = {
    "missile": _rx(
        r"ракет\w*", r"ракетно\w*", r"балісти\w*", r"баллисти\w*", r"іскандер\w*", r"искандер\w*",
        r"кинджал\w*", r"кинжал\w*", r"х-\d+\w*", r"с-[34]00", r"калібр\w*(?=\s*»)", r"«калібр",
        r"«калибр", r"missile\w*", r"ballistic", r"iskander\w*", r"kinzhal\w*", r"kalibr\w*",
        r"rockets?(?!\s+(?:launcher|system))",
    ),
    "drone": _rx(
        r"дрон\w*", r"безпілотн\w*", r"беспилотн\w*", r"бпла", r"бплa", r"шахед\w*", r"шахід\w*",
        r"геран\w*", r"ланцет\w*", r"drones?", r"uavs?", r"shaheds?", r"geran\w*", r"lancet\w*",
        r"\w+-дронов\w*", guards=("-дронов",),
    ),
    "artillery": _rx(
        r"артилер\w*", r"артилл\w*", r"артобстр\w*", r"артудар\w*", r"мінометн?\w*", r"миномет\w*", r"ствольн\w*",
        r"гаубиц\w*", r"гармат\w*", r"сау\b", r"самохідн\w*", r"самоходн\w*", r"artillery",
        r"mortars?", r"howitzer\w*", r"cannon\w*", r"self-propelled",
    ),
    "mlrs": _rx(
        r"рсзв", r"mlrs", r"«\s*(?:град|ураган|смерч|торнадо)\w*", r"градів", r"градами",
        r"(?:multiple )?(?:launch )?rocket (?:launchers?|systems?)", r"multiple-launch", r"реактивн\w* систем\w* залпов\w*", r"залпов\w* огн\w*",
        r"grads?\b(?= (?:rocket|mlrs|multiple))", r"grads\b",
        guards=("rocket ",),
    ),
    "guided_bomb": _rx(
        # (Each form its own stem, so each has a word start to be looked up by.)
        *(rf"каб{end}\b" for end in ("", "и", "ами", "ів", "ом", "у", "а", "ах")), r"авіабомб\w*", r"авиабомб\w*", r"авіаційн\w* бомб\w*",
        r"керован\w* (?:авіа)?бомб\w*", r"управляем\w* (?:авиа)?бомб\w*", r"фаб(?:-?\d+)?\b", r"умпк",
        r"glide bombs?", r"guided (?:aerial )?bombs?", r"aerial bombs?", r"авіаудар\w*", r"авиаудар\w*",
        # Aviation against a town is a bomb run (labelling rule: "авіація", "air strikes" → guided_bomb).
        r"авіаці\w*", r"авиаци\w*", r"aircraft", r"air strikes?", r"airstrikes?",
    ),
}

# Shells are artillery unless a rocket launcher fired them ("з «Градів» … снаряди влучили"). English
# "shelling" is the generic "обстріл" and names no weapon.
_SHELLS = _rx(r"снаряд\w*", r"shells?\b", r"projectiles?")

# An attack happened (verbs and nouns of attacking, falling debris, downed targets).
_ATTACK = _rx(
    # "удар(?!н)": not the adjective of "ударний дрон", a kind of drone.
    r"атак\w*", r"атаку\w*", r"атакува\w*", r"удар(?!н)\w*", r"вдари\w*", r"вдарил\w*", r"обстр\w*",
    r"влуч\w*", r"скину\w*", r"скинул\w*", r"били\b", r"бив\b", r"уламк\w*", r"прил[еі]т\w*",
    r"поціли\w*", r"нанес\w* удар", r"обломк\w*", r"попадани\w*", r"сбит\w*", r"збит\w*",
    r"attack\w*", r"strikes?\b", r"struck", r"hit\b", r"hits\b", r"shell(?:ing|ed)", r"pound\w*",
    r"debris", r"bombard\w*",
)
_ENEMY = _rx(
    r"ворог\w*", r"ворож\w*", r"росі\w*", r"російськ\w*", r"рф\b", r"окупант\w*", r"оккупант\w*",
    r"россий\w*", r"росси\w*", r"враг\w*", r"вражеск\w*", r"russian?\b", r"russia's", r"enemy\b",
    r"occupiers?\b", r"invaders?\b",
    r"армі\w* рф", r"росіян\w*", r"рашист\w*",
    # Shelling of a Ukrainian place is Russian in this domain; the Ukrainian-attacker and
    # Russian-place cues below catch the reverse.
    r"обстріл\w*", r"обстріля\w*", r"обстрел\w*", r"shelling", r"shelled",
)
# A consequence on the ground: damage, fire, casualties, a recorded hit.
_HIT = _rx(
    r"пошкодж\w*", r"зруйнов\w*", r"руйнуван\w*", r"разрушени\w*", r"попадани\w*", r"знищен\w*", r"загоря\w*", r"загоран\w*", r"пожеж\w*",
    r"загин\w*", r"загибл\w*", r"поранен\w*", r"травм\w*", r"постражд\w*", r"госпіталіз\w*",
    r"жертв\w*", r"завал\w*", r"влуча\w*", r"влучи\w*", r"уламк\w*", r"зайнял\w*", r"деблок\w*",
    r"вибух\w*", r"повреж\w*", r"разруш\w*", r"погиб\w*", r"ранен\w*", r"пострада\w*", r"пожар\w*",
    r"возгоран\w*", r"обломк\w*", r"загорел\w*", r"взрыв\w*", r"damag\w*", r"destroy\w*",
    r"kill\w*", r"injur\w*", r"wound\w*", r"dead\b", r"death toll", r"fires?\b(?!\s+(?:groups?|units?|crews?|brigades?|department|service|fighters?|safety|trucks?|engines?))", r"blaze",
    r"hospitali[sz]\w*", r"casualt\w*", r"debris", r"hits were", r"hit\b", r"struck", r"outages?",
    # A life taken, one stem per verb: a stem opening with a group would need guards, and any post
    # saying "життя" would be scanned with the whole alternation.
    r"rubble", r"наслідк\w*", *(rf"{verb}\w* (?:\w+ )?(?:житт|жизн)\w*" for verb in ("обірва", "забра", "унес", "оборва")),
    r"claimed (?:\w+ )?li(?:fe|ves)", r"знеструм\w*", r"без світла",
    # The target of an attack on the grid is itself the hit ("атакував енергетичну інфраструктуру").
    r"інфраструктур\w*", r"инфраструктур\w*", r"infrastructure", r"енергетичн\w*", r"энергетич\w*",
    r"energy (?:grid|facilit\w*)", r"without power", r"без электричества",
)
# Phrases that on their own say "this is the aftermath of an attack" (`_strong`). First those
# opening with a word of their own, each (word, the rest): the rest is tried only where the word
# stands, found as a substring (a scan for the alternation of them all stops at every other
# letter, five times slower).
_AFTER_ATTACK = (r"\s+(?:(?!загроз|угроз|можлив|возможн)\w+\s+){0,2}?"
                 r"(?:атак\w*|удар\w*|обстр\w*|влучан\w*|падіння уламк\w*|падения обломк\w*|прил[еі]т\w*)")
_LED = (
    *((word, _AFTER_ATTACK) for word in ("внаслідок", "унаслідок", "через", "після", "в результаті",
                                         "в результате", "вследствие", "после", "following")),
    ("наслідк", r"\w* (?:\w+\s+)?(?:атак\w*|удар\w*|обстр\w*)"),
    ("масован", r"\w* атак\w*"), ("массированн", r"\w* атак\w*"),
    ("massive attack", ""), ("під ударом", ""), ("под ударом", ""),
    ("russia", r"(?:n|'s) (?:\w+\s+)?(?:attack|strike|shelling)\w*"),
)
# Words sharing a piece are looked for by that piece, once: each (piece, the patterns of its words
# with where the piece stands in the word).
_LED_PIECES = ("наслід", "в результат", "д ударом")


def _led_piece(word: str) -> str:
    return next((piece for piece in _LED_PIECES if piece in word), word)


_STRONG_LED: tuple[tuple[str, tuple[tuple[int, re.Pattern[str]], ...]], ...] = tuple(
    (piece, tuple((word.find(piece), compiled(re.escape(word) + rest)) for word, rest in _LED
                  if _led_piece(word) == piece))
    for piece in dict.fromkeys(_led_piece(word) for word, _ in _LED)
)
# Then two patterns, asked in turn: those opening with a word start test the look-behind after
# their first letter, so the engine skips in C to the letters that can open a match (one
# alternation would try every branch at every position, three times slower).
_STRONG = (
    # A strike with no weapon named: "завдали (масованого) удару", "вдарили по", "targeted".
    compiled(
        r"з(?<!\wз)авда\w* (?:\w+\s+){0,2}?удар\w*|н(?<!\wн)(?:анес\w*|ано\w*) (?:\w+\s+){0,2}?удар\w*"
        r"|в(?<!\wв)(?:дари\w*|дарил\w*) по|у(?<!\wу)(?:дарил\w*|дар\w*) по"
        r"|t(?<!\wt)argeted\b|s(?<!\ws)trikes? on\b|a(?<!\wa)ttacks? on\b"
    ),
    # A bare "удар" standing alone and then a toll, as a headline has it ("Балаклія: удар, 2
    # загиблих"); a stroke of heat, sun, lightning or current is never written so ("тепловий
    # удар", "удар блискавки", "удар струмом").
    compiled(
        r"у(?<![\w-]у)дар(?:и|у|ом|ы|а)?(?<!тепловий удар)(?<!тепловий удари)(?<!теплового удару)"
        r"(?<!тепловим ударом)(?<!сонячний удар)(?<!сонячного удару)(?<!сонячним ударом)(?<!тепловой удар)"
        r"(?<!теплового удара)(?<!тепловым ударом)(?<!солнечный удар)(?<!солнечного удара)(?<!солнечным ударом)"
        r"\s*[,:;—–-]\s*(?:[\w']+\s+){0,3}?"
        r"(?:загин|загибл|погиб|поранен|постражд|пострада|ранен|травмов|травмир|жертв)"
    ),
)


# Every match of each `_STRONG` pattern holds one of its words: a text without them is not scanned.
_STRONG_WORDS = (
    ("удар", "вдари", "targeted", "strike", "attack"),
    ("удар",),
)


def _strong(s: str, latin: bool = True) -> bool:
    """Whether `s` holds a phrase of `_STRONG_LED` or `_STRONG` (`latin`: whether it may hold a
    Latin letter, `_has`)."""
    for piece, led in _STRONG_LED if latin else _STRONG_LED_CYRILLIC:
        i = s.find(piece)
        while i >= 0:
            for at, rx in led:
                if i >= at and rx.match(s, i - at):
                    return True
            i = s.find(piece, i + 1)
    return any(_has(s, words, latin) and rx.search(s) for rx, words in zip(_STRONG, _STRONG_WORDS))


# Ukrainian forces as the attacker, Russian places as the target, occupation officials as the voice.
_UKR_ATTACKER = compiled(
    r"(?<!\w)(?:зсу|всу|сили оборони|силы обороны|сбу)\s+(?:\w+\s+){0,2}?"
    r"(?:урази\w*|вразил\w*|атакува\w*|атаковал\w*|нанесл\w*|обстрілял\w*|обстрелял\w*|знищил\w*|удари\w*)"
    r"|українськ\w* (?:\w+\s+)?(?:дрон\w*|безпілотн\w*|ракет\w*|удар\w*|обстріл\w*|атак\w*)"
    r"|украинск\w* (?:\w+\s+)?(?:дрон\w*|беспилотн\w*|ракет\w*|удар\w*|обстрел\w*|атак\w*)"
    r"|ukrainian (?:\w+\s+)?(?:drones?|missiles?|shelling|strikes?|attacks?|forces (?:hit|struck|attacked))"
    r"|ukraine (?:says it |said it )?(?:struck|hit|attacked)"
)
# Every match of `_UKR_ATTACKER` holds one of these: most posts are spared its scan.
_UKR_ATTACKER_WORDS = ("зсу", "всу", "сили оборони", "силы обороны", "сбу", "українськ", "украинск", "ukrainian",
                       "ukraine")
_RUSSIA_PLACE = _rx(
    r"бєлгород\w*", r"белгород\w*", r"belgorod", r"курськ\w*", r"курск\w*", r"kursk", r"брянськ\w*",
    r"брянск\w*", r"bryansk", r"саратов\w*", r"saratov", r"шебекин\w*", r"рильськ\w*", r"рыльск\w*",
    r"воронеж\w*", r"ростов\w*", r"москв\w*", r"moscow",
)
_OCCUPATION_VOICE = _rx(
    r"окупаційн\w* влад\w*", r"оккупационн\w* власт\w*", r"russian-installed", r"минобороны рф",
    r"міноборони рф", r"russian defen[cs]e ministry", r"russia claims", r"россия заявил\w*",
)
# Consequences that did not happen, and explosions only heard, are no hit. Denied damage ("влучань
# немає", "no hits", "повреждений не зафиксировано") is blanked before the hit cues are read; denied
# harm ("пострадавших нет") only together with it: "a drone hit a ship, nobody was hurt" is a strike,
# "drones were shot down, no damage and no casualties" is not.
_NOBODY_STEMS = ("жертв", "постражд", "потерпіл", "травм", "поранен", "загибл", "пострада", "погибш", "ранен", "casualt",
                 "injur", "victims", "deaths", "fatalit")
_NOBODY = "(?:" + "|".join(_NOBODY_STEMS) + r")\w*"
_NOTHING = (r"(?:руйнуван|пошкоджен|влучан|шкод|уламк|падінн\w* уламк|разрушени|поврежден|попадани|обломк|"
            r"падени\w* обломк|загоран|займан|возгоран|damage|hits?\b|destruction|debris|wreckage)\w*")
_OR = r"(?:\s+(?:і|й|та|и|або|или|ни|or|and|nor)\s+\w+)?"
_NOT_THERE = (r"(?:немає|нема|нет|не зафіксован\w*|не зафиксирован\w*|не виявлен\w*|не обнаружен\w*|"
              r"не надходил\w*|не поступал\w*|відсутн\w*|отсутству\w*|не було|не было|"
              r"(?:was|were|has been|have been) not (?:recorded|reported)|not reported|не сталося|не виникло|"
              r"не произошло|не возникло|did not (?:damage|cause|hit|occur)\w*|caused no)")
_NO_WORDS = ("без", "не", "ні", "ни", "no", "not", "without", "нет", "немає", "обійшлося без", "обошлось без")


_DENIED_AFTER = rf"{_OR}(?:\s+(?!але|но|but|проте|однак)\w+){{0,8}}?\s+{_NOT_THERE}"


def _negated(noun: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """`noun` denied, as the two branches of one alternation, asked apart (`_denials`): `noun` and
    a denial after it ("влучань немає"), a negation and `noun` ("без жертв"). The second is a
    `word_start_alternation` (its look-behind after the first letter, one per letter), and both
    scan in C to the letters that can open a match (the one alternation is twice as slow, and
    most posts deny nothing)."""
    return (compiled(noun + _DENIED_AFTER),
            compiled(f"(?:{word_start_alternation(list(_NO_WORDS))})" + r"\s+(?:\w+\s+){0,2}?" + noun + _OR))


_NO_DAMAGE = _negated(_NOTHING)
# The words every match of a `_negated` first branch holds (its `_NOT_THERE`), and the word starts
# (`_word_starts` keys) one of `_NO_WORDS` gives, which every match of the second holds.
_NOT_THERE_WORDS = ("нема", "нет", "відсутн", "отсутству", "not ", "caused no")
_NOT_THERE_AFTER_NE = ("зафіксован", "зафиксирован", "виявлен", "обнаружен", "надходил", "поступал", "було", "было",
                       "сталося", "виникло", "произошло", "возникло")
_NO_KEYS = frozenset(w.split()[-1][:_KEY_LEN] for w in _NO_WORDS)
# (The commonest first: a text that holds one is told so after a test or two. The words after
# "не " are asked at each "не " (`_has_ne`), not each with a scan of the text.)
_NEGATION_WORDS = ("ні ", "ни ", "без ", "нема", "нет", "no ", "not ", "without", "зафікс", "зафикс", "виявл",
                   "обнаруж", "надход", "поступ", "відсутн", "отсутств", "did not", "caused no")
_NEGATION_AFTER_NE = ("було", "было", "пошк", "зруйн", "постр", "поврежд", "разруш", "поран", "ранен", "травм",
                      "загин", "погиб", "влуч", "сталося", "виникло", "произошло", "возникло")
_NO_HARM = _negated(_NOBODY)
_ONLY_HEARD = compiled(
    r"звук\w* (?:\w+ ){0,2}?(?:вибух|взрыв)\w*|(?:вибух|взрыв)\w* (?:\w+ ){0,3}?(?:лунають|лунали|пролунал\w*|чути|"
    r"було чути|слышн\w*|прогремел\w*|раздавал\w*)|(?:лунають|лунали|пролунал\w*|чути|слышн\w*|прогремел\w*|"
    r"раздал\w*|раздавал\w*)(?:\s+\w+){0,3}?\s+(?:вибух|взрыв)\w*|explosions? (?:\w+ ){0,3}?(?:were |was )?heard|"
    r"heard (?:\w+ ){0,3}?explosions?"
)
# The words every match of `_ONLY_HEARD` holds: the scan is skipped without them.
_ONLY_HEARD_WORDS = ("вибух", "взрыв", "explosion")
# ...and the hearing every match of `_ONLY_HEARD` holds too ("вибухотехніки" alone is no sound).
_HEARD_VERBS = ("чути", "лунал", "лунають", "звук", "heard", "слышн", "прогремел", "раздал", "раздавал")
_HEARD_WORDS = ("вибух", "взрыв", "explosion", "destroyed", "знищен", "уничтожен", "полі", "поле", "field",
                "відкрит", "открыт", "open ")
# Targets destroyed by air defence, debris that fell in a field: no hit either. Its branches apart,
# each with the words its every match holds (one of each tuple): a branch is scanned for only in a
# text holding them, and the text is blanked only when one matches (in most posts debris falls on
# a building, not in a field).
_NOT_A_HIT_PARTS = tuple((compiled(rx), words) for rx, words in (
    (r"(?:were|was|been) (?:all )?(?:destroyed|downed|intercepted|shot down)",
     (("destroyed", "downed", "intercepted", "shot down"),)),
    # "(?<!\w)" after the first letter: the engine skips in C to the letters that can open a match.
    ((r"(?:з(?<!\wз)(?:нищено|бито)|у(?<!\wу)ничтожен\w*|с(?<!\wс)бит\w*) (?:\w+ ){0,3}?"
      r"(?:дрон|бпла|безпілотн|беспилотн|шахед|ракет|цил|ціл)\w*"),
     (("знищено", "збито", "уничтожен", "сбит"),)),
    ((r"(?:уламк|обломк|debris|wreckage)\w* (?:\w+ ){0,2}?(?:впал|упал|fell|падал)\w* (?:у |в |на |in |into |on )?"
      r"(?:the |an )?(?:поле|полі|полях|field\w*|open (?:area|ground|field)|відкрит\w* місцев\w*|открыт\w* местност\w*|"
      r"незаселен\w*|безлюдн\w*|неж[иы]л\w* (?:зон|місцев|местност)\w*)"),
     (("уламк", "обломк", "debris", "wreckage"), ("впал", "упал", "fell", "падал"),
      ("поле", "полі", "полях", "field", "open ", "відкрит", "открыт", "незаселен", "безлюдн", "нежил", "нежыл"))),
))
_NOT_A_HIT = compiled("|".join(rx.pattern for rx, _ in _NOT_A_HIT_PARTS))
# The fire or damage is said to have nothing to do with an attack.
_DENIAL = compiled(
    r"не пов'?язан\w* (?:з|із|зі) (?:\w+ ){0,2}?(?:обстріл|атак|удар|бойов|війн)\w*"
    r"|(?<!\w)(?:з|із|зі) (?:\w+ )?(?:обстріл|атак|удар|бойов)\w* (?:\w+ ){0,2}?не пов'?язан\w*"
    r"|(?<!\w)с (?:\w+ )?(?:обстрел|атак|удар|боев)\w* (?:\w+ ){0,2}?не связан\w*"
    r"|(?:shelling|attacks?|strikes?|hostilities) (?:\w+ ){0,2}?(?:is|was|were|are) not (?:related|linked|connected)"
    r"|не (?:є |було )?(?:наслідк\w*|внаслідок) (?:\w+ )?(?:обстріл|атак|удар)\w*"
    r"|не связан\w* с (?:\w+ ){0,2}?(?:обстрел|атак|удар|боев|войн)\w*"
    r"|не (?:является |было |стал\w* )?(?:следствием|последствием) (?:\w+ )?(?:обстрел|атак|удар)\w*"
    r"|not (?:related|linked|connected|due) to (?:the |any )?(?:\w+ )?(?:shelling|attack|strike|hostilities)\w*"
    r"|not (?:caused by|the result of|a result of) (?:the |an? )?(?:\w+ )?(?:shelling|attack|strike)\w*"
    r"|не залуча\w* (?:\w+ ){0,4}?(?:пожеж\w*|займан\w*) (?:\w+ ){0,3}?(?:обстріл|атак|удар)\w*"
    r"|не привлека\w* (?:\w+ ){0,4}?(?:пожар\w*|возгоран\w*) (?:\w+ ){0,3}?(?:обстрел|атак|удар)\w*"
    r"|(?:were|was) not (?:engaged|involved|deployed) (?:\w+ ){0,5}?(?:shelling|attacks?|strikes?)"
)

# Cues of another kind of post: ordinary emergencies, demining, drills, weather, memorials, advice,
# alerts, threats. Each counts only when it is the topic (see the module docstring).
_DENIAL_WORDS = ("not ",)
_DENIAL_AFTER_NE = ("пов", "связ", "є", "наслід", "внаслід", "було", "был", "явл", "след", "посл", "стал", "залуч",
                    "привлек")
_DEMINING = _rx(
    r"піротехнік\w*", r"пиротехник\w*", r"сапер\w*", r"розмін\w*", r"разминир\w*", r"демін\w*",
    r"deminer\w*", r"demining", r"вибухонебезпечн\w*", r"взрывоопасн\w*", r"unexploded", r"не розірвал\w*",
    r"не разорвал\w*", r"explosive objects", r"мінн\w* безпек\w*", r"мінн\w* небезпек\w*", r"протитанков\w*",
    r"old grenade",
    *(rf"{verb}\w*\s+(?:\w+\s+){{0,3}}?(?:снаряд|мін|міну|мину|боєприпас|grenade|shell|ordnance)\w*"
      for verb in ("знайш", "виявил", "нашел", "нашли", "found")),
    r"боєприпас\w*", r"времен второй мировой",
)
# Crews at the site or checking it: a demining word in such company is part of a strike report.
_AT_SITE = compiled(
    r"працю\w*|працювал\w*|залуч\w*|работа\w*|привлек\w*|working|at the (?:scene|site)|on site|"
    r"кінолог\w*|кинолог\w*|психолог\w*|рятувальник\w*|спасател\w*|rescuers|dog handlers|psychologists|"
    r"обстеж\w*|обстежув\w*|перевір\w*|обследова\w*|inspect\w*|check\w*|surveyed|"
    r"під час розмінуван\w*|во время разминирован\w*|while demining|для розмінуван\w*|для разминирован\w*|"
    r"під обстріл|под обстрел|came under fire"
)
_NEGATIVE: list[tuple[_Cue, float]] = [
    (_DEMINING, 4.0),
    (_rx(r"навчан\w*+(?<!дистанційне навчання)", r"учени\w*", r"exercises?\b", r"drills?\b", r"відпрацюва\w*",
         r"отрабатыва\w*", r"умовн\w*", r"simulat\w*+(?! drones?)"), 4.0),
    (_rx(r"синоптик\w*", r"гроз[аи]\w*", r"злив\w*", r"ливн\w*", r"шквал\w*", r"пожежн\w* небезпек\w*",
         r"пожарн\w* опасн\w*", r"fire danger", r"thunderstorm\w*", r"strong winds?", r"спек[аи]\w*",
         r"сильн\w* вітр\w*", r"сильн\w* ветр\w*", r"heatwave", r"підтоп\w*", r"паводк\w*", r"flood\w*"), 3.0),
    (_rx(r"попрощал\w*", r"похорон\w*", r"прощанн\w*", r"торік", r"минулого року", r"last year",
         r"річниц\w*", r"вшанува\w*", r"memorial", r"funeral"), 3.0),
    (_rx(r"дтп", r"зіткнул\w*", r"столкн\w*", r"collid\w*", r"road accident", r"car crash",
         r"потону\w*", r"утону\w*", r"drown\w*", r"водойм\w*", r"купатися", r"чадн\w*", r"угарн\w*",
         r"carbon monoxide", r"вибух\w* (?:побутового )?газу", r"газов\w* балон\w*", r"взрыв\w* газа",
         r"gas explosion", r"gas leak", r"коротке замикання", r"коротк\w* замыкан\w*", r"електропровод\w*",
         r"електропроводк\w*", r"необережн\w*", r"неосторожн\w*", r"несправн\w*", r"short circuit",
         r"причина (?:пожежі|пожара) встановлюється", r"спалювання", r"паління", r"блискавк\w*",
         r"молни\w*", r"lightning", r"тепловий удар", r"сонячний удар", r"heat stroke",
         r"заблука\w*", r"туристк?\w*"), 2.0),
    (_rx(r"прямуйте", r"залишайтеся в укритт\w*", r"будьте в укритт\w*", r"оставайтесь в укрыти\w*",
         r"спускайтесь в укрыти\w*", r"go to the nearest shelter", r"нагадує\w*", r"нагадуємо",
         r"напоминают", r"reminds?\b", r"не нехтуйте"), 1.5),
    (_rx(r"тривог\w*", r"тревог\w*", r"air raid", r"sirens?\b", r"у напрямку", r"в направлении",
         r"in the direction"), 1.0),
    # A threat or a possibility of an attack is not a hit, even when it names the target.
    (_rx(r"загроз\w*", r"угроз\w*", r"threat\w*",
         *(rf"{word}\w* (?:\w+ ){{0,2}}?(?:повторн\w* )?(?:удар|атак|обстр|застосуван|пуск|запуск|strike|attack)\w*"
           for word in ("можлив", "ймовірн", "возможн", "вероятн", "possible", "likely")),
         *(rf"{word}\s+(?:\w+\s+){{0,2}}?(?:атакува|атакова|вдари|ударит|нанест|завдат|запуст|обстрі|обстре|"
           r"attack|strike|hit|target|launch)\w*"
           for word in ("може", "можуть", "может", "могут", "may", "could", "might"))), 2.0),
]
_THRESHOLD = 2.5
# The weight of the negative cues from each one on.
_NEGATIVE_LEFT = [sum(w for _, w in _NEGATIVE[k:]) for k in range(len(_NEGATIVE))]

# Drones that were shot down, and what would still make them a weapon of the attack (debris that
# fell and damaged, a hit).
_DOWNED_WORDS = ("збил", "збит", "знищил", "знешкод", "сбил", "сбит", "уничтож", "перехоп", "перехват", "shot down",
                 "downed", "intercept", "destroyed")
# ...by their word-start keys: `_DOWNED` matches only at a word start, so the words of a key the
# text has no word start for are not looked for (most of them, in most posts).
_DOWNED_BY_KEY = {key: tuple(w for w in _DOWNED_WORDS if w.startswith(key))
                  for key in {w[:_KEY_LEN] for w in _DOWNED_WORDS}}
_DOWNED_KEYS = frozenset(_DOWNED_BY_KEY)
# (Only whether they match a sentence is asked: words at a word start, the look-behind after the
# first letter, `word_start_alternation`, so the scan skips in C to the letters that can open one.)
_DOWNED = compiled(word_start_alternation([
    "збил", "збит", "знищил", "знешкод", "сбил", "сбит", "уничтож", "перехопл", "перехопи", "перехват", "shot down",
    "downed", "intercepted", "destroyed"]))
_HIT_OF_DOWNED = compiled(word_start_alternation([
    "уламк", "обломк", "debris", "wreckage", "пошкодж", "поврежд", "damag", "влуч", "попал", r"hit\b", "зруйн", "разруш",
    "пожеж", "пожар", "fire", "загор", "загин", "погиб", "killed", "поранен", "ранен", "injur", "постражд", "пострада"],
    literal=False))
_BARE_DRONE = compiled(r"дрон\w*|drones?|безпілотн\w*|беспилотн\w*")


# The words of each tuple `_has` is asked of with `latin` false that hold no Latin letter (a
# Cyrillic post, most of them, holds none of the others), and the same of `_STRONG_LED`.
_CYRILLIC_ONLY = {words: tuple(w for w in words if not _has_latin(w)) for words in (
    _DENIAL_WORDS, _HEARD_WORDS, _NEGATION_WORDS, _FPV_WORDS, _UKR_ATTACKER_WORDS, _NOT_THERE_WORDS, *_STRONG_WORDS,
    _ONLY_HEARD_WORDS, _HEARD_VERBS, _NOBODY_STEMS, *(w for _, words in _NOT_A_HIT_PARTS for w in words))}
_STRONG_LED_CYRILLIC = tuple((piece, led) for piece, led in _STRONG_LED if not _has_latin(piece))


def classify(text: str) -> StrikeReading:
    """Decide whether `text` reports a Russian strike that hit Ukraine, and name its weapons.

    Weapons are reported only for strikes, sorted, from `analysis.model.WEAPONS`.
    """
    low = normalize(text)
    latin = _has_latin(low)  # (blanking and cutting `low` adds none)
    denied = (_has(low, _DENIAL_WORDS, latin) or _has_ne(low, _DENIAL_AFTER_NE)) and bool(_DENIAL.search(low))
    if denied:
        low = _DENIAL.sub(_spaces, low)
    told = low  # what did happen; positions kept
    if _has(told, _HEARD_WORDS, latin):
        if _has(told, _ONLY_HEARD_WORDS, latin) and _has(told, _HEARD_VERBS, latin):
            told = _ONLY_HEARD.sub(_spaces, told)
        if any(all(_has(told, w, latin) for w in words) and rx.search(told) for rx, words in _NOT_A_HIT_PARTS):
            told = _NOT_A_HIT.sub(_spaces, told)
    starts = _word_starts(low)
    # Blanking can cut a word, so a blanked text has word starts of its own.
    told_starts = starts if told is low else _word_starts(told)
    if ((_has(told, _NEGATION_WORDS, latin) or _has_ne(told, _NEGATION_AFTER_NE))
            and any(found := _denials(told, _NO_DAMAGE, not _NO_KEYS.isdisjoint(told_starts), latin))):
        told, cuts = _blanked(told, _NO_DAMAGE, found)
        if _has(told, _NOBODY_STEMS, latin):  # (every match of `_NO_HARM` holds one)
            told, more = _blanked(told, _NO_HARM, _denials(told, _NO_HARM, True, latin))
            cuts += more
        told_starts = told_starts | _starts_at(told, cuts)
    if not _HIT.found_in(told, told_starts):
        return StrikeReading(is_strike=False)  # no consequence: the weapons need not be read
    attack = _ATTACK.found_in(told, told_starts)
    strong = _strong(told, latin)
    fpv = _has(low, _FPV_WORDS, latin) and bool(_FPV.search(low))
    rest = _FPV.sub(_spaces, low) if fpv else low
    rest_starts = starts if rest is low else _word_starts(rest)
    weapons = {name for name, rx in _WEAPONS.items() if rx.found_in(rest, rest_starts)}
    if fpv:
        weapons.add("fpv")
    if "artillery" not in weapons and "mlrs" not in weapons and _SHELLS.found_in(rest, rest_starts):
        weapons.add("artillery")
    if "drone" in weapons and not _drones_used(text, rest, rest_starts, fpv):
        weapons.discard("drone")
    if not (attack or weapons or strong):
        return StrikeReading(is_strike=False)
    score = 1.0 + (1.5 if weapons else 0.0) + (1.0 if attack else 0.0) + (1.5 if strong else 0.0)
    if _ENEMY.found_in(low, starts):
        score += 1.0
    if denied:
        score -= 3.0
    if _has(low, _UKR_ATTACKER_WORDS, latin) and _UKR_ATTACKER.search(low):
        score -= 4.0
    if _OCCUPATION_VOICE.found_in(low, starts):
        score -= 3.0
    if _RUSSIA_PLACE.found_in(low, starts):
        score -= 2.0
    if score < _THRESHOLD:
        return StrikeReading(is_strike=False)  # negative cues could only lower it further
    cues = _negative_cues(low, starts, score - _THRESHOLD)
    if cues:
        first_end, lead_pair = _lead(text, told, told_starts, latin)
        score -= sum(w for rx, w in cues if _is_topic(rx, low, starts, first_end, lead_pair))
    if score < _THRESHOLD:
        return StrikeReading(is_strike=False)
    return StrikeReading(is_strike=True, weapons=tuple(sorted(weapons)))


def _denials(low: str, negated: tuple[re.Pattern[str], re.Pattern[str]], led: bool,
             latin: bool = True) -> list[re.Match[str] | None]:
    """The first match in `low` of each branch of a `_negated` (None: it matches nowhere); the first
    asked only when `low` holds a word its matches need, the second only when `led` (when a word
    of `_NO_WORDS` may be there). Most texts hold neither."""
    after = negated[0].search(low) if _has(low, _NOT_THERE_WORDS, latin) or _has_ne(low, _NOT_THERE_AFTER_NE) else None
    return [after, negated[1].search(low) if led else None]


def _blanked(low: str, branches: Sequence[re.Pattern[str]],
             found: list[re.Match[str] | None]) -> tuple[str, list[tuple[int, int]]]:
    """`low` with the matches of the alternation of `branches` as spaces, and their spans. They are
    found with the branches' own scans (`found`: the first match of each, None where there is
    none), as the alternation finds them: the leftmost wins, the earlier branch on a tie, and the
    scan goes on after it."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    while any(found):
        k = min((m.start(), k) for k, m in enumerate(found) if m is not None)[1]
        start, end = found[k].span()  # type: ignore[union-attr]
        out += (low[pos:start], " " * (end - start))
        spans.append((start, end))
        pos = end
        # A branch's next match from here is the one found, unless that one began before here.
        found = [m if m is None or m.start() >= pos else rx.search(low, pos) for m, rx in zip(found, branches)]
    out.append(low[pos:])
    return "".join(out), spans


def _starts_at(told: str, cuts: list[tuple[int, int]]) -> set[str]:
    """The word starts that blanking `cuts` can have given `told` (`_word_starts` keys): a word
    after a cut (it may have been the end of one), and one before a cut shortened below
    `_KEY_LEN` letters (it may have been the start of one). Every other word of `told` was a
    word of the text before, and its key is that text's."""
    keys: set[str] = set()
    for start, end in cuts:
        after = _WORD_START.match(told, end)
        if after:
            keys.add(after.group(1))
        before = _SHORT_TAIL.search(told, max(0, start - _KEY_LEN), start)
        if before:
            keys.add(before.group())
    return keys


def _negative_cues(low: str, starts: set[str], margin: float) -> list[tuple[_Cue, float]]:
    """The negative cues in `low` when together they outweigh `margin`, else none.

    The heaviest are asked first; once those still unasked could not tip the balance, the rest
    are not scanned (on a strike report, most of them).
    """
    cues: list[tuple[_Cue, float]] = []
    found = 0.0
    for k, (rx, weight) in enumerate(_NEGATIVE):
        if found + _NEGATIVE_LEFT[k] <= margin:
            return []
        if rx.found_in(low, starts):
            cues.append((rx, weight))
            found += weight
    return cues if found > margin else []


def _drones_used(text: str, rest: str, rest_starts: set[str], fpv: bool) -> bool:
    """Whether the drones named were used in the attack, not only shot down or the FPV said again.

    Drones that air defence shot down, in a sentence that reports no hit, are not a weapon of the
    attack; after "FPV-дрон" one bare "дрон / drone" is that FPV drone.
    """
    found = list(_WEAPONS["drone"].finditer(rest, rest_starts))
    # (A text where `_DOWNED` cannot match reads as one with none of the words.)
    downed = any(_has(rest, _DOWNED_BY_KEY[k]) for k in _DOWNED_KEYS.intersection(rest_starts))
    if not (downed or fpv):
        return bool(found)
    spans = sentence_spans(text if len(text) == len(rest) else rest)

    starts = [a for a, _, _ in spans]

    def sentence(m: re.Match[str]) -> str:
        i = bisect_right(starts, m.start()) - 1
        return rest[spans[i][0]:spans[i][1]] if i >= 0 else rest

    if downed:
        found = [m for m in found if not (_DOWNED.search(s := sentence(m)) and not _HIT_OF_DOWNED.search(s))]
    if fpv:
        # Bare drones in sentences of the attack ("одного з дронів влучив"), not of advice.
        bare = [m for m in found if _BARE_DRONE.fullmatch(m.group(0))]
        told = [m for m in bare if _ATTACK.found_in(s := sentence(m), rest_starts) or _HIT.found_in(s, rest_starts)]
        if len(found) == len(bare) and len(told) <= 1:
            return False
    return bool(found)


def _has(low: str, words: tuple[str, ...], latin: bool = True) -> bool:
    # Substring tests before a regex scan: a word alternation costs many times more. A text with
    # no Latin letter (`latin` false) is not searched for the words holding one.
    for w in words if latin else _CYRILLIC_ONLY[words]:
        if w in low:
            return True
    return False


def _has_ne(low: str, after: tuple[str, ...]) -> bool:
    """Whether `low` holds "не " followed by one of `after`: `_has` of each "не …", asked at the
    few places "не " stands (each substring test scans the whole text)."""
    i = low.find("не ")
    while i >= 0:
        if low.startswith(after, i + 3):
            return True
        i = low.find("не ", i + 3)
    return False


def _lead(text: str, told: str, starts: set[str], latin: bool = True) -> tuple[int, bool]:
    """Where the first sentence ends, and whether the first three report an attack and a hit
    (`starts`: `told`'s word starts, which the lead's are among)."""
    # Sentences are cut on the original text (capitals open them); positions agree with `told`.
    spans = sentence_spans(text if len(text) == len(told) else told)
    if not spans:
        return len(told), False
    lead = told[:spans[min(2, len(spans) - 1)][1]]
    pair = _HIT.found_in(lead, starts) and bool(_ATTACK.found_in(lead, starts) or _strong(lead, latin)
                                                    or (_has(lead, _FPV_WORDS, latin) and _FPV.search(lead))
                                                    or any(rx.found_in(lead, starts) for rx in _WEAPONS.values()))
    return spans[0][1], pair


def _spaces(m: re.Match[str]) -> str:
    return " " * (m.end() - m.start())


def _is_topic(rx: _Cue, low: str, starts: set[str], first_end: int, lead_pair: bool) -> bool:
    """A negative cue is the topic when it opens the post or the lead reports no hit of its own."""
    for m in rx.finditer(low, starts):
        if rx is _DEMINING and _AT_SITE.search(low, max(0, m.start() - 80), m.end() + 60):
            continue  # sappers working at the site, checking the area: part of the report
        if m.start() < first_end or not lead_pair:
            return True
    return False
