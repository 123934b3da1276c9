"""Provisioning a client organization's Duo application through its partner's admin link, on
sandbox Keycloak and the emulator: sealed for the organization, undone on failure, removed
on delete, rotated."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import duo_settings, organizations, provisioning
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.organizations import Organization
from keycloak_duo_bridge.duo.admin_api import AdminApi
from keycloak_duo_bridge.duo.rest_client import RestOptions
from keycloak_duo_bridge.duo.rest_protocol import Api
from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.emulator.rest_model import MAIN_ACCOUNT_ID
from keycloak_duo_bridge.envelope import DecryptionError, KeyRing
from keycloak_duo_bridge.errors import DuoUnavailableError, NotFoundError
from tests.admin.conftest import Expect, Names
from tests.fixtures_provisioning import LinkPartner

pytestmark = pytest.mark.keycloak

Cli = Callable[..., tuple[int, str, str]]


def made_for(emulator: RunningEmulator, name: str) -> list[str]:
    """What the emulator holds for client ``name``: applications, API ones, child accounts."""
    apps = [i.client_id for i in emulator.state.integrations() if f"({name})" in i.name]
    api = [c.ikey for c in emulator.state.rest.credentials() if f"({name})" in c.name]
    children = emulator.state.rest.children(MAIN_ACCOUNT_ID)
    return apps + api + [a.account_id for a in children if a.name == name]


def own(kc: Keycloak, organization: Organization) -> dict[str, str]:
    """The organization's attributes as Keycloak has them now."""
    return dict(
        organizations.get_organization(kc, organization.partner, organization.name).attributes
    )


def with_ciba(kc: Keycloak, realm: str) -> None:
    """An application of ``realm`` with Keycloak's CIBA grant on."""
    kc.create_client(
        realm,
        {
            "clientId": "kiosk",
            "publicClient": False,
            "attributes": {provisioning.CIBA_GRANT: "true"},
        },
    )


def test_cli_provisions_an_organization_sealed_for_it_and_deprovisions_on_delete(  # noqa: PLR0917
    cli: Cli,
    kc: Keycloak,
    ring: KeyRing,
    partner_realm: str,
    link_partner: LinkPartner,
    names: Names,
    duo_emulator: RunningEmulator,
) -> None:
    """`client create --as organization --duo-provision` makes the organization's own
    application, its skey sealed for the organization (not the realm) and never printed; a
    re-run finds it; `client delete --duo-deprovision` removes it in Duo, then the
    organization."""
    p, org = partner_realm, names("org")
    link_partner(p)
    code, out, err = cli(
        "client", "create", org, "--partner", p, "--as", "organization", "--duo-provision", "--json"
    )
    assert code == 0, err
    shown = json.loads(out)
    done = shown.pop("duo_provisioned")
    assert shown == {"name": org, "kind": "client", "as": "organization", "partner": p}
    assert (done["created"], done["health_check"]) == ([f"Duo application {done['ikey']}"], "ok")
    made = duo_emulator.state.integration(done["ikey"])
    assert made is not None
    assert made.name == f"Keycloak {org} ({org})"
    assert made.client_secret not in out + err
    organization = organizations.get_organization(kc, p, org)
    stored = organization.attributes
    assert stored[attr.DUO_IKEY] == stored[attr.DUO_PROVISIONED_IKEY] == done["ikey"]
    sealed = stored[attr.DUO_SKEY]
    assert made.client_secret not in str(stored)
    opened = ring.decrypt(sealed, realm=organization.scope, attribute=attr.DUO_SKEY)
    assert opened == made.client_secret
    with pytest.raises(DecryptionError):
        ring.decrypt(sealed, realm=p, attribute=attr.DUO_SKEY)
    partner = kc.get_realm(p).get("attributes") or {}
    assert not {attr.DUO_IKEY, attr.DUO_PROVISIONED_IKEY} & set(partner)
    assert not [
        n
        for n in organizations.resolve(kc, organization).organization.problems
        if "provisioned" in n
    ]

    code, out, err = cli(
        "client", "create", org, "--partner", p, "--as", "organization", "--duo-provision"
    )
    assert code == 0, err
    assert "nothing new (found the recorded application)" in out
    assert made_for(duo_emulator, org) == [done["ikey"]]

    code, out, err = cli("client", "delete", org, "--yes", "--duo-deprovision")
    assert code == 0, err
    assert out.splitlines() == [
        f"removed in Duo: Duo application {done['ikey']}",
        f"deleted: organization {org} of partner {p}",
    ]
    assert made_for(duo_emulator, org) == []
    assert organizations.find_client(kc, org) is None


