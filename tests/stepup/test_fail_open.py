"""Issue 12 item 5 on the real stack: fail-open needs this login's own evidence."""

from __future__ import annotations

import httpx2
import pytest

from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.sandbox.walk import Walk, WalkError, walk_login
from tests.fixtures_bridge import APP_ID, PASSWORD, Bridge, Tenant, TenantFactory

pytestmark = pytest.mark.keycloak


def walk(tenant: Tenant, username: str) -> Walk:
    return walk_login(
        keycloak_url=tenant.settings.keycloak_url,
        realm=tenant.realm,
        client_id=APP_ID,
        redirect_uri=tenant.redirect_uri,
        username=username,
        password=PASSWORD,
        verify=tls_context(tenant.emulator.ca_path),
    )


def fail_opens(bridge: Bridge, realm: str) -> list[str]:
    """The bridge's fail-open counter lines for ``realm`` (none until a bypass)."""
    token = bridge.settings.metrics_token
    assert token is not None
    headers = {"Authorization": f"Bearer {token.get_secret_value()}"}
    text = httpx2.get(f"{bridge.url}/metrics", headers=headers).text
    prefix = f'kdb_fail_open_total{{realm="{realm}"}}'
    return [line for line in text.splitlines() if line.startswith(prefix)]


def test_item5_a_failed_exchange_then_a_denied_user_reaches_duo_and_is_denied(
    duo_tenant: TenantFactory, bridge: Bridge
) -> None:
    """Duo's token endpoint fails once in a fail-open realm; the next, denied, user is denied."""
    tenant = duo_tenant(fail_mode="open")
    tenant.user("ulla")
    tenant.user("dexter", behavior="deny")
    control = tenant.emulator.control
    control.set_faults(token="error_500")
    try:
        with pytest.raises(WalkError, match="Duo is unavailable"):
            walk(tenant, "ulla")  # the exchange failed: an error for ulla, not a bypass
    finally:
        control.set_faults()
    [failed] = tenant.events("CUSTOM_REQUIRED_ACTION_ERROR")
    assert failed["error"] == "duo_unavailable"
    before = len(control.events())
    with pytest.raises(WalkError, match="Duo denied the sign-in"):
        walk(tenant, "dexter")
    seen = [(e["kind"], e["outcome"]) for e in control.events()[before:] if e["username"]]
    assert ("token", "deny") in seen  # dexter reached Duo, and Duo's deny decided
    assert fail_opens(bridge, tenant.realm) == []  # nobody passed as a bypass
