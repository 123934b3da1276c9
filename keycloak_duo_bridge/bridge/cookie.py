"""The pending step-up, sealed into the browser's cookie so any replica can finish it.

AES-256-GCM with the shared ``KDB_BRIDGE_COOKIE_SECRET``: the browser can neither read nor
alter it. It is bound to Duo's ``state`` (checked in constant time at the callback) and
expires on its own.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import os
from dataclasses import asdict, dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from keycloak_duo_bridge.errors import BridgeError, ConfigError

COOKIE_NAME: Final = "kdb_step_up"
MAX_COOKIE_LENGTH: Final = 4096
_AAD: Final = b"kdb-step-up-cookie-v1"


class CookieError(BridgeError):
    """The cookie is missing, tampered with, expired, or for another Duo transaction."""


@dataclass(frozen=True)
class Pending:
    """Everything the callback needs, without any server-side state."""

    state: str
    duo_nonce: str
    realm: str
    issuer: str
    user_id: str
    username: str
    client_id: str
    nonce: str
    return_url: str
    fingerprint: str
    expires: int
    duo_username: str  # the name Duo knows the user by, under the realm's mapping


def cookie_key(secret: str) -> bytes:
    try:
        key = base64.b64decode(secret, validate=True)
    except binascii.Error:
        raise ConfigError("KDB_BRIDGE_COOKIE_SECRET: not base64") from None
    if len(key) != 32:  # noqa: PLR2004
        raise ConfigError("KDB_BRIDGE_COOKIE_SECRET: must be 32 bytes, base64-encoded")
    return key


def seal_json(data: dict[str, Any], key: bytes, aad: bytes) -> str:
    """``data`` as JSON, AES-256-GCM sealed and bound to ``aad`` (what the value is for)."""
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, json.dumps(data, separators=(",", ":")).encode(), aad)
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")


def open_json(value: str, key: bytes, aad: bytes) -> dict[str, Any]:
    """What :func:`seal_json` sealed; ValueError if it was altered or sealed for another use."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        data = json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], aad))
    except (binascii.Error, ValueError, InvalidTag):
        raise ValueError("sealed value altered") from None
    if not isinstance(data, dict):
        raise ValueError("sealed value altered")  # noqa: TRY004 - the wrong shape is as altered
    return data


def seal(pending: Pending, key: bytes) -> str:
    return seal_json(asdict(pending), key, _AAD)


def open_sealed(value: str | None, key: bytes, *, state: str, now: float) -> Pending:
    if not value:
        raise CookieError("no pending step-up in this browser")
    if len(value) > MAX_COOKIE_LENGTH:
        raise CookieError("the step-up cookie is too large")
    try:
        pending = Pending(**open_json(value, key, _AAD))
    except (ValueError, TypeError):
        raise CookieError("the step-up cookie was tampered with") from None
    if not hmac.compare_digest(pending.state.encode(), state.encode()):
        raise CookieError("the step-up cookie belongs to another Duo transaction")
    if pending.expires < now:
        raise CookieError("the step-up expired")
    return pending


def peek_pending(value: str | None, key: bytes, *, now: float) -> Pending | None:
    """The pending step-up this browser holds, whatever its state; None if none is usable."""
    if not value or len(value) > MAX_COOKIE_LENGTH:
        return None
    try:
        pending = Pending(**open_json(value, key, _AAD))
    except (ValueError, TypeError):
        return None
    return pending if pending.expires >= now else None
