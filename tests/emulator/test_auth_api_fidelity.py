"""The unmodified official ``duo_client.Auth`` against the emulator's Auth API v2 (#16)."""

from __future__ import annotations

import time

import duo_client
import pytest

from keycloak_duo_bridge.emulator import RunningEmulator
from keycloak_duo_bridge.emulator.client import ApiCredentials
from tests.emulator.conftest import RestClients

# duo_client 5.7's https_wrapper builds ssl.SSLContext(ssl.PROTOCOL_TLS), which Python
# deprecates; the client is used unmodified, so only that warning is ignored.
pytestmark = pytest.mark.filterwarnings("ignore:ssl.PROTOCOL_TLS is deprecated:DeprecationWarning")

PHONE = "+14155550123"


@pytest.fixture
def auth(rest: RestClients, auth_creds: ApiCredentials) -> duo_client.Auth:
    """An official Auth API client with fresh credentials."""
    return rest.make(duo_client.Auth, auth_creds)


@pytest.fixture
def enrolled(duo_emulator: RunningEmulator, username: str) -> str:
    """A user enrolled with a phone; the username."""
    duo_emulator.control.set_user(username, enrolled=True, phone=PHONE)
    return username


def test_ping_needs_no_signature(auth: duo_client.Auth) -> None:
    """/auth/v2/ping answers Duo's clock to anyone."""
    assert abs(auth.ping()["time"] - time.time()) < 5


def test_check_verifies_the_credentials(auth: duo_client.Auth) -> None:
    """/auth/v2/check answers the time to signed calls."""
    assert abs(auth.check()["time"] - time.time()) < 5


def test_preauth_lists_the_enrolled_device(
    duo_emulator: RunningEmulator, auth: duo_client.Auth, enrolled: str
) -> None:
    """An enrolled user: result auth, with the phone's device id, masked number, capabilities."""
    answer = auth.preauth(username=enrolled)
    user = duo_emulator.control.user(enrolled)
    assert answer["result"] == "auth"
    assert answer["status_msg"] == "Account is active"
    [device] = answer["devices"]
    assert device["device"] == user["device_key"]
    assert device["type"] == "phone"
    assert device["number"] == "XXX-XXX-0123"
    assert "push" in device["capabilities"]
    by_id = auth.preauth(user_id=user["key"])
    assert by_id["result"] == "auth"


@pytest.mark.parametrize(
    ("policy", "result"), [("enroll", "enroll"), ("allow", "allow"), ("deny", "deny")]
)
def test_preauth_of_unknown_user_follows_the_new_user_policy(
    duo_emulator: RunningEmulator, rest: RestClients, username: str, policy: str, result: str
) -> None:
    """An unknown user gets enroll (with a portal URL), allow or deny as the policy says."""
    creds = duo_emulator.control.add_api_credentials("authapi", enroll_policy=policy)  # type: ignore[arg-type]
    answer = rest.make(duo_client.Auth, creds).preauth(username=username)
    assert answer["result"] == result
    assert ("enroll_portal_url" in answer) == (result == "enroll")


def test_preauth_refuses_unknown_user_id_and_no_user(auth: duo_client.Auth) -> None:
    """An unknown user_id is 400 40002; neither username nor user_id is 400 40001."""
    with pytest.raises(
        RuntimeError, match=r"^Received 400 Invalid request parameters \(user_id\)$"
    ):
        auth.preauth(user_id="DUNOSUCHUSER00000000")
    with pytest.raises(RuntimeError, match="Missing required request parameters"):
        auth.preauth()


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("approve", ("allow", "allow", "Success. Logging you in...")),
        ("deny", ("deny", "deny", "Login request denied.")),
        ("fraud", ("deny", "fraud", "Login request reported as fraudulent.")),
        ("timeout", ("deny", "timeout", "Login timed out.")),
    ],
)
def test_sync_push_gets_the_scripted_answer(
    duo_emulator: RunningEmulator,
    auth: duo_client.Auth,
    enrolled: str,
    answer: str,
    expected: tuple[str, str, str],
) -> None:
    """A synchronous push returns the phone's scripted answer; fraud reads status fraud."""
    duo_emulator.control.script_push(enrolled, answer)  # type: ignore[arg-type]
    outcome = auth.auth("push", username=enrolled, device="auto")
    assert (outcome["result"], outcome["status"], outcome["status_msg"]) == expected


def test_unscripted_push_follows_the_users_behavior(
    duo_emulator: RunningEmulator, auth: duo_client.Auth, username: str
) -> None:
    """A user scripted to deny in the prompt denies Auth API pushes too, until scripted."""
    duo_emulator.control.set_user(username, behavior="deny", enrolled=True, phone=PHONE)
    assert auth.auth("push", username=username)["status"] == "deny"
    duo_emulator.control.script_push(username, "approve")
    assert auth.auth("push", username=username)["status"] == "allow"


def test_sync_push_waits_the_scripted_delay(
    duo_emulator: RunningEmulator, auth: duo_client.Auth, enrolled: str
) -> None:
    """A push scripted with a delay answers only after it."""
    duo_emulator.control.script_push(enrolled, "approve", delay=0.4)
    started = time.monotonic()
    assert auth.auth("auto", username=enrolled)["result"] == "allow"
    assert time.monotonic() - started >= 0.4


