"""Duo in Keycloak's own language: acr and amr in both assurance modes, on real Keycloak."""

from __future__ import annotations

import pytest

from keycloak_duo_bridge.admin import duo_settings, wiring
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.duo.client import tls_context
from keycloak_duo_bridge.sandbox.walk import browser_like_client, walk_login
from keycloak_duo_bridge.settings import Settings
from tests.fixtures_bridge import APP_ID, PASSWORD, Bridge, Tenant, TenantFactory

pytestmark = pytest.mark.keycloak


def _walk(tenant: Tenant, client: object, **extra: str):  # type: ignore[no-untyped-def]
    return walk_login(
        keycloak_url=tenant.settings.keycloak_url,
        realm=tenant.realm,
        client_id=extra.pop("client_id", APP_ID),
        redirect_uri=tenant.redirect_uri,
        username="ann",
        password=PASSWORD,
        client=client,  # type: ignore[arg-type]
        extra_query=extra,
    )


def test_explore(
    duo_tenant: TenantFactory, admin_keycloak: Keycloak, stack_settings: Settings, bridge: Bridge
) -> None:
    """explore"""
    tenant = duo_tenant()
    tenant.user("ann")
    wires = wiring.Wiring.of(stack_settings, bridge.url)
    duo_settings.set_enabled(admin_keycloak, tenant.realm, enabled=True, wires=wires, assurance="step-up")
    http = browser_like_client(tls_context(tenant.emulator.ca_path))
    first = _walk(tenant, http)
    other = _walk(tenant, browser_like_client(tls_context(tenant.emulator.ca_path)), acr_values="mfa", max_age="0")
    print("ZERO", [h.host for h in other.hops], other.id_claims.get("acr"), other.id_claims.get("amr"))
    print("FIRST", [h.host for h in first.hops], first.id_claims.get("acr"), first.id_claims.get("amr"))
    second = _walk(tenant, http, acr_values="mfa")
    print("SECOND", [h.host for h in second.hops], second.id_claims.get("acr"), second.id_claims.get("amr"), second.id_claims.get("duo"))
    third = _walk(tenant, http, acr_values="mfa")
    print("THIRD", [h.host for h in third.hops], third.id_claims.get("acr"), third.id_claims.get("amr"))
    import time
    time.sleep(3)
    fourth = _walk(tenant, http, acr_values="mfa", max_age="2")
    print("AUTHTIME", third.id_claims.get("auth_time"), fourth.id_claims.get("auth_time"), fourth.id_claims.get("duo"))
    print("FOURTH", [h.host for h in fourth.hops], fourth.id_claims.get("acr"), fourth.id_claims.get("amr"))
    fifth = _walk(tenant, http)
    print("FIFTH", [h.host for h in fifth.hops], fifth.id_claims.get("acr"), fifth.id_claims.get("amr"))
    assert False
