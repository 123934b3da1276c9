"""``console setup``: the console's sign-in client (``kdb-console``) where people sign in.

The console never creates its client on a request. New tenant realms get it in their create
call and wired realms when wired; this command sets it up (or brings it to
``KDB_BRIDGE_URL``) in the admin realm and in tenant realms made before, or after the
bridge moved.
"""

from __future__ import annotations

import argparse

from keycloak_duo_bridge.admin import console_client, tenants
from keycloak_duo_bridge.cli._admin import (
    add_json,
    bridge_url,
    connect,
    print_json,
    print_table,
    settings,
)
from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.errors import ConfigError


def register(subparsers: Subparsers) -> None:
    parser = subparsers.add_parser(
        "console",
        help="the console's sign-in client (kdb-console)",
        description="Manage kdb-console, the OIDC client people sign in to the console with.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    setup = actions.add_parser(
        "setup",
        help="create or update kdb-console in the admin realm and every tenant (or the named)",
        description=(
            "Create kdb-console, or bring it to KDB_BRIDGE_URL, in the admin realm and in every"
            " tenant realm (or only the named ones): for realms made before the console"
            " provisioned its client at creation, or after the bridge moved."
        ),
        **examples(
            "keycloak-duo-bridge console setup",
            "keycloak-duo-bridge console setup master acme globex",
        ),
    )
    setup.add_argument("realms", nargs="*", metavar="REALM", help="only these realms")
    add_json(setup)
    setup.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = settings()
    keycloak = connect(config)
    allowed = [config.keycloak_admin_realm, *(t.name for t in tenants.list_tenants(keycloak))]
    realms = list(dict.fromkeys(args.realms)) or allowed
    refused = [realm for realm in realms if realm not in allowed]
    if refused:  # checked before any write
        raise ConfigError(
            f"not a tenant nor the admin realm: {', '.join(refused)} (nothing was changed)"
        )
    url = bridge_url(config)
    written = {realm: console_client.ensure(keycloak, realm, url) for realm in realms}
    if args.json:
        print_json({"bridge_url": url, "written": written})
    else:
        rows = [(realm, "written" if done else "unchanged") for realm, done in written.items()]
        print_table(("realm", "kdb-console"), rows)
    return 0
