"""Clients kept as Keycloak Organizations inside their partner's realm (issue 18).

A partner realm may hold a client as an organization instead of a realm of its own. The
organization carries the client's Duo settings as organization attributes under the same
names as the realm attributes (``kdb.duo.ikey``, ``kdb.duo.user_mode``, ...), marked as a
client by ``kdb.tenant.kind = client``. The partner link needs no proof attribute: Keycloak
keeps the organization inside the partner's realm, and only a ``manage-realm`` admin of that
realm (or the admin service) writes organizations. What the organization leaves unset comes
from the partner realm (see :func:`~keycloak_duo_bridge.admin.effective.resolve_organization`).

The skey is sealed with the key ring bound to the realm *and* the organization's id (see
:func:`~keycloak_duo_bridge.admin.effective.organization_scope`), so a sealed value copied to
another organization or realm does not open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import auth_api_settings, record
from keycloak_duo_bridge.admin.auth_api_settings import AuthApiCheck
from keycloak_duo_bridge.admin.duo_settings import (
    HealthCheck,
    Policy,
    SetResult,
    own_settings,
    same_secret,
    validate_credentials,
    verify,
)
from keycloak_duo_bridge.admin.effective import (
    ORGANIZATION_ATTRIBUTES,
    EffectiveSettings,
    format_apps,
    organization_scope,
    parse_app_mode,
    parse_apps,
    resolve_effective,
    resolve_organization,
    single_values,
)
from keycloak_duo_bridge.admin.keycloak import Json, Keycloak
from keycloak_duo_bridge.admin.record import ORGANIZATIONS_ENABLED
from keycloak_duo_bridge.admin.templates import validate_realm_name
from keycloak_duo_bridge.admin.tenants import Tenant, get_tenant, tenant_of
from keycloak_duo_bridge.admin.users import find_user
from keycloak_duo_bridge.attributes import AppMode, TenantKind
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import ConfigError, NotFoundError


@dataclass(frozen=True)
class Organization:
    """A client kept as an organization of its partner's realm."""

    partner: str
    name: str
    id: str
    attributes: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    display_name: str | None = field(default=None, compare=False)  # its description

    @property
    def scope(self) -> str:
        """What the organization's sealed secrets are bound to."""
        return organization_scope(self.partner, self.id)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": "client", "as": "organization", "partner": self.partner}

    def describe(self) -> dict[str, Any]:
        """What ``client show`` and ``client list`` give: as :meth:`to_json`, with the name
        people see."""
        return {**self.to_json(), "display_name": self.display_name}


def organization_of(partner: str, representation: Json) -> Organization | None:
    """The client an organization representation stands for, or None for other ones."""
    attributes = single_values(representation)
    if attributes.get(attr.TENANT_KIND) != TenantKind.CLIENT:
        return None
    return Organization(
        partner,
        str(representation["name"]),
        str(representation["id"]),
        attributes,
        representation.get("description") or None,
    )


def get_organization(keycloak: Keycloak, partner: str, name: str) -> Organization:
    """The client ``name`` kept as an organization of ``partner``; NotFoundError if none."""
    found = keycloak.find_organization(partner, name)
    organization = organization_of(partner, found) if found is not None else None
    if organization is None:
        raise NotFoundError(f"partner {partner!r} has no client organization {name!r}")
    return organization


def list_organizations(keycloak: Keycloak, partner: str) -> list[Organization]:
    """The partner's clients kept as organizations, sorted by name."""
    return _listed(keycloak, keycloak.get_realm(partner))


def _listed(keycloak: Keycloak, partner: Json) -> list[Organization]:
    """The client organizations of a partner realm (its representation): one listing, none
    when its organizations are off."""
    if not partner.get(ORGANIZATIONS_ENABLED):
        return []
    name = str(partner["realm"])
    found = (organization_of(name, o) for o in keycloak.get_organizations(name))
    return sorted((o for o in found if o is not None), key=lambda o: o.name)


def _partners(realms: list[Json]) -> list[Json]:
    """The partner realms among ``realms`` that have organizations on."""
    return [
        r
        for r in realms
        if r.get(ORGANIZATIONS_ENABLED)
        and (r.get("attributes") or {}).get(attr.TENANT_KIND) == TenantKind.PARTNER
    ]


def find_client(keycloak: Keycloak, name: str, partner: str | None = None) -> Organization | None:
    """The client organization ``name`` when no realm is named so (a client name is unique
    across both mappings): looked up by name in each partner realm with organizations on,
    one search each; None when there is none. Two partners may each hold an organization
    of that name: then ``partner`` says which, and without it (or naming neither) the
    lookup refuses with ConfigError rather than pick one."""
    if keycloak.find_realm(name) is not None:
        return None
    found: list[Organization] = []
    for realm in _partners(keycloak.get_realms()):
        match = keycloak.find_organization(str(realm["realm"]), name)
        organization = organization_of(str(realm["realm"]), match) if match else None
        if organization is not None:
            found.append(organization)
    return _one(name, found, partner)


