"""``duo admin-link``: a partner's Duo Admin API (or Accounts API) credentials."""

from __future__ import annotations

import argparse
from pathlib import Path

from keycloak_duo_bridge.admin import duo_link
from keycloak_duo_bridge.cli._admin import add_json, connect, print_json, read_skey, settings
from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.duo.rest_client import RestOptions
from keycloak_duo_bridge.duo.rest_protocol import Api
from keycloak_duo_bridge.settings import Settings, key_ring


def rest_options(config: Settings) -> RestOptions:
    """Our Duo TLS settings (KDB_DUO_CA_FILE, KDB_DUO_ALLOW_ANY_HOST) for the REST APIs."""
    return RestOptions(ca_file=config.duo_ca_file, allow_any_host=config.duo_allow_any_host)


def register(actions: Subparsers) -> None:
    """Add ``admin-link set|clear`` under ``duo``."""
    parser = actions.add_parser(
        "admin-link",
        help="a partner's Duo Admin/Accounts API link, for provisioning",
        description=(
            "A partner's Duo Admin API credentials (or, for a managed-service provider, its"
            " Accounts API credentials), with which `client create --duo-provision` makes each"
            " client's Duo application. Never inherited by client realms."
        ),
    )
    link = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    put = link.add_parser(
        "set",
        help="store the link (checked live first)",
        description=(
            "Store the partner's Duo admin link. The skey is read from a file or an"
            " environment variable (never the command line), checked with a live call that"
            " provisioning needs, and stored encrypted under the active key of KDB_KEYRING."
        ),
        **examples(
            "keycloak-duo-bridge duo admin-link set acme --ikey DI... --host api-... "
            "--skey-file acme-admin.skey",
            "keycloak-duo-bridge duo admin-link set msp --ikey DI... --host api-... "
            "--skey-env DUO_ACCOUNTS_SKEY --accounts",
        ),
    )
    put.add_argument("partner", help="the partner realm")
    put.add_argument("--ikey", required=True, help="the Admin/Accounts API integration key")
    put.add_argument("--host", required=True, help="API hostname[:port]")
    source = put.add_mutually_exclusive_group()
    source.add_argument("--skey-file", type=Path, metavar="F", help="read the skey from a file")
    source.add_argument("--skey-env", metavar="VAR", help="read the skey from an env variable")
    put.add_argument(
        "--accounts",
        action="store_true",
        help="Accounts API credentials: each client gets its own Duo child account",
    )
    put.add_argument("--no-verify", action="store_true", help="skip the live check")
    add_json(put)
    put.set_defaults(handler=set_link)

    clear = link.add_parser(
        "clear",
        help="remove the link",
        description="Remove the partner's Duo admin link; provisioned applications stay.",
    )
    clear.add_argument("partner", help="the partner realm")
    add_json(clear)
    clear.set_defaults(handler=clear_link)


def set_link(args: argparse.Namespace) -> int:
    config = settings()
    skey = read_skey(args)
    result = duo_link.set_link(
        connect(config),
        args.partner,
        ikey=args.ikey,
        skey=skey,
        api_host=args.host,
        api=Api.ACCOUNTS if args.accounts else Api.ADMIN,
        ring=key_ring(config),
        check=None if args.no_verify else duo_link.live_check(rest_options(config)),
    )
    state = "saved" if result.written else "unchanged"
    if args.json:
        print_json(
            {
                "partner": args.partner,
                "admin_link": state,
                "api": result.api.value,
                "check": result.verification,
            }
        )
    else:
        print(f"{args.partner}: Duo {result.api.label} link {state} (check: {result.verification})")
    return 0


def clear_link(args: argparse.Namespace) -> int:
    written = duo_link.clear_link(connect(settings()), args.partner)
    state = "removed" if written else "not_set"
    if args.json:
        print_json({"partner": args.partner, "admin_link": state})
    else:
        print(f"{args.partner}: Duo admin link {'removed' if written else 'was not set'}")
    return 0
