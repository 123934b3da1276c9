"""A small Python client for the control API, for tests, demos and users' own CI."""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx2

from keycloak_duo_bridge.emulator.control import new_client_id, new_client_secret
from keycloak_duo_bridge.emulator.errors import EmulatorError
from keycloak_duo_bridge.emulator.model import Behavior, FaultMode, NewUserPolicy

__all__ = ["EmulatorControl", "IntegrationCredentials"]


@dataclass(frozen=True)
class IntegrationCredentials:
    """What a Duo client needs: client id, client secret and API host."""

    client_id: str
    client_secret: str = field(repr=False)
    api_host: str
    new_user_policy: NewUserPolicy = "enroll"


class EmulatorControl:
    """Calls ``/emulator/*`` over HTTPS, trusting the emulator's CA."""

    def __init__(self, base_url: str, ca_path: Path, api_host: str, *, timeout: float = 10) -> None:
        self.api_host = api_host
        context = ssl.create_default_context(cafile=str(ca_path))
        self._http = httpx2.Client(base_url=base_url, verify=context, timeout=timeout)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            response = self._http.request(method, path, json=body)
            response.raise_for_status()
        except httpx2.HTTPStatusError as exc:
            detail = exc.response.text
            raise EmulatorError(f"{method} {path}: {exc.response.status_code} {detail}") from exc
        except httpx2.HTTPError as exc:
            raise EmulatorError(f"{method} {path}: {exc}") from exc
        return response.json()

    def add_integration(
        self,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        new_user_policy: NewUserPolicy = "enroll",
    ) -> IntegrationCredentials:
        """Register an integration; fresh credentials are generated unless given."""
        client_id = client_id or new_client_id()
        client_secret = client_secret or new_client_secret()
        self._call(
            "POST",
            "/emulator/integrations",
            {
                "client_id": client_id,
                "client_secret": client_secret,
                "new_user_policy": new_user_policy,
            },
        )
        return IntegrationCredentials(client_id, client_secret, self.api_host, new_user_policy)

    def set_user(
        self,
        username: str,
        *,
        behavior: Behavior = "prompt",
        enrolled: bool = False,
        phone: str | None = None,
    ) -> dict[str, Any]:
        """Create or update a user; the answer includes the current passcode."""
        body: dict[str, Any] = {"behavior": behavior, "enrolled": enrolled}
        if phone is not None:
            body["phone"] = phone
        result: dict[str, Any] = self._call("PUT", f"/emulator/users/{username}", body)
        return result

    def user(self, username: str) -> dict[str, Any]:
        """A user, with the current passcode."""
        result: dict[str, Any] = self._call("GET", f"/emulator/users/{username}")
        return result

    def set_faults(
        self,
        *,
        health: FaultMode = "ok",
        token: FaultMode = "ok",  # noqa: S107 - the token endpoint's fault, not a secret
        latency_ms: int = 0,
    ) -> dict[str, Any]:
        """Inject faults; call without arguments to clear them."""
        body = {"health": health, "token": token, "latency_ms": latency_ms}
        result: dict[str, Any] = self._call("PUT", "/emulator/faults", body)
        return result

    def events(
        self, kind: Literal["health_check", "authorize", "prompt", "token"] | None = None
    ) -> list[dict[str, Any]]:
        """The events list, optionally only one kind."""
        result: list[dict[str, Any]] = self._call("GET", "/emulator/events")
        return [e for e in result if kind is None or e["kind"] == kind]
