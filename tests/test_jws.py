"""Compact JWS parsing and verification: one parse per token, PyJWT's algorithms."""

from __future__ import annotations

import base64

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from keycloak_duo_bridge import jws
from keycloak_duo_bridge.duo import jose

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def published(private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, alg: str) -> jwt.PyJWK:
    """The public JWK of ``private`` as a realm publishes it (with ``alg``)."""
    algorithm = jwt.get_algorithm_by_name(alg)
    return jwt.PyJWK({**algorithm.to_jwk(private.public_key(), as_dict=True), "alg": alg})


def test_parse_reads_header_claims_and_signature_once() -> None:
    """A token parses into header, claims, signing input and signature."""
    token = jwt.encode({"sub": "u"}, RSA_KEY, algorithm="RS256", headers={"kid": "k1"})
    parsed = jws.parse(token)
    assert (parsed.algorithm, parsed.kid, parsed.claims) == ("RS256", "k1", {"sub": "u"})
    assert parsed.signing_input == token.rpartition(".")[0].encode()
    jws.verify_with_key(parsed, published(RSA_KEY, "RS256"), ["RS256"])


@pytest.mark.parametrize(
    "token",
    [
        "a.b",
        "a.b.c.d",
        "e30!.e30.c2ln",
        "e.e30.c2ln",
        "bm90LWpzb24.e30.c2ln",
        "W10.e30.c2ln",
        "eyJjcml0IjpbImV4cCJdfQ.e30.c2ln",
        "eyJiNjQiOmZhbHNlfQ.e30.c2ln",
        "e30.W10.c2ln",
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    """Wrong shape, bad base64, non-object JSON, crit and b64=false headers are refused."""
    with pytest.raises(jws.JwsError):
        jws.parse(token)


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("header", "payload", "part"),
    [
        ('{"alg":"RS256","alg":"none"}', "{}", "header"),
        ('{"alg":"RS256","kid":"a","kid":"b"}', "{}", "header"),
        ('{"alg":"RS256"}', '{"sub":"u","sub":"v"}', "payload"),
        (
            '{"alg":"RS256"}',
            (
                '{"resource_access":{"realm-management":{"roles":[]},'
                '"realm-management":{"roles":["manage-realm"]}}}'
            ),
            "payload",
        ),
        ('{"alg":"RS256"}', '{"a":[{"b":1,"b":2}]}', "payload"),
    ],
)
def test_repeated_member_names_are_refused(header: str, payload: str, part: str) -> None:
    """A header or payload naming a member twice, at any depth, is refused before any use."""
    with pytest.raises(jws.JwsError, match=f"the {part} repeats a member name"):
        jws.parse(f"{_b64(header)}.{_b64(payload)}.c2ln")


def test_same_name_in_different_objects_is_no_repetition() -> None:
    """One name in sibling or nested objects is not a repetition."""
    payload = _b64('{"a":{"a":1},"b":{"a":2}}')
    parsed = jws.parse(f"{_b64('{}')}.{payload}.c2ln")
    assert parsed.claims == {"a": {"a": 1}, "b": {"a": 2}}


REPEATED_ISSUER = '{"iss":"a","iss":"b"}'


def test_repeated_members_are_refused_by_the_duo_reader() -> None:
    """The Duo and emulator side (duo.jose) reads through the same parser."""
    with pytest.raises(jose.JoseError):
        jose.unverified_claims(f"{_b64('{}')}.{_b64(REPEATED_ISSUER)}.c2ln")


def test_header_without_strings_has_no_algorithm_or_kid() -> None:
    """Non-string alg and kid read as absent."""
    header = base64.urlsafe_b64encode(b'{"alg":1,"kid":2}').decode().rstrip("=")
    parsed = jws.parse(f"{header}.e30.c2ln")
    assert (parsed.algorithm, parsed.kid) == (None, None)
    with pytest.raises(jws.JwsError, match="not accepted"):
        jws.verify_with_key(parsed, published(RSA_KEY, "RS256"), ["RS256"])


def test_asymmetric_verification_refuses_confusion_and_forgery() -> None:
    """HMAC, another key's algorithm, an unlisted algorithm and a wrong key are refused."""
    rs = jws.parse(jwt.encode({"a": 1}, RSA_KEY, algorithm="RS256"))
    es = jws.parse(jwt.encode({"a": 1}, EC_KEY, algorithm="ES256"))
    hs = jws.parse(jwt.encode({"a": 1}, "s" * 64, algorithm="HS256"))
    with pytest.raises(jws.JwsError, match="not accepted"):
        jws.verify_with_key(hs, published(RSA_KEY, "RS256"), ["RS256", "HS256"])
    with pytest.raises(jws.JwsError, match="not its key's"):
        jws.verify_with_key(es, published(RSA_KEY, "RS256"), ["RS256", "ES256"])
    with pytest.raises(jws.JwsError, match="not accepted"):
        jws.verify_with_key(es, published(EC_KEY, "ES256"), ["RS256"])
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(jws.JwsError, match="Signature verification failed"):
        jws.verify_with_key(rs, published(other, "RS256"), ["RS256"])
    unnamed = jwt.PyJWK(
        jwt.get_algorithm_by_name("ES256").to_jwk(EC_KEY.public_key(), as_dict=True)
    )
    jws.verify_with_key(es, unnamed, ["ES256"])
    with pytest.raises(jws.JwsError, match="not its key's"):
        jws.verify_with_key(rs, unnamed, ["RS256"])


def test_hmac_verification() -> None:
    """HMAC tokens verify with their secret and algorithm only."""
    token = jws.parse(jose.encode({"a": 1}, "s" * 40, "HS256"))
    jws.verify_hmac(token, "s" * 40, ["HS256"])
    with pytest.raises(jws.JwsError, match="not accepted"):
        jws.verify_hmac(token, "s" * 40, ["HS512"])
    with pytest.raises(jws.JwsError, match="Signature verification failed"):
        jws.verify_hmac(token, "t" * 40, ["HS256"])


def test_jose_tokens_match_pyjwt() -> None:
    """Our HS512 tokens are the ones PyJWT makes, and PyJWT's verify with us."""
    claims = {"iss": "DI", "n": 1}
    ours = jose.encode(claims, "k" * 64)
    assert ours == jwt.encode(claims, "k" * 64, algorithm="HS512")
    assert jose.decode(jwt.encode(claims, "k" * 64, algorithm="HS256"), "k" * 64) == claims
    with pytest.raises(jose.JoseError):
        jose.encode(claims, "k", "RS256")
