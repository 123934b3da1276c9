"""The diff between a tenant file and live Keycloak: pure, given what :mod:`.live` read.

A plan lists, per realm, whether it is created, updated or deleted, and each attribute that
changes, in tenant-file terms (``duo.user_mode``, ``apps.portal`` ...). The skey shows only
as changed or not, decided by decrypting the stored value and comparing. Wiring (what "Duo
on" adds to a realm, see :mod:`keycloak_duo_bridge.admin.wiring`) shows as ``duo.wiring``
when the realm's effective switch and its wiring disagree.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType
from typing import Any, Final

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.effective import (
    ORGANIZATION_ATTRIBUTES,
    link_attribute,
    organization_scope,
    parse_apps,
    resolve_effective,
    single_values,
)
from keycloak_duo_bridge.admin.idp_policy import format_idps
from keycloak_duo_bridge.admin.tenants import FRONTEND_URL, tenant_of
from keycloak_duo_bridge.admin.wiring import Wiring
from keycloak_duo_bridge.attributes import AppMode, TenantKind
from keycloak_duo_bridge.envelope import DecryptionError, KeyRing
from keycloak_duo_bridge.fleet.spec import (
    ORGANIZATION,
    REALM,
    REALM_KEYS,
    DeclaredCredentials,
    FleetSpec,
    TenantSpec,
)

SECRET_CHANGED: Final = "(changed)"  # noqa: S105 - a label, not a secret
SECRET_SET: Final = "(secret)"  # noqa: S105 - a label, not a secret
WIRED: Final = "on"
UNWIRED: Final = "off"
PARTIAL: Final = "partial"
PROVISION_KEY: Final = "duo.provision"
AUTH_API_KEYS: Final = ("duo.auth_api.ikey", "duo.auth_api.api_host", "duo.auth_api.skey")


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NONE = "none"


@dataclass(frozen=True)
class Change:
    key: str
    before: str | None
    after: str | None
    secret: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"attribute": self.key, "before": self.before, "after": self.after}


@dataclass(frozen=True)
class RealmPlan:
    realm: str
    kind: TenantKind
    action: Action
    changes: tuple[Change, ...] = ()
    spec: TenantSpec | None = field(default=None, compare=False, repr=False)
    mapping: str = REALM  # a client kept as a realm, or as an organization of its partner
    # an organization's live representation, as the partner's listing returned it
    current: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    partner: str | None = field(default=None, compare=False)  # an organization's realm

    @property
    def label(self) -> str:
        """What the plan's table calls it: partner, client or organization."""
        return ORGANIZATION if self.mapping == ORGANIZATION else self.kind.value

    def changed(self, key: str) -> bool:
        return any(c.key == key for c in self.changes)

    def to_json(self) -> dict[str, Any]:
        out = {
            "realm": self.realm,
            "kind": self.kind.value,
            "action": self.action.value,
            "changes": [c.to_json() for c in self.changes],
        }
        if self.mapping == ORGANIZATION:
            out["as"] = ORGANIZATION
        return out


@dataclass(frozen=True)
class Plan:
    realms: tuple[RealmPlan, ...]
    problems: tuple[str, ...] = ()

    @property
    def has_changes(self) -> bool:
        return any(r.action is not Action.NONE for r in self.realms)

    def count(self, action: Action) -> int:
        return sum(1 for r in self.realms if r.action is action)

    def summary(self) -> str:
        if not self.has_changes:
            return "No changes: Keycloak matches the tenant file."
        return (
            f"Plan: {self.count(Action.CREATE)} to create, {self.count(Action.UPDATE)} to "
            f"update, {self.count(Action.DELETE)} to delete."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": self.has_changes,
            "realms": [r.to_json() for r in self.realms if r.action is not Action.NONE],
            "problems": list(self.problems),
        }


