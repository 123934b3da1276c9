"""Duo's Auth API v2 (``/auth/v2/*``), as ``duo_client.Auth`` calls it (issue #16).

Pure functions decide each answer; the endpoints only read the request and the state.
Answers documented by Duo (``duo_client`` docstrings, its ``examples/Auth`` logs, duo_unix's
mock) and the ones inferred are listed in docs/duo-emulator.md.
"""

from __future__ import annotations

from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from keycloak_duo_bridge.duo.phone_numbers import mask
from keycloak_duo_bridge.emulator._http import HANG_LIMIT, emulator_state
from keycloak_duo_bridge.emulator.errors import invalid_parameter, missing_parameter
from keycloak_duo_bridge.emulator.model import User
from keycloak_duo_bridge.emulator.rest_http import Caller, Reply, rest_route
from keycloak_duo_bridge.emulator.rest_model import ApiKind, Push, PushAnswer, PushScript
from keycloak_duo_bridge.emulator.state import EmulatorState

__all__ = [
    "devices",
    "final_result",
    "preauth_answer",
    "push_status",
    "routes",
    "script_from_behavior",
]

_FINAL: dict[str, dict[str, str]] = {
    "approve": {"result": "allow", "status": "allow", "status_msg": "Success. Logging you in..."},
    "deny": {"result": "deny", "status": "deny", "status_msg": "Login request denied."},
    "fraud": {
        "result": "deny",
        "status": "fraud",
        "status_msg": "Login request reported as fraudulent.",
    },
    "timeout": {"result": "deny", "status": "timeout", "status_msg": "Login timed out."},
}
WAITING = {
    "result": "waiting",
    "status": "pushed",
    "status_msg": "Pushed a login request to your device...",
}
CAPABILITIES = ["auto", "push", "sms", "phone", "mobile_otp"]
_BEHAVIOR_ANSWERS: dict[str, PushAnswer] = {"deny": "deny", "timeout": "timeout"}


def devices(user: User) -> list[dict[str, Any]]:
    """The user's devices as preauth lists them (one phone per emulated user)."""
    if not user.enrolled or not user.phone:
        return []
    number = mask(user.phone)
    return [
        {
            "device": user.device_key,
            "type": "phone",
            "number": number,
            "name": "",
            "display_name": f"Phone ({number})",
            "capabilities": list(CAPABILITIES),
        }
    ]


def preauth_answer(user: User | None, policy: str, portal: str) -> dict[str, Any]:
    """``/auth/v2/preauth``'s answer: ``auth`` with devices, or what the new-user policy says."""
    if user is not None and user.enrolled:
        return {"result": "auth", "status_msg": "Account is active", "devices": devices(user)}
    if policy == "allow":
        return {"result": "allow", "status_msg": "Allowing unknown user"}
    if policy == "deny":
        return {"result": "deny", "status_msg": "Login denied"}
    return {
        "result": "enroll",
        "status_msg": "Enroll an authentication device to proceed",
        "enroll_portal_url": portal,
    }


def script_from_behavior(user: User) -> PushScript:
    """A push script from the user's prompt ``behavior`` when none was set: ``deny`` and
    ``timeout`` answer so, ``allow`` and ``prompt`` approve at once."""
    answer = _BEHAVIOR_ANSWERS.get(user.behavior, "approve")
    return PushScript(answer)


def final_result(answer: PushAnswer) -> dict[str, str]:
    """How an answered push reads in ``/auth/v2/auth`` and ``auth_status``."""
    return dict(_FINAL[answer])


def push_status(push: Push, now: float) -> dict[str, str]:
    """``auth_status`` for a push: waiting until its delay is over, then its answer."""
    if now < push.sent_at + push.delay:
        return dict(WAITING)
    return final_result(push.answer)


def _user(state: EmulatorState, params: dict[str, str]) -> User | None:
    if "user_id" in params:
        return state.user_by_key(params["user_id"])
    if "username" in params:
        return state.user(params["username"])
    raise missing_parameter("username or user_id")


async def ping(request: Request) -> Response:
    """``GET /auth/v2/ping``: unsigned liveness, with Duo's clock."""
    now = int(emulator_state(request).clock())
    return JSONResponse({"stat": "OK", "response": {"time": now}})


async def check(_request: Request, caller: Caller) -> Reply:
    """``GET /auth/v2/check``: the credentials and signature are good."""
    return {"time": int(caller.state.clock())}, None


async def preauth(request: Request, caller: Caller) -> Reply:
    """``POST /auth/v2/preauth``."""
    user = _user(caller.state, caller.params)
    if user is None and "user_id" in caller.params:
        raise invalid_parameter("user_id")
    portal = f"https://{request.headers.get('host', '')}/portal?code=" + caller.credential.ikey
    return preauth_answer(user, caller.credential.enroll_policy, portal), None


def _push(caller: Caller, user: User) -> Push:
    params = caller.params
    device = params.get("device", "auto")
    if not user.enrolled or device not in {"auto", user.device_key}:
        raise invalid_parameter("device")
    script = caller.state.rest.push_script(user.username) or script_from_behavior(user)
    return caller.state.rest.send_push(
        Push(
            txid="",
            username=user.username,
            device=user.device_key,
            sent_at=caller.state.clock(),
            answer=script.answer,
            delay=script.delay,
            pushinfo=params.get("pushinfo", ""),
            type=params.get("type", ""),
            display_username=params.get("display_username", ""),
            ipaddr=params.get("ipaddr", ""),
        )
    )


async def auth(_request: Request, caller: Caller) -> Reply:
    """``POST /auth/v2/auth``: factor ``push``/``auto`` (sync or ``async=1``) or ``passcode``."""
    params = caller.params
    factor = params.get("factor")
    if not factor:
        raise missing_parameter("factor")
    user = _user(caller.state, params)
    if user is None:
        raise invalid_parameter("user_id" if "user_id" in params else "username")
    if factor == "passcode":
        passcode = params.get("passcode")
        if not passcode:
            raise missing_parameter("passcode")
        if caller.state.use_passcode(user.username, passcode):
            return final_result("approve"), None
        return {
            "result": "deny",
            "status": "deny",
            "status_msg": "Incorrect passcode. Please try again.",
        }, None
    if factor not in {"push", "auto"}:
        raise invalid_parameter("factor")
    push = _push(caller, user)
    if params.get("async") == "1":
        return {"txid": push.txid}, None
    await anyio.sleep(min(push.delay, HANG_LIMIT))
    return final_result(push.answer), None


async def auth_status(_request: Request, caller: Caller) -> Reply:
    """``GET /auth/v2/auth_status?txid=``."""
    txid = caller.params.get("txid")
    if not txid:
        raise missing_parameter("txid")
    push = caller.state.rest.push(txid)
    if push is None:
        raise invalid_parameter("txid")
    return push_status(push, caller.state.clock()), None


def routes() -> list[Route]:
    """The Auth API routes."""
    kinds: tuple[ApiKind, ...] = ("authapi",)
    return [
        Route("/auth/v2/ping", ping, methods=["GET"]),
        rest_route("/auth/v2/check", check, methods=["GET"], kinds=kinds, event="auth_api"),
        rest_route("/auth/v2/preauth", preauth, methods=["POST"], kinds=kinds, event="auth_api"),
        rest_route("/auth/v2/auth", auth, methods=["POST"], kinds=kinds, event="auth_api"),
        rest_route(
            "/auth/v2/auth_status", auth_status, methods=["GET"], kinds=kinds, event="auth_api"
        ),
    ]
