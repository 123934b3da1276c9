"""The admin API's operations, errors, tokens it refuses, audit records and OpenAPI document."""

from __future__ import annotations

import json
import logging
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.testclient import TestClient

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator
from keycloak_duo_bridge.errors import KeycloakUnreachableError
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.settings import Settings
from tests.api.conftest import CLIENT, PASSWORD, Call, Fleet

pytestmark = pytest.mark.keycloak


def test_openapi_document(client: TestClient) -> None:
    """The OpenAPI document is served without a token and names every operation."""
    document = client.get("/admin/api/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    assert "/tenants/{realm}/duo/credentials" in document["paths"]
    assert document["components"]["schemas"]["CredentialsBody"]["properties"]["skey"]["writeOnly"]


def test_credentials_policy_and_switch(
    call: Call,
    fleet: Fleet,
    stack_settings: Settings,
    duo_emulator: RunningEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A partner admin stores credentials, policy and the switch; the audit log has no skey."""
    caplog.set_level(logging.INFO, logger="keycloak_duo_bridge.audit")
    duo: IntegrationCredentials = duo_emulator.control.add_integration()
    body = {"ikey": duo.client_id, "skey": duo.client_secret, "api_host": duo.api_host}
    response = call("partner-admin", "PUT", f"/tenants/{fleet.p}/duo/credentials", json=body)
    assert response.json() == {"realm": fleet.p, "written": True}
    policy = {"user_mode": "opt-in", "bypass_groups": ["/ops"]}
    assert call("partner-admin", "PUT", f"/tenants/{fleet.p}/duo/policy", json=policy).json() == {
        "realm": fleet.p,
        "written": True,
    }
    switched = call(
        "partner-admin", "PUT", f"/tenants/{fleet.p}/duo/enabled", json={"enabled": True}
    )
    assert switched.json()["reconciled"][0] == fleet.p
    shown = call("client-admin", "GET", f"/tenants/{fleet.c}").json()
    assert (shown["partner"], shown["duo"]["realm"]) == (fleet.p, fleet.c)
    mode = call(
        "client-admin", "PUT", f"/tenants/{fleet.c}/apps/account", json={"mode": "required"}
    )
    assert mode.json() == {"realm": fleet.c, "app": "account", "written": True}
    stored = Keycloak.from_settings(stack_settings).get_realm(fleet.p)["attributes"]
    assert stored[attr.DUO_USER_MODE] == "opt-in"
    logged = "\n".join(json.dumps(getattr(r, "fields", {})) for r in caplog.records)
    assert duo.client_secret not in logged
    assert "set duo credentials" in logged
    call("partner-admin", "PUT", f"/tenants/{fleet.p}/duo/enabled", json={"enabled": False})


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/duo/policy", {"user_mode": "sometimes"}, 400),
        ("/duo/policy", {"colour": "red"}, 422),
        ("/duo/credentials", {"ikey": "x", "api_host": "h"}, 422),
        ("/duo/credentials", {"ikey": "x", "skey": "TOPSECRET", "api_host": "h"}, 400),
        ("/apps/account", {"mode": "maybe"}, 422),
        ("/apps/nope", {"mode": "off"}, 404),
        ("/duo/enabled", "not json", 422),
    ],
)
def test_bad_requests(call: Call, fleet: Fleet, path: str, body: object, status: int) -> None:
    """Bad bodies are 4xx with a JSON error that never repeats an skey."""
    kwargs = {"content": body} if isinstance(body, str) else {"json": body}
    response = call("master", "PUT", f"/tenants/{fleet.c}{path}", **kwargs)
    assert response.status_code == status, response.text
    assert "error" in response.json()
    assert "TOPSECRET" not in response.text


def test_unknown_realm_and_oversized_body(call: Call, fleet: Fleet) -> None:
    """Master sees 404 for a realm that is no tenant; others 403; huge bodies are 413."""
    assert call("master", "GET", "/tenants/master").status_code == 404
    assert call("partner-admin", "GET", "/tenants/no-such-realm").status_code == 403
    empty = call("master", "POST", "/clients", json={"name": "x", "partner": ""})
    assert empty.status_code == 404  # found by schemathesis: was a 502
    big = {"remember": "x" * 20000}
    assert call("master", "PUT", f"/tenants/{fleet.p}/duo/policy", json=big).status_code == 413


def test_keycloak_down_is_502(
    call: Call, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When Keycloak fails behind a verified token, the answer is 502, not a crash."""

    def down(*_args: object) -> None:
        raise KeycloakUnreachableError("Keycloak is unreachable")

    monkeypatch.setattr(Keycloak, "get_realms", down)
    response = call("master", "GET", "/tenants")
    assert (response.status_code, response.json()) == (502, {"error": "Keycloak is unreachable"})
    del client


def forged(issuer: str, **claims: object) -> str:
    """A token signed by a key that no realm publishes."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    body = {"iss": issuer, "sub": "x", "iat": now, "exp": now + 60, "typ": "Bearer", **claims}
    return jwt.encode(body, key, algorithm="RS256", headers={"kid": "forged"})


def test_refused_tokens(
    client: TestClient, keycloak_sandbox: SandboxKeycloak, fleet: Fleet
) -> None:
    """Forged keys, unknown realms, ID tokens, alg none and expired tokens are all 401."""
    import httpx2  # noqa: PLC0415

    issued = httpx2.post(
        f"{keycloak_sandbox.url}/realms/{fleet.p}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": CLIENT,
            "username": "padmin",
            "password": PASSWORD,
            "scope": "openid",
        },
    ).json()
    issuer = f"{keycloak_sandbox.url}/realms/{fleet.p}"
    now = int(time.time())
    unsigned = jwt.encode({"iss": issuer, "sub": "x", "exp": now + 60}, "", algorithm="none")
    header = jwt.get_unverified_header(issued["access_token"])
    expired = jwt.encode(
        {"iss": issuer, "sub": "x", "iat": now - 100, "exp": now - 60},
        rsa.generate_private_key(public_exponent=65537, key_size=2048),
        algorithm="RS256",
        headers={"kid": header["kid"]},
    )
    cases = {
        "forged": forged(issuer),
        "no such realm": forged(f"{keycloak_sandbox.url}/realms/no-such-realm-x"),
        "not keycloak": forged("https://elsewhere.example/issuer"),
        "id token": issued["id_token"],
        "alg none": unsigned,
        "bad signature": expired,
    }
    for name, token in cases.items():
        response = client.get(
            f"/admin/api/tenants/{fleet.p}", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401, (name, response.text)
