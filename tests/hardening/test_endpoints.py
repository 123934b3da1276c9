"""Hostile requests at the bridge's endpoints: 400 or a verdict, never a 5xx, never a secret."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from keycloak_duo_bridge.bridge import app, cookie, tokens
from keycloak_duo_bridge.duo import jose
from tests.bridge_fakes import (
    SKEY,
    Fakes,
    bridge_client,
    bridge_settings,
    logged_reasons,
    realm_fakes,
    request_token,
)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Fakes]]:
    """One bridge with mock Keycloak and Duo, shared by the generated examples."""
    settings = bridge_settings(tmp_path_factory.mktemp("hostile"))
    fakes = realm_fakes(settings)
    with bridge_client(settings, fakes) as client:
        yield client, fakes


params = st.dictionaries(
    st.sampled_from(["state", "duo_code", "error", "request", "x"]) | st.text(max_size=10),
    st.text(max_size=100) | st.text(alphabet="a", min_size=8000, max_size=9000),
    max_size=5,
)
cookies = st.none() | st.text(alphabet="ABCDEFabcdef0123456789-_", max_size=5000)


def _bounded(response: httpx2.Response) -> None:
    assert response.status_code in {302, 400}, response.text[:200]
    assert SKEY not in response.text
    assert SKEY not in response.headers.get("location", "")


@given(params, cookies)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_any_callback_is_a_400_or_a_verdict(
    hostile: tuple[TestClient, Fakes], query: dict[str, str], value: str | None
) -> None:
    """Any callback parameters and cookie give a 400 page or a verdict redirect."""
    client, _ = hostile
    client.cookies.clear()
    if value is not None:
        client.cookies.set(cookie.COOKIE_NAME, value)
    _bounded(client.get("/step-up/callback", params=query))


@given(params)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_any_step_up_request_is_a_400_or_a_redirect(
    hostile: tuple[TestClient, Fakes], query: dict[str, str]
) -> None:
    """Any step-up parameters give a 400 page or a redirect, never a server error."""
    client, _ = hostile
    _bounded(client.get("/step-up", params=query))


def _started(client: TestClient) -> tuple[str, dict[str, object]]:
    """Start a step-up; Duo's state and the signed authorize request's claims."""
    response = client.get("/step-up", params={"request": request_token()})
    signed = parse_qs(urlsplit(response.headers["location"]).query)["request"][0]
    claims = jose.decode(signed, SKEY)
    return str(claims["state"]), claims


duo_answers = st.tuples(
    st.integers(200, 599),
    st.binary(max_size=100)
    | st.dictionaries(
        st.sampled_from(["id_token", "token_type", "error", "message", "stat"]),
        st.text(max_size=30) | st.just("Bearer") | st.just("invalid_grant"),
    ).map(lambda d: json.dumps(d).encode()),
)


@given(duo_answers, st.text(max_size=200))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_any_duo_token_answer_is_a_failing_verdict(
    hostile: tuple[TestClient, Fakes], answer: tuple[int, bytes], code: str
) -> None:
    """Whatever Duo's token endpoint answers (unsigned), the verdict is error or deny."""
    settings = hostile[0].app.state.services.settings  # type: ignore[attr-defined]
    fakes = realm_fakes(settings)
    with bridge_client(settings, fakes) as client:  # a fresh circuit breaker each time
        state, _ = _started(client)
        fakes.duo = httpx2.Response(answer[0], content=answer[1])
        response = client.get("/step-up/callback", params={"state": state, "duo_code": code or "c"})
    _bounded(response)
    if response.status_code == 302:
        verdict = parse_qs(urlsplit(response.headers["location"]).query)["verdict"][0]
        claims = jose.unverified_claims(verdict)
        assert claims["result"] in {"error", "deny"}


@pytest.mark.parametrize(
    ("path", "query"),
    [
        pytest.param("/step-up", {"request": "x" * (app.MAX_PARAMETER + 1)}, id="request"),
        pytest.param("/step-up/callback", {"state": "s" * (app.MAX_STATE + 1)}, id="state"),
        pytest.param(
            "/step-up/callback",
            {"state": "s", "duo_code": "c" * (app.MAX_PARAMETER + 1)},
            id="code",
        ),
    ],
)
def test_oversized_parameters_are_refused_before_any_work(
    tmp_path: Path, path: str, query: dict[str, str]
) -> None:
    """Oversized parameters get a 400 without Keycloak or Duo being asked anything."""
    settings = bridge_settings(tmp_path)
    fakes = realm_fakes(settings)
    fakes.keycloak_down = True
    fakes.duo = httpx2.ConnectError
    with bridge_client(settings, fakes) as client:
        response = client.get(path, params=query)
    assert response.status_code == 400
    assert tokens.MAX_TOKEN_LENGTH == app.MAX_PARAMETER


def test_oversized_cookie_is_refused(tmp_path: Path) -> None:
    """A cookie above the size limit is refused as such, before decryption."""
    settings = bridge_settings(tmp_path)
    with bridge_client(settings, realm_fakes(settings)) as client:
        client.cookies.set(cookie.COOKIE_NAME, "A" * (cookie.MAX_COOKIE_LENGTH + 1))
        with logged_reasons() as reasons:
            response = client.get("/step-up/callback", params={"state": "s", "duo_code": "c"})
    assert response.status_code == 400
    assert any("too large" in reason for reason in reasons)
