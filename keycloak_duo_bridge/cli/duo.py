"""``duo``: a realm's Duo credentials, switch and policy."""

from __future__ import annotations

import argparse
from pathlib import Path

from keycloak_duo_bridge.admin import duo_settings, record
from keycloak_duo_bridge.admin.duo_settings import Policy
from keycloak_duo_bridge.admin.tenants import get_tenant, list_tenants
from keycloak_duo_bridge.cli import duo_auth_api, duo_link, organizations, provisioning
from keycloak_duo_bridge.cli._admin import (
    add_json,
    connect,
    health_check,
    print_json,
    print_table,
    read_skey,
    settings,
    wiring_of,
)
from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.settings import key_ring


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "duo",
        help="a realm's Duo settings",
        description=(
            "A realm's Duo settings: credentials (encrypted skey), the on/off switch, and the"
            " policy. A client realm inherits what it does not set from its partner."
        ),
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    put = actions.add_parser(
        "set",
        help="store a realm's Duo credentials (checked first)",
        description=(
            "Store the realm's Duo Web SDK credentials. The skey is read from a file, an"
            " environment variable or a hidden prompt (never the command line), checked with"
            " Duo's health check, and stored encrypted under the active key of KDB_KEYRING."
        ),
        **examples(
            "keycloak-duo-bridge duo set globex --ikey DIXXXXXXXXXXXXXXXXXX"
            " --host api-xxxxxxxx.duosecurity.com --skey-file globex.skey",
            "DUO_SKEY=... keycloak-duo-bridge duo set acme --ikey DI... --host api-... "
            "--skey-env DUO_SKEY",
        ),
    )
    _realm(put)
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
    add_json(put)
    put.set_defaults(handler=set_credentials)

    clear = actions.add_parser(
        "clear",
        help="remove a realm's own credentials (use partner's)",
        description="Remove the realm's own Duo credentials, so it uses its partner's again.",
    )
    _realm(clear)
    add_json(clear)
    clear.set_defaults(handler=clear_credentials)

    policy = actions.add_parser(
        "policy",
        help="user mode, fail mode, bypass groups, remember",
        description=(
            "Set the realm's Duo policy; options not given stay as they are, and 'inherit'"
            " unsets one so the partner's value applies."
        ),
        **examples(
            "keycloak-duo-bridge duo policy acme --user-mode opt-in --bypass-group /staff",
            "keycloak-duo-bridge duo policy globex --fail-mode open --remember 480",
        ),
    )
    _realm(policy)
    policy.add_argument(
        "--user-mode",
        metavar="required|opt-in|inherit",
        help="required: every user passes Duo; opt-in: only users who activated it",
    )
    policy.add_argument(
        "--fail-mode",
        metavar="closed|open|inherit",
        help="when Duo is unreachable: closed refuses the login, open lets it through",
    )
    policy.add_argument(
        "--remember",
        metavar="session|every-login|MINUTES|inherit",
        help=(
            "when Duo asks again: once per Keycloak session, at every login, or after"
            " MINUTES (1-43200)"
        ),
    )
    policy.add_argument(
        "--self-deactivate",
        metavar="true|false|inherit",
        help="whether users may deactivate Duo themselves at /account/duo (default false)",
    )
    policy.add_argument(
        "--self-phones",
        metavar="off|add|manage|inherit",
        help="what users may do with their phones at /account/duo: nothing (default), register"
        " a mobile number, or register and remove their own",
    )
    policy.add_argument(
        "--duo-username",
        metavar="username|realm-qualified|email|inherit",
        help="how users are named to Duo (default: username with the realm's own credentials, "
        "realm-qualified 'realm:username' with a partner's; 'inherit' unsets)",
    )
    policy.add_argument(
        "--brokered-username",
        metavar="idp-subject|account|inherit",
        help="how users that an identity provider made are named to Duo (default idp-subject:"
        " 'idp:<alias>:<subject>', never a username they typed at first login; 'account' names"
        " them like local users)",
    )
    policy.add_argument(
        "--brokered-enrollment",
        metavar="allow|known-only|inherit",
        help="known-only: users an identity provider made must be known to Duo already (Duo's"
        " Auth API preauth, with the realm's `duo auth-api` credentials); an unknown one is"
        " denied instead of enrolling. allow (default): Duo's new-user policy decides",
    )
    policy.add_argument(
        "--bypass-group",
        action="append",
        metavar="PATH",
        help="a group path whose members skip Duo (repeat; 'inherit' unsets)",
    )
    add_json(policy)
    policy.set_defaults(handler=set_policy)

    for name, enabled, text, about in (
        (
            "enable",
            True,
            "switch Duo on and wire the realm",
            (
                "Switch Duo on for the realm and wire it to the bridge: the required action,"
                " the bridge's URL and its public keys."
            ),
        ),
        (
            "disable",
            False,
            "switch Duo off and remove the wiring",
            "Switch Duo off for the realm and remove its wiring to the bridge.",
        ),
        (
            "inherit",
            None,
            "follow the partner's switch again",
            "Drop the realm's own switch, so it follows its partner's again.",
        ),
    ):
        extra = (
            examples(
                "keycloak-duo-bridge duo enable globex",
                "keycloak-duo-bridge duo enable globex --assurance step-up",
            )
            if enabled
            else {}
        )
        action = actions.add_parser(name, help=text, description=about, **extra)
        _realm(action)
        if enabled:
            action.add_argument(
                "--assurance",
                metavar="enforce|step-up",
                help=(
                    "enforce: Duo at every login to an app that requires it (the required"
                    " action); step-up: Duo where an app asks for acr 'mfa' (acr_values, an"
                    " essential acr claim, or the app's minimum ACR), in a level-of-"
                    "authentication browser flow. Default: keep the realm's (enforce)"
                ),
            )
        add_json(action)
        action.set_defaults(handler=switch, enabled=enabled)

    sync = actions.add_parser(
        "sync",
        help="rewrite the settings record the Keycloak extension reads (kdb.resolved)",
        description=(
            "Resolve each realm's settings and rewrite its kdb.resolved record: after an"
            " attribute was edited by hand (the extension fails closed until then), or after"
            " an upgrade."
        ),
        **examples(
            "keycloak-duo-bridge duo sync globex",
            "keycloak-duo-bridge duo sync --all",
        ),
    )
    sync.add_argument("realm", nargs="*", help="the realms to sync")
    sync.add_argument("--all", action="store_true", help="every partner and client realm")
    add_json(sync)
    sync.set_defaults(handler=sync_records)

    show = actions.add_parser(
        "show",
        help="the realm's own Duo settings, skey masked",
        description=(
            "Show the Duo settings stored on the realm itself (explain shows the effective"
            " ones, with what the partner adds)."
        ),
    )
    _realm(show)
    add_json(show)
    show.set_defaults(handler=show_settings)

    duo_auth_api.register(actions)
    duo_link.register(actions)
    provisioning.register_rotate(actions)


