"""The control API under ``/emulator/``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.emulator.conftest import AppUnderTest


def test_add_integration_with_given_credentials(emu: AppUnderTest) -> None:
    """Given credentials are registered; the secret is not echoed."""
    body = {
        "client_id": "DIGIVENGIVENGIVENGIV",
        "client_secret": "g" * 40,
        "new_user_policy": "allow",
    }
    response = emu.client.post("/emulator/integrations", json=body)
    assert response.status_code == 201
    assert response.json() == {
        "client_id": "DIGIVENGIVENGIVENGIV",
        "new_user_policy": "allow",
        "name": "Web SDK",
    }
    assert emu.state.integration("DIGIVENGIVENGIVENGIV").new_user_policy == "allow"  # type: ignore[union-attr]


def test_add_integration_generates_credentials(emu: AppUnderTest) -> None:
    """Without credentials the emulator makes Duo-shaped ones and returns the secret once."""
    body = emu.client.post("/emulator/integrations", json={}).json()
    assert body["client_id"].startswith("DI")
    assert len(body["client_id"]) == 20
    assert len(body["client_secret"]) == 40
    assert body["new_user_policy"] == "enroll"


@pytest.mark.parametrize(
    "body",
    [
        {"client_id": "short"},
        {"client_secret": "short"},
        {"client_id": 5},
        {"new_user_policy": "maybe"},
        {"name": 5},
        [],
    ],
)
def test_add_integration_refuses_bad_input(emu: AppUnderTest, body: Any) -> None:
    """Malformed integrations are refused with 400."""
    response = emu.client.post("/emulator/integrations", json=body)
    assert response.status_code == 400
    assert "error" in response.json()


def test_non_json_body(emu: AppUnderTest) -> None:
    """A body that is not JSON is refused."""
    response = emu.client.post("/emulator/integrations", content=b"{")
    assert response.json() == {"error": "the body must be JSON"}


def test_put_and_get_user(emu: AppUnderTest) -> None:
    """A user can be scripted and read back, with the current passcode."""
    body = {"behavior": "deny", "enrolled": True, "phone": "+1 (415) 555-0123"}
    user = emu.client.put("/emulator/users/bo", json=body).json()
    assert user["behavior"] == "deny"
    assert user["phone"] == "+14155550123"
    assert user["key"].startswith("DU")
    assert len(user["passcode"]) == 6
    again = emu.client.put("/emulator/users/BO", json={"enrolled": True}).json()
    assert again["key"] == user["key"]
    assert again["phone"] == "+15555550100"
    assert emu.client.get("/emulator/users/bo").json() == again


def test_put_user_defaults(emu: AppUnderTest) -> None:
    """With no fields a user is unenrolled, prompted and has no phone."""
    user = emu.client.put("/emulator/users/neo", json={}).json()
    assert (user["behavior"], user["enrolled"], user["phone"]) == ("prompt", False, None)


@pytest.mark.parametrize(
    "body",
    [{"behavior": "maybe"}, {"enrolled": "yes"}, {"phone": "12345"}, {"phone": 14155550123}],
)
def test_put_user_refuses_bad_input(emu: AppUnderTest, body: dict[str, Any]) -> None:
    """Bad behaviours, flags and phone numbers are refused."""
    assert emu.client.put("/emulator/users/x", json=body).status_code == 400


def test_get_unknown_user(emu: AppUnderTest) -> None:
    """An unknown user is 404."""
    assert emu.client.get("/emulator/users/ghost").status_code == 404


def test_faults(emu: AppUnderTest) -> None:
    """Faults are set as a whole; omitted fields go back to normal."""
    body = {"health": "timeout", "token": "error_500", "latency_ms": 20}
    assert emu.client.put("/emulator/faults", json=body).json() == body
    assert emu.client.get("/emulator/faults").json() == body
    cleared = emu.client.put("/emulator/faults", json={}).json()
    assert cleared == {"health": "ok", "token": "ok", "latency_ms": 0}


@pytest.mark.parametrize(
    "body", [{"health": "down"}, {"latency_ms": -1}, {"latency_ms": True}, {"latency_ms": 1.5}]
)
def test_faults_refuse_bad_input(emu: AppUnderTest, body: dict[str, Any]) -> None:
    """Unknown modes and bad latencies are refused."""
    assert emu.client.put("/emulator/faults", json=body).status_code == 400


def test_events(emu: AppUnderTest) -> None:
    """Events list each protocol call with its connection."""
    emu.client.post("/oauth/v1/health_check", data={})
    events = emu.client.get("/emulator/events").json()
    assert events == [
        {
            "seq": 1,
            "time": emu.clock.now,
            "kind": "health_check",
            "outcome": "invalid_client",
            "client_id": None,
            "username": None,
            "detail": "client_assertion is missing",
            "connection": {"host": "testclient", "port": 50000},
        }
    ]
