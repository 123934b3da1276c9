"""``app`` (the per-application switch) and ``user`` (opt-in activation)."""

from __future__ import annotations

import argparse

from keycloak_duo_bridge.admin import apps, users
from keycloak_duo_bridge.cli import organizations, phones
from keycloak_duo_bridge.cli._admin import add_json, connect, print_json, print_table, settings
from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.errors import ConfigError


def register(subparsers: Subparsers) -> None:
    app = subparsers.add_parser(
        "app",
        help="per-application Duo mode, by clientId",
        description=(
            "Each application (Keycloak client, by clientId) of a realm asks for Duo when"
            " the realm does (inherit), always (required), or never (off)."
        ),
    )
    actions = app.add_subparsers(title="actions", metavar="ACTION", required=True)

    put = actions.add_parser(
        "set",
        help="set an application's Duo mode",
        description=(
            "Set the Duo mode of one application in one realm, or of the same application"
            " in every client realm of a partner."
        ),
        **examples(
            "keycloak-duo-bridge app set globex demo-app --mode required",
            "keycloak-duo-bridge app set --partner acme --all-clients payroll --mode off",
            "keycloak-duo-bridge app set acme payroll --org initech --mode required",
        ),
    )
    put.add_argument("realm", nargs="?", help="the realm (or use --partner/--all-clients)")
    put.add_argument(
        "client_id", nargs="?", metavar="CLIENT_ID", help="the application, by clientId"
    )
    put.add_argument(
        "--mode",
        required=True,
        choices=("required", "off", "inherit"),
        help="required: always Duo; off: never; inherit: as the realm says",
    )
    put.add_argument("--partner", help="with --all-clients: every client realm of a partner")
    organizations.add_org(put)
    put.add_argument("--all-clients", metavar="CLIENT_ID", help="the application, by clientId")
    add_json(put)
    put.set_defaults(handler=set_mode)

    acr = actions.add_parser(
        "min-acr",
        help="the lowest acr a login to an application may end at",
        description=(
            "Set the application's minimum ACR (Keycloak's own client setting): 'mfa' makes"
            " every login to it pass Duo in a realm whose assurance is step-up, the standard"
            " alternative to --mode required; 'none' removes it."
        ),
        **examples("keycloak-duo-bridge app min-acr globex payroll mfa"),
    )
    acr.add_argument("realm", help="the realm")
    acr.add_argument("client_id", metavar="CLIENT_ID", help="the application, by clientId")
    acr.add_argument("acr", metavar="mfa|pwd|none", help="the minimum acr, or none")
    add_json(acr)
    acr.set_defaults(handler=set_minimum_acr)

    listing = actions.add_parser(
        "list",
        help="a realm's applications and their modes",
        description="List the realm's applications (clientId, name) and their Duo modes.",
        **examples("keycloak-duo-bridge app list globex --json"),
    )
    listing.add_argument("realm", help="the realm whose applications to list")
    add_json(listing)
    listing.set_defaults(handler=list_apps)

    user = subparsers.add_parser(
        "user",
        help="opt-in Duo activation of users, and their phones at Duo",
        description=(
            "In an opt-in realm, Duo asks only users who activated it. These commands"
            " activate or deactivate Duo for a user, or show whether it is."
        ),
    )
    user_actions = user.add_subparsers(title="actions", metavar="ACTION", required=True)
    for name, activated, about in (
        ("activate", True, "Activate Duo for USERNAME: from the next login, Duo asks them."),
        ("deactivate", False, "Deactivate Duo for USERNAME in an opt-in realm."),
        ("status", None, "Show whether Duo is activated for USERNAME, and their groups."),
    ):
        action = user_actions.add_parser(
            name,
            help=f"{name} Duo for a user" if activated is not None else "is Duo on for a user",
            description=about,
            **examples(f"keycloak-duo-bridge user {name} globex alice"),
        )
        action.add_argument("realm", help="the user's realm")
        action.add_argument("username", help="the user's Keycloak username")
        add_json(action)
        action.set_defaults(handler=user_command, activated=activated)
    phones.register(user_actions)


def set_mode(args: argparse.Namespace) -> int:
    if args.org:
        if args.partner or args.all_clients or not (args.realm and args.client_id):
            raise ConfigError("with --org, name the partner realm and the CLIENT_ID")
        return organizations.set_app_mode(args)
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


def set_minimum_acr(args: argparse.Namespace) -> int:
    value = None if args.acr == "none" else args.acr
    written = apps.set_minimum_acr(connect(settings()), args.realm, args.client_id, value)
    if args.json:
        print_json(
            {
                "realm": args.realm,
                "client_id": args.client_id,
                "minimum_acr": value,
                "result": "changed" if written else "unchanged",
            }
        )
    else:
        state = "changed" if written else "unchanged"
        print(f"{args.realm} {args.client_id}: minimum acr {value or 'none'} ({state})")
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
