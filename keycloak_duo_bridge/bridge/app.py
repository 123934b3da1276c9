"""The step-up routes: ``/step-up``, ``/step-up/callback``, and operations' endpoints.

It owns all policy and all Duo traffic, and is stateless: the pending step-up lives in a
sealed cookie, settings come from Keycloak (cached), so any replica serves any request.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx2
from cachetools import TTLCache
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.effective import (
    EffectiveSettings,
    IdpLink,
    PolicyOutcome,
    decide_member,
    duo_username,
    fails_open,
)
from keycloak_duo_bridge.assurance import amr_for
from keycloak_duo_bridge.attributes import BrokeredEnrollment, IdpMode
from keycloak_duo_bridge.bridge import cookie, pages, tokens, upstream
from keycloak_duo_bridge.bridge.ciba import auth_api_credentials
from keycloak_duo_bridge.bridge.health import CircuitOpenError, HealthGate
from keycloak_duo_bridge.bridge.metrics import CONTENT_TYPE, Metrics
from keycloak_duo_bridge.bridge.realms import JwksCache, RealmSource
from keycloak_duo_bridge.duo import DuoClient, DuoCredentials
from keycloak_duo_bridge.duo.auth_api import AuthApiClient
from keycloak_duo_bridge.duo.auth_protocol import PreauthResult
from keycloak_duo_bridge.duo.protocol import auth_status
from keycloak_duo_bridge.envelope import DecryptionError, KeyRing
from keycloak_duo_bridge.errors import (
    ConfigError,
    DuoConfigError,
    DuoProtocolError,
    DuoUnavailableError,
    KeycloakError,
)
from keycloak_duo_bridge.logs import event
from keycloak_duo_bridge.settings import Settings
from keycloak_duo_bridge.signing import SigningKey
from keycloak_duo_bridge.verdict import Reason, Result

logger = logging.getLogger("keycloak_duo_bridge.bridge")
PENDING_LIFETIME = 600
MAX_PARAMETER = 8192
MAX_STATE = 1024
# The sign-in steps this browser finished, so a reload, Back or a second tab is told so
# instead of starting Duo's prompt again (see :func:`step_up`).
USED_COOKIE = "kdb_step_up_used"
USED_LIFETIME = 3600
MAX_USED = 8
_USED_AAD = b"kdb-step-up-used-v1"


class StepUpServices(Protocol):
    """What the step-up routes need, as the composition root provides it."""

    settings: Settings
    signing_key: SigningKey
    cookie_ring: KeyRing
    keyring: KeyRing
    duo: DuoClient
    gate: HealthGate
    realms: RealmSource
    jwks: JwksCache
    metrics: Metrics
    auth_api: AuthApiClient  # Duo's Auth API: preauth for known-only brokered enrolment
    keycloak_http: httpx2.AsyncClient
    # (realm, issuer base) pairs a verified token named but the realm does not brand with
    unknown_issuers: TTLCache[tuple[str, str], bool]


def _services(request: Request) -> StepUpServices:
    services: StepUpServices = request.app.state.services
    return services


def _callback_url(services: StepUpServices) -> str:
    return services.settings.bridge_url.rstrip("/") + "/step-up/callback"


@dataclass(frozen=True)
class Login:
    """The parts of a login a verdict is addressed to."""

    realm: str
    issuer: str
    user_id: str
    username: str
    nonce: str
    return_url: str

    @classmethod
    def of(cls, source: tokens.StepUpRequest | cookie.Pending) -> Login:
        """The login a request token (at the start) or the sealed cookie (at the end) names."""
        return cls(
            realm=source.realm,
            issuer=source.issuer,
            user_id=source.user_id,
            username=source.username,
            nonce=source.nonce,
            return_url=source.return_url,
        )


def _verdict(services: StepUpServices, login: Login, verdict: tokens.Verdict) -> Response:
    now = time.time()
    signed = tokens.sign_verdict(
        verdict,
        services.signing_key,
        issuer=login.issuer,
        user_id=login.user_id,
        nonce=login.nonce,
        bridge_url=services.settings.bridge_url,
        now=now,
        lifetime=services.settings.bridge_verdict_lifetime,
    )
    services.metrics.stepup(login.realm, verdict.result)
    event(
        logger,
        "step-up verdict",
        realm=login.realm,
        user=login.username,
        result=verdict.result,
        reason=verdict.reason,
        factor=verdict.factor,
        txid=verdict.txid,
    )
    separator = "&" if "?" in login.return_url else "?"
    response = RedirectResponse(
        f"{login.return_url}{separator}{urlencode({'verdict': signed})}", status_code=302
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def duo_credentials(
    keyring: KeyRing, effective: EffectiveSettings, *, started_with: str = ""
) -> DuoCredentials:
    """The realm's Duo credentials with the skey decrypted; DuoConfigError if unusable.

    ``started_with``: the ikey a login began with. After ``duo rotate``, the replaced
    application finishes such a login until its grace ends (the code Duo gave is its own).
    """
    creds = effective.credentials.value
    attribute = attr.DUO_SKEY
    if creds is not None and started_with and started_with != creds.ikey:
        old = effective.retiring_for(started_with, now=time.time())
        if old is not None:
            creds, attribute = old, attr.DUO_RETIRING_SKEY
    if creds is None:
        raise DuoConfigError(f"realm {effective.realm!r} has no Duo credentials")
    try:
        skey = keyring.decrypt(creds.skey_ciphertext, realm=creds.realm, attribute=attribute)
    except DecryptionError as exc:
        raise DuoConfigError(str(exc)) from exc
    return DuoCredentials(ikey=creds.ikey, skey=skey, api_host=creds.api_host)


async def _timed(services: StepUpServices, call: str, work: Any) -> Any:
    started = time.perf_counter()
    try:
        return await work
    finally:
        services.metrics.duo_latency(call, time.perf_counter() - started)


async def _verified_request(services: StepUpServices, token: str) -> tokens.StepUpRequest:
    """The request token verified against its realm's keys, before any admin read.

    The keys come from the configured Keycloak's JWKS of the issuer's realm, never from a
    URL in the token. Only a verified token may then name a branded issuer base (the
    realm's ``frontendUrl``, read with the verified settings fingerprint).
    """
    parsed = tokens.peek(token)
    issuer = str(parsed.claims["iss"])
    base, realm = tokens.split_issuer(issuer)
    tokens.precheck(parsed, realm)
    configured = base == services.settings.keycloak_url.rstrip("/")
    if not configured and (realm, base) in services.unknown_issuers:
        raise tokens.RequestTokenError("the request token comes from an unknown Keycloak")
    key = tokens.key_for(await services.jwks.jwks(realm, parsed.kid), parsed.kid)
    if key is None:
        raise tokens.RequestTokenError("the request token is signed by an unknown key")
    verified = tokens.verify_request(parsed, key, issuer=issuer, now=time.time())
    if not configured and base != await services.realms.frontend_url(realm, verified.fingerprint):
        services.unknown_issuers[realm, base] = True
        raise tokens.RequestTokenError("the request token comes from an unknown Keycloak")
    return verified


_SKIP_REASONS = {
    PolicyOutcome.BYPASSED_BY_GROUP: Reason.BYPASS_GROUP,
    PolicyOutcome.NOT_ACTIVATED: Reason.NOT_ACTIVATED,
    PolicyOutcome.APP_OFF: Reason.APP_OFF,
    PolicyOutcome.IDP_OFF: Reason.IDP_OFF,
}


@dataclass(frozen=True)
class Prompt:
    """Run Duo's prompt with these credentials, for the user under this Duo name."""

    credentials: DuoCredentials
    duo_username: str


def duo_name(
    effective: EffectiveSettings,
    *,
    username: str,
    email: str | None,
    email_verified: bool,
    links: Sequence[IdpLink] = (),
    local_password: bool = True,
) -> str:
    """A user's Duo username under the realm's mapping; DuoConfigError if they have none
    (the step-up and the self-service activation name users alike)."""
    try:
        return duo_username(
            effective.username_mapping.value,
            realm=effective.realm,
            username=username,
            email=email,
            email_verified=email_verified,
            links=links,
            local_password=local_password,
            brokered=effective.brokered_username.value,
        )
    except ConfigError as exc:
        raise DuoConfigError(str(exc)) from None


async def _settings(
    services: StepUpServices,
    realm: str,
    fingerprint: str,
    organization: str | None,
    org_fingerprint: str,
) -> tuple[EffectiveSettings | None, EffectiveSettings]:
    """The login's settings: the realm's; or, for a member of a client organization (named
    by Keycloak in the signed request), the partner realm's and the organization's."""
    if not organization:
        return None, await services.realms.effective(realm, fingerprint)
    member = await services.realms.member(realm, fingerprint, organization, org_fingerprint)
    return member.partner, member.organization


async def _other_organizations(
    services: StepUpServices, request_token: tokens.StepUpRequest
) -> list[EffectiveSettings]:
    """The settings of the user's other client organizations (Keycloak's membership, named
    in the signed request): their policies apply too, whichever one the user selected."""
    return [
        (
            await services.realms.member(request_token.realm, request_token.fingerprint, *other)
        ).organization
        for other in request_token.organizations
        if other[0] != request_token.organization
    ]


async def _policy(
    services: StepUpServices, request_token: tokens.StepUpRequest
) -> tokens.Verdict | Prompt:
    """A verdict to give at once, or what to run Duo's prompt with.

    The whole decision is here, from the live attributes: the extension sends a login here
    when its record says Duo applies, and also whenever that record is out of date, so the
    application's mode is applied here too (``skip`` / ``app_off``)."""
    realm = request_token.realm
    try:
        partner, effective = await _settings(
            services,
            realm,
            request_token.fingerprint,
            request_token.organization,
            request_token.org_fingerprint,
        )
        others = await _other_organizations(services, request_token)
    except KeycloakError as exc:
        event(logger, "realm settings unavailable", realm=realm, reason=str(exc))
        return tokens.Verdict(Result.ERROR, Reason.SETTINGS_UNAVAILABLE)
    decision = decide_member(
        partner or effective,
        effective,
        request_token.client_id,
        request_token.groups,
        activated=request_token.activated,
        brokered=bool(request_token.idp_links),
        idp=request_token.idp,
        others=others,
    )
    if not decision.requires_duo:
        return tokens.Verdict(Result.SKIP, _SKIP_REASONS.get(decision.outcome, Reason.REALM_OFF))
    trusted = _upstream(services, effective, request_token)
    if trusted is not None:
        return trusted
    try:
        name = duo_name(
            effective,
            username=request_token.username,
            email=request_token.email,
            email_verified=request_token.email_verified,
            links=request_token.idp_links,
            local_password=request_token.local_password,
        )
    except DuoConfigError as exc:
        event(logger, "duo configuration fault", realm=realm, reason=str(exc))
        return tokens.Verdict(Result.ERROR, Reason.DUO_CONFIG)
    if request_token.idp_links and not request_token.local_password:
        unknown = await _unknown_to_duo(services, effective, name)
        if unknown is not None:
            return unknown
    checked = await _healthy_credentials(services, effective, realm, others)
    return checked if isinstance(checked, tokens.Verdict) else Prompt(checked, name)


def _upstream(
    services: StepUpServices, effective: EffectiveSettings, request_token: tokens.StepUpRequest
) -> tokens.Verdict | None:
    """An ``upstream`` verdict when this login's IdP is trusted for its MFA and its token
    proves it; None (Duo runs) otherwise, and a missing proof is logged."""
    policy = effective.idp_policy(request_token.idp)
    if policy is None or policy.mode is not IdpMode.TRUST_UPSTREAM_MFA:
        return None
    alias = request_token.idp or ""
    found = upstream.Upstream(
        alias,
        request_token.idp_provider,
        request_token.idp_id_token,
        request_token.idp_links,
        request_token.idp_saml_context,
        request_token.idp_saml_instant,
        local_account=request_token.local_password,
    )
    proof, missing = upstream.find_proof(policy, found, now=time.time())
    if proof is None:
        event(logger, "upstream mfa not proven", realm=effective.realm, idp=alias, reason=missing)
        return None
    services.metrics.upstream(effective.realm, alias)
    event(logger, "upstream mfa trusted", realm=effective.realm, idp=alias, proof=str(proof))
    return tokens.Verdict(
        Result.UPSTREAM, Reason.UPSTREAM_MFA, amr=proof.amr, idp=alias, proof=str(proof)
    )


async def _unknown_to_duo(
    services: StepUpServices, effective: EffectiveSettings, name: str
) -> tokens.Verdict | None:
    """In a ``known-only`` realm, a deny for a user an identity provider made whom Duo does
    not know yet (Auth API preauth answers ``enroll``), so no partner account enrols a phone
    at its first login; None (the prompt runs) otherwise. Without Auth API credentials, or
    with Duo unreachable, nothing is decided: an error."""
    if effective.brokered_enrollment.value is not BrokeredEnrollment.KNOWN_ONLY:
        return None
    realm = effective.realm
    try:
        creds = auth_api_credentials(services.keyring, effective)
        found = await _timed(services, "preauth", services.auth_api.preauth(creds, name))
    except DuoConfigError as exc:
        event(logger, "duo configuration fault", realm=realm, reason=str(exc))
        return tokens.Verdict(Result.ERROR, Reason.DUO_CONFIG)
    except DuoUnavailableError as exc:
        event(logger, "duo unavailable", realm=realm, reason=str(exc))
        return tokens.Verdict(Result.ERROR, Reason.DUO_UNAVAILABLE)
    except DuoProtocolError as exc:
        event(logger, "duo protocol error", realm=realm, reason=str(exc))
        return tokens.Verdict(Result.ERROR, Reason.DUO_PROTOCOL)
    if found.result is PreauthResult.ENROLL:
        event(logger, "brokered user unknown to duo", realm=realm, duo_username=name)
        return tokens.Verdict(Result.DENY, Reason.NOT_ENROLLED)
    return None


async def _healthy_credentials(
    services: StepUpServices,
    effective: EffectiveSettings,
    realm: str,
    others: Sequence[EffectiveSettings] = (),
) -> tokens.Verdict | DuoCredentials:
    """The credentials if Duo is healthy; otherwise the verdict, a bypass only on this
    login's own failed health check in a fail-open realm (and, for a member of client
    organizations, when every one of them fails open)."""
    fail_open = fails_open(effective, others)
    try:
        creds = duo_credentials(services.keyring, effective)
        owner = effective.credentials.realm or realm  # metrics name it, never the ikey
        # A fail-open realm's login always has its own answer from Duo before a bypass.
        check = services.gate.check(creds, owner=owner, fail_fast=not fail_open)
        await _timed(services, "health_check", check)
    except DuoConfigError as exc:
        event(logger, "duo configuration fault", realm=realm, reason=str(exc))
        return tokens.Verdict(Result.ERROR, Reason.DUO_CONFIG)
    except DuoUnavailableError as exc:
        event(logger, "duo unavailable", realm=realm, reason=str(exc))
        if fail_open and not isinstance(exc, CircuitOpenError):
            return tokens.Verdict(Result.BYPASS, Reason.DUO_UNAVAILABLE)
        return tokens.Verdict(Result.ERROR, Reason.DUO_UNAVAILABLE)
    return creds


def _digest(value: str) -> str:
    """A short one-way name for a nonce or a state, as the used-steps cookie keeps them."""
    return base64.urlsafe_b64encode(hashlib.sha256(value.encode()).digest()[:16]).decode()


def _used_steps(request: Request, services: StepUpServices, now: float) -> list[dict[str, Any]]:
    """The unexpired sign-in steps this browser finished (none if the cookie is unusable)."""
    value = request.cookies.get(USED_COOKIE)
    if not value or len(value) > cookie.MAX_COOKIE_LENGTH:
        return []
    try:
        entries = services.cookie_ring.open_json(value, _USED_AAD).get("used")
    except DecryptionError:
        return []
    if not isinstance(entries, list):
        return []
    return [
        entry
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("e"), int) and entry["e"] >= now
    ]


