"""What the bot says, in Ukrainian (the default) and English (for language_code "en")."""

from __future__ import annotations

__all__ = ["t", "COMMANDS", "lang_of"]

_UK: dict[str, str] = {
    "welcome": (
        "Вітаю! Я надсилаю сповіщення про російські удари, про які повідомляють ДСНС і новини, "
        "у регіонах, за якими ви стежите.\n\n"
        "Щоб підписатися, напишіть <code>/subscribe Харківщина</code> (або назву міста, громади, району) "
        "чи оберіть область: /regions. Або надішліть геопозицію (📎 → Геопозиція) — стежитиму за громадою, де вона.\n"
        "Ваші підписки: /list. Довідка: /help."
    ),
    "help": (
        "<b>Команди</b>\n"
        "/subscribe &lt;регіон&gt; — стежити за областю, районом, громадою чи населеним пунктом\n"
        "/regions — вибрати область і район кнопками\n"
        "/list — мої підписки\n"
        "/unsubscribe &lt;регіон&gt; або <code>/unsubscribe all</code> — відписатися\n"
        "/last [регіон] — останні удари\n"
        "/mute &lt;години&gt; — тиша на кілька годин (<code>/mute 0</code> — увімкнути знову)\n"
        "/quiet 23-07 — нічна тиша за Києвом: сповіщення без звуку (<code>/quiet off</code> — вимкнути)\n"
        "/digest 08:00 — замість нічних сповіщень одне ранкове зведення (<code>/digest off</code> — вимкнути)\n"
        "/settings — тиша, зведення і що лунає вночі попри тишу, кнопками\n"
        "/radius &lt;км&gt; — стежити за всіма місцями в радіусі від геопозиції, яку надішлете після цього\n"
        "/help — ця довідка\n\n"
        "📍 Надішліть геопозицію (📎 → Геопозиція) — стежитиму за громадою, де вона."
    ),
    "subscribe_usage": "Напишіть, за яким регіоном стежити, напр.: <code>/subscribe Харківщина</code>, <code>/subscribe Балаклія</code>. Або оберіть: /regions.",
    "not_found": "Не знайшов регіону «{query}». Спробуйте назву області, району, громади чи населеного пункту, напр. «Харківщина» або «Балаклія», чи оберіть: /regions.",
    "subscribed": "Готово: стежу за регіоном <b>{name}</b>. Сповіщу про удари там.",
    "already": "Ви вже стежите за регіоном <b>{name}</b>.",
    "list_empty": "У вас немає підписок. Додайте: /subscribe &lt;регіон&gt; або /regions.",
    "list": "<b>Ваші регіони</b>:\n{items}",
    "unsub_usage": "Напишіть, від якого регіону відписатися (<code>/unsubscribe Харківщина</code>), або <code>/unsubscribe all</code>.",
    "unsubscribed": "Відписав від регіону <b>{name}</b>.",
    "unsubscribed_all": "Відписав від усіх регіонів ({count}).",
    "not_subscribed": "Ви не стежите за «{query}». Ваші підписки: /list.",
    "mute_usage": "Напишіть, на скільки годин вимкнути сповіщення (1–168): <code>/mute 8</code>. <code>/mute 0</code> — увімкнути знову.",
    "muted": "Сповіщення вимкнено до {until} (за Києвом). <code>/mute 0</code> — увімкнути раніше.",
    "unmuted": "Сповіщення знову увімкнено.",
    "last_empty": "Останнім часом ударів у цих регіонах не зафіксовано.",
    "last_none": "Вкажіть регіон (<code>/last Харківщина</code>) або підпишіться на регіони: /subscribe.",
    "last": "<b>Останні удари</b>{where}:\n{items}",
    "regions": "Оберіть область:",
    "raions": "<b>{name}</b>: уся область або район:",
    "whole_oblast": "Уся область",
    "also_oblast": "Стежити за всією областю: {name}",
    "unknown_command": "Не знаю команди {command}. Перелік команд: /help.",
    "plain_text": "Щоб стежити за регіоном, напишіть <code>/subscribe {text}</code>. Довідка: /help.",
    "admin_only": "Ця команда лише для адміністраторів.",
    "stats": "<b>Статистика</b>\nПідписники: {chats} (активні: {active}), підписок: {subs}\nДописи: {posts}, удари: {strikes}\nСповіщення: надіслано {sent}, у черзі {pending}, відкинуто {dropped}\n\n<b>Джерела</b>\n{sources}",
    "button_gone": "Ця кнопка застаріла. Спробуйте ще раз: /regions.",
    "too_long": "Занадто довгий запит. Напишіть коротко назву регіону.",
    "too_many": "Забагато запитів. Спробуйте ще раз за хвилину.",
    "subscriptions_full": "Не додав <b>{name}</b>: можна стежити щонайбільше за {limit} регіонами. Спершу відпишіться від якогось: /unsubscribe.",
    "list_page": "<b>Ваші регіони</b> ({total}), сторінка {page} з {pages}:\n{items}",
    "choose_page": "Місць «{query}»: {count} (сторінка {page} з {pages}). Оберіть потрібне або уточніть громаду, район чи область, напр. <code>/subscribe Іванівка, Чугуївський район</code>",
    "covered": "Ви вже стежите за регіоном <b>{wider}</b>, а він охоплює <b>{name}</b>: окрема підписка не потрібна.",
    "replaced": "\nВужчі підписки, які він охоплює, прибрав: {names}.",
    "radius_hint": "\nЩоб стежити за всіма місцями поблизу, надішліть <code>/radius 15</code>, а потім знову геопозицію.",
    "radius_usage": "Напишіть радіус у кілометрах (1–{max}): <code>/radius 15</code>, а потім надішліть геопозицію (📎 → Геопозиція).",
    "radius_set": "Тепер надішліть геопозицію (📎 → Геопозиція): стежитиму за всіма місцями в радіусі {km} км від неї.",
    "radius_subscribed": "Готово: стежу за місцями в радіусі {km} км ({count}): {names}.",
    "radius_too_many": "Місць у радіусі {km} км: {count}, а можна стежити щонайбільше за {limit} регіонами (уже є {have}). Спробуйте менший радіус: <code>/radius 5</code>.",
    "location_unknown": "Не знайшов населених пунктів України поблизу цієї точки.",
    "group_admins_only": "Змінювати підписки цього чату можуть лише його адміністратори.",
    "radius_group": "У групі бот не бачить геопозицій: підпишіть групу за назвою (<code>/subscribe Чугуїв</code>) або надішліть геопозицію в особистому чаті з ботом.",
}

