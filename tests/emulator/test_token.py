"""``POST /oauth/v1/token``: parameters from query or form, assertion and code checks."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from keycloak_duo_bridge.duo import jose
from keycloak_duo_bridge.emulator.assertions import CLIENT_ASSERTION_TYPE
from keycloak_duo_bridge.emulator.model import Faults, Integration
from tests.emulator.conftest import AppUnderTest
from tests.emulator.helpers import REDIRECT_URI, assertion, authorize_url

PATH = "/oauth/v1/token"


def _code(emu: AppUnderTest, username: str = "someone", **overrides: Any) -> str:
    if emu.state.user(username) is None:
        emu.state.put_user(username, behavior="allow", enrolled=True, phone=None)
    response = emu.client.get(authorize_url(emu.app, duo_uname=username, **overrides))
    return httpx2.URL(response.headers["location"]).params["duo_code"]


def _params(emu: AppUnderTest, the_code: str, **overrides: Any) -> dict[str, str]:
    params: dict[str, str | None] = {
        "grant_type": "authorization_code",
        "code": the_code,
        "redirect_uri": REDIRECT_URI,
        "client_id": emu.app.client_id,
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion(emu.app, PATH),
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def test_query_parameters_as_the_python_sdk_sends_them(emu: AppUnderTest) -> None:
    """Parameters in the query string with an empty body (Python SDK) are accepted."""
    response = emu.client.post(PATH, params=_params(emu, _code(emu)))
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id_token", "access_token", "expires_in", "token_type"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert response.headers["cache-control"] == "no-store"
    assert jose.unverified_header(body["id_token"])["alg"] == "HS512"
    claims = jose.decode(body["id_token"], emu.app.client_secret)
    assert claims["iss"] == "https://testserver/oauth/v1/token"
    assert claims["sub"] == "someone"


def test_form_parameters_without_client_id_as_java_sends_them(emu: AppUnderTest) -> None:
    """A form body without ``client_id`` (Java, vaultwarden, ISVA) is accepted."""
    data = _params(emu, _code(emu), client_id=None)
    assert emu.client.post(PATH, data=data).status_code == 200


def test_hs256_assertion_still_gets_an_hs512_id_token(emu: AppUnderTest) -> None:
    """An HS256 assertion is accepted; the id_token stays HS512, as the SDKs require."""
    data = _params(emu, _code(emu), client_assertion=assertion(emu.app, PATH, alg="HS256"))
    body = emu.client.post(PATH, data=data).json()
    assert jose.unverified_header(body["id_token"])["alg"] == "HS512"


def test_preferred_username_is_the_name_duo_knows(emu: AppUnderTest) -> None:
    """Usernames are case-insensitive at Duo; the token carries the name Duo has."""
    emu.state.put_user("Grace", behavior="allow", enrolled=True, phone=None)
    body = emu.client.post(PATH, data=_params(emu, _code(emu, "grace"))).json()
    assert jose.decode(body["id_token"], emu.app.client_secret)["preferred_username"] == "Grace"


def test_nonce_absent_when_none_was_sent(emu: AppUnderTest) -> None:
    """Without a nonce in the request there is no ``nonce`` claim."""
    body = emu.client.post(PATH, data=_params(emu, _code(emu))).json()
    assert "nonce" not in jose.decode(body["id_token"], emu.app.client_secret)


@pytest.mark.parametrize(
    ("overrides", "error", "status"),
    [
        ({"grant_type": "refresh_token"}, "unsupported_grant_type", 400),
        ({"grant_type": None}, "unsupported_grant_type", 400),
        ({"client_assertion_type": None}, "invalid_client", 400),
        ({"client_assertion": None}, "invalid_client", 400),
        ({"client_id": "DIOTHEROTHEROTHEROTH"}, "invalid_client", 400),
        ({"code": None}, "invalid_grant", 400),
        ({"code": "f" * 32}, "invalid_grant", 400),
        ({"redirect_uri": None}, "invalid_grant", 400),
    ],
)
def test_refusals(emu: AppUnderTest, overrides: dict[str, Any], error: str, status: int) -> None:
    """Each bad token request gets the OAuth error Duo sends."""
    response = emu.client.post(PATH, data=_params(emu, _code(emu), **overrides))
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"]


def test_unknown_client_is_401(emu: AppUnderTest) -> None:
    """An assertion from an unknown client is ``invalid_client`` with status 401."""
    stranger = emu.app.__class__("DINOBODYNOBODYNOBODY", "n" * 40, "testserver")
    data = _params(emu, "c", client_id=None, client_assertion=assertion(stranger, PATH))
    response = emu.client.post(PATH, data=data)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_expired_code(emu: AppUnderTest) -> None:
    """A code is exchangeable for 60 seconds only."""
    code = _code(emu)
    emu.clock.now += 61
    data = _params(emu, code, client_assertion=assertion(emu.app, PATH, exp=emu.clock.now + 300))
    response = emu.client.post(PATH, data=data)
    assert response.json()["error"] == "invalid_grant"
    assert emu.state.events()[-1]["detail"] == "the code has expired"


def test_code_of_another_client(emu: AppUnderTest) -> None:
    """A code issued to one client cannot be exchanged by another."""
    other = emu.app.__class__("DIOTHEROTHEROTHEROTH", "o" * 40, "testserver")
    emu.state.add_integration(Integration(other.client_id, other.client_secret))
    code = _code(emu)
    data = _params(emu, code, client_id=other.client_id, client_assertion=assertion(other, PATH))
    assert emu.client.post(PATH, data=data).json()["error"] == "invalid_grant"
    assert emu.state.events()[-1]["detail"] == "the code was issued to another client"


@pytest.mark.parametrize("mode", ["fail", "error_500"])
def test_faults(emu: AppUnderTest, mode: str) -> None:
    """Injected token faults: a 503 JSON error, or an HTML 500 page."""
    emu.state.faults = Faults(token=mode)  # type: ignore[arg-type]
    response = emu.client.post(PATH, data={})
    assert response.status_code == (503 if mode == "fail" else 500)
    assert emu.state.events()[-1]["outcome"] == f"fault_{mode}"