def _mark_used(
    response: Response, request: Request, services: StepUpServices, pending: cookie.Pending
) -> None:
    """Remember in the browser that this login's step ended: its nonce, state and restart."""
    now = time.time()
    entry = {
        "n": _digest(pending.nonce),
        "s": _digest(pending.state),
        "r": pages.restart_url(pending.issuer, pending.return_url) or "",
        "e": int(now) + USED_LIFETIME,
    }
    entries = [entry, *_used_steps(request, services, now)][:MAX_USED]
    response.set_cookie(
        USED_COOKIE,
        services.cookie_ring.seal_json({"used": entries}, _USED_AAD),
        max_age=USED_LIFETIME,
        path="/step-up",
        secure=services.settings.bridge_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )


def _already_started(
    request: Request, services: StepUpServices, request_token: tokens.StepUpRequest
) -> Response | None:
    """The page for a request token this browser already took to Duo, or None.

    One request token starts at most one Duo prompt (with real Duo, a push to the phone):
    while its prompt is open (the sealed pending cookie names its nonce) a second open is
    sent back to that tab, and once it finished (the used-steps cookie) it is refused as
    used. Both live in this browser's sealed cookies, so every replica answers alike; a
    second browser is not covered (see docs/step-up.md).
    """
    now = time.time()
    restart = pages.restart_url(request_token.issuer, request_token.return_url)
    nonce = _digest(request_token.nonce)
    if any(entry.get("n") == nonce for entry in _used_steps(request, services, now)):
        event(logger, "step-up request refused", reason="request token already used")
        return pages.already_used(restart=restart)
    held = cookie.peek_pending(
        request.cookies.get(cookie.COOKIE_NAME), services.cookie_ring, now=now
    )
    if held is not None and (held.issuer, held.nonce) == (
        request_token.issuer,
        request_token.nonce,
    ):
        event(logger, "step-up request refused", reason="request token already at Duo")
        return pages.in_progress(restart=restart)
    return None