def _one(name: str, found: list[Organization], partner: str | None) -> Organization | None:
    """The organization of ``partner`` among ``found`` (all named ``name``), else the only
    one; ConfigError naming the partners when there are several and none is chosen."""
    chosen = [o for o in found if o.partner == partner]
    if chosen:
        return chosen[0]
    if len(found) > 1:
        partners = ", ".join(sorted(o.partner for o in found))
        raise ConfigError(
            f"client {name!r} is an organization in more than one partner realm"
            f" ({partners}): say which with --partner; nothing changed"
        )
    return found[0] if found else None


def tenant_tree(keycloak: Keycloak) -> list[Tenant | Organization]:
    """Every tenant, partners first, each partner's clients after it (realms and
    organizations), sorted by name: one realm listing, then one organization listing per
    partner realm with organizations on, never a call per organization."""
    realms = keycloak.get_realms()
    found: list[Tenant | Organization] = [t for t in map(tenant_of, realms) if t is not None]
    for partner in _partners(realms):
        found.extend(_listed(keycloak, partner))
    return sorted(found, key=_place)


def _place(tenant: Tenant | Organization) -> tuple[str, bool, str]:
    if isinstance(tenant, Organization):
        return (tenant.partner, True, tenant.name)
    return (tenant.partner or tenant.name, tenant.kind is TenantKind.CLIENT, tenant.name)


def update(keycloak: Keycloak, organization: Organization, *, display_name: str | None) -> bool:
    """Change the name people see (the organization's description); True if written."""
    if not display_name or display_name == organization.display_name:
        return False
    representation = keycloak.get_organization(organization.partner, organization.id)
    set_display_name(keycloak, organization, display_name, representation)
    return True


def refuse_move(organization: Organization, partner: str | None) -> None:
    """An organization stays with its partner: ConfigError naming why for another one."""
    if partner is not None and partner != organization.partner:
        raise ConfigError(
            f"client {organization.name!r} is an organization inside realm "
            f"{organization.partner!r}, whose users are its members: it cannot move to "
            f"partner {partner!r}; nothing changed"
        )


def member_count(keycloak: Keycloak, organization: Organization) -> int:
    """How many users of the partner realm are members of the organization."""
    return keycloak.get_organization_members_count(organization.partner, organization.id)


def delete(keycloak: Keycloak, organization: Organization) -> None:
    """Delete the organization and its Duo settings; its members stay users of the realm."""
    keycloak.delete_organization(organization.partner, organization.id)


def create_organization(
    keycloak: Keycloak, name: str, *, partner: str, display_name: str | None = None
) -> Organization:
    """Make the client ``name`` as an organization of ``partner``, or find the one there.

    Switches Keycloak's organizations on for the partner realm when they are off. A realm
    named ``name`` refuses, so a client name stays unique across both mappings.
    """
    validate_realm_name(name)
    get_tenant(keycloak, partner, TenantKind.PARTNER)
    if keycloak.find_realm(name) is not None:
        raise ConfigError(f"a realm named {name!r} exists: a client is a realm or an organization")
    existing = keycloak.find_organization(partner, name) if _enabled(keycloak, partner) else None
    if existing is not None:
        found = organization_of(partner, existing)
        if found is None:
            raise ConfigError(
                f"organization {name!r} already exists in realm {partner!r} and is not a client"
            )
        return found
    return make_organization(keycloak, name, partner=partner, display_name=display_name)


def make_organization(
    keycloak: Keycloak, name: str, *, partner: str, display_name: str | None = None
) -> Organization:
    """Make the client organization ``name`` in ``partner``'s realm, which has none of that
    name (the caller checked), switching the realm's organizations on."""
    record.store(keycloak, partner, fields={ORGANIZATIONS_ENABLED: True})
    keycloak.create_organization(partner, new_representation(name, display_name))
    made = get_organization(keycloak, partner, name)
    store(keycloak, made, {})  # its record, so the extension reads its members' settings
    return made


def new_representation(name: str, display_name: str | None = None) -> Json:
    """What a new client organization is made from: name = alias = the client's name."""
    return {
        "name": name,
        "alias": name,
        "enabled": True,
        "description": display_name or name,
        "attributes": {attr.TENANT_KIND: [TenantKind.CLIENT.value]},
    }


