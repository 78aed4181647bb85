"""Telegram channels over MTProto (Telethon): catch-up polls, live events, full-size photos.

Every Telethon import of the project lives in this package: `credentials` (the account) and
`photo_urls` (the photos' tg:// pseudo-URLs), both without Telethon; `client` (the shared
client, the entity cache), `convert` (message → RawPost), `collector` (one channel), `hub`
(the process's one client, cache and collectors, made on first use). Import the module you
need; this file imports nothing.

Posts get the same identity as the web preview (`collectors.telegram_web`): stream is the
lower-cased channel username, external id the message id, and an album is ONE post whose id
is its smallest message id, as t.me/s shows it. So a channel read both ways is one set of rows.

Why the shape:
- Telethon's live updates are known to miss messages, so `run_live` is the fast path and
  `poll` (``iter_messages(min_id=cursor, reverse=True)``) stays the safety net.
- ResolveUsername is heavily rate-limited: a username is resolved once and its numeric id
  and access hash are kept in a JSON file next to the session.
- Photos are not URLs over MTProto: posts carry pseudo-URLs ``tg://<channel>/<id>/photo``
  (``/thumb`` for a video's poster frame) that `fetch_photo` turns into bytes.
- Telethon errors are translated to `SourceError`s in one place, `TelegramMTProtoCollector._call`.
"""