async def step_up(request: Request) -> Response:
    services = _services(request)
    token = request.query_params.get("request", "")
    if not token or len(token) > MAX_PARAMETER:
        event(logger, "step-up request refused", reason="request token missing or too large")
        return pages.start_again(pages.BAD_LINK)
    try:
        request_token = await _verified_request(services, token)
    except tokens.RequestTokenError as exc:
        event(logger, "step-up request refused", reason=str(exc))
        return pages.start_again(pages.BAD_LINK)
    except KeycloakError as exc:
        event(logger, "step-up request unverifiable", reason=str(exc))
        return pages.start_again(pages.UNVERIFIABLE)
    started = _already_started(request, services, request_token)
    if started is not None:
        return started
    login = Login.of(request_token)
    decided = await _policy(services, request_token)
    if isinstance(decided, tokens.Verdict):
        return _verdict(services, login, decided)
    state = secrets.token_urlsafe(32)
    pending = cookie.Pending(
        state=state,
        duo_nonce=secrets.token_urlsafe(32),
        realm=login.realm,
        issuer=login.issuer,
        user_id=login.user_id,
        username=login.username,
        client_id=request_token.client_id,
        nonce=login.nonce,
        return_url=login.return_url,
        fingerprint=request_token.fingerprint,
        expires=int(time.time()) + PENDING_LIFETIME,
        duo_username=decided.duo_username,
        duo_ikey=decided.credentials.ikey,
        organization=request_token.organization or "",
        org_fingerprint=request_token.org_fingerprint,
    )
    url = services.duo.authorize_url(
        decided.credentials,
        redirect_uri=_callback_url(services),
        state=state,
        username=decided.duo_username,
        nonce=pending.duo_nonce,
    )
    response = RedirectResponse(url, status_code=302)
    response.set_cookie(
        cookie.COOKIE_NAME,
        cookie.seal(pending, services.cookie_ring),
        max_age=PENDING_LIFETIME,
        path="/step-up",
        secure=services.settings.bridge_url.startswith("https://"),
        httponly=True,
        samesite="lax",
    )
    response.headers["Cache-Control"] = "no-store"
    return response


