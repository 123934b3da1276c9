"""Duo's Auth API v2 as pure functions: signed requests out, judged answers back (#16).

No I/O here. Requests are signed as ``duo_client`` 5.x signs them by default (signature
version 5): the canonical request is the date, the method, the lower-cased host, the path,
the sorted OAuth-1.0-style query parameters, ``sha512(body)`` and ``sha512`` of the
NUL-joined ``X-Duo-*`` headers (none are sent), joined by newlines; the signature is the
hex HMAC-SHA512 of it keyed with the skey, sent as ``Authorization: Basic
base64(ikey:signature)`` beside the ``Date`` it covers. POST parameters travel as a JSON
body with sorted keys and no spaces; GET parameters in the query.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from enum import StrEnum
from typing import Any, Final

from keycloak_duo_bridge.duo import signing
from keycloak_duo_bridge.duo.protocol import ApplicationKeys
from keycloak_duo_bridge.errors import DuoConfigError, DuoProtocolError, DuoUnavailableError

__all__ = [
    "AuthApiCredentials",
    "PollResult",
    "Preauth",
    "PreauthResult",
    "SignedCall",
    "judge",
    "poll_result",
    "preauth_result",
    "push_params",
    "sign_call",
    "txid_of",
]

SIGNATURE_VERSION: Final = 5
_OK: Final = 200
_UNAUTHORIZED: Final = 401
_FORBIDDEN: Final = 403
_TOO_MANY: Final = 429
_SERVER_ERROR: Final = 500
MAX_PUSHINFO: Final = 200


@dataclass(frozen=True)
class AuthApiCredentials(ApplicationKeys):
    """One Duo "Auth API" application: its own type, so Web SDK keys never sign an Auth call."""


@dataclass(frozen=True)
class SignedCall:
    """A signed request, ready for any HTTP client."""

    method: str
    url: str
    headers: dict[str, str] = field(repr=False)
    body: bytes


def sign_call(
    creds: AuthApiCredentials, method: str, path: str, params: Mapping[str, str], *, now: float
) -> SignedCall:
    """The signed request for ``method path`` with ``params`` at time ``now``: Duo's request
    signing (:mod:`.signing`, as ``duo_client`` signs by default), aimed at the API host."""
    signed = signing.sign_call(
        ikey=creds.ikey,
        skey=creds.skey,
        host=creds.api_host,
        method=method,
        path=path,
        params=params,
        date=formatdate(now),
    )
    return SignedCall(signed.method, creds.url(signed.target), signed.headers, signed.body.encode())


def judge(status: int, content: bytes) -> Any:
    """Duo's ``response`` from an answer; the error tree otherwise.

    An outage (429, 5xx) is :class:`DuoUnavailableError`; refused credentials (401, 403) or
    an answer that is not Duo's envelope is :class:`DuoConfigError`; any other refusal (a
    400 naming a bad parameter) is :class:`DuoProtocolError`.
    """
    if status == _TOO_MANY or status >= _SERVER_ERROR:
        raise DuoUnavailableError(f"Duo's Auth API answered HTTP {status}")
    try:
        data = json.loads(content)
    except ValueError:
        raise DuoConfigError(f"Duo's Auth API answered HTTP {status} with no JSON") from None
    if not isinstance(data, dict):
        raise DuoConfigError("Duo's Auth API answered something that is not its envelope")
    if status == _OK and data.get("stat") == "OK" and "response" in data:
        return data["response"]
    code, message = data.get("code"), str(data.get("message") or "")[:120]
    if status in {_UNAUTHORIZED, _FORBIDDEN}:
        raise DuoConfigError(f"Duo refused the Auth API credentials: {code} {message}")
    raise DuoProtocolError(f"Duo's Auth API refused the call: HTTP {status} {code} {message}")


class PreauthResult(StrEnum):
    """What ``/auth/v2/preauth`` says about a user."""

    AUTH = "auth"  # enrolled: a factor is needed
    ALLOW = "allow"  # Duo's policy lets the user in without a factor
    DENY = "deny"  # Duo's policy refuses the user
    ENROLL = "enroll"  # not enrolled


@dataclass(frozen=True)
class Preauth:
    """A preauth answer: its result, whether some device takes a push, and whether some
    device gives passcodes instead (Duo Mobile's, or by SMS)."""

    result: PreauthResult
    push_capable: bool
    passcode_capable: bool = False


def preauth_result(response: Any) -> Preauth:
    """Read a preauth answer; DuoProtocolError if it is not one."""
    if not isinstance(response, dict):
        raise DuoProtocolError("Duo's preauth answer is not an object")
    try:
        result = PreauthResult(str(response.get("result")))
    except ValueError:
        raise DuoProtocolError("Duo's preauth answer has an unknown result") from None
    devices = response.get("devices")
    capabilities: set[str] = set()
    for device in devices if isinstance(devices, list) else []:
        listed = device.get("capabilities") if isinstance(device, dict) else None
        capabilities |= {str(c) for c in listed} if isinstance(listed, list) else set()
    return Preauth(result, "push" in capabilities, bool(capabilities & _PASSCODE_CAPABILITIES))


_PASSCODE_CAPABILITIES: Final = frozenset({"mobile_otp", "sms"})


def push_params(duo_username: str, binding_message: str | None) -> dict[str, str]:
    """``/auth/v2/auth`` parameters of an async push showing the CIBA binding message."""
    params = {"username": duo_username, "factor": "push", "device": "auto", "async": "1"}
    if binding_message:
        params["type"] = "Login request"
        params["pushinfo"] = urllib.parse.urlencode({"binding_message": binding_message})[
            :MAX_PUSHINFO
        ]
    return params


def txid_of(response: Any) -> str:
    """The transaction id an async auth answered."""
    txid = response.get("txid") if isinstance(response, dict) else None
    if not isinstance(txid, str) or not txid:
        raise DuoProtocolError("Duo's async auth answer carries no txid")
    return txid


class PollResult(StrEnum):
    """Where a pushed login stands."""

    WAITING = "waiting"
    ALLOW = "allow"
    DENY = "deny"
    FRAUD = "fraud"  # denied and reported as fraudulent
    TIMEOUT = "timeout"  # Duo gave up waiting for the phone


def poll_result(response: Any) -> PollResult:
    """Read ``auth_status``; anything unknown is a deny (never an allow by accident)."""
    if not isinstance(response, dict):
        raise DuoProtocolError("Duo's auth_status answer is not an object")
    result, status = response.get("result"), response.get("status")
    if result == "waiting":
        return PollResult.WAITING
    if result == "allow" and status == "allow":
        return PollResult.ALLOW
    if status == "fraud":
        return PollResult.FRAUD
    if status == "timeout":
        return PollResult.TIMEOUT
    return PollResult.DENY
