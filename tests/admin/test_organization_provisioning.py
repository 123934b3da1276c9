"""Provisioning a client organization's Duo application through its partner's admin link, on
sandbox Keycloak and the emulator: sealed for the organization, undone on failure, removed
on delete, rotated."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import duo_settings, organizations, provisioning, tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.organizations import Organization
from keycloak_duo_bridge.duo.admin_api import AdminApi
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
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


@dataclass
class World:
    """A partner realm, its link to the emulator made on demand, and provisioning there."""

    kc: Keycloak
    ring: KeyRing
    partner: str
    emulator: RunningEmulator
    options: RestOptions
    link: Callable[..., object]
    names: Names

    def made_for(self, name: str) -> list[str]:
        """What the emulator holds for client ``name``: applications and child accounts."""
        state = self.emulator.state
        apps = [i.client_id for i in state.integrations() if f"({name})" in i.name]
        api = [c.ikey for c in state.rest.credentials() if f"({name})" in c.name]
        children = state.rest.children(MAIN_ACCOUNT_ID)
        return apps + api + [a.account_id for a in children if a.name == name]

    def own(self, organization: Organization) -> dict[str, str]:
        """The organization's attributes as Keycloak has them now."""
        found = organizations.get_organization(self.kc, organization.partner, organization.name)
        return dict(found.attributes)

    def with_ciba(self) -> None:
        """An application of the partner realm with Keycloak's CIBA grant on."""
        self.kc.create_client(
            self.partner,
            {
                "clientId": "kiosk",
                "publicClient": False,
                "attributes": {provisioning.CIBA_GRANT: "true"},
            },
        )

    def provision(
        self, organization: Organization, health: duo_settings.HealthCheck | None
    ) -> provisioning.Provisioned:
        return provisioning.provision(
            self.kc, organization, ring=self.ring, options=self.options, health=health
        )

    def deprovision(self, organization: Organization) -> list[str]:
        return provisioning.deprovision(self.kc, organization, ring=self.ring, options=self.options)


@pytest.fixture
def world(  # noqa: PLR0917
    kc: Keycloak,
    ring: KeyRing,
    partner_realm: str,
    link_partner: LinkPartner,
    names: Names,
    duo_emulator: RunningEmulator,
    duo_rest_options: RestOptions,
) -> World:
    """A partner realm (deleted afterwards with its organizations); ``world.link(api)``
    links it to the emulator."""
    return World(
        kc,
        ring,
        partner_realm,
        duo_emulator,
        duo_rest_options,
        lambda api=Api.ADMIN: link_partner(partner_realm, api),
        names,
    )


def test_cli_provisions_an_organization_sealed_for_it_and_deprovisions_on_delete(
    cli: Cli, world: World
) -> None:
    """`client create --as organization --duo-provision` makes the organization's own
    application, its skey sealed for the organization (not the realm) and never printed; a
    re-run finds it, also when another partner keeps an organization of that name; `client
    delete --duo-deprovision` removes it in Duo, then the organization."""
    p, org = world.partner, world.names("org")
    world.link()
    create = ("client", "create", org, "--partner", p, "--as", "organization", "--duo-provision")
    code, out, err = cli(*create, "--json")
    assert code == 0, err
    shown = json.loads(out)
    done = shown.pop("duo_provisioned")
    assert shown == {"name": org, "kind": "client", "as": "organization", "partner": p}
    assert (done["created"], done["health_check"]) == ([f"Duo application {done['ikey']}"], "ok")
    made = world.emulator.state.integration(done["ikey"])
    assert made is not None
    assert made.name == f"Keycloak {org} ({org})"
    assert made.client_secret not in out + err
    organization = organizations.get_organization(world.kc, p, org)
    stored = organization.attributes
    assert stored[attr.DUO_IKEY] == stored[attr.DUO_PROVISIONED_IKEY] == done["ikey"]
    assert made.client_secret not in str(stored)
    sealed = stored[attr.DUO_SKEY]
    opened = world.ring.decrypt(sealed, realm=organization.scope, attribute=attr.DUO_SKEY)
    assert opened == made.client_secret
    with pytest.raises(DecryptionError):
        world.ring.decrypt(sealed, realm=p, attribute=attr.DUO_SKEY)
    partner = world.kc.get_realm(p).get("attributes") or {}
    assert not {attr.DUO_IKEY, attr.DUO_PROVISIONED_IKEY} & set(partner)
    problems = organizations.resolve(world.kc, organization).organization.problems
    assert not [m for m in problems if "provisioned" in m]

    other = world.names("op")
    assert cli("partner", "create", other)[0] == 0
    try:
        shared = cli("client", "create", org, "--partner", other, "--as", "organization")
        assert shared[0] == 0, shared[2]
        code, out, err = cli(*create)
    finally:
        tenants.delete_tenant(world.kc, other, cascade=True)
    assert code == 0, err
    assert "nothing new (found the recorded application)" in out
    assert world.made_for(org) == [done["ikey"]]

    code, out, err = cli("client", "delete", org, "--yes", "--duo-deprovision")
    assert code == 0, err
    assert out.splitlines() == [
        f"removed in Duo: Duo application {done['ikey']}",
        f"deleted: organization {org} of partner {p}",
    ]
    assert world.made_for(org) == []
    assert organizations.find_client(world.kc, org) is None


