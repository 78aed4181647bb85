"""Is a post a report of a Russian strike that hit a place in Ukraine, and with what weapons.

A weighted-cue classifier over precompiled stem patterns (Ukrainian, Russian, English). A post is a
strike when it names an attack (a weapon or an attack verb) *and* a consequence (damage, fire,
casualties, a hit), and the positive evidence outweighs the cues of ordinary emergencies, demining,
drills, weather, alerts and of Ukrainian strikes on Russia. Stem patterns rather than lemmatisation:
the cue words are few and their inflections regular, and the classifier must run at thousands of
posts per second.
"""

from __future__ import annotations

import re

from analysis.model import StrikeReading

__all__ = ["classify", "normalize"]

_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "`": "'", "‘": "'", "ё": "е", "Ё": "Е"})


def normalize(text: str) -> str:
    """Lower-case and unify apostrophes and ё, so one pattern covers every spelling."""
    return text.translate(_APOSTROPHES).lower()


def _rx(*parts: str) -> re.Pattern[str]:
    # One lookbehind for the whole alternation (one per branch is ten times slower): stems must
    # begin a word, but may end anywhere.
    return re.compile("(?<![\\w-])(?:" + "|".join(parts) + ")")


# FPV is matched (and removed) before the generic drone patterns so "FPV-дрон" is fpv only.
_FPV = re.compile(r"(?<!\w)(?:fpv|фпв)(?:[\s-]*(?:дрон\w*|drone\w*|безпілотн\w*|беспилотн\w*|камікадзе))?")
_WEAPONS: dict[str, re.Pattern[str]] = {
    "missile": _rx(
        r"ракет\w*", r"ракетно\w*", r"балісти\w*", r"баллисти\w*", r"іскандер\w*", r"искандер\w*",
        r"кинджал\w*", r"кинжал\w*", r"х-\d+\w*", r"с-[34]00", r"калібр\w*(?=\s*»)", r"«калібр",
        r"«калибр", r"missile\w*", r"ballistic", r"iskander\w*", r"kinzhal\w*", r"kalibr\w*",
        r"rockets?(?!\s+launcher)",
    ),
    "drone": _rx(
        r"дрон\w*", r"безпілотн\w*", r"беспилотн\w*", r"бпла", r"бплa", r"шахед\w*", r"шахід\w*",
        r"геран\w*", r"ланцет\w*", r"drones?", r"uavs?", r"shaheds?", r"geran\w*", r"lancet\w*",
        r"\w+-дронов\w*",
    ),
    "artillery": _rx(
        r"артилер\w*", r"артилл\w*", r"артобстр\w*", r"мінометн?\w*", r"миномет\w*", r"ствольн\w*",
        r"гаубиц\w*", r"гармат\w*", r"artillery", r"mortars?", r"shell(?:ing|ed|s)?\b", r"howitzer\w*",
    ),
    "mlrs": _rx(
        r"рсзв", r"mlrs", r"«\s*(?:град|ураган|смерч|торнадо)\w*", r"градів", r"градами",
        r"(?:multiple )?rocket launchers?", r"реактивн\w* систем\w* залпов\w*", r"залпов\w* огн\w*",
        r"grads?\b(?= (?:rocket|mlrs|multiple))",
    ),
    "guided_bomb": _rx(
        r"каб(?:и|ами|ів|ом|у|а|ах)?\b", r"авіабомб\w*", r"авиабомб\w*", r"авіаційн\w* бомб\w*",
        r"керован\w* (?:авіа)?бомб\w*", r"управляем\w* (?:авиа)?бомб\w*", r"фаб-?\d*", r"умпк",
        r"glide bombs?", r"guided (?:aerial )?bombs?", r"aerial bombs?", r"авіаудар\w*",
    ),
}