@dataclass(frozen=True)
class LiveRealm:
    """What plan needs of one realm: its representation, app modes and wiring state."""

    representation: Mapping[str, Any]
    apps: Mapping[str, str | None] | None = None  # clientId -> stored mode; None: not read
    wiring: str | None = None  # on | off | partial; None: not read

    @cached_property
    def attributes(self) -> Mapping[str, str]:
        """The realm's attributes, read-only and copied once: a partner's hold a link per
        client, and each client's plan looks its own up there (a copy each: quadratic)."""
        return MappingProxyType(dict(self.representation.get("attributes") or {}))


@dataclass(frozen=True)
class Live:
    """Every realm (representations), plus app modes and wiring of the declared ones, and
    the organizations of the declared partners (one listing each) with the applications of
    those whose organizations set app modes."""

    realms: Mapping[str, LiveRealm]
    organizations: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)
    applications: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def organization_partner(self, name: str) -> str | None:
        """The partner realm that holds an organization named ``name``, if one does."""
        return next((p for p, found in self.organizations.items() if name in found), None)


def declared_attributes(spec: TenantSpec) -> dict[str, str | None]:
    """The realm attributes ``spec`` sets (None: removes), the skey aside."""
    out: dict[str, str | None] = {attr.TENANT_KIND: spec.kind.value}
    if spec.partner is not None:
        out[attr.TENANT_PARTNER] = spec.partner
    if spec.branding_url is not None:
        out[FRONTEND_URL] = spec.branding_url
    if spec.duo.enabled is not None:
        out[attr.DUO_ENABLED] = None if spec.duo.enabled == "inherit" else spec.duo.enabled
    if spec.duo.credentials is not None:
        out[attr.DUO_IKEY] = spec.duo.credentials.ikey
        out[attr.DUO_API_HOST] = spec.duo.credentials.api_host
    out.update(spec.duo.policy.changes())
    if spec.duo.assurance is not None:
        inherit = spec.duo.assurance == "inherit"
        out[attr.DUO_ASSURANCE] = None if inherit else spec.duo.assurance
    auth_api = spec.duo.auth_api
    if isinstance(auth_api, DeclaredCredentials):
        out[attr.AUTH_API_IKEY] = auth_api.ikey
        out[attr.AUTH_API_HOST] = auth_api.api_host
    elif auth_api is not None:  # inherit: the three go, the skey with them
        out |= dict.fromkeys((attr.AUTH_API_IKEY, attr.AUTH_API_HOST, attr.AUTH_API_SKEY))
    if spec.idps is not None:
        out[attr.DUO_IDPS] = format_idps(spec.idps)
    return out


def desired_attributes(current: Mapping[str, str], spec: TenantSpec) -> dict[str, str]:
    merged = dict(current)
    for name, value in declared_attributes(spec).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    return merged


def make_plan(
    spec: FleetSpec,
    live: Live,
    *,
    ring: KeyRing | None,
    wires: Wiring | None,
    prune: str | None = None,
) -> Plan:
    """Compare ``spec`` with ``live``; with ``prune`` (a glob), undeclared tenants matching
    it are deleted. ``wires=None`` leaves wiring out of the comparison."""
    problems: list[str] = []
    desired: dict[str, dict[str, str]] = {}
    for tenant in spec.tenants:
        found = live.realms.get(tenant.name)
        current = found.attributes if found else {}
        desired[tenant.name] = desired_attributes(current, tenant)
    realms = [
        _organization_plan(tenant, live, ring, problems)
        if tenant.is_organization
        else _realm_plan(tenant, live.realms.get(tenant.name), desired, live, ring, wires, problems)
        for tenant in spec.tenants
    ]
    if prune is not None:
        realms.extend(_prune_organizations(spec, live, prune))
        realms.extend(_prune(spec, live, desired, prune, problems))
    return Plan(tuple(realms), tuple(problems))


