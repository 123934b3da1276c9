"""``keycloak-duo-bridge demo``: bring up the sandbox stack on the embedded defaults."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from keycloak_duo_bridge.cli._common import Subparsers
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.settings import load_settings


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="start the sandbox stack, print where to look, stay up until Ctrl-C"
    )
    parser.add_argument(
        "--exit",
        action="store_true",
        help="stop everything and exit once the stack is up (for scripts and tests)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    keycloak = SandboxKeycloak(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        status = keycloak.up(progress=_progress)
        print()
        print(f"Keycloak {status.version} with the duo-step-up extension: {status.url}")
        print(f"Admin console: {status.url}/admin/")
        print(f"  username: {settings.sandbox_admin_username}")
        print(f"  password: {settings.sandbox_admin_password.get_secret_value()}")
        print(f"Keycloak log: {status.log}")
        if args.exit:
            return 0
        print("\nThe sandbox stays up until you press Ctrl-C.", flush=True)
        stop.wait()
        return 0
    finally:
        keycloak.down(progress=_progress)