def test_accounts_link_and_ciba_give_a_child_and_an_auth_api_application(  # noqa: PLR0917
    kc: Keycloak,
    ring: KeyRing,
    partner_realm: str,
    link_partner: LinkPartner,
    names: Names,
    duo_emulator: RunningEmulator,
    duo_rest_options: RestOptions,
) -> None:
    """With an Accounts API link and CIBA in the partner realm, the organization gets a child
    account, a Web SDK and an Auth API application, both skeys sealed for it; a re-run makes
    nothing; deprovisioning deletes the child and clears the organization's keys and record."""
    p = partner_realm
    link_partner(p, Api.ACCOUNTS)
    with_ciba(kc, p)
    organization = organizations.create_organization(
        kc, names("org"), partner=p, display_name="Initech"
    )
    live = duo_settings.duo_health_check(duo_emulator.ca_path, timeout=3, allow_any_host=True)
    done = provisioning.provision(
        kc, organization, ring=ring, options=duo_rest_options, health=live
    )
    assert done.account_id is not None
    assert done.auth_api_ikey is not None
    assert done.created == (
        f"Duo child account {done.account_id}",
        f"Duo application {done.ikey}",
        f"Duo application {done.auth_api_ikey}",
    )
    push = duo_emulator.state.rest.credential(done.auth_api_ikey)
    assert push is not None
    assert (push.kind, push.name) == ("authapi", f"Keycloak Initech ({organization.name}) push")
    stored = own(kc, organization)
    assert stored[attr.AUTH_API_IKEY] == stored[attr.DUO_PROVISIONED_AUTH_API] == push.ikey
    assert stored[attr.DUO_PROVISIONED_ACCOUNT] == done.account_id
    sealed = stored[attr.AUTH_API_SKEY]
    assert ring.decrypt(sealed, realm=organization.scope, attribute=attr.AUTH_API_SKEY) == push.skey
    with pytest.raises(DecryptionError):
        ring.decrypt(sealed, realm=p, attribute=attr.AUTH_API_SKEY)

    again = provisioning.provision(
        kc, organization, ring=ring, options=duo_rest_options, health=live
    )
    assert (again.ikey, again.auth_api_ikey, again.created) == (done.ikey, push.ikey, ())

    removed = provisioning.deprovision(kc, organization, ring=ring, options=duo_rest_options)
    assert removed == [f"Duo child account {done.account_id} with its applications ({done.ikey})"]
    assert made_for(duo_emulator, organization.name) == []
    left = own(kc, organization)
    assert not {*attr.PROVISIONED_NAMES, attr.DUO_IKEY, attr.DUO_SKEY, attr.AUTH_API_SKEY} & set(
        left
    )
    assert provisioning.deprovision(kc, organization, ring=ring, options=duo_rest_options) == []


@pytest.mark.parametrize("api", [Api.ADMIN, Api.ACCOUNTS])
def test_a_failure_midway_undoes_duo_and_keeps_the_organization_as_it_was(  # noqa: PLR0917
    cli: Cli,
    kc: Keycloak,
    ring: KeyRing,
    partner_realm: str,
    link_partner: LinkPartner,
    names: Names,
    duo_emulator: RunningEmulator,
    duo_rest_options: RestOptions,
    monkeypatch: pytest.MonkeyPatch,
    api: Api,
) -> None:
    """Duo failing to give the Auth API application's key, after the Web SDK keys were stored:
    what this run made in Duo goes, the organization's attributes are as they were, and an
    organization `client create` made goes too; the error says no secret."""
    p = partner_realm
    link_partner(p, api)
    with_ciba(kc, p)
    original = AdminApi.secret_key
    calls: list[str] = []

    def second_fails(self: AdminApi, ikey: str) -> str:
        calls.append(ikey)
        if len(calls) % 2 == 0:  # the Auth API application's, after the Web SDK one's
            raise DuoUnavailableError("Duo did not answer")
        return original(self, ikey)

    monkeypatch.setattr(AdminApi, "secret_key", second_fails)
    kept = organizations.create_organization(kc, names("kept"), partner=p)
    organizations.set_credentials(
        kc,
        kept,
        ikey="D" * 20,
        skey="s" * 40,
        api_host="api-1.duosecurity.com",
        ring=ring,
        health=None,
    )
    before = own(kc, kept)
    with pytest.raises(DuoUnavailableError, match="did not answer"):
        provisioning.provision(kc, kept, ring=ring, options=duo_rest_options, health=None)
    assert made_for(duo_emulator, kept.name) == []
    assert own(kc, kept) == before

    new = names("new")
    code, out, err = cli(
        "client", "create", new, "--partner", p, "--as", "organization", "--duo-provision"
    )
    assert (code, "did not answer" in err) == (1, True), out
    assert made_for(duo_emulator, new) == []
    assert organizations.find_client(kc, new) is None
    assert "s" * 40 not in out + err


