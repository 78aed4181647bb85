"""Pages and feeds from the package's Jinja2 templates, in Ukrainian and English."""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from analysis.labels import weapon_label
from dsns.timezone import kyiv_time
from research.site.model import StoryView, oblast_name, place_name
from storage.timeutil import from_db

__all__ = ["LABELS", "environment", "render", "story_summary"]

LABELS: dict[str, dict[str, str]] = {
    "uk": {
        "site": "Удари по Україні: звіти ДСНС",
        "other_lang": "English",
        "map_week": "Удари за останні 7 днів",
        "map_note": "Карта доповнює список нижче; без JavaScript працює список.",
        "latest": "Останні удари",
        "oblasts": "Області",
        "per_day": "Удари за день, останні 30 днів",
        "hromadas": "Громади з найбільшою кількістю ударів (30 днів)",
        "killed": "Загинули",
        "injured": "Поранені",
        "children": "з них діти",
        "weapons": "Чим",
        "places": "Місця",
        "posts": "Повідомлення",
        "source": "Джерело",
        "deleted": "видалено джерелом",
        "at": "о",
        "none": "немає даних",
        "coverage": "Джерела",
        "coverage_title": "Стан джерел",
        "state": "Стан",
        "last_post": "Останній допис",
        "last_check": "Остання перевірка",
        "ok": "працює",
        "failing": "помилки",
        "stale": "мовчить довше звичайного",
        "unchecked": "ще не перевірено",
        "open_data": "Відкриті дані",
        "feed": "Atom-стрічка",
        "licence": "Дані поширюються за ліцензією",
        "attribution": "Повідомлення: ДСНС України та видання, названі в кожній події; зібрано dsns-monitor. "
                       "Місця: КАТОТТГ; © учасники OpenStreetMap (ODbL); OCHA COD-AB (CC BY-IGO).",
        "strikes": "ударів",
        "photo": "Фото з допису",
        "all_ukraine": "Уся Україна",
        "stories_30": "Удари за 30 днів",
        "time": "Час (за Києвом)",
        "no_stories": "Немає ударів.",
    },
    "en": {
        "site": "Strikes on Ukraine: DSNS reports",
        "other_lang": "Українською",
        "map_week": "Strikes in the last 7 days",
        "map_note": "The map adds to the list below; without JavaScript the list works.",
        "latest": "Latest strikes",
        "oblasts": "Oblasts",
        "per_day": "Strikes per day, last 30 days",
        "hromadas": "Hromadas with the most strikes (30 days)",
        "killed": "Killed",
        "injured": "Injured",
        "children": "children",
        "weapons": "Weapons",
        "places": "Places",
        "posts": "Reports",
        "source": "Source",
        "deleted": "deleted by the source",
        "at": "at",
        "none": "not stated",
        "coverage": "Sources",
        "coverage_title": "Sources and their state",
        "state": "State",
        "last_post": "Last post",
        "last_check": "Last check",
        "ok": "working",
        "failing": "failing",
        "stale": "silent for longer than usual",
        "unchecked": "not checked yet",
        "open_data": "Open data",
        "feed": "Atom feed",
        "licence": "The data is offered under",
        "attribution": "Reports: the State Emergency Service of Ukraine (DSNS) and the outlets named in each "
                       "event; compiled by dsns-monitor. Places: KATOTTH; © OpenStreetMap contributors (ODbL); "
                       "OCHA COD-AB (CC BY-IGO).",
        "strikes": "strikes",
        "photo": "Photo from the report",
        "all_ukraine": "All of Ukraine",
        "stories_30": "Strikes in 30 days",
        "time": "Time (Kyiv)",
        "no_stories": "No strikes.",
    },
}


def _kyiv(value: str | None) -> str:
    moment = from_db(value)
    return kyiv_time(moment) if moment else ""


@cache
def environment() -> jinja2.Environment:
    """The templates' environment: HTML and XML autoescaped, undefined names an error."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("research.site", "templates"),
        autoescape=jinja2.select_autoescape(["html", "xml", "atom"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["kyiv"] = _kyiv
    # Map data in UTF-8, not \u escapes: a Cyrillic title takes a third of the bytes.
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "separators": (",", ":")}
    env.globals.update(weapon_label=weapon_label, oblast_name=oblast_name, place_name=place_name)
    return env


def render(template: str, lang: str, **context: Any) -> bytes:
    """One page or feed in `lang`, as UTF-8."""
    return environment().get_template(template).render(lang=lang, t=LABELS[lang], **context).encode("utf-8")


def story_summary(story: StoryView, lang: str) -> str:
    """A line of figures and weapons for feeds: "Загинули: 3. Поранені: 5. Чим: ракети."""
    t = LABELS[lang]
    parts = []
    for name in ("killed", "injured"):
        value = getattr(story, name)
        if value is not None:
            parts.append(f"{t[name]}: {value}.")
    if story.weapons:
        parts.append(f"{t['weapons']}: {', '.join(weapon_label(w, lang) for w in story.weapons)}.")
    return " ".join(parts + [story.excerpt])
