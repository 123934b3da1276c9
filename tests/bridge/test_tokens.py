"""The request and verdict tokens: pure checks, every refusal named."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from keycloak_duo_bridge.bridge import tokens
from keycloak_duo_bridge.bridge.tokens import RequestTokenError
from keycloak_duo_bridge.signing import SigningKey
from keycloak_duo_bridge.verdict import Reason, Result
from tests.step_up_claims import request_claims

ISSUER = "http://kc.example/realms/acme"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
JWK = jwt.PyJWK.from_dict(
    {**jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "kid": "k1"}
)


def request_token(alg: str = "RS256", key: Any = KEY, **changes: Any) -> str:
    claims = request_claims(
        ISSUER,
        sub="user-1",
        azp="app",
        return_url=f"{ISSUER}/login-actions/required-action?x=1",
        groups=["/staff"],
        activated=True,
        cfg="fp",
        jti="j1",
    )
    claims = {k: v for k, v in {**claims, **changes}.items() if v is not None}
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": "k1"})


def verify(token: str) -> tokens.StepUpRequest:
    return tokens.verify_request(token, JWK, issuer=ISSUER, now=time.time())


def test_a_good_request_verifies() -> None:
    """A well-formed token signed by the realm gives the request it carries."""
    request = verify(request_token())
    assert (request.realm, request.user_id, request.username) == ("acme", "user-1", "alice")
    assert request.groups == ("/staff",)
    assert request.activated is True
    assert request.fingerprint == "fp"
    assert verify(request_token(groups="not-a-list", azp=None)).groups == ()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda: request_token(typ="other"), "not a step-up request", id="typ"),
        pytest.param(
            lambda: request_token(exp=int(time.time()) + 3600), "lives too long", id="lifetime"
        ),
        pytest.param(
            lambda: request_token(realm="globex"), "not its issuer's realm", id="item6-realm"
        ),
        pytest.param(
            lambda: request_token(realm=None), "not its issuer's realm", id="item6-no-realm"
        ),
        pytest.param(
            lambda: request_token(preferred_username=None), "lacks 'preferred_username'", id="user"
        ),
        pytest.param(
            lambda: request_token(exp=int(time.time()) - 100), "has expired", id="expired"
        ),
        pytest.param(lambda: request_token(aud="someone"), "does not verify", id="audience"),
        pytest.param(
            lambda: request_token(iss="http://evil/realms/acme"), "does not verify", id="issuer"
        ),
        pytest.param(lambda: request_token("HS256", "k" * 64), "asymmetric", id="hmac"),
        pytest.param(
            lambda: request_token(return_url="http://evil.example/realms/acme/login-actions/x"),
            "outside",
            id="foreign-host",
        ),
        pytest.param(
            lambda: request_token(return_url=f"{ISSUER}/account"), "outside", id="other-path"
        ),
        pytest.param(
            lambda: request_token(return_url=f"{ISSUER}/login-actions/../account"),
            "outside",
            id="dotdot",
        ),
        pytest.param(
            lambda: request_token(return_url=f"{ISSUER}/login-actions/x#frag"),
            "outside",
            id="fragment",
        ),
    ],
)
def test_bad_requests_are_refused(make: Callable[[], str], message: str) -> None:
    """Each defect of a request token is refused with a message naming it (each token is
    made as its test runs, so a slow run cannot expire it first)."""
    token = make()
    with pytest.raises(RequestTokenError, match=message):
        verify(token)


def test_unverified_reads() -> None:
    """Issuer and kid are read before verification only to find the realm's keys."""
    token = tokens.peek(request_token())
    assert token.claims["iss"] == ISSUER
    assert token.kid == "k1"
    tokens.precheck(token, "acme")
    no_kid = jwt.encode({"iss": ISSUER}, KEY, algorithm="RS256")
    assert tokens.peek(no_kid).kid is None
    for bad, message in [("x" * 9000, "too large"), ("garbage", "malformed")]:
        with pytest.raises(RequestTokenError, match=message):
            tokens.peek(bad)
    with pytest.raises(RequestTokenError, match="names no issuer"):
        tokens.peek(jwt.encode({"sub": "x"}, KEY, algorithm="RS256"))