def test_push_records_the_binding_text(
    duo_emulator: RunningEmulator, auth: duo_client.Auth, enrolled: str
) -> None:
    """The push keeps the pushinfo, type and display_username it was sent with."""
    device = duo_emulator.control.user(enrolled)["device_key"]
    auth.auth(
        "push",
        username=enrolled,
        device=device,
        type="Login to Acme",
        display_username="Ada L.",
        pushinfo="code=AB12&realm=acme",
        ipaddr="192.0.2.7",
    )
    [push] = duo_emulator.control.pushes(enrolled)
    assert push["pushinfo"] == "code=AB12&realm=acme"
    assert push["type"] == "Login to Acme"
    assert push["display_username"] == "Ada L."
    assert push["ipaddr"] == "192.0.2.7"
    assert push["device"] == device
    assert push["answer"] == "approve"


def test_async_push_then_auth_status(
    duo_emulator: RunningEmulator, auth: duo_client.Auth, enrolled: str
) -> None:
    """async_txn gives a txid; auth_status waits (pushed) until the delay, then allows."""
    duo_emulator.control.script_push(enrolled, "approve", delay=1.0)
    txid = auth.auth("push", username=enrolled, async_txn=True)["txid"]
    first = auth.auth_status(txid)
    assert first["waiting"] is True
    assert first["success"] is False
    assert first["status"] == "pushed"
    time.sleep(1.1)
    final = auth.auth_status(txid)
    assert final["waiting"] is False
    assert final["success"] is True
    assert final["status"] == "allow"
    assert final["status_msg"] == "Success. Logging you in..."


def test_async_fraud(duo_emulator: RunningEmulator, auth: duo_client.Auth, enrolled: str) -> None:
    """A push the user marks as fraud ends not successful, with status fraud."""
    duo_emulator.control.script_push(enrolled, "fraud")
    txid = auth.auth("push", username=enrolled, async_txn=True)["txid"]
    status = auth.auth_status(txid)
    assert (status["success"], status["waiting"], status["status"]) == (False, False, "fraud")


def test_auth_status_refuses_unknown_or_missing_txid(auth: duo_client.Auth) -> None:
    """An unknown txid is 400 40002; none at all is 400 40001."""
    with pytest.raises(RuntimeError, match=r"Invalid request parameters \(txid\)"):
        auth.auth_status("00000000-0000-0000-0000-000000000000")
    with pytest.raises(RuntimeError, match=r"Missing required request parameters \(txid\)"):
        auth.json_api_call("GET", "/auth/v2/auth_status", {})


def test_passcode(duo_emulator: RunningEmulator, auth: duo_client.Auth, enrolled: str) -> None:
    """The user's current passcode allows once; a wrong one is denied."""
    passcode = duo_emulator.control.user(enrolled)["passcode"]
    assert auth.auth("passcode", username=enrolled, passcode=passcode)["result"] == "allow"
    denied = auth.auth("passcode", username=enrolled, passcode=passcode)
    assert denied == {
        "result": "deny",
        "status": "deny",
        "status_msg": "Incorrect passcode. Please try again.",
    }
    with pytest.raises(RuntimeError, match=r"Missing required request parameters \(passcode\)"):
        auth.auth("passcode", username=enrolled)


def test_auth_refuses_bad_requests(
    duo_emulator: RunningEmulator, auth: duo_client.Auth, enrolled: str
) -> None:
    """Unknown users, other factors, foreign devices, unenrolled users, no factor: Duo's 400s."""
    username = f"{enrolled}-other"
    with pytest.raises(
        RuntimeError, match=r"^Received 400 Invalid request parameters \(username\)$"
    ):
        auth.auth("push", username=username)
    with pytest.raises(RuntimeError, match=r"Invalid request parameters \(user_id\)"):
        auth.auth("push", user_id="DUNOSUCHUSER00000000")
    with pytest.raises(RuntimeError, match=r"Invalid request parameters \(factor\)"):
        auth.auth("sms", username=enrolled)
    with pytest.raises(RuntimeError, match=r"Invalid request parameters \(device\)"):
        auth.auth("push", username=enrolled, device="DPNOTTHISONE00000000")
    duo_emulator.control.set_user(username)
    with pytest.raises(RuntimeError, match=r"Invalid request parameters \(device\)"):
        auth.auth("push", username=username)
    with pytest.raises(RuntimeError, match=r"Missing required request parameters \(factor\)"):
        auth.json_api_call("POST", "/auth/v2/auth", {"username": enrolled})


def test_other_api_credentials_do_not_open_the_auth_api(
    rest: RestClients, admin_creds: ApiCredentials
) -> None:
    """Admin API keys on /auth/v2/check get 401 40102, as Duo answers a wrong-kind ikey."""
    with pytest.raises(RuntimeError, match="Received 401 Invalid integration key"):
        rest.make(duo_client.Auth, admin_creds).check()


def test_events_list_the_calls(
    duo_emulator: RunningEmulator, auth: duo_client.Auth, auth_creds: ApiCredentials
) -> None:
    """Every Auth API call is an event with its ikey; refusals carry Duo's code."""
    auth.check()
    with pytest.raises(RuntimeError):
        auth.auth_status("nope")
    events = [e for e in duo_emulator.control.events() if e["kind"] == "auth_api"]
    assert any(e["client_id"] == auth_creds.ikey and e["outcome"] == "ok" for e in events)
    assert any(
        e["client_id"] == auth_creds.ikey and e["outcome"] == "40002" and e["detail"] == "txid"
        for e in events
    )
