"""``login --realm R --client C --user U``: a reference CIBA client (Duo Push, no browser);
``login --device``: the device authorization grant (a URL and a code for another device)."""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2

from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.login.client import ciba_login, device_login
from keycloak_duo_bridge.login.ping import PingListener
from keycloak_duo_bridge.login.protocol import DeviceStarted
from keycloak_duo_bridge.settings import load_settings

SPINNER = "|/-\\"


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "login",
        help="log in with Duo Push and no browser (a reference CIBA client, poll mode), or"
        " with --device through a browser on another device",
        description=(
            "Log a user in through Keycloak's CIBA grant, as a command-line tool would: the"
            " user approves a Duo push on their phone, and the tokens are printed (or written"
            " to a file). The client must be confidential with the CIBA grant enabled; its"
            " secret is read from a file or a variable, never the command line. With --device"
            " it runs the device authorization grant instead: it shows a URL and a code, the"
            " user signs in (password and Duo) in a browser on any device, and the tokens"
            " follow; the client needs the device grant enabled (public, or give its secret)."
        ),
        **examples(
            "KC_SECRET=... keycloak-duo-bridge login --realm globex --client ciba-cli"
            " --user alice --secret-env KC_SECRET --binding-message ORDER-42",
            "keycloak-duo-bridge login --realm globex --client ciba-cli --user alice"
            " --secret-file ciba-cli.secret --out tokens.json",
            "keycloak-duo-bridge login --realm globex --client ciba-ping --user alice"
            " --secret-env KC_SECRET --ping-listen 127.0.0.1:8765",
            "keycloak-duo-bridge login --device --realm globex --client device-cli",
        ),
    )
    parser.add_argument("--realm", required=True, help="the user's realm")
    parser.add_argument("--client", required=True, help="the client's id")
    parser.add_argument("--user", help="the username (CIBA login_hint; not with --device)")
    parser.add_argument(
        "--device",
        action="store_true",
        help="the device authorization grant instead: show a URL and a code to open on any"
        " device with a browser, where the user signs in (with Duo), then poll",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--secret-file", type=Path, metavar="F", help="the client secret's file")
    source.add_argument("--secret-env", metavar="VAR", help="the client secret's variable")
    parser.add_argument(
        "--binding-message",
        metavar="TEXT",
        help="shown on the phone and here, so the user knows the push is this login's"
        " (letters, digits and -._+/!?#, up to 50)",
    )
    parser.add_argument(
        "--ping-listen",
        metavar="HOST:PORT",
        help="for a realm in CIBA ping mode: listen here for Keycloak's ping (the client's"
        " notification endpoint must reach it), and fetch the tokens once pinged",
    )
    parser.add_argument("--scope", default="openid", help="scopes to ask for (default openid)")
    parser.add_argument("--out", type=Path, metavar="FILE", help="write the tokens here (0600)")
    parser.add_argument(
        "--keycloak-url", metavar="URL", help="Keycloak's base URL (default KDB_KEYCLOAK_URL)"
    )
    parser.set_defaults(handler=run)


def _secret(args: argparse.Namespace) -> str | None:
    if args.secret_file is None and args.secret_env is None:
        if not args.device:
            raise ConfigError("a CIBA login needs the client secret: --secret-file or --secret-env")
        return None  # a public device client
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


def _show_code(started: DeviceStarted) -> None:
    print(
        f"On a device with a browser, open {started.verification_uri} and enter the code"
        f" {started.user_code}",
        file=sys.stderr,
    )
    if started.verification_uri_complete:
        print(f"(or open {started.verification_uri_complete})", file=sys.stderr)
    print("then sign in and approve Duo there", file=sys.stderr, flush=True)


def _login(
    args: argparse.Namespace, url: str, secret: str | None, waiting: Callable[[], None]
) -> dict[str, Any]:
    with httpx2.Client(timeout=30) as http:
        if args.device:
            return device_login(
                http,
                keycloak_url=url,
                realm=args.realm,
                client_id=args.client,
                client_secret=secret,
                scope=args.scope,
                on_code=_show_code,
                on_wait=waiting,
            )
        shown = f" ({args.binding_message})" if args.binding_message else ""
        with contextlib.ExitStack() as stack:
            ping = None
            if args.ping_listen is not None:
                ping = stack.enter_context(_listener(args.ping_listen))
            print(f"Approve the Duo push on your phone{shown}", file=sys.stderr, flush=True)
            return ciba_login(
                http,
                keycloak_url=url,
                realm=args.realm,
                client_id=args.client,
                client_secret=str(secret),
                username=args.user,
                scope=args.scope,
                binding_message=args.binding_message,
                ping=ping,
                on_wait=waiting,
            )


def _listener(text: str) -> PingListener:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:  # noqa: PLR2004
        raise ConfigError(f"--ping-listen wants HOST:PORT, not {text!r}")
    try:
        return PingListener(host, int(port))
    except OSError as exc:
        raise ConfigError(f"cannot listen on {text}: {exc.strerror}") from None


def run(args: argparse.Namespace) -> int:
    if args.device and (args.user or args.binding_message or args.ping_listen):
        raise ConfigError(
            "--user, --binding-message and --ping-listen are CIBA's: the device grant takes none"
        )
    if not args.device and not args.user:
        raise ConfigError("a CIBA login needs --user (or use --device)")
    secret = _secret(args)
    url = args.keycloak_url or load_settings().keycloak_url
    spin = itertools.cycle(SPINNER)
    tty = sys.stderr.isatty()
    label = "waiting for the sign-in" if args.device else "waiting for Duo"

    def waiting() -> None:
        if tty:
            print(f"\r{next(spin)} {label}", end="", file=sys.stderr, flush=True)

    tokens = _login(args, url, secret, waiting)
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
