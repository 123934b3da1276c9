"""``client move NAME --to organization``: a client realm becomes an organization of its
partner's realm, with its Duo settings, its users and their credentials.

The plan comes first (:mod:`~keycloak_duo_bridge.admin.move_plan`): a refusal writes
nothing. Then, in this order, so the source is never lost: the organization is made and
given the client's Duo settings (each secret re-sealed for the organization, never its
sealed bytes copied); the users are made in the partner realm as its members, with their
groups and credentials; the copy is checked (every user there, member, with the same
credential types); and only then is the client realm deleted. A failure before that removes
what the move made (the organization and its users; the other way, the new realm), says so,
and leaves the source whole.
"""

from __future__ import annotations

from collections.abc import Mapping

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import organizations, record, tenants, wiring
from keycloak_duo_bridge.admin.effective import ORGANIZATION_ATTRIBUTES, resolve_effective
from keycloak_duo_bridge.admin.keycloak import Json, Keycloak
from keycloak_duo_bridge.admin.move_plan import (
    ClientOrganization,
    ClientRealm,
    NewRealm,
    PartnerRealm,
    Plan,
    SourceUser,
    plan_to_organization,
    plan_to_realm,
)
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.envelope import DecryptionError, KeyRing
from keycloak_duo_bridge.errors import BridgeError, ConfigError, KeycloakError, NotFoundError

SEALED = (attr.DUO_SKEY, attr.AUTH_API_SKEY)
FEDERATION = "org.keycloak.storage.UserStorageProvider"
REALM_ADMIN = "realm-management"  # the application whose roles administer a realm


def unopened(ring: KeyRing, attributes: Mapping[str, str], scope: str) -> tuple[str, ...]:
    """Why each sealed secret among ``attributes`` does not open for ``scope`` (none: all do)."""
    problems = []
    for sealed in SEALED:
        try:
            if attributes.get(sealed):
                ring.decrypt(attributes[sealed], realm=scope, attribute=sealed)
        except DecryptionError as exc:
            problems.append(f"{sealed}: {exc}; set it again before moving")
    return tuple(problems)


def read_client_realm(keycloak: Keycloak, ring: KeyRing, name: str) -> ClientRealm:
    """The client realm ``name`` as the plan needs it (its users' secrets excepted)."""
    client = tenants.get_tenant(keycloak, name, TenantKind.CLIENT)
    partner = tenants.get_tenant(keycloak, str(client.partner), TenantKind.PARTNER)
    if not tenants.is_linked(client, partner):
        raise ConfigError(f"client {name!r} is not linked to partner {client.partner!r}")
    own = dict(client.attributes)
    settings = resolve_effective(own, partner.attributes, realm=name, realm_id=client.realm_id)
    problems = unopened(ring, own, name)
    users = tuple(
        SourceUser(
            user,
            tuple(keycloak.get_user_group_paths(name, str(user["id"]))),
            tuple(keycloak.get_credential_types(name, str(user["id"]))),
            tuple(keycloak.get_effective_client_roles(name, str(user["id"]), REALM_ADMIN)),
        )
        for user in keycloak.get_users(name)
    )
    return ClientRealm(
        name=name,
        partner=str(client.partner),
        attributes=own,
        username_mapping=settings.username_mapping.value,
        users=users,
        clients=tuple(str(c["clientId"]) for c in keycloak.get_clients(name)),
        identity_providers=tuple(keycloak.get_idp_aliases(name)),
        custom_flows=tuple(
            str(f["alias"]) for f in keycloak.get_flows(name) if not f.get("builtIn")
        ),
        federation=tuple(str(c["name"]) for c in keycloak.get_components(name, FEDERATION)),
        roles=tuple(keycloak.get_realm_role_names(name)),
        groups=tuple(keycloak.get_group_paths(name)),
        problems=problems,
    )


def read_partner(keycloak: Keycloak, source: ClientRealm) -> PartnerRealm:
    """The partner realm that is to hold ``source`` as an organization."""
    name = source.partner
    representation = keycloak.get_realm(name)
    own: dict[str, str] = dict(representation.get("attributes") or {})
    settings = resolve_effective(own, None, realm=name, realm_id=str(representation["id"]))
    taken = {u.username.lower() for u in source.users if keycloak.find_user(name, u.username)}
    emails = {
        str(u.email).lower()
        for u in source.users
        if u.email and keycloak.find_users_by_email(name, u.email)
    }
    exists = bool(representation.get("organizationsEnabled")) and (
        keycloak.find_organization(name, source.name) is not None
    )
    return PartnerRealm(
        name=name,
        username_mapping=settings.username_mapping.value,
        clients=frozenset(str(c["clientId"]) for c in keycloak.get_clients(name)),
        groups=frozenset(keycloak.get_group_paths(name)),
        taken_usernames=frozenset(taken),
        taken_emails=frozenset(emails),
        organization_exists=exists,
    )


def plan(
    keycloak: Keycloak,
    ring: KeyRing,
    name: str,
    exported: Mapping[str, tuple[Json, ...]] | None = None,
) -> tuple[Plan, ClientRealm]:
    """The plan of moving client realm ``name`` to an organization; it writes nothing."""
    source = read_client_realm(keycloak, ring, name)
    return plan_to_organization(source, read_partner(keycloak, source), exported), source


