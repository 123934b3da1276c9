"""CIBA poll mode and the device authorization grant as pure functions: Keycloak's answers
judged (OpenID CIBA core, §7-§11; RFC 8628, §3.2-§3.5: the two share their polling errors)."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Final

from keycloak_duo_bridge.errors import BridgeError

__all__ = [
    "DEVICE_GRANT_TYPE",
    "GRANT_TYPE",
    "DeviceStarted",
    "LoginError",
    "Pending",
    "Started",
    "judge_device_start",
    "judge_ping",
    "judge_poll",
    "judge_start",
]

GRANT_TYPE: Final = "urn:openid:params:grant-type:ciba"
DEVICE_GRANT_TYPE: Final = "urn:ietf:params:oauth:grant-type:device_code"
_OK: Final = 200
DEFAULT_INTERVAL: Final = 5
SLOW_DOWN_STEP: Final = 5  # CIBA core §11: add 5 seconds on slow_down


class LoginError(BridgeError):
    """Keycloak refused or failed the login; the message says why (never a token)."""


@dataclass(frozen=True)
class Started:
    """Keycloak took the request: poll with this id, this often, until it expires."""

    auth_req_id: str = field(repr=False)
    expires_in: int
    interval: int


@dataclass(frozen=True)
class DeviceStarted:
    """Keycloak took a device authorization: the person opens the URI on any device and
    enters the code, while this client polls with the device code."""

    device_code: str = field(repr=False)
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int


@dataclass(frozen=True)
class Pending:
    """Not answered yet: poll again after ``interval`` seconds."""

    interval: int


def _error(body: Any) -> tuple[str, str]:
    if not isinstance(body, dict):
        return "unknown_error", ""
    return str(body.get("error") or "unknown_error"), str(body.get("error_description") or "")


def _refused(status: int, body: Any) -> LoginError:
    error, description = _error(body)
    detail = f": {description[:200]}" if description else ""
    return LoginError(f"Keycloak refused the login (HTTP {status}, {error}{detail})")


def judge_start(status: int, body: Any) -> Started:
    """The backchannel authentication endpoint's answer."""
    if status != _OK or not isinstance(body, dict):
        raise _refused(status, body)
    req_id, expires = body.get("auth_req_id"), body.get("expires_in")
    if not isinstance(req_id, str) or not req_id or not isinstance(expires, int):
        raise LoginError("Keycloak's answer names no auth_req_id or expiry")
    interval = body.get("interval")
    return Started(req_id, expires, interval if isinstance(interval, int) else DEFAULT_INTERVAL)


def judge_device_start(status: int, body: Any) -> DeviceStarted:
    """The device authorization endpoint's answer (RFC 8628 §3.2)."""
    if status != _OK or not isinstance(body, dict):
        raise _refused(status, body)
    texts = [body.get(name) for name in ("device_code", "user_code", "verification_uri")]
    expires = body.get("expires_in")
    if not all(isinstance(t, str) and t for t in texts) or not isinstance(expires, int):
        raise LoginError("Keycloak's answer names no device code, user code, URI or expiry")
    complete, interval = body.get("verification_uri_complete"), body.get("interval")
    return DeviceStarted(
        device_code=str(texts[0]),
        user_code=str(texts[1]),
        verification_uri=str(texts[2]),
        verification_uri_complete=complete if isinstance(complete, str) and complete else None,
        expires_in=expires,
        interval=interval if isinstance(interval, int) else DEFAULT_INTERVAL,
    )


def judge_poll(status: int, body: Any, interval: int) -> Pending | dict[str, Any]:
    """The token endpoint's answer: the tokens, Pending, or LoginError."""
    if status == _OK and isinstance(body, dict) and "access_token" in body:
        return body
    error, _ = _error(body)
    if error == "authorization_pending":
        return Pending(interval)
    if error == "slow_down":
        return Pending(interval + SLOW_DOWN_STEP)
    if error == "access_denied":
        raise LoginError(
            "the login was refused (the push was denied, or Duo or the user did not allow it)"
        )
    if error == "expired_token":
        raise LoginError("the login expired before it was completed")
    raise _refused(status, body)


def judge_ping(authorization: str | None, body: bytes, *, token: str) -> bool:
    """Keycloak's ping of this login (CIBA core §10.2): ``Bearer <client_notification_token>``
    and a JSON body naming an ``auth_req_id``."""
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented.strip().encode(), token.encode()
    ):
        return False
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    return isinstance(parsed, dict) and isinstance(parsed.get("auth_req_id"), str)
