"""``explain REALM [--app CLIENT_ID] [--user USERNAME] [--idp ALIAS]``: effective settings
and the decision."""

from __future__ import annotations

import argparse

from keycloak_duo_bridge.admin import explain as explaining
from keycloak_duo_bridge.admin import organizations as orgs
from keycloak_duo_bridge.cli import organizations
from keycloak_duo_bridge.cli._admin import add_json, connect, print_json, print_table, settings
from keycloak_duo_bridge.cli._common import Subparsers, examples


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="a realm's effective Duo settings, their origins, and a login's decision",
        description=(
            "Show the realm's effective Duo settings, where each comes from (the realm, its"
            " partner or the default), and what a login would meet: Duo, a bypass, or a"
            " refusal, and why."
        ),
        **examples(
            "keycloak-duo-bridge explain globex",
            "keycloak-duo-bridge explain globex --app demo-app --user alice",
            "keycloak-duo-bridge explain acme --org initech --user bob",
        ),
    )
    parser.add_argument("realm", help="the partner or client realm")
    organizations.add_org(parser)
    parser.add_argument(
        "--app", metavar="CLIENT_ID", help="decide for this application (default: any)"
    )
    parser.add_argument(
        "--user",
        metavar="USERNAME",
        help="decide for this user, with their groups and activation (default: a plain user)",
    )
    parser.add_argument(
        "--idp",
        metavar="ALIAS",
        help="decide for a login through this identity provider (its Duo policy applies)",
    )
    add_json(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    keycloak = connect(settings())
    if args.org:
        found = explaining.explain_organization(
            keycloak,
            orgs.get_organization(keycloak, args.realm, args.org),
            app=args.app,
            username=args.user,
            idp=args.idp,
        )
    else:
        found = explaining.explain(
            keycloak, args.realm, app=args.app, username=args.user, idp=args.idp
        )
    if args.json:
        print_json(found.to_json())
        return 0
    effective = found.effective
    link = "" if effective.linked else ", link not proven: nothing inherited"
    partner = f" (partner {effective.partner}{link})" if effective.partner else ""
    member = f"organization {effective.organization} in " if effective.organization else ""
    print(f"{member}realm {effective.realm}{partner}")
    print_table(("setting", "value", "from"), found.rows())
    app = f"app {found.app} (mode {found.app_mode.value})" if found.app else "any app (inherit)"
    if found.username:
        groups = ", ".join(found.user_groups) or "no groups"
        state = "activated" if found.activated else "not activated"
        who = f"user {found.username} ({groups}; {state}; Duo username {found.duo_username})"
    else:
        who = "a user in no bypass group, not activated"
    through = f", through identity provider {found.idp}" if found.idp else ""
    print(f"login: {app}, {who}{through}")
    print(f"decision: {found.decision.outcome.value} - {found.decision.reason}")
    print(f"Keycloak's record: {found.record.value}")
    for problem in found.problems():
        print(f"problem: {problem}")
    return 0