def carried_settings(
    ring: KeyRing, source: ClientRealm, organization: organizations.Organization
) -> dict[str, str | None]:
    """The client's Duo settings for the organization, its secrets re-sealed for it."""
    carried: dict[str, str | None] = {}
    for name, value in source.attributes.items():
        if name not in ORGANIZATION_ATTRIBUTES:
            continue
        if name in SEALED:
            clear = ring.decrypt(value, realm=source.name, attribute=name)
            carried[name] = ring.encrypt(clear, realm=organization.scope, attribute=name)
        else:
            carried[name] = value
    return carried


class MoveError(KeycloakError):
    """A move stopped midway; the message says what exists where."""


def move_to_organization(
    keycloak: Keycloak,
    ring: KeyRing,
    name: str,
    exported: Mapping[str, tuple[Json, ...]] | None = None,
) -> Plan:
    """Move client realm ``name`` to an organization of its partner (see the module)."""
    planned, source = plan(keycloak, ring, name, exported)
    if not planned.movable:
        raise ConfigError(f"client {name!r} cannot move: " + "; ".join(planned.refusals))
    partner = source.partner
    made: dict[str, str] = {}  # username -> id, of the users made in the partner realm
    try:
        organization = organizations.make_organization(keycloak, name, partner=partner)
        organizations.store(keycloak, organization, carried_settings(ring, source, organization))
        for body in planned.new_users:
            made[str(body["username"])] = keycloak.create_user(partner, body)
            keycloak.add_organization_member(partner, organization.id, made[str(body["username"])])
        verify(keycloak, partner, planned, organization)
    except BridgeError as exc:
        undone = _undo_organization(keycloak, partner, name, made)
        raise MoveError(
            f"moving client {name!r} stopped: {exc}. {undone}; realm {name!r} is untouched and"
            " still holds every user"
        ) from exc
    tenants.delete_tenant(keycloak, name)
    return planned


def _undo_organization(keycloak: Keycloak, partner: str, name: str, made: Mapping[str, str]) -> str:
    """Remove what a stopped move made in the partner realm: the users ``made`` and the
    organization ``name`` (the plan checked there was none); says what became of them."""
    try:
        for user_id in made.values():
            keycloak.delete_user(partner, user_id)
        found = _organization_named(keycloak, partner, name)
        doomed = [] if found is None else [str(found["id"])]
        for organization_id in doomed:
            keycloak.delete_organization(partner, organization_id)
        if not (doomed or made):
            return "nothing was made"
    except BridgeError as exc:
        return (
            f"removing what it made failed too ({exc}): organization {name!r} and users"
            f" {sorted(made) or 'none'} may remain in realm {partner!r}; delete them by hand"
        )
    return (
        f"what it made in realm {partner!r} (organization {name!r}, users"
        f" {sorted(made) or 'none'}) was removed"
    )


def _organization_named(keycloak: Keycloak, partner: str, name: str) -> Json | None:
    """The organization ``name`` of ``partner``; None also when its organizations are off
    (Keycloak then answers 404 for the whole listing)."""
    try:
        return keycloak.find_organization(partner, name)
    except NotFoundError:
        return None


def verify(
    keycloak: Keycloak,
    realm: str,
    planned: Plan,
    organization: organizations.Organization | None = None,
) -> None:
    """Every moved user is in ``realm`` (a member of ``organization`` if given) with the
    credentials, attributes and groups planned; KeycloakError naming the first that is not."""
    for body in planned.new_users:
        username = str(body["username"])
        user = keycloak.find_user(realm, username)
        if user is None:
            raise KeycloakError(f"user {username!r} is missing from realm {realm!r}")
        user_id = str(user["id"])
        wanted = sorted(str(c["type"]) for c in body["credentials"])
        if keycloak.get_credential_types(realm, user_id) != wanted:
            raise KeycloakError(f"user {username!r} has not the credentials {wanted} in {realm!r}")
        attributes = user.get("attributes") or {}
        lost = sorted(
            k for k, v in (body.get("attributes") or {}).items() if attributes.get(k) != v
        )
        if lost:
            raise KeycloakError(
                f"user {username!r} lost the attributes {', '.join(lost)} in realm {realm!r}"
                " (its user profile does not keep them)"
            )
        missing = sorted(set(body["groups"]) - set(keycloak.get_user_group_paths(realm, user_id)))
        if missing:
            raise KeycloakError(f"user {username!r} is not in the groups {', '.join(missing)}")
        if organization is not None and organization.id not in organizations.member_of(
            keycloak, realm, user_id
        ):
            raise KeycloakError(
                f"user {username!r} is no member of organization {organization.name!r}"
            )


# -- an organization back to a realm of its own -----------------------------------------


