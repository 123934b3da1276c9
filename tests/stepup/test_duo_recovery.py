"""Duo fails with 500, then recovers: the circuit opens, half-opens and closes; no login hangs."""

from __future__ import annotations

import time

import httpx2
import pytest

from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.sandbox.walk import WalkError, walk_login
from keycloak_duo_bridge.server import start_bridge
from keycloak_duo_bridge.settings import Settings
from tests.fixtures_bridge import APP_ID, PASSWORD, Tenant, TenantFactory

pytestmark = pytest.mark.keycloak


def walk(tenant: Tenant) -> float:
    """Walk a login; return how long it took."""
    started = time.monotonic()
    walk_login(
        keycloak_url=tenant.settings.keycloak_url,
        realm=tenant.realm,
        client_id=APP_ID,
        redirect_uri=tenant.redirect_uri,
        username="uma",
        password=PASSWORD,
        verify=tls_context(tenant.emulator.ca_path),
    )
    return time.monotonic() - started


def test_outage_then_recovery(duo_tenant: TenantFactory, stack_settings: Settings) -> None:
    """During the outage logins are refused fast; after the cooldown a probe closes the circuit."""
    server, settings = start_bridge(
        lambda url: stack_settings.model_copy(
            update={
                "bridge_url": url,
                "duo_health_ttl": 0.0,
                "duo_breaker_cooldown": 8.0,
                "duo_breaker_failures": 1,
            }
        )
    )
    with server:
        tenant = duo_tenant()
        tenant.user("uma")
        tenant.set_attributes(**{"kdb.bridge.url": settings.bridge_url})
        assert settings.metrics_token is not None
        bearer = {"Authorization": f"Bearer {settings.metrics_token.get_secret_value()}"}
        metrics = f"{settings.bridge_url}/metrics"
        healthy = f'kdb_duo_healthy{{realm="{tenant.realm}"}}'
        tenant.emulator.control.set_faults(health="error_500")
        try:
            with pytest.raises(WalkError, match="Duo is unavailable"):
                walk(tenant)
            opened = time.monotonic()
            assert f"{healthy} 0.0" in httpx2.get(metrics, headers=bearer).text
        finally:
            tenant.emulator.control.set_faults()
        started = time.monotonic()
        with pytest.raises(WalkError, match="Duo is unavailable"):
            walk(tenant)  # Duo is back, but the circuit is still open: fail fast
        assert time.monotonic() - started < 8.0
        time.sleep(max(0.0, 8.1 - (time.monotonic() - opened)))
        assert walk(tenant) < 5.0  # half-open: one probe, Duo answers, the login passes
        assert f"{healthy} 1.0" in httpx2.get(metrics, headers=bearer).text
