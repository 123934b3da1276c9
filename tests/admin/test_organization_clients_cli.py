"""`client show|list|update|delete` and `partner list` on clients kept as organizations, on
real Keycloak."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from collections.abc import Callable

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import organizations, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.organizations import Organization
from keycloak_duo_bridge.attributes import TenantKind
from tests.admin.conftest import Expect, Names

pytestmark = pytest.mark.keycloak


def test_show_finds_an_organization_client_and_where_it_lives(
    expect: Expect, kc: Keycloak, partner_realm: str, names: Names
) -> None:
    """`client show NAME` finds an organization client: as organization, its partner, display
    name and own Duo settings (skey masked); a realm client shows as before; no such client
    and `partner show` of an organization refuse."""
    org = names("org")
    expect("client", "create", org, "--partner", partner_realm, "--as", "organization")
    expect("client", "update", org, "--display-name", "Initech Ltd")
    expect("duo", "policy", partner_realm, "--org", org, "--remember", "45")
    shown = json.loads(expect("client", "show", org, "--json"))
    duo = shown.pop("duo")
    assert shown == {
        "name": org,
        "kind": "client",
        "as": "organization",
        "partner": partner_realm,
        "display_name": "Initech Ltd",
    }
    assert duo["remember"] == "45"
    assert duo["skey"] is None
    table = expect("client", "show", org)
    assert re.search(r"^as\s+organization$", table, re.MULTILINE)
    assert "duo remember" in table
    realm = names("cr")
    expect("client", "create", realm, "--partner", partner_realm)
    assert json.loads(expect("client", "show", realm, "--json"))["partner"] == partner_realm
    assert "does not exist" in expect("client", "show", names("none"), code=1)
    assert "does not exist" in expect("partner", "show", org, code=1)


def test_list_puts_organizations_under_their_partner_with_one_listing_each(
    expect: Expect, kc: Keycloak, partner_realm: str, names: Names, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`client list` and `partner list` show organization clients under their partner, marked
    as organizations (table and --json); the tree reads each partner's organizations in one
    listing, and no organization one by one."""
    first, second, realm = names("org-b"), names("org-a"), names("cr")
    for org in (first, second):
        expect("client", "create", org, "--partner", partner_realm, "--as", "organization")
    expect("client", "create", realm, "--partner", partner_realm)
    listed = json.loads(expect("partner", "list", "--json"))
    mine = [t for t in listed if partner_realm in (t["name"], t.get("partner"))]
    assert [t["name"] for t in mine] == [partner_realm, realm, second, first]
    assert mine[2] == {
        "name": second,
        "kind": "client",
        "as": "organization",
        "partner": partner_realm,
        "display_name": second,
    }
    assert "as" not in mine[1]
    table = expect("client", "list")
    assert f"└─ {first}  client (organization)" in table

    calls: Counter[str] = Counter()
    for method in ("get_organizations", "get_organization", "find_organization"):
        original = getattr(kc, method)

        def spy(
            *args: str, _name: str = method, _original: Callable[..., object] = original
        ) -> object:
            calls[_name] += 1
            return _original(*args)

        monkeypatch.setattr(kc, method, spy)
    tree = organizations.tenant_tree(kc)
    with_organizations = [
        r
        for r in kc.get_realms()
        if r.get("organizationsEnabled")
        and r["attributes"].get(attr.TENANT_KIND) == TenantKind.PARTNER
    ]
    assert calls == Counter({"get_organizations": len(with_organizations)})
    assert [t.name for t in tree if isinstance(t, Organization) and t.partner == partner_realm] == [
        second,
        first,
    ]


def test_organizations_are_listed_past_keycloaks_page(kc: Keycloak, partner_realm: str) -> None:
    """More organizations than one page of Keycloak's listing (100) are all listed."""
    organizations.create_organization(kc, "pg-000", partner=partner_realm)
    for n in range(1, 103):
        kc.create_organization(
            partner_realm,
            {
                "name": f"pg-{n:03}",
                "alias": f"pg-{n:03}",
                "attributes": {attr.TENANT_KIND: [TenantKind.CLIENT.value]},
            },
        )
    listed = organizations.list_organizations(kc, partner_realm)
    assert [o.name for o in listed] == [f"pg-{n:03}" for n in range(103)]


def test_update_changes_the_display_name_and_refuses_another_partner(
    expect: Expect, kc: Keycloak, partner_realm: str, names: Names
) -> None:
    """`client update --display-name` writes an organization's description, keeping its Duo
    settings; `--partner` another partner is refused with the reason, nothing written."""
    org, other = names("org"), names("op")
    expect("client", "create", org, "--partner", partner_realm, "--as", "organization")
    expect("duo", "policy", partner_realm, "--org", org, "--remember", "30")
    out = json.loads(expect("client", "update", org, "--display-name", "Initech", "--json"))
    assert out["display_name"] == "Initech"
    assert "Initech" in expect("client", "update", org, "--display-name", "Initech")
    same = expect("client", "update", org, "--partner", partner_realm)
    assert "organization" in same
    expect("partner", "create", other)
    try:
        refused = expect("client", "update", org, "--partner", other, "--display-name", "X", code=1)
    finally:
        tenants.delete_tenant(kc, other)
    assert "cannot move to partner" in refused
    assert "nothing changed" in refused
    found = organizations.get_organization(kc, partner_realm, org)
    assert found.display_name == "Initech"
    assert found.attributes[attr.DUO_REMEMBER] == "30"


