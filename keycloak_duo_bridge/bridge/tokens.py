"""The two tokens that cross the browser: Keycloak's request and the bridge's verdict.

Pure functions. The request token is signed by the realm's own asymmetric key (RS/PS/ES
only; never ``none`` or HMAC), issued by ``<keycloak url>/realms/<realm>``, short-lived, and
its return URL must lie under that realm's ``login-actions`` path, so the bridge is no open
redirect. The verdict is ES256, addressed to the realm issuer, for the same user and nonce.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

import jwt

from keycloak_duo_bridge import jws
from keycloak_duo_bridge.admin.effective import IdpLink
from keycloak_duo_bridge.errors import BridgeError
from keycloak_duo_bridge.realm_names import is_realm_name
from keycloak_duo_bridge.signing import SigningKey
from keycloak_duo_bridge.verdict import Result

REQUEST_TYPE: Final = "kdb-step-up-request"
VERDICT_TYPE: Final = "kdb-step-up-verdict"
CIBA_VERDICT_TYPE: Final = "kdb-ciba-verdict"  # a CIBA login's, sent in the channel's callback
AUDIENCE: Final = "kdb-bridge"
ASYMMETRIC: Final = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
MAX_TOKEN_LENGTH: Final = 8192
MAX_REQUEST_LIFETIME: Final = 600
LEEWAY: Final = 30


class RequestTokenError(BridgeError):
    """The request token is malformed, forged, expired or points somewhere it may not."""


@dataclass(frozen=True)
class StepUpRequest:
    """A verified request from a realm's ``duo-step-up`` action."""

    issuer: str
    realm: str
    user_id: str
    username: str
    client_id: str
    nonce: str
    return_url: str
    expires: int
    groups: tuple[str, ...] = ()
    activated: bool = False
    fingerprint: str = ""
    token_id: str = field(default="", repr=False)
    email: str | None = field(default=None, repr=False)
    email_verified: bool = False
    # Keycloak's broker links of the user, whether they have a password of the realm, and
    # the IdP this login came through (see BrokeredIdentity.java)
    idp_links: tuple[IdpLink, ...] = field(default=(), repr=False)
    local_password: bool = True
    idp: str | None = None
    # this login's IdP type (Keycloak's providerId), and the ID token Keycloak received from
    # it and verified (its own FEDERATED_ID_TOKEN note), for trust-upstream-mfa
    idp_provider: str | None = None
    idp_id_token: str | None = field(default=None, repr=False)
    # a SAML IdP: the AuthnContextClassRef values and AuthnInstant of the response Keycloak
    # stored on the user's link (SamlAuthnContext.java)
    idp_saml_context: tuple[str, ...] = ()
    idp_saml_instant: int = 0
    # the client organization the user belongs to (Keycloak's membership, or the one Keycloak
    # selected at login), by id, and the fingerprint of its attributes (MemberSettings.java)
    organization: str | None = None
    org_fingerprint: str = ""
    # every client organization the user is a member of (the selected one included), as
    # (id, fingerprint): each one's policy applies, whichever the user selected
    organizations: tuple[tuple[str, str], ...] = ()


def peek(token: str) -> jws.Jws:
    """The request token parsed but unverified: only to pick the realm and key to verify it."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise RequestTokenError("the request token is too large")
    try:
        parsed = jws.parse(token)
    except jws.JwsError:
        raise RequestTokenError("the request token is malformed") from None
    if not isinstance(parsed.claims.get("iss"), str):
        raise RequestTokenError("the request token names no issuer")
    return parsed


def split_issuer(issuer: str) -> tuple[str, str]:
    """``(base, realm)`` of an issuer ``<base>/realms/<realm>``, or an error."""
    base, separator, realm = issuer.rpartition("/realms/")
    if not separator or not base or not is_realm_name(realm):
        raise RequestTokenError("the request token comes from an unknown Keycloak")
    return base, realm


def precheck(parsed: jws.Jws, realm: str) -> None:
    """Refuse, before any I/O, what no signature could save: a symmetric or missing
    algorithm, or a ``realm`` claim that is not the issuer's realm (checked again once
    verified)."""
    if parsed.algorithm not in ASYMMETRIC:
        raise RequestTokenError("the request token is not signed with an asymmetric key")
    if parsed.claims.get("realm") != realm:
        raise RequestTokenError("the request token's realm is not its issuer's realm")


def key_for(jwks: Mapping[str, Any], kid: str | None) -> jwt.PyJWK | None:
    """The realm's public signing key with this ``kid``, if it publishes one."""
    for entry in jwks.get("keys", []):
        if isinstance(entry, dict) and entry.get("kid") == kid and entry.get("use", "sig") == "sig":
            try:
                return jwt.PyJWK(entry)
            except jwt.PyJWTError:
                return None
    return None


