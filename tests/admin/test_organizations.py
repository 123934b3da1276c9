"""Clients kept as organizations inside a partner realm, through the CLI, on real Keycloak."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import keys, organizations, tenants
from keycloak_duo_bridge.admin.effective import organization_scope
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.emulator import IntegrationCredentials
from keycloak_duo_bridge.envelope import KeyRing, key_id_of
from tests.admin.conftest import Names

pytestmark = pytest.mark.keycloak
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def partner(kc: Keycloak, names: Names) -> Iterator[str]:
    """A partner realm with a user, deleted afterwards."""
    name = names("op")
    tenants.create_partner(kc, name)
    kc._admin.change_current_realm(name)
    kc._admin.create_user({"username": "member-one", "enabled": True})
    kc._admin.create_user({"username": "outsider", "enabled": True})
    yield name
    tenants.delete_tenant(kc, name, cascade=True)


def run(cli: Cli, *argv: str | Path, code: int = 0) -> str:
    got, out, err = cli(*argv)
    assert got == code, (argv, out, err)
    return out if code == 0 else err


def test_create_as_organization_is_idempotent_and_guarded(
    cli: Cli, kc: Keycloak, partner: str, names: Names
) -> None:
    """`client create --as organization` makes a client organization once, switching the
    partner realm's organizations on; a realm of that name or a non-partner refuses."""
    org = names("org")
    made = json.loads(
        run(cli, "client", "create", org, "--partner", partner, "--as", "organization", "--json")
    )
    assert made == {"name": org, "kind": "client", "as": "organization", "partner": partner}
    assert kc.get_realm(partner)["organizationsEnabled"] is True
    again = run(cli, "client", "create", org, "--partner", partner, "--as", "organization")
    assert org in again
    assert [o.name for o in organizations.list_organizations(kc, partner)] == [org]
    refused = run(
        cli, "client", "create", partner, "--partner", partner, "--as", "organization", code=1
    )
    assert "a realm named" in refused
    client = names("cr")
    run(cli, "client", "create", client, "--partner", partner)
    refused = run(
        cli, "client", "create", names("o2"), "--partner", client, "--as", "organization", code=1
    )
    assert "is not a partner" in refused


