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
from keycloak_duo_bridge.emulator.rest_model import ApiKind, PushAnswer, Refusal

__all__ = ["ApiCredentials", "EmulatorControl", "IntegrationCredentials", "rest_api_host"]


@dataclass(frozen=True)
class IntegrationCredentials:
    """What a Duo client needs: client id, client secret and API host."""

    client_id: str
    client_secret: str = field(repr=False)
    api_host: str
    new_user_policy: NewUserPolicy = "enroll"


_LOOPBACK = {"127.0.0.1", "[::1]"}


def rest_api_host(api_host: str) -> str:
    """The API host to give ``duo_client``: a loopback address becomes ``localhost``.

    ``duo_client`` checks the server certificate's DNS names only (``https_wrapper``), never
    its IP addresses, so it must call the emulator by a name; its certificate always names
    ``localhost``.
    """
    name, sep, port = api_host.rpartition(":")
    if not sep or not port.isdigit() or (":" in name and not name.endswith("]")):
        name, port = api_host, ""  # no port (a bare IPv6 address has colons of its own)
    if name in _LOOPBACK:
        name = "localhost"
    return f"{name}:{port}" if port else name


@dataclass(frozen=True)
class ApiCredentials:
    """What a ``duo_client`` needs for the Auth, Admin or Accounts API: ikey, skey, host."""

    ikey: str
    skey: str = field(repr=False)
    api_host: str
    kind: ApiKind

    @property
    def host(self) -> str:
        """The host name alone (``duo_client`` takes the port separately)."""
        return self.api_host.rsplit(":", 1)[0] if ":" in self.api_host else self.api_host

    @property
    def port(self) -> int:
        """The port (443 when ``api_host`` names none)."""
        return int(self.api_host.rsplit(":", 1)[1]) if ":" in self.api_host else 443


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
        self,
        kind: Literal[
            "health_check",
            "authorize",
            "prompt",
            "token",
            "auth_api",
            "admin_api",
            "accounts_api",
        ]
        | None = None,
    ) -> list[dict[str, Any]]:
        """The events list, optionally only one kind."""
        result: list[dict[str, Any]] = self._call("GET", "/emulator/events")
        return [e for e in result if kind is None or e["kind"] == kind]

    def add_api_credentials(
        self,
        kind: ApiKind,
        *,
        permissions: list[str] | None = None,
        refusal: Refusal | None = None,
        enroll_policy: NewUserPolicy = "enroll",
        account_id: str | None = None,
    ) -> ApiCredentials:
        """Fresh Auth API, Admin API (all permissions unless given) or Accounts API credentials.

        ``refusal`` scripts a plan/feature refusal (403) of every call they make;
        ``account_id`` puts them in a child account instead of the main one.
        """
        ikey, skey = new_client_id(), new_client_secret()
        body: dict[str, Any] = {
            "kind": kind,
            "ikey": ikey,
            "skey": skey,
            "enroll_policy": enroll_policy,
        }
        if permissions is not None:
            body["permissions"] = permissions
        if refusal is not None:
            body["refusal"] = refusal
        if account_id is not None:
            body["account_id"] = account_id
        self._call("POST", "/emulator/api_credentials", body)
        return ApiCredentials(ikey, skey, rest_api_host(self.api_host), kind)

    def script_push(self, username: str, answer: PushAnswer = "approve", delay: float = 0) -> None:
        """How ``username``'s phone answers Auth API pushes from now on, after ``delay`` s."""
        self._call("PUT", f"/emulator/users/{username}/push", {"answer": answer, "delay": delay})

    def pushes(self, username: str | None = None) -> list[dict[str, Any]]:
        """The pushes the Auth API sent (optionally to one user), oldest first, with the
        ``pushinfo``, ``type`` and ``display_username`` each carried."""
        result: list[dict[str, Any]] = self._call("GET", "/emulator/pushes")
        return [p for p in result if username is None or p["username"] == username]
