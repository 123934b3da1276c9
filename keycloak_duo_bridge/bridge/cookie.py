"""The pending step-up, sealed into the browser's cookie so any replica can finish it.

Sealed (:mod:`keycloak_duo_bridge.envelope`) under the cookie key ring every replica shares
(``KDB_BRIDGE_COOKIE_SECRET``): the browser can neither read nor alter it. It is bound to
Duo's ``state`` (checked in constant time at the callback) and expires on its own.
"""

from __future__ import annotations

import hmac
from dataclasses import asdict, dataclass
from typing import Final

from keycloak_duo_bridge.envelope import DecryptionError, KeyRing
from keycloak_duo_bridge.errors import BridgeError

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
    duo_ikey: str = ""  # the application the login started with (a rotation may follow)
    organization: str = ""  # the member's client organization (id), when the login has one
    org_fingerprint: str = ""


def seal(pending: Pending, ring: KeyRing) -> str:
    return ring.seal_json(asdict(pending), _AAD)


def open_sealed(value: str | None, ring: KeyRing, *, state: str, now: float) -> Pending:
    if not value:
        raise CookieError("no pending step-up in this browser")
    if len(value) > MAX_COOKIE_LENGTH:
        raise CookieError("the step-up cookie is too large")
    try:
        pending = Pending(**ring.open_json(value, _AAD))
    except (DecryptionError, TypeError):
        raise CookieError("the step-up cookie was tampered with") from None
    if not hmac.compare_digest(pending.state.encode(), state.encode()):
        raise CookieError("the step-up cookie belongs to another Duo transaction")
    if pending.expires < now:
        raise CookieError("the step-up expired")
    return pending


def peek_pending(value: str | None, ring: KeyRing, *, now: float) -> Pending | None:
    """The pending step-up this browser holds, whatever its state; None if none is usable."""
    if not value or len(value) > MAX_COOKIE_LENGTH:
        return None
    try:
        pending = Pending(**ring.open_json(value, _AAD))
    except (DecryptionError, TypeError):
        return None
    return pending if pending.expires >= now else None