async def callback(request: Request) -> Response:
    services = _services(request)
    params = request.query_params
    state = params.get("state", "")
    if not state or len(state) > MAX_STATE or any(len(v) > MAX_PARAMETER for v in params.values()):
        event(logger, "step-up callback refused", reason="state missing or values too large")
        return pages.start_again(pages.BAD_DUO_ANSWER)
    try:
        pending = cookie.open_sealed(
            request.cookies.get(cookie.COOKIE_NAME),
            services.cookie_ring,
            state=state,
            now=time.time(),
        )
    except cookie.CookieError as exc:
        event(logger, "step-up callback refused", reason=str(exc))
        return _callback_refused(request, services, state, str(exc))
    login = Login.of(pending)
    response = await _finish(services, login, pending, params.get("duo_code"), params.get("error"))
    response.delete_cookie(cookie.COOKIE_NAME, path="/step-up")
    _mark_used(response, request, services, pending)
    return response


# The cookie's refusals in the person's words, by the start of the logged reason.
_PLAIN_REFUSALS = (
    ("no pending step-up", pages.OTHER_BROWSER),
    ("the step-up cookie belongs to another", pages.NEWER_SIGN_IN),
    ("the step-up expired", pages.EXPIRED),
)


def _callback_refused(
    request: Request, services: StepUpServices, state: str, reason: str
) -> Response:
    """A callback this browser cannot finish: already used (a reload), or why not."""
    digest = _digest(state)
    for entry in _used_steps(request, services, time.time()):
        if entry.get("s") == digest:
            return pages.already_used(restart=str(entry.get("r") or "") or None)
    plain = next((text for start, text in _PLAIN_REFUSALS if reason.startswith(start)), None)
    return pages.start_again(plain or pages.DAMAGED)


