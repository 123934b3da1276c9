"""Duo's Admin and Accounts API answers, judged (pure functions).

Duo answers ``{"stat": "OK", "response": ..., "metadata": {...}}`` or ``{"stat": "FAIL",
"code": 40301, "message": "Access forbidden", "message_detail": "..."}``. Each refusal
becomes one error of the package's tree, once, with a message an administrator can act on:
which Duo plan, feature or permission is missing, and where to grant it.

Duo gates these APIs three ways, all answered 403 40301:

* the Admin API comes only with Duo's paid editions (Essentials, Advantage, Premier);
* the Accounts API only with a managed-service provider's parent account, enabled by Duo;
* some Admin API methods in child accounts only on request to Duo;
* each Admin API call needs a permission of the Admin API application ("Grant
  applications", "Grant read resource", ...), which the caller knows and names.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Final

from keycloak_duo_bridge.errors import (
    DuoApiError,
    DuoConfigError,
    DuoNotFoundError,
    DuoPermissionError,
    DuoUnavailableError,
)

__all__ = ["CONSOLE_NAMES", "Api", "Reply", "judge", "refusal_message"]

Reply = tuple[Any, dict[str, Any] | None]  # Duo's response, and its paging metadata

# The Admin API application's permission flags, and how Duo's Admin Panel labels them.
CONSOLE_NAMES: Final = {
    "adminapi_read_resource": "Grant read resource",
    "adminapi_write_resource": "Grant write resource",
    "adminapi_settings": "Grant settings",
    "adminapi_integrations": "Grant applications",
    "adminapi_admins": "Grant administrators",
    "adminapi_info": "Grant read information",
    "adminapi_read_log": "Grant read log",
}
_UNAUTHORIZED: Final = 401
_FORBIDDEN: Final = 403
_NOT_FOUND: Final = 404
_TOO_MANY: Final = 429
_SERVER: Final = 500


class Api(StrEnum):
    """Which of Duo's REST APIs a credential is for."""

    ADMIN = "admin"
    ACCOUNTS = "accounts"

    @property
    def label(self) -> str:
        """How Duo names the API."""
        return "Admin API" if self is Api.ADMIN else "Accounts API"


def refusal_message(detail: str, *, api: Api, permission: str | None, what: str) -> str:
    """What a 403 means and what to change, from Duo's detail and the permission needed."""
    lowered = detail.lower()
    if "plan" in lowered or "edition" in lowered:
        return (
            f"Duo refused to {what}: this Duo account's plan does not include the Admin API, "
            "which only Duo's paid editions (Essentials, Advantage, Premier) have; "
            "change the plan or link another account"
        )
    if "child account" in lowered:
        return (
            f"Duo refused to {what} in the client's child account: Duo makes this Admin API "
            "method available for child accounts only on request; ask Duo support to enable "
            "it for the parent account"
        )
    if "accounts api" in lowered or (api is Api.ACCOUNTS and permission is None):
        return (
            f"Duo refused to {what}: the Accounts API is not enabled for this account; "
            "Duo enables it only for managed-service providers' parent accounts, on request"
        )
    if permission is not None:
        grant = CONSOLE_NAMES.get(permission, permission)
        return (
            f"Duo refused to {what}: the Admin API application lacks the permission "
            f"'{grant}' ({permission}); grant it in Duo's Admin Panel "
            "(Applications, the Admin API application, Permissions)"
        )
    return f"Duo refused to {what}: {detail or 'access forbidden'}"


def _parse(body: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def judge(status: int, body: bytes, *, api: Api, what: str, permission: str | None) -> Reply:
    """``(response, metadata)`` of a successful call, or the error the refusal means."""
    parsed = _parse(body)
    if status >= _SERVER or status == _TOO_MANY:
        raise DuoUnavailableError(f"Duo's {api.label} could not {what} now (HTTP {status})")
    if parsed is None:
        raise DuoConfigError(
            f"Duo's {api.label} answered HTTP {status} without JSON: is the API host Duo's?"
        )
    if parsed.get("stat") == "OK" and status < 300:  # noqa: PLR2004 - the 2xx range
        metadata = parsed.get("metadata")
        return parsed.get("response"), metadata if isinstance(metadata, dict) else None
    message = str(parsed.get("message") or "refused")
    detail = str(parsed.get("message_detail") or "")
    said = f"{message} ({detail})" if detail else message
    if status == _UNAUTHORIZED:
        raise DuoConfigError(
            f"Duo rejected the {api.label} credentials: {said}; "
            "check the integration key, secret key and API host"
        )
    if status == _FORBIDDEN:
        raise DuoPermissionError(refusal_message(detail, api=api, permission=permission, what=what))
    if status == _NOT_FOUND:
        raise DuoNotFoundError(f"Duo could not {what}: {said}")
    raise DuoApiError(f"Duo refused to {what}: {said}")
