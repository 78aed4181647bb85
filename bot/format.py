"""The text of a strike alert, in Telegram's HTML parse mode.

Everything that comes from a post (places, names, the excerpt, the URL) is escaped here and
nowhere else. Telegram counts its limits (4096 for a message, 1024 for a caption) in UTF-16
code units of the text *after* entity parsing, so we measure exactly that: our own tags
stripped, entities decoded. Only the excerpt is shortened to fit, and it is cut before
escaping, so a cut can never land inside an entity or a tag.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from analysis.labels import weapon_label
from analysis.places import place_name
from dsns.timezone import KYIV, kyiv_time

__all__ = [
    "AlertContent",
    "FormattedAlert",
    "format_alert",
    "update_note",
    "weapon_label",
    "place_names",
    "kyiv_time",
    "utf16_len",
    "visible_len",
    "KYIV",
    "TEXT_LIMIT",
    "CAPTION_LIMIT",
]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
_MAX_PLACES = 10
_MAX_TITLE_OBLASTS = 3
_FIELD_CAP = 100  # a single place or name never takes more than this many characters
_ELLIPSIS = "…"

_LABELS: dict[str, dict[str, str]] = {
    "uk": {
        "strike": "Удар",
        "places": "Місце",
        "more": "та ще {n}",
        "weapons": "Чим",
        "killed": "Загинули",
        "injured": "Поранені",
        "children": "з них діти: {n}",
        "children_only_killed": "Загинули діти",
        "children_only_injured": "Поранені діти",
        "time": "Час",
        "tz": "за Києвом",
        "source": "Джерело",
        "updated": "Оновлено {time}",
        "killed_now": "загинули {n}",
        "injured_now": "поранені {n}",
        "was": "було {n}",
        "details": "нові подробиці",
    },
    "en": {
        "strike": "Strike",
        "places": "Place",
        "more": "and {n} more",
        "weapons": "Weapons",
        "killed": "Killed",
        "injured": "Injured",
        "children": "children: {n}",
        "children_only_killed": "Children killed",
        "children_only_injured": "Children injured",
        "time": "Time",
        "tz": "Kyiv time",
        "source": "Source",
        "updated": "Updated {time}",
        "killed_now": "killed {n}",
        "injured_now": "injured {n}",
        "was": "was {n}",
        "details": "new details",
    },
}

_TAG = re.compile(r"<[^>]*>")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")


@dataclass(frozen=True, kw_only=True, slots=True)
class AlertContent:
    """What an alert says, in plain (unescaped) text; `weapons` are analysis codes."""

    published_at: datetime
    source_url: str
    source_name: str
    excerpt: str
    places: list[str] = field(default_factory=list)
    oblasts: list[str] = field(default_factory=list)
    weapons: list[str] = field(default_factory=list)
    killed: int | None = None
    injured: int | None = None
    children_killed: int | None = None
    children_injured: int | None = None
    has_photo: bool = False
    # "Оновлено 11:05: загинули 3 (було 1)" on an update (`update_note`), None on a first alert
    update: str | None = None


@dataclass(frozen=True, slots=True)
class FormattedAlert:
    """HTML `text` for sendMessage (≤ 4096) and, when there is a photo, its `caption` (≤ 1024)."""

    text: str
    caption: str | None


def place_names(names: list[str], lang: str) -> list[str]:
    """Places as the reader spells them: the official Latin spelling in English ("Куп’янськ" → "Kupiansk")."""
    return [place_name(n, lang) for n in names]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's limits (emoji and rare CJK count 2)."""
    return len(text.encode("utf-16-le")) // 2


def visible_len(markup: str) -> int:
    """UTF-16 length of HTML markup after entity parsing: tags dropped, entities decoded."""
    return utf16_len(html.unescape(_TAG.sub("", markup)))


def format_alert(alert: AlertContent, *, lang: str = "uk") -> FormattedAlert:
    """Render `alert` for Telegram: a text ≤ 4096 and, if `alert.has_photo`, a caption ≤ 1024."""
    lang = lang if lang in _LABELS else "uk"
    text = _fit(alert, lang, TEXT_LIMIT)
    caption = _fit(alert, lang, CAPTION_LIMIT) if alert.has_photo else None
    return FormattedAlert(text=text, caption=caption)


