"""A realm's Duo Auth API credentials (issue #16): checked live, skey envelope-encrypted.

Duo Push without a browser (CIBA) needs Duo's separate "Auth API" application. Its ikey,
skey and host sit beside the Web SDK ones (``kdb.duo.authapi.*``), count as one unit, and
are inherited from a linked partner by the same rule (admin/effective.py). They are checked
for shape, then with ``/auth/v2/check`` (unless told not to), before anything is written;
only the skey's envelope ciphertext reaches Keycloak.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import httpx2

from keycloak_duo_bridge import attributes as attr
from keycloak_duo_bridge.admin import record
from keycloak_duo_bridge.admin.duo_settings import SetResult, validate_credentials
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.admin.tenants import get_tenant
from keycloak_duo_bridge.duo import auth_protocol
from keycloak_duo_bridge.duo.auth_protocol import AuthApiCredentials
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.duo.protocol import check_api_host
from keycloak_duo_bridge.envelope import DecryptionError, KeyRing
from keycloak_duo_bridge.errors import ConfigError, DuoConfigError, DuoError, DuoUnavailableError

__all__ = ["AuthApiCheck", "clear_auth_api", "live_check", "same_secret", "set_auth_api", "verify"]

log = logging.getLogger(__name__)

AuthApiCheck = Callable[[AuthApiCredentials], None]
"""Return when Duo accepts the credentials; DuoConfigError or DuoUnavailableError if not."""


def live_check(
    ca_file: Path | None = None, timeout: float = 5.0, *, allow_any_host: bool = False
) -> AuthApiCheck:
    """``/auth/v2/check`` with the credentials, synchronously (for the CLI and admin API)."""

    def check(creds: AuthApiCredentials) -> None:
        check_api_host(creds.api_host, allow_any_host=allow_any_host)
        call = auth_protocol.sign_call(creds, "GET", "/auth/v2/check", {}, now=time.time())
        try:
            with httpx2.Client(verify=tls_context(ca_file), timeout=timeout) as client:
                response = client.request(call.method, call.url, headers=call.headers)
        except httpx2.HTTPError as exc:
            raise DuoUnavailableError(
                f"Duo's Auth API is unreachable: {type(exc).__name__}"
            ) from exc
        auth_protocol.judge(response.status_code, response.content)

    return check


def verify(creds: AuthApiCredentials, check: AuthApiCheck | None, *, allow_any_host: bool) -> str:
    """Check the credentials' shape, then (unless ``check`` is None) with Duo: "ok" or
    "skipped"; ConfigError (Duo refused them) or DuoError (Duo unreachable) otherwise."""
    validate_credentials(creds.ikey, creds.skey, creds.api_host, allow_any_host=allow_any_host)
    if check is None:
        return "skipped"
    try:
        check(creds)
    except DuoConfigError as exc:
        raise ConfigError(f"Duo rejected the Auth API credentials, nothing saved: {exc}") from None
    except DuoError as exc:
        raise DuoError(f"{exc}; nothing saved (--no-verify saves without the check)") from None
    return "ok"


def set_auth_api(
    keycloak: Keycloak,
    realm: str,
    *,
    creds: AuthApiCredentials,
    ring: KeyRing,
    check: AuthApiCheck | None,
) -> SetResult:
    """Check, then store a realm's Auth API credentials. ``check=None`` skips the live check;
    a failed check saves nothing."""
    any_host = keycloak.allow_any_duo_host
    validate_credentials(creds.ikey, creds.skey, creds.api_host, allow_any_host=any_host)
    get_tenant(keycloak, realm)
    verification = verify(creds, check, allow_any_host=any_host)
    current = dict(keycloak.get_realm(realm).get("attributes") or {})
    if (
        current.get(attr.AUTH_API_IKEY) == creds.ikey
        and current.get(attr.AUTH_API_HOST) == creds.api_host
        and same_secret(ring, current.get(attr.AUTH_API_SKEY), creds.skey, realm)
    ):
        return SetResult(realm, written=False, verification=verification)
    sealed = ring.encrypt(creds.skey, realm=realm, attribute=attr.AUTH_API_SKEY)
    written = record.store(
        keycloak,
        realm,
        {
            attr.AUTH_API_IKEY: creds.ikey,
            attr.AUTH_API_HOST: creds.api_host,
            attr.AUTH_API_SKEY: sealed,
        },
    )
    log.info("stored Duo Auth API credentials for realm %s (ikey %s)", realm, creds.ikey)
    return SetResult(realm, written=written, verification=verification)


def same_secret(ring: KeyRing, stored: str | None, skey: str, realm: str) -> bool:
    if not stored or ring.needs_rotation(stored):
        return False
    try:
        return ring.decrypt(stored, realm=realm, attribute=attr.AUTH_API_SKEY) == skey
    except DecryptionError:
        return False


def clear_auth_api(keycloak: Keycloak, realm: str) -> bool:
    """Remove a realm's own Auth API credentials (a client realm then uses its partner's)."""
    get_tenant(keycloak, realm)
    return record.store(
        keycloak,
        realm,
        {attr.AUTH_API_IKEY: None, attr.AUTH_API_HOST: None, attr.AUTH_API_SKEY: None},
    )
