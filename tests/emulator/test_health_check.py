"""``POST /oauth/v1/health_check``: every assertion variant Duo accepts, and each refusal."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from keycloak_duo_bridge.emulator import _http
from keycloak_duo_bridge.emulator.model import Faults
from tests.emulator.conftest import AppUnderTest
from tests.emulator.helpers import assertion

PATH = "/oauth/v1/health_check"


def at(offset: float, kind: Callable[[float], Any] = float) -> Callable[[], Any]:
    """A claim value ``offset`` seconds from now, computed when the test runs (not collected)."""
    return lambda: kind(time.time() + offset)


def _check(emu: AppUnderTest, **overrides: Any) -> dict[str, Any]:
    overrides = {k: v() if callable(v) else v for k, v in overrides.items()}
    data = {
        "client_id": emu.app.client_id,
        "client_assertion": assertion(emu.app, PATH, **overrides),
    }
    response = emu.client.post(PATH, data=data)
    body: dict[str, Any] = response.json()
    assert response.status_code == 200
    return body


def test_ok(emu: AppUnderTest) -> None:
    """A good assertion gets ``stat: OK`` and the server's timestamp."""
    body = _check(emu)
    assert body == {"stat": "OK", "response": {"timestamp": int(emu.clock.now)}}
    assert emu.state.events()[-1]["outcome"] == "ok"


def test_parameters_in_the_query_are_accepted(emu: AppUnderTest) -> None:
    """Parameters may come in the query string instead of the form body."""
    params = {"client_id": emu.app.client_id, "client_assertion": assertion(emu.app, PATH)}
    assert emu.client.post(PATH, params=params).json()["stat"] == "OK"


@pytest.mark.parametrize(
    "overrides",
    [
        {"alg": "HS256"},
        {"exp": at(300, lambda t: str(int(t)))},  # C# sends every claim as a string
        {"exp": at(3600)},  # Java signs for one hour
        {"exp": at(10, int)},
        {"aud": ["https://other", "https://testserver/oauth/v1/health_check"]},
        {"aud": "https://testserver:443/oauth/v1/health_check"},
        {"iat": at(0, int)},  # Node and PHP add iat
    ],
    ids=["hs256", "string-exp", "one-hour", "int-exp", "aud-list", "aud-443", "iat"],
)
def test_sdk_variants_are_accepted(emu: AppUnderTest, overrides: dict[str, Any]) -> None:
    """Each SDK's way of writing the assertion is accepted."""
    assert _check(emu, **overrides)["stat"] == "OK"


def _unsigned(claims: dict[str, Any], alg: str) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': alg, 'typ': 'JWT'})}.{part(claims)}.c2ln"


@pytest.mark.parametrize(
    ("overrides", "detail"),
    [
        ({"secret": "x" * 40}, "client_assertion signature: Signature verification failed"),
        ({"sub": "someone-else"}, "client_assertion sub differs from iss"),
        ({"aud": "https://testserver/oauth/v1/token"}, "is not this endpoint"),
        ({"aud": None}, "is not this endpoint"),
        ({"exp": None}, "client_assertion exp is missing or not a number"),
        ({"exp": "soon"}, "client_assertion exp is missing or not a number"),
        ({"exp": True}, "client_assertion exp is missing or not a number"),
        ({"exp": [1]}, "client_assertion exp is missing or not a number"),
        ({"exp": "inf"}, "client_assertion exp is missing or not a number"),
        ({"exp": at(-120)}, "client_assertion has expired"),
        ({"exp": at(3700)}, "client_assertion exp is more than one hour ahead"),
        ({"jti": None}, "client_assertion jti is missing"),
        ({"jti": 7}, "client_assertion jti is missing"),
        ({"iss": None}, "client_assertion has no iss"),
    ],
)
def test_bad_assertions_fail(emu: AppUnderTest, overrides: dict[str, Any], detail: str) -> None:
    """A bad assertion gets the FAIL envelope; the events list says exactly why."""
    body = _check(emu, **overrides)
    assert body["stat"] == "FAIL"
    assert body["code"] == 40002
    assert body["message"] == "invalid_client"
    assert body["message_detail"] == "The provided client_assertion was invalid."
    assert body["timestamp"] == int(emu.clock.now)
    assert detail in emu.state.events()[-1]["detail"]