def _fit(alert: AlertContent, lang: str, limit: int) -> str:
    excerpt = _BLANK_LINES.sub("\n\n", alert.excerpt.strip())
    # fewer places when the header alone would not fit (a caption listing dozens of villages)
    for max_places in (_MAX_PLACES, 3, 1):
        head, tail = _frame(alert, lang, max_places)
        room = limit - visible_len(head) - visible_len(tail) - 4  # the two "\n\n" around it
        if room >= 0:
            break
    body = _truncate(excerpt, room)
    if not body:
        return f"{head}\n\n{tail}"
    return f"{head}\n\n<blockquote>{_esc(body)}</blockquote>\n\n{tail}"


def _truncate(text: str, room: int) -> str:
    """`text` cut to at most `room` UTF-16 units, at a word boundary if one is near, plus "…"."""
    if utf16_len(text) <= room:
        return text
    if room <= 1:
        return ""
    budget = room - 1  # the ellipsis
    used = 0
    cut = 0
    for i, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > budget:
            break
        cut = i + 1
    head = text[:cut]
    space = max(head.rfind(" "), head.rfind("\n"))
    if space >= cut - 40 and space > 0:
        head = head[:space]
    return head.rstrip(" ,.;:—-\n") + _ELLIPSIS


def _frame(alert: AlertContent, lang: str, max_places: int) -> tuple[str, str]:
    """(header lines, source line) as HTML; every value from the post escaped."""
    t = _LABELS[lang]
    oblasts = _dedup(alert.oblasts)
    title = t["strike"]
    if oblasts:
        shown = ", ".join(_clip(o) for o in oblasts[:_MAX_TITLE_OBLASTS])
        extra = len(oblasts) - _MAX_TITLE_OBLASTS
        title += ": " + shown + (f" +{extra}" if extra > 0 else "")
    lines = [f"🚨 <b>{_esc(title)}</b>"]
    if alert.update:
        lines.append(f"🔄 <i>{_esc(alert.update)}</i>")

    places = _dedup(place_names(alert.places, lang))
    if places:
        shown = ", ".join(_clip(p) for p in places[:max_places])
        if len(places) > max_places:
            shown += " " + t["more"].format(n=len(places) - max_places)
        lines.append(f"📍 {t['places']}: {_esc(shown)}")

    weapons = _dedup(alert.weapons)
    if weapons:
        names = ", ".join(_clip(weapon_label(w, lang)) for w in weapons)
        lines.append(f"💥 {t['weapons']}: {_esc(names)}")

    lines += _casualty_lines(alert, t)
    lines.append(f"🕒 {t['time']}: {kyiv_time(alert.published_at)} ({t['tz']})")
    head = "\n".join(lines)

    name = _esc(_clip(alert.source_name.strip() or alert.source_url))
    url = alert.source_url.strip()
    if url.lower().startswith(("https://", "http://")):
        tail = f'🔗 {t["source"]}: <a href="{html.escape(url, quote=True)}">{name}</a>'
    else:
        tail = f"🔗 {t['source']}: {name}"
    return head, tail


def _casualty_lines(alert: AlertContent, t: dict[str, str]) -> list[str]:
    lines = []
    for emoji, total, children, key in (
        ("🕯", alert.killed, alert.children_killed, "killed"),
        ("🩹", alert.injured, alert.children_injured, "injured"),
    ):
        if total is not None:
            line = f"{emoji} {t[key]}: {int(total)}"
            if children:
                line += f" ({t['children'].format(n=int(children))})"
            lines.append(line)
        elif children:
            lines.append(f"{emoji} {t['children_only_' + key]}: {int(children)}")
    return lines


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _FIELD_CAP else text[: _FIELD_CAP - 1] + _ELLIPSIS


def _dedup(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        item = item.strip()
        if item:
            seen.setdefault(item, None)
    return list(seen)


def update_note(
    lang: str, at: datetime, before: tuple[int | None, int | None], now: tuple[int | None, int | None]
) -> str:
    """What changed and when, in plain text: "Оновлено 11:05: загинули 3 (було 1)"; a change of
    anything but the figures (places, weapons) is "нові подробиці"."""
    t = _LABELS[lang if lang in _LABELS else "uk"]
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    changes = []
    for key, was, is_ in (("killed_now", before[0], now[0]), ("injured_now", before[1], now[1])):
        if is_ is not None and is_ != was:
            change = t[key].format(n=is_)
            changes.append(change + (f" ({t['was'].format(n=was)})" if was is not None else ""))
    head = t["updated"].format(time=at.astimezone(KYIV).strftime("%H:%M"))
    return f"{head}: {', '.join(changes) or t['details']}"
