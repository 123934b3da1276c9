"""The unmodified official ``duo_universal`` client against the emulator (issue 3, §5)."""

from __future__ import annotations

import time
from types import SimpleNamespace

import duo_universal.client
import pytest
from duo_universal.client import Client, DuoException

from keycloak_duo_bridge.emulator import IntegrationCredentials, RunningEmulator
from tests.emulator.helpers import REDIRECT_URI, follow_to_callback, sdk_client

# duo_universal signs and verifies with the 40-character Duo secret, and PyJWT warns that
# HS512 wants 64 bytes. The secret length is Duo's design, so only this warning is ignored.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

ASSERTION_INVALID = {
    "error": "invalid_client",
    "error_description": "The provided client_assertion was invalid.",
}
GRANT_INVALID = {
    "error": "invalid_grant",
    "error_description": (
        "The provided authorization grant (e.g., authorization code) or refresh token is"
        " invalid, expired, revoked, does not match the redirection URI used in the"
        " authorization request, or was issued to another client."
    ),
}


def _code_for(
    emulator: RunningEmulator, app: IntegrationCredentials, username: str, **kwargs: object
) -> str:
    client = sdk_client(emulator, app)
    state = client.generate_state()
    callback = follow_to_callback(emulator, client.create_auth_url(username, state, **kwargs))
    assert callback.params["state"] == state
    return callback.params["duo_code"]


def test_full_flow_returns_the_claims(
    duo_emulator: RunningEmulator, duo_integration: IntegrationCredentials
) -> None:
    """health_check, create_auth_url, authorize, callback and exchange yield Duo's claims."""
    duo_emulator.control.set_user("ada", behavior="allow", enrolled=True, phone="+14155550123")
    client = sdk_client(duo_emulator, duo_integration)

    health = client.health_check()
    assert health["stat"] == "OK"
    assert abs(health["response"]["timestamp"] - time.time()) < 5

    state = client.generate_state()
    nonce = "n" * 24
    callback = follow_to_callback(duo_emulator, client.create_auth_url("ada", state, nonce))
    assert callback.host == "app.example"
    assert callback.path == "/duo/callback"
    assert callback.params["tenant"] == "acme"
    assert callback.params["state"] == state

    claims = client.exchange_authorization_code_for_2fa_result(
        callback.params["duo_code"], "ada", nonce
    )
    assert claims["iss"] == f"https://{duo_emulator.api_host}/oauth/v1/token"
    assert claims["aud"] == duo_integration.client_id
    assert claims["preferred_username"] == "ada"
    assert claims["nonce"] == nonce
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["auth_time"] <= claims["iat"]
    assert claims["auth_result"] == {
        "result": "allow",
        "status": "allow",
        "status_msg": "Login Successful",
    }
    context = claims["auth_context"]
    assert context["factor"] == "duo_push"
    assert context["result"] == "success"
    assert context["reason"] == "user_approved"
    assert context["user"]["name"] == "ada"
    assert context["application"]["key"] == duo_integration.client_id
    assert context["access_device"]["ip"] == "127.0.0.1"
    assert context["auth_device"]["name"] == "+14155550123"
    assert len(context["txid"]) == 36


def test_localhost_api_host_is_accepted(
    duo_emulator: RunningEmulator, duo_integration: IntegrationCredentials
) -> None:
    """A client configured with ``localhost:PORT`` gets an ``iss`` spelled the same way."""
    port = duo_emulator.api_host.rsplit(":", 1)[1]
    duo_emulator.control.set_user("lin", behavior="allow", enrolled=True)
    app = IntegrationCredentials(
        duo_integration.client_id, duo_integration.client_secret, f"localhost:{port}"
    )
    client = Client(
        app.client_id,
        app.client_secret,
        app.api_host,
        REDIRECT_URI,
        duo_certs=str(duo_emulator.ca_path),
    )
    assert client.health_check()["stat"] == "OK"
    url = client.create_auth_url("lin", client.generate_state())
    code = follow_to_callback(duo_emulator, url).params["duo_code"]
    claims = client.exchange_authorization_code_for_2fa_result(code, "lin")
    assert claims["iss"] == f"https://localhost:{port}/oauth/v1/token"


