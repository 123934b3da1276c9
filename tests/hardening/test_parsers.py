"""Hostile input to every parser the bridge has: only its own errors, never a crash or a leak."""

from __future__ import annotations

import contextlib
import json
import os
import time
from typing import Any

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keycloak_duo_bridge.bridge import cookie, tokens
from keycloak_duo_bridge.duo import jose, protocol
from keycloak_duo_bridge.duo.protocol import DuoCredentials
from keycloak_duo_bridge.envelope import KeyRing
from keycloak_duo_bridge.errors import DuoError
from keycloak_duo_bridge.signing import SigningKey
from keycloak_duo_bridge.verdict import Result
from tests.bridge_fakes import ISSUER, JWK, KEY, json_values
from tests.step_up_claims import request_claims

COOKIE_KEY = KeyRing.of_keys(os.urandom(32))
BRIDGE_KEY = SigningKey.generate()
CREDS = DuoCredentials(ikey="DIXXXXXXXXXXXXXXXXXX", skey="s" * 40, api_host="duo.example")
SECRETS = (CREDS.skey,)

claim_names = st.sampled_from(
    ["iss", "aud", "sub", "exp", "iat", "nonce", "typ", "realm", "return_url", "groups", "cfg"]
)
claim_sets = st.dictionaries(claim_names | st.text(max_size=8), json_values, max_size=12)
jwt_shaped = st.lists(
    st.text(alphabet="ABCDEFGHabcdefgh0123456789-_=.", max_size=40), min_size=1, max_size=4
).map(".".join)
hostile_text = st.text(max_size=300) | jwt_shaped | st.binary(max_size=200).map(bytes.hex)


def good_request_claims() -> dict[str, Any]:
    return request_claims(ISSUER)


@given(hostile_text)
def test_unverified_request_parsing_fails_only_with_request_errors(token: str) -> None:
    """Any text as a request token gives an issuer, a realm, or a RequestTokenError."""
    try:
        parsed = tokens.peek(token)
        _, realm = tokens.split_issuer(str(parsed.claims["iss"]))
        tokens.precheck(parsed, realm)
        assert parsed.kid is None or isinstance(parsed.kid, str)
    except tokens.RequestTokenError:
        pass


@given(claim_sets)
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_signed_requests_with_any_claims_verify_or_are_refused(changes: dict[str, Any]) -> None:
    """A request token the realm really signed, with any claims, verifies or is refused cleanly."""
    claims = {**good_request_claims(), **changes}
    payload = json.dumps(claims).encode()  # PyJWS: no client-side checks on the claims
    token = jwt.PyJWS().encode(payload, KEY, algorithm="RS256", headers={"kid": "rk"})
    key = tokens.key_for({"keys": [JWK]}, "rk")
    assert key is not None
    try:
        request = tokens.verify_request(token, key, issuer=ISSUER, now=time.time())
    except tokens.RequestTokenError:
        return
    tokens.check_return_url(request.return_url, ISSUER)  # what verified is safe to redirect to


@given(hostile_text, hostile_text)
def test_return_urls_outside_login_actions_are_refused(path: str, query: str) -> None:
    """A return URL is accepted only under the realm's login-actions path, never elsewhere."""
    url = f"{ISSUER}/{path}?{query}"
    try:
        tokens.check_return_url(url, ISSUER)
    except tokens.RequestTokenError:
        return
    assert url.startswith(f"{ISSUER}/login-actions/")


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=6))
def test_jwks_of_any_shape_give_a_key_or_none(entry: dict[str, Any]) -> None:
    """Whatever a realm's JWKS holds, key lookup returns the key with that kid, or None."""
    found = tokens.key_for({"keys": [{**entry, "kid": "k"}, entry]}, "k")
    assert found is None or found.key_id == "k"


texts = st.text(max_size=60)


