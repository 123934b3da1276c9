"""The CLI's provisioning steps: ``client create --duo-provision`` and
``client delete --duo-deprovision`` (issue 17)."""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from typing import Any

from keycloak_duo_bridge.admin import duo_settings, organizations, provisioning
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.cli._admin import add_json, connect, print_json, settings
from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.cli.duo_link import rest_options
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.settings import Settings, key_ring


def provision(
    config: Settings, keycloak: Keycloak, client: provisioning.Client, *, existed: bool
) -> dict[str, Any]:
    """Provision ``client``'s Duo application (a client realm's, or a client organization's);
    a realm or organization this command created goes if it fails."""
    health = duo_settings.duo_health_check(
        config.duo_ca_file, allow_any_host=config.duo_allow_any_host
    )
    done = provisioning.provision_created(
        keycloak,
        client,
        existed=existed,
        ring=key_ring(config),
        options=rest_options(config),
        health=health,
    )
    return done.to_json()


def describe(name: str, done: dict[str, Any]) -> str:
    """One line about a provisioning run (never the skey)."""
    made = ", ".join(done["created"]) or "nothing new (found the recorded application)"
    return (
        f"{name}: Duo application {done['ikey']} at {done['api_host']} provisioned;"
        f" created: {made}; health check: {done['health_check']}"
    )


def planned(attributes: Mapping[str, str], *, wanted: bool) -> list[str]:
    """What ``--duo-deprovision`` (when ``wanted``) would remove in Duo for a client with
    these attributes."""
    return provisioning.planned_removal(attributes) if wanted else []


def also(in_duo: list[str]) -> str:
    """The end of ``client delete``'s question: what it removes in Duo too, if anything."""
    return f", and remove in Duo: {'; '.join(in_duo)}" if in_duo else ""


def deprovision(
    config: Settings, keycloak: Keycloak, client: provisioning.Client, in_duo: list[str]
) -> None:
    """Remove ``client``'s provisioned Duo objects when ``in_duo`` names some, and say so."""
    if in_duo:
        removed = provisioning.deprovision(
            keycloak, client, ring=key_ring(config), options=rest_options(config)
        )
        print(f"removed in Duo: {'; '.join(removed)}")


def register_rotate(actions: Subparsers) -> None:
    """Add ``rotate`` under ``duo``."""
    rotate = actions.add_parser(
        "rotate",
        help="new Duo keys for a provisioned client, through Duo's Admin API",
        description=(
            "Make a new Duo application for the provisioned client realm REALM (or, with"
            " --org, its provisioned client organization NAME) through its partner's admin"
            " link, store its keys, prove them with Duo's health check, and only then retire"
            " the old application: logins that started with it finish with it for --grace"
            " seconds; `--retire` (or the next rotation) then deletes it. An organization's"
            " old application is deleted at once (its members' logins in flight fail closed)."
        ),
        **examples(
            "keycloak-duo-bridge duo rotate globex",
            "keycloak-duo-bridge duo rotate globex --retire",
            "keycloak-duo-bridge duo rotate acme --org initech",
        ),
    )
    rotate.add_argument("realm", help="a client realm made with --duo-provision")
    rotate.add_argument(
        "--org",
        metavar="NAME",
        help="the client organization NAME inside partner realm REALM, made with --duo-provision",
    )
    rotate.add_argument(
        "--grace",
        type=int,
        metavar="SECONDS",
        help="how long the old application still finishes logins started with it before"
        f" `--retire` deletes it (default {provisioning.ROTATION_GRACE}; 0 deletes it at once;"
        " an organization takes only 0, its default)",
    )
    rotate.add_argument(
        "--retire",
        action="store_true",
        help="make no new keys: delete the application an earlier rotation left retiring",
    )
    add_json(rotate)
    rotate.set_defaults(handler=rotate_keys)


def rotate_keys(args: argparse.Namespace) -> int:
    config = settings()
    default = 0 if args.org else provisioning.ROTATION_GRACE
    grace = default if args.grace is None else args.grace
    if grace < 0:
        raise ConfigError("--grace is a number of seconds, 0 or more")
    keycloak = connect(config)
    client = organizations.get_organization(keycloak, args.realm, args.org) if args.org else None
    where = {"realm": args.realm, **({"organization": args.org} if args.org else {})}
    label = f"{args.realm} --org {args.org}" if args.org else args.realm
    if args.retire:
        ikey = provisioning.retire(
            keycloak, client or args.realm, ring=key_ring(config), options=rest_options(config)
        )
        if args.json:
            print_json({**where, "retired": ikey})
        else:
            print(
                f"{label}: " + (f"Duo application {ikey} deleted" if ikey else "nothing retiring")
            )
        return 0
    done = provisioning.rotate(
        keycloak,
        client or args.realm,
        ring=key_ring(config),
        options=rest_options(config),
        health=duo_settings.duo_health_check(
            config.duo_ca_file, allow_any_host=config.duo_allow_any_host
        ),
        grace=grace,
    )
    if args.json:
        print_json(
            {
                **where,
                "old_ikey": done.old_ikey,
                "new_ikey": done.new_ikey,
                "health_check": done.verification,
                "old_retiring_until": done.retiring_until or None,
            }
        )
    elif done.retiring_until:
        until = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(done.retiring_until))
        print(
            f"{label}: Duo application {done.new_ikey} in use (health check:"
            f" {done.verification}); {done.old_ikey} finishes logins started with it until"
            f" {until}, then `duo rotate {label} --retire` deletes it"
        )
    else:
        print(
            f"{label}: Duo application {done.new_ikey} in use (health check:"
            f" {done.verification}); {done.old_ikey} deleted"
        )
    return 0
