"""Who calls the admin API, and what they may manage: Bearer tokens issued by Keycloak.

A token is verified against the JWKS of the realm that issued it, fetched from the
configured Keycloak (never from the URL in the token), so its signature proves the realm
and the subject. Only access tokens (``typ: Bearer``) signed asymmetrically are accepted,
and a token whose header or payload repeats a member name is refused (:mod:`..jws`).

The token proves *who*, nothing more. *What they may do* comes from Keycloak's own state,
read with the service's admin identity (:func:`caller_from_keycloak`): the user fetched by
the token's ``sub`` (its username, and whether it is enabled) and the user's effective
(composite) role mappings. Role claims (``realm_access``, ``resource_access``) and
``preferred_username`` are never read: a protocol mapper that a ``manage-clients`` admin
may add can write them with any value. :class:`Identities` keeps each answer a few seconds.

Authorization (pure, :func:`may_manage`):

* an admin of the admin realm (``master``: effective realm role ``admin``) manages every tenant;
* a realm's admins (effective ``realm-management`` role ``manage-realm`` in that realm)
  manage it;
* so do a partner's admins, and also the partner's client realms: those linked to it from
  both sides (the client names the partner, the partner names the client; see
  :func:`~keycloak_duo_bridge.admin.tenants.is_linked`), so a realm cannot put itself
  under a partner, nor can a partner claim a realm;
* anyone else manages nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from starlette.concurrency import run_in_threadpool

from keycloak_duo_bridge import jws
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.tenants import Tenant, is_linked
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.bridge.tokens import key_for
from keycloak_duo_bridge.errors import BridgeError, NotFoundError
from keycloak_duo_bridge.realm_names import REALM_NAME

ALGORITHMS: Final = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
MANAGE_REALM: Final = "manage-realm"
REALM_MANAGEMENT: Final = "realm-management"
MAX_TOKEN_LENGTH: Final = 262144  # a master admin's token lists roles of every realm's client
IDENTITY_TTL: Final = 10.0  # seconds a caller's rights, read from Keycloak, are reused
IDENTITY_CACHE_SIZE: Final = 4096
_ISSUER = re.compile(rf"^https?://[^?#]+/realms/({REALM_NAME.pattern})$")
_SUBJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,254}$")

Jwks = Callable[[str, str | None], Awaitable[dict[str, Any]]]
"""``(realm, kid) -> JWKS`` of that realm, from the configured Keycloak."""


class AuthenticationError(BridgeError):
    """No token, or one that does not verify, or its user is gone or disabled: 401."""


@dataclass(frozen=True)
class Verified:
    """A token whose signature and times verify: the realm that issued it, and its claims."""

    realm: str
    issuer: str
    claims: Mapping[str, Any] = field(repr=False)

    @property
    def subject(self) -> str:
        return str(self.claims["sub"])


@dataclass(frozen=True)
class Caller:
    """A caller as Keycloak knows them: username and roles read from Keycloak, by subject."""

    realm: str  # the realm that issued the token
    subject: str
    username: str
    realm_roles: frozenset[str]  # effective realm roles in ``realm``
    manages_own_realm: bool  # effective realm-management/manage-realm in ``realm``

    def to_json(self) -> dict[str, str]:
        return {"realm": self.realm, "subject": self.subject, "username": self.username}


def bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("a Bearer token from Keycloak is required")
    return token.strip()


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AuthenticationError(f"the token's {name!r} is missing or not a number")
    return float(value)


def check_times(claims: Mapping[str, Any], *, now: float, leeway: float) -> None:
    """``exp`` and ``iat`` present and numeric; not expired, not issued or valid in the future."""
    if _number(claims, "exp") <= now - leeway:
        raise AuthenticationError("the token has expired")
    if _number(claims, "iat") > now + leeway:
        raise AuthenticationError("the token was issued in the future")
    if "nbf" in claims and _number(claims, "nbf") > now + leeway:
        raise AuthenticationError("the token is not valid yet")


async def verify(
    token: str, jwks: Jwks, *, leeway: float = 5.0, now: float | None = None
) -> Verified:
    """Parse (refusing repeated members), then verify the signature with the issuing realm's
    published key, and the times; AuthenticationError for anything else."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise AuthenticationError("the token is too large")
    try:
        parsed = jws.parse(token)
    except jws.JwsError as exc:
        raise AuthenticationError(f"the token is not a JWT: {exc}") from None
    issuer = parsed.claims.get("iss")
    match = _ISSUER.match(issuer) if isinstance(issuer, str) else None
    if match is None or parsed.algorithm not in ALGORITHMS:
        raise AuthenticationError("the token is not a Keycloak token")
    realm = match.group(1)
    try:
        key = key_for(await jwks(realm, parsed.kid), parsed.kid)
    except BridgeError:
        raise AuthenticationError(f"no signing keys for realm {realm!r}") from None
    if key is None:
        raise AuthenticationError("the token's signing key is unknown to its realm")
    try:
        jws.verify_with_key(parsed, key, ALGORITHMS)
    except jws.JwsError as exc:
        raise AuthenticationError(f"the token does not verify: {exc}") from None
    claims = parsed.claims
    check_times(claims, now=time.time() if now is None else now, leeway=leeway)
    subject = claims.get("sub")
    if not isinstance(subject, str) or not _SUBJECT.match(subject):
        raise AuthenticationError("the token names no user")
    return Verified(realm, str(issuer), claims)


