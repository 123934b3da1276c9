"""Partners and clients: each one a realm made from a template, linked by realm attributes.

A partner realm carries ``kdb.tenant.kind = partner``; a client realm carries ``client`` and
names its partner in ``kdb.tenant.partner``. That name is only the client's claim: the link
holds when the partner's side also names the client, ``kdb.tenant.client.<client>`` = the
client realm's id, which only these functions write (see the link rule in
:mod:`~keycloak_duo_bridge.admin.effective`). A partner's branding URL is its realm's
``frontendUrl``. Every function here is idempotent, and a re-run completes what a failure
midway left undone.

A new realm is made by one create call carrying all that Keycloak's realm import takes (see
:func:`create_representation`), then the few calls it does not take, none of them a read
back: the ``kdb-duo`` client scope on the realm and its applications when Duo is on for it,
and application modes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

from keycloak_duo_bridge import assurance
from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import console_client, flows, record, registration, wiring
from keycloak_duo_bridge.admin.effective import (
    format_apps,
    link_attribute,
    parse_app_mode,
    resolve_effective,
)
from keycloak_duo_bridge.admin.keycloak import Json, Keycloak
from keycloak_duo_bridge.admin.templates import load_template, validate_realm_name, validate_url
from keycloak_duo_bridge.admin.users import ensure_user_profile, fold_profile, has_profile
from keycloak_duo_bridge.attributes import Assurance, TenantKind
from keycloak_duo_bridge.errors import ConfigError, NotFoundError

FRONTEND_URL = "frontendUrl"


@dataclass(frozen=True)
class Tenant:
    name: str
    kind: TenantKind
    partner: str | None = None
    display_name: str | None = None
    branding_url: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    realm_id: str | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind.value,
            "display_name": self.display_name,
        }
        if self.kind is TenantKind.PARTNER:
            body["branding_url"] = self.branding_url
        else:
            body["partner"] = self.partner
        return body


def tenant_of(representation: Json) -> Tenant | None:
    """The tenant a realm representation stands for, or None for other realms."""
    attributes: dict[str, str] = dict(representation.get("attributes") or {})
    try:
        kind = TenantKind(attributes.get(attr.TENANT_KIND, ""))
    except ValueError:
        return None
    return Tenant(
        name=str(representation["realm"]),
        kind=kind,
        partner=attributes.get(attr.TENANT_PARTNER) if kind is TenantKind.CLIENT else None,
        display_name=representation.get("displayName") or None,
        branding_url=attributes.get(FRONTEND_URL) or None,
        attributes=attributes,
        realm_id=representation.get("id"),
    )


def get_tenant(keycloak: Keycloak, name: str, kind: TenantKind | None = None) -> Tenant:
    """The tenant ``name``; NotFoundError if there is no such realm, or it is no tenant."""
    return tenant_in(keycloak.get_realm(name), name, kind)


def tenant_in(representation: Json, name: str, kind: TenantKind | None = None) -> Tenant:
    """The tenant realm ``name``'s representation stands for; NotFoundError if it is no
    tenant (of ``kind``)."""
    tenant = tenant_of(representation)
    if tenant is None or (kind is not None and tenant.kind is not kind):
        what = kind.value if kind is not None else "partner or client"
        raise NotFoundError(f"realm {name!r} is not a {what}")
    return tenant


def list_tenants(keycloak: Keycloak) -> list[Tenant]:
    """Every tenant, partners first, each partner's clients after it, sorted by name."""
    tenants = [t for t in map(tenant_of, keycloak.get_realms()) if t is not None]
    return sorted(tenants, key=lambda t: (t.partner or t.name, t.kind is TenantKind.CLIENT, t.name))


def is_linked(client: Tenant, partner: Tenant | None) -> bool:
    """Whether ``client`` and ``partner`` are linked from both sides (the link rule)."""
    return (
        partner is not None
        and client.kind is TenantKind.CLIENT
        and partner.kind is TenantKind.PARTNER
        and client.partner == partner.name
        and client.realm_id is not None
        and partner.attributes.get(link_attribute(client.name)) == client.realm_id
    )


