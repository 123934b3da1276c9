"""Hostile bodies at the admin REST API: a 2xx or a clear 4xx, never a 5xx, never the skey.

The API runs in Starlette's TestClient as master's admin (a token signed by a key the test
publishes as master's JWKS), on an in-memory Keycloak: the bodies are what is under test,
and tests/api covers the same routes against the real sandbox.
"""

from __future__ import annotations

import json
import string
import time
import uuid
from collections.abc import Iterator
from typing import Any, cast

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.wiring import Wiring
from keycloak_duo_bridge.api import ApiServices
from keycloak_duo_bridge.api.app import MAX_BODY, Api, create_api
from keycloak_duo_bridge.errors import NotFoundError
from keycloak_duo_bridge.settings import Settings, key_ring
from tests.bridge_fakes import KC, bridge_settings, json_values

Json = dict[str, Any]
CALLER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CALLER_JWK = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(CALLER_KEY.public_key())), "kid": "m"}


class FakeKeycloak:
    """Realms, clients, required actions and client scopes, in memory; master's admin."""

    url = KC  # learned defaults are kept per Keycloak URL
    console_url = "http://bridge.example"
    bridge_reader = None  # no service account to grant view-realm to

    def get_user(self, realm: str, user_id: str) -> Json:
        assert (realm, user_id) == ("master", "admin-id")
        return {"id": user_id, "username": "admin", "enabled": True}

    def get_effective_realm_roles(self, realm: str, user_id: str) -> list[str]:
        del realm, user_id
        return ["admin", "default-roles-master"]

    def get_effective_client_roles(self, realm: str, user_id: str, client_id: str) -> list[str]:
        del realm, user_id, client_id
        return []

    allow_any_duo_host = False

    def __init__(self) -> None:
        self.realms: dict[str, Json] = {}
        self.actions: dict[str, list[Json]] = {}
        self.scopes: dict[str, list[Json]] = {}
        self.defaults: dict[str, list[Json]] = {}
        self.add_realm("acme", {attr.TENANT_KIND: "partner"})

    def add_realm(self, name: str, attributes: dict[str, str]) -> None:
        self.realms[name] = {"realm": name, "id": f"{name}-id", "attributes": attributes}
        self.actions[name], self.scopes[name], self.defaults[name] = [], [], []

    def get_realms(self) -> list[Json]:
        return list(self.realms.values())

    def get_realm(self, realm: str) -> Json:
        if realm not in self.realms:
            raise NotFoundError(f"realm {realm!r} not found")
        return json.loads(json.dumps(self.realms[realm]))  # type: ignore[no-any-return]

    def find_realm(self, realm: str) -> Json | None:
        return self.get_realm(realm) if realm in self.realms else None

    def create_realm(self, representation: Json) -> None:
        self.add_realm(representation["realm"], {})
        self.realms[representation["realm"]] = representation

    def update_realm(self, realm: str, representation: Json) -> None:
        self.realms[realm] = {**self.get_realm(realm), **representation}

    def get_components(self, realm: str, provider_type: str) -> list[Json]:
        del realm, provider_type
        return []

    def create_component(self, realm: str, component: Json) -> None:
        """Accept the write."""

    def get_clients(self, realm: str) -> list[Json]:
        del realm  # every realm has the one application
        return [{"id": "portal-id", "clientId": "portal", "attributes": {}}]

    def find_client(self, realm: str, client_id: str) -> Json | None:
        return next((c for c in self.get_clients(realm) if c["clientId"] == client_id), None)

    def update_client(self, realm: str, uuid: str, representation: Json) -> None:
        """Accept the write."""

    def get_user_profile(self, realm: str) -> Json:
        del realm
        return {"attributes": []}

    def update_user_profile(self, realm: str, profile: Json) -> None:
        """Accept the write."""

    def get_required_actions(self, realm: str) -> list[Json]:
        return self.actions[realm]

    def register_required_action(self, realm: str, provider_id: str, name: str) -> None:
        self.actions[realm].append({"alias": provider_id, "name": name, "enabled": True})

    def update_required_action(self, realm: str, alias: str, representation: Json) -> None:
        """Accept the write."""

    def delete_required_action(self, realm: str, alias: str) -> None:
        self.actions[realm] = [a for a in self.actions[realm] if a["alias"] != alias]

    def get_flows(self, realm: str) -> list[Json]:
        del realm
        return []  # no step-up flow: switching Duo off has none to release

    def get_client_scopes(self, realm: str) -> list[Json]:
        return self.scopes[realm]

    def create_client_scope(self, realm: str, representation: Json) -> str:
        scope = {**representation, "id": uuid.uuid4().hex}
        self.scopes[realm].append(scope)
        return str(scope["id"])

    def delete_client_scope(self, realm: str, scope_id: str) -> None:
        self.scopes[realm] = [s for s in self.scopes[realm] if s["id"] != scope_id]

    def get_default_client_scopes(self, realm: str) -> list[Json]:
        return self.defaults[realm]

    def add_default_client_scope(self, realm: str, scope_id: str) -> None:
        self.defaults[realm].append({"id": scope_id})

    def get_client_default_scopes(self, realm: str, uuid: str) -> list[Json]:
        del uuid  # the application shares the realm's defaults
        return self.defaults[realm]

    def add_client_default_scope(self, realm: str, uuid: str, scope_id: str) -> None:
        """Accept the write."""


