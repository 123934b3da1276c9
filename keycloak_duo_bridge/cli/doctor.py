"""``keycloak-duo-bridge doctor``: a line per check of a live deployment, with fixes."""

from __future__ import annotations

import argparse

from keycloak_duo_bridge.cli._admin import note_default, print_json, settings
from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.doctor.checks import Check
from keycloak_duo_bridge.doctor.run import diagnose


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor",
        help="check a live deployment from the bridge's point of view (exit 1 on a failure)",
        description=(
            "Run where the bridge runs, with its KDB_* settings. Checks: the bridge's keys and"
            " cookie secret; its public URL (https outside loopback, /healthz answers);"
            " Keycloak reachable and the bridge's login to it; the clocks of Keycloak and Duo;"
            " the duo-step-up extension loaded; every Duo realm's bridge URL, JWKS and required"
            " action; Duo's"
            " health for each integration. Prints a line per check and a fix for each"
            " failure; exits 1 when anything would fail a login."
        ),
        **examples(
            "keycloak-duo-bridge doctor",
            "keycloak-duo-bridge doctor --realm globex --json",
        ),
    )
    parser.add_argument(
        "--realm",
        action="append",
        default=[],
        help="check only this realm (repeatable; default: every Duo realm the bridge can read)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of lines")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = settings()
    note_default(config, "keycloak_url")
    note_default(config, "bridge_url")
    found = diagnose(config, realms=args.realm)
    failed = any(c.failed for c in found)
    if args.json:
        print_json({"ok": not failed, "checks": [_json(c) for c in found]})
    else:
        width = max(len(c.name) for c in found)
        for check in found:
            print(f"{check.status.value:<4}  {check.name:<{width}}  {check.detail}")
            if check.fix is not None:
                print(f"{'':<4}  {'':<{width}}  fix: {check.fix}")
        print("FAILED: a login would fail" if failed else "all checks passed")
    return 1 if failed else 0


def _json(check: Check) -> dict[str, str | None]:
    return {
        "name": check.name,
        "status": check.status.value,
        "detail": check.detail,
        "fix": check.fix,
    }