def test_duo_settings_on_an_organization_and_explain(  # noqa: PLR0917
    cli: Cli,
    kc: Keycloak,
    ring: KeyRing,
    partner: str,
    names: Names,
    integration: IntegrationCredentials,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """duo set/policy/enable/app on `--org` write the organization's attributes (skey sealed
    for the realm and the organization); explain resolves them over the partner's."""
    org = names("org")
    run(cli, "client", "create", org, "--partner", partner, "--as", "organization")
    monkeypatch.setenv("ORG_SKEY", integration.client_secret)
    creds = ("--ikey", integration.client_id, "--host", integration.api_host)
    out = run(cli, "duo", "set", partner, "--org", org, *creds, "--skey-env", "ORG_SKEY")
    assert "saved (health check: ok)" in out
    again = run(cli, "duo", "set", partner, "--org", org, *creds, "--skey-env", "ORG_SKEY")
    assert "unchanged" in again
    found = organizations.get_organization(kc, partner, org)
    sealed = found.attributes[attr.DUO_SKEY]
    assert integration.client_secret not in json.dumps(kc.find_organization(partner, org))
    scope = organization_scope(partner, found.id)
    assert ring.decrypt(sealed, realm=scope, attribute=attr.DUO_SKEY) == integration.client_secret
    run(cli, "duo", "policy", partner, "--org", org, "--user-mode", "opt-in", "--remember", "30")
    run(cli, "duo", "enable", partner, "--org", org)
    run(cli, "app", "set", partner, "account", "--org", org, "--mode", "off")
    shown = json.loads(run(cli, "duo", "show", partner, "--org", org, "--json"))
    assert shown["enabled"] == "true"
    assert shown["skey"].startswith("******** (encrypted")
    assert shown["apps"] == '{"account":"off"}'
    refused = run(cli, "duo", "policy", partner, "--org", org, "--duo-username", "email", code=1)
    assert "realm's own setting" in refused

    organizations.add_member(kc, found, "member-one")
    member = json.loads(
        run(cli, "explain", partner, "--org", org, "--user", "member-one", "--json")
    )
    assert member["organization"] == org
    assert member["settings"]["ikey"] == {
        "value": integration.client_id,
        "origin": f"organization ({org})",
    }
    assert member["settings"]["user_mode"]["value"] == "opt-in"
    assert member["decision"] == "not activated"
    outsider = json.loads(
        run(cli, "explain", partner, "--org", org, "--user", "outsider", "--json")
    )
    assert outsider["settings"]["enabled"] == {"value": "off", "origin": "default"}
    assert any("not a member" in p for p in outsider["problems"])
    text = run(cli, "explain", partner, "--org", org, "--app", "account")
    assert f"organization {org} in realm {partner}" in text
    assert "app off" in text

    run(cli, "duo", "clear", partner, "--org", org)
    refused = run(cli, "duo", "enable", partner, "--org", org, code=1)
    assert "has no Duo credentials" in refused
    run(cli, "duo", "inherit", partner, "--org", org)
    assert attr.DUO_ENABLED not in organizations.get_organization(kc, partner, org).attributes


def test_keys_rotate_reseals_an_organizations_skey(
    kc: Keycloak, ring: KeyRing, partner: str, names: Names
) -> None:
    """`keys check` lists an organization's skey under its scope; `keys rotate` re-seals it
    under the active key, still bound to its realm and id, and its record stays current."""
    org = organizations.create_organization(kc, names("org"), partner=partner)
    organizations.set_credentials(
        kc,
        org,
        ikey="D" * 20,
        skey="s" * 40,
        api_host="api-1.duosecurity.com",
        ring=ring,
        health=None,
    )
    new_ring = KeyRing(active="next", keys={**ring.keys, "next": os.urandom(32)})
    mine = [r for r in keys.check(kc, new_ring) if r.realm == org.scope]
    assert [r.state for r in mine] == [keys.KeyState.OLD]
    rotated = [r for r in keys.rotate(kc, new_ring) if r.realm == org.scope]
    assert [r.rotated for r in rotated] == [True]
    sealed = organizations.get_organization(kc, partner, org.name).attributes[attr.DUO_SKEY]
    assert key_id_of(sealed) == "next"
    assert new_ring.decrypt(sealed, realm=org.scope, attribute=attr.DUO_SKEY) == "s" * 40
    # Back under the session's key: the sandbox is shared.
    keys.rotate(kc, KeyRing(active=ring.active, keys=dict(new_ring.keys)))
    assert [r.state for r in keys.check(kc, ring) if r.realm == org.scope] == [keys.KeyState.ACTIVE]


def test_explain_counts_every_organization_of_the_user(
    cli: Cli, kc: Keycloak, partner: str, names: Names
) -> None:
    """Explaining a login for one organization of a member of two: the other organization's
    policy counts too, and the decision names it; a non-client organization does not."""
    lax, strict = names("lax"), names("strict")
    for org in (lax, strict):
        run(cli, "client", "create", org, "--partner", partner, "--as", "organization")
    found = organizations.get_organization(kc, partner, strict)
    organizations.store(kc, found, {attr.DUO_ENABLED: "true"})
    plain = names("plain")
    kc._admin.change_current_realm(partner)
    kc._admin.create_organization({"name": plain, "domains": [{"name": f"{plain}.example"}]})
    user = kc._admin.get_user_id("member-one")
    kc.add_organization_member(
        partner, str((kc.find_organization(partner, plain) or {})["id"]), str(user)
    )
    for org in (lax, strict):
        organizations.add_member(kc, organizations.get_organization(kc, partner, org), "member-one")
    explained = json.loads(
        run(cli, "explain", partner, "--org", lax, "--user", "member-one", "--json")
    )
    assert explained["decision"] == "required"
    assert f"organization {strict} (the user is a member of it too)" in explained["reason"]
    alone = json.loads(run(cli, "explain", partner, "--org", lax, "--json"))
    assert alone["decision"] != "required"


def test_auth_api_credentials_on_an_organization(  # noqa: PLR0917
    cli: Cli,
    kc: Keycloak,
    ring: KeyRing,
    partner: str,
    names: Names,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`duo auth-api set|clear --org` store and remove the organization's own Auth API
    credentials, the skey sealed for the realm and the organization and never printed."""
    org = names("org")
    run(cli, "client", "create", org, "--partner", partner, "--as", "organization")
    skey = "s" * 40
    monkeypatch.setenv("ORG_AUTHAPI_SKEY", skey)
    put = ("duo", "auth-api", "set", partner, "--org", org, "--ikey", "DI" + "A" * 18)
    creds = ("--host", "api-12345678.duosecurity.com", "--skey-env", "ORG_AUTHAPI_SKEY")
    out = json.loads(run(cli, *put, *creds, "--no-verify", "--json"))
    assert out == {
        "realm": partner,
        "organization": org,
        "auth_api": "saved",
        "check": "skipped",
        "ikey": "DI" + "A" * 18,
        "api_host": "api-12345678.duosecurity.com",
    }
    again = run(cli, *put, *creds, "--no-verify")
    assert again == f"{partner} --org {org}: Duo Auth API credentials unchanged (check: skipped)\n"
    found = organizations.get_organization(kc, partner, org)
    sealed = found.attributes[attr.AUTH_API_SKEY]
    assert skey not in json.dumps(kc.find_organization(partner, org))
    scope = organization_scope(partner, found.id)
    assert ring.decrypt(sealed, realm=scope, attribute=attr.AUTH_API_SKEY) == skey
    cleared = json.loads(run(cli, "duo", "auth-api", "clear", partner, "--org", org, "--json"))
    assert cleared == {"realm": partner, "organization": org, "auth_api": "removed"}
    text = run(cli, "duo", "auth-api", "clear", partner, "--org", org)
    assert text == f"{partner} --org {org}: own Duo Auth API credentials were not set\n"
    assert attr.AUTH_API_IKEY not in organizations.get_organization(kc, partner, org).attributes
