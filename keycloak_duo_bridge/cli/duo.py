"""``duo``: a realm's Duo credentials, switch and policy."""

from __future__ import annotations

import argparse
from pathlib import Path

from keycloak_duo_bridge.admin import duo_settings
from keycloak_duo_bridge.admin.duo_settings import Policy
from keycloak_duo_bridge.cli._admin import (
    add_json,
    connect,
    print_json,
    print_table,
    read_skey,
    settings,
    wiring_of,
)
from keycloak_duo_bridge.cli._common import Subparsers
from keycloak_duo_bridge.settings import key_ring


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser("duo", help="a realm's Duo settings")
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    put = actions.add_parser("set", help="store a realm's Duo credentials (checked first)")
    put.add_argument("realm")
    put.add_argument("--ikey", required=True, help="integration key (client id), 20 characters")
    put.add_argument("--host", required=True, help="API hostname[:port]")
    source = put.add_mutually_exclusive_group()
    source.add_argument("--skey-file", type=Path, metavar="F", help="read the skey from a file")
    source.add_argument("--skey-env", metavar="VAR", help="read the skey from an env variable")
    verify = put.add_mutually_exclusive_group()
    verify.add_argument("--no-verify", action="store_true", help="skip the live health check")
    verify.add_argument(
        "--allow-unverified", action="store_true", help="save even if Duo is unreachable"
    )
    put.set_defaults(handler=set_credentials)

    clear = actions.add_parser("clear", help="remove a realm's own credentials (use partner's)")
    clear.add_argument("realm")
    clear.set_defaults(handler=clear_credentials)

    policy = actions.add_parser("policy", help="user mode, fail mode, bypass groups, remember")
    policy.add_argument("realm")
    policy.add_argument("--user-mode", metavar="required|opt-in|inherit")
    policy.add_argument("--fail-mode", metavar="closed|open|inherit")
    policy.add_argument("--remember", metavar="session|every-login|MINUTES|inherit")
    policy.add_argument(
        "--self-deactivate",
        metavar="true|false|inherit",
        help="whether users may deactivate Duo themselves at /account/duo (default false)",
    )
    policy.add_argument(
        "--bypass-group",
        action="append",
        metavar="PATH",
        help="a group path whose members skip Duo (repeat; 'inherit' unsets)",
    )
    policy.set_defaults(handler=set_policy)

    for name, enabled, text in (
        ("enable", True, "switch Duo on and wire the realm"),
        ("disable", False, "switch Duo off and remove the wiring"),
        ("inherit", None, "follow the partner's switch again"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("realm")
        action.set_defaults(handler=switch, enabled=enabled)

    show = actions.add_parser("show", help="the realm's own Duo settings, skey masked")
    show.add_argument("realm")
    add_json(show)
    show.set_defaults(handler=show_settings)


def set_credentials(args: argparse.Namespace) -> int:
    config = settings()
    ring = key_ring(config)
    skey = read_skey(args)
    health = (
        None
        if args.no_verify
        else duo_settings.duo_health_check(
            config.duo_ca_file, allow_any_host=config.duo_allow_any_host
        )
    )
    result = duo_settings.set_credentials(
        connect(config),
        args.realm,
        ikey=args.ikey,
        skey=skey,
        api_host=args.host,
        ring=ring,
        health=health,
        allow_unverified=args.allow_unverified,
    )
    state = "saved" if result.written else "unchanged"
    print(f"{args.realm}: Duo credentials {state} (health check: {result.verification})")
    return 0


def clear_credentials(args: argparse.Namespace) -> int:
    written = duo_settings.clear_credentials(connect(settings()), args.realm)
    print(f"{args.realm}: own Duo credentials {'removed' if written else 'were not set'}")
    return 0


def set_policy(args: argparse.Namespace) -> int:
    policy = Policy(
        user_mode=args.user_mode,
        fail_mode=args.fail_mode,
        remember=args.remember,
        bypass_groups=args.bypass_group,
        self_deactivate=args.self_deactivate,
    )
    written = duo_settings.set_policy(connect(settings()), args.realm, policy)
    print(f"{args.realm}: Duo policy {'saved' if written else 'unchanged'}")
    return 0


def switch(args: argparse.Namespace) -> int:
    config = settings()
    touched = duo_settings.set_enabled(
        connect(config), args.realm, enabled=args.enabled, wires=wiring_of(config)
    )
    word = {True: "on", False: "off", None: "inherited from the partner"}[args.enabled]
    print(f"{args.realm}: Duo {word}; reconciled {', '.join(touched)}")
    return 0


def show_settings(args: argparse.Namespace) -> int:
    shown = duo_settings.show(connect(settings()), args.realm)
    if args.json:
        print_json(shown)
    else:
        print_table(("setting", "value"), list(shown.items()))
    return 0