def _realm(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("realm", help="the partner or client realm")
    organizations.add_org(parser)


def set_credentials(args: argparse.Namespace) -> int:
    if args.org:
        return organizations.set_credentials(args)
    config = settings()
    ring = key_ring(config)
    skey = read_skey(args)
    health = health_check(config, args)
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
    if args.json:
        print_json(
            {
                "realm": args.realm,
                "credentials": state,
                "health_check": str(result.verification),
                "ikey": args.ikey,
                "api_host": args.host,
            }
        )
    else:
        print(f"{args.realm}: Duo credentials {state} (health check: {result.verification})")
    return 0


def clear_credentials(args: argparse.Namespace) -> int:
    if args.org:
        return organizations.clear_credentials(args)
    written = duo_settings.clear_credentials(connect(settings()), args.realm)
    if args.json:
        print_json({"realm": args.realm, "credentials": "removed" if written else "not_set"})
    else:
        print(f"{args.realm}: own Duo credentials {'removed' if written else 'were not set'}")
    return 0


def set_policy(args: argparse.Namespace) -> int:
    policy = Policy(
        user_mode=args.user_mode,
        fail_mode=args.fail_mode,
        remember=args.remember,
        bypass_groups=args.bypass_group,
        self_deactivate=args.self_deactivate,
        self_phones=args.self_phones,
        duo_username=args.duo_username,
        brokered_username=args.brokered_username,
        brokered_enrollment=args.brokered_enrollment,
    )
    if args.org:
        return organizations.set_policy(args, policy)
    written = duo_settings.set_policy(connect(settings()), args.realm, policy)
    if args.json:
        print_json({"realm": args.realm, "policy": "saved" if written else "unchanged"})
    else:
        print(f"{args.realm}: Duo policy {'saved' if written else 'unchanged'}")
    return 0


def switch(args: argparse.Namespace) -> int:
    if args.org:
        if getattr(args, "assurance", None):
            raise ConfigError("assurance is the partner realm's own; set it without --org")
        return organizations.switch(args)
    config = settings()
    touched = duo_settings.set_enabled(
        connect(config),
        args.realm,
        enabled=args.enabled,
        wires=wiring_of(config),
        assurance=getattr(args, "assurance", None),
    )
    if args.json:
        state = {True: "on", False: "off", None: "inherit"}[args.enabled]
        print_json({"realm": args.realm, "enabled": state, "reconciled": list(touched)})
        return 0
    word = {True: "on", False: "off", None: "inherited from the partner"}[args.enabled]
    print(f"{args.realm}: Duo {word}; reconciled {', '.join(touched)}")
    return 0


def sync_records(args: argparse.Namespace) -> int:
    keycloak = connect(settings())
    if bool(args.all) == bool(args.realm):
        raise ConfigError("name the realms to sync, or pass --all (not both)")
    names = [t.name for t in list_tenants(keycloak)] if args.all else list(args.realm)
    for name in names:
        get_tenant(keycloak, name)  # every realm is a tenant before anything is written
    rewritten = [name for name in names if record.refresh(keycloak, name)]
    if args.json:
        print_json({"synced": names, "rewritten": rewritten})
    else:
        for name in names:
            print(f"{name}: record {'rewritten' if name in rewritten else 'already current'}")
    return 0


def show_settings(args: argparse.Namespace) -> int:
    if args.org:
        return organizations.show(args)
    shown = duo_settings.show(connect(settings()), args.realm)
    if args.json:
        print_json(shown)
    else:
        print_table(("setting", "value"), list(shown.items()))
    return 0