class _Terminal(io.StringIO):
    """Standard input that is a terminal, answering what it was given."""

    def isatty(self) -> bool:
        return True


def test_delete_asks_then_deletes_and_keeps_the_members(
    expect: Expect, kc: Keycloak, partner_realm: str, names: Names, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`client delete` of an organization asks first (refusing without a terminal), saying
    its members stay in the realm, and a "no" deletes nothing; with --yes it deletes the
    organization and keeps them."""
    org = names("org")
    expect("client", "create", org, "--partner", partner_realm, "--as", "organization")
    organizations.add_member(
        kc, organizations.get_organization(kc, partner_realm, org), "member-one"
    )
    refused = expect("client", "delete", org, code=1)
    assert "1 member user(s) stay users of realm" in refused
    assert "pass --yes" in refused
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    assert expect("client", "delete", org, code=1) == ""
    assert kc.find_organization(partner_realm, org) is not None
    out = expect("client", "delete", org, "--yes")
    assert f"deleted: organization {org} of partner {partner_realm}" in out
    assert kc.find_organization(partner_realm, org) is None
    assert kc.find_user(partner_realm, "member-one") is not None
    assert "does not exist" in expect("client", "delete", org, "--yes", code=1)


def test_a_client_realm_is_refused_the_name_of_its_partners_organization(
    expect: Expect, kc: Keycloak, partner_realm: str, names: Names
) -> None:
    """`client create NAME --partner P` refuses when P keeps a client organization NAME: a
    client is a realm or an organization, never both, and no realm is made."""
    org = names("org")
    expect("client", "create", org, "--partner", partner_realm, "--as", "organization")
    refused = expect("client", "create", org, "--partner", partner_realm, code=1)
    assert f"partner {partner_realm!r} keeps an organization named {org!r}" in refused
    assert "client move" in refused
    assert kc.find_realm(org) is None


def test_a_name_two_partners_share_needs_the_partner_and_finds_the_right_one(
    expect: Expect, kc: Keycloak, partner_realm: str, names: Names
) -> None:
    """When two partners each keep an organization NAME, `client show|update|delete NAME`
    refuse naming both partners and change nothing; `--partner` picks the one meant, and
    delete then leaves the other partner's organization alone."""
    org, other = names("org"), names("op")
    expect("partner", "create", other)
    try:
        for partner in (partner_realm, other):
            expect("client", "create", org, "--partner", partner, "--as", "organization")
        wanted = f"more than one partner realm ({', '.join(sorted((partner_realm, other)))})"
        for argv in (("show",), ("update", "--display-name", "X"), ("delete", "--yes")):
            refused = expect("client", *argv[:1], org, *argv[1:], code=1)
            assert wanted in refused
            assert "--partner" in refused
        assert all(
            organizations.get_organization(kc, p, org).display_name == org
            for p in (partner_realm, other)
        )
        shown = json.loads(expect("client", "show", org, "--partner", other, "--json"))
        assert shown["partner"] == other
        expect("client", "update", org, "--partner", other, "--display-name", "Theirs")
        assert organizations.get_organization(kc, other, org).display_name == "Theirs"
        assert organizations.get_organization(kc, partner_realm, org).display_name == org
        out = expect("client", "delete", org, "--partner", other, "--yes")
        assert f"deleted: organization {org} of partner {other}" in out
        assert kc.find_organization(other, org) is None
        assert kc.find_organization(partner_realm, org) is not None
        assert json.loads(expect("client", "show", org, "--json"))["partner"] == partner_realm
    finally:
        tenants.delete_tenant(kc, other, cascade=True)


def test_a_realm_client_named_under_another_partner_is_refused(
    expect: Expect, kc: Keycloak, partner_realm: str, names: Names
) -> None:
    """`client show|delete NAME --partner P` of a client realm under another partner refuse,
    saying whose it is, and the realm stays."""
    realm = names("cr")
    expect("client", "create", realm, "--partner", partner_realm)
    for argv in (("show",), ("delete", "--yes")):
        refused = expect("client", *argv[:1], realm, "--partner", "elsewhere", *argv[1:], code=1)
        assert f"is a realm under partner {partner_realm!r}, not 'elsewhere'" in refused
    assert kc.find_realm(realm) is not None
    shown = json.loads(expect("client", "show", realm, "--partner", partner_realm, "--json"))
    assert shown["partner"] == partner_realm