@pytest.mark.parametrize(
    "issuer", ["http://kc/realm/acme", "/realms/acme", "http://kc/realms/a b", "http://kc/realms/"]
)
def test_split_issuer_refuses_foreign_issuers(issuer: str) -> None:
    """Only ``<base>/realms/<realm name>`` is an issuer the bridge knows."""
    with pytest.raises(RequestTokenError, match="unknown Keycloak"):
        tokens.split_issuer(issuer)


def test_split_issuer() -> None:
    """The base and realm name of an issuer."""
    assert tokens.split_issuer(ISSUER) == ("http://kc.example", "acme")


def test_key_for_finds_only_signing_keys() -> None:
    """A JWKS yields the signing key with the kid; encryption keys and junk are skipped."""
    jwk = {**jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "kid": "k1"}
    assert tokens.key_for({"keys": [jwk]}, "k1") is not None
    assert tokens.key_for({"keys": [{**jwk, "use": "enc"}]}, "k1") is None
    assert tokens.key_for({"keys": [{"kid": "k1", "kty": "nope"}]}, "k1") is None
    assert tokens.key_for({"keys": ["junk", jwk]}, "k2") is None


def test_verdict_is_addressed_and_short_lived() -> None:
    """A verdict is ES256 under the bridge key, for the realm, user and nonce given."""
    key = SigningKey.generate()
    outcome = tokens.Verdict(Result.ALLOW, Reason.USER_APPROVED, factor="duo_push", txid="t1")
    signed = tokens.sign_verdict(
        outcome,
        key,
        issuer=ISSUER,
        user_id="u1",
        nonce="n1",
        bridge_url="http://b",
        now=1000.0,
        lifetime=120,
    )
    assert jwt.get_unverified_header(signed)["kid"] == key.kid
    claims = jwt.decode(
        signed,
        key.private.public_key(),
        algorithms=["ES256"],
        audience=ISSUER,
        options={"verify_exp": False},
    )
    assert (claims["sub"], claims["nonce"], claims["result"]) == ("u1", "n1", "allow")
    assert (claims["iat"], claims["exp"], claims["auth_time"]) == (1000, 1120, 1000)


def test_the_request_names_every_client_organization_of_the_user() -> None:
    """``orgs`` gives each member organization with its fingerprint, sorted; a token
    without it names the selected one only, and one of no organization names none."""
    both = verify(request_token(org="o2", org_cfg="g2", orgs={"o2": "g2", "o1": "g1"}))
    assert (both.organization, both.organizations) == ("o2", (("o1", "g1"), ("o2", "g2")))
    assert verify(request_token(org="o1", org_cfg="g1")).organizations == (("o1", "g1"),)
    assert verify(request_token()).organizations == ()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        pytest.param({"orgs": ["o1"]}, "orgs is not an object", id="list"),
        pytest.param({"org": "o1", "orgs": {"o1": 3}}, "malformed organization", id="value"),
        pytest.param({"org": "o1", "orgs": {"": "g1"}}, "malformed organization", id="key"),
        pytest.param({"org": "o1", "org_cfg": "g1", "orgs": {"o2": "g2"}}, "selected", id="out"),
        pytest.param({"orgs": {"o2": "g2"}}, "selected", id="none-selected"),
    ],
)
def test_a_malformed_organization_list_is_refused(changes: dict[str, Any], message: str) -> None:
    """An ``orgs`` claim that is not an id-to-fingerprint object holding the selected
    organization is refused: a signed token from our extension never carries one."""
    with pytest.raises(RequestTokenError, match=message):
        verify(request_token(**changes))