_EN: dict[str, str] = {
    "welcome": (
        "Hello! I send alerts about Russian strikes reported by Ukraine's State Emergency Service "
        "(DSNS) and the news, in the regions you watch.\n\n"
        "To subscribe, send <code>/subscribe Kharkiv region</code> (or a city, hromada or raion) "
        "or pick an oblast: /regions. Or share a location (📎 → Location) to watch the hromada it lies in.\n"
        "Your subscriptions: /list. Help: /help."
    ),
    "help": (
        "<b>Commands</b>\n"
        "/subscribe &lt;region&gt; — watch an oblast, raion, hromada or settlement\n"
        "/regions — pick an oblast and raion with buttons\n"
        "/list — my subscriptions\n"
        "/unsubscribe &lt;region&gt; or <code>/unsubscribe all</code> — stop watching\n"
        "/last [region] — latest strikes\n"
        "/mute &lt;hours&gt; — silence for a few hours (<code>/mute 0</code> to unmute)\n"
        "/quiet 23-07 — quiet hours, Kyiv time: alerts without sound (<code>/quiet off</code> to stop)\n"
        "/digest 08:00 — one morning summary instead of the night's alerts (<code>/digest off</code> to stop)\n"
        "/settings — quiet hours, the digest and what still rings at night, with buttons\n"
        "/radius &lt;km&gt; — watch every place within that distance of the location you share next\n"
        "/help — this help\n\n"
        "📍 Share a location (📎 → Location) to watch the hromada it lies in."
    ),
    "subscribe_usage": "Tell me which region to watch, e.g. <code>/subscribe Kharkiv region</code>, <code>/subscribe Balakliia</code>. Or pick one: /regions.",
    "not_found": "No region “{query}” found. Try an oblast, raion, hromada or settlement name, e.g. “Kharkiv region” or “Balakliia”, or pick one: /regions.",
    "subscribed": "Done: watching <b>{name}</b>. I will alert you about strikes there.",
    "already": "You already watch <b>{name}</b>.",
    "list_empty": "You have no subscriptions. Add one: /subscribe &lt;region&gt; or /regions.",
    "list": "<b>Your regions</b>:\n{items}",
    "unsub_usage": "Tell me which region to drop (<code>/unsubscribe Kharkiv region</code>), or <code>/unsubscribe all</code>.",
    "unsubscribed": "Unsubscribed from <b>{name}</b>.",
    "unsubscribed_all": "Unsubscribed from all regions ({count}).",
    "not_subscribed": "You do not watch “{query}”. Your subscriptions: /list.",
    "mute_usage": "Tell me for how many hours to mute alerts (1–168): <code>/mute 8</code>. <code>/mute 0</code> unmutes.",
    "muted": "Alerts muted until {until} (Kyiv time). <code>/mute 0</code> to unmute earlier.",
    "unmuted": "Alerts are on again.",
    "last_empty": "No strikes recorded in these regions recently.",
    "last_none": "Name a region (<code>/last Kharkiv region</code>) or subscribe to regions: /subscribe.",
    "last": "<b>Latest strikes</b>{where}:\n{items}",
    "regions": "Pick an oblast:",
    "raions": "<b>{name}</b>: the whole oblast or a raion:",
    "whole_oblast": "Whole oblast",
    "also_oblast": "Watch the whole oblast: {name}",
    "unknown_command": "I do not know the command {command}. Commands: /help.",
    "plain_text": "To watch a region, send <code>/subscribe {text}</code>. Help: /help.",
    "admin_only": "This command is for administrators only.",
    "stats": "<b>Statistics</b>\nSubscribers: {chats} (active: {active}), subscriptions: {subs}\nPosts: {posts}, strikes: {strikes}\nAlerts: sent {sent}, pending {pending}, dropped {dropped}\n\n<b>Sources</b>\n{sources}",
    "button_gone": "This button has expired. Try again: /regions.",
    "too_long": "That is too long. Send a short region name.",
    "too_many": "Too many requests. Try again in a minute.",
    "subscriptions_full": "Not added <b>{name}</b>: you can watch at most {limit} regions. Drop one first: /unsubscribe.",
    "list_page": "<b>Your regions</b> ({total}), page {page} of {pages}:\n{items}",
    "choose_page": "Places called “{query}”: {count} (page {page} of {pages}). Pick one, or add the hromada, raion or oblast, e.g. <code>/subscribe Ivanivka, Chuhuiv raion</code>",
    "covered": "You already watch <b>{wider}</b>, which includes <b>{name}</b>: no separate subscription needed.",
    "replaced": "\nRemoved the narrower subscriptions it includes: {names}.",
    "radius_hint": "\nTo watch every place nearby, send <code>/radius 15</code> and then the location again.",
    "radius_usage": "Send a radius in kilometres (1–{max}): <code>/radius 15</code>, then share a location (📎 → Location).",
    "radius_set": "Now share a location (📎 → Location): I will watch every place within {km} km of it.",
    "radius_subscribed": "Done: watching the places within {km} km ({count}): {names}.",
    "radius_too_many": "There are {count} places within {km} km, and you can watch at most {limit} regions (you have {have}). Try a smaller radius: <code>/radius 5</code>.",
    "location_unknown": "I found no Ukrainian settlement near that point.",
    "group_admins_only": "Only this chat's administrators can change its subscriptions.",
    "radius_group": "In a group the bot does not see locations: subscribe the group by name (<code>/subscribe Chuhuiv</code>) or share the location in a private chat with the bot.",
}