def _realm_plan(  # noqa: PLR0917
    tenant: TenantSpec,
    found: LiveRealm | None,
    desired: Mapping[str, Mapping[str, str]],
    live: Live,
    ring: KeyRing | None,
    wires: Wiring | None,
    problems: list[str],
) -> RealmPlan:
    name = tenant.name
    holder = live.organization_partner(name) if tenant.kind is TenantKind.CLIENT else None
    if holder is not None:
        problems.append(
            f"client {name!r} is declared as a realm but is an organization of realm "
            f"{holder!r} (`client move` moves a client between the mappings)"
        )
        return RealmPlan(name, tenant.kind, Action.NONE, spec=tenant)
    if found is not None:
        existing = tenant_of(dict(found.representation))
        if existing is None or existing.kind is not tenant.kind:
            problems.append(f"realm {name!r} exists and is not a {tenant.kind.value}")
            return RealmPlan(name, tenant.kind, Action.NONE, spec=tenant)
    changes = _attribute_changes(tenant, found, desired[name], ring)
    changes.extend(_link_change(tenant, found, live))
    changes.extend(_app_changes(tenant, found, problems))
    if wires is not None:
        changes.extend(_wiring_change(tenant, found, desired, live, wires))
    changes.extend(_provision_change(tenant, found))
    action = Action.CREATE if found is None else (Action.UPDATE if changes else Action.NONE)
    return RealmPlan(name, tenant.kind, action, tuple(changes), spec=tenant)


def _attribute_changes(
    tenant: TenantSpec, found: LiveRealm | None, wanted: Mapping[str, str], ring: KeyRing | None
) -> list[Change]:
    current = found.attributes if found else {}
    changes: list[Change] = []
    if found is not None and tenant.partner is not None:
        before = current.get(attr.TENANT_PARTNER)
        if before != tenant.partner:
            changes.append(Change("partner", before, tenant.partner))
    display = found.representation.get("displayName") if found else None
    if tenant.display_name is not None and display != tenant.display_name:
        changes.append(Change("display_name", display, tenant.display_name))
    if tenant.branding_url is not None and current.get(FRONTEND_URL) != tenant.branding_url:
        changes.append(Change("branding_url", current.get(FRONTEND_URL), tenant.branding_url))
    declared = declared_attributes(tenant)
    for key, attribute in REALM_KEYS.items():
        if attribute in declared and current.get(attribute) != wanted.get(attribute):
            changes.append(Change(key, current.get(attribute), wanted.get(attribute)))
    if tenant.duo.credentials is not None:
        changes.extend(
            _secret_change(
                "duo.skey", tenant.duo.credentials, current, attr.DUO_SKEY, ring, tenant.name
            )
        )
    changes.extend(_auth_api_change(tenant, current, ring, tenant.name))
    return changes


def _auth_api_change(
    tenant: TenantSpec, current: Mapping[str, str], ring: KeyRing | None, scope: str
) -> list[Change]:
    """The Auth API skey declared (changed or not) or inherited (a stored one goes)."""
    auth_api = tenant.duo.auth_api
    if isinstance(auth_api, DeclaredCredentials):
        return _secret_change(
            "duo.auth_api.skey", auth_api, current, attr.AUTH_API_SKEY, ring, scope
        )
    if auth_api is not None and current.get(attr.AUTH_API_SKEY):
        return [Change("duo.auth_api.skey", SECRET_SET, None, secret=True)]
    return []


def organization_attributes(spec: TenantSpec) -> dict[str, str | None]:
    """The organization attributes ``spec`` sets (None: removes), the skey and apps aside."""
    declared = declared_attributes(spec)
    return {name: value for name, value in declared.items() if name in ORGANIZATION_ATTRIBUTES}


def _organization_plan(
    tenant: TenantSpec, live: Live, ring: KeyRing | None, problems: list[str]
) -> RealmPlan:
    """A client kept as an organization of its partner's realm: created, or its attributes,
    skey (sealed for the realm and the organization) and app modes compared."""
    name, partner = tenant.name, str(tenant.partner)
    unchanged = RealmPlan(name, tenant.kind, Action.NONE, spec=tenant, mapping=ORGANIZATION)
    if name in live.realms:
        problems.append(
            f"client {name!r} is declared as an organization but is a realm "
            "(`client move` moves a client between the mappings)"
        )
        return unchanged
    holder = live.organization_partner(name)
    if holder is not None and holder != partner:
        problems.append(f"client {name!r} is an organization of realm {holder!r}, not {partner!r}")
        return unchanged
    found = live.organizations.get(partner, {}).get(name)
    current = single_values(found) if found is not None else {}
    if found is not None and current.get(attr.TENANT_KIND) != TenantKind.CLIENT:
        problems.append(f"organization {name!r} exists in realm {partner!r} and is not a client")
        return unchanged
    changes = _organization_changes(tenant, found, current, ring)
    changes.extend(_organization_apps(tenant, current, live.applications.get(partner), problems))
    action = Action.CREATE if found is None else (Action.UPDATE if changes else Action.NONE)
    return RealmPlan(
        name,
        tenant.kind,
        action,
        tuple(changes),
        tenant,
        mapping=ORGANIZATION,
        current=found,
        partner=partner,
    )