def clients_of(keycloak: Keycloak, partner: str) -> list[Tenant]:
    """The partner's clients, by name: realms that name it and that its side names (the link
    rule). Read from the partner's side, one realm at a time, not from Keycloak's listing of
    every realm, whose cost grows faster than the number of realms (docs/scale.md)."""
    found = keycloak.find_realm(partner)
    owner = tenant_of(found) if found is not None else None
    if owner is None:
        return []
    names = sorted(
        name.removeprefix(attr.TENANT_CLIENT_PREFIX)
        for name in owner.attributes
        if name.startswith(attr.TENANT_CLIENT_PREFIX)
    )
    realms = (keycloak.find_realm(name) for name in names)
    clients = (tenant_of(r) for r in realms if r is not None)
    return [c for c in clients if c is not None and is_linked(c, owner)]


@dataclass(frozen=True)
class NewTenant:
    """A tenant realm to make, and all that its create call is built from."""

    kind: TenantKind
    name: str
    partner: str | None = None  # client realms
    display_name: str | None = None
    branding_url: str | None = None  # partner realms
    template_dir: Path | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)  # Duo settings, say
    wires: wiring.Wiring | None = None  # given: wire the realm (Duo is on for it)
    apps: Mapping[str, str] = field(default_factory=dict)  # clientId -> Duo mode


def create_representation(keycloak: Keycloak, new: NewTenant) -> Json:
    """The whole ``POST /admin/realms`` body of a new tenant realm.

    The kind's template, rendered; its attributes plus the tenant's (kind, partner and the
    given ``attributes``); the user profile declaring activation; and, with ``wires``, the
    bridge's attributes and required action.
    """
    template = load_template(new.kind, new.template_dir)
    representation = template.render(
        {
            "REALM": new.name,
            "DISPLAY_NAME": new.display_name or new.name,
            "FRONTEND_URL": validate_url(new.branding_url) if new.branding_url else None,
            "PARTNER": new.partner or new.name,
        }
    )
    tenant = {attr.TENANT_KIND: new.kind.value}
    if new.kind is TenantKind.CLIENT:
        tenant[attr.TENANT_PARTNER] = str(new.partner)
    apps = format_apps({k: parse_app_mode(v) for k, v in new.apps.items()})
    representation["attributes"] = {
        **representation.get("attributes", {}),
        **new.attributes,
        **tenant,
        **({attr.DUO_APPS: apps} if apps else {}),
        **(new.wires.attributes() if new.wires is not None else {}),
    }
    if new.wires is not None:
        own = representation["attributes"].get(attr.ACR_LOA_MAP)
        representation["attributes"][attr.ACR_LOA_MAP] = assurance.loa_map(own)
    representation.setdefault("id", str(uuid4()))
    fold_profile(keycloak, representation)
    console_client.fold(representation, new.wires.bridge_url if new.wires else keycloak.console_url)
    if new.wires is not None:
        wiring.fold_actions(keycloak, representation)
    return representation


