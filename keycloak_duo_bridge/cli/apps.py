"""``app`` (the per-application switch) and ``user`` (opt-in activation)."""

from __future__ import annotations

import argparse

from keycloak_duo_bridge.admin import apps, users
from keycloak_duo_bridge.cli._admin import add_json, connect, print_json, print_table, settings
from keycloak_duo_bridge.cli._common import Subparsers
from keycloak_duo_bridge.errors import ConfigError


def register(subparsers: Subparsers) -> None:
    app = subparsers.add_parser("app", help="per-application Duo mode, by clientId")
    actions = app.add_subparsers(title="actions", metavar="ACTION", required=True)
    put = actions.add_parser("set", help="set an application's Duo mode")
    put.add_argument("realm", nargs="?", help="the realm (or use --partner/--all-clients)")
    put.add_argument("client_id", nargs="?", metavar="CLIENT_ID")
    put.add_argument("--mode", required=True, choices=("required", "off", "inherit"))
    put.add_argument("--partner", help="with --all-clients: every client realm of a partner")
    put.add_argument("--all-clients", metavar="CLIENT_ID", help="the application, by clientId")
    add_json(put)
    put.set_defaults(handler=set_mode)
    listing = actions.add_parser("list", help="a realm's applications and their modes")
    listing.add_argument("realm")
    add_json(listing)
    listing.set_defaults(handler=list_apps)

    user = subparsers.add_parser("user", help="opt-in Duo activation of users")
    user_actions = user.add_subparsers(title="actions", metavar="ACTION", required=True)
    for name, activated in (("activate", True), ("deactivate", False), ("status", None)):
        action = user_actions.add_parser(name, help=f"{name} Duo for a user")
        action.add_argument("realm")
        action.add_argument("username")
        add_json(action)
        action.set_defaults(handler=user_command, activated=activated)


def set_mode(args: argparse.Namespace) -> int:
    keycloak = connect(settings())
    if args.partner or args.all_clients:
        if not (args.partner and args.all_clients) or args.realm or args.client_id:
            raise ConfigError("use either REALM CLIENT_ID, or --partner P --all-clients CLIENT_ID")
        results = apps.set_mode_across(keycloak, args.partner, args.all_clients, args.mode)
    elif args.realm and args.client_id:
        results = [apps.set_mode(keycloak, args.realm, args.client_id, args.mode)]
    else:
        raise ConfigError("use either REALM CLIENT_ID, or --partner P --all-clients CLIENT_ID")
    rows = [
        (
            r.realm,
            r.client_id,
            r.mode.value if r.mode else None,
            "absent" if r.mode is None else "changed" if r.written else "unchanged",
        )
        for r in results
    ]
    if args.json:
        print_json(
            [dict(zip(("realm", "client_id", "mode", "result"), r, strict=True)) for r in rows]
        )
    else:
        print_table(("realm", "application", "mode", "result"), rows)
    return 0


def list_apps(args: argparse.Namespace) -> int:
    found = apps.list_apps(connect(settings()), args.realm)
    if args.json:
        print_json(
            [{"client_id": a.client_id, "name": a.name, "mode": a.mode.value} for a in found]
        )
    else:
        print_table(
            ("application", "name", "mode"), [(a.client_id, a.name, a.mode.value) for a in found]
        )
    return 0


def user_command(args: argparse.Namespace) -> int:
    keycloak = connect(settings())
    if args.activated is not None:
        users.set_activated(keycloak, args.realm, args.username, activated=args.activated)
    status = users.status(keycloak, args.realm, args.username)
    if args.json:
        print_json(status.to_json())
    else:
        print_table(
            ("user", "realm", "activated", "groups"),
            [
                (
                    status.username,
                    status.realm,
                    "yes" if status.activated else "no",
                    ", ".join(status.groups) or None,
                )
            ],
        )
    return 0