def test_accounts_link_and_ciba_give_a_child_and_an_auth_api_application(world: World) -> None:
    """With an Accounts API link and CIBA in the partner realm, the organization gets a child
    account, a Web SDK and an Auth API application, both skeys sealed for it; a re-run makes
    nothing; deprovisioning deletes the child and clears the organization's keys and record."""
    world.link(Api.ACCOUNTS)
    world.with_ciba()
    organization = organizations.create_organization(
        world.kc, world.names("org"), partner=world.partner, display_name="Initech"
    )
    live = duo_settings.duo_health_check(world.emulator.ca_path, timeout=3, allow_any_host=True)
    done = world.provision(organization, live)
    assert done.account_id is not None
    assert done.auth_api_ikey is not None
    assert done.created == (
        f"Duo child account {done.account_id}",
        f"Duo application {done.ikey}",
        f"Duo application {done.auth_api_ikey}",
    )
    push = world.emulator.state.rest.credential(done.auth_api_ikey)
    assert push is not None
    assert (push.kind, push.name) == ("authapi", f"Keycloak Initech ({organization.name}) push")
    stored = world.own(organization)
    assert stored[attr.AUTH_API_IKEY] == stored[attr.DUO_PROVISIONED_AUTH_API] == push.ikey
    assert stored[attr.DUO_PROVISIONED_ACCOUNT] == done.account_id
    sealed = stored[attr.AUTH_API_SKEY]
    scope = organization.scope
    assert world.ring.decrypt(sealed, realm=scope, attribute=attr.AUTH_API_SKEY) == push.skey
    with pytest.raises(DecryptionError):
        world.ring.decrypt(sealed, realm=world.partner, attribute=attr.AUTH_API_SKEY)

    again = world.provision(organization, live)
    assert (again.ikey, again.auth_api_ikey, again.created) == (done.ikey, push.ikey, ())

    removed = world.deprovision(organization)
    assert removed == [f"Duo child account {done.account_id} with its applications ({done.ikey})"]
    assert world.made_for(organization.name) == []
    left = world.own(organization)
    gone = {*attr.PROVISIONED_NAMES, attr.DUO_IKEY, attr.DUO_SKEY, attr.AUTH_API_SKEY}
    assert not gone & set(left)
    assert world.deprovision(organization) == []


