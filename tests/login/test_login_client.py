"""The reference CIBA client (#16): Keycloak's answers judged, polling paced and bounded,
with Keycloak replaced by a mock transport."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from keycloak_duo_bridge.login.client import ciba_login
from keycloak_duo_bridge.login.protocol import LoginError, Pending, judge_poll, judge_start

TOKENS = {"access_token": "a", "token_type": "Bearer"}


def keycloak(polls: list[httpx2.Response], start: httpx2.Response | None = None) -> httpx2.Client:
    """A mock Keycloak: the start answer, then each poll answer in turn."""
    seen: list[str] = []

    def answer(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.url.path)
        if request.url.path.endswith("/ext/ciba/auth"):
            assert b"binding_message=B-1" in request.content
            return start or httpx2.Response(
                200, json={"auth_req_id": "r", "expires_in": 60, "interval": 2}
            )
        assert b"auth_req_id=r" in request.content
        return polls.pop(0)

    return httpx2.Client(transport=httpx2.MockTransport(answer))


def login(
    http: httpx2.Client, sleeps: list[float], clock: Callable[[], float] = lambda: 0.0
) -> dict[str, Any]:
    """Run the client with recorded sleeps."""
    return ciba_login(
        http,
        keycloak_url="http://kc.example/",
        realm="acme",
        client_id="cli",
        client_secret="s",
        username="ann",
        binding_message="B-1",
        sleep=sleeps.append,
        clock=clock,
    )


def pending(error: str = "authorization_pending") -> httpx2.Response:
    return httpx2.Response(400, json={"error": error})


def test_polls_at_the_interval_and_slows_down_when_told() -> None:
    """Pending keeps the interval, slow_down adds 5 s, then the tokens."""
    sleeps: list[float] = []
    http = keycloak([pending(), pending("slow_down"), httpx2.Response(200, json=TOKENS)])
    assert login(http, sleeps) == TOKENS
    assert sleeps == [2, 2, 7]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (httpx2.Response(400, json={"error": "access_denied"}), "the login was refused"),
        (httpx2.Response(400, json={"error": "expired_token"}), "expired"),
        (httpx2.Response(500, text="boom"), r"HTTP 500, unknown_error\)"),
        (
            httpx2.Response(401, json={"error": "invalid_client", "error_description": "bad"}),
            r"HTTP 401, invalid_client: bad\)",
        ),
    ],
)
def test_refusals_are_one_line_errors(answer: httpx2.Response, message: str) -> None:
    """Denied, expired, a server error or a bad client: LoginError naming it."""
    with pytest.raises(LoginError, match=message):
        login(keycloak([answer]), [])


def test_a_refused_start_and_a_bad_start_are_errors() -> None:
    """The start refused (bad scope, say) or missing its id: LoginError."""
    refused = httpx2.Response(400, json={"error": "invalid_scope"})
    with pytest.raises(LoginError, match="invalid_scope"):
        login(keycloak([], refused), [])
    with pytest.raises(LoginError, match="no auth_req_id"):
        login(keycloak([], httpx2.Response(200, json={"expires_in": 5})), [])


def test_polling_stops_at_the_expiry() -> None:
    """A login nobody answers ends when the request expires."""
    times = iter([0.0, 100.0])
    with pytest.raises(LoginError, match="expired before it was completed"):
        login(keycloak([pending()]), [], clock=lambda: next(times))


def test_unreachable_keycloak_is_an_error() -> None:
    """A transport failure: LoginError, one line."""

    def down(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("down", request=request)

    with pytest.raises(LoginError, match="unreachable: ConnectError"):
        login(httpx2.Client(transport=httpx2.MockTransport(down)), [])


def test_judging_defaults() -> None:
    """No interval means 5 s; a non-object answer is an unknown error; ids stay out of repr."""
    started = judge_start(200, {"auth_req_id": "secret-id", "expires_in": 9})
    assert started.interval == 5
    assert "secret-id" not in repr(started)
    assert judge_poll(400, {"error": "authorization_pending"}, 3) == Pending(3)
    with pytest.raises(LoginError, match="unknown_error"):
        judge_poll(502, ["x"], 3)