def new_tenant(keycloak: Keycloak, new: NewTenant) -> Tenant:
    """Make a tenant realm that does not exist yet, in as few calls as Keycloak allows.

    An application in ``new.apps`` that the new realm does not have is reported after the
    rest is done.
    """
    name = validate_realm_name(new.name)
    representation = create_representation(keycloak, new)
    attributes: dict[str, str] = representation["attributes"]
    partner = None
    if new.kind is TenantKind.CLIENT:
        partner = record.link(keycloak, str(new.partner), name, str(representation["id"]))
    effective = resolve_effective(
        attributes, partner, realm=name, realm_id=str(representation["id"])
    )
    attributes[attr.RESOLVED] = record.record(effective, attributes, partner)
    keycloak.create_realm(representation)
    for sub_type in registration.SUB_TYPES:
        keycloak.create_component(name, registration.component(str(representation["id"]), sub_type))
    if keycloak.bridge_reader is not None:  # the bridge reads realms as its own account
        keycloak.grant_realm_view(keycloak.bridge_reader, name)
    if not has_profile(representation):
        ensure_user_profile(keycloak, name, fresh=True)
    if new.wires is not None or new.apps:
        clients = keycloak.get_clients(name)
        missing = sorted(set(new.apps) - {str(c["clientId"]) for c in clients})
        if new.wires is not None:
            wiring.wire_new(keycloak, representation, clients)
            if effective.assurance.value is Assurance.STEP_UP:
                age = assurance.duo_level_max_age(effective.remember.value)
                keycloak.update_realm(name, flows.ensure(keycloak, name, age))
        if missing:
            raise NotFoundError(f"application {missing[0]!r} does not exist in realm {name!r}")
    tenant = tenant_of(representation)
    assert tenant is not None  # noqa: S101 - made with the tenant attributes
    return tenant


def create_partner(
    keycloak: Keycloak,
    name: str,
    *,
    branding_url: str | None = None,
    display_name: str | None = None,
    template_dir: Path | None = None,
) -> Tenant:
    """Create the partner's realm, or bring an existing partner to the given values."""
    validate_realm_name(name)
    url = validate_url(branding_url) if branding_url else None
    existing = keycloak.find_realm(name)
    if existing is None:
        return new_tenant(
            keycloak,
            NewTenant(
                TenantKind.PARTNER,
                name,
                display_name=display_name,
                branding_url=url,
                template_dir=template_dir,
            ),
        )
    _require_kind(existing, name, TenantKind.PARTNER)
    update_partner(keycloak, name, branding_url=url, display_name=display_name)
    registration.ensure_policy(keycloak, name, str(existing["id"]))
    ensure_user_profile(keycloak, name)
    return get_tenant(keycloak, name)


def create_client(
    keycloak: Keycloak,
    name: str,
    *,
    partner: str,
    display_name: str | None = None,
    template_dir: Path | None = None,
    wires: wiring.Wiring | None = None,
) -> Tenant:
    """Create a client realm under ``partner`` (which must exist), or complete an existing one.

    When the partner has Duo on, the new realm inherits it, and is wired (see
    :mod:`~keycloak_duo_bridge.admin.wiring`) if ``wires`` is given.
    """
    validate_realm_name(name)
    partner_realm = keycloak.get_realm(partner)
    owner = tenant_in(partner_realm, partner, TenantKind.PARTNER)
    existing = keycloak.find_realm(name)
    if existing is None:
        _refuse_organization_name(keycloak, partner_realm, name)
        own = {attr.TENANT_KIND: TenantKind.CLIENT.value, attr.TENANT_PARTNER: partner}
        # realm_id=None: the link is written with the realm, so judge the state it will have.
        on = resolve_effective(own, owner.attributes, realm=name, realm_id=None).enabled.value
        return new_tenant(
            keycloak,
            NewTenant(
                TenantKind.CLIENT,
                name,
                partner=partner,
                display_name=display_name,
                template_dir=template_dir,
                wires=wires if on else None,
            ),
        )
    current = _require_kind(existing, name, TenantKind.CLIENT)
    if current.partner != partner:
        raise ConfigError(
            f"client {name!r} already belongs to partner {current.partner!r}; "
            f"move it with `client update {name} --partner {partner}`"
        )
    update_client(keycloak, name, display_name=display_name)
    ensure_link(keycloak, current)
    registration.ensure_policy(keycloak, name, str(existing["id"]))
    ensure_user_profile(keycloak, name)
    if wires is not None:
        wiring.reconcile(keycloak, name, wires)
    return get_tenant(keycloak, name)


