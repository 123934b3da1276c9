"""The admin API's authorization matrix against the sandbox: role x operation x realm."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient

from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.settings import Settings
from tests.api.conftest import Call, Fleet

pytestmark = pytest.mark.keycloak

OPERATIONS = {
    "show": ("GET", "", None),
    "policy": ("PUT", "/duo/policy", {"remember": "session"}),
    "app mode": ("PUT", "/apps/account", {"mode": "inherit"}),
    "switch": ("PUT", "/duo/enabled", {"enabled": False}),
    "update": ("PATCH", "", {"display_name": "Renamed"}),
    "clear credentials": ("DELETE", "/duo/credentials", None),
    "explain": ("GET", "/explain?user=member", None),
    "user status": ("GET", "/users/member", None),
    "user activation": ("PUT", "/users/member/activated", {"activated": False}),
    "idp policies": ("GET", "/idps", None),
    "idp policy": ("PUT", "/idps/absent", {"mode": "duo"}),
}
ALLOWED = {
    "master": {"p", "c", "q"},
    "partner-admin": {"p", "c"},
    "client-admin": {"c"},
    "plain-user": set(),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
@pytest.mark.parametrize("role", sorted(ALLOWED))
def test_matrix(call: Call, fleet: Fleet, role: str, operation: str) -> None:
    """Each role may manage exactly its own realm (a partner's admins: its clients too)."""
    method, suffix, body = OPERATIONS[operation]
    for target in ("p", "c", "q"):
        realm = getattr(fleet, target)
        response = call(role, method, f"/tenants/{realm}{suffix}", json=body)
        expected = 200 if target in ALLOWED[role] else 403
        assert response.status_code == expected, (role, operation, target, response.text)


@pytest.mark.parametrize("header", [None, "Basic abc", "Bearer not-a-jwt", "Bearer "])
def test_no_valid_token_is_401(client: TestClient, fleet: Fleet, header: str | None) -> None:
    """Without a verifiable Bearer token every operation is 401 with a challenge."""
    headers = {"Authorization": header} if header is not None else {}
    for method, suffix, body in OPERATIONS.values():
        path = f"/admin/api/tenants/{fleet.p}{suffix}"
        response = client.request(method, path, headers=headers, json=body)
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_listing_shows_only_what_the_caller_manages(call: Call, fleet: Fleet) -> None:
    """GET /tenants lists the caller's own realms (a partner's admins see its clients)."""
    names = {t["name"] for t in call("partner-admin", "GET", "/tenants").json()}
    assert names == {fleet.p, fleet.c}
    assert {t["name"] for t in call("client-admin", "GET", "/tenants").json()} == {fleet.c}
    assert call("plain-user", "GET", "/tenants").json() == []
    assert {fleet.p, fleet.c, fleet.q} <= {
        t["name"] for t in call("master", "GET", "/tenants").json()
    }


def test_create_and_delete_rights(
    call: Call, fleet: Fleet, stack_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Partners are created by master only; a partner's admins create and delete its clients."""
    caplog.set_level(logging.INFO, logger="keycloak_duo_bridge.audit")
    new = f"{fleet.c}-x"
    assert call("partner-admin", "POST", "/partners", json={"name": new}).status_code == 403
    assert (
        call("client-admin", "POST", "/clients", json={"name": new, "partner": fleet.p}).status_code
        == 403
    )
    response = call("partner-admin", "POST", "/clients", json={"name": new, "partner": fleet.p})
    assert response.status_code == 201, response.text
    assert response.json()["partner"] == fleet.p
    assert call("partner-admin", "DELETE", f"/tenants/{fleet.p}").status_code == 403
    assert call("client-admin", "DELETE", f"/tenants/{fleet.c}").status_code == 403
    assert call("partner-admin", "DELETE", f"/tenants/{new}").json() == {"deleted": [new]}
    response = call("master", "POST", "/partners", json={"name": new, "display_name": "X"})
    assert response.status_code == 201
    assert call("master", "DELETE", f"/tenants/{new}").status_code == 200
    records = [r for r in caplog.records if r.name == "keycloak_duo_bridge.audit"]
    fields = [getattr(r, "fields", {}) for r in records]
    assert {(f["action"], f["realm"], f["by"]["username"]) for f in fields} >= {
        ("create client", new, "padmin"),
        ("delete tenant", new, "padmin"),
        ("create partner", new, stack_settings.keycloak_admin_username),
    }
    assert Keycloak.from_settings(stack_settings).find_realm(new) is None