def read_organization(
    keycloak: Keycloak, ring: KeyRing, partner: str, name: str
) -> ClientOrganization:
    """The client organization ``name`` of ``partner`` as the plan needs it."""
    organization = organizations.get_organization(keycloak, partner, name)
    representation = keycloak.get_realm(partner)
    own: dict[str, str] = dict(representation.get("attributes") or {})
    settings = resolve_effective(own, None, realm=partner, realm_id=str(representation["id"]))
    problems = unopened(ring, organization.attributes, organization.scope)
    names = {o["id"]: str(o["name"]) for o in keycloak.get_organizations(partner)}
    members: list[SourceUser] = []
    elsewhere: dict[str, tuple[str, ...]] = {}
    for user in keycloak.get_organization_members(partner, organization.id):
        user_id = str(user["id"])
        member = SourceUser(
            user,
            tuple(keycloak.get_user_group_paths(partner, user_id)),
            tuple(keycloak.get_credential_types(partner, user_id)),
            tuple(keycloak.get_effective_client_roles(partner, user_id, REALM_ADMIN)),
            tuple(alias for alias, _ in keycloak.get_user_links(partner, user_id)),
        )
        members.append(member)
        others = organizations.member_of(keycloak, partner, user_id) - {organization.id}
        if others:
            elsewhere[member.username] = tuple(sorted(names.get(o, o) for o in others))
    return ClientOrganization(
        name=name,
        partner=partner,
        attributes=dict(organization.attributes),
        partner_mapping=settings.username_mapping.value,
        members=tuple(members),
        elsewhere=elsewhere,
        problems=problems,
    )


def _new_realm_attributes(source: ClientOrganization) -> dict[str, str]:
    return {
        attr.TENANT_KIND: TenantKind.CLIENT.value,
        attr.TENANT_PARTNER: source.partner,
        **{k: v for k, v in source.attributes.items() if k in ORGANIZATION_ATTRIBUTES},
    }


def plan_back(
    keycloak: Keycloak,
    ring: KeyRing,
    partner: str,
    name: str,
    exported: Mapping[str, tuple[Json, ...]] | None = None,
) -> tuple[Plan, ClientOrganization]:
    """The plan of moving organization ``name`` of ``partner`` to a realm; it writes nothing."""
    source = read_organization(keycloak, ring, partner, name)
    partner_attributes = tenants.get_tenant(keycloak, partner, TenantKind.PARTNER).attributes
    effective = resolve_effective(
        _new_realm_attributes(source), partner_attributes, realm=name, realm_id=None
    )
    new = NewRealm(name, effective.username_mapping.value, keycloak.find_realm(name) is not None)
    return plan_to_realm(source, new, exported), source


def move_to_realm(
    keycloak: Keycloak,
    ring: KeyRing,
    partner: str,
    name: str,
    exported: Mapping[str, tuple[Json, ...]] | None = None,
    *,
    wires: wiring.Wiring | None = None,
) -> Plan:
    """Move client organization ``name`` of ``partner`` to a client realm of its own, made
    from the client realm template (wired with ``wires`` when Duo is on for it); its members
    leave the partner realm only once the copy is checked."""
    planned, source = plan_back(keycloak, ring, partner, name, exported)
    if not planned.movable:
        raise ConfigError(f"client {name!r} cannot move: " + "; ".join(planned.refusals))
    organization = organizations.get_organization(keycloak, partner, name)
    attributes = _new_realm_attributes(source)
    for sealed in SEALED:
        if sealed in attributes:
            clear = ring.decrypt(attributes[sealed], realm=organization.scope, attribute=sealed)
            attributes[sealed] = ring.encrypt(clear, realm=name, attribute=sealed)
    partner_attributes = tenants.get_tenant(keycloak, partner, TenantKind.PARTNER).attributes
    on = resolve_effective(attributes, partner_attributes, realm=name, realm_id=None).enabled.value
    try:
        tenants.new_tenant(
            keycloak,
            tenants.NewTenant(
                TenantKind.CLIENT,
                name,
                partner=partner,
                attributes=attributes,
                wires=wires if on else None,
            ),
        )
        for body in planned.new_users:
            keycloak.create_user(name, body)
        verify(keycloak, name, planned)
    except BridgeError as exc:
        undone = _undo_realm(keycloak, partner, name)
        raise MoveError(
            f"moving client {name!r} stopped: {exc}. {undone};"
            f" organization {name!r} of realm {partner!r} is untouched and still holds every"
            " member"
        ) from exc
    for member in source.members:
        keycloak.delete_user(partner, str(member.representation["id"]))
    keycloak.delete_organization(partner, organization.id)
    return planned


def _undo_realm(keycloak: Keycloak, partner: str, name: str) -> str:
    """Remove what a stopped move made: the realm ``name`` (the plan checked there was
    none), with its users, and the partner's side of its link; says what became of them."""
    try:
        if keycloak.find_realm(name) is not None:
            tenants.delete_tenant(keycloak, name)
            return f"the realm {name!r} it made was deleted"
        record.link(keycloak, partner, name, None)  # written before the realm is made
    except BridgeError as exc:
        return (
            f"removing what it made failed too ({exc}): realm {name!r} may remain; delete it"
            f" with `client delete {name} --yes`"
        )
    return "no realm was made"
