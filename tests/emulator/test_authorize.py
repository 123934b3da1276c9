"""``GET /oauth/v1/authorize``: request JWT checks, SDK variants, and where errors go."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from keycloak_duo_bridge.emulator.model import Integration
from tests.emulator.conftest import AppUnderTest
from tests.emulator.helpers import REDIRECT_URI, authorize_url, request_jwt

STATE = "s" * 36


def _get(emu: AppUnderTest, **overrides: Any) -> httpx2.Response:
    return emu.client.get(authorize_url(emu.app, **overrides))


def _callback(response: httpx2.Response) -> httpx2.URL:
    assert response.status_code == 302, response.text
    return httpx2.URL(response.headers["location"])


def test_headless_allow_redirects_with_duo_code(emu: AppUnderTest) -> None:
    """A user scripted to allow goes straight back with ``duo_code`` and ``state``."""
    emu.state.put_user("someone", behavior="allow", enrolled=True, phone="+15555550100")
    target = _callback(_get(emu))
    assert str(target).startswith(REDIRECT_URI + "&duo_code=")
    assert target.params["state"] == STATE
    assert emu.state.events()[-1]["outcome"] == "allow"


@pytest.mark.parametrize(
    ("flag", "name"),
    [
        (True, "duo_code"),
        ("True", "duo_code"),
        ("true", "duo_code"),
        (1, "duo_code"),
        (False, "code"),
        ("false", "code"),
        (None, "code"),
    ],
    ids=["bool", "str-True", "str-true", "int", "false", "str-false", "absent"],
)
def test_use_duo_code_attribute(emu: AppUnderTest, flag: object, name: str) -> None:
    """Truthy ``use_duo_code_attribute`` (bool or string) gives ``duo_code``, else ``code``."""
    emu.state.put_user("someone", behavior="allow", enrolled=True, phone=None)
    params = _callback(_get(emu, use_duo_code_attribute=flag)).params
    assert name in params
    assert ({"duo_code", "code"} - {name}).pop() not in params


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": None, "iss": None},  # Java and ISVA send neither
        {"aud": "https://testserver/oauth/v1/authorize"},  # C#
        {"aud": "https://testserver:443"},
        {"alg": "HS256", "exp": "9999999999"},  # ISVA: HS256, exp as a string
        {"state": "s" * 16},
        {"state": "s" * 1024},
        {"redirect_uri": "https://a.example/" + "p" * 238},  # exactly 256
    ],
    ids=["java", "csharp", "port-443", "isva", "state-16", "state-1024", "redirect-256"],
)
def test_sdk_variants_are_accepted(emu: AppUnderTest, overrides: dict[str, Any]) -> None:
    """Every SDK's request JWT is accepted."""
    emu.state.put_user("someone", behavior="allow", enrolled=True, phone=None)
    assert "code" in str(_callback(_get(emu, **overrides)))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"secret": "y" * 40}, "the request JWT is invalid"),
        ({"client_id": "DIOTHEROTHEROTHEROTH"}, "client_id differs"),
        ({"iss": "DIOTHEROTHEROTHEROTH"}, "iss differs"),
        ({"aud": "https://elsewhere"}, "is not this server"),
        ({"redirect_uri": None}, "redirect_uri is missing"),
        ({"redirect_uri": "https://a.example/" + "p" * 239}, "Length must be between 1 and 256"),
        ({"redirect_uri": "javascript:alert(1)"}, "Invalid redirect URI"),
    ],
)
def test_untrusted_requests_get_an_error_page(
    emu: AppUnderTest, overrides: dict[str, Any], message: str
) -> None:
    """When the request cannot be trusted, an error page is shown and nothing redirects."""
    response = _get(emu, **overrides)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert message in response.text.replace("&#39;", "'")


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"client_id": "DIAPPAPPAPPAPPAPPAPP"},
        {"client_id": "DINOBODYNOBODYNOBODY", "request": "x"},
    ],
)
def test_missing_or_unknown_client_gets_an_error_page(
    emu: AppUnderTest, query: dict[str, str]
) -> None:
    """No ``client_id``/``request``, or an unknown client: an error page."""
    response = emu.client.get("/oauth/v1/authorize", params=query)
    assert response.status_code == 400
    assert "Something went wrong" in response.text


@pytest.mark.parametrize(
    ("overrides", "error", "keeps_state"),
    [
        ({"exp": 1}, "invalid_request", True),
        ({"response_type": "token"}, "unsupported_response_type", True),
        ({"scope": "email"}, "invalid_scope", True),
        ({"duo_uname": None}, "invalid_request", True),
        ({"duo_uname": ""}, "invalid_request", True),
        ({"state": "s" * 15}, "invalid_request", False),
        ({"state": "s" * 1025}, "invalid_request", False),
        ({"state": None}, "invalid_request", False),
    ],
)
def test_authentic_bad_requests_redirect_with_error(
    emu: AppUnderTest,
    overrides: dict[str, Any],
    error: str,
    keeps_state: bool,  # noqa: FBT001
) -> None:
    """An authentic but invalid request goes back with ``error`` and ``error_description``."""
    target = _callback(_get(emu, **overrides))
    assert str(target).startswith(REDIRECT_URI + "&error=")
    assert target.params["error"] == error
    assert target.params["error_description"]
    assert ("state" in target.params) is keeps_state


def test_unknown_user_is_sent_to_enrolment(emu: AppUnderTest) -> None:
    """An unknown user under the ``enroll`` policy is sent to the prompt's enrolment step."""
    response = _get(emu, duo_uname="newbie")
    assert response.status_code == 302
    assert response.headers["location"].startswith("/frame/prompt/")
    page = emu.client.get(response.headers["location"])
    assert "Protect your account" in page.text
    assert emu.state.events()[-1] == {
        **emu.state.events()[-1],
        "outcome": "prompt",
        "detail": "enroll",
    }


def test_policy_deny_shows_the_denial_to_a_person(emu: AppUnderTest) -> None:
    """Policy ``deny``: a person sees Duo's denial, and leaving it yields a deny token."""
    emu.state.add_integration(Integration(emu.app.client_id, emu.app.client_secret, "deny"))
    page = emu.client.get(_get(emu, duo_uname="newbie").headers["location"])
    assert "Access denied" in page.text
    assert "not enrolled" in page.text


def test_nonce_inside_the_request_jwt_is_used(emu: AppUnderTest) -> None:
    """vaultwarden puts ``nonce`` inside the request JWT; it is echoed like a query nonce."""
    emu.state.put_user("someone", behavior="allow", enrolled=True, phone=None)
    _callback(_get(emu, nonce="inside-the-jwt-nonce"))
    grant = next(iter(emu.state._grants.values()))
    assert grant.nonce == "inside-the-jwt-nonce"


def test_nonce_in_the_query_is_used(emu: AppUnderTest) -> None:
    """The Python SDK sends ``nonce`` as a query parameter."""
    emu.state.put_user("someone", behavior="allow", enrolled=True, phone=None)
    params = {
        "response_type": "code",
        "client_id": emu.app.client_id,
        "request": request_jwt(emu.app),
        "nonce": "query-nonce-0123456789",
    }
    _callback(emu.client.get("/oauth/v1/authorize", params=params))
    assert next(iter(emu.state._grants.values())).nonce == "query-nonce-0123456789"
