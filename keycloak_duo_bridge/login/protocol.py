"""CIBA poll mode as pure functions: Keycloak's answers judged (OpenID CIBA core, §7-§11)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from keycloak_duo_bridge.errors import BridgeError

__all__ = ["GRANT_TYPE", "LoginError", "Pending", "Started", "judge_poll", "judge_start"]

GRANT_TYPE: Final = "urn:openid:params:grant-type:ciba"
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
        raise LoginError("the login was refused (the push was denied, or Duo did not allow it)")
    if error == "expired_token":
        raise LoginError("the login expired before the push was answered")
    raise _refused(status, body)
