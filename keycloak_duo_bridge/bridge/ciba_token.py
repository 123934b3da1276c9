"""Keycloak's CIBA channel request, checked (pure functions; issue #16).

Keycloak's ``ciba-http-auth-channel`` POSTs each "authenticate this user" request with
``Authorization: Bearer <JWT>``: signed by the realm's active key, ``typ`` Bearer, ``iss`` =
``aud`` = the realm issuer, ``jti`` = the auth result id, ``azp`` = the CIBA client, ``sub``
= the user id, ``exp`` = the request's expiry (HttpAuthenticationChannelProvider
``createBearerToken``). The same token authorises the bridge's callback, so Keycloak itself
binds the answer to this request: the bridge keeps nothing between the two.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Final

import jwt

from keycloak_duo_bridge import jws
from keycloak_duo_bridge.bridge.tokens import ASYMMETRIC, LEEWAY, MAX_TOKEN_LENGTH, split_issuer
from keycloak_duo_bridge.errors import BridgeError

__all__ = [
    "BINDING_MESSAGE",
    "ChannelRequest",
    "ChannelTokenError",
    "bearer",
    "binding_message",
    "parse_body",
    "peek",
    "verify",
]

MAX_LIFETIME: Final = 3600  # Keycloak's CIBA requests live minutes; refuse longer ones
# Keycloak's own rule for binding_message (BackchannelAuthenticationEndpoint)
BINDING_MESSAGE: Final = re.compile(r"[a-zA-Z0-9\-._+/!?#]{1,50}")


class ChannelTokenError(BridgeError):
    """The channel's bearer token is missing, malformed, forged, expired or replayed."""


@dataclass(frozen=True)
class ChannelRequest:
    """A verified CIBA authentication request from a realm."""

    issuer: str
    realm: str
    user_id: str
    client_id: str
    auth_result_id: str = field(repr=False)
    expires: int
    token: str = field(repr=False)  # the bearer token: it authorises the callback

    @property
    def callback_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/ext/ciba/auth/callback"


def bearer(header: str | None) -> str:
    """The token of an ``Authorization: Bearer`` header."""
    scheme, _, token = (header or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ChannelTokenError("the channel request carries no bearer token")
    if len(token) > MAX_TOKEN_LENGTH:
        raise ChannelTokenError("the bearer token is too large")
    return token


def peek(token: str) -> tuple[jws.Jws, str, str]:
    """The token parsed but unverified, its issuer and realm: to pick the key that verifies it."""
    try:
        parsed = jws.parse(token)
    except jws.JwsError:
        raise ChannelTokenError("the bearer token is malformed") from None
    issuer = parsed.claims.get("iss")
    if not isinstance(issuer, str):
        raise ChannelTokenError("the bearer token names no issuer")
    try:
        _, realm = split_issuer(issuer)
    except BridgeError:
        raise ChannelTokenError("the bearer token comes from an unknown Keycloak") from None
    if parsed.algorithm not in ASYMMETRIC:
        raise ChannelTokenError("the bearer token is not signed with an asymmetric key")
    return parsed, issuer, realm


def _text(claims: dict[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise ChannelTokenError(f"the bearer token lacks {name!r}")
    return value


def verify(token: str, key: jwt.PyJWK, *, now: float) -> ChannelRequest:
    """Verify the signature and the claims of Keycloak's channel token."""
    parsed, issuer, realm = peek(token)
    try:
        jws.verify_with_key(parsed, key, ASYMMETRIC)
    except jws.JwsError:
        raise ChannelTokenError("the bearer token does not verify") from None
    claims = parsed.claims
    if claims.get("typ") != "Bearer":
        raise ChannelTokenError("the bearer token is not Keycloak's CIBA channel token")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if issuer not in audiences:
        raise ChannelTokenError("the bearer token is not addressed to its realm")
    expires = claims.get("exp")
    if not isinstance(expires, int) or isinstance(expires, bool):
        raise ChannelTokenError("the bearer token has no expiry")
    if expires + LEEWAY < now:
        raise ChannelTokenError("the bearer token expired")
    if expires - now > MAX_LIFETIME:
        raise ChannelTokenError("the bearer token lives too long")
    return ChannelRequest(
        issuer=issuer,
        realm=realm,
        user_id=_text(claims, "sub"),
        client_id=_text(claims, "azp"),
        auth_result_id=_text(claims, "jti"),
        expires=expires,
        token=token,
    )


def binding_message(body: Any) -> str | None:
    """The request's ``binding_message`` when it is one Keycloak would accept, else None
    (nothing else is shown on the user's phone)."""
    value = body.get("binding_message") if isinstance(body, dict) else None
    if isinstance(value, str) and BINDING_MESSAGE.fullmatch(value):
        return value
    return None


def parse_body(raw: bytes, limit: int) -> dict[str, Any]:
    """Keycloak's JSON request body (login_hint, scope, binding_message, ...)."""
    if len(raw) > limit:
        raise ChannelTokenError("the channel request body is too large")
    try:
        body = json.loads(raw)
    except ValueError:
        raise ChannelTokenError("the channel request body is not JSON") from None
    if not isinstance(body, dict):
        raise ChannelTokenError("the channel request body is not a JSON object")
    return body