async def authenticate(token: str, jwks: Jwks, *, leeway: float = 5.0) -> Verified:
    """The verified access token (``typ: Bearer``); AuthenticationError for anything else."""
    verified = await verify(token, jwks, leeway=leeway)
    if verified.claims.get("typ") != "Bearer":
        raise AuthenticationError("only access tokens are accepted")
    return verified


def caller_from_keycloak(keycloak: Keycloak, realm: str, subject: str) -> Caller:
    """Who ``subject`` of ``realm`` is, and their roles, by Keycloak's state (admin reads).

    AuthenticationError when the user no longer exists or is disabled; KeycloakError when
    Keycloak cannot answer.
    """
    try:
        user = keycloak.get_user(realm, subject)
    except NotFoundError:
        raise AuthenticationError("the token's user no longer exists") from None
    if user.get("enabled") is not True:
        raise AuthenticationError("the token's user is disabled")
    realm_roles = keycloak.get_effective_realm_roles(realm, subject)
    management = keycloak.get_effective_client_roles(realm, subject, REALM_MANAGEMENT)
    return Caller(
        realm=realm,
        subject=subject,
        username=str(user.get("username") or subject),
        realm_roles=frozenset(realm_roles),
        manages_own_realm=MANAGE_REALM in management,
    )


class Identities:
    """Callers by ``(realm, subject)``, looked up in Keycloak and kept ``ttl`` seconds.

    Only answers are kept: a refusal or an unreachable Keycloak is asked again next time.
    """

    def __init__(
        self,
        lookup: Callable[[str, str], Caller],
        *,
        ttl: float = IDENTITY_TTL,
        size: int = IDENTITY_CACHE_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._known: dict[tuple[str, str], tuple[float, Caller]] = {}

    async def caller(self, realm: str, subject: str) -> Caller:
        """The caller ``subject`` of ``realm``, as Keycloak knew them at most ``ttl`` ago."""
        now = self._clock()
        known = self._known.get((realm, subject))
        if known is not None and known[0] > now:
            return known[1]
        found = await run_in_threadpool(self._lookup, realm, subject)
        self._known.pop((realm, subject), None)
        if len(self._known) >= self._size:
            del self._known[next(iter(self._known))]  # the oldest entry
        self._known[(realm, subject)] = (now + self._ttl, found)
        return found


def is_super(caller: Caller, admin_realm: str) -> bool:
    """An admin of the admin realm (``master``): manages everything."""
    return caller.realm == admin_realm and "admin" in caller.realm_roles


def may_manage(
    caller: Caller, tenant: Tenant | None, *, admin_realm: str, partner: Tenant | None = None
) -> bool:
    """Whether ``caller`` may manage ``tenant`` (None: a realm that is no tenant);
    ``partner`` is the tenant's partner, for a client realm."""
    if is_super(caller, admin_realm):
        return True
    if tenant is None or not caller.manages_own_realm:
        return False
    if tenant.name == caller.realm:
        return True
    return (
        tenant.kind is TenantKind.CLIENT
        and tenant.partner == caller.realm
        and is_linked(tenant, partner)
    )