def add(keycloak: Keycloak, partner: str, representation: Json) -> Organization:
    """Make the organization ``representation`` (from :func:`new_representation`) in a partner
    realm whose organizations are on, in one call, without the checks of
    :func:`create_organization`: for a caller that made them already (``apply`` does, once
    per plan). ``representation`` gets the new organization's id."""
    representation["id"] = keycloak.create_organization(partner, representation)
    return Organization(
        partner,
        str(representation["name"]),
        representation["id"],
        single_values(representation),
        representation.get("description"),
    )


def set_display_name(
    keycloak: Keycloak, organization: Organization, display_name: str, representation: Json
) -> None:
    """Set the organization's display name (its description) in ``representation``, its
    current one, and write it."""
    representation["description"] = display_name
    keycloak.update_organization(organization.partner, organization.id, representation)


def _enabled(keycloak: Keycloak, partner: str) -> bool:
    return bool(keycloak.get_realm(partner).get(ORGANIZATIONS_ENABLED))


def store(
    keycloak: Keycloak,
    organization: Organization,
    changes: Mapping[str, str | None],
    *,
    representation: Json | None = None,
    partner: Json | None = None,
) -> bool:
    """Set (``None``: remove) organization settings, keeping the rest, with the record the
    extension reads; False, writing nothing, when nothing would change. The realm's own
    settings (the Duo username, brokered users' rules...) are refused. ``representation``
    (the organization's) and ``partner`` (its realm's), when the caller has them current,
    spare their reads."""
    unknown = sorted(set(changes) - set(ORGANIZATION_ATTRIBUTES))
    if unknown:
        raise ConfigError(f"{unknown[0]} is the realm's own setting, not an organization's")
    if representation is None:
        representation = keycloak.get_organization(organization.partner, organization.id)
    return record.store_organization(
        keycloak, organization.partner, representation, changes, partner
    )


def seal_skey(ring: KeyRing, organization: Organization, skey: str) -> str:
    """The organization's skey sealed, bound to its realm and its id."""
    return ring.encrypt(skey, realm=organization.scope, attribute=attr.DUO_SKEY)


def set_app_mode(keycloak: Keycloak, organization: Organization, client_id: str, mode: str) -> bool:
    """Set an application's Duo mode for the organization's members (``inherit``: the
    partner realm's); the application is one of the partner realm's. True if written."""
    wanted = parse_app_mode(mode)
    if keycloak.find_client(organization.partner, client_id) is None:
        raise NotFoundError(
            f"application {client_id!r} does not exist in realm {organization.partner!r}"
        )
    current = single_values(keycloak.get_organization(organization.partner, organization.id))
    text = current.get(attr.DUO_APPS)
    modes = parse_apps(text) if text else {}
    modes[client_id] = wanted
    if wanted is AppMode.INHERIT:
        del modes[client_id]
    return store(keycloak, organization, {attr.DUO_APPS: format_apps(modes)})


@dataclass(frozen=True)
class Resolved:
    """An organization's effective settings, and its partner realm's."""

    organization: EffectiveSettings
    partner: EffectiveSettings


def resolve(keycloak: Keycloak, organization: Organization) -> Resolved:
    """The settings a member of ``organization`` gets, and the partner realm's."""
    representation = keycloak.get_realm(organization.partner)
    own: dict[str, str] = dict(representation.get("attributes") or {})
    partner = resolve_effective(
        own, None, realm=organization.partner, realm_id=str(representation.get("id") or "")
    )
    settings = resolve_organization(
        organization.attributes,
        partner,
        own,
        organization=organization.name,
        organization_id=organization.id,
    )
    return Resolved(settings, partner)


# -- the `duo` commands on an organization ----------------------------------------------


def set_credentials(
    keycloak: Keycloak,
    organization: Organization,
    *,
    ikey: str,
    skey: str,
    api_host: str,
    ring: KeyRing,
    health: HealthCheck | None,
    allow_unverified: bool = False,
) -> SetResult:
    """Check, then store the organization's own Duo credentials (the skey sealed for it)."""
    validate_credentials(ikey, skey, api_host, allow_any_host=keycloak.allow_any_duo_host)
    holder = f"organization {organization.name} of realm {organization.partner}"
    verification = verify(
        ikey, skey, api_host, health, allow_unverified=allow_unverified, holder=holder
    )
    current = organization.attributes
    if (
        current.get(attr.DUO_IKEY) == ikey
        and current.get(attr.DUO_API_HOST) == api_host
        and same_secret(ring, current.get(attr.DUO_SKEY), skey, organization.scope)
    ):
        return SetResult(organization.name, written=False, verification=verification)
    sealed = seal_skey(ring, organization, skey)
    changes = {attr.DUO_IKEY: ikey, attr.DUO_API_HOST: api_host, attr.DUO_SKEY: sealed}
    written = store(keycloak, organization, changes)
    return SetResult(organization.name, written=written, verification=verification)


