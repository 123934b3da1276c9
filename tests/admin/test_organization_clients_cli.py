"""`client show|list|update|delete` and `partner list` on clients kept as organizations, on
real Keycloak."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import organizations, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.organizations import Organization
from keycloak_duo_bridge.attributes import TenantKind
from tests.admin.conftest import Names

pytestmark = pytest.mark.keycloak
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def partner(kc: Keycloak, names: Names) -> Iterator[str]:
    """A partner realm with a user, deleted afterwards with what it holds."""
    name = names("oc")
    tenants.create_partner(kc, name)
    kc._admin.change_current_realm(name)
    kc._admin.create_user({"username": "member-one", "enabled": True})
    yield name
    tenants.delete_tenant(kc, name, cascade=True)


def run(cli: Cli, *argv: str | Path, code: int = 0) -> str:
    got, out, err = cli(*argv)
    assert got == code, (argv, out, err)
    return out if code == 0 else err


def test_show_finds_an_organization_client_and_where_it_lives(
    cli: Cli, kc: Keycloak, partner: str, names: Names
) -> None:
    """`client show NAME` finds an organization client: as organization, its partner, display
    name and own Duo settings (skey masked); a realm client shows as before; no such client
    and `partner show` of an organization refuse."""
    org = names("org")
    run(cli, "client", "create", org, "--partner", partner, "--as", "organization")
    run(cli, "client", "update", org, "--display-name", "Initech Ltd")
    run(cli, "duo", "policy", partner, "--org", org, "--remember", "45")
    shown = json.loads(run(cli, "client", "show", org, "--json"))
    duo = shown.pop("duo")
    assert shown == {
        "name": org,
        "kind": "client",
        "as": "organization",
        "partner": partner,
        "display_name": "Initech Ltd",
    }
    assert duo["remember"] == "45"
    assert duo["skey"] is None
    table = run(cli, "client", "show", org)
    assert re.search(r"^as\s+organization$", table, re.MULTILINE)
    assert "duo remember" in table
    realm = names("cr")
    run(cli, "client", "create", realm, "--partner", partner)
    assert json.loads(run(cli, "client", "show", realm, "--json"))["partner"] == partner
    assert "does not exist" in run(cli, "client", "show", names("none"), code=1)
    assert "does not exist" in run(cli, "partner", "show", org, code=1)


def test_list_puts_organizations_under_their_partner_with_one_listing_each(
    cli: Cli, kc: Keycloak, partner: str, names: Names, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`client list` and `partner list` show organization clients under their partner, marked
    as organizations (table and --json); the tree reads each partner's organizations in one
    listing, and no organization one by one."""
    first, second, realm = names("org-b"), names("org-a"), names("cr")
    for org in (first, second):
        run(cli, "client", "create", org, "--partner", partner, "--as", "organization")
    run(cli, "client", "create", realm, "--partner", partner)
    listed = json.loads(run(cli, "partner", "list", "--json"))
    mine = [t for t in listed if partner in (t["name"], t.get("partner"))]
    assert [t["name"] for t in mine] == [partner, realm, second, first]
    assert mine[2] == {
        "name": second,
        "kind": "client",
        "as": "organization",
        "partner": partner,
        "display_name": second,
    }
    assert "as" not in mine[1]
    table = run(cli, "client", "list")
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
    assert [t.name for t in tree if isinstance(t, Organization) and t.partner == partner] == [
        second,
        first,
    ]


def test_organizations_are_listed_past_keycloaks_page(kc: Keycloak, partner: str) -> None:
    """More organizations than one page of Keycloak's listing (100) are all listed."""
    organizations.create_organization(kc, "pg-000", partner=partner)
    for n in range(1, 103):
        kc.create_organization(
            partner,
            {
                "name": f"pg-{n:03}",
                "alias": f"pg-{n:03}",
                "attributes": {attr.TENANT_KIND: [TenantKind.CLIENT.value]},
            },
        )
    listed = organizations.list_organizations(kc, partner)
    assert [o.name for o in listed] == [f"pg-{n:03}" for n in range(103)]


def test_update_changes_the_display_name_and_refuses_another_partner(
    cli: Cli, kc: Keycloak, partner: str, names: Names
) -> None:
    """`client update --display-name` writes an organization's description, keeping its Duo
    settings; `--partner` another partner is refused with the reason, nothing written."""
    org, other = names("org"), names("op")
    run(cli, "client", "create", org, "--partner", partner, "--as", "organization")
    run(cli, "duo", "policy", partner, "--org", org, "--remember", "30")
    out = json.loads(run(cli, "client", "update", org, "--display-name", "Initech", "--json"))
    assert out["display_name"] == "Initech"
    assert "Initech" in run(cli, "client", "update", org, "--display-name", "Initech")
    same = run(cli, "client", "update", org, "--partner", partner)
    assert "organization" in same
    run(cli, "partner", "create", other)
    try:
        refused = run(
            cli, "client", "update", org, "--partner", other, "--display-name", "X", code=1
        )
    finally:
        tenants.delete_tenant(kc, other)
    assert "cannot move to partner" in refused
    assert "nothing changed" in refused
    found = organizations.get_organization(kc, partner, org)
    assert found.display_name == "Initech"
    assert found.attributes[attr.DUO_REMEMBER] == "30"


class _Terminal(io.StringIO):
    """Standard input that is a terminal, answering what it was given."""

    def isatty(self) -> bool:
        return True


def test_delete_asks_then_deletes_and_keeps_the_members(
    cli: Cli, kc: Keycloak, partner: str, names: Names, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`client delete` of an organization asks first (refusing without a terminal), saying
    its members stay in the realm, and a "no" deletes nothing; with --yes it deletes the
    organization and keeps them; --duo-deprovision is refused for an organization."""
    org = names("org")
    run(cli, "client", "create", org, "--partner", partner, "--as", "organization")
    organizations.add_member(kc, organizations.get_organization(kc, partner, org), "member-one")
    refused = run(cli, "client", "delete", org, code=1)
    assert "1 member user(s) stay users of realm" in refused
    assert "pass --yes" in refused
    monkeypatch.setattr("sys.stdin", _Terminal("n\n"))
    assert run(cli, "client", "delete", org, code=1) == ""
    refused = run(cli, "client", "delete", org, "--yes", "--duo-deprovision", code=1)
    assert "is an organization" in refused
    assert kc.find_organization(partner, org) is not None
    out = run(cli, "client", "delete", org, "--yes")
    assert f"deleted: organization {org} of partner {partner}" in out
    assert kc.find_organization(partner, org) is None
    assert kc.find_user(partner, "member-one") is not None
    assert "does not exist" in run(cli, "client", "delete", org, "--yes", code=1)
