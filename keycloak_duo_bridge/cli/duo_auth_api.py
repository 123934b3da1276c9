"""``duo auth-api set|clear``: a realm's Duo Auth API credentials (Duo Push for CIBA, #16)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from keycloak_duo_bridge.admin import auth_api_settings
from keycloak_duo_bridge.admin import organizations as orgs
from keycloak_duo_bridge.cli import organizations
from keycloak_duo_bridge.cli._admin import add_json, connect, print_json, read_skey, settings
from keycloak_duo_bridge.cli._common import examples
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.settings import key_ring


def register(actions: Any) -> None:
    """Add ``auth-api`` under ``duo``'s actions."""
    parser = actions.add_parser(
        "auth-api",
        help="a realm's Duo Auth API credentials (Duo Push without a browser, CIBA)",
        description=(
            "Duo Push without a browser (Keycloak's CIBA grant) uses Duo's separate 'Auth API'"
            " application. Its ikey, skey and host are stored beside the Web SDK ones, the"
            " skey encrypted; a client realm (or client organization, with --org) without its"
            " own uses its partner's."
        ),
    )
    steps = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    put = steps.add_parser(
        "set",
        help="store the realm's Auth API credentials (checked with /auth/v2/check first)",
        description=(
            "Store the realm's Duo Auth API credentials. The skey is read from a file, an"
            " environment variable or a hidden prompt (never the command line), checked with"
            " Duo's /auth/v2/check, and stored encrypted under the active key of KDB_KEYRING."
        ),
        **examples(
            "keycloak-duo-bridge duo auth-api set globex --ikey DIXXXXXXXXXXXXXXXXXX"
            " --host api-xxxxxxxx.duosecurity.com --skey-file globex-authapi.skey",
            "keycloak-duo-bridge duo auth-api set acme --org initech --ikey DIXXXXXXXXXXXXXXXXXX"
            " --host api-xxxxxxxx.duosecurity.com --skey-env INITECH_AUTHAPI_SKEY",
        ),
    )
    put.add_argument("realm", help="the partner or client realm")
    organizations.add_org(put)
    put.add_argument("--ikey", required=True, help="integration key, 20 characters")
    put.add_argument("--host", required=True, help="API hostname[:port]")
    source = put.add_mutually_exclusive_group()
    source.add_argument("--skey-file", type=Path, metavar="F", help="read the skey from a file")
    source.add_argument("--skey-env", metavar="VAR", help="read the skey from an env variable")
    put.add_argument("--no-verify", action="store_true", help="skip the live /auth/v2/check")
    add_json(put)
    put.set_defaults(handler=set_auth_api)
    clear = steps.add_parser(
        "clear",
        help="remove the realm's own Auth API credentials (use the partner's)",
        description="Remove the realm's own Auth API credentials, so it uses its partner's.",
    )
    clear.add_argument("realm", help="the partner or client realm")
    organizations.add_org(clear)
    add_json(clear)
    clear.set_defaults(handler=clear_auth_api)


def set_auth_api(args: argparse.Namespace) -> int:
    config = settings()
    creds = AuthApiCredentials(args.ikey, read_skey(args), args.host)
    check = (
        None
        if args.no_verify
        else auth_api_settings.live_check(
            config.duo_ca_file,
            config.duo_read_timeout,
            allow_any_host=config.duo_allow_any_host,
        )
    )
    keycloak = connect(config)
    if args.org:
        result = orgs.set_auth_api(
            keycloak,
            orgs.get_organization(keycloak, args.realm, args.org),
            creds=creds,
            ring=key_ring(config),
            check=check,
        )
    else:
        result = auth_api_settings.set_auth_api(
            keycloak, args.realm, creds=creds, ring=key_ring(config), check=check
        )
    state = "saved" if result.written else "unchanged"
    if args.json:
        print_json(
            {
                **_holder(args),
                "auth_api": state,
                "check": result.verification,
                "ikey": args.ikey,
                "api_host": args.host,
            }
        )
    else:
        print(f"{_name(args)}: Duo Auth API credentials {state} (check: {result.verification})")
    return 0


def clear_auth_api(args: argparse.Namespace) -> int:
    keycloak = connect(settings())
    if args.org:
        found = orgs.get_organization(keycloak, args.realm, args.org)
        written = orgs.clear_auth_api(keycloak, found)
    else:
        written = auth_api_settings.clear_auth_api(keycloak, args.realm)
    if args.json:
        print_json({**_holder(args), "auth_api": "removed" if written else "not_set"})
    else:
        print(
            f"{_name(args)}: own Duo Auth API credentials "
            f"{'removed' if written else 'were not set'}"
        )
    return 0


def _holder(args: argparse.Namespace) -> dict[str, str]:
    """Whose credentials, for ``--json``: the realm, and the organization when one is named."""
    return {"realm": args.realm, **({"organization": args.org} if args.org else {})}


def _name(args: argparse.Namespace) -> str:
    return f"{args.realm} --org {args.org}" if args.org else args.realm
