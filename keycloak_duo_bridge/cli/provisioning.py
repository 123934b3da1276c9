"""The CLI's provisioning steps: ``client create --duo-provision`` and
``client delete --duo-deprovision`` (issue 17)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from keycloak_duo_bridge.admin import duo_settings, provisioning, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.cli._admin import add_json, connect, print_json, settings
from keycloak_duo_bridge.cli._common import Subparsers, examples
from keycloak_duo_bridge.cli.duo_link import rest_options
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.settings import Settings, key_ring


def provision(config: Settings, keycloak: Keycloak, name: str, *, existed: bool) -> dict[str, Any]:
    """Provision ``name``'s Duo application; a realm this command created goes if it fails."""
    health = duo_settings.duo_health_check(
        config.duo_ca_file, allow_any_host=config.duo_allow_any_host
    )
    done = provisioning.provision_created(
        keycloak,
        name,
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


def planned(keycloak: Keycloak, name: str) -> list[str]:
    """What deprovisioning ``name`` would remove in Duo."""
    return provisioning.planned_removal(tenants.get_tenant(keycloak, name).attributes)


def deprovision(config: Settings, keycloak: Keycloak, name: str) -> list[str]:
    """Remove ``name``'s provisioned Duo objects."""
    return provisioning.deprovision(
        keycloak, name, ring=key_ring(config), options=rest_options(config)
    )


def register_rotate(actions: Subparsers) -> None:
    """Add ``rotate`` under ``duo``."""
    rotate = actions.add_parser(
        "rotate",
        help="new Duo keys for a provisioned client, through Duo's Admin API",
        description=(
            "Make a new Duo application for the provisioned client realm REALM through its"
            " partner's admin link, store its keys, prove them with Duo's health check, and"
            " only then retire the old application: logins that started with it finish with it"
            " for --grace seconds; `--retire` (or the next rotation) then deletes it."
        ),
        **examples(
            "keycloak-duo-bridge duo rotate globex",
            "keycloak-duo-bridge duo rotate globex --retire",
        ),
    )
    rotate.add_argument("realm", help="a client realm made with --duo-provision")
    rotate.add_argument(
        "--grace",
        type=int,
        default=provisioning.ROTATION_GRACE,
        metavar="SECONDS",
        help="how long the old application still finishes logins started with it before"
        f" `--retire` deletes it (default {provisioning.ROTATION_GRACE}; 0 deletes it at once)",
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
    if args.grace < 0:
        raise ConfigError("--grace is a number of seconds, 0 or more")
    if args.retire:
        return retire(config, args.realm, as_json=args.json)
    done = provisioning.rotate(
        connect(config),
        args.realm,
        ring=key_ring(config),
        options=rest_options(config),
        health=duo_settings.duo_health_check(
            config.duo_ca_file, allow_any_host=config.duo_allow_any_host
        ),
        grace=args.grace,
    )
    if args.json:
        print_json(
            {
                "realm": done.realm,
                "old_ikey": done.old_ikey,
                "new_ikey": done.new_ikey,
                "health_check": done.verification,
                "old_retiring_until": done.retiring_until or None,
            }
        )
    elif done.retiring_until:
        until = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(done.retiring_until))
        print(
            f"{done.realm}: Duo application {done.new_ikey} in use (health check:"
            f" {done.verification}); {done.old_ikey} finishes logins started with it until"
            f" {until}, then `duo rotate {done.realm} --retire` deletes it"
        )
    else:
        print(
            f"{done.realm}: Duo application {done.new_ikey} in use (health check:"
            f" {done.verification}); {done.old_ikey} deleted"
        )
    return 0


def retire(config: Settings, realm: str, *, as_json: bool) -> int:
    """``duo rotate REALM --retire``: delete the application a rotation left retiring."""
    ikey = provisioning.retire(
        connect(config), realm, ring=key_ring(config), options=rest_options(config)
    )
    if as_json:
        print_json({"realm": realm, "retired": ikey})
    else:
        print(f"{realm}: " + (f"Duo application {ikey} deleted" if ikey else "nothing retiring"))
    return 0
