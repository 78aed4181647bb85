"""The morning digest: every story held overnight for a chat, one line each, latest figures
(and, for a story the chat had an alert of, what changed since)."""

from __future__ import annotations

import html

from bot.format import KYIV, TEXT_LIMIT, AlertContent, place_names, visible_len, weapon_label

__all__ = ["digest_text"]

_TEXTS = {
    "uk": {"title": "🌅 <b>Зведення за ніч</b> ({count})", "killed": "загинули {n}", "injured": "поранені {n}",
           "more": "…та ще {n}", "source": "джерело"},
    "en": {"title": "🌅 <b>Overnight summary</b> ({count})", "killed": "killed {n}", "injured": "injured {n}",
           "more": "…and {n} more", "source": "source"},
}
_MAX_PLACES = 3


def _line(alert: AlertContent, t: dict[str, str], lang: str) -> str:
    where = ", ".join(place_names(alert.places[:_MAX_PLACES], lang)) or ", ".join(alert.oblasts)
    parts = [alert.published_at.astimezone(KYIV).strftime("%H:%M"), html.escape(where)]
    if alert.weapons:
        parts.append(html.escape(", ".join(weapon_label(w, lang) for w in alert.weapons)))
    if alert.killed:
        parts.append(t["killed"].format(n=alert.killed))
    if alert.injured:
        parts.append(t["injured"].format(n=alert.injured))
    if alert.update:  # a story the chat had an alert of: what changed since
        parts.append("🔄 " + html.escape(alert.update))
    line = " · ".join(p for p in parts if p)
    if alert.source_url.startswith(("https://", "http://")):
        line += f' · <a href="{html.escape(alert.source_url, quote=True)}">{t["source"]}</a>'
    return "• " + line


def digest_text(alerts: list[AlertContent], lang: str) -> str:
    """HTML within Telegram's 4096 characters: as many stories as fit, then how many more."""
    t = _TEXTS.get(lang, _TEXTS["uk"])
    text = t["title"].format(count=len(alerts))
    for shown, alert in enumerate(alerts):
        line = _line(alert, t, lang)
        more = "\n" + t["more"].format(n=len(alerts) - shown)
        if visible_len(text + "\n" + line) + visible_len(more) > TEXT_LIMIT:
            return text + more
        text += "\n" + line
    return text
