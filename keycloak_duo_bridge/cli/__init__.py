"""The ``keycloak-duo-bridge`` console script.

Each subcommand lives in its own module under this package and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` on it: a function
``handler(args) -> int``. Errors from the package's tree become a one-line message on
stderr and a non-zero exit; ``--debug`` shows the traceback instead.

Where it sits: at the top, with the server runner: it may import every part, the
composition root (:mod:`keycloak_duo_bridge.app`) included, and nothing imports it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from keycloak_duo_bridge import __version__
from keycloak_duo_bridge.cli import (
    apps,
    console,
    demo,
    doctor,
    duo,
    emulator,
    explain,
    extension,
    fleet,
    idps,
    keys,
    login,
    sandbox,
    serve,
    tenants,
)
from keycloak_duo_bridge.cli._common import examples
from keycloak_duo_bridge.errors import BridgeError

Handler = Callable[[argparse.Namespace], int]

COMMANDS = (
    demo,
    serve,
    sandbox,
    extension,
    emulator,
    tenants,
    duo,
    apps,
    idps,
    keys,
    doctor,
    explain,
    fleet,
    console,
    login,
)
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keycloak-duo-bridge",
        description=(
            "Duo Security two-factor for Keycloak, per tenant. Settings are KDB_* environment"
            " variables (or a .env file); `COMMAND --help` explains each command."
        ),
        **examples(
            "keycloak-duo-bridge demo",
            "keycloak-duo-bridge sandbox keycloak up",
            'eval "$(keycloak-duo-bridge sandbox env)"',
            "keycloak-duo-bridge explain globex --user alice",
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except BridgeError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
