"""Signing in to the console through Keycloak: authorization code with PKCE (S256).

Pure helpers build the authorization request; :func:`exchange` redeems the code at the
realm's token endpoint (over the bridge's back channel to Keycloak) with the client secret;
:func:`signed_in` verifies what came back against the realm's published keys: the access
token as the admin API does and issued to the console, and the ID token's audience, ``azp``
and nonce. Claims identify the user (``sub``) and nothing more.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import httpx2

from keycloak_duo_bridge.admin.console_client import CLIENT_ID
from keycloak_duo_bridge.api import auth
from keycloak_duo_bridge.errors import BridgeError
from keycloak_duo_bridge.verdict import Result

_OK = 200


class SignInError(BridgeError):
    """The sign-in cannot complete: the person should start again."""


def pkce_pair() -> tuple[str, str]:
    """A fresh code verifier and its S256 challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def realm_url(keycloak_url: str, realm: str) -> str:
    return f"{keycloak_url.rstrip('/')}/realms/{realm}/protocol/openid-connect"


def authorize_url(
    keycloak_url: str, realm: str, *, redirect_uri: str, state: str, nonce: str, challenge: str
) -> str:
    query = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": redirect_uri,
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"{realm_url(keycloak_url, realm)}/auth?{urlencode(query)}"


def logout_url(
    keycloak_url: str, realm: str, *, redirect_uri: str, id_token: str = "", state: str = ""
) -> str:
    """Keycloak's end-session URL; with ``id_token`` (the sign-in's ID token) as
    ``id_token_hint`` Keycloak ends the session without asking, and hands ``state`` back."""
    query = {"client_id": CLIENT_ID, "post_logout_redirect_uri": redirect_uri}
    if id_token:
        query["id_token_hint"] = id_token
    if state:
        query["state"] = state
    return f"{realm_url(keycloak_url, realm)}/logout?{urlencode(query)}"


def duo_passed(claims: Mapping[str, Any]) -> int | None:
    """When the sign-in's Duo step-up passed (epoch seconds), from the ``duo`` claim the
    realm's ``kdb-duo`` scope adds; None without a passed step-up."""
    duo = claims.get("duo")
    if not isinstance(duo, dict) or duo.get("result") != Result.ALLOW:
        return None
    time = duo.get("time")
    return int(time) if isinstance(time, str) and time.isascii() and time.isdigit() else None


async def exchange(
    http: httpx2.AsyncClient,
    keycloak_url: str,
    realm: str,
    *,
    secret: str,
    code: str,
    redirect_uri: str,
    verifier: str,
) -> dict[str, Any]:
    """The token response for ``code``; SignInError when Keycloak refuses or is away."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
        "client_id": CLIENT_ID,
        "client_secret": secret,
    }
    try:
        response = await http.post(f"{realm_url(keycloak_url, realm)}/token", data=form)
    except httpx2.HTTPError:
        raise SignInError("Keycloak is unreachable") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code != _OK or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else None
        raise SignInError(f"Keycloak refused the sign-in ({error or response.status_code})")
    return body


def _audiences(claims: Mapping[str, Any]) -> list[Any]:
    audience = claims.get("aud")
    return (
        [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    )


async def signed_in(tokens: dict[str, Any], jwks: auth.Jwks, *, nonce: str) -> auth.Verified:
    """The verified access token of a token response made for this console and sign-in.

    Both tokens verify against the realm's published keys (a repeated member refuses
    either). The access token was issued to the console (``azp``); the ID token is
    addressed to it (``aud``; ``azp`` when present), carries ``nonce`` and names the
    same user. Who the user is and what they may do is read from Keycloak afterwards.
    """
    access, id_token = tokens.get("access_token"), tokens.get("id_token")
    if not isinstance(access, str) or not isinstance(id_token, str):
        raise SignInError("Keycloak's answer lacks the tokens")
    try:
        verified = await auth.authenticate(access, jwks)
        identity = await auth.verify(id_token, jwks)
    except auth.AuthenticationError as exc:
        raise SignInError(f"the sign-in tokens do not verify: {exc}") from None
    if verified.claims.get("azp") != CLIENT_ID:
        raise SignInError("the access token was issued to another application")
    claims = identity.claims
    if (
        claims.get("typ") != "ID"
        or CLIENT_ID not in _audiences(claims)
        or claims.get("azp", CLIENT_ID) != CLIENT_ID
    ):
        raise SignInError("the ID token is not addressed to the console")
    if (
        claims.get("nonce") != nonce
        or identity.issuer != verified.issuer
        or identity.subject != verified.subject
    ):
        raise SignInError("the ID token belongs to another sign-in")
    return verified