# An attack happened (verbs and nouns of attacking, falling debris, downed targets).
_ATTACK = _rx(
    r"атак\w*", r"атаку\w*", r"атакува\w*", r"удар\w*", r"вдари\w*", r"вдарил\w*", r"обстр\w*",
    r"влуч\w*", r"скину\w*", r"скинул\w*", r"били\b", r"бив\b", r"уламк\w*", r"прил[еі]т\w*",
    r"поціли\w*", r"нанес\w* удар", r"обломк\w*", r"попадани\w*", r"сбит\w*", r"збит\w*",
    r"attack\w*", r"strikes?\b", r"struck", r"hit\b", r"hits\b", r"shell(?:ing|ed)", r"pound\w*",
    r"debris", r"bombard\w*",
)
_ENEMY = _rx(
    r"ворог\w*", r"ворож\w*", r"росі\w*", r"російськ\w*", r"рф\b", r"окупант\w*", r"оккупант\w*",
    r"россий\w*", r"росси\w*", r"враг\w*", r"вражеск\w*", r"russian?\b", r"russia's",
    r"армі\w* рф", r"росіян\w*", r"рашист\w*",
    # Shelling of a Ukrainian place is Russian in this domain; the Ukrainian-attacker and
    # Russian-place cues below catch the reverse.
    r"обстріл\w*", r"обстріля\w*", r"обстрел\w*", r"shelling", r"shelled",
)
# A consequence on the ground: damage, fire, casualties, a recorded hit.
_HIT = _rx(
    r"пошкодж\w*", r"зруйнов\w*", r"знищен\w*", r"загоря\w*", r"загоран\w*", r"пожеж\w*",
    r"загин\w*", r"загибл\w*", r"поранен\w*", r"травм\w*", r"постражд\w*", r"госпіталіз\w*",
    r"жертв\w*", r"завал\w*", r"влуча\w*", r"влучи\w*", r"уламк\w*", r"зайнял\w*", r"деблок\w*",
    r"вибух\w*", r"повреж\w*", r"разруш\w*", r"погиб\w*", r"ранен\w*", r"пострада\w*", r"пожар\w*",
    r"возгоран\w*", r"обломк\w*", r"загорел\w*", r"взрыв\w*", r"damag\w*", r"destroy\w*",
    r"kill\w*", r"injur\w*", r"wound\w*", r"dead\b", r"death toll", r"fires?\b", r"blaze",
    r"hospitali[sz]\w*", r"casualt\w*", r"debris", r"hits were", r"hit\b", r"struck", r"outages?",
    r"no one was hurt", r"rubble", r"наслідк\w*", r"знеструм\w*", r"без світла",
    # The target of an attack on the grid is itself the hit ("атакував енергетичну інфраструктуру").
    r"інфраструктур\w*", r"инфраструктур\w*", r"infrastructure", r"енергетичн\w*", r"энергетич\w*",
    r"energy (?:grid|facilit\w*)", r"without power", r"без электричества",
)
# Phrases that on their own say "this is the aftermath of an attack".
_STRONG = re.compile(
    r"(?:внаслідок|унаслідок|через|після|в результаті|в результате|вследствие|после|following)\s+(?:\w+\s+){0,2}?"
    r"(?:атак\w*|удар\w*|обстр\w*|влучан\w*|падіння уламк\w*|падения обломк\w*|прил[еі]т\w*)"
    r"|наслідк\w* (?:\w+\s+)?(?:атак\w*|удар\w*|обстр\w*)"
    r"|масован\w* атак\w*|массированн\w* атак\w*|massive attack|під ударом|под ударом"
    r"|(?:russian|russia's) (?:\w+\s+)?(?:attack|strike|shelling)\w*"
)