@given(st.sampled_from(Result), texts, texts, texts, texts)
def test_verdicts_round_trip_and_verify_only_with_the_bridge_key(
    result: Result, reason: str, user: str, nonce: str, factor: str
) -> None:
    """Any verdict content is signed ES256, verifies with the bridge's key and reads back."""
    outcome = tokens.Verdict(result, reason, factor=factor)
    signed = tokens.sign_verdict(
        outcome,
        BRIDGE_KEY,
        issuer=ISSUER,
        user_id=user,
        nonce=nonce,
        bridge_url="http://bridge",
        now=time.time(),
        lifetime=60,
    )
    public = BRIDGE_KEY.private.public_key()
    claims = jwt.decode(signed, public, algorithms=["ES256"], audience=ISSUER)
    assert (claims["result"], claims["reason"], claims["sub"], claims["nonce"]) == (
        result,
        reason,
        user,
        nonce,
    )
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(signed, SigningKey.generate().private.public_key(), algorithms=["ES256"])


@given(st.none() | hostile_text, texts, st.floats(allow_nan=False))
def test_any_cookie_opens_or_is_refused(value: str | None, state: str, now: float) -> None:
    """Any cookie value and state give the pending step-up of that very state, unexpired, or
    a CookieError, nothing else."""
    with contextlib.suppress(cookie.CookieError):
        opened = cookie.open_sealed(value, COOKIE_KEY, state=state, now=now)
        assert opened.state == state
        assert opened.expires >= now


@given(st.builds(cookie.Pending, *[texts] * 10, expires=st.integers(0, 2**40)))
def test_sealed_cookies_round_trip_and_resist_bit_flips(pending: cookie.Pending) -> None:
    """Any pending step-up seals and opens; flipping a character makes it refused."""
    sealed = cookie.seal(pending, COOKIE_KEY)
    assert cookie.open_sealed(sealed, COOKIE_KEY, state=pending.state, now=0) == pending
    middle = len(sealed) // 2  # the last character may hold only padding bits
    flipped = sealed[:middle] + ("A" if sealed[middle] != "A" else "B") + sealed[middle + 1 :]
    with pytest.raises(cookie.CookieError):
        cookie.open_sealed(flipped, COOKIE_KEY, state=pending.state, now=0)


statuses = st.integers(100, 599)
bodies = st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode())


def _no_secret(exc: BaseException) -> None:
    for secret in SECRETS:
        assert secret not in str(exc)


@given(statuses, bodies)
def test_duo_health_answers_judged_without_crash(status: int, body: bytes) -> None:
    """Any health-check answer is OK or a Duo error that names no secret."""
    try:
        protocol.judge_health(status, body)
    except DuoError as exc:
        _no_secret(exc)


@given(statuses, bodies)
def test_duo_token_answers_judged_without_crash(status: int, body: bytes) -> None:
    """Any token-endpoint answer yields an id_token string or a Duo error."""
    try:
        assert isinstance(protocol.judge_token_response(status, body), str)
    except DuoError as exc:
        _no_secret(exc)


@given(claim_sets | st.dictionaries(st.text(max_size=8), json_values, max_size=6))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_duo_id_tokens_with_any_claims_verify_or_are_refused(claims: dict[str, Any]) -> None:
    """An id_token signed with the right secret but any claims verifies or is a DuoError."""
    token = jose.encode(claims, CREDS.skey)
    try:
        verified = protocol.verify_id_token(
            token, CREDS, username="alice", nonce="n", now=time.time()
        )
    except DuoError as exc:
        _no_secret(exc)
        return
    assert verified["nonce"] == "n"
    protocol.auth_status(verified)


@given(hostile_text)
def test_duo_id_tokens_of_any_text_are_refused(token: str) -> None:
    """Arbitrary text as an id_token is refused as a protocol error."""
    with pytest.raises(DuoError):
        protocol.verify_id_token(token, CREDS, username="alice", nonce="n", now=time.time())
