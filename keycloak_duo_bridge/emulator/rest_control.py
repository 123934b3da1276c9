"""The control API for the REST APIs: API credentials, push scripts, and the pushes sent."""

from __future__ import annotations

import re
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from keycloak_duo_bridge.emulator._http import emulator_state
from keycloak_duo_bridge.emulator.control import (
    BadInputError,
    new_client_id,
    new_client_secret,
    read_json,
)
from keycloak_duo_bridge.emulator.model import NEW_USER_POLICIES
from keycloak_duo_bridge.emulator.rest_model import (
    ADMIN_PERMISSIONS,
    API_KINDS,
    GRANT_ALIASES,
    MAIN_ACCOUNT_ID,
    PUSH_ANSWERS,
    REFUSALS,
    ApiCredential,
    ApiKind,
    PushAnswer,
    PushScript,
    Refusal,
)

__all__ = ["MAX_PUSH_DELAY", "parse_credential", "parse_push_script", "routes"]

MAX_PUSH_DELAY = 600.0
_IKEY = re.compile(r"[A-Za-z0-9]{20}")
_SKEY = re.compile(r"[A-Za-z0-9]{40}")


def _one_of(body: dict[str, Any], key: str, allowed: tuple[str, ...], default: Any) -> Any:
    value = body.get(key, default)
    if value != default and value not in allowed:
        raise BadInputError(f"{key} must be one of {', '.join(allowed)}")
    return value


def parse_credential(body: dict[str, Any]) -> tuple[ApiCredential, bool]:
    """An API credential from a control body, and whether its secret was generated."""
    kind = cast("ApiKind", _one_of(body, "kind", API_KINDS, None))
    if kind is None:
        raise BadInputError(f"kind must be one of {', '.join(API_KINDS)}")
    ikey = body.get("ikey") or new_client_id()
    skey = body.get("skey")
    generated = not skey
    skey = skey or new_client_secret()
    if not isinstance(ikey, str) or not _IKEY.fullmatch(ikey):
        raise BadInputError("ikey must be 20 letters or digits")
    if not isinstance(skey, str) or not _SKEY.fullmatch(skey):
        raise BadInputError("skey must be 40 letters or digits")
    permissions = body.get("permissions", list(ADMIN_PERMISSIONS) if kind == "adminapi" else [])
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise BadInputError(f"permissions must be a list of {', '.join(ADMIN_PERMISSIONS)}")
    permissions = [GRANT_ALIASES.get(p, p) for p in permissions]
    if not set(permissions) <= set(ADMIN_PERMISSIONS):
        raise BadInputError(f"permissions must be a list of {', '.join(ADMIN_PERMISSIONS)}")
    refusal = cast("Refusal | None", _one_of(body, "refusal", REFUSALS, None))
    policy = _one_of(body, "enroll_policy", NEW_USER_POLICIES, "enroll")
    name = body.get(
        "name", {"authapi": "Auth API", "adminapi": "Admin API"}.get(kind, "Accounts API")
    )
    if not isinstance(name, str):
        raise BadInputError("name must be a string")
    account_id = body.get("account_id", MAIN_ACCOUNT_ID)
    if not isinstance(account_id, str) or not _IKEY.fullmatch(account_id):
        raise BadInputError("account_id must be 20 letters or digits")
    credential = ApiCredential(
        ikey=ikey,
        skey=skey,
        kind=kind,
        name=name,
        account_id=account_id,
        permissions=frozenset(permissions),
        refusal=refusal,
        enroll_policy=policy,
    )
    return credential, generated


def parse_push_script(body: dict[str, Any]) -> PushScript:
    """A push script from a control body: ``answer`` and ``delay`` (seconds)."""
    answer = cast("PushAnswer", _one_of(body, "answer", PUSH_ANSWERS, "approve"))
    delay = body.get("delay", 0)
    if isinstance(delay, bool) or not isinstance(delay, int | float):
        raise BadInputError("delay must be a number of seconds")
    if not 0 <= delay <= MAX_PUSH_DELAY:
        raise BadInputError(f"delay must lie between 0 and {MAX_PUSH_DELAY:g} seconds")
    return PushScript(answer, float(delay))


def _bad(exc: BadInputError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=400)


async def add_credential(request: Request) -> Response:
    """``POST /emulator/api_credentials``."""
    try:
        credential, generated = parse_credential(await read_json(request))
    except BadInputError as exc:
        return _bad(exc)
    emulator_state(request).rest.put_credential(credential)
    body = credential.public()
    if generated:  # the caller could not know it otherwise
        body["skey"] = credential.skey
    return JSONResponse(body, status_code=201)


async def put_push_script(request: Request) -> Response:
    """``PUT /emulator/users/{username}/push``."""
    try:
        script = parse_push_script(await read_json(request))
    except BadInputError as exc:
        return _bad(exc)
    emulator_state(request).rest.script_push(request.path_params["username"], script)
    return JSONResponse({"answer": script.answer, "delay": script.delay})


async def pushes(request: Request) -> Response:
    """``GET /emulator/pushes``: every push the Auth API sent, oldest first."""
    return JSONResponse([p.public() for p in emulator_state(request).rest.pushes()])


def routes() -> list[Route]:
    """The REST control routes."""
    return [
        Route("/emulator/api_credentials", add_credential, methods=["POST"]),
        Route("/emulator/users/{username}/push", put_push_script, methods=["PUT"]),
        Route("/emulator/pushes", pushes, methods=["GET"]),
    ]