def _organization_changes(
    tenant: TenantSpec,
    found: Mapping[str, Any] | None,
    current: Mapping[str, str],
    ring: KeyRing | None,
) -> list[Change]:
    changes: list[Change] = []
    description = found.get("description") if found is not None else None
    if tenant.display_name is not None and description != tenant.display_name:
        changes.append(Change("display_name", description, tenant.display_name))
    declared = organization_attributes(tenant)
    for key, attribute in REALM_KEYS.items():
        if attribute in declared and current.get(attribute) != declared[attribute]:
            changes.append(Change(key, current.get(attribute), declared[attribute]))
    # skeys are sealed for the realm and the organization's id; a new one has no id (nor skey)
    scope = organization_scope(str(tenant.partner), str(found["id"])) if found else ""
    credentials = tenant.duo.credentials
    if credentials is not None:
        changes.extend(_secret_change("duo.skey", credentials, current, attr.DUO_SKEY, ring, scope))
    changes.extend(_auth_api_change(tenant, current, ring, scope))
    if tenant.duo.provision and not current.get(attr.DUO_PROVISIONED_IKEY):
        changes.append(Change(PROVISION_KEY, None, "provision"))
    return changes


def _organization_apps(
    tenant: TenantSpec,
    current: Mapping[str, str],
    known: frozenset[str] | None,
    problems: list[str],
) -> list[Change]:
    """The organization's own app modes (entries over the partner realm's); ``known``: the
    partner realm's applications (None: not read, the partner is made by this apply)."""
    stored = parse_apps(current[attr.DUO_APPS]) if current.get(attr.DUO_APPS) else {}
    changes = []
    for client_id, mode in tenant.apps.items():
        if known is not None and client_id not in known:
            problems.append(f"application {client_id!r} does not exist in realm {tenant.partner!r}")
            continue
        before = stored.get(client_id)
        if (before or AppMode.INHERIT) is not mode:
            changes.append(
                Change(f"apps.{client_id}", before.value if before else None, mode.value)
            )
    return changes


def _secret_change(  # noqa: PLR0917
    key: str,
    declared: DeclaredCredentials,
    current: Mapping[str, str],
    attribute: str,
    ring: KeyRing | None,
    scope: str,
) -> list[Change]:
    """An skey (Web SDK or Auth API) as changed or not, never its value; ``scope``: what it
    is sealed for (the realm's name, or an organization's realm and id)."""
    stored = current.get(attribute)
    if _same_secret(ring, stored, declared.skey.value, scope, attribute):
        return []
    return [Change(key, SECRET_SET if stored else None, SECRET_CHANGED, secret=True)]


def _link_change(tenant: TenantSpec, found: LiveRealm | None, live: Live) -> list[Change]:
    """An existing client whose partner does not name it (a realm made before links, say):
    the apply writes the partner's side of the link. A new realm gets it as it is made."""
    if found is None or tenant.partner is None:
        return []
    partner = live.realms.get(tenant.partner)
    proof = partner.attributes.get(link_attribute(tenant.name)) if partner else None
    if proof is not None and proof == found.representation.get("id"):
        return []
    return [Change("partner_link", None, "proven")]


