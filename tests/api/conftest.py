"""Fixtures for the admin API: tenants, their admins, and Bearer tokens from the sandbox."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx2
import pytest
from keycloak import KeycloakAdmin
from starlette.testclient import TestClient

from keycloak_duo_bridge.admin import tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.app import create_app
from keycloak_duo_bridge.sandbox.keycloak import SandboxKeycloak
from keycloak_duo_bridge.settings import Settings

PASSWORD = "correct horse battery staple"
CLIENT = "kdb-admin-api-test"
"""A public client with direct grants (admin-cli issues lightweight tokens: no roles)."""


@dataclass(frozen=True)
class Fleet:
    """Partner ``p`` with client ``c``; partner ``q``; a token per role."""

    p: str
    c: str
    q: str
    tokens: dict[str, str]


def realm_admin(sandbox: SandboxKeycloak, realm: str) -> KeycloakAdmin:
    """python-keycloak on ``realm`` as master's admin, with the test client in the realm."""
    admin = sandbox.settings
    kc = KeycloakAdmin(
        server_url=sandbox.url,
        username=admin.sandbox_admin_username,
        password=admin.sandbox_admin_password.get_secret_value(),
        realm_name=realm,
        user_realm_name="master",
    )
    kc.create_client(
        {
            "clientId": CLIENT,
            "publicClient": True,
            "directAccessGrantsEnabled": True,
            "standardFlowEnabled": False,
        },
        skip_exists=True,
    )
    return kc


def make_user(sandbox: SandboxKeycloak, realm: str, username: str, *, manage: bool) -> None:
    """A user in ``realm``; with ``manage``, holding realm-management's manage-realm."""
    kc = realm_admin(sandbox, realm)
    user_id = kc.create_user(
        {
            "username": username,
            "enabled": True,
            "email": f"{username}@example.test",
            "emailVerified": True,
            "firstName": "Test",
            "lastName": "User",
            "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
        }
    )
    if manage:
        management = str(kc.get_client_id("realm-management"))
        role = kc.get_client_role(management, "manage-realm")
        kc.assign_client_role(user_id, management, [role])


def token(sandbox: SandboxKeycloak, realm: str, username: str, password: str = PASSWORD) -> str:
    """An access token for ``username`` from ``realm`` (password grant, admin-cli)."""
    response = httpx2.post(
        f"{sandbox.url}/realms/{realm}/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": CLIENT,
            "username": username,
            "password": password,
            "scope": "openid",
        },
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


@pytest.fixture(scope="module")
def fleet(keycloak_sandbox: SandboxKeycloak, stack_settings: Settings) -> Iterator[Fleet]:
    """Two partners and a client, with an admin in each, a plain user, and master's admin."""
    kc = Keycloak.from_settings(stack_settings)
    suffix = uuid.uuid4().hex[:8]
    p, c, q = f"api-p-{suffix}", f"api-c-{suffix}", f"api-q-{suffix}"
    tenants.create_partner(kc, p, branding_url="https://p.example.test")
    tenants.create_client(kc, c, partner=p)
    tenants.create_partner(kc, q)
    make_user(keycloak_sandbox, p, "padmin", manage=True)
    make_user(keycloak_sandbox, p, "plain", manage=False)
    make_user(keycloak_sandbox, c, "cadmin", manage=True)
    for realm in (p, c, q):
        make_user(keycloak_sandbox, realm, "member", manage=False)
    settings = keycloak_sandbox.settings
    realm_admin(keycloak_sandbox, "master")
    tokens = {
        "master": token(
            keycloak_sandbox,
            "master",
            settings.sandbox_admin_username,
            settings.sandbox_admin_password.get_secret_value(),
        ),
        "partner-admin": token(keycloak_sandbox, p, "padmin"),
        "client-admin": token(keycloak_sandbox, c, "cadmin"),
        "plain-user": token(keycloak_sandbox, p, "plain"),
    }
    yield Fleet(p, c, q, tokens)
    tenants.delete_tenant(kc, p, cascade=True)
    tenants.delete_tenant(kc, q, cascade=True)


@pytest.fixture
def client(stack_settings: Settings) -> Iterator[TestClient]:
    """The bridge app (with the API mounted) on the sandbox."""
    with TestClient(create_app(stack_settings), base_url="https://testserver") as test_client:
        yield test_client


Call = Callable[..., httpx2.Response]


@pytest.fixture
def call(client: TestClient, fleet: Fleet) -> Call:
    """``call(role, method, path, json=...)`` against /admin/api with that role's token."""

    def run(role: str | None, method: str, path: str, **kwargs: object) -> httpx2.Response:
        headers = {"Authorization": f"Bearer {fleet.tokens[role]}"} if role else {}
        return client.request(method, f"/admin/api{path}", headers=headers, **kwargs)  # type: ignore[arg-type]

    return run
