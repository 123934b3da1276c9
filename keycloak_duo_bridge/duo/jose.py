"""HS512/HS256 JSON Web Tokens as Duo signs and verifies them, without key-length warnings.

Duo's client secrets are 40 characters by design, so PyJWT warns on every HS512 call
(``InsecureKeyLengthWarning``: it recommends 64 bytes). The emulator runs in a thread next to
the code under test, and ``warnings.catch_warnings`` is not thread-safe before Python 3.14: it
swaps the process-wide filter list, so a local suppression here could undo a filter another
thread (pytest, for one) has just installed. Instead the emulator uses its own ``PyJWS``
instance whose HMAC algorithms skip only that length check. Nothing global changes.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import jwt
from jwt.algorithms import HMACAlgorithm

__all__ = ["ALGORITHMS", "JoseError", "decode", "encode", "unverified_claims", "unverified_header"]

ALGORITHMS = ("HS512", "HS256")


class JoseError(ValueError):
    """A token is malformed, uses another algorithm, or its signature does not verify."""


class _DuoHMAC(HMACAlgorithm):
    """HMAC without PyJWT's minimum-length advice: Duo secrets are 40 characters."""

    def check_key_length(self, key: bytes) -> str | None:
        del key
        return None


_JWS = jwt.PyJWS(algorithms=list(ALGORITHMS))
_JWS.unregister_algorithm("HS512")
_JWS.unregister_algorithm("HS256")
_JWS.register_algorithm("HS512", _DuoHMAC(hashlib.sha512))
_JWS.register_algorithm("HS256", _DuoHMAC(hashlib.sha256))


def encode(claims: dict[str, Any], secret: str, algorithm: str = "HS512") -> str:
    """Sign ``claims`` with ``secret`` (header ``{"alg", "typ": "JWT"}``, as PyJWT writes it)."""
    payload = json.dumps(claims, separators=(",", ":")).encode()
    return _JWS.encode(payload, secret, algorithm=algorithm, headers={"typ": "JWT"})


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, read without checking the signature."""
    try:
        return dict(_JWS.get_unverified_header(token))
    except jwt.PyJWTError as exc:
        raise JoseError(str(exc)) from exc


def unverified_claims(token: str) -> dict[str, Any]:
    """The claims, read without checking the signature (to learn who claims to sign)."""
    try:
        payload = _JWS.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise JoseError(str(exc)) from exc
    return _claims_object(payload)


def decode(token: str, secret: str) -> dict[str, Any]:
    """Verify an HS512 or HS256 signature made with ``secret`` and return the claims."""
    try:
        payload = _JWS.decode(token, secret, algorithms=list(ALGORITHMS))
    except jwt.PyJWTError as exc:
        raise JoseError(str(exc)) from exc
    return _claims_object(payload)


def _claims_object(payload: bytes) -> dict[str, Any]:
    try:
        claims = json.loads(payload)
    except ValueError as exc:
        raise JoseError("the payload is not JSON") from exc
    if not isinstance(claims, dict):
        raise JoseError("the payload is not a JSON object")
    return claims
