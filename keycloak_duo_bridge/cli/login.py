"""``login --realm R --client C --user U``: a reference CIBA client (Duo Push, no browser)."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from pathlib import Path

import httpx2

from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.login.client import ciba_login
from keycloak_duo_bridge.settings import load_settings

SPINNER = "|/-\\"


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "login",
        help="log in with Duo Push and no browser (a reference CIBA client, poll mode)",
        description=(
            "Log a user in through Keycloak's CIBA grant, as a command-line tool would: the"
            " user approves a Duo push on their phone, and the tokens are printed (or written"
            " to a file). The client must be confidential with the CIBA grant enabled; its"
            " secret is read from a file or a variable, never the command line."
        ),
        **examples(
            "KC_SECRET=... keycloak-duo-bridge login --realm globex --client ciba-cli"
            " --user alice --secret-env KC_SECRET --binding-message ORDER-42",
            "keycloak-duo-bridge login --realm globex --client ciba-cli --user alice"
            " --secret-file ciba-cli.secret --out tokens.json",
        ),
    )
    parser.add_argument("--realm", required=True, help="the user's realm")
    parser.add_argument("--client", required=True, help="the CIBA client's id")
    parser.add_argument("--user", required=True, help="the username (CIBA login_hint)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--secret-file", type=Path, metavar="F", help="the client secret's file")
    source.add_argument("--secret-env", metavar="VAR", help="the client secret's variable")
    parser.add_argument(
        "--binding-message",
        metavar="TEXT",
        help="shown on the phone and here, so the user knows the push is this login's"
        " (letters, digits and -._+/!?#, up to 50)",
    )
    parser.add_argument("--scope", default="openid", help="scopes to ask for (default openid)")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the tokens here (0600)")
    parser.add_argument(
        "--keycloak-url", metavar="URL", help="Keycloak's base URL (default KDB_KEYCLOAK_URL)"
    )
    parser.set_defaults(handler=run)


def _secret(args: argparse.Namespace) -> str:
    if args.secret_file is not None:
        try:
            return Path(args.secret_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the secret file {args.secret_file}: {exc.strerror}"
            ) from None
    value = os.environ.get(args.secret_env, "").strip()
    if not value:
        raise ConfigError(f"environment variable {args.secret_env} is not set")
    return value


def run(args: argparse.Namespace) -> int:
    secret = _secret(args)
    url = args.keycloak_url or load_settings().keycloak_url
    spin = itertools.cycle(SPINNER)
    tty = sys.stderr.isatty()
    shown = f" ({args.binding_message})" if args.binding_message else ""
    print(f"Approve the Duo push on your phone{shown}", file=sys.stderr, flush=True)

    def waiting() -> None:
        if tty:
            print(f"\r{next(spin)} waiting for Duo", end="", file=sys.stderr, flush=True)

    with httpx2.Client(timeout=30) as http:
        tokens = ciba_login(
            http,
            keycloak_url=url,
            realm=args.realm,
            client_id=args.client,
            client_secret=secret,
            username=args.user,
            scope=args.scope,
            binding_message=args.binding_message,
            on_wait=waiting,
        )
    if tty:
        print("\r", end="", file=sys.stderr)
    text = json.dumps(tokens, indent=2, sort_keys=True)
    if args.out is None:
        print(text)
        return 0
    path = Path(args.out)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text + "\n")
    print(f"logged in; tokens written to {path}", file=sys.stderr)
    return 0
