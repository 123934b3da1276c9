"""What the Auth, Admin and Accounts API endpoints share: signed-request authentication,
Duo's ``stat`` envelope, parameters from the query or the body, and paging."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from keycloak_duo_bridge.emulator._http import connection, emulator_state
from keycloak_duo_bridge.emulator.errors import RestApiError, invalid_parameter
from keycloak_duo_bridge.emulator.rest_model import ApiCredential, ApiKind
from keycloak_duo_bridge.emulator.signing import (
    SignedRequest,
    parse_authorization,
    verify_signature,
)
from keycloak_duo_bridge.emulator.state import EmulatorState

__all__ = [
    "Caller",
    "Reply",
    "body_params",
    "page",
    "refusal_error",
    "rest_route",
    "signed_request",
]

Reply = tuple[Any, dict[str, Any] | None]  # (response, metadata)
Handler = Callable[[Request, "Caller"], Awaitable[Reply]]

_REFUSALS = {
    "admin_api_not_in_plan": "Your Duo plan does not include the Admin API.",
    "accounts_api_not_enabled": "The Accounts API is not enabled for this account.",
    "child_methods_on_request": (
        "This Admin API method is available for child accounts only on request to Duo."
    ),
}
_IN_CHILD_ONLY = "child_methods_on_request"


@dataclass(frozen=True)
class Caller:
    """An authenticated REST call: who signed it, the account it acts in, its parameters."""

    credential: ApiCredential
    account_id: str
    params: dict[str, str]
    version: int
    state: EmulatorState


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value)


def body_params(body: bytes, *, json_body: bool, form_body: bool) -> dict[str, str]:
    """Parameters from a JSON object body (v4, v5) or a form body (v2); 400 40002 if bad."""
    if json_body and body:
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise invalid_parameter("the JSON body does not parse") from exc
        if not isinstance(data, dict):
            raise invalid_parameter("the JSON body must be an object")
        return {str(k): _text(v) for k, v in data.items()}
    if form_body and body:
        return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    return {}


def _host_spellings(request: Request) -> frozenset[str]:
    host = (request.headers.get("host") or "").strip().lower()
    names = {host}
    if ":" in host.rsplit("]", 1)[-1]:  # a port follows the name (or the bracketed IPv6)
        names.add(host.rsplit(":", 1)[0])
    return frozenset(n for n in names if n)


async def signed_request(request: Request) -> SignedRequest:
    """The parts of ``request`` a Duo signature covers."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode()
    content_type = request.headers.get("content-type", "").lower()
    return SignedRequest(
        method=request.method,
        hosts=_host_spellings(request),
        path=raw_path.decode("latin-1").split("?", 1)[0],
        query=request.scope.get("query_string", b"").decode("latin-1"),
        body=await request.body(),
        form_body=content_type.startswith("application/x-www-form-urlencoded"),
        headers={k.lower(): v for k, v in request.headers.items()},
    )


def refusal_error(credential: ApiCredential) -> RestApiError | None:
    """The scripted plan/feature refusal of this credential, if any (one that holds only in
    child accounts is checked where the call names one)."""
    if credential.refusal is None or credential.refusal == _IN_CHILD_ONLY:
        return None
    return RestApiError(403, 40301, "Access forbidden", _REFUSALS[credential.refusal])


def _invalid_ikey() -> RestApiError:
    return RestApiError(401, 40102, "Invalid integration key in request credentials")


async def _authenticate(request: Request, kinds: Collection[ApiKind]) -> Caller:
    state = emulator_state(request)
    signed = await signed_request(request)
    ikey, signature = parse_authorization(request.headers.get("authorization"))
    credential = state.rest.credential(ikey)
    if credential is None or credential.kind not in kinds:
        raise _invalid_ikey()
    version = verify_signature(signed, credential.skey, signature, state.clock())
    refusal = refusal_error(credential)
    if refusal is not None:
        raise refusal
    content_type = request.headers.get("content-type", "").lower()
    params = dict(request.query_params.items())
    params.update(
        body_params(
            signed.body,
            json_body=content_type.startswith("application/json"),
            form_body=signed.form_body,
        )
    )
    account_id = credential.account_id
    admin = request.url.path.startswith("/admin/")
    child = params.pop("account_id", None) if admin else None
    if child is not None:
        account = state.rest.account(child)
        if credential.kind != "accountsapi" or account is None:
            raise invalid_parameter("account_id")
        if account.parent_id != credential.account_id:
            raise invalid_parameter("account_id")
        if credential.refusal == _IN_CHILD_ONLY:
            raise RestApiError(403, 40301, "Access forbidden", _REFUSALS[_IN_CHILD_ONLY])
        account_id = child
    elif credential.kind == "accountsapi" and admin:
        raise invalid_parameter("account_id (Accounts API credentials act in a child account)")
    return Caller(credential, account_id, params, version, state)


def _claimed_ikey(request: Request) -> str | None:
    """The ikey a refused call named, for the events list (never its signature)."""
    try:
        return parse_authorization(request.headers.get("authorization"))[0]
    except RestApiError:
        return None


def _ok(response: Any, metadata: dict[str, Any] | None) -> JSONResponse:
    body: dict[str, Any] = {"stat": "OK", "response": response}
    if metadata is not None:
        body["metadata"] = metadata
    return JSONResponse(body)


def rest_route(
    path: str, handler: Handler, *, methods: Sequence[str], kinds: Collection[ApiKind], event: str
) -> Route:
    """A route that authenticates the signed call, runs ``handler`` and answers the envelope."""

    async def endpoint(request: Request) -> Response:
        state = emulator_state(request)
        conn = connection(request)
        try:
            caller = await _authenticate(request, kinds)
            response, metadata = await handler(request, caller)
        except RestApiError as exc:
            state.record(
                event,
                str(exc.code),
                client_id=_claimed_ikey(request),
                detail=exc.detail or exc.message,
                connection=conn,
            )
            return JSONResponse(exc.body(), status_code=exc.status)
        state.record(
            event,
            "ok",
            client_id=caller.credential.ikey,
            detail=f"{request.method} {request.url.path}",
            connection=conn,
        )
        return _ok(response, metadata)

    return Route(path, endpoint, methods=list(methods))


def page(
    items: Sequence[Any], params: dict[str, str], *, default: int = 100, maximum: int = 300
) -> Reply:
    """One page of ``items`` by ``limit``/``offset``, with Duo's paging metadata."""
    try:
        limit = int(params.get("limit", default))
    except ValueError as exc:
        raise invalid_parameter("limit") from exc
    try:
        offset = int(params.get("offset", 0))
    except ValueError as exc:
        raise invalid_parameter("offset") from exc
    if limit < 1:
        raise invalid_parameter("limit")
    if offset < 0:
        raise invalid_parameter("offset")
    limit = min(limit, maximum)
    chunk = list(items[offset : offset + limit])
    metadata: dict[str, Any] = {"total_objects": len(items)}
    if offset + limit < len(items):
        metadata["next_offset"] = offset + limit
    if offset > 0:
        metadata["prev_offset"] = max(offset - limit, 0)
    return chunk, metadata
