"""`client move --to organization` on real Keycloak: users keep their password and Duo."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx2
import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import duo_settings, move, organizations, record, tenants
from keycloak_duo_bridge.admin.keycloak import Json, Keycloak
from keycloak_duo_bridge.admin.move_plan import Plan, read_export
from keycloak_duo_bridge.admin.users import ACTIVATED
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.emulator import IntegrationCredentials
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import ConfigError, KeycloakError
from keycloak_duo_bridge.sandbox.walk import walk_login
from keycloak_duo_bridge.settings import key_ring
from tests.admin.conftest import Names
from tests.fixtures_bridge import APP_ID, PASSWORD
from tests.fixtures_organizations import Partner

pytestmark = pytest.mark.keycloak
Cli = Callable[..., tuple[int, str, str]]


def hashed_password(password: str) -> Json:
    """A password credential as `kc.sh export` writes it: Keycloak's pbkdf2-sha512 hash
    (PBKDF2-HMAC-SHA512, a 512-bit key), salt and hash in base64, as JSON strings."""
    salt = os.urandom(16)
    iterations = 27500
    value = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, dklen=64)
    secret = {
        "value": base64.b64encode(value).decode(),
        "salt": base64.b64encode(salt).decode(),
        "additionalParameters": {},
    }
    data = {"hashIterations": iterations, "algorithm": "pbkdf2-sha512", "additionalParameters": {}}
    return {
        "type": "password",
        "userLabel": "My password",
        "createdDate": 1764633600000,
        "secretData": json.dumps(secret),
        "credentialData": json.dumps(data),
    }


def client_realm_with_user(
    kc: Keycloak, name: str, partner: str, username: str, tmp_path: Path
) -> Path:
    """A client realm of ``partner`` whose user has a password (made from its hash, as an
    import would), and the `kc.sh export --users same_file` users file of that realm."""
    tenants.create_client(kc, name, partner=partner)
    credential = hashed_password(PASSWORD)
    user: Json = {
        "username": username,
        "email": f"{username}@example.test",
        "emailVerified": True,
        "firstName": "Pat",
        "lastName": "Mover",
        "enabled": True,
        "attributes": {attr.USER_ACTIVATED: [ACTIVATED]},
        "requiredActions": [],
    }
    kc.create_user(name, {**user, "credentials": [credential]})
    export = tmp_path / f"{name}-users-0.json"
    exported = {**user, "id": str(uuid.uuid4()), "credentials": [credential]}
    export.write_text(json.dumps({"realm": name, "users": [exported]}), encoding="utf-8")
    return export


@pytest.fixture
def moving(org_partner: Partner) -> Iterator[str]:
    """The name of a client realm to move into the partner; deleted afterwards if it stays."""
    name = f"mv-{uuid.uuid4().hex[:8]}"
    yield name
    if org_partner.keycloak.find_realm(name) is not None:
        tenants.delete_tenant(org_partner.keycloak, name)


def test_a_client_realm_moves_to_an_organization_and_its_user_signs_in_unchanged(
    org_partner: Partner,
    integration: IntegrationCredentials,
    moving: str,
    tmp_path: Path,
) -> None:
    """After the move the client realm is gone; its user signs in to the partner realm with
    the same password and passes Duo with the client's own integration, whose skey was
    re-sealed for the organization."""
    kc, tenant = org_partner.keycloak, org_partner.tenant
    ring = key_ring(tenant.settings)
    name, username = moving, f"pat-{uuid.uuid4().hex[:6]}"
    export = client_realm_with_user(kc, name, tenant.realm, username, tmp_path)
    duo_settings.set_credentials(
        kc,
        name,
        ikey=integration.client_id,
        skey=integration.client_secret,
        api_host=integration.api_host,
        ring=ring,
        health=None,
    )
    exported = read_export(export.read_text(encoding="utf-8"), name)

    moved = move.move_to_organization(kc, ring, name, exported)

    assert kc.find_realm(name) is None
    assert moved.users == (username,)
    org = organizations.get_organization(kc, tenant.realm, name)
    assert org.attributes[attr.DUO_IKEY] == integration.client_id
    sealed = org.attributes[attr.DUO_SKEY]
    assert ring.decrypt(sealed, realm=org.scope, attribute=attr.DUO_SKEY) == (
        integration.client_secret
    )
    user = kc.find_user(tenant.realm, username)
    assert user is not None
    assert user["attributes"][attr.USER_ACTIVATED] == [ACTIVATED]  # Duo opt-in kept
    tenant.emulator.control.set_user(username, behavior="allow", enrolled=True)
    before = len(tenant.emulator.control.events("token"))
    walk = walk_login(
        keycloak_url=tenant.settings.keycloak_url,
        realm=tenant.realm,
        client_id=APP_ID,
        redirect_uri=tenant.redirect_uri,
        username=username,
        password=PASSWORD,
        verify=tls_context(tenant.emulator.ca_path),
        extra_form=lambda body: {"password": PASSWORD} if 'name="password"' in body else None,
    )
    exchanged = [e.get("client_id") for e in tenant.emulator.control.events("token")[before:]]
    assert exchanged == [integration.client_id]  # the client's own Duo application
    assert walk.id_claims["preferred_username"] == username


@pytest.fixture
def partner(kc: Keycloak, names: Names) -> Iterator[str]:
    """A partner realm, deleted afterwards with its clients."""
    name = names("mp")
    tenants.create_partner(kc, name)
    yield name
    tenants.delete_tenant(kc, name, cascade=True)


def test_the_plan_writes_nothing_and_refusals_list_every_reason(  # noqa: PLR0917
    cli: Cli,
    kc: Keycloak,
    ring: KeyRing,
    partner: str,
    names: Names,
    tmp_path: Path,
    writes: Counter[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without --yes the move is only planned (exit 0, nothing written); a clashing username
    and a password without --users-from are both refused, with the export command, and
    even with --yes nothing is written."""
    name = names("mc")
    export = client_realm_with_user(kc, name, partner, "clash", tmp_path)
    monkeypatch.setattr("keycloak_duo_bridge.cli.move.connect", lambda _config: kc)
    writes.clear()

    code, _, err = cli("client", "move", name, "--to", "organization", "--users-from", tmp_path)
    assert code == 1
    assert "--users-from: cannot read" in err
    code, out, _ = cli("client", "move", name, "--to", "organization", "--users-from", export)
    assert code == 0, out
    assert "clash" in out
    planned = json.loads(
        cli("client", "move", name, "--to", "organization", "--users-from", export, "--json")[1]
    )
    assert planned["movable"] is True
    assert planned["users"] == ["clash"]
    assert sum(writes.values()) == 0

    kc._admin.change_current_realm(partner)
    kc._admin.create_user({"username": "clash", "enabled": True})
    writes.clear()
    code, out, _ = cli("client", "move", name, "--to", "organization", "--yes", "--json")
    assert code == 1
    refused = json.loads(out)["refused"]
    assert any("username 'clash' already exists" in r for r in refused)
    assert any(f"kc.sh export --dir DIR --realm {name} --users same_file" in r for r in refused)
    with pytest.raises(ConfigError, match="cannot move"):
        move.move_to_organization(kc, ring, name)
    assert sum(writes.values()) == 0
    assert kc.find_realm(name) is not None


