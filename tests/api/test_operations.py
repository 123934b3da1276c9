"""The admin API's remaining tenant operations, against the sandbox."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.api.conftest import Call, Fleet

pytestmark = pytest.mark.keycloak


def test_update_follows_the_kind_and_moves_need_both_partners(call: Call, fleet: Fleet) -> None:
    """Partners take branding URLs, clients take partners; a move needs the target partner."""
    tenant = f"/tenants/{fleet.p}"
    assert call("partner-admin", "PATCH", tenant, json={"partner": fleet.q}).status_code == 400
    client = f"/tenants/{fleet.c}"
    refused = call("partner-admin", "PATCH", client, json={"branding_url": "https://x.test"})
    assert refused.status_code == 400
    assert call("partner-admin", "PATCH", client, json={"partner": fleet.q}).status_code == 403
    assert call("client-admin", "PATCH", client, json={"partner": fleet.q}).status_code == 403
    moved = call("master", "PATCH", client, json={"partner": fleet.q})
    assert moved.json() == {"realm": fleet.c, "written": True}
    assert call("master", "GET", client).json()["partner"] == fleet.q
    assert call("master", "PATCH", client, json={"partner": fleet.p}).status_code == 200
    branded = call("partner-admin", "PATCH", tenant, json={"branding_url": "https://b.test"})
    assert branded.json()["written"] is True
    assert call("partner-admin", "GET", tenant).json()["branding_url"] == "https://b.test"
    cleared = call("partner-admin", "PATCH", tenant, json={"clear_branding_url": True})
    assert cleared.json()["written"] is True


def test_users_explain_and_activation(call: Call, fleet: Fleet) -> None:
    """A realm's admins read a user's status, explain a decision and switch activation."""
    base = f"/tenants/{fleet.c}"
    assert call("client-admin", "GET", f"{base}/users/member").json()["activated"] is False
    switched = call(
        "client-admin", "PUT", f"{base}/users/member/activated", json={"activated": True}
    )
    assert switched.json()["written"] is True
    assert call("client-admin", "GET", f"{base}/users/member").json()["activated"] is True
    explained = call("client-admin", "GET", f"{base}/explain?app=account&user=member").json()
    assert (explained["app"], explained["user"], explained["activated"]) == (
        "account",
        "member",
        True,
    )
    assert explained["decision"] == "realm off"
    assert call("client-admin", "GET", f"{base}/users/nobody").status_code == 404
    assert call("client-admin", "GET", f"{base}/explain?app=nothing").status_code == 404
    assert call("client-admin", "DELETE", f"{base}/duo/credentials").json()["written"] is False


def test_app_mode_across_a_partners_clients(call: Call, fleet: Fleet) -> None:
    """A partner's admins set an app's mode in every client realm; a client realm refuses."""
    path = "/clients/apps/account"
    body = {"mode": "off"}
    answer = call("partner-admin", "PUT", f"/tenants/{fleet.p}{path}", json=body)
    assert answer.json() == [{"realm": fleet.c, "found": True, "written": True}]
    assert call("partner-admin", "PUT", f"/tenants/{fleet.c}{path}", json=body).status_code == 400
    assert call("client-admin", "PUT", f"/tenants/{fleet.p}{path}", json=body).status_code == 403
    body = {"mode": "inherit"}
    assert call("partner-admin", "PUT", f"/tenants/{fleet.p}{path}", json=body).status_code == 200


def test_key_reports_are_for_master_admins(call: Call, fleet: Fleet) -> None:
    """Only master admins see where each skey stands, and rotate them."""
    assert call("partner-admin", "GET", "/keys").status_code == 403
    assert call("partner-admin", "POST", "/keys/rotate").status_code == 403
    reports = call("master", "GET", "/keys").json()
    assert all(set(r) == {"realm", "attribute", "key_id", "state", "rotated"} for r in reports)
    rotated = call("master", "POST", "/keys/rotate")
    assert rotated.status_code == 200
    assert all(r["state"] != "old" for r in rotated.json())
    del fleet


def test_a_path_no_route_takes_is_a_json_404(client: TestClient) -> None:
    """Under /admin/api even a path no route matches (a newline in it) answers JSON."""
    answer = client.get("/admin/api/tenants/x/users/a%0Ab/activated")
    assert (answer.status_code, answer.json()) == (404, {"error": "no such path"})
    assert client.get("/nowhere").text == "Not Found"
