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
from urllib.parse import parse_qs, urlsplit

import pytest

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import duo_settings, move, organizations, tenants
from keycloak_duo_bridge.admin.keycloak import Json, Keycloak
from keycloak_duo_bridge.admin.move_plan import read_export
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.emulator import IntegrationCredentials
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import ConfigError
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
        "attributes": {"department": ["ops"]},
        "requiredActions": [],
    }
    kc.create_user(name, {**user, "credentials": [credential]})
    export = tmp_path / f"{name}-users-0.json"
    exported = {**user, "id": str(uuid.uuid4()), "credentials": [credential]}
    export.write_text(json.dumps({"realm": name, "users": [exported]}), encoding="utf-8")
    return export


def test_a_client_realm_moves_to_an_organization_and_its_user_signs_in_unchanged(
    org_partner: Partner,
    integration: IntegrationCredentials,
    tmp_path: Path,
) -> None:
    """After the move the client realm is gone; its user signs in to the partner realm with
    the same password and passes Duo with the client's own integration, whose skey was
    re-sealed for the organization."""
    kc, tenant = org_partner.keycloak, org_partner.tenant
    ring = key_ring(tenant.settings)
    name, username = f"mv-{uuid.uuid4().hex[:8]}", f"pat-{uuid.uuid4().hex[:6]}"
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
    assert moved.plan.users == (username,)
    org = organizations.get_organization(kc, tenant.realm, name)
    assert org.attributes[attr.DUO_IKEY] == integration.client_id
    sealed = org.attributes[attr.DUO_SKEY]
    assert ring.decrypt(sealed, realm=org.scope, attribute=attr.DUO_SKEY) == (
        integration.client_secret
    )
    user = kc.find_user(tenant.realm, username)
    assert user is not None
    assert user["attributes"]["department"] == ["ops"]
    tenant.emulator.control.set_user(username, behavior="allow", enrolled=True)
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
    prompts = [
        parse_qs(urlsplit(h.url).query).get("client_id", [""])[0]
        for h in walk.hops
        if h.host == integration.api_host and urlsplit(h.url).path.endswith("/authorize")
    ]
    assert prompts == [integration.client_id]
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
    partner's new organization holds them as members."""
    name = names("mn")
    tenants.create_client(kc, name, partner=partner)
    kc.create_user(name, {"username": "nopass", "enabled": True})
    monkeypatch.setattr("keycloak_duo_bridge.cli.move.connect", lambda _config: kc)
    code, out, err = cli("client", "move", name, "--to", "organization", "--yes")
    assert code == 0, (out, err)
    assert kc.find_realm(name) is None
    org = organizations.get_organization(kc, partner, name)
    user = kc.find_user(partner, "nopass")
    assert user is not None
    assert org.id in organizations.member_of(kc, partner, str(user["id"]))