def test_refusals_name_the_reason_and_change_nothing(  # noqa: PLR0917
    cli: Cli,
    expect: Expect,
    kc: Keycloak,
    ring: KeyRing,
    partner_realm: str,
    names: Names,
    duo_rest_options: RestOptions,
) -> None:
    """No admin link: `client create --duo-provision` fails and leaves no organization; an
    organization not provisioned is not rotated (it is told how to set keys by hand) and
    nothing is deprovisioned; a vanished partner is named."""
    p, org = partner_realm, names("org")
    err = expect(
        "client", "create", org, "--partner", p, "--as", "organization", "--duo-provision", code=1
    )
    assert "no Duo admin link" in err
    assert organizations.find_client(kc, org) is None
    organization = organizations.create_organization(kc, org, partner=p)
    err = expect("duo", "rotate", p, "--org", org, code=1)
    assert f"organization {org} of realm {p} was not provisioned" in err
    assert f"`duo set {p} --org {org}`" in err
    assert provisioning.deprovision(kc, organization, ring=ring, options=duo_rest_options) == []
    code, out, _ = cli("client", "delete", org, "--yes", "--duo-deprovision")
    assert (code, out.strip()) == (0, f"deleted: organization {org} of partner {p}")
    with pytest.raises(NotFoundError):
        provisioning.holder_of(kc, Organization(names("gone"), org, organization.id))


def test_rotate_an_organization_replaces_its_application_at_once(  # noqa: PLR0917
    cli: Cli,
    expect: Expect,
    kc: Keycloak,
    ring: KeyRing,
    partner_realm: str,
    link_partner: LinkPartner,
    names: Names,
    duo_emulator: RunningEmulator,
) -> None:
    """`duo rotate P --org NAME` stores a new application, sealed for the organization and
    proven, and deletes the old one at once (an organization keeps no retiring one): a grace
    is refused, `--retire` finds nothing."""
    p, org = partner_realm, names("org")
    link_partner(p)
    first = json.loads(
        expect(
            "client",
            "create",
            org,
            "--partner",
            p,
            "--as",
            "organization",
            "--duo-provision",
            "--json",
        )
    )["duo_provisioned"]["ikey"]
    err = expect("duo", "rotate", p, "--org", org, "--grace", "60", code=1)
    assert "keeps no retiring application" in err
    rotated = json.loads(expect("duo", "rotate", p, "--org", org, "--json"))
    new = rotated["new_ikey"]
    assert rotated == {
        "realm": p,
        "organization": org,
        "old_ikey": first,
        "new_ikey": new,
        "health_check": "ok",
        "old_retiring_until": None,
    }
    assert made_for(duo_emulator, org) == [new]
    organization = organizations.get_organization(kc, p, org)
    stored = organization.attributes
    assert stored[attr.DUO_IKEY] == stored[attr.DUO_PROVISIONED_IKEY] == new
    made = duo_emulator.state.integration(new)
    assert made is not None
    assert (
        ring.decrypt(stored[attr.DUO_SKEY], realm=organization.scope, attribute=attr.DUO_SKEY)
        == made.client_secret
    )
    out = expect("duo", "rotate", p, "--org", org)
    assert out.strip().endswith(f"{new} deleted")
    assert out.startswith(f"{p} --org {org}: Duo application ")
    assert (
        expect("duo", "rotate", p, "--org", org, "--retire").strip()
        == f"{p} --org {org}: nothing retiring"
    )
    assert json.loads(expect("duo", "rotate", p, "--org", org, "--retire", "--json")) == {
        "realm": p,
        "organization": org,
        "retired": None,
    }
    err = expect("duo", "rotate", p, "--org", names("none"), code=1)
    assert "has no client organization" in err
