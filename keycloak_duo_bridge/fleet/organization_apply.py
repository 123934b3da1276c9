"""Apply for clients kept as organizations of their partner's realm (docs/fleet.md).

The plan has already checked what :func:`~keycloak_duo_bridge.admin.organizations.
create_organization` checks per call (the partner is a partner, no realm has the name, the
organization is not there or is a client), from one read per name and one organization
listing per partner. So apply reads each partner realm once, switches its organizations on
when they are off, and then makes each new organization in two calls: the create, and one
write of its attributes (the skey sealed for the realm and the new organization's id) with
the record the extension reads. A changed organization is one write, from the
representation the plan's listing returned.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import auth_api_settings, organizations, record
from keycloak_duo_bridge.admin.auth_api_settings import AuthApiCheck
from keycloak_duo_bridge.admin.duo_settings import validate_credentials
from keycloak_duo_bridge.admin.effective import format_apps, parse_app_mode, parse_apps
from keycloak_duo_bridge.admin.keycloak import Json, Keycloak
from keycloak_duo_bridge.admin.record import ORGANIZATIONS_ENABLED
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.fleet.plan import (
    AUTH_API_KEYS,
    Action,
    RealmPlan,
    organization_attributes,
)
from keycloak_duo_bridge.fleet.spec import DeclaredCredentials


def prepare(keycloak: Keycloak, partners: Iterable[str]) -> dict[str, Json]:
    """Each partner realm's representation, read once, with its organizations switched on."""
    out: dict[str, Json] = {}
    for partner in sorted(set(partners)):
        representation = keycloak.get_realm(partner)
        if not representation.get(ORGANIZATIONS_ENABLED):
            record.store(keycloak, partner, fields={ORGANIZATIONS_ENABLED: True})
            representation[ORGANIZATIONS_ENABLED] = True
        out[partner] = representation
    return out


def converge(  # noqa: PLR0917 - one organization's plan and the apply's context
    keycloak: Keycloak,
    realm: RealmPlan,
    partner: Json,
    ring: KeyRing | None,
    app_modes: Mapping[str, str],
    auth_api_check: AuthApiCheck | None = None,
) -> organizations.Organization:
    """Create or change one client organization as its plan says; the organization. Its
    Auth API keys, when they change, are checked (``auth_api_check``) before anything is
    made or written."""
    spec = realm.spec
    assert spec is not None  # noqa: S101 - organizations are only declared ones
    name = str(spec.partner)
    credentials = spec.duo.credentials if realm.changed("duo.skey") else None
    if credentials is not None:  # checked before anything is made
        validate_credentials(
            credentials.ikey,
            credentials.skey.value,
            credentials.api_host,
            allow_any_host=keycloak.allow_any_duo_host,
        )
    auth_api = spec.duo.auth_api
    push = None
    if isinstance(auth_api, DeclaredCredentials) and any(map(realm.changed, AUTH_API_KEYS)):
        push = auth_api.auth_api_credentials()
        auth_api_settings.verify(push, auth_api_check, allow_any_host=keycloak.allow_any_duo_host)
    if (credentials is not None or push is not None) and ring is None:
        raise ConfigError("KDB_KEYRING and KDB_ACTIVE_KEY_ID must be set to store skeys")
    if realm.action is Action.CREATE:
        representation = organizations.new_representation(spec.name, spec.display_name)
        organization = organizations.add(keycloak, name, representation)
    else:
        representation = copy.deepcopy(dict(realm.current or {}))
        found = organizations.organization_of(name, representation)
        assert found is not None  # noqa: S101 - the plan refused a non-client one
        organization = found
        if realm.changed("display_name") and spec.display_name is not None:
            organizations.set_display_name(
                keycloak, organization, spec.display_name, representation
            )
    changes = organization_attributes(spec)
    if credentials is not None and ring is not None:
        changes[attr.DUO_SKEY] = organizations.seal_skey(ring, organization, credentials.skey.value)
    if push is not None and ring is not None and realm.changed("duo.auth_api.skey"):
        changes[attr.AUTH_API_SKEY] = ring.encrypt(
            push.skey, realm=organization.scope, attribute=attr.AUTH_API_SKEY
        )
    if app_modes:
        stored = organization.attributes.get(attr.DUO_APPS)
        modes = parse_apps(stored) if stored else {}
        modes.update({client_id: parse_app_mode(m) for client_id, m in app_modes.items()})
        changes[attr.DUO_APPS] = format_apps(modes)
    organizations.store(
        keycloak, organization, changes, representation=representation, partner=partner
    )
    return organization


def delete(keycloak: Keycloak, realm: RealmPlan) -> None:
    """Delete a client organization that ``--prune`` found undeclared."""
    found = organizations.organization_of(str(realm.partner), dict(realm.current or {}))
    assert found is not None  # noqa: S101 - the plan prunes client organizations only
    organizations.delete(keycloak, found)
