"""Issue 12, item 1 against the sandbox: role claims a mapper writes give no rights.

A ``manage-clients`` admin can make a client whose hardcoded-claim mapper puts any
``resource_access`` or ``realm_access`` in its tokens. Keycloak signs those tokens; the
admin API must still decide from Keycloak's role mappings, and refuse tokens that repeat
a member name (the way a mapper's copy of a claim used to win over Keycloak's own).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from keycloak import KeycloakAdmin
from starlette.testclient import TestClient

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import record
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.app import create_app
from keycloak_duo_bridge.sandbox import provision
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.settings import Settings
from tests.api.conftest import PASSWORD, Fleet, make_user, realm_admin

pytestmark = pytest.mark.keycloak

MANAGE_REALM = '{"realm-management":{"roles":["manage-realm"]}}'
MASTER_ADMIN = '{"roles":["admin"]}'


def hardcoded(claim: str, value: str) -> dict[str, Any]:
    """A hardcoded-claim mapper writing ``value`` (JSON) as ``claim`` in every token."""
    return {
        "name": f"forged {claim}",
        "protocol": "openid-connect",
        "protocolMapper": "oidc-hardcoded-claim-mapper",
        "config": {
            "claim.name": claim,
            "claim.value": value,
            "jsonType.label": "JSON",
            "access.token.claim": "true",
            "id.token.claim": "true",
            "introspection.token.claim": "true",
            "userinfo.token.claim": "false",
        },
    }


def forged_client(mapper: dict[str, Any]) -> dict[str, Any]:
    """A public client with direct grants and the mapper, without Keycloak's role scopes."""
    return {
        "clientId": f"forged-{uuid.uuid4().hex[:8]}",
        "publicClient": True,
        "directAccessGrantsEnabled": True,
        "standardFlowEnabled": False,
        "protocolMappers": [mapper],
        "defaultClientScopes": ["profile", "basic"],
        "optionalClientScopes": [],
    }