@pytest.mark.parametrize(
    ("token", "detail"),
    [
        ("", "client_assertion is missing"),
        ("not-a-jwt", "client_assertion is not a JWT"),
        (_unsigned({"iss": "DIAPPAPPAPPAPPAPPAPP"}, "none"), "is not HS512 or HS256"),
        (_unsigned({"iss": "DIAPPAPPAPPAPPAPPAPP"}, "RS256"), "is not HS512 or HS256"),
        (_unsigned({"iss": "DINOBODYNOBODYNOBODY"}, "HS512"), "unknown client_id"),
    ],
)
def test_malformed_assertions_fail(emu: AppUnderTest, token: str, detail: str) -> None:
    """Missing, malformed, unsigned and foreign assertions are refused."""
    body = emu.client.post(PATH, data={"client_assertion": token}).json()
    assert body["message"] == "invalid_client"
    assert detail in emu.state.events()[-1]["detail"]


def test_client_id_must_match_iss(emu: AppUnderTest) -> None:
    """A ``client_id`` other than the assertion's ``iss`` is refused with Duo's text."""
    data = {"client_id": "DIOTHEROTHEROTHEROTH", "client_assertion": assertion(emu.app, PATH)}
    body = emu.client.post(PATH, data=data).json()
    assert body["message_detail"] == (
        "Invalid Client assertion: The `iss` claim must match the supplied client_id"
    )


def test_replayed_jti_fails(emu: AppUnderTest) -> None:
    """The same assertion twice: the second is refused."""
    data = {"client_id": emu.app.client_id, "client_assertion": assertion(emu.app, PATH)}
    assert emu.client.post(PATH, data=data).json()["stat"] == "OK"
    assert emu.client.post(PATH, data=data).json()["stat"] == "FAIL"


def test_remembered_jtis_expire(emu: AppUnderTest) -> None:
    """A ``jti`` is forgotten once its assertion is long expired."""
    data = {"client_id": emu.app.client_id, "client_assertion": assertion(emu.app, PATH)}
    assert emu.client.post(PATH, data=data).json()["stat"] == "OK"
    emu.clock.now += 3600
    assert _check(emu, exp=emu.clock.now + 300)["stat"] == "OK"
    assert len(emu.state._jtis) == 1


def test_refusal_is_a_200_envelope(emu: AppUnderTest) -> None:
    """A refused health check is HTTP 200 with ``stat: FAIL``, the only status Java's SDK reads."""
    response = emu.client.post(PATH, data={"client_id": emu.app.client_id})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["stat"] == "FAIL"
    assert response.json()["message"] == "invalid_client"


def test_fault_fail(emu: AppUnderTest) -> None:
    """Injected ``fail``: a 503 FAIL envelope, whatever the assertion."""
    emu.state.faults = Faults(health="fail")
    response = emu.client.post(PATH, data={})
    assert response.status_code == 503
    assert response.json()["stat"] == "FAIL"
    assert emu.state.events()[-1]["outcome"] == "fault_fail"


def test_fault_error_500(emu: AppUnderTest) -> None:
    """Injected ``error_500``: an HTML 500 page, not JSON."""
    emu.state.faults = Faults(health="error_500")
    response = emu.client.post(PATH, data={})
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")


def test_fault_timeout_holds_the_request(
    emu: AppUnderTest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Injected ``timeout``: no answer until the hang limit (shortened here) passes."""
    monkeypatch.setattr(_http, "HANG_LIMIT", 0.2)
    emu.state.faults = Faults(health="timeout")
    started = time.monotonic()
    assert emu.client.post(PATH, data={}).status_code == 504
    assert time.monotonic() - started >= 0.2


def test_latency(emu: AppUnderTest) -> None:
    """Injected latency delays the answer."""
    emu.state.faults = Faults(latency_ms=150)
    started = time.monotonic()
    assert _check(emu)["stat"] == "OK"
    assert time.monotonic() - started >= 0.15
