"""The CLI's provisioning steps: ``client create --duo-provision`` and
``client delete --duo-deprovision`` (issue 17)."""

from __future__ import annotations

from typing import Any

from keycloak_duo_bridge.admin import duo_settings, provisioning, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.cli.duo_link import rest_options
from keycloak_duo_bridge.errors import NotFoundError
from keycloak_duo_bridge.settings import Settings, key_ring


def exists(keycloak: Keycloak, name: str) -> bool:
    """Whether the tenant realm is there already (a failed provisioning keeps it then)."""
    try:
        tenants.get_tenant(keycloak, name)
    except NotFoundError:
        return False
    return True


def provision(config: Settings, keycloak: Keycloak, name: str, *, existed: bool) -> dict[str, Any]:
    """Provision ``name``'s Duo application; a realm this command created goes if it fails."""
    health = duo_settings.duo_health_check(
        config.duo_ca_file, allow_any_host=config.duo_allow_any_host
    )
    try:
        done = provisioning.provision(
            keycloak, name, ring=key_ring(config), options=rest_options(config), health=health
        )
    except BaseException:
        if not existed:
            tenants.delete_tenant(keycloak, name)
        raise
    return {
        "ikey": done.ikey,
        "api_host": done.api_host,
        "account_id": done.account_id,
        "created": list(done.created),
        "health_check": done.verification,
    }


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
