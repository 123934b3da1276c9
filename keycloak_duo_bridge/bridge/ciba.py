"""The bridge as Keycloak's CIBA HTTP authentication channel: ``POST /ciba/channel`` (#16).

Keycloak's ``ciba-http-auth-channel`` (one URI for the whole server) POSTs each request here
with its bearer token. The bridge verifies the token against the issuing realm's JWKS (so it
routes by the token's realm), answers ``201 Created`` at once (Keycloak waits for it inside
the client's request), then, in a background task: reads the realm's settings and the user,
applies the realm's policy (:mod:`.ciba_policy`), runs Duo's preauth and an async push
showing the ``binding_message``, polls ``auth_status`` (bounded by the request's expiry), and
calls Keycloak's callback with the same bearer token. Nothing is kept between the request
and the callback, so any replica takes any request; a replayed token is refused by the
replica that saw it (and Keycloak accepts one callback per request whichever replica sends
it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Final, Protocol
from urllib.parse import quote

import httpx2
from cachetools import TTLCache
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin.effective import (
    EffectiveSettings,
    decide_member,
    duo_username,
    fails_open,
)
from keycloak_duo_bridge.assurance import amr_for
from keycloak_duo_bridge.bridge import ciba_token, tokens
from keycloak_duo_bridge.bridge.ciba_policy import (
    ChannelStatus,
    Outcome,
    max_polls,
    of_outage,
    of_poll,
    of_preauth,
    refused_by_policy,
)
from keycloak_duo_bridge.bridge.ciba_token import ChannelRequest, ChannelTokenError
from keycloak_duo_bridge.bridge.realms import JwksCache, Member, RealmSource
from keycloak_duo_bridge.duo.auth_api import AuthApiClient
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.envelope import DecryptionError, KeyRing
from keycloak_duo_bridge.errors import (
    ConfigError,
    DuoConfigError,
    DuoProtocolError,
    DuoUnavailableError,
    KeycloakError,
    NotFoundError,
)
from keycloak_duo_bridge.logs import event
from keycloak_duo_bridge.settings import Settings
from keycloak_duo_bridge.signing import SigningKey
from keycloak_duo_bridge.verdict import Result

__all__ = ["CibaServices", "auth_api_credentials", "routes"]

logger = logging.getLogger("keycloak_duo_bridge.ciba")
PATH: Final = "/ciba/channel"
POLL_INTERVAL: Final = 1.0
MAX_BODY: Final = 16384
CALLBACK_ATTEMPTS: Final = 6  # Keycloak stores the request only after our 201
# The callback member that carries the signed verdict: Keycloak keeps it as the client-session
# note ciba_callback_response_param_kdb_verdict, which the extension's CIBA mapper verifies.
VERDICT_PARAM: Final = "kdb_verdict"
MAX_SEEN: Final = 65536


class CibaServices(Protocol):
    """What the channel needs, as the composition root provides it."""

    settings: Settings
    signing_key: SigningKey
    keyring: KeyRing
    realms: RealmSource
    jwks: JwksCache
    keycloak_http: httpx2.AsyncClient
    auth_api: AuthApiClient


@dataclass(frozen=True)
class CibaUser:
    """What the policy needs of the user Keycloak resolved."""

    username: str
    email: str | None
    email_verified: bool
    groups: tuple[str, ...]
    activated: bool


def auth_api_credentials(keyring: KeyRing, effective: EffectiveSettings) -> AuthApiCredentials:
    """The realm's Auth API credentials with the skey decrypted; DuoConfigError if unusable."""
    creds = effective.auth_api.value
    if creds is None:
        raise DuoConfigError(f"realm {effective.realm!r} has no Duo Auth API credentials")
    try:
        skey = keyring.decrypt(
            creds.skey_ciphertext, realm=creds.realm, attribute=attr.AUTH_API_SKEY
        )
    except DecryptionError as exc:
        raise DuoConfigError(str(exc)) from exc
    return AuthApiCredentials(creds.ikey, skey, creds.api_host)


async def _verified(services: CibaServices, token: str) -> ChannelRequest:
    """The token verified with its realm's published keys, from the configured Keycloak only."""
    parsed, issuer, realm = ciba_token.peek(token)
    if issuer != f"{services.settings.keycloak_url.rstrip('/')}/realms/{realm}":
        raise ChannelTokenError("the bearer token comes from an unknown Keycloak")
    try:
        keys = await services.jwks.jwks(realm, parsed.kid)
    except KeycloakError as exc:
        raise ChannelTokenError(f"the realm's keys are unavailable: {exc}") from None
    key = tokens.key_for(keys, parsed.kid)
    if key is None:
        raise ChannelTokenError("the bearer token is signed by an unknown key")
    return ciba_token.verify(token, key, now=time.time())


