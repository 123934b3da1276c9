"""The bridge's ES256 verdict-signing key and its public JWKS."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from keycloak_duo_bridge.errors import ConfigError
from keycloak_duo_bridge.sandbox import secrets
from keycloak_duo_bridge.settings import load_settings, signing_key
from keycloak_duo_bridge.signing import SigningKey, jwks


def test_pem_round_trip_keeps_the_key_id() -> None:
    """A key written as PEM and read back has the same thumbprint key id."""
    key = SigningKey.generate()
    again = SigningKey.from_pem(key.to_pem())
    assert again.kid == key.kid
    assert repr(key) == f"SigningKey(kid={key.kid!r})"


def test_jwks_holds_public_parts_only() -> None:
    """The JWKS has kty/crv/x/y/kid/alg/use for each key, and no private 'd'."""
    first, second = SigningKey.generate(), SigningKey.generate()
    published = jwks(first, second)
    assert [k["kid"] for k in published["keys"]] == [first.kid, second.kid]
    for jwk in published["keys"]:
        assert set(jwk) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
        assert (jwk["kty"], jwk["crv"], jwk["alg"]) == ("EC", "P-256", "ES256")


def pem_of(private: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        pytest.param("garbage", "not an unencrypted PEM", id="garbage"),
        pytest.param(
            pem_of(rsa.generate_private_key(65537, 2048)), "must be an EC P-256", id="rsa"
        ),
        pytest.param(pem_of(ec.generate_private_key(ec.SECP384R1())), "curve P-256", id="p384"),
    ],
)
def test_bad_keys_are_refused(pem: str, message: str) -> None:
    """Only unencrypted EC P-256 PEM keys are accepted."""
    with pytest.raises(ConfigError, match=message):
        SigningKey.from_pem(pem)


def test_signing_key_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings give the signing key, or name the variable to set."""
    with pytest.raises(ConfigError, match="KDB_BRIDGE_SIGNING_KEY must be set"):
        signing_key(load_settings())
    key = SigningKey.generate()
    monkeypatch.setenv("KDB_BRIDGE_SIGNING_KEY", key.to_pem())
    assert signing_key(load_settings()).kid == key.kid


def test_sandbox_secrets_are_made_once(tmp_path: Path) -> None:
    """The sandbox generates its key ring and signing key once and keeps them private."""
    first = secrets.ensure(tmp_path)
    assert secrets.ensure(tmp_path) == first
    assert (tmp_path / "sandbox-secrets.json").stat().st_mode & 0o777 == 0o600
    settings = load_settings(
        keyring=first["KDB_KEYRING"],
        active_key_id=first["KDB_ACTIVE_KEY_ID"],
        bridge_signing_key=first["KDB_BRIDGE_SIGNING_KEY"],
    )
    assert signing_key(settings).kid


def test_sandbox_secrets_gain_what_an_older_state_dir_lacks(tmp_path: Path) -> None:
    """A state dir from before the metrics token gets one, keeping its other secrets."""
    first = secrets.ensure(tmp_path)
    path = tmp_path / "sandbox-secrets.json"
    stored = json.loads(path.read_text())
    del stored["KDB_METRICS_TOKEN"]
    path.write_text(json.dumps(stored))
    again = secrets.ensure(tmp_path)
    assert again["KDB_KEYRING"] == first["KDB_KEYRING"]
    assert again["KDB_METRICS_TOKEN"]
    assert again["KDB_DUO_ALLOW_ANY_HOST"] == "true"