def _refuse_organization_name(keycloak: Keycloak, partner: Json, name: str) -> None:
    """A client is a realm or an organization of its partner, never both: ConfigError when
    the partner realm keeps an organization named ``name``."""
    realm = str(partner["realm"])
    if partner.get("organizationsEnabled") and keycloak.find_organization(realm, name):
        raise ConfigError(
            f"partner {realm!r} keeps an organization named {name!r}: a client is a realm or"
            f" an organization (`client move {name} --partner {realm} --to realm` makes it a"
            " realm); nothing was created"
        )


def _require_kind(representation: Json, name: str, kind: TenantKind) -> Tenant:
    tenant = tenant_of(representation)
    if tenant is None or tenant.kind is not kind:
        raise ConfigError(f"realm {name!r} already exists and is not a {kind.value}")
    return tenant


def update_partner(
    keycloak: Keycloak,
    name: str,
    *,
    branding_url: str | None = None,
    clear_branding_url: bool = False,
    display_name: str | None = None,
) -> bool:
    """Change a partner's branding URL or display name; True if anything was written."""
    get_tenant(keycloak, name, TenantKind.PARTNER)
    changes: dict[str, str | None] = {}
    if clear_branding_url:
        changes[FRONTEND_URL] = None
    elif branding_url:
        changes[FRONTEND_URL] = validate_url(branding_url)
    fields = {"displayName": display_name} if display_name else {}
    return record.store(keycloak, name, changes, fields)


def ensure_link(keycloak: Keycloak, client: Tenant) -> bool:
    """Write the partner's side of a client's link when it is missing (a realm made before
    links existed, say); True if written. The client's record is refreshed after."""
    if client.partner is None or client.realm_id is None:
        return False
    owner = get_tenant(keycloak, client.partner, TenantKind.PARTNER)
    if owner.attributes.get(link_attribute(client.name)) == client.realm_id:
        return False
    record.link(keycloak, client.partner, client.name, client.realm_id)
    record.refresh(keycloak, client.name)
    return True


def update_client(
    keycloak: Keycloak,
    name: str,
    *,
    partner: str | None = None,
    display_name: str | None = None,
    wires: wiring.Wiring | None = None,
) -> bool:
    """Change a client's display name, or move it to another partner."""
    client = get_tenant(keycloak, name, TenantKind.CLIENT)
    changes: dict[str, str | None] = {}
    moving = partner is not None and partner != client.partner
    if partner is not None:
        get_tenant(keycloak, partner, TenantKind.PARTNER)
        changes[attr.TENANT_PARTNER] = partner
        # The new partner's side first, so the client's record resolves the proven link.
        record.link(keycloak, partner, name, client.realm_id)
    fields = {"displayName": display_name} if display_name else {}
    written = record.store(keycloak, name, changes, fields)
    if moving and client.partner is not None and keycloak.find_realm(client.partner):
        record.link(keycloak, client.partner, name, None)
    if partner is not None and wires is not None:
        wiring.reconcile(keycloak, name, wires)
    return written


def planned_deletion(keycloak: Keycloak, name: str, *, cascade: bool = False) -> list[str]:
    """The realms :func:`delete_tenant` would delete, clients first; refuses like it."""
    tenant = get_tenant(keycloak, name)
    clients = (
        [c.name for c in clients_of(keycloak, name)] if tenant.kind is TenantKind.PARTNER else []
    )
    if clients and not cascade:
        raise ConfigError(
            f"partner {name!r} still has clients ({', '.join(clients)}); "
            "delete them first or pass --cascade"
        )
    return [*clients, name]


def delete_tenant(keycloak: Keycloak, name: str, *, cascade: bool = False) -> list[str]:
    """Delete a tenant's realm; a partner's clients too with ``cascade``. Returns the names.

    Clients go first, so a failure midway leaves a partner that a re-run deletes.
    """
    doomed = planned_deletion(keycloak, name, cascade=cascade)
    tenant = get_tenant(keycloak, name)
    for realm in doomed:
        keycloak.delete_realm(realm)
    partner = tenant.partner if tenant.kind is TenantKind.CLIENT else None
    if partner and partner not in doomed and keycloak.find_realm(partner):
        record.link(keycloak, partner, name, None)
    return doomed
