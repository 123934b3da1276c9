"""A one-off, synchronous health check for administrators: "do these keys work?"."""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx2

from keycloak_duo_bridge.duo import protocol
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.duo.protocol import DuoCredentials
from keycloak_duo_bridge.errors import DuoConfigError, DuoUnavailableError

Status = Literal["ok", "invalid_client", "unreachable", "untrusted"]

HOW_TO_TRUST = (
    "If this is Duo's own API host, the machine's CA certificates are missing or out of date; "
    "for a private CA (a proxy, the Duo emulator's ca.pem), set KDB_DUO_CA_FILE to its PEM file"
)


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
        if _untrusted(exc):
            return HealthVerdict(
                "untrusted",
                f"the certificate of {api_host} is not trusted here. {HOW_TO_TRUST}",
            )
        return HealthVerdict("unreachable", f"Duo at {api_host} {_why(exc, timeout)}")
    except DuoUnavailableError as exc:
        return HealthVerdict("unreachable", str(exc), date)
    except DuoConfigError as exc:
        return HealthVerdict("invalid_client", str(exc), date)
    return HealthVerdict("ok", "Duo accepted the credentials", date)


def _untrusted(exc: BaseException) -> bool:
    """Whether a failed request failed on the server's certificate (not on the network)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(
            seen
        ):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _why(exc: httpx2.HTTPError, timeout: float) -> str:
    """Why Duo could not be asked, in words (never an exception's class name)."""
    if isinstance(exc, httpx2.TimeoutException):
        return f"did not answer within {timeout:g} seconds"
    if isinstance(exc, httpx2.ConnectError):
        return "cannot be reached: nothing answers there (check the API host and the network)"
    return "did not answer properly"