def test_code_attribute_off_returns_code(
    duo_emulator: RunningEmulator, duo_integration: IntegrationCredentials
) -> None:
    """With ``use_duo_code_attribute=False`` the callback carries ``code``, not ``duo_code``."""
    duo_emulator.control.set_user("cy", behavior="allow", enrolled=True)
    client = sdk_client(duo_emulator, duo_integration, use_duo_code_attribute=False)
    callback = follow_to_callback(
        duo_emulator, client.create_auth_url("cy", client.generate_state())
    )
    assert "duo_code" not in callback.params
    claims = client.exchange_authorization_code_for_2fa_result(callback.params["code"], "cy")
    assert claims["auth_result"]["status"] == "allow"


def test_deny_never_says_allow(
    duo_emulator: RunningEmulator, duo_integration: IntegrationCredentials
) -> None:
    """A user scripted to deny comes back with a code whose token says deny."""
    duo_emulator.control.set_user("dan", behavior="deny", enrolled=True)
    client = sdk_client(duo_emulator, duo_integration)
    claims = client.exchange_authorization_code_for_2fa_result(
        _code_for(duo_emulator, duo_integration, "dan"), "dan"
    )
    assert claims["auth_result"]["result"] == "deny"
    assert claims["auth_result"]["status"] == "deny"
    assert claims["auth_context"]["result"] == "denied"
    assert claims["auth_context"]["reason"] == "user_cancelled"


def test_timeout_behaviour_is_a_denial(
    duo_emulator: RunningEmulator, duo_integration: IntegrationCredentials
) -> None:
    """A push nobody answers ends as a denial with reason ``no_response``."""
    duo_emulator.control.set_user("tim", behavior="timeout", enrolled=True)
    client = sdk_client(duo_emulator, duo_integration)
    claims = client.exchange_authorization_code_for_2fa_result(
        _code_for(duo_emulator, duo_integration, "tim"), "tim"
    )
    assert claims["auth_result"]["status"] == "deny"
    assert claims["auth_context"]["reason"] == "no_response"


@pytest.mark.parametrize(
    ("policy", "status", "reason"),
    [("allow", "allow", "allow_unenrolled_user"), ("deny", "deny", "deny_unenrolled_user")],
)
def test_new_user_policy(
    duo_emulator: RunningEmulator, policy: str, status: str, reason: str
) -> None:
    """New-user policy ``allow`` passes unenrolled users and ``deny`` refuses them, saying why."""
    app = duo_emulator.control.add_integration(new_user_policy=policy)  # type: ignore[arg-type]
    duo_emulator.control.set_user(f"new-{policy}", behavior="deny", enrolled=False)
    client = sdk_client(duo_emulator, app)
    code = _code_for(duo_emulator, app, f"new-{policy}")
    claims = client.exchange_authorization_code_for_2fa_result(code, f"new-{policy}")
    assert claims["auth_result"]["status"] == status
    assert claims["auth_context"]["reason"] == reason


def test_wrong_secret(
    duo_emulator: RunningEmulator, duo_integration: IntegrationCredentials
) -> None:
    """A wrong secret fails the health check and the exchange with ``invalid_client``."""
    duo_emulator.control.set_user("sam", behavior="allow", enrolled=True)
    code = _code_for(duo_emulator, duo_integration, "sam")
    wrong = IntegrationCredentials(duo_integration.client_id, "W" * 40, duo_emulator.api_host)
    client = sdk_client(duo_emulator, wrong)
    with pytest.raises(DuoException) as health:
        client.health_check()
    body = health.value.args[0].args[0]
    assert body["stat"] == "FAIL"
    assert body["code"] == 40002
    assert body["message"] == "invalid_client"
    assert body["message_detail"] == "The provided client_assertion was invalid."
    with pytest.raises(DuoException) as exchange:
        client.exchange_authorization_code_for_2fa_result(code, "sam")
    assert exchange.value.args[0] == ASSERTION_INVALID


def test_wrong_client_id(duo_emulator: RunningEmulator) -> None:
    """An unknown client id fails the health check and the exchange with ``invalid_client``."""
    stranger = IntegrationCredentials("DIUNKNOWNUNKNOWN0000", "S" * 40, duo_emulator.api_host)
    client = sdk_client(duo_emulator, stranger)
    with pytest.raises(DuoException) as health:
        client.health_check()
    assert health.value.args[0].args[0]["message"] == "invalid_client"
    with pytest.raises(DuoException) as exchange:
        client.exchange_authorization_code_for_2fa_result("0" * 32, "sam")
    assert exchange.value.args[0] == ASSERTION_INVALID


