"""The control API under ``/emulator/`` (JSON): integrations, users, faults, events."""

from __future__ import annotations

import re
import secrets
import string
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from keycloak_duo_bridge.duo.phone_numbers import normalize_e164
from keycloak_duo_bridge.emulator._http import emulator_state
from keycloak_duo_bridge.emulator.errors import EmulatorError
from keycloak_duo_bridge.emulator.model import (
    BEHAVIORS,
    FAULT_MODES,
    NEW_USER_POLICIES,
    Behavior,
    FaultMode,
    Faults,
    Integration,
    NewUserPolicy,
)

__all__ = [
    "DEFAULT_PHONE",
    "BadInputError",
    "new_client_id",
    "new_client_secret",
    "parse_faults",
    "parse_integration",
    "parse_user",
    "read_json",
    "routes",
]

DEFAULT_PHONE = "+15555550100"
_CLIENT_ID = re.compile(r"[A-Za-z0-9]{20}")
_CLIENT_SECRET = re.compile(r"[A-Za-z0-9]{40}")
_UPPER = string.ascii_uppercase + string.digits
_ALNUM = string.ascii_letters + string.digits


class BadInputError(EmulatorError):
    """A control request's body is invalid."""


def new_client_id() -> str:
    """A fresh client id (integration key) shaped like Duo's: ``DI`` and 18 characters."""
    return "DI" + "".join(secrets.choice(_UPPER) for _ in range(18))


def new_client_secret() -> str:
    """A fresh 40-character client secret."""
    return "".join(secrets.choice(_ALNUM) for _ in range(40))


def _choice(body: dict[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(key, default)
    if value not in allowed:
        raise BadInputError(f"{key} must be one of {', '.join(allowed)}")
    return str(value)


def parse_integration(body: dict[str, Any]) -> tuple[Integration, bool]:
    """An integration from a control body, and whether its credentials were generated."""
    client_id = body.get("client_id") or new_client_id()
    secret = body.get("client_secret")
    generated = not secret
    secret = secret or new_client_secret()
    if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
        raise BadInputError("client_id must be 20 letters or digits")
    if not isinstance(secret, str) or not _CLIENT_SECRET.fullmatch(secret):
        raise BadInputError("client_secret must be 40 letters or digits")
    policy = cast("NewUserPolicy", _choice(body, "new_user_policy", NEW_USER_POLICIES, "enroll"))
    name = body.get("name", "Web SDK")
    if not isinstance(name, str):
        raise BadInputError("name must be a string")
    integration = Integration(client_id, secret, policy, name)
    return integration, generated


async def read_json(request: Request) -> dict[str, Any]:
    """The request's JSON object body, or :class:`BadInputError`."""
    try:
        body = await request.json()
    except ValueError as exc:
        raise BadInputError("the body must be JSON") from exc
    if not isinstance(body, dict):
        raise BadInputError("the body must be a JSON object")
    return body


def _bad(exc: BadInputError) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=400)


async def add_integration(request: Request) -> Response:
    """``POST /emulator/integrations``."""
    try:
        integration, generated = parse_integration(await read_json(request))
    except BadInputError as exc:
        return _bad(exc)
    emulator_state(request).add_integration(integration)
    body: dict[str, Any] = integration.public()
    if generated:  # the caller could not know it otherwise
        body["client_secret"] = integration.client_secret
    return JSONResponse(body, status_code=201)


def parse_user(body: dict[str, Any]) -> tuple[Behavior, bool, str | None]:
    """``behavior``, ``enrolled`` and ``phone`` from a control body (an enrolled user gets a
    default phone)."""
    behavior = cast("Behavior", _choice(body, "behavior", BEHAVIORS, "prompt"))
    enrolled = body.get("enrolled", False)
    if not isinstance(enrolled, bool):
        raise BadInputError("enrolled must be true or false")
    phone = body.get("phone")
    if phone is None:
        return behavior, enrolled, DEFAULT_PHONE if enrolled else None
    number = normalize_e164(phone) if isinstance(phone, str) else None
    if number is None:
        raise BadInputError("phone must be an E.164 number such as +14155550123")
    return behavior, enrolled, number


async def put_user(request: Request) -> Response:
    """``PUT /emulator/users/{username}``."""
    try:
        behavior, enrolled, phone = parse_user(await read_json(request))
    except BadInputError as exc:
        return _bad(exc)
    user = emulator_state(request).put_user(
        request.path_params["username"], behavior=behavior, enrolled=enrolled, phone=phone
    )
    return JSONResponse(user.public())


async def get_user(request: Request) -> Response:
    """``GET /emulator/users/{username}``: the user, with the current passcode."""
    user = emulator_state(request).user(request.path_params["username"])
    if user is None:
        return JSONResponse({"error": "no such user"}, status_code=404)
    return JSONResponse(user.public())


def _faults_body(faults: Faults) -> dict[str, Any]:
    return {"health": faults.health, "token": faults.token, "latency_ms": faults.latency_ms}


def parse_faults(body: dict[str, Any]) -> Faults:
    """Faults from a control body; what is not given goes back to normal."""
    health = cast("FaultMode", _choice(body, "health", FAULT_MODES, "ok"))
    token = cast("FaultMode", _choice(body, "token", FAULT_MODES, "ok"))
    latency = body.get("latency_ms", 0)
    if not isinstance(latency, int) or isinstance(latency, bool) or latency < 0:
        raise BadInputError("latency_ms must be a non-negative integer")
    return Faults(health, token, latency)


async def put_faults(request: Request) -> Response:
    """``PUT /emulator/faults``."""
    try:
        faults = parse_faults(await read_json(request))
    except BadInputError as exc:
        return _bad(exc)
    emulator_state(request).faults = faults
    return JSONResponse(_faults_body(faults))


async def get_faults(request: Request) -> Response:
    """``GET /emulator/faults``."""
    return JSONResponse(_faults_body(emulator_state(request).faults))


async def events(request: Request) -> Response:
    """``GET /emulator/events``: every protocol call so far, oldest first."""
    return JSONResponse(emulator_state(request).events())


def routes() -> list[Route]:
    """The control routes."""
    return [
        Route("/emulator/integrations", add_integration, methods=["POST"]),
        Route("/emulator/users/{username}", put_user, methods=["PUT"]),
        Route("/emulator/users/{username}", get_user, methods=["GET"]),
        Route("/emulator/faults", put_faults, methods=["PUT"]),
        Route("/emulator/faults", get_faults, methods=["GET"]),
        Route("/emulator/events", events, methods=["GET"]),
    ]
