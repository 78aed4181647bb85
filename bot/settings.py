"""Quiet nights and the morning digest: /quiet, /digest, /settings and their buttons.

    /quiet 23-07       alerts from 23:00 to 07:00 (Kyiv time) arrive without sound
    /quiet off
    /digest 08:00      instead of the night's alerts, one message at 08:00 with all of them
    /digest off
    /settings          all of it, with buttons (also what breaks through the quiet window)
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import aiosqlite

from bot.commands import Answer, Reply
from storage.chat_settings import ChatSettings, get_settings, save_settings

__all__ = ["SETTINGS_COMMANDS", "settings_callback"]

_TEXTS: dict[str, dict[str, str]] = {
    "uk": {
        "quiet_usage": (
            "Вкажіть години тиші за Києвом: <code>/quiet 23-07</code> (або <code>/quiet 22:30-06:45</code>). "
            "Сповіщення в ці години надходитимуть без звуку. <code>/quiet off</code> — вимкнути."
        ),
        "digest_usage": (
            "Вкажіть час ранкового зведення за Києвом: <code>/digest 08:00</code>. Замість нічних сповіщень "
            "надішлю одне повідомлення з усіма подіями ночі. <code>/digest off</code> — вимкнути."
        ),
        "quiet_set": "Тиша з {start} до {end} (за Києвом): сповіщення надходитимуть без звуку.{breaks}",
        "breaks_both": (
            " Зі звуком і в ці години — удар у вашому населеному пункті чи громаді або із загиблими "
            "(змінити: /settings)."
        ),
        "breaks_local": " Зі звуком і в ці години — удар у вашому населеному пункті чи громаді (змінити: /settings).",
        "breaks_killed": " Зі звуком і в ці години — удар, де є загиблі (змінити: /settings).",
        "breaks_none": " Без винятків (змінити: /settings).",
        "quiet_off": "Години тиші вимкнено: усі сповіщення зі звуком.",
        "quiet_off_digest": "Години тиші й ранкове зведення вимкнено: усі сповіщення зі звуком, одразу.",
        "digest_set": (
            "Ранкове зведення о {at} (за Києвом): сповіщення з {start} до {end} зберу в одне повідомлення; "
            "ті, що лунають попри тишу (/settings), надійдуть одразу."
        ),
        "digest_off": "Ранкове зведення вимкнено.",
        "title": "<b>Налаштування сповіщень</b>",
        "quiet": "🌙 Тиша: {value}",
        "digest": "🌅 Ранкове зведення: {value}",
        "local": "📍 Удар у моєму населеному пункті чи громаді — зі звуком: {value}",
        "killed": "🕯 Є загиблі — зі звуком: {value}",
        "none": "немає",
        "yes": "так",
        "no": "ні",
        "hint": "Змінити: <code>/quiet 23-07</code>, <code>/digest 08:00</code> або кнопками.",
        "b_local": "📍 Мій пункт/громада: {value}",
        "b_killed": "🕯 Загиблі: {value}",
        "b_quiet_on": "🌙 Тиша 23–07",
        "b_quiet_off": "🌙 Вимкнути тишу",
        "b_digest_on": "🌅 Зведення о 08:00",
        "b_digest_off": "🌅 Вимкнути зведення",
    },
    "en": {
        "quiet_usage": (
            "Give the quiet hours, Kyiv time: <code>/quiet 23-07</code> (or <code>/quiet 22:30-06:45</code>). "
            "Alerts in those hours arrive without sound. <code>/quiet off</code> to stop."
        ),
        "digest_usage": (
            "Give the time of the morning digest, Kyiv time: <code>/digest 08:00</code>. Instead of the night's "
            "alerts you get one message with all of them. <code>/digest off</code> to stop."
        ),
        "quiet_set": "Quiet from {start} to {end} (Kyiv time): alerts arrive without sound.{breaks}",
        "breaks_both": (
            " Still with sound: a strike in your settlement or hromada, or one where people were killed "
            "(change: /settings)."
        ),
        "breaks_local": " Still with sound: a strike in your settlement or hromada (change: /settings).",
        "breaks_killed": " Still with sound: a strike where people were killed (change: /settings).",
        "breaks_none": " No exceptions (change: /settings).",
        "quiet_off": "Quiet hours off: every alert with sound.",
        "quiet_off_digest": "Quiet hours and the morning digest off: every alert at once, with sound.",
        "digest_set": (
            "Morning digest at {at} (Kyiv time): the alerts from {start} to {end} come in one message; "
            "those that keep their sound in the quiet hours (/settings) come at once."
        ),
        "digest_off": "Morning digest off.",
        "title": "<b>Alert settings</b>",
        "quiet": "🌙 Quiet hours: {value}",
        "digest": "🌅 Morning digest: {value}",
        "local": "📍 A strike in my settlement or hromada — with sound: {value}",
        "killed": "🕯 People killed — with sound: {value}",
        "none": "none",
        "yes": "yes",
        "no": "no",
        "hint": "Change: <code>/quiet 23-07</code>, <code>/digest 08:00</code> or the buttons.",
        "b_local": "📍 My place/hromada: {value}",
        "b_killed": "🕯 Killed: {value}",
        "b_quiet_on": "🌙 Quiet 23–07",
        "b_quiet_off": "🌙 Quiet hours off",
        "b_digest_on": "🌅 Digest at 08:00",
        "b_digest_off": "🌅 Digest off",
    },
}
_TIME = r"(\d{1,2})(?:[:.](\d{2}))?"
_RANGE = re.compile(rf"^{_TIME}\s*[-–—]\s*{_TIME}$")
_AT = re.compile(rf"^{_TIME}$")
_OFF = re.compile(r"^(off|0|ні|no|вимк\w*)$")
# the buttons' presets
_PRESET_QUIET = (23 * 60, 7 * 60)
_PRESET_DIGEST = 8 * 60


def _t(lang: str, key: str, **values: object) -> str:
    return _TEXTS.get(lang, _TEXTS["uk"])[key].format(**values)


def _minutes(hours: str, minutes: str | None) -> int | None:
    h, m = int(hours), int(minutes or 0)
    if h == 24 and m == 0:
        h = 0
    return h * 60 + m if 0 <= h < 24 and 0 <= m < 60 else None


def parse_range(text: str) -> tuple[int, int] | None:
    """"23-07" or "22:30-06:45" → (start, end) in minutes after midnight; None when not valid."""
    match = _RANGE.match(text.strip())
    if match is None:
        return None
    start, end = _minutes(match[1], match[2]), _minutes(match[3], match[4])
    if start is None or end is None or start == end:
        return None
    return start, end


def parse_time(text: str) -> int | None:
    match = _AT.match(text.strip())
    return _minutes(match[1], match[2]) if match else None


def _off(arg: str) -> bool:
    """"off", "вимкнути", "0"… (a whole word: "08:00" is a time, not "0")."""
    return _OFF.match(arg.strip().lower()) is not None


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


async def _quiet(conn: aiosqlite.Connection, chat_id: int, lang: str, arg: str, ctx: Any) -> list[Reply | Answer]:
    settings = await get_settings(conn, chat_id)
    if _off(arg):
        await save_settings(conn, chat_id, replace(settings, quiet_from=None, quiet_to=None, digest_at=None))
        # the digest collects the quiet window's alerts: it goes with the window
        return [Reply(chat_id, _t(lang, "quiet_off" if settings.digest_at is None else "quiet_off_digest"))]
    window = parse_range(arg)
    if window is None:
        return [Reply(chat_id, _t(lang, "quiet_usage"))]
    await save_settings(conn, chat_id, replace(settings, quiet_from=window[0], quiet_to=window[1]))
    breaks = {(True, True): "breaks_both", (True, False): "breaks_local", (False, True): "breaks_killed",
              (False, False): "breaks_none"}[settings.break_local, settings.break_killed]
    return [Reply(chat_id, _t(lang, "quiet_set", start=_hhmm(window[0]), end=_hhmm(window[1]),
                              breaks=_t(lang, breaks)))]


async def _digest(conn: aiosqlite.Connection, chat_id: int, lang: str, arg: str, ctx: Any) -> list[Reply | Answer]:
    settings = await get_settings(conn, chat_id)
    if _off(arg):
        await save_settings(conn, chat_id, replace(settings, digest_at=None))
        return [Reply(chat_id, _t(lang, "digest_off"))]
    at = parse_time(arg)
    if at is None:
        return [Reply(chat_id, _t(lang, "digest_usage"))]
    settings = _with_digest(settings, at)
    await save_settings(conn, chat_id, settings)
    assert settings.quiet_from is not None and settings.quiet_to is not None
    return [Reply(chat_id, _t(lang, "digest_set", at=_hhmm(at), start=_hhmm(settings.quiet_from),
                              end=_hhmm(settings.quiet_to)))]


def _with_digest(settings: ChatSettings, at: int) -> ChatSettings:
    """The digest collects the quiet window's alerts; without a window, the night is 23:00 to the digest."""
    if settings.quiet_from is None or settings.quiet_to is None:
        start = _PRESET_QUIET[0] if at != _PRESET_QUIET[0] else _PRESET_QUIET[0] - 60
        return replace(settings, quiet_from=start, quiet_to=at, digest_at=at)
    return replace(settings, digest_at=at)