def test_reused_code(
    duo_emulator: RunningEmulator, duo_integration: IntegrationCredentials
) -> None:
    """A code works once; a reload that reuses it gets ``invalid_grant``."""
    duo_emulator.control.set_user("rue", behavior="allow", enrolled=True)
    client = sdk_client(duo_emulator, duo_integration)
    code = _code_for(duo_emulator, duo_integration, "rue")
    client.exchange_authorization_code_for_2fa_result(code, "rue")
    with pytest.raises(DuoException) as again:
        client.exchange_authorization_code_for_2fa_result(code, "rue")
    assert again.value.args[0] == GRANT_INVALID


def test_wrong_redirect_uri(
    duo_emulator: RunningEmulator, duo_integration: IntegrationCredentials
) -> None:
    """Exchanging with another ``redirect_uri`` than the authorization's is ``invalid_grant``."""
    duo_emulator.control.set_user("rita", behavior="allow", enrolled=True)
    code = _code_for(duo_emulator, duo_integration, "rita")
    other = sdk_client(duo_emulator, duo_integration, redirect_uri=REDIRECT_URI + "&x=1")
    with pytest.raises(DuoException) as exchange:
        other.exchange_authorization_code_for_2fa_result(code, "rita")
    assert exchange.value.args[0] == GRANT_INVALID


def test_expired_assertion(
    duo_emulator: RunningEmulator,
    duo_integration: IntegrationCredentials,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An assertion whose ``exp`` has passed (client clock 10 min slow) is ``invalid_client``."""
    duo_emulator.control.set_user("exa", behavior="allow", enrolled=True)
    code = _code_for(duo_emulator, duo_integration, "exa")
    client = sdk_client(duo_emulator, duo_integration)
    slow = SimpleNamespace(time=lambda: time.time() - 600)
    monkeypatch.setattr(duo_universal.client, "time", slow)
    with pytest.raises(DuoException) as health:
        client.health_check()
    assert health.value.args[0].args[0]["code"] == 40002
    with pytest.raises(DuoException) as exchange:
        client.exchange_authorization_code_for_2fa_result(code, "exa")
    assert exchange.value.args[0] == ASSERTION_INVALID


def test_replayed_jti(
    duo_emulator: RunningEmulator,
    duo_integration: IntegrationCredentials,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A second assertion with an already used ``jti`` is ``invalid_client``."""
    duo_emulator.control.set_user("jo", behavior="allow", enrolled=True)
    first = _code_for(duo_emulator, duo_integration, "jo")
    second = _code_for(duo_emulator, duo_integration, "jo")
    client = sdk_client(duo_emulator, duo_integration)
    monkeypatch.setattr(client, "_generate_rand_alphanumeric", lambda length: "J" * length)
    client.exchange_authorization_code_for_2fa_result(first, "jo")
    with pytest.raises(DuoException) as exchange:
        client.exchange_authorization_code_for_2fa_result(second, "jo")
    assert exchange.value.args[0] == ASSERTION_INVALID
    events = duo_emulator.control.events("token")
    assert events[-1]["detail"] == "client_assertion jti was already used"


@pytest.mark.parametrize("length", [15, 1025])
def test_state_of_bad_length(
    duo_emulator: RunningEmulator, duo_integration: IntegrationCredentials, length: int
) -> None:
    """The SDK refuses a ``state`` outside 16..1024 before any request, as with real Duo."""
    client = sdk_client(duo_emulator, duo_integration)
    with pytest.raises(DuoException) as refused:
        client.create_auth_url("ann", "s" * length)
    assert refused.value.args[0] == (
        "State must be at least 16 characters long and no longer than 1024 characters"
    )


def test_each_sdk_call_is_a_new_connection(
    duo_emulator: RunningEmulator, duo_integration: IntegrationCredentials
) -> None:
    """The events list shows the TLS connection of each call (the SDK opens one per call)."""
    duo_emulator.control.set_user("con", behavior="allow", enrolled=True)
    client = sdk_client(duo_emulator, duo_integration)
    client.health_check()
    client.health_check()
    ours = [
        e
        for e in duo_emulator.control.events("health_check")
        if e["client_id"] == duo_integration.client_id
    ]
    assert len(ours) == 2
    assert ours[0]["connection"]["host"] == "127.0.0.1"
    assert ours[0]["connection"]["port"] != ours[1]["connection"]["port"]
