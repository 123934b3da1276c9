"""The I/O half of the Duo client: one pooled HTTPS client, explicit timeouts.

The official ``duo_universal`` 2.3.1 sets no timeouts and opens a new TLS connection per
call. Here one ``httpx2.AsyncClient`` per bridge process, on the lean keep-alive
transport of :mod:`.transport` (which never reads stray bytes on an idle connection as the
next answer), keeps connections alive across logins, every call has connect/read
timeouts, and every transport failure becomes a
:class:`~keycloak_duo_bridge.errors.DuoUnavailableError` (an outage: the fail mode applies).
No call leaves for a host that is not Duo's unless ``allow_any_host`` (an emulator).
"""

from __future__ import annotations

import ssl
import time
from pathlib import Path
from typing import Any

import httpx2

from keycloak_duo_bridge.duo import protocol
from keycloak_duo_bridge.duo.protocol import DuoCredentials
from keycloak_duo_bridge.duo.transport import StreamTransport
from keycloak_duo_bridge.errors import DuoUnavailableError

DEFAULT_TIMEOUT = httpx2.Timeout(connect=3.0, read=5.0, write=5.0, pool=3.0)


def tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """System trust, or only ``ca_file`` (the emulator's CA) when given."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


class DuoClient:
    """Async Duo client shared by every login a bridge process serves."""

    def __init__(
        self,
        *,
        ca_file: Path | None = None,
        timeout: httpx2.Timeout = DEFAULT_TIMEOUT,
        transport: httpx2.AsyncBaseTransport | None = None,
        allow_any_host: bool = False,
    ) -> None:
        self._allow_any_host = allow_any_host
        self._http = httpx2.AsyncClient(
            timeout=timeout,
            transport=transport or StreamTransport(tls_context(ca_file)),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, url: str, form: dict[str, str]) -> httpx2.Response:
        try:
            return await self._http.post(url, data=form)
        except httpx2.HTTPError as exc:
            raise DuoUnavailableError(f"Duo at {url} is unreachable: {type(exc).__name__}") from exc

    def _check_host(self, creds: DuoCredentials) -> None:
        protocol.check_api_host(creds.api_host, allow_any_host=self._allow_any_host)

    async def health_check(self, creds: DuoCredentials) -> None:
        """Return when Duo answers OK; raise DuoUnavailableError or DuoConfigError otherwise."""
        self._check_host(creds)
        form = protocol.health_form(creds, now=time.time(), jti=protocol.new_jti())
        response = await self._post(creds.health_url, form)
        protocol.judge_health(response.status_code, response.content)

    def authorize_url(
        self, creds: DuoCredentials, *, redirect_uri: str, state: str, username: str, nonce: str
    ) -> str:
        self._check_host(creds)
        return protocol.authorize_url(
            creds,
            redirect_uri=redirect_uri,
            state=state,
            username=username,
            nonce=nonce,
            now=time.time(),
        )

    async def exchange(
        self, creds: DuoCredentials, *, code: str, redirect_uri: str, username: str, nonce: str
    ) -> dict[str, Any]:
        """Exchange a ``duo_code`` for the verified id_token claims (any ``auth_result``)."""
        self._check_host(creds)
        form = protocol.token_form(
            creds, code=code, redirect_uri=redirect_uri, now=time.time(), jti=protocol.new_jti()
        )
        response = await self._post(creds.token_url, form)
        token = protocol.judge_token_response(response.status_code, response.content)
        return protocol.verify_id_token(
            token, creds, username=username, nonce=nonce, now=time.time()
        )
