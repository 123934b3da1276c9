"""Client organizations as tenants: what they show, where they sort, and a move refused."""

from __future__ import annotations

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import organizations
from keycloak_duo_bridge.admin.organizations import Organization, organization_of
from keycloak_duo_bridge.admin.tenants import Tenant
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.errors import ConfigError

INITECH = Organization(
    "acme",
    "initech",
    "o1",
    {attr.TENANT_KIND: "client", attr.DUO_SKEY: "sealed", attr.DUO_REMEMBER: "30"},
    "Initech",
)


def test_a_client_organization_reads_its_description_as_display_name() -> None:
    """The organization's description is the name people see; none gives None."""
    representation = {
        "name": "initech",
        "id": "o1",
        "description": "Initech",
        "attributes": {attr.TENANT_KIND: ["client"]},
    }
    assert organization_of("acme", representation) == INITECH
    found = organization_of("acme", {**representation, "description": ""})
    assert found is not None
    assert found.display_name is None


def test_summary_says_where_it_lives_and_masks_the_skey() -> None:
    """`client show` of an organization: where it lives, and its own settings, skey masked."""
    shown = organizations.summary(INITECH)
    duo = shown.pop("duo")
    assert shown == {
        "name": "initech",
        "kind": "client",
        "as": "organization",
        "partner": "acme",
        "display_name": "Initech",
    }
    assert duo["remember"] == "30"
    assert "sealed" not in str(duo)
    assert "organization" not in duo


def test_organizations_sort_under_their_partner() -> None:
    """Partners first, each one's clients after it by name, realms and organizations alike."""
    acme = Tenant("acme", TenantKind.PARTNER)
    north = Tenant("north", TenantKind.CLIENT, partner="acme")
    zeta = Tenant("zeta", TenantKind.PARTNER)
    items: list[Tenant | Organization] = [zeta, north, INITECH, acme]
    assert sorted(items, key=organizations._place) == [acme, INITECH, north, zeta]


def test_a_move_to_another_partner_is_refused() -> None:
    """No partner or its own partner passes; another partner is refused with the reason."""
    organizations.refuse_move(INITECH, None)
    organizations.refuse_move(INITECH, "acme")
    with pytest.raises(ConfigError, match="cannot move to partner 'globex'"):
        organizations.refuse_move(INITECH, "globex")