COMMANDS: dict[str, list[tuple[str, str]]] = {
    "uk": [
        ("start", "Почати"), ("subscribe", "Стежити за регіоном"), ("regions", "Вибрати область"),
        ("list", "Мої підписки"), ("unsubscribe", "Відписатися"), ("last", "Останні удари"),
        ("mute", "Тиша на кілька годин"), ("quiet", "Нічна тиша"), ("digest", "Ранкове зведення"),
        ("settings", "Налаштування сповіщень"), ("radius", "Місця навколо геопозиції"), ("help", "Довідка"),
    ],
    "en": [
        ("start", "Start"), ("subscribe", "Watch a region"), ("regions", "Pick an oblast"),
        ("list", "My subscriptions"), ("unsubscribe", "Unsubscribe"), ("last", "Latest strikes"),
        ("mute", "Mute for a few hours"), ("quiet", "Quiet hours"), ("digest", "Morning digest"),
        ("settings", "Alert settings"), ("radius", "Places around a location"), ("help", "Help"),
    ],
}


def lang_of(language_code: str | None) -> str:
    """English for English-speaking users, Ukrainian for everyone else."""
    return "en" if (language_code or "").lower().startswith("en") else "uk"


def t(lang: str, key: str, **values: object) -> str:
    """The message `key` in `lang`, with `values` filled in (callers escape user text)."""
    table = _EN if lang == "en" else _UK
    return table[key].format(**values)
