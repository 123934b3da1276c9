"""What the doctor asks over HTTP: Keycloak (as the bridge logs in to it), Duo, the bridge.

Every function returns facts or raises :class:`ProbeError` with a message fit for the
report; none of them puts a secret or a token into a message.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx2

from keycloak_duo_bridge.errors import BridgeError
from keycloak_duo_bridge.settings import Settings

Json = dict[str, Any]
TIMEOUT = 5.0


class ProbeError(BridgeError):
    """A call the doctor made did not get the answer it needs (``status``: Keycloak's HTTP
    status, when it answered at all)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Answer:
    status: int
    date: str | None


def _failed(what: str, exc: httpx2.HTTPError) -> ProbeError:
    return ProbeError(f"{what}: {type(exc).__name__}")


def get(client: httpx2.Client, url: str, what: str) -> Answer:
    """The status and Date header of a GET; ProbeError if there is no answer at all."""
    try:
        response = client.get(url)
    except httpx2.HTTPError as exc:
        raise _failed(f"{what} is unreachable", exc) from None
    return Answer(response.status_code, response.headers.get("date"))


@dataclass(frozen=True)
class Token:
    access_token: str = ""  # never printed: repr hides it
    issued_at: float | None = None

    def __repr__(self) -> str:
        return f"Token(issued_at={self.issued_at!r})"


def _issued_at(token: str) -> float | None:
    """The ``iat`` of a JWT, unverified: only Keycloak's clock is read from it."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["iat"])
    except (IndexError, ValueError, KeyError, TypeError):
        return None


def login(client: httpx2.Client, settings: Settings) -> Token:
    """A token for the bridge's Keycloak identity: its service account, else the admin user."""
    base = settings.keycloak_url.rstrip("/")
    realm = quote(settings.keycloak_admin_realm, safe="")
    if settings.bridge_client_id and settings.bridge_client_secret is not None:
        who = f"client {settings.bridge_client_id!r}"
        form = {
            "grant_type": "client_credentials",
            "client_id": settings.bridge_client_id,
            "client_secret": settings.bridge_client_secret.get_secret_value(),
        }
    else:
        who = f"user {settings.keycloak_admin_username!r}"
        form = {
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": settings.keycloak_admin_username,
            "password": settings.keycloak_admin_password.get_secret_value(),
        }
    url = f"{base}/realms/{realm}/protocol/openid-connect/token"
    try:
        response = client.post(url, data=form)
    except httpx2.HTTPError as exc:
        raise _failed("Keycloak's token endpoint is unreachable", exc) from None
    if response.status_code != 200:  # noqa: PLR2004
        raise ProbeError(f"Keycloak refused the login of {who} (HTTP {response.status_code})")
    token = str(response.json().get("access_token") or "")
    return Token(token, _issued_at(token))


def admin_get(client: httpx2.Client, settings: Settings, token: Token, path: str) -> Any:
    """``GET /admin<path>`` as the bridge; ProbeError naming the status otherwise."""
    url = f"{settings.keycloak_url.rstrip('/')}/admin{path}"
    try:
        response = client.get(url, headers={"Authorization": f"Bearer {token.access_token}"})
    except httpx2.HTTPError as exc:
        raise _failed(f"GET /admin{path}", exc) from None
    if response.status_code != 200:  # noqa: PLR2004
        raise ProbeError(
            f"GET /admin{path} answered HTTP {response.status_code}", response.status_code
        )
    return response.json()