def _text(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise RequestTokenError(f"the request token lacks {name!r}")
    return value


def check_return_url(return_url: str, issuer: str) -> None:
    """The return URL must be under the realm's own ``login-actions`` path (no open redirect)."""
    expected = urlsplit(issuer + "/login-actions/")
    actual = urlsplit(return_url)
    if (
        (actual.scheme, actual.netloc) != (expected.scheme, expected.netloc)
        or not actual.path.startswith(expected.path)
        or ".." in actual.path.split("/")
        or actual.fragment
    ):
        raise RequestTokenError("the return URL is outside the realm's login-actions path")


def _number(claims: Mapping[str, Any], name: str) -> int:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestTokenError("the request token does not verify")
    return int(value)


def _check_claims(claims: Mapping[str, Any], *, issuer: str, now: float) -> None:
    """Registered claims as PyJWT checks them: required, typed, in time, ours, from ``issuer``."""
    if any(name not in claims for name in ("exp", "iat", "sub", "iss", "aud")):
        raise RequestTokenError("the request token does not verify")
    if _number(claims, "exp") <= now - LEEWAY:
        raise RequestTokenError("the request token has expired")
    if _number(claims, "iat") > now + LEEWAY or (
        "nbf" in claims and _number(claims, "nbf") > now + LEEWAY
    ):
        raise RequestTokenError("the request token does not verify")
    audience = claims["aud"]
    audiences = [audience] if isinstance(audience, str) else audience
    if (
        not isinstance(audiences, list)
        or AUDIENCE not in audiences
        or claims["iss"] != issuer
        or not isinstance(claims["sub"], str)
    ):
        raise RequestTokenError("the request token does not verify")


def verify_request(
    token: str | jws.Jws, key: jwt.PyJWK, *, issuer: str, now: float
) -> StepUpRequest:
    """Verify a request token's signature and claims; return what it asks for."""
    parsed = peek(token) if isinstance(token, str) else token
    precheck(parsed, split_issuer(issuer)[1])
    try:
        jws.verify_with_key(parsed, key, ASYMMETRIC)
    except jws.JwsError:
        raise RequestTokenError("the request token does not verify") from None
    claims = parsed.claims
    _check_claims(claims, issuer=issuer, now=now)
    if claims.get("typ") != REQUEST_TYPE:
        raise RequestTokenError("the token is not a step-up request")
    expires = int(claims["exp"])
    if expires - int(claims["iat"]) > MAX_REQUEST_LIFETIME or expires - now > MAX_REQUEST_LIFETIME:
        raise RequestTokenError("the request token lives too long")
    return_url = _text(claims, "return_url")
    check_return_url(return_url, issuer)
    groups = claims.get("groups", [])
    return StepUpRequest(
        issuer=issuer,
        realm=_text(claims, "realm"),
        user_id=_text(claims, "sub"),
        username=_text(claims, "preferred_username"),
        client_id=str(claims.get("azp") or ""),
        nonce=_text(claims, "nonce"),
        return_url=return_url,
        expires=expires,
        groups=tuple(g for g in groups if isinstance(g, str)) if isinstance(groups, list) else (),
        activated=claims.get("activated") is True,
        fingerprint=str(claims.get("cfg") or ""),
        token_id=str(claims.get("jti") or ""),
        email=claims["email"] if isinstance(claims.get("email"), str) else None,
        email_verified=claims.get("email_verified") is True,
        idp_links=idp_links(claims.get("idp_links")),
        local_password=claims.get("local_password") is not False,
        idp=_optional(claims, "idp"),
        idp_provider=_optional(claims, "idp_provider"),
        idp_id_token=_optional(claims, "idp_id_token"),
        idp_saml_context=_strings(claims.get("idp_saml_context")),
        idp_saml_instant=_instant(claims.get("idp_saml_instant")),
        organization=_optional(claims, "org"),
        org_fingerprint=str(claims.get("org_cfg") or ""),
        organizations=member_organizations(
            claims.get("orgs"), _optional(claims, "org"), str(claims.get("org_cfg") or "")
        ),
    )


def _strings(value: object) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _instant(value: object) -> int:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else 0


def _optional(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None


def idp_links(value: object) -> tuple[IdpLink, ...]:
    """The ``idp_links`` claim: a list of ``{"alias", "subject"}``; a malformed entry is an
    error (a signed token from our extension never carries one)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise RequestTokenError("the request token's idp_links is not a list")
    links = []
    for item in value:
        alias = item.get("alias") if isinstance(item, dict) else None
        subject = item.get("subject") if isinstance(item, dict) else None
        if not isinstance(alias, str) or not isinstance(subject, str) or not alias or not subject:
            raise RequestTokenError("the request token's idp_links holds a malformed link")
        links.append(IdpLink(alias, subject))
    return tuple(links)


def member_organizations(
    value: object, selected: str | None, selected_fingerprint: str
) -> tuple[tuple[str, str], ...]:
    """The ``orgs`` claim: every client organization of the user, ``{id: fingerprint}``,
    sorted by id. It must hold the selected ``org``; a token without it (an extension
    before it was added) names the selected one only. Malformed is an error."""
    if value is None:
        return ((selected, selected_fingerprint),) if selected else ()
    if not isinstance(value, dict):
        raise RequestTokenError("the request token's orgs is not an object")
    found = []
    for key, fingerprint in value.items():
        if not isinstance(key, str) or not key or not isinstance(fingerprint, str):
            raise RequestTokenError("the request token's orgs holds a malformed organization")
        found.append((key, fingerprint))
    if selected is None or (selected, selected_fingerprint) not in found:
        raise RequestTokenError("the request token's orgs does not hold its selected org")
    return tuple(sorted(found))


@dataclass(frozen=True)
class Verdict:
    """What the bridge tells Keycloak, before it is signed: a result, and why (one of
    :class:`~keycloak_duo_bridge.verdict.Reason`, or Duo's own words for a deny)."""

    result: Result
    reason: str = ""
    factor: str = ""
    txid: str = ""
    auth_time: int = 0
    amr: tuple[str, ...] = ()  # RFC 8176 methods of a second factor (see assurance.amr_for)
    idp: str = ""  # an ``upstream`` result: the identity provider whose MFA counted
    proof: str = ""  # an ``upstream`` result: what proved it (``amr:mfa``, ``acr:gold``)


def sign_verdict(
    verdict: Verdict,
    key: SigningKey,
    *,
    issuer: str,
    user_id: str,
    nonce: str,
    bridge_url: str,
    now: float,
    lifetime: int,
    kind: str = VERDICT_TYPE,
    client_id: str | None = None,
) -> str:
    """The ES256 verdict for one login: addressed to its realm, user and nonce (and, for a
    CIBA verdict, its client); short-lived."""
    claims: dict[str, object] = {
        "typ": kind,
        "iss": bridge_url,
        "aud": issuer,
        "sub": user_id,
        "nonce": nonce,
        "iat": int(now),
        "exp": int(now) + lifetime,
        "jti": secrets.token_urlsafe(16),
        "result": verdict.result,
        "reason": verdict.reason,
        "factor": verdict.factor,
        "txid": verdict.txid,
        "auth_time": verdict.auth_time or int(now),
        "amr": list(verdict.amr),
    }
    if client_id is not None:
        claims["azp"] = client_id
    if verdict.result is Result.UPSTREAM:
        claims |= {"idp": verdict.idp, "proof": verdict.proof}
    return jwt.encode(claims, key.private, algorithm="ES256", headers={"kid": key.kid})
