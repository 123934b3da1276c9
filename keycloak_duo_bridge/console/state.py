"""What the console keeps in the browser, sealed: sign-in transactions, sessions, activations.

Each is sealed (:mod:`keycloak_duo_bridge.envelope`) under the cookie key ring and bound (as
AAD) to its kind, so a value sealed for one purpose never opens as another; each carries its
own expiry. The bridge keeps no server-side state, so any replica serves any request.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Final, Self

from keycloak_duo_bridge.api.auth import Caller
from keycloak_duo_bridge.bridge.cookie import MAX_COOKIE_LENGTH
from keycloak_duo_bridge.envelope import DecryptionError, KeyRing

ADMIN: Final = "admin"
ACCOUNT: Final = "account"
_NAME_ROOM: Final = 64  # browsers count the cookie's name within its 4096 bytes


class _Sealed:
    """A frozen dataclass that seals into a cookie value and opens from one."""

    expires: int

    @classmethod
    def _aad(cls) -> bytes:
        return f"kdb-console-{cls.__name__}-v1".encode()

    def seal(self, ring: KeyRing) -> str:
        return ring.seal_json(asdict(self), self._aad())  # type: ignore[call-overload]

    @classmethod
    def open(cls, value: str | None, ring: KeyRing, *, now: float) -> Self | None:
        """The sealed value, or None when missing, altered, foreign or expired."""
        if not value or len(value) > MAX_COOKIE_LENGTH:
            return None
        try:
            data = ring.open_json(value, cls._aad())
            if set(data) != {f.name for f in fields(cls)}:  # type: ignore[arg-type]
                return None
            opened = cls(**data)
            fresh = opened.expires >= now  # TypeError if a sealed expiry is not a number
        except (DecryptionError, TypeError):
            return None
        return opened if fresh else None


@dataclass(frozen=True)
class SignIn(_Sealed):
    """An authorization request in flight: PKCE verifier, state and nonce."""

    kind: str
    realm: str
    state: str
    verifier: str
    nonce: str
    expires: int

    def matches(self, state: str) -> bool:
        return hmac.compare_digest(self.state.encode(), state.encode())


@dataclass(frozen=True)
class Session(_Sealed):
    """A signed-in person: which realm and user (``sub``), and the form token.

    It holds no name and no rights: those are read from Keycloak on each request
    (:class:`SignedIn`), so a token's claims never decide them. It keeps the sign-in's ID
    token, sealed like the rest and never logged, only to end Keycloak's session at sign-out
    (``id_token_hint``), and when the sign-in's Duo step-up passed (its ``duo.time`` claim),
    for the self-service page to show.
    """

    kind: str
    realm: str
    subject: str
    csrf: str
    expires: int
    id_token: str = field(default="", repr=False)
    duo_passed: int | None = None

    @classmethod
    def of(
        cls,
        kind: str,
        realm: str,
        subject: str,
        *,
        expires: int,
        id_token: str = "",
        duo_passed: int | None = None,
    ) -> Session:
        return cls(kind, realm, subject, secrets.token_urlsafe(32), expires, id_token, duo_passed)

    def seal_within_limit(self, key: KeyRing) -> str:
        """The sealed session; without the ID token if that would not fit in a cookie
        (sign-out then asks Keycloak to confirm instead)."""
        sealed = self.seal(key)
        if len(sealed) <= MAX_COOKIE_LENGTH - _NAME_ROOM:
            return sealed
        return replace(self, id_token="").seal(key)

    def csrf_ok(self, token: Any) -> bool:
        return isinstance(token, str) and hmac.compare_digest(self.csrf.encode(), token.encode())


@dataclass(frozen=True)
class SignedIn:
    """A session, and its person as Keycloak knows them now (username, enabled, roles)."""

    session: Session
    caller: Caller

    @property
    def realm(self) -> str:
        return self.session.realm

    @property
    def subject(self) -> str:
        return self.session.subject

    @property
    def username(self) -> str:
        return self.caller.username

    @property
    def csrf(self) -> str:
        return self.session.csrf

    def csrf_ok(self, token: Any) -> bool:
        return self.session.csrf_ok(token)


@dataclass(frozen=True)
class PendingActivation(_Sealed):
    """A Duo activation in flight, bound to Duo's state, for the signed-in user."""

    realm: str
    subject: str
    username: str  # the user's Duo username, under the realm's mapping
    state: str
    duo_nonce: str
    expires: int

    def matches(self, state: str) -> bool:
        return hmac.compare_digest(self.state.encode(), state.encode())