def password_grant(url: str, realm: str, client_id: str, username: str, password: str) -> str:
    response = httpx2.post(
        f"{url}/realms/{realm}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": client_id,
            "username": username,
            "password": password,
            "scope": "openid",
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def payload_text(token: str) -> str:
    """The token's payload as Keycloak wrote it (the raw JSON text, repetitions kept)."""
    part = token.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode()


def as_clerk(sandbox: SandboxKeycloak, realm: str) -> KeycloakAdmin:
    """python-keycloak as ``clerk``: a user of ``realm`` holding only ``manage-clients``."""
    kc = realm_admin(sandbox, realm)
    make_user(sandbox, realm, "clerk", manage=False)
    management = str(kc.get_client_id("realm-management"))
    role = kc.get_client_role(management, "manage-clients")
    kc.assign_client_role(str(kc.get_user_id("clerk")), management, [role])
    return KeycloakAdmin(
        server_url=sandbox.url,
        username="clerk",
        password=PASSWORD,
        realm_name=realm,
        user_realm_name=realm,
    )


@pytest.fixture(scope="module")
def clerk(keycloak_sandbox: SandboxKeycloak, fleet: Fleet) -> KeycloakAdmin:
    """Partner p's ``manage-clients``-only admin, acting through Keycloak's admin API."""
    return as_clerk(keycloak_sandbox, fleet.p)


@pytest.fixture
def guarded_client(fleet: Fleet, stack_settings: Settings) -> Iterator[dict[str, str]]:
    """Client realm c with Duo on and fail mode closed; its attributes before the attack."""
    kc = Keycloak.from_settings(stack_settings)
    record.store(kc, fleet.c, {attr.DUO_ENABLED: "true", attr.DUO_FAIL_MODE: "closed"})
    yield dict(kc.get_realm(fleet.c)["attributes"])
    record.store(kc, fleet.c, {attr.DUO_ENABLED: None, attr.DUO_FAIL_MODE: None})


def attack(client: TestClient, token: str, realm: str) -> list[int]:
    """Switch ``realm``'s Duo off and set its fail mode open: the answers' status codes."""
    headers = {"Authorization": f"Bearer {token}"}
    off = client.put(
        f"/admin/api/tenants/{realm}/duo/enabled", json={"enabled": False}, headers=headers
    )
    fail_open = client.put(
        f"/admin/api/tenants/{realm}/duo/policy", json={"fail_mode": "open"}, headers=headers
    )
    return [off.status_code, fail_open.status_code]


def last_copy_wins(token: str) -> dict[str, Any]:
    """The claims as a reader that keeps the last copy of a repeated member sees them."""
    claims: dict[str, Any] = json.loads(payload_text(token))
    return claims


def resigned(claims: dict[str, Any], key: Any, kid: str) -> str:
    """``claims`` (each member once) signed with a key the realm publishes as its own."""
    header = json.dumps({"alg": "RS256", "typ": "JWT", "kid": kid})
    return signed(header, json.dumps(claims), key)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_item1_forged_resource_access_claim_is_refused(  # noqa: PLR0917
    client: TestClient,
    keycloak_sandbox: SandboxKeycloak,
    fleet: Fleet,
    clerk: KeycloakAdmin,
    guarded_client: dict[str, str],
    stack_settings: Settings,
) -> None:
    """A manage-clients admin's mapper granting manage-realm: Keycloak signs a token with
    two resource_access members, the last one the lie. It is refused (401), and so is the lie
    alone under the realm's own key (403); client realm c's Duo stays on and closed."""
    forged = forged_client(hardcoded("resource_access", MANAGE_REALM))
    clerk.create_client(forged)
    token = password_grant(keycloak_sandbox.url, fleet.p, forged["clientId"], "clerk", PASSWORD)
    assert payload_text(token).count('"resource_access"') == 2
    lie = last_copy_wins(token)
    assert lie["resource_access"] == json.loads(MANAGE_REALM)  # what the bridge used to believe
    assert attack(client, token, fleet.c) == [401, 401]
    refused = client.get(f"/admin/api/tenants/{fleet.c}", headers=bearer(token)).json()
    assert refused == {"error": "the token is not a JWT: the payload repeats a member name"}

    key, kid = provision.import_rsa_key(stack_settings, fleet.p, "issue12-p-rsa")
    time.sleep(stack_settings.bridge_jwks_refresh_interval + 0.1)  # the bridge may re-read
    alone = resigned(lie, key, kid)
    assert attack(client, alone, fleet.c) == [403, 403]
    assert attack(client, alone, fleet.p) == [403, 403]
    kc = Keycloak.from_settings(stack_settings)
    assert dict(kc.get_realm(fleet.c)["attributes"]) == guarded_client
    padmin_id = str(realm_admin(keycloak_sandbox, fleet.p).get_user_id("padmin"))
    honest = resigned({**lie, "sub": padmin_id}, key, kid)
    shown = client.get(f"/admin/api/tenants/{fleet.c}", headers=bearer(honest))
    assert shown.status_code == 200, shown.text  # the same token, for a real manage-realm admin


def test_item1_forged_master_admin_claim_gives_no_master_rights(
    client: TestClient,
    keycloak_sandbox: SandboxKeycloak,
    fleet: Fleet,
    guarded_client: dict[str, str],
    stack_settings: Settings,
) -> None:
    """realm_access ["admin"] written by a mapper in master makes nobody a master admin: the
    token Keycloak signs gets 403, and so does the claim under master's own key, everywhere;
    nothing changes."""
    master = realm_admin(keycloak_sandbox, "master")
    name = f"nobody-{uuid.uuid4().hex[:8]}"
    user_id = master.create_user(
        {
            "username": name,
            "enabled": True,
            "email": f"{name}@example.test",
            "emailVerified": True,
            "firstName": "No",
            "lastName": "Body",
            "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
        }
    )
    forged = forged_client(hardcoded("realm_access", MASTER_ADMIN))
    master.create_client(forged)
    component = f"issue12-master-rsa-{name}"
    try:
        token = password_grant(keycloak_sandbox.url, "master", forged["clientId"], name, PASSWORD)
        assert attack(client, token, fleet.c) == [403, 403]  # Keycloak's token, as signed
        key, kid = provision.import_rsa_key(stack_settings, "master", component)
        time.sleep(stack_settings.bridge_jwks_refresh_interval + 0.1)
        alone = resigned({**last_copy_wins(token), "realm_access": {"roles": ["admin"]}}, key, kid)
        headers = bearer(alone)
        assert client.get("/admin/api/tenants", headers=headers).json() == []
        assert client.get("/admin/api/keys", headers=headers).status_code == 403
        created = client.post("/admin/api/partners", json={"name": name}, headers=headers)
        assert created.status_code == 403
        assert attack(client, alone, fleet.c) == [403, 403]
        kc = Keycloak.from_settings(stack_settings)
        assert dict(kc.get_realm(fleet.c)["attributes"]) == guarded_client
        assert kc.find_realm(name) is None
    finally:
        for found in master.get_components({"name": component}):
            master.delete_component(found["id"])
        master.delete_user(user_id)
        master.delete_client(str(master.get_client_id(forged["clientId"])))


def test_item1_a_disabled_or_deleted_admin_is_refused(
    client: TestClient, keycloak_sandbox: SandboxKeycloak, fleet: Fleet, stack_settings: Settings
) -> None:
    """A token stays valid after its user is disabled or deleted; the API refuses it (401)."""
    kc = realm_admin(keycloak_sandbox, fleet.q)
    make_user(keycloak_sandbox, fleet.q, "qadmin", manage=True)
    user_id = str(kc.get_user_id("qadmin"))
    token = password_grant(keycloak_sandbox.url, fleet.q, "kdb-admin-api-test", "qadmin", PASSWORD)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/admin/api/tenants/{fleet.q}", headers=headers).status_code == 200
    kc.update_user(user_id, {"enabled": False})
    with TestClient(create_app(stack_settings), base_url="https://testserver") as fresh:
        refused = fresh.get(f"/admin/api/tenants/{fleet.q}", headers=headers)
    assert (refused.status_code, refused.json()["error"]) == (401, "the token's user is disabled")
    kc.delete_user(user_id)
    with TestClient(create_app(stack_settings), base_url="https://testserver") as fresh:
        gone = fresh.get(f"/admin/api/tenants/{fleet.q}", headers=headers)
    assert (gone.status_code, gone.json()["error"]) == (401, "the token's user no longer exists")


def test_item1_jwt_with_a_repeated_member_is_refused_by_the_admin_api(
    client: TestClient, keycloak_sandbox: SandboxKeycloak, fleet: Fleet, stack_settings: Settings
) -> None:
    """A token signed by the realm's own key is refused when its header or payload repeats a
    member name; the same token without the repetition is accepted."""
    key, kid = provision.import_rsa_key(stack_settings, fleet.q, "issue12-known-rsa")
    make_user(keycloak_sandbox, fleet.q, "qadmin2", manage=True)
    subject = str(realm_admin(keycloak_sandbox, fleet.q).get_user_id("qadmin2"))
    now = int(time.time())
    issuer = f"{keycloak_sandbox.url}/realms/{fleet.q}"
    claims = f'"iss":"{issuer}","iat":{now},"exp":{now + 300},"typ":"Bearer","sub":"{subject}"'
    header = f'"alg":"RS256","typ":"JWT","kid":"{kid}"'
    cases = {
        "plain": ("{" + header + "}", "{" + claims + "}", 200),
        "payload": ("{" + header + "}", "{" + claims + ',"sub":"someone-else"}', 401),
        "header": ("{" + header + ',"kid":"other"}', "{" + claims + "}", 401),
    }
    time.sleep(stack_settings.bridge_jwks_refresh_interval + 0.1)  # the bridge may re-read
    for name, (head, body, expected) in cases.items():
        token = signed(head, body, key)
        answer = client.get(
            f"/admin/api/tenants/{fleet.q}", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == expected, (name, answer.text)
        if expected == 401:
            assert "repeats a member name" in answer.json()["error"]


def signed(header: str, payload: str, key: Any) -> str:
    """A compact JWS of exactly these JSON texts, signed RS256 with ``key``."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    signing_input = f"{b64(header.encode())}.{b64(payload.encode())}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{b64(signature)}"
