"""An identity provider's Duo policy in Keycloak: the realm administrators' write and read.

Through the admin service only (CLI, admin API, console, fleet): it stores the realm
attribute ``kdb.duo.idps`` with the realm's record (see :mod:`.idp_policy` for the values).
"""

from __future__ import annotations

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import record
from keycloak_duo_bridge.admin.idp_policy import IdpPolicy, changed, parse_alias, parse_idps
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.tenants import get_tenant
from keycloak_duo_bridge.attributes import IdpMode
from keycloak_duo_bridge.errors import NotFoundError


def set_idp_policy(
    keycloak: Keycloak,
    realm: str,
    alias: str,
    policy: IdpPolicy,
    *,
    confirm_off: bool = False,
) -> bool:
    """Give the realm's identity provider ``alias`` this Duo policy (read-merge-write, with
    the realm's record); refuses an alias the realm has no identity provider for. Returns
    whether anything changed."""
    get_tenant(keycloak, realm)
    if parse_alias(alias) not in keycloak.get_idp_aliases(realm) and policy.mode is not IdpMode.DUO:
        raise NotFoundError(f"realm {realm!r} has no identity provider {alias!r}")
    current = dict(keycloak.get_realm(realm).get("attributes") or {})
    return record.store(keycloak, realm, changed(current, alias, policy, confirm_off=confirm_off))


def show_idp_policies(keycloak: Keycloak, realm: str) -> dict[str, IdpPolicy]:
    """Every identity provider of the realm with its policy (``duo`` when none is stored)."""
    get_tenant(keycloak, realm)
    text = (keycloak.get_realm(realm).get("attributes") or {}).get(attr.DUO_IDPS) or ""
    stored = parse_idps(text) if text else {}
    return {alias: stored.get(alias, IdpPolicy()) for alias in keycloak.get_idp_aliases(realm)}
