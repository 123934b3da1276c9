"""A client name is unique across partners and mappings, on real Keycloak: `client create`
refuses a taken name, and the lookups refuse a name that older data holds twice."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from keycloak_duo_bridge.admin import client_names, organizations, record, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from tests.admin.conftest import Calls, Expect, Names

pytestmark = pytest.mark.keycloak


def _organizations_on(kc: Keycloak, realm: str) -> bool:
    return bool(kc.get_realm(realm).get(record.ORGANIZATIONS_ENABLED))


def test_create_refuses_a_name_anpartner_has_and_writes_nothing(
    expect: Expect, kc: Keycloak, partner_realm: str, partner: str, names: Names
) -> None:
    """`client create` (as realm or organization) refuses a name that another partner's
    client organization or client realm has, naming where, exit 1; no realm or organization
    is made, and the other partner's organizations stay off."""
    org, realm = names("org"), names("cr")
    expect("client", "create", org, "--partner", partner_realm, "--as", "organization")
    expect("client", "create", realm, "--partner", partner_realm)
    for mapping in ("organization", "realm"):
        refused = expect("client", "create", org, "--partner", partner, "--as", mapping, code=1)
        assert f"client name {org!r} is taken by organization {org!r} of partner" in refused
        assert partner_realm in refused
        assert "nothing was created" in refused
    refused = expect(
        "client", "create", realm, "--partner", partner, "--as", "organization", code=1
    )
    assert f"taken by realm {realm!r} (client of partner {partner_realm!r})" in refused
    refused = expect("client", "create", partner_realm, "--partner", partner, code=1)
    assert "already exists and is not a client" in refused
    refused = expect(
        "client",
        "create",
        partner,
        "--partner",
        partner_realm,
        "--as",
        "organization",
        code=1,
    )
    assert f"taken by realm {partner!r}:" in refused
    assert kc.find_realm(org) is None
    assert not _organizations_on(kc, partner)
    assert kc.find_organization(partner_realm, partner) is None
    assert organizations.get_organization(kc, partner_realm, org).partner == partner_realm
    again = json.loads(
        expect(
            "client", "create", org, "--partner", partner_realm, "--as", "organization", "--json"
        )
    )
    assert again["partner"] == partner_realm


def test_create_refuses_its_own_partners_organization_and_one_that_is_no_client(
    expect: Expect, kc: Keycloak, partner_realm: str, partner: str, names: Names
) -> None:
    """A client realm is refused its own partner's client organization's name (with the way
    to move it), and either mapping a name a non-client organization has."""
    org, plain = names("org"), names("plain")
    expect("client", "create", org, "--partner", partner_realm, "--as", "organization")
    refused = expect("client", "create", org, "--partner", partner_realm, code=1)
    assert f"taken by organization {org!r} of partner {partner_realm!r}" in refused
    assert "client move" in refused
    kc.create_organization(partner_realm, {"name": plain, "alias": plain, "enabled": True})
    for where in (partner_realm, partner):
        refused = expect(
            "client", "create", plain, "--partner", where, "--as", "organization", code=1
        )
        assert f"organization (not a client) {plain!r} of partner {partner_realm!r}" in refused
    assert kc.find_realm(org) is None
    assert not _organizations_on(kc, partner)


@pytest.fixture
def legacy(kc: Keycloak, partner_realm: str, partner: str, names: Names) -> dict[str, str]:
    """Names held twice, as data made before names were unique holds them: ``twice`` an
    organization of both partners, ``mixed`` a client realm of the first partner and an
    organization of the second, ``home`` a client realm and an organization of the first."""
    twice, mixed, home = names("twice"), names("mixed"), names("home")
    for name in (mixed, home):
        tenants.create_client(kc, name, partner=partner_realm)
    held = ((twice, partner_realm), (twice, partner), (mixed, partner), (home, partner_realm))
    for name, holder in held:
        organizations.make_organization(kc, name, partner=holder)  # the caller checks: none
    return {"twice": twice, "mixed": mixed, "home": home}


