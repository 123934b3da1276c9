"""A client registration policy on every tenant realm: clients carry no ``kdb.*`` attributes.

Keycloak's client registration endpoint lets a developer with an initial access token, or a
client with its own registration token, write a client's attributes. Nothing the bridge or
the extension reads lives on a client (application modes are the realm attribute
``kdb.duo.apps``), and the extension's ``kdb-reserved-attributes`` policy keeps it that way:
it refuses a registration or update that carries a ``kdb.*`` attribute. It is added for both
anonymous and authenticated registration, next to Keycloak's default policies.
"""

from __future__ import annotations

from typing import Final

from keycloak_duo_bridge.admin.keycloak import Json, Keycloak

POLICY_TYPE: Final = "org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy"
PROVIDER_ID: Final = "kdb-reserved-attributes"
SUB_TYPES: Final = ("anonymous", "authenticated")


def component(realm_id: str, sub_type: str) -> Json:
    return {
        "name": "keycloak-duo-bridge reserved attributes",
        "providerId": PROVIDER_ID,
        "providerType": POLICY_TYPE,
        "parentId": realm_id,
        "subType": sub_type,
        "config": {},
    }


def ensure_policy(keycloak: Keycloak, realm: str, realm_id: str) -> int:
    """Add the policy where the realm lacks it; returns how many components were added."""
    present = {
        str(c.get("subType"))
        for c in keycloak.get_components(realm, POLICY_TYPE)
        if c.get("providerId") == PROVIDER_ID
    }
    missing = [s for s in SUB_TYPES if s not in present]
    for sub_type in missing:
        keycloak.create_component(realm, component(realm_id, sub_type))
    return len(missing)
