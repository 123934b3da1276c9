"""Who calls the admin API, and what they may manage: Bearer tokens issued by Keycloak.

A token is verified against the JWKS of the realm that issued it, fetched from the
configured Keycloak (never from the URL in the token), so its signature proves the realm.
Only access tokens (``typ: Bearer``) signed asymmetrically are accepted.

Authorization (pure, :func:`may_manage`):

* an admin of the admin realm (``master``: realm role ``admin``) manages every tenant;
* a realm's admins (``realm-management`` role ``manage-realm`` in that realm) manage it;
* so do a partner's admins, and also the partner's client realms;
* anyone else manages nothing.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import jwt

from keycloak_duo_bridge.admin.tenants import Tenant
from keycloak_duo_bridge.attributes import TenantKind
from keycloak_duo_bridge.bridge.tokens import key_for
from keycloak_duo_bridge.errors import BridgeError

ALGORITHMS: Final = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
MANAGE_REALM: Final = "manage-realm"
_ISSUER = re.compile(r"^https?://[^?#]+/realms/([A-Za-z0-9_.-]{1,255})$")

Jwks = Callable[[str, str | None], Awaitable[dict[str, Any]]]
"""``(realm, kid) -> JWKS`` of that realm, from the configured Keycloak."""


class AuthenticationError(BridgeError):
    """No token, or one that does not verify: 401."""


@dataclass(frozen=True)
class Caller:
    realm: str  # the realm that issued the token
    subject: str
    username: str
    realm_roles: frozenset[str]
    manages_own_realm: bool

    def to_json(self) -> dict[str, str]:
        return {"realm": self.realm, "subject": self.subject, "username": self.username}


def bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationError("a Bearer token from Keycloak is required")
    return token.strip()


async def authenticate(token: str, jwks: Jwks, *, leeway: float = 5.0) -> Caller:
    """The verified caller of ``token``; AuthenticationError for anything else."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise AuthenticationError("the token is not a JWT") from None
    issuer = unverified.get("iss")
    match = _ISSUER.match(issuer) if isinstance(issuer, str) else None
    if match is None or header.get("alg") not in ALGORITHMS:
        raise AuthenticationError("the token is not a Keycloak access token")
    realm = match.group(1)
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    try:
        key = key_for(await jwks(realm, kid), kid)
    except BridgeError:
        raise AuthenticationError(f"no signing keys for realm {realm!r}") from None
    if key is None:
        raise AuthenticationError("the token's signing key is unknown to its realm")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=ALGORITHMS,
            issuer=issuer,
            leeway=leeway,
            options={"verify_aud": False, "require": ["exp", "iat", "sub"]},
        )
    except jwt.PyJWTError as exc:
        raise AuthenticationError(f"the token does not verify: {exc}") from None
    if claims.get("typ") != "Bearer":
        raise AuthenticationError("only access tokens are accepted")
    return Caller(
        realm=realm,
        subject=str(claims["sub"]),
        username=str(claims.get("preferred_username") or claims["sub"]),
        realm_roles=frozenset(_roles(claims.get("realm_access"))),
        manages_own_realm=MANAGE_REALM
        in _roles((claims.get("resource_access") or {}).get("realm-management")),
    )


def _roles(access: Any) -> list[str]:
    roles = access.get("roles") if isinstance(access, Mapping) else None
    return [str(r) for r in roles] if isinstance(roles, list) else []


def is_super(caller: Caller, admin_realm: str) -> bool:
    """An admin of the admin realm (``master``): manages everything."""
    return caller.realm == admin_realm and "admin" in caller.realm_roles


def may_manage(caller: Caller, tenant: Tenant | None, *, admin_realm: str) -> bool:
    """Whether ``caller`` may manage ``tenant`` (None: a realm that is no tenant)."""
    if is_super(caller, admin_realm):
        return True
    if tenant is None or not caller.manages_own_realm:
        return False
    if tenant.name == caller.realm:
        return True
    return tenant.kind is TenantKind.CLIENT and tenant.partner == caller.realm
