"""The tenant file keeps client names unique across partners and mappings, on real
Keycloak: a new client whose name an undeclared partner's organization has is a problem."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from keycloak_duo_bridge.admin import organizations, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from tests.admin.conftest import Names

pytestmark = pytest.mark.keycloak
Cli = Callable[..., tuple[int, str, str]]
FleetOf = Callable[[str, dict[str, str]], Path]


def test_new_clients_named_like_an_undeclared_partners_organization_are_problems(
    cli: Cli, kc: Keycloak, names: Names, fleet_of: FleetOf, all_writes: Counter[str]
) -> None:
    """A declared client organization or client realm whose name a partner the file leaves
    out has as an organization, or a realm has, is a problem naming where: plan and apply
    exit 1 and apply writes nothing."""
    p, q = names("fp"), names("fq")
    theirs, also, realm = names("theirs"), names("also"), names("realm")
    for partner in (p, q):
        tenants.create_partner(kc, partner)
    try:
        for name in (theirs, also):
            organizations.create_organization(kc, name, partner=q)
        tenants.create_client(kc, realm, partner=q)
        organization = "as: organization"
        path = fleet_of(
            p, {theirs: organization, also: "", realm: organization, names("fine"): organization}
        )
        code, out, _ = cli("plan", path)
        assert code == 1, out
        assert f"problem: client '{theirs}' is an organization of realm '{q}', not '{p}'" in out
        assert (
            f"problem: client '{also}' is declared as a realm but is an organization of realm"
            f" '{q}'" in out
        )
        assert f"problem: client '{realm}' is declared as an organization but is a realm" in out
        all_writes.clear()
        code, _, err = cli("apply", path)
        assert (code, "the plan has problems, nothing applied" in err) == (1, True)
        assert sum(all_writes.values()) == 0
        assert organizations.list_organizations(kc, p) == []
    finally:
        tenants.delete_tenant(kc, p, cascade=True)
        tenants.delete_tenant(kc, q, cascade=True)


def test_a_plan_without_new_clients_lists_no_realms(
    cli: Cli, kc: Keycloak, names: Names, fleet_of: FleetOf, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan whose clients all exist reads no realm listing: the other partners'
    organizations are looked at only for new names."""
    p = names("fp")
    org = names("org")
    tenants.create_partner(kc, p)
    try:
        organizations.create_organization(kc, org, partner=p)
        listings = Counter[str]()
        original = Keycloak.get_realms

        def spy(self: Keycloak) -> object:
            listings["get_realms"] += 1
            return original(self)

        monkeypatch.setattr(Keycloak, "get_realms", spy)
        path = fleet_of(p, {org: "as: organization"})
        code, out, _ = cli("plan", path)
        assert code == 0, out
        assert listings["get_realms"] == 0
    finally:
        tenants.delete_tenant(kc, p, cascade=True)
