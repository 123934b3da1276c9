"""Judging Duo's answers: pure functions, every refusal named."""

from __future__ import annotations

import json
from typing import Any

import pytest

from keycloak_duo_bridge.duo import jose, protocol
from keycloak_duo_bridge.duo.protocol import DuoCredentials
from keycloak_duo_bridge.errors import DuoConfigError, DuoProtocolError, DuoUnavailableError

CREDS = DuoCredentials(ikey="DIXXXXXXXXXXXXXXXXXX", skey="s" * 40, api_host="duo.example:443")
NOW = 1_800_000_000.0


def id_token(alg: str = "HS512", secret: str = "s" * 40, **overrides: Any) -> str:
    claims: dict[str, Any] = {
        "iss": CREDS.token_url,
        "aud": CREDS.ikey,
        "exp": NOW + 300,
        "iat": NOW,
        "nonce": "n" * 20,
        "preferred_username": "alice",
        "auth_result": {"status": "allow"},
    }
    claims.update(overrides)
    return jose.encode({k: v for k, v in claims.items() if v is not None}, secret, alg)


def verify(token: str) -> dict[str, Any]:
    return protocol.verify_id_token(token, CREDS, username="Alice", nonce="n" * 20, now=NOW)


def test_a_good_token_verifies() -> None:
    """A correct token verifies; the username matches ignoring case; aud may be a list."""
    assert protocol.auth_status(verify(id_token())) == "allow"
    assert verify(id_token(aud=["other", CREDS.ikey]))["preferred_username"] == "alice"
    assert verify(id_token(exp=NOW - 59))  # within the 60 s leeway


@pytest.mark.parametrize(
    ("token", "message"),
    [
        pytest.param(id_token(secret="t" * 40), "does not verify", id="wrong-secret"),
        pytest.param("not.a.jwt", "does not verify", id="garbage"),
        pytest.param(id_token(alg="HS256"), "not signed HS512", id="hs256"),
        pytest.param(id_token(iss=CREDS.token_url + "/"), "wrong issuer", id="issuer"),
        pytest.param(id_token(aud="someone-else"), "another client", id="audience"),
        pytest.param(id_token(exp=NOW - 61), "expired", id="expired"),
        pytest.param(id_token(exp=None), "no numeric 'exp'", id="no-exp"),
        pytest.param(id_token(iat=True), "no numeric 'iat'", id="bool-iat"),
        pytest.param(id_token(iat=NOW + 61), "in the future", id="future"),
        pytest.param(id_token(nonce="x" * 20), "nonce", id="nonce"),
        pytest.param(id_token(preferred_username="bob"), "another user", id="user"),
        pytest.param(id_token(preferred_username=None), "another user", id="no-user"),
    ],
)
def test_bad_tokens_are_refused(token: str, message: str) -> None:
    """Each defect of an id_token is a DuoProtocolError naming it."""
    with pytest.raises(DuoProtocolError, match=message):
        verify(token)


def test_auth_status_without_result() -> None:
    """A token without auth_result reads as status 'unknown', never as allow."""
    assert protocol.auth_status({}) == "unknown"
    assert protocol.auth_status({"auth_result": "allow"}) == "unknown"


def body(value: object) -> bytes:
    return json.dumps(value).encode()


def test_judge_health() -> None:
    """OK passes; FAIL is a config error with Duo's detail; 5xx is an outage."""
    protocol.judge_health(200, body({"stat": "OK", "response": {"timestamp": 1}}))
    fail = {"stat": "FAIL", "code": 40002, "message": "invalid_client", "message_detail": "bad"}
    with pytest.raises(DuoConfigError, match="invalid_client: bad"):
        protocol.judge_health(400, body(fail))
    with pytest.raises(DuoConfigError, match=r"refused the integration: error$"):
        protocol.judge_health(400, body({"stat": "FAIL"}))
    with pytest.raises(DuoUnavailableError, match="HTTP 503"):
        protocol.judge_health(503, b"<html>")


def test_judge_token_response() -> None:
    """The token answer yields the id_token, or the right kind of error."""
    ok = {"id_token": "t", "access_token": "a", "expires_in": 3600, "token_type": "Bearer"}
    assert protocol.judge_token_response(200, body(ok)) == "t"
    with pytest.raises(DuoProtocolError, match="invalid_grant"):
        protocol.judge_token_response(400, body({"error": "invalid_grant"}))
    with pytest.raises(DuoConfigError, match="invalid_client: nope"):
        protocol.judge_token_response(
            401, body({"error": "invalid_client", "error_description": "nope"})
        )
    with pytest.raises(DuoProtocolError, match="lacks an id_token"):
        protocol.judge_token_response(200, body({**ok, "token_type": "mac"}))
    with pytest.raises(DuoUnavailableError, match="HTTP 502"):
        protocol.judge_token_response(502, b"bad gateway")


def test_requests_are_signed_for_their_endpoint() -> None:
    """Assertions carry iss=sub=ikey and aud=the endpoint; the authorize URL carries the JWT."""
    form = protocol.token_form(CREDS, code="c", redirect_uri="https://r", now=NOW, jti="j")
    claims = jose.decode(form["client_assertion"], CREDS.skey)
    assert (claims["iss"], claims["sub"], claims["aud"]) == (
        CREDS.ikey,
        CREDS.ikey,
        "https://duo.example:443/oauth/v1/token",
    )
    url = protocol.authorize_url(
        CREDS, redirect_uri="https://r", state="s" * 20, username="alice", nonce="n" * 20, now=NOW
    )
    assert url.startswith("https://duo.example:443/oauth/v1/authorize?response_type=code&")
    assert repr(CREDS).count("s" * 40) == 0


@pytest.mark.parametrize("status", [200, 302, 400, 404, 408, 429])
def test_item5_non_json_answers_below_500_are_faults_not_outages(status: int) -> None:
    """A non-JSON answer under 500 (wrong host, a proxy, a stray 408) never reads as an outage."""
    for answer in (b"<html>", b"", body(["list"])):
        with pytest.raises(DuoConfigError, match=f"HTTP {status} without JSON"):
            protocol.judge_health(status, answer)
        with pytest.raises(DuoProtocolError, match=f"HTTP {status} without JSON"):
            protocol.judge_token_response(status, answer)


@pytest.mark.parametrize(
    "host",
    ["api-1234abcd.duosecurity.com", "API-1234ABCD.DUOSECURITY.COM", "api-9f8e7d6c.duofederal.com"],
)
def test_item12_duo_api_hostnames_are_accepted(host: str) -> None:
    """Duo's own API hostnames (commercial and Federal) pass the host check."""
    protocol.check_api_host(host, allow_any_host=False)


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1:8443",
        "localhost",
        "169.254.169.254",
        "duosecurity.com",
        "api-1234abcd.duosecurity.com:8443",
        "api-1234abcd.duosecurity.com.evil.example",
        "evil-api-1234abcd.duosecurity.com",
        "api-1234abcd.evil.example",
        "api-.duosecurity.com",
        "admin-1234abcd.duosecurity.com",
    ],
)
def test_item12_other_hosts_are_refused_unless_allowed(host: str) -> None:
    """Anything else is a configuration fault; KDB_DUO_ALLOW_ANY_HOST lets emulators through."""
    with pytest.raises(DuoConfigError, match="not a Duo API hostname"):
        protocol.check_api_host(host, allow_any_host=False)
    protocol.check_api_host(host, allow_any_host=True)
