"""The REST APIs' control endpoints, state and pure helpers, in process."""

from __future__ import annotations

from typing import Any

import pytest

from keycloak_duo_bridge.emulator.auth_api import (
    devices,
    final_result,
    push_status,
    script_from_behavior,
)
from keycloak_duo_bridge.emulator.client import ApiCredentials, rest_api_host
from keycloak_duo_bridge.emulator.directory import Directory
from keycloak_duo_bridge.emulator.errors import RestApiError
from keycloak_duo_bridge.emulator.model import User
from keycloak_duo_bridge.emulator.rest_http import body_params, page
from keycloak_duo_bridge.emulator.rest_model import MAIN_ACCOUNT_ID, Push, PushScript
from tests.emulator.conftest import AppUnderTest

IKEY = "DIRESTRESTRESTRESTRE"
SKEY = "r" * 40


def test_add_api_credentials_with_given_keys(emu: AppUnderTest) -> None:
    """Given keys are registered as asked; the secret is not echoed."""
    body = {
        "kind": "adminapi",
        "ikey": IKEY,
        "skey": SKEY,
        "permissions": ["adminapi_read_resource"],
        "refusal": "admin_api_not_in_plan",
        "name": "Reporting",
    }
    response = emu.client.post("/emulator/api_credentials", json=body)
    assert response.status_code == 201
    assert response.json() == {
        "ikey": IKEY,
        "kind": "adminapi",
        "name": "Reporting",
        "account_id": MAIN_ACCOUNT_ID,
        "permissions": ["adminapi_read_resource"],
        "refusal": "admin_api_not_in_plan",
    }
    credential = emu.state.rest.credential(IKEY)
    assert credential is not None
    assert credential.skey == SKEY


@pytest.mark.parametrize(
    ("kind", "name", "permissions"),
    [("authapi", "Auth API", 0), ("adminapi", "Admin API", 7), ("accountsapi", "Accounts API", 0)],
)
def test_add_api_credentials_generates_keys(
    emu: AppUnderTest, kind: str, name: str, permissions: int
) -> None:
    """Generated keys are Duo-shaped, the secret shown once; Admin API gets all permissions."""
    body = emu.client.post("/emulator/api_credentials", json={"kind": kind}).json()
    assert body["ikey"].startswith("DI")
    assert len(body["skey"]) == 40
    assert body["name"] == name
    assert len(body["permissions"]) == permissions


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({}, "kind must be one of"),
        ({"kind": "websdk"}, "kind must be one of"),
        ({"kind": "authapi", "ikey": "short"}, "ikey must be"),
        ({"kind": "authapi", "skey": "short"}, "skey must be"),
        ({"kind": "adminapi", "permissions": ["root"]}, "permissions must be"),
        ({"kind": "adminapi", "permissions": "all"}, "permissions must be"),
        ({"kind": "adminapi", "permissions": [1]}, "permissions must be"),
        ({"kind": "authapi", "refusal": "because"}, "refusal must be"),
        ({"kind": "authapi", "enroll_policy": "maybe"}, "enroll_policy must be"),
        ({"kind": "authapi", "name": 7}, "name must be"),
        ({"kind": "authapi", "account_id": "x"}, "account_id must be"),
    ],
)
def test_add_api_credentials_refuses_bad_input(
    emu: AppUnderTest, body: dict[str, Any], error: str
) -> None:
    """Bad control bodies are 400 with the reason."""
    response = emu.client.post("/emulator/api_credentials", json=body)
    assert response.status_code == 400
    assert error in response.json()["error"]


def test_console_permission_names_are_accepted(emu: AppUnderTest) -> None:
    """The Duo console's "grant_*" permission names map to the adminapi_* flags."""
    body = {"kind": "adminapi", "permissions": ["grant_applications", "grant_read_resource"]}
    answer = emu.client.post("/emulator/api_credentials", json=body).json()
    assert answer["permissions"] == ["adminapi_integrations", "adminapi_read_resource"]


def test_push_script_and_pushes(emu: AppUnderTest) -> None:
    """PUT .../push scripts the phone; GET /emulator/pushes lists what was sent."""
    response = emu.client.put("/emulator/users/Ada/push", json={"answer": "fraud", "delay": 2})
    assert response.json() == {"answer": "fraud", "delay": 2.0}
    assert emu.state.rest.push_script("ada") == PushScript("fraud", 2.0)
    assert emu.state.rest.push_script("nobody") is None
    assert emu.client.get("/emulator/pushes").json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"answer": "maybe"},
        {"delay": "soon"},
        {"delay": True},
        {"delay": -1},
        {"delay": 601},
        [],
    ],
)
def test_push_script_refuses_bad_input(emu: AppUnderTest, body: Any) -> None:
    """Unknown answers and delays outside 0..600 s are 400."""
    response = emu.client.put("/emulator/users/ada/push", json=body)
    assert response.status_code == 400


def test_ping_over_the_app(emu: AppUnderTest) -> None:
    """/auth/v2/ping is unsigned and tells the emulator's clock."""
    body = emu.client.get("/auth/v2/ping").json()
    assert body == {"stat": "OK", "response": {"time": int(emu.clock.now)}}