async def _exchange(
    services: StepUpServices, pending: cookie.Pending, code: str
) -> dict[str, Any] | tokens.Verdict:
    """Duo's verified claims for ``code``, or the failing verdict. Never fails open, and
    never trips the circuit: the exchange is not a health check."""
    try:
        _, effective = await _settings(
            services,
            pending.realm,
            pending.fingerprint,
            pending.organization,
            pending.org_fingerprint,
        )
        creds = duo_credentials(services.keyring, effective, started_with=pending.duo_ikey)
    except KeycloakError:
        return tokens.Verdict(Result.ERROR, Reason.SETTINGS_UNAVAILABLE)
    except DuoConfigError:
        return tokens.Verdict(Result.ERROR, Reason.DUO_CONFIG)
    try:
        claims: dict[str, Any] = await _timed(
            services,
            "token",
            services.duo.exchange(
                creds,
                code=code,
                redirect_uri=_callback_url(services),
                username=pending.duo_username,
                nonce=pending.duo_nonce,
            ),
        )
    except DuoUnavailableError as exc:
        # This login's error only: no other login's fail-open follows from it.
        event(logger, "duo unavailable at the exchange", realm=pending.realm, reason=str(exc))
        return tokens.Verdict(Result.ERROR, Reason.DUO_UNAVAILABLE)
    except DuoConfigError:
        return tokens.Verdict(Result.ERROR, Reason.DUO_CONFIG)
    except DuoProtocolError as exc:
        event(logger, "duo answer refused", realm=pending.realm, reason=str(exc))
        return tokens.Verdict(Result.ERROR, Reason.DUO_PROTOCOL)
    return claims


