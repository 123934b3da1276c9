"""``keycloak-duo-bridge sandbox``: the local stack for demos and tests."""

from __future__ import annotations

import argparse
import shlex
import sys

from keycloak_duo_bridge.cli._admin import add_json, print_json
from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.settings import load_settings


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def register(subparsers: Subparsers) -> None:
    sandbox = subparsers.add_parser(
        "sandbox",
        help="run a local Keycloak (and friends)",
        description=(
            "The local sandbox for demos and tests: a Keycloak with the extension loaded,"
            " on KDB_SANDBOX_HOST:KDB_SANDBOX_HTTP_PORT (default 127.0.0.1:8080)."
        ),
    )
    parts = sandbox.add_subparsers(title="parts", metavar="PART", required=True)

    keycloak = parts.add_parser(
        "keycloak",
        help="the sandbox Keycloak 26.7.3",
        description="Start, stop or check the sandbox Keycloak.",
    )
    actions = keycloak.add_subparsers(title="actions", metavar="ACTION", required=True)
    actions.add_parser(
        "up",
        help="fetch, build the extension, start, wait",
        description=(
            "Download Keycloak (checksum-verified, cached), build the extension, start"
            " Keycloak and wait until it is ready; a running sandbox is reused."
        ),
        **examples(
            "keycloak-duo-bridge sandbox keycloak up",
            "KDB_SANDBOX_HTTP_PORT=8180 KDB_SANDBOX_MANAGEMENT_PORT=9100"
            " keycloak-duo-bridge sandbox keycloak up",
        ),
    ).set_defaults(handler=keycloak_up)
    actions.add_parser(
        "down",
        help="stop the Keycloak that `up` started",
        description="Stop the sandbox Keycloak that `up` started.",
    ).set_defaults(handler=keycloak_down)
    status = actions.add_parser(
        "status",
        help="is it running and ready",
        description="Say whether the sandbox Keycloak runs and is ready (exit 3 if not running).",
        **examples("keycloak-duo-bridge sandbox keycloak status --json"),
    )
    add_json(status)
    status.set_defaults(handler=keycloak_status)

    parts.add_parser(
        "env",
        help='print KDB_* exports: eval "$(keycloak-duo-bridge sandbox env)"',
        description=(
            "Print shell exports of the KDB_* variables that point the other commands at"
            " the sandbox Keycloak."
        ),
        **examples('eval "$(keycloak-duo-bridge sandbox env)"'),
    ).set_defaults(handler=env)


def keycloak_up(args: argparse.Namespace) -> int:
    del args
    keycloak = SandboxKeycloak(load_settings())
    status = keycloak.up(progress=_progress)
    settings = keycloak.settings
    print(f"Keycloak {status.version} is running at {status.url} (pid {status.pid})")
    print(f"Admin console: {status.url}/admin/  (user {settings.sandbox_admin_username!r})")
    print(f"Log: {status.log}")
    return 0


def keycloak_down(args: argparse.Namespace) -> int:
    del args
    stopped = SandboxKeycloak(load_settings()).down()
    print("Keycloak stopped" if stopped else "Keycloak was not running")
    return 0


def keycloak_status(args: argparse.Namespace) -> int:
    status = SandboxKeycloak(load_settings()).status()
    if args.json:
        print_json(
            {
                "running": status.running,
                "ready": bool(status.running and status.ready),
                "version": status.version,
                "url": status.url if status.running else None,
                "pid": status.pid if status.running else None,
            }
        )
        return 0 if status.running else 3
    if not status.running:
        print("Keycloak: not running")
        return 3
    state = "ready" if status.ready else "starting (not ready yet)"
    print(f"Keycloak {status.version}: {state} at {status.url} (pid {status.pid})")
    return 0


def env(args: argparse.Namespace) -> int:
    del args
    for name, value in SandboxKeycloak(load_settings()).environment().items():
        print(f"export {name}={shlex.quote(value)}")
    return 0
