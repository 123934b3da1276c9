"""HS512/HS256 JSON Web Tokens as Duo signs and verifies them.

Duo's client secrets are 40 characters by design; PyJWT warns on every HS512 call with such
a key (``InsecureKeyLengthWarning``), and a local ``warnings.catch_warnings`` is not
thread-safe before Python 3.14 (the emulator runs in a thread next to the code under test).
So these tokens are made and checked with :mod:`keycloak_duo_bridge.jws` and the standard
library's HMAC: compact JWS, header ``{"alg", "typ": "JWT"}`` as PyJWT writes it, signatures
compared in constant time. Nothing global changes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any, Final

from keycloak_duo_bridge import jws

__all__ = ["ALGORITHMS", "JoseError", "decode", "encode", "unverified_claims", "unverified_header"]

ALGORITHMS: Final = ("HS512", "HS256")
_DIGESTS: Final = {"HS512": hashlib.sha512, "HS256": hashlib.sha256}


class JoseError(ValueError):
    """A token is malformed, uses another algorithm, or its signature does not verify."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def encode(claims: dict[str, Any], secret: str, algorithm: str = "HS512") -> str:
    """Sign ``claims`` with ``secret`` (header ``{"alg", "typ": "JWT"}``, as PyJWT writes it)."""
    if algorithm not in _DIGESTS:
        raise JoseError(f"algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
    header = _json({"alg": algorithm, "typ": "JWT"})
    signing_input = f"{_b64(header)}.{_b64(_json(claims))}".encode("ascii")
    signature = hmac.new(secret.encode(), signing_input, _DIGESTS[algorithm]).digest()
    return f"{signing_input.decode('ascii')}.{_b64(signature)}"


def _parse(token: str) -> jws.Jws:
    try:
        return jws.parse(token)
    except jws.JwsError as exc:
        raise JoseError(str(exc)) from None


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, read without checking the signature."""
    return _parse(token).header


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims, read without checking the signature (to learn who claims to sign)."""
    return _parse(token).claims


def decode_complete(token: str, secret: str) -> jws.Jws:
    """Verify an HS512 or HS256 signature made with ``secret``; the header and claims."""
    parsed = _parse(token)
    try:
        jws.verify_hmac(parsed, secret, ALGORITHMS)
    except jws.JwsError as exc:
        raise JoseError(str(exc)) from None
    return parsed


def decode(token: str, secret: str) -> dict[str, Any]:
    """Verify an HS512 or HS256 signature made with ``secret`` and return the claims."""
    return decode_complete(token, secret).claims