async def _user(services: CibaServices, realm: str, user_id: str) -> CibaUser:
    base = f"{quote(realm, safe='')}/users/{quote(user_id, safe='')}"
    user: dict[str, Any] = await services.realms.admin_json(base)
    groups = await services.realms.admin_json(f"{base}/groups?briefRepresentation=true&max=1000")
    attributes = user.get("attributes") or {}
    activated = attributes.get(attr.USER_ACTIVATED) or []
    return CibaUser(
        username=str(user.get("username") or ""),
        email=user["email"] if isinstance(user.get("email"), str) else None,
        email_verified=user.get("emailVerified") is True,
        groups=tuple(str(g["path"]) for g in groups if isinstance(g, dict) and g.get("path")),
        activated="true" in activated,
    )


async def _push_and_wait(
    client: AuthApiClient,
    creds: AuthApiCredentials,
    name: str,
    request: ChannelRequest,
    *,
    binding: str | None,
    sleep: Callable[[float], Awaitable[None]],
) -> Outcome:
    refusal = of_preauth(await client.preauth(creds, name))
    if refusal is not None:
        return refusal
    txid = await client.push(creds, name, binding_message=binding)
    polls = max_polls(now=time.time(), expires=request.expires, interval=POLL_INTERVAL)
    for _ in range(polls):
        outcome = of_poll(await client.auth_status(creds, txid))
        if outcome is not None:
            return replace(outcome, txid=txid)
        await sleep(POLL_INTERVAL)
    return Outcome(ChannelStatus.CANCELLED, "no_answer_in_time")


