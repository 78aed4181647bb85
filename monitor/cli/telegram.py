"""`dsns-monitor telegram login`: sign the MTProto collector's account in, once, interactively."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from typing import TYPE_CHECKING

from collectors.telegram_mtproto.credentials import (
    ENV_API_HASH,
    ENV_API_ID,
    ENV_SESSION,
)
from dsns.errors import UsageError
from monitor.cli.options import EXIT_OK, add_config

if TYPE_CHECKING:
    from monitor.config import Config

__all__ = ["add_parsers"]


def add_parsers(commands: argparse._SubParsersAction) -> None:
    telegram = commands.add_parser(
        "telegram", help="Telegram account (MTProto) for telegram_mtproto sources",
        description=(
            "Manage the Telegram account that telegram_mtproto sources read channels with. "
            f"Needs {ENV_API_ID} and {ENV_API_HASH} in the environment (https://my.telegram.org)."
        ),
    )
    actions = telegram.add_subparsers(dest="telegram_command", required=True, metavar="ACTION")
    login = actions.add_parser(
        "login", help="log in interactively (phone, code, 2FA password) and save the session",
        description=(
            "Log in to Telegram with a phone number, the code Telegram sends and the 2FA password if set. "
            "The session is saved to [telegram] session in the config (mode 0600); without that key it is "
            f"printed once, to put in {ENV_SESSION}. Needs {ENV_API_ID} and {ENV_API_HASH} in the environment."
        ),
    )
    add_config(login)
    login.set_defaults(handler=_login, needs="config")


def _login(args: argparse.Namespace, config: Config) -> int:
    import asyncio

    from collectors.telegram_mtproto.credentials import (
        CredentialsError,
        MTProtoCredentials,
    )
    from dsns.extras import require

    require("telethon", "mtproto", "`telegram login`")
    from collectors.telegram_mtproto.login import LoginError, login, session_hint

    try:
        credentials = MTProtoCredentials.from_env()
    except CredentialsError as exc:  # not a failing source here but a step the user skipped
        raise UsageError(f"telegram login: {exc.args[0].removeprefix('telegram: ')}") from None
    session_path = config.telegram.session
    if session_path is not None and os.environ.get(ENV_SESSION, "").strip():
        print(
            f"note: {ENV_SESSION} is set and wins over the session file when the monitor runs; "
            f"unset it to use {session_path}",
            file=sys.stderr,
        )
    try:
        result = asyncio.run(login(
            session_path, credentials,
            phone_input=lambda: input("Phone number (international format, e.g. +380…): "),
            code_input=lambda: input("Login code Telegram sent you: "),
            password_input=lambda: getpass.getpass("Two-step verification password: "),
        ))
    except EOFError:
        raise LoginError("input ended before the login finished") from None
    print(session_hint(result, session_path))
    return EXIT_OK
