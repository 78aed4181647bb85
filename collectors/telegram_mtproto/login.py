"""`dsns-monitor telegram login`: sign a Telegram account in once and keep the session.

The session goes to the file named in the config (created 0600) or, without one, comes back
as a StringSession to put in TELEGRAM_SESSION. Nothing secret is logged or echoed.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from telethon import TelegramClient, errors
from telethon.sessions import StringSession

from collectors.telegram_mtproto.credentials import (
    ENV_SESSION,
    CredentialsError,
    MTProtoCredentials,
    prepare_session_file,
)
from dsns.errors import DsnsError

__all__ = ["LoginError", "login", "session_hint"]

Prompt = Callable[[], str | Awaitable[str]]


class LoginError(DsnsError):
    """Login failed; the message says why and what to do."""

    label = "telegram login"


async def _ask(prompt: Prompt) -> str:
    answer = prompt()
    if inspect.isawaitable(answer):
        answer = await answer
    return str(answer).strip()


async def login(
    session_path: str | Path | None,
    credentials: MTProtoCredentials | None,
    *,
    phone_input: Prompt,
    code_input: Prompt,
    password_input: Prompt,
    client_factory: Callable[[Any], Any] | None = None,
    attempts: int = 3,
) -> str:
    """Log in interactively and return where the session went.

    With `session_path`: the SQLite session file (mode 0600), returned as its path. Without:
    a new StringSession, returned as the string for TELEGRAM_SESSION. `credentials` None reads
    the environment. `client_factory(session)` builds the client (tests pass a fake); the
    default is a `TelegramClient`. Raises `LoginError` with a one-line reason.
    """
    if credentials is None:
        try:
            credentials = MTProtoCredentials.from_env()
        except CredentialsError as exc:
            raise LoginError(str(exc)) from None
    if session_path is not None:
        path: Path | None = prepare_session_file(session_path)
        session: Any = str(path)
    else:
        path, session = None, StringSession()  # a TELEGRAM_SESSION in the env is not reused: log in afresh
    if client_factory is None:
        client: Any = TelegramClient(session, credentials.api_id, credentials.api_hash)
    else:
        client = client_factory(session)
    try:
        await client.connect()
        if not await client.is_user_authorized():
            await _sign_in(client, phone_input, code_input, password_input, attempts)
        if path is not None:
            path.chmod(0o600)  # SQLite may have rewritten the file
            return str(path)
        return StringSession.save(client.session)
    except errors.FloodWaitError as exc:
        raise LoginError(f"Telegram asks to wait {exc.seconds}s before trying again") from None
    except errors.RPCError as exc:
        raise LoginError(f"Telegram refused the login: {type(exc).__name__}") from None
    except OSError as exc:
        raise LoginError(f"cannot reach Telegram: {exc}") from None
    finally:
        await client.disconnect()


async def _sign_in(client: Any, phone_input: Prompt, code_input: Prompt, password_input: Prompt, attempts: int) -> None:
    phone = await _ask(phone_input)
    try:
        sent = await client.send_code_request(phone)
    except (errors.PhoneNumberInvalidError, errors.PhoneNumberBannedError) as exc:
        raise LoginError(f"Telegram rejected the phone number: {type(exc).__name__}") from None
    for attempt in range(1, attempts + 1):
        code = await _ask(code_input)
        try:
            await client.sign_in(phone=phone, code=code, phone_code_hash=sent.phone_code_hash)
            return
        except errors.SessionPasswordNeededError:
            break
        except errors.PhoneCodeInvalidError:
            if attempt == attempts:
                raise LoginError(f"wrong code {attempts} times; run the login again") from None
        except errors.PhoneCodeExpiredError:
            raise LoginError("the code expired; run the login again") from None
    for attempt in range(1, attempts + 1):
        try:
            await client.sign_in(password=await _ask(password_input))
            return
        except errors.PasswordHashInvalidError:
            if attempt == attempts:
                raise LoginError(f"wrong 2FA password {attempts} times; run the login again") from None


def session_hint(result: str, session_path: str | Path | None) -> str:
    """What the CLI should print after `login` (never echoes the secret unless it is the output)."""
    if session_path is not None:
        return f"Logged in; session saved to {result} (mode 0600)."
    return f"Logged in. Put this in the environment as {ENV_SESSION} (keep it secret):\n{result}"