def _provision_change(tenant: TenantSpec, found: LiveRealm | None) -> list[Change]:
    """``duo: provision`` on a client that has no recorded Duo application yet (a re-run
    finds the recorded one, so a provisioned client plans nothing)."""
    recorded = found.attributes.get(attr.DUO_PROVISIONED_IKEY) if found else None
    if not tenant.duo.provision or recorded:
        return []
    return [Change(PROVISION_KEY, None, "provision")]


def _same_secret(
    ring: KeyRing | None, stored: str | None, wanted: str, realm: str, attribute: str
) -> bool:
    if not stored or ring is None or ring.needs_rotation(stored):
        return False
    try:
        return ring.decrypt(stored, realm=realm, attribute=attribute) == wanted
    except DecryptionError:
        return False


def _app_changes(tenant: TenantSpec, found: LiveRealm | None, problems: list[str]) -> list[Change]:
    apps = (found.apps if found else None) or {}
    changes = []
    for client_id, mode in tenant.apps.items():
        if found is not None and client_id not in apps:
            problems.append(f"application {client_id!r} does not exist in realm {tenant.name!r}")
            continue
        stored = apps.get(client_id) or AppMode.INHERIT.value
        if stored != mode.value:
            changes.append(Change(f"apps.{client_id}", apps.get(client_id), mode.value))
    return changes


def _wiring_change(
    tenant: TenantSpec,
    found: LiveRealm | None,
    desired: Mapping[str, Mapping[str, str]],
    live: Live,
    wires: Wiring,
) -> list[Change]:
    own = desired[tenant.name]
    partner: Mapping[str, str] | None = None
    if tenant.partner is not None:
        partner_live = live.realms.get(tenant.partner)
        partner = desired.get(tenant.partner) or (partner_live.attributes if partner_live else {})
    # realm_id=None: the apply writes the partner link, so judge the state it will have.
    on = resolve_effective(own, partner, realm=tenant.name, realm_id=None).enabled.value
    state = (found.wiring or UNWIRED) if found else UNWIRED
    if on and state == WIRED:
        attributes = found.attributes if found else {}
        if (attributes.get(attr.BRIDGE_URL), attributes.get(attr.BRIDGE_JWKS)) != (
            wires.bridge_url,
            wires.jwks,
        ):
            state = PARTIAL
    want = WIRED if on else UNWIRED
    return [] if state == want else [Change("duo.wiring", state, want)]


def _prune_organizations(spec: FleetSpec, live: Live, pattern: str) -> list[RealmPlan]:
    """The client organizations of declared partners that the file does not declare."""
    declared = spec.names()
    return [
        RealmPlan(
            name,
            TenantKind.CLIENT,
            Action.DELETE,
            mapping=ORGANIZATION,
            current=found,
            partner=partner,
        )
        for partner, held in sorted(live.organizations.items())
        for name, found in sorted(held.items())
        if name not in declared
        and fnmatch.fnmatch(name, pattern)
        and single_values(found).get(attr.TENANT_KIND) == TenantKind.CLIENT
    ]


def _prune(
    spec: FleetSpec,
    live: Live,
    desired: Mapping[str, Mapping[str, str]],
    pattern: str,
    problems: list[str],
) -> list[RealmPlan]:
    declared = spec.names()
    tenants = [t for t in (tenant_of(dict(r.representation)) for r in live.realms.values()) if t]
    doomed = {
        t.name for t in tenants if t.name not in declared and fnmatch.fnmatch(t.name, pattern)
    }
    plans = []
    for tenant in sorted(tenants, key=lambda t: (t.kind is TenantKind.PARTNER, t.name)):
        if tenant.name not in doomed:
            continue
        if tenant.kind is TenantKind.PARTNER:
            staying = sorted(
                t.name
                for t in tenants
                if t.kind is TenantKind.CLIENT
                and t.name not in doomed
                and (desired.get(t.name) or t.attributes).get(attr.TENANT_PARTNER) == tenant.name
            )
            if staying:
                problems.append(
                    f"cannot prune partner {tenant.name!r}: its clients "
                    f"{', '.join(staying)} are kept"
                )
                continue
        plans.append(RealmPlan(tenant.name, tenant.kind, Action.DELETE))
    return plans
