"""Whether this login's identity provider proved its own MFA: pure functions.

For an identity provider whose policy is ``trust-upstream-mfa``. The proof is only what
Keycloak received from the IdP and verified, as the extension read it on this login:

* **OIDC** (Keycloak's ``oidc`` and ``keycloak-oidc`` providers): the upstream ID token that
  Keycloak's broker validated (signature, issuer, audience) and keeps as the user-session
  note ``FEDERATED_ID_TOKEN``. Keycloak sets that note when it finishes the brokered login,
  after every IdP mapper ran, so a mapper writing a note of that name is overwritten. For a
  SAML IdP, nothing overwrites it, so a SAML login's token is never read. Its ``sub`` must
  be the subject of the user's link to that IdP (Keycloak's own record), and it must have
  been issued for this login (``iat`` recent).
* Its ``amr`` (any value on the allow-list) or its ``acr`` (on the allow-list).
* **SAML** (Keycloak's ``saml`` provider, with "Store tokens" on): the SAML response
  Keycloak's broker validated and stored on the user's link to the IdP (only the broker
  writes it). Its first assertion's ``AuthnContextClassRef`` (on the allow-list), and its
  ``AuthnInstant`` recent. An encrypted assertion, or no stored response, is no proof.

Only for a user the identity provider made: a local account linked to it (it has a password
of the realm) passes Duo as itself, so a partner account linked to it never reaches it on
the partner's MFA alone. Never from the user's attributes (IdP mappers write those), a
client or the user. Anything missing or not matching is no proof, and Duo runs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from keycloak_duo_bridge import jws
from keycloak_duo_bridge.admin.effective import IdpLink
from keycloak_duo_bridge.admin.idp_policy import IdpPolicy
from keycloak_duo_bridge.attributes import IdpMode

OIDC_PROVIDERS: Final = frozenset({"oidc", "keycloak-oidc"})
SAML: Final = "saml"
MAX_AGE: Final = 900  # seconds since the upstream token was issued
LEEWAY: Final = 30
MFA: Final = "mfa"
_METHOD = re.compile(r"^[a-z]{1,16}$")


@dataclass(frozen=True)
class Proof:
    """What proved the upstream MFA: ``kind`` amr or acr, and the value that matched."""

    kind: str
    value: str
    methods: tuple[str, ...]  # the RFC 8176 methods the token carried, for the amr claim

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"

    @property
    def amr(self) -> tuple[str, ...]:
        """The methods the session gets: ``mfa``, then the upstream's own."""
        return (MFA, *(m for m in self.methods if m != MFA))


@dataclass(frozen=True)
class Upstream:
    """What the request token says of this login's identity provider."""

    alias: str | None
    provider: str | None
    id_token: str | None
    links: Sequence[IdpLink]
    saml_context: Sequence[str] = ()
    saml_instant: int = 0
    local_account: bool = False  # the user has a password of the realm (a linked local user)


def find_proof(
    policy: IdpPolicy | None, upstream: Upstream, *, now: float
) -> tuple[Proof | None, str]:
    """The proof of upstream MFA and ``""``, or None and why there is none."""
    if policy is None or policy.mode is not IdpMode.TRUST_UPSTREAM_MFA:
        return None, "the identity provider is not trusted for its MFA"
    if upstream.local_account:
        return None, "a local account (a password of the realm) linked to the IdP passes Duo"
    if upstream.provider == SAML:
        return _saml_proof(policy, upstream, now)
    return _oidc_proof(policy, upstream, now)


def _oidc_proof(policy: IdpPolicy, upstream: Upstream, now: float) -> tuple[Proof | None, str]:
    """An OIDC IdP: an ``amr`` or ``acr`` on the allow-list, in this user's fresh token."""
    claims = _claims(upstream.id_token) if upstream.provider in OIDC_PROVIDERS else None
    if claims is None:
        return None, f"no verified upstream ID token (a {upstream.provider or 'unknown'} IdP)"
    problem = _not_this_login(claims, upstream, now)
    if problem is not None:
        return None, problem
    amr = claims.get("amr")
    methods = tuple(m for m in amr if isinstance(m, str)) if isinstance(amr, list) else ()
    known = tuple(m for m in methods if _METHOD.match(m))
    matched = next((m for m in methods if m in policy.amr), None)
    if matched is not None:
        return Proof("amr", matched, known), ""
    acr = claims.get("acr")
    if isinstance(acr, str) and acr in policy.acr:
        return Proof("acr", acr, known), ""
    return None, "the upstream token's amr and acr are not on the allow-list"


def _saml_proof(policy: IdpPolicy, upstream: Upstream, now: float) -> tuple[Proof | None, str]:
    """A SAML IdP: an ``AuthnContextClassRef`` on the allow-list, authenticated recently."""
    if not upstream.saml_context:
        return None, "no stored SAML response with an AuthnContextClassRef (store tokens off?)"
    if not now - MAX_AGE <= upstream.saml_instant <= now + LEEWAY:
        return None, "the SAML AuthnInstant is not this login's"
    matched = next((c for c in upstream.saml_context if c in policy.saml_context), None)
    if matched is None:
        return None, "the SAML AuthnContextClassRef is not on the allow-list"
    return Proof("saml", matched, ()), ""


def _not_this_login(claims: dict[str, Any], upstream: Upstream, now: float) -> str | None:
    """Why the token is not this user's from this login, or None: its ``sub`` is the
    subject of the user's link to the IdP, and it was issued within :data:`MAX_AGE`."""
    subjects = {link.subject for link in upstream.links if link.alias == upstream.alias}
    if claims.get("sub") not in subjects:
        return "the upstream token's subject is not the user's link"
    issued = claims.get("iat")
    if (
        isinstance(issued, bool)
        or not isinstance(issued, int | float)
        or not now - MAX_AGE <= issued <= now + LEEWAY
    ):
        return "the upstream token was not issued for this login"
    return None


def _claims(token: str | None) -> dict[str, Any] | None:
    """The upstream ID token's claims (Keycloak verified its signature), or None."""
    if not token:
        return None
    try:
        return dict(jws.parse(token).claims)
    except jws.JwsError:
        return None
