"""The I/O half of Duo's Admin and Accounts APIs: signed calls over httpx, with paging.

Synchronous (the admin service's commands are), explicit connect/read timeouts, our Duo TLS
settings (``KDB_DUO_CA_FILE``, else the system's trust), and no call to a host that is not
Duo's unless ``allow_any_host`` (an emulator). Transport failures become
:class:`~keycloak_duo_bridge.errors.DuoUnavailableError` here, once; Duo's refusals are
judged by :mod:`.rest_protocol`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self

import httpx2

from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.duo.protocol import check_api_host
from keycloak_duo_bridge.duo.rest_protocol import Api, Reply, judge
from keycloak_duo_bridge.duo.signing import sign_call
from keycloak_duo_bridge.errors import DuoUnavailableError

__all__ = ["PAGE_LIMIT", "RestClient", "RestCredentials", "RestOptions"]

PAGE_LIMIT: Final = 300  # the most Duo returns per page for integrations and users
DEFAULT_TIMEOUT: Final = httpx2.Timeout(connect=5.0, read=15.0, write=10.0, pool=5.0)


@dataclass(frozen=True)
class RestCredentials:
    """An Admin API or Accounts API application's keys, and the API host they call."""

    ikey: str
    skey: str = field(repr=False)
    api_host: str
    api: Api


@dataclass(frozen=True)
class RestOptions:
    """How calls leave: TLS trust, timeouts, and whether any host may be called."""

    ca_file: Path | None = None
    timeout: httpx2.Timeout = field(default_factory=lambda: DEFAULT_TIMEOUT)
    allow_any_host: bool = False
    transport: httpx2.BaseTransport | None = None


class RestClient:
    """Signed calls with one set of credentials; ``account_id`` acts in a child account."""

    def __init__(
        self, creds: RestCredentials, options: RestOptions, *, account_id: str | None = None
    ) -> None:
        check_api_host(creds.api_host, allow_any_host=options.allow_any_host)
        self.creds = creds
        self.account_id = account_id
        self._http = httpx2.Client(
            base_url=f"https://{creds.api_host}",
            verify=tls_context(options.ca_file),
            timeout=options.timeout,
            transport=options.transport,
        )

    def __repr__(self) -> str:
        return f"RestClient({self.creds.api.label} {self.creds.ikey} at {self.creds.api_host})"

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.close()

    def call(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        what: str,
        permission: str | None = None,
    ) -> Reply:
        """One signed call; ``what`` (a verb phrase) and ``permission`` word any refusal."""
        sent = dict(params or {})
        if self.account_id is not None and path.startswith("/admin/"):
            sent["account_id"] = self.account_id
        signed = sign_call(
            ikey=self.creds.ikey,
            skey=self.creds.skey,
            host=self.creds.api_host,
            method=method,
            path=path,
            params=sent,
        )
        try:
            response = self._http.request(
                signed.method,
                signed.target,
                headers=signed.headers,
                content=signed.body.encode() if signed.body else None,
            )
        except httpx2.TimeoutException:
            raise DuoUnavailableError(
                f"Duo at {self.creds.api_host} did not answer in time (trying to {what})"
            ) from None
        except httpx2.HTTPError as exc:
            raise DuoUnavailableError(
                f"Duo at {self.creds.api_host} cannot be reached (trying to {what}): {exc}"
            ) from None
        return judge(
            response.status_code,
            response.content,
            api=self.creds.api,
            what=what,
            permission=permission,
        )

    def paged(
        self,
        path: str,
        params: Mapping[str, str] | None = None,
        *,
        what: str,
        permission: str | None = None,
    ) -> list[Any]:
        """Every item of a paged ``GET``, following Duo's ``next_offset``."""
        items: list[Any] = []
        offset: Any = 0
        while offset is not None:
            query = {**(params or {}), "limit": str(PAGE_LIMIT), "offset": str(offset)}
            response, metadata = self.call("GET", path, query, what=what, permission=permission)
            items.extend(response if isinstance(response, list) else [])
            offset = (metadata or {}).get("next_offset")
        return items
