"""A client's name is unique across the whole Keycloak: all partners, both mappings.

A client is a realm of its own or an organization inside its partner's realm (see
:mod:`~keycloak_duo_bridge.admin.organizations`), and commands find it by its name alone
(``client show NAME``). So a new client, of either mapping, is refused a name that a realm
or any partner's client organization has; and a name that older data holds in more than
one place is refused as ambiguous by the lookups, never resolved to one of them.

Where a name is taken costs one realm listing, then one name search per partner realm with
organizations on, never a call per organization.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.effective import single_values
from keycloak_duo_bridge.admin.keycloak import Json, Keycloak
from keycloak_duo_bridge.admin.record import ORGANIZATIONS_ENABLED
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.errors import ConfigError, NotFoundError

REALM = "realm"
ORGANIZATION = "organization"


@dataclass(frozen=True)
class Place:
    """Where a client name is taken: a realm (``partner``: the one a client realm names), or
    an organization (``organization``, its representation) of the partner realm
    ``partner``, a client one unless ``client`` is False."""

    name: str
    partner: str | None
    organization: Json | None = field(default=None, repr=False, compare=False)
    client: bool = True

    @property
    def mapping(self) -> str:
        return REALM if self.organization is None else ORGANIZATION

    def __str__(self) -> str:
        if self.organization is not None:
            what = "organization" if self.client else "organization (not a client)"
            return f"{what} {self.name!r} of partner {self.partner!r}"
        under = f" (client of partner {self.partner!r})" if self.partner else ""
        return f"realm {self.name!r}{under}"


def partners_with_organizations(realms: list[Json]) -> list[Json]:
    """The partner realms among ``realms`` (representations) that have organizations on."""
    return [
        r
        for r in realms
        if r.get(ORGANIZATIONS_ENABLED)
        and (r.get("attributes") or {}).get(attr.TENANT_KIND) == TenantKind.PARTNER
    ]


def places(keycloak: Keycloak, name: str) -> list[Place]:
    """Everywhere the client name ``name`` is taken: a realm of that name, then the
    organizations of that name, partner by partner."""
    realms = keycloak.get_realms()
    found = [Place(name, _claimed_partner(r)) for r in realms if r.get("realm") == name]
    for partner in partners_with_organizations(realms):
        realm = str(partner["realm"])
        organization = keycloak.find_organization(realm, name)
        if organization is not None:
            found.append(Place(name, realm, organization, _is_client(organization)))
    return found


def _claimed_partner(realm: Json) -> str | None:
    attributes = realm.get("attributes") or {}
    if attributes.get(attr.TENANT_KIND) != TenantKind.CLIENT:
        return None
    return attributes.get(attr.TENANT_PARTNER)


def _is_client(organization: Json) -> bool:
    return single_values(organization).get(attr.TENANT_KIND) == TenantKind.CLIENT


def listed(found: list[Place]) -> str:
    return ", ".join(map(str, found))


def refuse_taken(found: list[Place]) -> None:
    """ConfigError naming where a new client's name is taken, when it is."""
    if found:
        raise ConfigError(
            f"client name {found[0].name!r} is taken by {listed(found)}: a client name is"
            " unique across all partners, as a realm or an organization (`client move`"
            " changes a client's mapping); nothing was created"
        )


def choose(
    found: list[Place], *, partner: str | None, mapping: str | None, strict: bool = True
) -> Place | None:
    """The one client among ``found`` that ``partner`` and ``mapping`` (when given) leave;
    None when there is none. ConfigError when more than one is left (ambiguous: made before
    names were unique). When the filters leave none: NotFoundError, or, not ``strict``, the
    only client there is (``client update --partner`` names where a client moves to)."""
    clients = [p for p in found if p.client]
    chosen = [p for p in clients if partner in {None, p.partner} and mapping in {None, p.mapping}]
    if not chosen and not strict and len(clients) == 1:
        chosen = clients
    if len(chosen) > 1 or (not chosen and not strict and clients):
        raise ConfigError(
            f"client name {clients[0].name!r} is ambiguous: {listed(chosen or clients)} (made"
            " before client names were unique); say which with --partner PARTNER, and with"
            " --as realm|organization when one partner holds both"
        )
    if not chosen and clients:
        said = [f"partner {partner!r}" if partner else "", f"as {mapping}" if mapping else ""]
        raise NotFoundError(
            f"no client {clients[0].name!r} with {' and '.join(s for s in said if s)}: there"
            f" is {listed(clients)}"
        )
    return chosen[0] if chosen else None