@pytest.mark.parametrize("api", [Api.ADMIN, Api.ACCOUNTS])
def test_a_failure_midway_undoes_duo_and_keeps_the_organization_as_it_was(
    cli: Cli, world: World, monkeypatch: pytest.MonkeyPatch, api: Api
) -> None:
    """Duo failing to give the Auth API application's key, after the Web SDK keys were stored:
    what this run made in Duo goes, the organization's attributes are as they were, and an
    organization `client create` made goes too; the error says no secret."""
    p = world.partner
    world.link(api)
    world.with_ciba()
    original = AdminApi.secret_key
    calls: list[str] = []

    def second_fails(self: AdminApi, ikey: str) -> str:
        calls.append(ikey)
        if len(calls) % 2 == 0:  # the Auth API application's, after the Web SDK one's
            raise DuoUnavailableError("Duo did not answer")
        return original(self, ikey)

    monkeypatch.setattr(AdminApi, "secret_key", second_fails)
    kept = organizations.create_organization(world.kc, world.names("kept"), partner=p)
    organizations.set_credentials(
        world.kc,
        kept,
        ikey="D" * 20,
        skey="s" * 40,
        api_host="api-1.duosecurity.com",
        ring=world.ring,
        health=None,
    )
    before = world.own(kept)
    with pytest.raises(DuoUnavailableError, match="did not answer"):
        world.provision(kept, None)
    assert world.made_for(kept.name) == []
    assert world.own(kept) == before

    new = world.names("new")
    code, out, err = cli(
        "client", "create", new, "--partner", p, "--as", "organization", "--duo-provision"
    )
    assert (code, "did not answer" in err, len(calls)) == (1, True, 4), out
    assert world.made_for(new) == []
    assert organizations.find_client(world.kc, new) is None


def test_refusals_name_the_reason_and_change_nothing(expect: Expect, world: World) -> None:
    """No admin link: `client create --duo-provision` fails and leaves no organization; an
    organization not provisioned is not rotated (it is told how to set keys by hand), its
    Auth API keys are set and cleared by hand, and nothing is deprovisioned; a vanished
    partner is named."""
    p, org = world.partner, world.names("org")
    err = expect(
        "client", "create", org, "--partner", p, "--as", "organization", "--duo-provision", code=1
    )
    assert "no Duo admin link" in err
    assert organizations.find_client(world.kc, org) is None
    organization = organizations.create_organization(world.kc, org, partner=p)
    world.link()
    err = expect("duo", "rotate", p, "--org", org, code=1)
    assert f"organization {org} of realm {p} was not provisioned" in err
    assert f"`duo set {p} --org {org}`" in err
    assert world.deprovision(organization) == []
    push = AuthApiCredentials("D" * 20, "s" * 40, "api-1.duosecurity.com")
    for written in (True, False):  # set by hand, then the same again; cleared, then nothing
        result = organizations.set_auth_api(
            world.kc, organization, creds=push, ring=world.ring, check=None
        )
        assert (result.written, result.verification) == (written, "skipped")
        organization = organizations.get_organization(world.kc, p, org)
    assert [organizations.clear_auth_api(world.kc, organization) for _ in "12"] == [True, False]
    out = expect("client", "delete", org, "--yes", "--duo-deprovision")
    assert out.strip() == f"deleted: organization {org} of partner {p}"
    with pytest.raises(NotFoundError):
        provisioning.holder_of(world.kc, Organization(world.names("gone"), org, organization.id))


def test_rotate_an_organization_replaces_its_application_at_once(
    expect: Expect, world: World
) -> None:
    """`duo rotate P --org NAME` stores a new application, sealed for the organization and
    proven, and deletes the old one at once (an organization keeps no retiring one): a grace
    is refused, `--retire` finds nothing, an unknown organization is named."""
    p, org = world.partner, world.names("org")
    world.link()
    create = ("client", "create", org, "--partner", p, "--as", "organization", "--duo-provision")
    first = json.loads(expect(*create, "--json"))["duo_provisioned"]["ikey"]
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
    assert world.made_for(org) == [new]
    organization = organizations.get_organization(world.kc, p, org)
    stored = organization.attributes
    assert stored[attr.DUO_IKEY] == stored[attr.DUO_PROVISIONED_IKEY] == new
    made = world.emulator.state.integration(new)
    assert made is not None
    opened = world.ring.decrypt(
        stored[attr.DUO_SKEY], realm=organization.scope, attribute=attr.DUO_SKEY
    )
    assert opened == made.client_secret
    out = expect("duo", "rotate", p, "--org", org)
    assert out.startswith(f"{p} --org {org}: Duo application ")
    assert out.strip().endswith(f"{new} deleted")
    said = expect("duo", "rotate", p, "--org", org, "--retire")
    assert said.strip() == f"{p} --org {org}: nothing retiring"
    retired = json.loads(expect("duo", "rotate", p, "--org", org, "--retire", "--json"))
    assert retired == {"realm": p, "organization": org, "retired": None}
    err = expect("duo", "rotate", p, "--org", world.names("none"), code=1)
    assert "has no client organization" in err
