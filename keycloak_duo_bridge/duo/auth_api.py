"""The I/O half of the Duo Auth API client: signed calls with explicit timeouts (#16).

One ``httpx2.AsyncClient`` on the bridge's keep-alive transport (trusting
``KDB_DUO_CA_FILE`` when set), so it shares the Web SDK client's TLS settings. Every
transport failure becomes :class:`~keycloak_duo_bridge.errors.DuoUnavailableError`; Duo's
answers are judged by :func:`.auth_protocol.judge`, once. No call leaves for a host that is
not Duo's unless ``allow_any_host`` (an emulator).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx2

from keycloak_duo_bridge.duo import auth_protocol as proto
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials, PollResult, Preauth
from keycloak_duo_bridge.duo.client import DEFAULT_TIMEOUT, tls_context
from keycloak_duo_bridge.duo.protocol import check_api_host
from keycloak_duo_bridge.duo.transport import StreamTransport
from keycloak_duo_bridge.errors import DuoUnavailableError

__all__ = ["AuthApiClient"]


class AuthApiClient:
    """Async client of Duo's Auth API v2: check, preauth, auth (async push), auth_status."""

    def __init__(
        self,
        *,
        ca_file: Path | None = None,
        timeout: httpx2.Timeout = DEFAULT_TIMEOUT,
        transport: httpx2.AsyncBaseTransport | None = None,
        allow_any_host: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._allow_any_host = allow_any_host
        self._clock = clock
        self._http = httpx2.AsyncClient(
            timeout=timeout, transport=transport or StreamTransport(tls_context(ca_file))
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(
        self, creds: AuthApiCredentials, method: str, path: str, params: Mapping[str, str]
    ) -> Any:
        check_api_host(creds.api_host, allow_any_host=self._allow_any_host)
        call = proto.sign_call(creds, method, path, params, now=self._clock())
        try:
            response = await self._http.request(
                call.method, call.url, headers=call.headers, content=call.body
            )
        except httpx2.HTTPError as exc:
            raise DuoUnavailableError(
                f"Duo's Auth API at {path} is unreachable: {type(exc).__name__}"
            ) from exc
        return proto.judge(response.status_code, response.content)

    async def check(self, creds: AuthApiCredentials) -> None:
        """Return when Duo accepts the credentials and the signature (``/auth/v2/check``)."""
        await self._call(creds, "GET", "/auth/v2/check", {})

    async def preauth(self, creds: AuthApiCredentials, username: str) -> Preauth:
        """Whether ``username`` is enrolled, and whether a device takes a push."""
        answer = await self._call(creds, "POST", "/auth/v2/preauth", {"username": username})
        return proto.preauth_result(answer)

    async def push(
        self, creds: AuthApiCredentials, username: str, *, binding_message: str | None
    ) -> str:
        """Send an async push showing ``binding_message``; its transaction id."""
        params = proto.push_params(username, binding_message)
        return proto.txid_of(await self._call(creds, "POST", "/auth/v2/auth", params))

    async def auth_status(self, creds: AuthApiCredentials, txid: str) -> PollResult:
        """Where the pushed login ``txid`` stands."""
        answer = await self._call(creds, "GET", "/auth/v2/auth_status", {"txid": txid})
        return proto.poll_result(answer)