async def authenticate(
    services: CibaServices,
    request: ChannelRequest,
    binding: str | None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Outcome:
    """The whole decision for one CIBA request: policy, then Duo Push.

    A member of a client organization gets its settings, as in a browser login: its Duo
    integration, and Duo when the partner realm's policy or the organization's requires it.
    CIBA has no organization selection, so a member of several client organizations is
    refused rather than pushed through one picked for them."""
    decided = await _policy(services, request)
    if isinstance(decided, Outcome):
        return decided
    effective, user = decided
    fail_open = fails_open(effective)
    try:
        creds = auth_api_credentials(services.keyring, effective)
        name = _duo_name(effective, user)
        return await _push_and_wait(
            services.auth_api, creds, name, request, binding=binding, sleep=sleep
        )
    except DuoUnavailableError as exc:
        event(logger, "duo unavailable", realm=request.realm, reason=str(exc))
        return of_outage(fail_open=fail_open)
    except DuoConfigError as exc:
        event(logger, "duo configuration fault", realm=request.realm, reason=str(exc))
        return Outcome(ChannelStatus.CANCELLED, "duo_config")
    except DuoProtocolError as exc:
        event(logger, "duo answer refused", realm=request.realm, reason=str(exc))
        return Outcome(ChannelStatus.CANCELLED, "duo_protocol")


async def _policy(
    services: CibaServices, request: ChannelRequest
) -> tuple[EffectiveSettings, CibaUser] | Outcome:
    """The settings to push with and the user, or the refusal when the settings cannot be
    read, the organization is ambiguous, or the policy asks no Duo."""
    try:
        # a fingerprint of its own: CIBA reads the realm afresh (the user is read anyway)
        fingerprint = f"ciba:{time.time_ns()}"
        effective = await services.realms.effective(request.realm, fingerprint)
        user = await _user(services, request.realm, request.user_id)
        members = await _organizations(services, request, fingerprint)
    except KeycloakError as exc:
        event(logger, "ciba settings unavailable", realm=request.realm, reason=str(exc))
        return Outcome(ChannelStatus.CANCELLED, "settings_unavailable")
    if len(members) > 1:
        event(logger, "ciba organization ambiguous", realm=request.realm, count=len(members))
        return Outcome(ChannelStatus.UNAUTHORIZED, "organization_ambiguous")
    partner = effective
    if members:
        partner, effective = members[0].partner, members[0].organization
    decision = decide_member(
        partner, effective, request.client_id, user.groups, activated=user.activated
    )
    if not decision.requires_duo:
        return refused_by_policy(decision)
    return effective, user


async def _organizations(
    services: CibaServices, request: ChannelRequest, fingerprint: str
) -> list[Member]:
    """The settings of each client organization the user is a member of (Keycloak's
    membership, one read; none when the realm has organizations off, where Keycloak answers
    404); other organizations are left out."""
    base = f"{quote(request.realm, safe='')}/organizations"
    try:
        listed = await services.realms.admin_json(
            f"{base}/members/{quote(request.user_id, safe='')}/organizations"
        )
    except NotFoundError:
        return []
    found = []
    for organization in listed:
        try:
            found.append(
                await services.realms.member(
                    request.realm, fingerprint, str(organization["id"]), fingerprint
                )
            )
        except NotFoundError:  # not a client organization (or gone since)
            continue
    return found


def _duo_name(effective: EffectiveSettings, user: CibaUser) -> str:
    try:
        return duo_username(
            effective.username_mapping.value,
            realm=effective.realm,
            username=user.username,
            email=user.email,
            email_verified=user.email_verified,
        )
    except ConfigError as exc:
        raise DuoConfigError(str(exc)) from None


def signed_verdict(services: CibaServices, request: ChannelRequest, outcome: Outcome) -> str:
    """The verdict of an approval, signed as the browser step-up's is, for this realm, user
    and client, valid until the CIBA request expires (Keycloak's token endpoint reads it)."""
    now = time.time()
    verdict = tokens.Verdict(
        Result.ALLOW,
        outcome.reason,
        factor=outcome.factor,
        txid=outcome.txid,
        auth_time=int(now),
        amr=amr_for(outcome.factor),
    )
    return tokens.sign_verdict(
        verdict,
        services.signing_key,
        issuer=request.issuer,
        user_id=request.user_id,
        nonce=request.auth_result_id,
        bridge_url=services.settings.bridge_url,
        now=now,
        lifetime=max(1, request.expires - int(now)),
        kind=tokens.CIBA_VERDICT_TYPE,
        client_id=request.client_id,
    )


async def notify(
    services: CibaServices,
    request: ChannelRequest,
    outcome: Outcome,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> bool:
    """Call Keycloak's CIBA callback with the request's own bearer token; True once taken.
    An approval carries the bridge's signed verdict.

    Keycloak stores the request only after the channel's 201, so an early callback may find
    nothing (403): it is sent again, a few times, with growing pauses.
    """
    headers = {"Authorization": f"Bearer {request.token}"}
    body = {"status": outcome.status.value}
    if outcome.status is ChannelStatus.SUCCEED:
        body[VERDICT_PARAM] = signed_verdict(services, request, outcome)
    for attempt in range(CALLBACK_ATTEMPTS):
        try:
            answer = await services.keycloak_http.post(
                request.callback_url, json=body, headers=headers
            )
        except httpx2.HTTPError as exc:
            reason = type(exc).__name__
        else:
            if answer.status_code == httpx2.codes.OK:
                return True
            reason = f"HTTP {answer.status_code}"
        event(logger, "ciba callback refused", realm=request.realm, reason=reason)
        await sleep(0.2 * 2**attempt)
    return False


async def _run(services: CibaServices, request: ChannelRequest, binding: str | None) -> None:
    outcome = await authenticate(services, request, binding)
    if outcome.reason == "duo_fraud":
        logger.warning(
            "duo push reported as fraud",
            extra={"fields": {"realm": request.realm, "user_id": request.user_id}},
        )
    event(
        logger,
        "ciba outcome",
        realm=request.realm,
        user_id=request.user_id,
        client=request.client_id,
        status=outcome.status.value,
        reason=outcome.reason,
        factor=outcome.factor,
        txid=outcome.txid,
    )
    await notify(services, request, outcome)


def _refuse(reason: str, status: int = 401) -> Response:
    event(logger, "ciba channel request refused", reason=reason)
    return JSONResponse(
        {"error": "invalid_token" if status == 401 else "invalid_request"},  # noqa: PLR2004
        status_code=status,
        headers={"WWW-Authenticate": 'Bearer realm="ciba"'} if status == 401 else None,  # noqa: PLR2004
    )


def routes() -> list[Route]:
    """The channel route; each application gets its own memory of the tokens it took."""
    seen: TTLCache[str, bool] = TTLCache(MAX_SEEN, ciba_token.MAX_LIFETIME)

    async def channel(request: Request) -> Response:
        services: CibaServices = request.app.state.services
        try:
            token = ciba_token.bearer(request.headers.get("authorization"))
            verified = await _verified(services, token)
        except ChannelTokenError as exc:
            return _refuse(str(exc))
        key = f"{verified.issuer} {verified.auth_result_id}"
        if key in seen:
            return _refuse("the bearer token was already used")
        raw = await request.body()
        try:
            body = ciba_token.parse_body(raw, MAX_BODY)
        except ChannelTokenError as exc:
            return _refuse(str(exc), 400)
        seen[key] = True
        binding = ciba_token.binding_message(body)
        return Response(
            status_code=201, background=BackgroundTask(_run, services, verified, binding)
        )

    return [Route(PATH, channel, methods=["POST"])]
