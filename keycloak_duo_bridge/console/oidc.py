"""Signing in to the console through Keycloak: authorization code with PKCE (S256).

Pure helpers build the authorization request; :func:`exchange` redeems the code at the
realm's token endpoint (over the bridge's back channel to Keycloak) with the client secret;
:func:`signed_in` verifies what came back against the realm's published keys: the access
token as the admin API does, and the ID token's audience and nonce.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx2
import jwt

from keycloak_duo_bridge.admin.console_client import CLIENT_ID
from keycloak_duo_bridge.api import auth
from keycloak_duo_bridge.bridge.tokens import key_for
from keycloak_duo_bridge.errors import BridgeError

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


def logout_url(keycloak_url: str, realm: str, *, redirect_uri: str) -> str:
    query = {"client_id": CLIENT_ID, "post_logout_redirect_uri": redirect_uri}
    return f"{realm_url(keycloak_url, realm)}/logout?{urlencode(query)}"


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


async def signed_in(tokens: dict[str, Any], jwks: auth.Jwks, *, nonce: str) -> auth.Caller:
    """The verified caller of a token response whose ID token carries ``nonce``."""
    access, id_token = tokens.get("access_token"), tokens.get("id_token")
    if not isinstance(access, str) or not isinstance(id_token, str):
        raise SignInError("Keycloak's answer lacks the tokens")
    try:
        caller = await auth.authenticate(access, jwks)
        header = jwt.get_unverified_header(id_token)
    except (auth.AuthenticationError, jwt.PyJWTError) as exc:
        raise SignInError(f"the sign-in tokens do not verify: {exc}") from None
    kid = header.get("kid") if isinstance(header.get("kid"), str) else None
    key = key_for(await jwks(caller.realm, kid), kid)
    if key is None:
        raise SignInError("the ID token's signing key is unknown to its realm")
    try:
        claims = jwt.decode(
            id_token,
            key,
            algorithms=auth.ALGORITHMS,
            audience=CLIENT_ID,
            leeway=5.0,
            options={"require": ["exp", "iat", "sub", "nonce"]},
        )
    except jwt.PyJWTError as exc:
        raise SignInError(f"the ID token does not verify: {exc}") from None
    if claims.get("nonce") != nonce or claims.get("sub") != caller.subject:
        raise SignInError("the ID token belongs to another sign-in")
    return caller