def test_a_user_without_credentials_moves_without_an_export(
    cli: Cli, kc: Keycloak, partner: str, names: Names, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client realm whose users have no password moves with --yes and no file; the
    partner's new organization holds them as members, in the same groups."""
    name = names("mn")
    tenants.create_client(kc, name, partner=partner)
    for realm in (name, partner):
        kc._admin.change_current_realm(realm)
        staff = kc._admin.create_group({"name": "staff"})
        kc._admin.create_group({"name": "night"}, parent=staff)
    kc.create_user(name, {"username": "nopass", "enabled": True, "groups": ["/staff/night"]})
    monkeypatch.setattr("keycloak_duo_bridge.cli.move.connect", lambda _config: kc)
    code, out, err = cli("client", "move", name, "--to", "organization", "--yes")
    assert code == 0, (out, err)
    assert kc.find_realm(name) is None
    org = organizations.get_organization(kc, partner, name)
    user = kc.find_user(partner, "nopass")
    assert user is not None
    assert org.id in organizations.member_of(kc, partner, str(user["id"]))
    assert kc.get_user_group_paths(partner, str(user["id"])) == ["/staff/night"]


def test_the_copy_is_verified_user_by_user(kc: Keycloak, partner: str) -> None:
    """The check before the source is deleted names a user who is missing, lacks a
    credential, an attribute or a group, or is no member of the organization."""
    org = organizations.create_organization(kc, f"vo-{uuid.uuid4().hex[:6]}", partner=partner)
    kc.create_user(partner, {"username": "checked", "enabled": True})
    plain: Json = {"username": "checked", "credentials": [], "groups": []}
    for body, problem in (
        ({**plain, "username": "ghost"}, "is missing from realm"),
        ({**plain, "credentials": [{"type": "password"}]}, "has not the credentials"),
        ({**plain, "attributes": {"department": ["ops"]}}, "lost the attributes department"),
        ({**plain, "groups": ["/nowhere"]}, "is not in the groups /nowhere"),
        (plain, "is no member of organization"),
    ):
        planned = Plan("c", "realm c", "organization c", (), ("checked",), (), (body,))
        with pytest.raises(KeycloakError, match=problem):
            move.verify(kc, partner, planned, org)


def _refuse(*_args: object) -> str:
    raise KeycloakError("Keycloak refused (injected)")


def test_a_failed_move_to_an_organization_removes_what_it_made(
    kc: Keycloak, ring: KeyRing, partner: str, names: Names, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Keycloak failure midway (injected where real Keycloak cannot be made to fail) stops
    the move before the client realm is deleted, removes the organization and the users it
    made, and says so; when removing fails too it says what may remain; a retry then moves."""
    name = names("mf")
    tenants.create_client(kc, name, partner=partner)
    kc.create_user(name, {"username": "stays", "enabled": True})
    failures = (
        ("update_realm", "nothing was made"),  # switching the partner's organizations on
        ("create_organization", "nothing was made"),
        ("update_organization", rf"organization '{name}', users none\) was removed"),
        ("add_organization_member", r"users \['stays'\]\) was removed"),
    )
    for method, said in failures:
        monkeypatch.setattr(kc, method, _refuse)
        with pytest.raises(move.MoveError, match=f"{said}; realm '{name}' is untouched"):
            move.move_to_organization(kc, ring, name)
        monkeypatch.undo()
        assert name not in [o.name for o in organizations.list_organizations(kc, partner)]
        assert kc.find_user(partner, "stays") is None
        assert kc.find_user(name, "stays") is not None
    monkeypatch.setattr(kc, "add_organization_member", _refuse)
    monkeypatch.setattr(kc, "delete_organization", _refuse)
    with pytest.raises(move.MoveError, match=r"failed too .* may remain in realm"):
        move.move_to_organization(kc, ring, name)
    monkeypatch.undo()
    left = organizations.get_organization(kc, partner, name)
    organizations.delete(kc, left)
    move.move_to_organization(kc, ring, name)
    assert kc.find_realm(name) is None
    assert organizations.get_organization(kc, partner, name).name == name


def test_a_failed_move_to_a_realm_removes_the_realm_it_made(
    kc: Keycloak, ring: KeyRing, partner: str, names: Names, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Back to a realm, a failure midway deletes the realm the move made (or, before the
    realm, the partner's link to it), keeps the organization and its members, and says so;
    a failing clean-up names what may remain; a retry moves. A sealed secret that does not
    open and a client realm its partner does not name are refused."""
    name = names("mb")
    kc.create_user(partner, {"username": "member2", "enabled": True})
    organizations.add_member(
        kc, organizations.create_organization(kc, name, partner=partner), "member2"
    )
    failures = (
        ("create_realm", "no realm was made"),
        ("create_user", f"the realm '{name}' it made was deleted"),
    )
    for method, said in failures:
        monkeypatch.setattr(kc, method, _refuse)
        with pytest.raises(move.MoveError, match=f"{said}; organization '{name}' of realm"):
            move.move_to_realm(kc, ring, partner, name)
        monkeypatch.undo()
        assert kc.find_realm(name) is None
        assert attr.TENANT_CLIENT_PREFIX + name not in tenants.get_tenant(kc, partner).attributes
        assert kc.find_user(partner, "member2") is not None
    monkeypatch.setattr(kc, "create_user", _refuse)
    monkeypatch.setattr(kc, "delete_realm", _refuse)
    with pytest.raises(move.MoveError, match=f"failed too .* `client delete {name} --yes`"):
        move.move_to_realm(kc, ring, partner, name)
    monkeypatch.undo()
    tenants.delete_tenant(kc, name)
    move.move_to_realm(kc, ring, partner, name)
    assert kc.find_user(name, "member2") is not None
    assert kc.find_user(partner, "member2") is None

    record.store(kc, name, {attr.DUO_SKEY: "not sealed"})
    planned, _ = move.plan(kc, ring, name)
    assert planned.refusals[0].startswith("kdb.duo.skey: the stored secret is not in kdb1")
    realm_id = str(kc.get_realm(name)["id"])
    record.link(kc, partner, name, None)  # the partner no longer names the client
    with pytest.raises(ConfigError, match="is not linked to partner"):
        move.plan(kc, ring, name)
    record.link(kc, partner, name, realm_id)  # so the partner's clean-up finds it


def password_accepted(keycloak_url: str, realm: str, username: str, password: str) -> bool:
    """Whether Keycloak takes the password (a direct grant of admin-cli; an account that
    still has Duo to pass is "not fully set up", which comes after the password check)."""
    answer = httpx2.post(
        f"{keycloak_url}/realms/{realm}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": username,
            "password": password,
        },
    )
    return answer.is_success or "not fully set up" in answer.text


def test_an_organization_moves_back_to_a_realm_of_its_own(
    org_partner: Partner, moving: str, tmp_path: Path
) -> None:
    """Organization → realm: a client realm linked to the partner holds the member with the
    same password and the organization's Duo integration (re-sealed for the realm); the
    organization and the member leave the partner realm."""
    kc, tenant = org_partner.keycloak, org_partner.tenant
    ring = key_ring(tenant.settings)
    org, integration = org_partner.organization(moving)
    username = f"oli-{uuid.uuid4().hex[:6]}"
    credential = hashed_password(PASSWORD)
    kc.create_user(
        tenant.realm, {"username": username, "enabled": True, "credentials": [credential]}
    )
    organizations.add_member(kc, org, username)
    export = {"realm": tenant.realm, "users": [{"username": username, "credentials": [credential]}]}
    exported = read_export(json.dumps(export), tenant.realm)

    moved = move.move_to_realm(kc, ring, tenant.realm, moving, exported)

    assert moved.users == (username,)
    assert kc.find_organization(tenant.realm, moving) is None
    assert kc.find_user(tenant.realm, username) is None
    client = tenants.get_tenant(kc, moving)
    assert tenants.is_linked(client, tenants.get_tenant(kc, tenant.realm))
    assert client.attributes[attr.DUO_IKEY] == integration.client_id
    sealed = client.attributes[attr.DUO_SKEY]
    assert ring.decrypt(sealed, realm=moving, attribute=attr.DUO_SKEY) == integration.client_secret
    url = tenant.settings.keycloak_url
    assert password_accepted(url, moving, username, PASSWORD)
    assert not password_accepted(url, moving, username, "not the password")


def test_a_member_of_another_organization_is_refused_and_nothing_is_written(  # noqa: PLR0917
    cli: Cli,
    kc: Keycloak,
    ring: KeyRing,
    partner: str,
    writes: Counter[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A member who also belongs to another organization cannot move back to a realm: the
    plan (and --yes) refuse with the reason and write nothing, as for an skey that does not
    open; --to realm needs --partner. A lone member without credentials moves."""
    first = organizations.create_organization(kc, f"ra-{uuid.uuid4().hex[:6]}", partner=partner)
    second = organizations.create_organization(kc, f"rb-{uuid.uuid4().hex[:6]}", partner=partner)
    kc.create_user(partner, {"username": "twice", "enabled": True})
    organizations.add_member(kc, first, "twice")
    organizations.add_member(kc, second, "twice")
    organizations.store(kc, first, {attr.DUO_SKEY: "not sealed"})
    monkeypatch.setattr("keycloak_duo_bridge.cli.move.connect", lambda _config: kc)
    writes.clear()
    code, out, _ = cli(
        "client", "move", first.name, "--partner", partner, "--to", "realm", "--yes", "--json"
    )
    assert code == 1
    refused = json.loads(out)["refused"]
    assert refused[0].startswith("kdb.duo.skey: the stored secret is not in kdb1")
    assert refused[1:] == [
        (
            f"user 'twice' is also a member of organization(s) {second.name}, which stay in"
            f" realm {partner!r}"
        )
    ]
    with pytest.raises(ConfigError, match="cannot move"):
        move.move_to_realm(kc, ring, partner, first.name)
    assert sum(writes.values()) == 0
    code, _, err = cli("client", "move", first.name, "--to", "realm")
    assert code == 1
    assert "--to realm needs --partner" in err
    solo = organizations.create_organization(kc, f"rc-{uuid.uuid4().hex[:6]}", partner=partner)
    kc.create_user(partner, {"username": "solo", "enabled": True})
    organizations.add_member(kc, solo, "solo")
    code, out, err = cli(
        "client", "move", solo.name, "--partner", partner, "--to", "realm", "--yes"
    )
    assert code == 0, (out, err)
    assert kc.find_user(solo.name, "solo") is not None
