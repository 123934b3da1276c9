"""``client move NAME --to organization|realm``: plan, and with ``--yes`` perform, the move of
a client between its realm and an organization of its partner's realm (users, credentials,
Duo settings)."""

from __future__ import annotations

import argparse
from pathlib import Path

from keycloak_duo_bridge.admin import move
from keycloak_duo_bridge.admin.move_plan import Plan, read_export
from keycloak_duo_bridge.cli._admin import (
    add_json,
    connect,
    print_json,
    print_table,
    settings,
    wiring_of,
)
from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.settings import key_ring


def register(actions: Subparsers) -> None:
    """``client move``."""
    parser = actions.add_parser(
        "move",
        help="move a client between a realm and an organization of its partner",
        description=(
            "Plan the move of client realm NAME to an organization of its partner's realm,"
            " or of organization NAME back to a realm of its own: its Duo settings, users,"
            " groups and credentials, or every reason it cannot carry them. Exits 0 when"
            " the move can be done, 1 when refused. With --yes it is done: the destination"
            " is made and checked before the source is deleted."
        ),
        **examples(
            "keycloak-duo-bridge client move globex --to organization",
            "keycloak-duo-bridge client move globex --to organization"
            " --users-from export/globex-users-0.json --yes",
            "keycloak-duo-bridge client move initech --partner acme --to realm --yes",
        ),
    )
    parser.add_argument("name", help="the client realm's name")
    parser.add_argument(
        "--to",
        required=True,
        choices=("organization", "realm"),
        help="organization: client realm NAME becomes an organization of its partner;"
        " realm: organization NAME of --partner becomes a client realm of its own",
    )
    parser.add_argument("--partner", help="with --to realm: the realm holding the organization")
    parser.add_argument(
        "--users-from",
        type=Path,
        metavar="FILE",
        help="the users file of `kc.sh export --realm REALM --users same_file` of the"
        " realm the users are in now (NAME, or the partner with --to realm): their"
        " password hashes and OTP secrets, which Keycloak's admin API never returns",
    )
    parser.add_argument("--yes", action="store_true", help="do the move (default: plan only)")
    add_json(parser)
    parser.set_defaults(handler=run)


def _show(planned: Plan, *, as_json: bool, done: bool) -> None:
    if as_json:
        print_json({**planned.to_json(), "moved": done})
        return
    rows = [
        ("client", planned.client),
        ("from", planned.source),
        ("to", planned.destination),
        ("settings", ", ".join(planned.settings) or "none"),
        ("users", ", ".join(planned.users) or "none"),
        ("moved" if done else "movable", "yes" if planned.movable else "no"),
    ]
    print_table(("move", "value"), rows)
    for reason in planned.refusals:
        print(f"refused: {reason}")


def run(args: argparse.Namespace) -> int:
    config = settings()
    keycloak = connect(config)
    ring = key_ring(config)
    to_realm = args.to == "realm"
    if to_realm and not args.partner:
        raise ConfigError("--to realm needs --partner: the realm that holds the organization")
    exported = None
    if args.users_from is not None:
        try:
            text = args.users_from.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"--users-from: cannot read {args.users_from}: {exc}") from None
        exported = read_export(text, args.partner if to_realm else args.name)
    if to_realm:
        planned, _ = move.plan_back(keycloak, ring, args.partner, args.name, exported)
    else:
        planned, _ = move.plan(keycloak, ring, args.name, exported)
    if not args.yes or not planned.movable:
        _show(planned, as_json=args.json, done=False)
        return 0 if planned.movable else 1
    if to_realm:
        wires = wiring_of(config) if config.bridge_signing_key else None
        planned = move.move_to_realm(keycloak, ring, args.partner, args.name, exported, wires=wires)
    else:
        planned = move.move_to_organization(keycloak, ring, args.name, exported)
    _show(planned, as_json=args.json, done=True)
    return 0