async def master_jwks(realm: str, kid: str | None) -> dict[str, Any]:
    return {"keys": [CALLER_JWK] if realm == "master" else []}


def master_admin_token() -> str:
    now = int(time.time())
    claims = {
        "iss": f"{KC}/realms/master",
        "sub": "admin-id",
        "iat": now,
        "exp": now + 3600,
        "typ": "Bearer",
        "preferred_username": "admin",
        "realm_access": {"roles": ["admin"]},
    }
    return jwt.encode(claims, CALLER_KEY, algorithm="RS256", headers={"kid": "m"})


@pytest.fixture(scope="module")
def api_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings with generated keys, for an API on the in-memory Keycloak."""
    return bridge_settings(tmp_path_factory.mktemp("api-bodies"))


@pytest.fixture(scope="module")
def api(api_settings: Settings) -> Iterator[TestClient]:
    """The admin API as master's admin, on an in-memory Keycloak."""
    wires = Wiring.of(api_settings, "http://bridge.example")
    services = ApiServices(key_ring(api_settings), wires, master_jwks)
    fake = FakeKeycloak()
    app = create_api(Api(api_settings, services, connect=lambda: cast("Keycloak", fake)))
    with TestClient(app, base_url="https://testserver") as client:
        client.headers["Authorization"] = f"Bearer {master_admin_token()}"
        yield client


secrets = st.text(string.ascii_letters + string.digits, min_size=40, max_size=40)
SAMPLES = ["acme", "new-partner", "DI" + "A" * 18, "api-1.example.com", "https://p.example"]
SAMPLES += ["/ops", "required", "off", "inherit", "opt-in", "open", "closed", "30", "Bad Name!", ""]
texts = st.sampled_from(SAMPLES) | st.text(max_size=40)
field_values = texts | json_values | st.lists(texts, max_size=3)
ROUTES = {
    "PUT /tenants/acme/duo/credentials": ["ikey", "skey", "api_host"],
    "PUT /tenants/acme/duo/policy": [
        "user_mode",
        "fail_mode",
        "remember",
        "bypass_groups",
        "self_deactivate",
    ],
    "PUT /tenants/acme/duo/enabled": ["enabled"],
    "PUT /tenants/acme/apps/portal": ["mode"],
    "POST /clients": ["name", "partner", "display_name"],
    "POST /partners": ["name", "display_name", "branding_url"],
}


def bodies(fields: list[str]) -> st.SearchStrategy[bytes]:
    """JSON objects over the model's fields (the skey always the secret), or any bytes."""
    objects = st.dictionaries(st.sampled_from([*fields, "skey", "colour"]), field_values)
    return (
        objects.map(lambda o: json.dumps({**o, "skey": "SECRET"} if "skey" in o else o).encode())
        | json_values.map(lambda v: json.dumps(v).encode())
        | st.binary(max_size=64)
    )


@pytest.mark.parametrize("route", list(ROUTES))
def test_any_body_gets_a_clear_answer_without_the_skey(api: TestClient, route: str) -> None:
    """Any body: 2xx, or a 4xx with a JSON error; never a 5xx; the skey is never repeated."""
    method, path = route.split(" ")

    @given(bodies(ROUTES[route]), secrets)
    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    def answers(body: bytes, secret: str) -> None:
        assume(secret.encode() not in body)  # the secret is only ever the skey's value
        sent = body.replace(b"SECRET", secret.encode())
        response = api.request(method, path, content=sent)
        assert response.status_code < 500, response.text
        assert secret not in response.text
        if response.status_code >= 400:
            assert response.json()["error"] not in {"Not Found", "Method Not Allowed"}
            assert response.status_code in {400, 404, 409, 413, 422}, response.text

    answers()


def test_an_oversized_body_is_refused_with_413(api: TestClient) -> None:
    """A body over the limit is refused with 413 before it is parsed."""
    big = json.dumps({"ikey": "x", "skey": "s" * MAX_BODY, "api_host": "h"}).encode()
    response = api.put("/tenants/acme/duo/credentials", content=big)
    assert response.status_code == 413, response.text
    assert "s" * 100 not in response.text


def test_the_fake_accepts_a_good_body(api: TestClient) -> None:
    """Sanity: a well-formed credentials body is stored (so the generated ones reach the end)."""
    body = {"ikey": "DI" + "A" * 18, "skey": "s" * 40, "api_host": "api-1234abcd.duosecurity.com"}
    response = api.put("/tenants/acme/duo/credentials", json=body)
    assert response.status_code == 200, response.text