def clear_credentials(keycloak: Keycloak, organization: Organization) -> bool:
    """Remove the organization's own credentials, so its members use the partner's."""
    return store(
        keycloak, organization, {attr.DUO_IKEY: None, attr.DUO_API_HOST: None, attr.DUO_SKEY: None}
    )


def set_auth_api(
    keycloak: Keycloak,
    organization: Organization,
    *,
    creds: AuthApiCredentials,
    ring: KeyRing,
    check: AuthApiCheck | None,
) -> SetResult:
    """Check, then store the organization's own Duo Auth API credentials (Duo Push for its
    members' CIBA logins), the skey sealed for it; ``check=None`` skips the live check."""
    any_host = keycloak.allow_any_duo_host
    validate_credentials(creds.ikey, creds.skey, creds.api_host, allow_any_host=any_host)
    verification = auth_api_settings.verify(creds, check, allow_any_host=any_host)
    current = organization.attributes
    if (
        current.get(attr.AUTH_API_IKEY) == creds.ikey
        and current.get(attr.AUTH_API_HOST) == creds.api_host
        and auth_api_settings.same_secret(
            ring, current.get(attr.AUTH_API_SKEY), creds.skey, organization.scope
        )
    ):
        return SetResult(organization.name, written=False, verification=verification)
    sealed = ring.encrypt(creds.skey, realm=organization.scope, attribute=attr.AUTH_API_SKEY)
    changes = {
        attr.AUTH_API_IKEY: creds.ikey,
        attr.AUTH_API_HOST: creds.api_host,
        attr.AUTH_API_SKEY: sealed,
    }
    return SetResult(
        organization.name, written=store(keycloak, organization, changes), verification=verification
    )


def clear_auth_api(keycloak: Keycloak, organization: Organization) -> bool:
    """Remove the organization's own Auth API credentials, so its members use the partner's."""
    return store(
        keycloak,
        organization,
        {attr.AUTH_API_IKEY: None, attr.AUTH_API_HOST: None, attr.AUTH_API_SKEY: None},
    )


def set_policy(keycloak: Keycloak, organization: Organization, policy: Policy) -> bool:
    """Validate all of ``policy`` first, then write it in one read-merge-write. The Duo
    username and brokered users' rules are the realm's own: set on an organization, refused."""
    return store(keycloak, organization, policy.changes())


def set_enabled(keycloak: Keycloak, organization: Organization, *, enabled: bool | None) -> bool:
    """Switch Duo on (True), off (False) or back to the partner's (None) for the members.

    Switching on refuses when the members would have no credentials (own or partner's).
    """
    if enabled:
        changed = {**organization.attributes, attr.DUO_ENABLED: "true"}
        settings = resolve(keycloak, replace(organization, attributes=changed)).organization
        if settings.credentials.value is None:
            raise ConfigError(
                f"organization {organization.name!r} has no Duo credentials (nor has partner "
                f"{organization.partner!r}); run `duo set {organization.partner} "
                f"--org {organization.name}` first"
            )
    value = None if enabled is None else str(enabled).lower()
    return store(keycloak, organization, {attr.DUO_ENABLED: value})


def show(organization: Organization) -> dict[str, Any]:
    """The organization's own Duo attributes, skey masked (``explain`` shows inherited ones)."""
    a = organization.attributes
    return {
        "organization": organization.name,
        "partner": organization.partner,
        **own_settings(a),
        "apps": a.get(attr.DUO_APPS),
    }


def summary(organization: Organization) -> dict[str, Any]:
    """What ``client show`` gives: where the client lives, and its own Duo settings."""
    own = show(organization)
    del own["organization"], own["partner"]
    return {**organization.describe(), "duo": own}


def member_of(keycloak: Keycloak, partner: str, user_id: str) -> set[str]:
    """The ids of the organizations a user of ``partner``'s realm is a member of, from
    Keycloak's membership (never from the user's or a client's attributes)."""
    if not _enabled(keycloak, partner):
        return set()
    return {str(o["id"]) for o in keycloak.get_user_organizations(partner, user_id)}


def client_organizations(
    keycloak: Keycloak, partner: str, ids: Iterable[str]
) -> list[Organization]:
    """The client organizations of ``partner`` among ``ids`` (other organizations are left
    out), by id: one read each."""
    found = (organization_of(partner, keycloak.get_organization(partner, i)) for i in sorted(ids))
    return [organization for organization in found if organization is not None]


def add_member(keycloak: Keycloak, organization: Organization, username: str) -> bool:
    """Make a user of the partner's realm a member of the organization; True if added."""
    user = find_user(keycloak, organization.partner, username)
    if organization.id in member_of(keycloak, organization.partner, str(user["id"])):
        return False
    keycloak.add_organization_member(organization.partner, organization.id, str(user["id"]))
    return True
