"""Weapon codes as readers read them, one table for the bot's alerts and the research site."""

from __future__ import annotations

__all__ = ["weapon_label"]

_WEAPONS: dict[str, dict[str, str]] = {
    "missile": {"uk": "ракети", "en": "missiles"},
    "drone": {"uk": "дрони", "en": "drones"},
    "fpv": {"uk": "FPV-дрони", "en": "FPV drones"},
    "guided_bomb": {"uk": "КАБи", "en": "guided bombs"},
    "artillery": {"uk": "артилерія", "en": "artillery"},
    "mlrs": {"uk": "РСЗВ", "en": "MLRS"},
}


def weapon_label(code: str, lang: str = "uk") -> str:
    """The human name of a weapon code ("missile" → "ракети"); an unknown code is returned as is."""
    names = _WEAPONS.get(code)
    if names is None:
        return code
    return names.get(lang) or names["uk"]
