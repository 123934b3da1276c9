"""The bridge's service account reads the realms it was granted, and can change nothing."""

from __future__ import annotations

import uuid

import httpx2
import pytest
from pydantic import SecretStr

from keycloak_duo_bridge.admin import tenants
from keycloak_duo_bridge.admin.keycloak import Keycloak
from keycloak_duo_bridge.bridge.realms import RealmSource
from keycloak_duo_bridge.errors import KeycloakError, KeycloakForbiddenError, NotFoundError
from keycloak_duo_bridge.sandbox import provision
from keycloak_duo_bridge.settings import Settings
from tests.aio import run
from tests.fixtures_bridge import TenantFactory

pytestmark = pytest.mark.keycloak


def test_least_privilege_view_realm_reads_and_nothing_more(
    duo_tenant: TenantFactory, stack_settings: Settings
) -> None:
    """view-realm of the tenant's realms reads their settings; other realms and writes fail."""
    tenant, other = duo_tenant(), duo_tenant()
    client_id, secret = provision.ensure_bridge_reader(
        stack_settings, [tenant.partner, tenant.realm]
    )
    reader = stack_settings.model_copy(
        update={"bridge_client_id": client_id, "bridge_client_secret": SecretStr(secret)}
    )

    async def work() -> str | None:
        async with httpx2.AsyncClient(timeout=30) as http:  # about rights, not latency
            source = RealmSource(reader, http)
            effective = await source.effective(tenant.realm, "f")
            # Keycloak gives the name only; that is an error, never "no attributes, Duo off"
            with pytest.raises(KeycloakForbiddenError, match="may not view realm"):
                await source.effective(other.realm, "f")
            token = await source._admin_token(refresh=False)
            url = f"{reader.keycloak_url}/admin/realms/{tenant.realm}"
            write = await http.put(
                url, json={"enabled": False}, headers={"Authorization": f"Bearer {token}"}
            )
            assert write.status_code == 403
            return effective.credentials.realm

    assert run(work()) == tenant.realm
    with pytest.raises(KeycloakError, match="no no-such-realm-realm client"):
        provision.ensure_bridge_reader(stack_settings, ["no-such-realm"])


def test_tenants_the_admin_service_creates_are_readable_by_the_bridge(
    stack_settings: Settings,
) -> None:
    """With KDB_BRIDGE_CLIENT_ID set, a new tenant grants the bridge's account view-realm;
    granting again writes nothing."""
    client_id, secret = provision.ensure_bridge_reader(stack_settings, [])
    reader = stack_settings.model_copy(
        update={"bridge_client_id": client_id, "bridge_client_secret": SecretStr(secret)}
    )
    admin = Keycloak.from_settings(reader)
    name = f"lp-{uuid.uuid4().hex[:6]}"
    tenants.create_partner(admin, name)
    assert admin.grant_realm_view(client_id, name) is False  # granted at creation already

    async def work() -> str:
        async with httpx2.AsyncClient(timeout=30) as http:  # about rights, not latency
            return (await RealmSource(reader, http).effective(name, "f")).realm

    assert run(work()) == name
    with pytest.raises(NotFoundError, match="KDB_BRIDGE_CLIENT_ID"):
        admin.grant_realm_view("no-such-client", name)
    tenants.delete_tenant(admin, name)