async def _settings(conn: aiosqlite.Connection, chat_id: int, lang: str, arg: str, ctx: Any) -> list[Reply | Answer]:
    return [_panel(chat_id, lang, await get_settings(conn, chat_id))]


def _panel(chat_id: int, lang: str, s: ChatSettings, edit: int | None = None) -> Reply:
    yes_no = {True: _t(lang, "yes"), False: _t(lang, "no")}
    quiet = (f"{_hhmm(s.quiet_from)}–{_hhmm(s.quiet_to)}" if s.quiet_from is not None and s.quiet_to is not None
             else _t(lang, "none"))
    digest = _hhmm(s.digest_at) if s.digest_at is not None else _t(lang, "none")
    text = "\n".join((
        _t(lang, "title"), _t(lang, "quiet", value=quiet), _t(lang, "digest", value=digest),
        _t(lang, "local", value=yes_no[s.break_local]), _t(lang, "killed", value=yes_no[s.break_killed]),
        "", _t(lang, "hint"),
    ))
    keyboard = [
        [_button(_t(lang, "b_local", value=yes_no[s.break_local]), "set:local"),
         _button(_t(lang, "b_killed", value=yes_no[s.break_killed]), "set:killed")],
        [_button(_t(lang, "b_quiet_off"), "set:quiet_off") if s.quiet_from is not None
         else _button(_t(lang, "b_quiet_on"), "set:quiet_on"),
         _button(_t(lang, "b_digest_off"), "set:digest_off") if s.digest_at is not None
         else _button(_t(lang, "b_digest_on"), "set:digest_on")],
    ]
    return Reply(chat_id, text, keyboard=keyboard, edit_message_id=edit)


def _button(text: str, data: str) -> dict[str, str]:
    return {"text": text[:64], "callback_data": data}


_CHANGES = {
    "local": lambda s: replace(s, break_local=not s.break_local),
    "killed": lambda s: replace(s, break_killed=not s.break_killed),
    "quiet_on": lambda s: replace(s, quiet_from=_PRESET_QUIET[0], quiet_to=_PRESET_QUIET[1]),
    "quiet_off": lambda s: replace(s, quiet_from=None, quiet_to=None, digest_at=None),
    "digest_on": lambda s: _with_digest(s, _PRESET_DIGEST),
    "digest_off": lambda s: replace(s, digest_at=None),
}


async def settings_callback(
    conn: aiosqlite.Connection, chat_id: int, lang: str, value: str, query_id: str, message_id: int | None
) -> list[Reply | Answer] | None:
    """A press of a /settings button ("set:<what>"); None for data it does not know."""
    change = _CHANGES.get(value)
    if change is None:
        return None
    settings = change(await get_settings(conn, chat_id))
    await save_settings(conn, chat_id, settings)
    return [Answer(query_id), _panel(chat_id, lang, settings, edit=message_id)]


SETTINGS_COMMANDS = {"quiet": _quiet, "digest": _digest, "settings": _settings}
