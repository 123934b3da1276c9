"""The device authorization grant client (RFC 8628, #16): Keycloak's answers judged and the
polling paced, with Keycloak replaced by a mock transport."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from keycloak_duo_bridge.login.client import device_login
from keycloak_duo_bridge.login.protocol import DeviceStarted, LoginError, judge_device_start

TOKENS = {"access_token": "a", "token_type": "Bearer"}
STARTED = {
    "device_code": "dc-secret",
    "user_code": "ABCD-EFGH",
    "verification_uri": "http://kc.example/realms/acme/device",
    "verification_uri_complete": "http://kc.example/realms/acme/device?user_code=ABCD-EFGH",
    "expires_in": 600,
    "interval": 3,
}


def keycloak(
    polls: list[httpx2.Response], seen: list[httpx2.Request], start: Any = None
) -> httpx2.Client:
    """A mock Keycloak: the device start answer, then each poll answer in turn."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        if request.url.path.endswith("/auth/device"):
            return httpx2.Response(200, json=STARTED if start is None else start)
        assert b"device_code=dc-secret" in request.content
        return polls.pop(0)

    return httpx2.Client(transport=httpx2.MockTransport(answer))


def login(http: httpx2.Client, secret: str | None, shown: list[DeviceStarted]) -> dict[str, Any]:
    """Run the device client with no real pauses."""
    return device_login(
        http,
        keycloak_url="http://kc.example",
        realm="acme",
        client_id="dev",
        client_secret=secret,
        on_code=shown.append,
        sleep=lambda _s: None,
    )


def test_a_public_client_names_itself_and_polls_until_the_tokens() -> None:
    """Public: client_id in each form, no Authorization; the code is shown once, then polls."""
    seen: list[httpx2.Request] = []
    shown: list[DeviceStarted] = []
    pending = httpx2.Response(400, json={"error": "authorization_pending"})
    http = keycloak([pending, httpx2.Response(200, json=TOKENS)], seen)
    assert login(http, None, shown) == TOKENS
    [code] = shown
    assert (code.user_code, code.interval) == ("ABCD-EFGH", 3)
    assert all(b"client_id=dev" in r.content for r in seen)
    assert all("authorization" not in r.headers for r in seen)
    assert b"grant-type%3Adevice_code" in seen[-1].content


def test_a_confidential_client_authenticates_and_a_refusal_is_an_error() -> None:
    """With a secret: HTTP Basic, no client_id in the form; access_denied is a LoginError."""
    seen: list[httpx2.Request] = []
    http = keycloak([httpx2.Response(400, json={"error": "access_denied"})], seen, None)
    with pytest.raises(LoginError, match="the login was refused"):
        login(http, "s3cret", [])
    assert all(r.headers["authorization"].startswith("Basic ") for r in seen)
    assert all(b"client_id" not in r.content for r in seen)


def test_a_refused_or_incomplete_start_is_an_error() -> None:
    """The start refused (device grant off, say) or missing a field: LoginError; nothing shown."""
    shown: list[DeviceStarted] = []
    refused = {"error": "unauthorized_client"}
    with pytest.raises(LoginError, match="unauthorized_client"):
        judge_device_start(400, refused)
    with pytest.raises(LoginError, match="no device code"):
        login(keycloak([], [], {**STARTED, "user_code": ""}), None, shown)
    assert shown == []


def test_device_start_defaults_and_secrets_out_of_repr() -> None:
    """No interval: 5 s; no complete URI: None; the device code stays out of repr."""
    bare = {k: v for k, v in STARTED.items() if k not in {"interval", "verification_uri_complete"}}
    started = judge_device_start(200, bare)
    assert (started.interval, started.verification_uri_complete) == (5, None)
    assert "dc-secret" not in repr(started)


def test_unreachable_keycloak_is_an_error() -> None:
    """A transport failure: LoginError, one line."""

    def down(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("down", request=request)

    with pytest.raises(LoginError, match="unreachable: ConnectError"):
        login(httpx2.Client(transport=httpx2.MockTransport(down)), None, [])