def _verdict_of(claims: dict[str, Any]) -> tokens.Verdict:
    status = auth_status(claims)
    if status != "allow":
        return tokens.Verdict(Result.DENY, f"duo_{status}")
    context = claims.get("auth_context")
    context = context if isinstance(context, dict) else {}
    factor = str(context.get("factor") or "")
    return tokens.Verdict(
        Result.ALLOW,
        str(context.get("reason") or Reason.USER_APPROVED),
        factor=factor,
        amr=amr_for(factor),
        txid=str(context.get("txid") or ""),
        auth_time=int(claims.get("auth_time") or 0),
    )


async def _finish(
    services: StepUpServices,
    login: Login,
    pending: cookie.Pending,
    code: str | None,
    error: str | None,
) -> Response:
    if error:
        return _verdict(services, login, tokens.Verdict(Result.DENY, error[:64]))
    if not code:
        event(logger, "step-up callback refused", reason="Duo's answer carries no code")
        return pages.start_again(
            pages.BAD_DUO_ANSWER, restart=pages.restart_url(login.issuer, login.return_url)
        )
    exchanged = await _exchange(services, pending, code)
    if isinstance(exchanged, tokens.Verdict):
        return _verdict(services, login, exchanged)
    return _verdict(services, login, _verdict_of(exchanged))


async def healthz(request: Request) -> Response:
    del request
    return PlainTextResponse("ok\n")


async def readyz(request: Request) -> Response:
    services = _services(request)
    url = f"{services.settings.keycloak_url.rstrip('/')}/realms/master"
    try:
        answer = await services.keycloak_http.get(url)
    except httpx2.HTTPError:
        return PlainTextResponse("keycloak unreachable\n", status_code=503)
    if answer.status_code != httpx2.codes.OK:
        return PlainTextResponse("keycloak not ready\n", status_code=503)
    return PlainTextResponse("ready\n")


async def metrics(request: Request) -> Response:
    """Prometheus metrics, only with ``Authorization: Bearer <KDB_METRICS_TOKEN>``.

    Without the setting the path does not exist (404), so nothing is public by default.
    """
    services = _services(request)
    expected = services.settings.metrics_token
    if expected is None:
        return PlainTextResponse("Not Found", status_code=404)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(
        given.encode(), expected.get_secret_value().encode()
    ):
        return PlainTextResponse(
            "a bearer token is required\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return Response(services.metrics.render(), media_type=CONTENT_TYPE)


def routes() -> list[Route]:
    """The step-up routes and the operations' endpoints; the services are the app's
    ``state.services``, a :class:`StepUpServices`."""
    return [
        Route("/step-up", step_up),
        Route("/step-up/callback", callback),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
    ]