# Ukrainian forces as the attacker, Russian places as the target, occupation officials as the voice.
_UKR_ATTACKER = re.compile(
    r"(?<!\w)(?:зсу|всу|сили оборони|силы обороны|сбу)\s+(?:\w+\s+){0,2}?"
    r"(?:урази\w*|вразил\w*|атакува\w*|атаковал\w*|нанесл\w*|обстрілял\w*|обстрелял\w*|знищил\w*|удари\w*)"
    r"|українськ\w* (?:\w+\s+)?(?:дрон\w*|безпілотн\w*|ракет\w*|удар\w*|обстріл\w*|атак\w*)"
    r"|украинск\w* (?:\w+\s+)?(?:дрон\w*|беспилотн\w*|ракет\w*|удар\w*|обстрел\w*|атак\w*)"
    r"|ukrainian (?:\w+\s+)?(?:drones?|missiles?|shelling|strikes?|attacks?|forces (?:hit|struck|attacked))"
    r"|ukraine (?:says it |said it )?(?:struck|hit|attacked)"
)
_RUSSIA_PLACE = _rx(
    r"бєлгород\w*", r"белгород\w*", r"belgorod", r"курськ\w*", r"курск\w*", r"kursk", r"брянськ\w*",
    r"брянск\w*", r"bryansk", r"саратов\w*", r"saratov", r"шебекин\w*", r"рильськ\w*", r"рыльск\w*",
    r"воронеж\w*", r"ростов\w*", r"москв\w*", r"moscow",
)
_OCCUPATION_VOICE = _rx(
    r"окупаційн\w* влад\w*", r"оккупационн\w* власт\w*", r"russian-installed", r"минобороны рф",
    r"міноборони рф", r"russian defen[cs]e ministry", r"russia claims", r"россия заявил\w*",
)
# Ordinary emergencies, demining, drills, weather, advice, alerts, memorials.
_NEGATIVE: list[tuple[re.Pattern[str], float]] = [
    (_rx(r"піротехнік\w*", r"пиротехник\w*", r"сапер\w*", r"розмін\w*", r"разминир\w*", r"демін\w*",
         r"deminer\w*", r"demining", r"вибухонебезпечн\w*", r"взрывоопасн\w*", r"unexploded", r"не розірвал\w*", r"не разорвал\w*", r"explosive objects",
         r"мінн\w* безпек\w*", r"мінн\w* небезпек\w*", r"протитанков\w*", r"old grenade",
         r"(?:знайш|виявил|нашел|нашли|found)\w*\s+(?:\w+\s+){0,3}?(?:снаряд|мін|міну|мину|боєприпас|grenade|shell|ordnance)\w*",
         r"боєприпас\w*", r"времен второй мировой"), 4.0),
    (_rx(r"навчан\w*", r"учени\w*", r"exercises?\b", r"drills?\b", r"відпрацюва\w*", r"отрабатыва\w*",
         r"умовн\w*", r"simulat\w*"), 4.0),
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
    # A threat or a possibility is not a hit, even when it names the target.
    (_rx(r"загроз\w*", r"угроз\w*", r"threat\w*", r"можлив\w*", r"ймовірн\w*", r"возможн\w*",
         r"може\b", r"можуть", r"может\b", r"могут", r"may\b", r"could\b"), 2.0),
]
_THRESHOLD = 2.5


def classify(text: str) -> StrikeReading:
    """Decide whether `text` reports a Russian strike that hit Ukraine, and name its weapons.

    Weapons are reported only for strikes, sorted, from `analysis.model.WEAPONS`.
    """
    low = normalize(text)
    fpv = bool(_FPV.search(low))
    rest = _FPV.sub(" ", low) if fpv else low
    weapons = {name for name, rx in _WEAPONS.items() if rx.search(rest)}
    if fpv:
        weapons.add("fpv")
    attack = bool(_ATTACK.search(low))
    strong = bool(_STRONG.search(low))
    hit = bool(_HIT.search(low))
    if not (hit and (attack or weapons or strong)):
        return StrikeReading(is_strike=False)
    score = 1.0 + (1.5 if weapons else 0.0) + (1.0 if attack else 0.0) + (1.5 if strong else 0.0)
    if _ENEMY.search(low):
        score += 1.0
    if _UKR_ATTACKER.search(low):
        score -= 4.0
    if _OCCUPATION_VOICE.search(low):
        score -= 3.0
    if _RUSSIA_PLACE.search(low):
        score -= 2.0
    for rx, weight in _NEGATIVE:
        if rx.search(low):
            score -= weight
    if score < _THRESHOLD:
        return StrikeReading(is_strike=False)
    return StrikeReading(is_strike=True, weapons=tuple(sorted(weapons)))
