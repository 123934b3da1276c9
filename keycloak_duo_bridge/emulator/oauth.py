"""The three endpoints of Duo's OIDC Auth API, as Duo speaks them (§1, §2, §8)."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from keycloak_duo_bridge.duo import jose
from keycloak_duo_bridge.emulator._http import (
    connection,
    emulator_state,
    fault_response,
    hosts,
    latency,
    merged_params,
)
from keycloak_duo_bridge.emulator.assertions import (
    redirect_with,
    verify_authorization_request,
    verify_client_assertion,
)
from keycloak_duo_bridge.emulator.claims import ID_TOKEN_LIFETIME, id_token_claims
from keycloak_duo_bridge.emulator.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    RequestRejectedError,
    UnsupportedGrantTypeError,
)
from keycloak_duo_bridge.emulator.model import AuthResult, Transaction
from keycloak_duo_bridge.emulator.pages import render
from keycloak_duo_bridge.emulator.policy import decide

__all__ = ["AUTHORIZE_PATH", "HEALTH_CHECK_PATH", "TOKEN_PATH", "callback_url", "routes"]

HEALTH_CHECK_PATH = "/oauth/v1/health_check"
AUTHORIZE_PATH = "/oauth/v1/authorize"
TOKEN_PATH = "/oauth/v1/token"  # noqa: S105 - a path, not a secret
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# A refused health check answers its FAIL envelope with HTTP 200. Duo documents no status
# for it; the evidence is that Duo's Java SDK, which reads a body only from a 2xx answer,
# reports Duo's own "invalid_client" message for bad credentials (seen in a Keycloak
# authenticator's logs), and that Duo's Go and Node SDK tests serve the envelope as a 200.
# An outage (injected "fail") answers 503: by analogy with Duo's Auth API, whose envelope
# code starts with the HTTP status. docs/duo-emulator.md lists each choice and its evidence.
HEALTH_REFUSED_STATUS = 200
HEALTH_OUTAGE_STATUS = 503


def _health_fail(code: int, message: str, detail: str, now: float, status: int) -> JSONResponse:
    body = {
        "stat": "FAIL",
        "code": code,
        "message": message,
        "message_detail": detail,
        "timestamp": int(now),
    }
    return JSONResponse(body, status_code=status)


async def health_check(request: Request) -> Response:
    """``POST /oauth/v1/health_check``: verify the client assertion, answer the envelope."""
    state = emulator_state(request)
    await latency(state)
    params = await merged_params(request)
    now = state.clock()
    conn = connection(request)
    mode = state.faults.health
    if mode != "ok":
        state.record(
            "health_check", f"fault_{mode}", client_id=params.get("client_id"), connection=conn
        )
        outage = _health_fail(
            50301,
            "Service Unavailable",
            "The service is temporarily unavailable.",
            now,
            HEALTH_OUTAGE_STATUS,
        )
        return await fault_response(request, mode, outage)
    try:
        assertion = verify_client_assertion(
            params,
            lookup=state.integration,
            hosts=hosts(request),
            path=HEALTH_CHECK_PATH,
            now=now,
            require_assertion_type=False,
        )
        state.consume_jti(assertion)
    except InvalidClientError as exc:
        state.record(
            "health_check",
            "invalid_client",
            client_id=params.get("client_id"),
            detail=exc.detail,
            connection=conn,
        )
        return _health_fail(40002, "invalid_client", exc.description, now, HEALTH_REFUSED_STATUS)
    state.record("health_check", "ok", client_id=assertion.client_id, connection=conn)
    return JSONResponse({"stat": "OK", "response": {"timestamp": int(now)}})


def callback_url(txn: Transaction, code: str) -> str:
    """Where the browser returns: ``redirect_uri`` plus ``duo_code`` (or ``code``) and ``state``."""
    name = "duo_code" if txn.use_duo_code else "code"
    return redirect_with(txn.redirect_uri, {name: code, "state": txn.state})


async def authorize(request: Request) -> Response:
    """``GET /oauth/v1/authorize``: verify the request JWT, then run the prompt."""
    state = emulator_state(request)
    await latency(state)
    query = dict(request.query_params)
    conn = connection(request)
    try:
        auth = verify_authorization_request(
            query, lookup=state.integration, hosts=hosts(request), now=state.clock()
        )
    except InvalidRequestError as exc:
        state.record(
            "authorize",
            exc.oauth_error,
            client_id=query.get("client_id"),
            detail=exc.detail,
            connection=conn,
        )
        if exc.redirect_uri is None:
            return render("error.html", {"message": exc.detail}, status_code=400)
        params = exc.body()
        if exc.state is not None:
            params["state"] = exc.state
        return RedirectResponse(redirect_with(exc.redirect_uri, params), status_code=302)
    user = state.user(auth.username)
    decision = decide(auth.integration.new_user_policy, user)
    person = user is None or user.behavior == "prompt"
    ip = conn[0] if conn else ""
    agent = request.headers.get("user-agent", "")
    if isinstance(decision, AuthResult) and (decision.allowed or not person):
        txn = state.open_transaction(auth, access_ip=ip, user_agent=agent, step="choose")
        code = state.issue_code(txn, decision)
        outcome = "allow" if decision.allowed else "deny"
        state.record(
            "authorize",
            outcome,
            client_id=auth.client_id,
            username=auth.username,
            detail=decision.reason,
            connection=conn,
        )
        return RedirectResponse(callback_url(txn, code), status_code=302)
    step = "denied" if isinstance(decision, AuthResult) else decision
    txn = state.open_transaction(auth, access_ip=ip, user_agent=agent, step=step)
    if isinstance(decision, AuthResult):
        txn.outcome = decision
    state.record(
        "authorize",
        "prompt",
        client_id=auth.client_id,
        username=auth.username,
        detail=step,
        connection=conn,
    )
    return RedirectResponse(f"/frame/prompt/{txn.txn_id}", status_code=302)


async def token(request: Request) -> Response:
    """``POST /oauth/v1/token``: exchange a code for the signed 2FA result."""
    state = emulator_state(request)
    await latency(state)
    params = await merged_params(request)
    now = state.clock()
    conn = connection(request)
    mode = state.faults.token
    if mode != "ok":
        state.record("token", f"fault_{mode}", client_id=params.get("client_id"), connection=conn)
        outage = JSONResponse(
            {
                "error": "temporarily_unavailable",
                "error_description": "The service is temporarily unavailable.",
            },
            status_code=503,
        )
        return await fault_response(request, mode, outage)
    try:
        if params.get("grant_type") != "authorization_code":
            raise UnsupportedGrantTypeError(f"grant_type {params.get('grant_type')!r}")
        assertion = verify_client_assertion(
            params,
            lookup=state.integration,
            hosts=hosts(request),
            path=TOKEN_PATH,
            now=now,
            require_assertion_type=True,
        )
        state.consume_jti(assertion)
        code = params.get("code", "")
        if not code:
            raise InvalidGrantError("code is missing")
        grant = state.redeem(
            code, client_id=assertion.client_id, redirect_uri=params.get("redirect_uri")
        )
    except RequestRejectedError as exc:
        state.record(
            "token",
            exc.error,
            client_id=params.get("client_id"),
            detail=exc.detail,
            connection=conn,
        )
        return JSONResponse(exc.body(), status_code=exc.status_code, headers=NO_STORE)
    integration = assertion.integration
    claims = id_token_claims(
        grant,
        issuer=assertion.audience,  # the token URL exactly as the client spelled it
        integration=integration,
        user=state.user(grant.username),
        now=now,
    )
    body = {
        "id_token": jose.encode(claims, integration.client_secret, "HS512"),
        "access_token": secrets.token_urlsafe(32),
        "expires_in": ID_TOKEN_LIFETIME,
        "token_type": "Bearer",
    }
    state.record(
        "token",
        claims["auth_result"]["status"],
        client_id=grant.client_id,
        username=grant.username,
        detail=grant.outcome.reason,
        connection=conn,
    )
    return JSONResponse(body, headers=NO_STORE)


def routes() -> list[Route]:
    """The OAuth routes."""
    return [
        Route(HEALTH_CHECK_PATH, health_check, methods=["POST"]),
        Route(AUTHORIZE_PATH, authorize, methods=["GET"]),
        Route(TOKEN_PATH, token, methods=["POST"]),
    ]
