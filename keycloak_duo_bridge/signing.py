"""The bridge's verdict-signing key (ES256, P-256) and its public JWKS.

The private key never leaves the bridge; realms store only the public JWKS (attribute
``kdb.bridge.jwks``), which the extension uses to verify verdicts. Several public keys may
be published at once, so a key can rotate while old verdicts are still in flight.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from keycloak_duo_bridge.errors import ConfigError


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SigningKey:
    """An EC P-256 private key with its RFC 7638 thumbprint as key id."""

    private: ec.EllipticCurvePrivateKey = field(repr=False)
    kid: str

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r})"

    @classmethod
    def generate(cls) -> SigningKey:
        return cls.from_private(ec.generate_private_key(ec.SECP256R1()))

    @classmethod
    def from_private(cls, private: ec.EllipticCurvePrivateKey) -> SigningKey:
        if not isinstance(private.curve, ec.SECP256R1):
            raise ConfigError("KDB_BRIDGE_SIGNING_KEY: the key must be on curve P-256 (ES256)")
        return cls(private=private, kid=thumbprint(public_jwk_of(private.public_key())))

    @classmethod
    def from_pem(cls, pem: str) -> SigningKey:
        try:
            private = serialization.load_pem_private_key(pem.encode(), password=None)
        except (ValueError, TypeError):
            raise ConfigError(
                "KDB_BRIDGE_SIGNING_KEY: not an unencrypted PEM private key"
            ) from None
        if not isinstance(private, ec.EllipticCurvePrivateKey):
            raise ConfigError("KDB_BRIDGE_SIGNING_KEY: the key must be an EC P-256 key (ES256)")
        return cls.from_private(private)

    def to_pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode("ascii")

    def public_jwk(self) -> dict[str, str]:
        return {
            **public_jwk_of(self.private.public_key()),
            "kid": self.kid,
            "alg": "ES256",
            "use": "sig",
        }


def public_jwk_of(public: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": _b64(numbers.x.to_bytes(32, "big")),
        "y": _b64(numbers.y.to_bytes(32, "big")),
    }


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 thumbprint of an EC public JWK."""
    canonical = json.dumps(
        {k: jwk[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True
    )
    return _b64(hashlib.sha256(canonical.encode()).digest())


def jwks(*keys: SigningKey) -> dict[str, Any]:
    """The public JWKS to store on realms: public parts only."""
    return {"keys": [key.public_jwk() for key in keys]}
