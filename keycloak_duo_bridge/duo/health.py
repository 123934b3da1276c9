"""A one-off, synchronous health check for administrators: "do these keys work?"."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx2

from keycloak_duo_bridge.duo import protocol
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.duo.protocol import DuoCredentials
from keycloak_duo_bridge.errors import DuoConfigError, DuoUnavailableError

Status = Literal["ok", "invalid_client", "unreachable"]


@dataclass(frozen=True)
class HealthVerdict:
    """The outcome of a credentials check: works, wrong keys, or Duo unreachable."""

    status: Status
    message: str
    date: str | None = None  # Duo's Date header, when it answered: its clock, to compare


def check_credentials(
    ikey: str,
    skey: str,
    api_host: str,
    *,
    ca_file: Path | None = None,
    timeout: float = 5.0,
    allow_any_host: bool = False,
) -> HealthVerdict:
    """Run Duo's health check with these credentials and say what it means.

    A host that is not Duo's gets no request at all (unless ``allow_any_host``).
    """
    creds = DuoCredentials(ikey=ikey, skey=skey, api_host=api_host)
    form = protocol.health_form(creds, now=time.time(), jti=protocol.new_jti())
    date: str | None = None
    try:
        protocol.check_api_host(api_host, allow_any_host=allow_any_host)
        with httpx2.Client(verify=tls_context(ca_file), timeout=timeout) as client:
            response = client.post(creds.health_url, data=form)
        date = response.headers.get("date")
        protocol.judge_health(response.status_code, response.content)
    except httpx2.HTTPError as exc:
        return HealthVerdict(
            "unreachable", f"Duo at {api_host} is unreachable: {type(exc).__name__}"
        )
    except DuoUnavailableError as exc:
        return HealthVerdict("unreachable", str(exc), date)
    except DuoConfigError as exc:
        return HealthVerdict("invalid_client", str(exc), date)
    return HealthVerdict("ok", "Duo accepted the credentials", date)
