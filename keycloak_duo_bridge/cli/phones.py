"""``user phone add|list|remove``: a user's phones at Duo, for the helpdesk (issue 17)."""

from __future__ import annotations

import argparse

from keycloak_duo_bridge.admin import phones
from keycloak_duo_bridge.cli._admin import add_json, connect, print_json, print_table, settings
from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.cli.duo_link import rest_options
from keycloak_duo_bridge.settings import key_ring


def register(user_actions: Subparsers) -> None:
    """Add ``phone`` under ``user``."""
    parser = user_actions.add_parser(
        "phone",
        help="a user's phones at Duo (helpdesk)",
        description=(
            "Register, list or remove a user's phones at Duo, through the Admin API of the"
            " Duo account the realm's partner linked (`duo admin-link set`). The user is named"
            " to Duo under the realm's username mapping, as at login. Numbers are E.164 and"
            " shown masked (the last four digits)."
        ),
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    add = actions.add_parser(
        "add",
        help="register a mobile number and text it Duo's activation",
        description=(
            "Find or create the user at Duo, add the mobile NUMBER (E.164, e.g."
            " +15555550123) and send the SMS activation. A failure midway removes what this"
            " run made."
        ),
        **examples("keycloak-duo-bridge user phone add globex alice +15555550123"),
    )
    listing = actions.add_parser(
        "list",
        help="the user's phones: id, type, last four digits",
        description="List the user's phones at Duo: Duo's phone id, type and last four digits.",
        **examples("keycloak-duo-bridge user phone list globex alice --json"),
    )
    remove = actions.add_parser(
        "remove",
        help="remove one of the user's phones",
        description="Remove the user's phone PHONE_ID (from `user phone list`) from Duo.",
        **examples("keycloak-duo-bridge user phone remove globex alice DPXXXXXXXXXXXXXXXXXX"),
    )
    for action, handler in ((add, add_phone), (listing, list_phones), (remove, remove_phone)):
        action.add_argument("realm", help="the user's realm")
        action.add_argument("username", help="the user's Keycloak username")
        add_json(action)
        action.set_defaults(handler=handler)
    add.add_argument("number", metavar="NUMBER", help="the mobile number, E.164")
    remove.add_argument("phone_id", metavar="PHONE_ID", help="Duo's id of the phone")


def add_phone(args: argparse.Namespace) -> int:
    config = settings()
    added = phones.add_phone(
        connect(config),
        args.realm,
        args.username,
        args.number,
        ring=key_ring(config),
        options=rest_options(config),
    )
    if args.json:
        print_json(added.to_json())
    else:
        made = ", ".join(added.created) or "nothing new"
        print(
            f"{args.realm} {args.username}: phone {added.device.masked} ({added.device.phone_id})"
            f" registered for Duo user {added.duo_user!r}; created: {made}; SMS activation sent"
        )
    return 0


def list_phones(args: argparse.Namespace) -> int:
    config = settings()
    found = phones.list_devices(
        connect(config),
        args.realm,
        args.username,
        ring=key_ring(config),
        options=rest_options(config),
    )
    if args.json:
        print_json([d.to_json() for d in found])
    else:
        print_table(("phone id", "type", "number"), [(d.phone_id, d.type, d.masked) for d in found])
    return 0


def remove_phone(args: argparse.Namespace) -> int:
    config = settings()
    removed = phones.remove_phone(
        connect(config),
        args.realm,
        args.username,
        args.phone_id,
        ring=key_ring(config),
        options=rest_options(config),
    )
    if args.json:
        print_json({"removed": removed.to_json()})
    else:
        print(f"{args.realm} {args.username}: phone {removed.masked} removed from Duo")
    return 0