def test_signed_call_with_broken_json_body(emu: AppUnderTest) -> None:
    """A REST call without credentials never reaches its handler: 401 40101."""
    response = emu.client.post(
        "/auth/v2/preauth", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == 40101


# pure helpers ----------------------------------------------------------------------------
def test_body_params() -> None:
    """JSON values become Duo's strings; form bodies parse; broken JSON is 400 40002."""
    data = b'{"a": "x", "b": true, "c": false, "d": 3, "e": 1.5, "f": ["y"], "g": null}'
    assert body_params(data, json_body=True, form_body=False) == {
        "a": "x",
        "b": "true",
        "c": "false",
        "d": "3",
        "e": "1.5",
        "f": '["y"]',
        "g": "null",
    }
    assert body_params(b"a=1&b=", json_body=False, form_body=True) == {"a": "1", "b": ""}
    assert body_params(b"", json_body=True, form_body=False) == {}
    assert body_params(b"raw", json_body=False, form_body=False) == {}
    for broken in (b"{", b"[1]"):
        with pytest.raises(RestApiError) as caught:
            body_params(broken, json_body=True, form_body=False)
        assert caught.value.code == 40002


def test_page_clamps_to_the_maximum() -> None:
    """A limit above the endpoint's maximum returns at most the maximum."""
    items = list(range(10))
    chunk, meta = page(items, {"limit": "50"}, maximum=4)
    assert chunk == [0, 1, 2, 3]
    assert meta == {"total_objects": 10, "next_offset": 4}
    chunk, meta = page(items, {"offset": "8"})
    assert chunk == [8, 9]
    assert meta == {"total_objects": 10, "prev_offset": 0}


def test_devices_of_an_unenrolled_user() -> None:
    """An unenrolled user has no devices to list."""
    assert devices(User("u", "DU1")) == []
    assert devices(User("u", "DU1", enrolled=True)) == []


@pytest.mark.parametrize(
    ("behavior", "answer"),
    [("prompt", "approve"), ("allow", "approve"), ("deny", "deny"), ("timeout", "timeout")],
)
def test_unscripted_push_follows_the_prompt_behavior(behavior: str, answer: str) -> None:
    """Without a push script, a user's prompt behavior answers the push."""
    user = User("u", "DU1", behavior=behavior, enrolled=True)  # type: ignore[arg-type]
    assert script_from_behavior(user) == PushScript(answer, 0.0)  # type: ignore[arg-type]


def test_push_status_waits_for_the_delay() -> None:
    """auth_status waits until sent_at + delay, then gives the answer."""
    push = Push("t", "u", "DP1", sent_at=100.0, answer="deny", delay=5.0)
    assert push_status(push, 104.9)["result"] == "waiting"
    assert push_status(push, 105.0) == final_result("deny")


def test_api_credentials_host_and_port() -> None:
    """ApiCredentials splits api_host for duo_client; no port means 443."""
    assert (ApiCredentials(IKEY, SKEY, "localhost:8443", "authapi").host, 8443) == (
        "localhost",
        ApiCredentials(IKEY, SKEY, "localhost:8443", "authapi").port,
    )
    bare = ApiCredentials(IKEY, SKEY, "api-x.example", "authapi")
    assert (bare.host, bare.port) == ("api-x.example", 443)
    assert SKEY not in repr(bare)


@pytest.mark.parametrize(
    ("api_host", "expected"),
    [
        ("127.0.0.1:8443", "localhost:8443"),
        ("[::1]:8443", "localhost:8443"),
        ("127.0.0.1", "localhost"),
        ("127.0.0.2:8443", "127.0.0.2:8443"),
        ("duo.test:8443", "duo.test:8443"),
        ("duo.test", "duo.test"),
        ("::1", "::1"),
    ],
)
def test_rest_api_host_names_loopback_localhost(api_host: str, expected: str) -> None:
    """duo_client checks certificate DNS names only, so loopback addresses become localhost."""
    assert rest_api_host(api_host) == expected


def test_directory_edge_cases() -> None:
    """Unknown accounts and phones change nothing; a given txid is kept."""
    directory = Directory()
    assert directory.remove_account("DANONE") is False
    directory.attach("DPNONE", "DU1")
    directory.count_sms_activation("DPNONE")
    phone = directory.add_phone("+15555550100", name="", type_="mobile", platform="x")
    directory.attach(phone.phone_id, "DU1")
    directory.attach(phone.phone_id, "DU1")
    assert directory.phones()[0].users == ["DU1"]
    directory.detach_user("DU1")
    directory.detach_user("DU2")
    assert directory.phones()[0].users == []
    kept = directory.send_push(Push("given", "u", "DP1", 0.0, "approve", 0.0))
    assert kept.txid == "given"
    assert directory.push("given") == kept


def test_state_user_edge_cases(emu: AppUnderTest) -> None:
    """Unknown user ids are neither found, deleted nor given a device."""
    assert emu.state.user_by_key("DUNONE") is None
    assert emu.state.delete_user("DUNONE") is False
    assert emu.state.set_device("DUNONE", "+15555550100", None) is None
    user = emu.state.put_user("keeps", behavior="prompt", enrolled=False, phone=None)
    changed = emu.state.set_device(user.key, "+15555550100", None)
    assert changed is not None
    assert changed.device_key == user.device_key


def test_home_page_names_the_rest_apis(emu: AppUnderTest) -> None:
    """The root page lists the REST endpoints and their control calls."""
    text = emu.client.get("/").text
    for path in ("/auth/v2/preauth", "/admin/v3/integrations", "/accounts/v1/account/create"):
        assert path in text
    assert 'href="/emulator/pushes"' in text
    assert "/emulator/api_credentials" in text