def test_lookups_refuse_a_name_held_twice_and_take_partner_and_as(
    expect: Expect, kc: Keycloak, partner_realm: str, partner: str, legacy: dict[str, str]
) -> None:
    """`client show|update|delete NAME` refuse a name held in two places, naming both and
    how to choose; --partner and --as choose; a choice that matches nothing is refused."""
    twice, mixed, home = legacy["twice"], legacy["mixed"], legacy["home"]
    for argv in (("show",), ("update", "--display-name", "X"), ("delete", "--yes")):
        refused = expect("client", argv[0], twice, *argv[1:], code=1)
        assert f"client name {twice!r} is ambiguous" in refused
        assert f"organization {twice!r} of partner {partner_realm!r}" in refused
        assert f"organization {twice!r} of partner {partner!r}" in refused
        assert "--partner PARTNER" in refused
    assert len([o for o in (partner_realm, partner) if kc.find_organization(o, twice)]) == 2
    shown = json.loads(expect("client", "show", twice, "--partner", partner, "--json"))
    assert (shown["partner"], shown["as"]) == (partner, "organization")
    missing = expect("client", "show", twice, "--partner", "elsewhere", code=1)
    assert f"no client {twice!r} with partner 'elsewhere': there is organization" in missing
    updated = expect(
        "client", "update", twice, "--partner", partner_realm, "--display-name", "Ours", "--json"
    )
    assert json.loads(updated)["display_name"] == "Ours"
    assert "ambiguous" in expect("client", "update", twice, "--partner", "elsewhere", code=1)
    expect("client", "delete", twice, "--partner", partner, "--yes")
    assert kc.find_organization(partner, twice) is None
    assert kc.find_organization(partner_realm, twice) is not None

    assert "ambiguous" in expect("client", "show", mixed, code=1)
    as_realm = json.loads(expect("client", "show", mixed, "--as", "realm", "--json"))
    assert (as_realm["partner"], "as" not in as_realm) == (partner_realm, True)
    as_org = json.loads(expect("client", "show", mixed, "--as", "organization", "--json"))
    assert as_org["partner"] == partner
    refused = expect("client", "show", home, "--partner", partner_realm, code=1)
    assert "--as realm|organization when one partner holds both" in refused
    chosen = json.loads(
        expect("client", "show", home, "--partner", partner_realm, "--as", "realm", "--json")
    )
    assert chosen["kind"] == "client"
    assert "with partner" in expect("client", "show", home, "--partner", partner, code=1)
    assert "as organization" in expect(
        "client", "show", home, "--partner", partner, "--as", "organization", code=1
    )


def test_a_client_realm_still_moves_to_anpartner_and_checks_cost_one_search_each(  # noqa: PLR0917
    expect: Expect,
    kc: Keycloak,
    partner_realm: str,
    partner: str,
    names: Names,
    calls: Calls,
) -> None:
    """`client update NAME --partner OTHER` still moves a client realm (--partner names where
    it goes, not which it is); finding where a name is taken reads the realms once and
    searches each partner with organizations once, never organization by organization."""
    realm = names("cr")
    expect("client", "create", realm, "--partner", partner_realm)
    expect("client", "update", realm, "--partner", partner)
    assert tenants.get_tenant(kc, realm).partner == partner
    organizations.make_organization(kc, names("o1"), partner=partner_realm)
    organizations.make_organization(kc, names("o2"), partner=partner_realm)
    with_organizations = client_names.partners_with_organizations(kc.get_realms())
    counted = calls("get_realms", "find_organization", "get_organizations", "get_organization")
    found = client_names.places(kc, realm)
    assert [str(p) for p in found] == [f"realm {realm!r} (client of partner {partner!r})"]
    assert counted == Counter({"get_realms": 1, "find_organization": len(with_organizations)})
    assert partner_realm in {str(r["realm"]) for r in with_organizations}
    assert organizations.find_client(kc, realm) is None
